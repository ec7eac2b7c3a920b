#!/usr/bin/env python3
"""AWS API calls from inside a function vs from the host (issue 19, "Show": "API call latency
from inside a function vs from the host"), in the same run and interleaved.

One daemon with `iam.python_sdk_dir` (this virtualenv's boto3 mounted into python
environments, as AWS's python runtimes ship boto3) and `iam.sandbox_api_rate` raised so the
per-environment limit never throttles the loop. A role trusting `lambda.amazonaws.com` (and
the account, for AssumeRole) allows `lambda:GetFunction`. A Python function with that role
times N calls of `boto3.client("lambda").get_function` and of
`boto3.client("sts").get_caller_identity` inside its handler, with no endpoint or credentials
in its code (AWS_ENDPOINT_URL and the role session's keys come from its environment: the
in-sandbox listener forwards each call to the daemon, where the session's policies decide).

From the host, the bench process makes the same calls with boto3 in two ways: with the admin
key (no policy evaluation: the floor) and with an assumed-role session of the same role
(policy evaluation, no forwarding), so the ratio splits into the forwarding hop and the
authorization. Rounds alternate host and function so both see the same load. Each client is
made once, outside the timing; every call is a full boto3 call (signing, HTTP, parsing).

Reports p50/p99 in ms per call and place, and inside/host ratios of p50 and p99.

Usage: .venv/bin/python tests/bench/in_function_api.py [BIN] [--n 300] [--rounds 3] [--quick]
"""
import argparse, base64, json, os, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from lib import ROOT, Daemon, stats, zipped  # noqa: E402

REGION = "us-east-1"
SITE_PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(boto3.__file__)))
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
FUNCTION = "api-bench"

# Timed inside the handler: clients are made once (a warm environment keeps them), then each
# call's wall time in ms.
HANDLER = '''
import time
import boto3
from botocore.config import Config

_cfg = Config(retries={"total_max_attempts": 1})
_lam = boto3.client("lambda", config=_cfg)
_sts = boto3.client("sts", config=_cfg)


def handler(event, context):
    n, name = event["n"], event["function"]
    for _ in range(event.get("warmup", 0)):
        _lam.get_function(FunctionName=name)
        _sts.get_caller_identity()
    out = {"get_function": [], "get_caller_identity": []}
    for _ in range(n):
        t = time.perf_counter()
        _lam.get_function(FunctionName=name)
        out["get_function"].append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        _sts.get_caller_identity()
        out["get_caller_identity"].append((time.perf_counter() - t) * 1e3)
    return out
'''

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"},
]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"},
]})


def daemon(binary, env):
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(f'[iam]\npython_sdk_dir = "{SITE_PACKAGES}"\nsandbox_api_rate = 1000000\n')
    cfg.close()
    return Daemon(binary, extra_env=env, extra_args=("--config", cfg.name))


def clients(d, service, creds=None):
    kw = dict(aws_access_key_id=d.creds.access_key, aws_secret_access_key=d.creds.secret_key)
    if creds:
        kw = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    return boto3.client(service, endpoint_url=f"http://{d.host}", region_name=REGION,
                        config=Config(retries={"total_max_attempts": 1}, read_timeout=300), **kw)


def host_round(lam, sts, n, into):
    for _ in range(n):
        t = time.perf_counter()
        lam.get_function(FunctionName=FUNCTION)
        into["get_function"].append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        sts.get_caller_identity()
        into["get_caller_identity"].append((time.perf_counter() - t) * 1e3)


def run(binary, env, quick=False, n=None, rounds=None):
    n = n or (50 if quick else 300)
    rounds = rounds or (2 if quick else 3)
    d = daemon(binary, env)
    try:
        iam, sts_admin, lam = clients(d, "iam"), clients(d, "sts"), clients(d, "lambda")
        role = iam.create_role(RoleName="api-bench", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.put_role_policy(RoleName="api-bench", PolicyName="get-function", PolicyDocument=POLICY)
        code = zipped({"app.py": (HANDLER, 0o644)})
        lam.create_function(FunctionName=FUNCTION, Runtime=RUNTIME, Handler="app.handler", Role=role,
                            MemorySize=512, Timeout=300, Code={"ZipFile": base64.b64decode(code)})
        deadline = time.time() + 60
        while lam.get_function(FunctionName=FUNCTION)["Configuration"].get("State") != "Active":
            if time.time() > deadline:
                raise SystemExit("the bench function never became Active")
            time.sleep(0.2)
        session = sts_admin.assume_role(RoleArn=role, RoleSessionName="host")["Credentials"]
        places = {
            "host_admin": (lam, sts_admin),
            "host_role_session": (clients(d, "lambda", session), clients(d, "sts", session)),
        }
        samples = {p: {"get_function": [], "get_caller_identity": []} for p in [*places, "in_function"]}
        # Warm everything up: the environment (cold start, imports), the clients' connections.
        for l, s in places.values():
            host_round(l, s, 10, {"get_function": [], "get_caller_identity": []})
        event = {"n": n, "function": FUNCTION}
        for r in range(rounds):
            for place, (l, s) in places.items():
                host_round(l, s, n, samples[place])
            res = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps(dict(event, warmup=10 if r == 0 else 0)))
            body = json.loads(res["Payload"].read())
            if "FunctionError" in res:
                raise SystemExit(f"the bench function failed: {body}")
            for k, xs in body.items():
                samples["in_function"][k].extend(xs)
            print(f"round {r + 1}/{rounds} (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
    finally:
        d.stop()
    out = {"n_per_round": n, "rounds": rounds, "runtime": RUNTIME}
    for call in ("get_function", "get_caller_identity"):
        row = {place: stats(samples[place][call], nd=3) for place in samples}
        inside, floor, authz = row["in_function"], row["host_admin"], row["host_role_session"]
        row["inside_over_host_admin"] = {"p50": round(inside["p50"] / floor["p50"], 2),
                                         "p99": round(inside["p99"] / floor["p99"], 2)}
        row["inside_over_host_role_session"] = {"p50": round(inside["p50"] / authz["p50"], 2),
                                                "p99": round(inside["p99"] / authz["p99"], 2)}
        out[call] = row
    out["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return out


def section(r):
    """The report's markdown for `run`'s result."""
    head = ["call", "host, admin key", "host, role session", "inside the function", "inside / host admin", "inside / host session"]
    rows = []
    for call in ("get_function", "get_caller_identity"):
        x = r[call]
        cell = lambda p: f"{x[p]['p50']:.2f} / {x[p]['p99']:.2f} ms"  # noqa: E731
        rows.append([f"`{call}`", cell("host_admin"), cell("host_role_session"), cell("in_function"),
                     f"{x['inside_over_host_admin']['p50']}× / {x['inside_over_host_admin']['p99']}×",
                     f"{x['inside_over_host_role_session']['p50']}× / {x['inside_over_host_role_session']['p99']}×"])
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(c) + " |" for c in rows]
    return (f"## AWS API calls from inside a function vs from the host (boto3, p50 / p99, "
            f"{r['rounds']} interleaved rounds of {r['n_per_round']})\n\n" + "\n".join(table) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--n", type=int, default=None, help="calls of each kind per round and place")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    print(json.dumps(run(a.binary, env, a.quick, a.n, a.rounds), indent=1))


if __name__ == "__main__":
    main()
