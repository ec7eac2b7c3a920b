"""Crash safety of the asynchronous queue (issue 13): 2,000 events are sent with boto3 from
four threads while the daemon is killed with SIGKILL at three random moments (and restarted on
the same data directory). After the last restart every event that was answered with 202 must
have run at least once. Runs are counted through a destination: `work` has an OnSuccess
destination `count`, which reports the event's id to a collector on the host's loopback (the
test's own HTTP server, reached through a `host` subnet with a security group for its port),
so a count is taken while the destination runs, not from logs a crash could cut short.
Duplicates (at-least-once) are printed. Bounded: 2,000 events, 3 kills, 300 s.
"""

from __future__ import annotations

import http.server
import json
import random
import threading
import time

import boto3
from botocore.config import Config

from conftest import ROLE, Daemon, function_arn, make_zip, unique

EVENTS = 2000
KILLS = 3
SENDERS = 4
DEADLINE_S = 300

WORK = '''
def handler(event, context):
    return {"id": event["id"]}
'''

COUNT = '''
import http.client, json, os
def handler(event, context):
    body = json.dumps({"id": event["responsePayload"]["id"], "request": event["requestContext"]["requestId"]})
    c = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT"]), timeout=10)
    c.request("POST", "/", body)
    assert c.getresponse().status == 204
    c.close()
    return {}
'''


class Collector(http.server.BaseHTTPRequestHandler):
    seen: list = []
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        n = int(self.headers.get("Content-Length", "0"))
        doc = json.loads(self.rfile.read(n))
        with Collector.lock:
            Collector.seen.append(doc["id"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def client(endpoint: str, keys: tuple[str, str]):
    return boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2,
                                      read_timeout=20, max_pool_connections=SENDERS))


def test_accepted_events_survive_three_sigkills(tmp_path_factory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work_dir = tmp_path_factory.mktemp("chaos")
    cfg = work_dir / "config.toml"
    cfg.write_text('[sandbox.subnets]\n"host-lan" = "host"\n'
                   f'[sandbox.security_groups]\n"sg-collector" = [{port}]\n')
    d = Daemon(work_dir, extra_args=("--config", str(cfg))).start()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    try:
        c = d.client()
        work, count = unique("work"), unique("count")
        c.create_function(FunctionName=count, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                          Code={"ZipFile": make_zip({"app.py": COUNT})}, Timeout=15,
                          Environment={"Variables": {"PORT": str(port)}},
                          VpcConfig={"SubnetIds": ["host-lan"], "SecurityGroupIds": ["sg-collector"]})
        c.create_function(FunctionName=work, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                          Code={"ZipFile": make_zip({"app.py": WORK})}, Timeout=15)
        c.put_function_event_invoke_config(FunctionName=work,
                                           DestinationConfig={"OnSuccess": {"Destination": function_arn(count)}})
        # the collector is reachable from a destination run (a sync invoke of `count`)
        probe = {"requestContext": {"requestId": "probe"}, "responsePayload": {"id": -1}}
        assert c.invoke(FunctionName=count, Payload=json.dumps(probe).encode()).get("FunctionError") is None
        assert Collector.seen == [-1]
        Collector.seen.clear()

        keys = d.admin_keys()
        todo = list(range(EVENTS))
        accepted: set[int] = set()
        lock = threading.Lock()
        state = {"endpoint": d.endpoint, "stop": False}
        kill_at = sorted(rng.sample(range(150, EVENTS - 150), KILLS))
        kills: list[tuple[int, float]] = []
        t_start = time.monotonic()

        def sender():
            clients: dict[str, object] = {}
            while not state["stop"]:
                with lock:
                    if not todo:
                        return
                    i = todo.pop()
                ep = state["endpoint"]
                cl = clients.get(ep) or clients.setdefault(ep, client(ep, keys))
                try:
                    r = cl.invoke(FunctionName=work, InvocationType="Event", Payload=json.dumps({"id": i}).encode())
                    ok = r["StatusCode"] == 202
                except Exception:
                    ok = False
                with lock:
                    if ok:
                        accepted.add(i)
                    else:
                        todo.append(i)
                if not ok:
                    time.sleep(0.1)

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        for threshold in kill_at:
            while True:
                with lock:
                    n = len(accepted)
                if n >= threshold or time.monotonic() - t_start > DEADLINE_S:
                    break
                time.sleep(rng.uniform(0.0, 0.05))
            kills.append((n, round(time.monotonic() - t_start, 1)))
            d.crash_restart()
            state["endpoint"] = d.endpoint
        for t in threads:
            t.join(timeout=max(1.0, DEADLINE_S - (time.monotonic() - t_start)))
        state["stop"] = True
        assert len(accepted) == EVENTS, f"only {len(accepted)} accepted before the deadline"
        t_sent = time.monotonic() - t_start
        while time.monotonic() - t_start < DEADLINE_S:
            with Collector.lock:
                if accepted <= set(Collector.seen):
                    break
            time.sleep(0.5)
        with Collector.lock:
            seen = list(Collector.seen)
        missing = sorted(accepted - set(seen))
        duplicates = len(seen) - len(set(seen))
        print(f"\nchaos: seed {seed}; SIGKILL after {[k[0] for k in kills]} accepted events "
              f"(at {[k[1] for k in kills]} s); all {EVENTS} accepted in {t_sent:.1f} s, "
              f"{len(set(seen))} distinct runs counted, {duplicates} duplicates, "
              f"{len(missing)} missing, done after {time.monotonic() - t_start:.1f} s")
        assert len(kills) == KILLS
        assert not missing, f"accepted but never run: {missing[:20]} ... (seed {seed})"
        # and the queue drains: nothing left pending once everything ran
        deadline = time.monotonic() + 30
        while True:
            q = json.loads(d.lambdabox("queue", "--json").stdout)
            if not q["lanes"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert q["lanes"] == [], q["lanes"]
    finally:
        d.kill()
        server.shutdown()
