#!/usr/bin/env python3
"""Start-up of the embedded python and node runtime clients, unsandboxed, beside their bare
interpreters measured in the same run (interleaved, so all lines see the same load).

Each round: a listener plays the Runtime API; the client is spawned with a trivial handler and
the time from spawn to its first `GET /next` is taken (the client is then killed); the bare
interpreter (`python3 -s -c pass`, `node -e 0`) is timed spawn to exit. For python it also runs
`-X importtime` on the same start and sums the top-level imports that come after `site` (what
the client itself imports; `site`'s own imports are in the bare run too).

Two clients can be compared (`--python-a DIR --python-b DIR`, each a directory holding
`bootstrap.py` and its module, e.g. a `git show` of the old one; same for node with
`index.mjs`). Default: the clients of this checkout, installed into a temp dir like the
daemon installs them (and byte-compiled like runtime::precompile does).

Usage: python3 tests/bench/client_start.py [--rounds 20] [--python /usr/bin/python3]
       [--node node] [--python-a DIR --python-b DIR] [--node-a DIR --node-b DIR]
Prints medians (ms) as JSON; ratios against the bare interpreter are what to quote.
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENTS = os.path.join(ROOT, "src", "runtime", "clients")


def env_for(task, port, handler):
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % port,
        "_HANDLER": handler,
        "LAMBDA_TASK_ROOT": task,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": "hello",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_FORMAT": "Text",
    }


def reap(p):
    """CPU ms (user + system) of an exited child; rusage is robust to load where wall time is not."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = status
    return (ru.ru_utime + ru.ru_stime) * 1000


def until_next(argv, env, listener):
    """(wall ms from spawn to the client's first request line on the listener, its CPU ms by
    then, stderr text)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    listener.settimeout(30)
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        p.kill()
        raise SystemExit("client did not connect: %s" % p.communicate()[1].decode(errors="replace")[-2000:])
    conn.settimeout(30)
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    ms = (time.perf_counter() - t0) * 1000
    if not data.startswith(b"GET /2018-06-01/runtime/invocation/next"):
        p.kill()
        raise SystemExit("client sent %r first: %s" % (data[:200], p.communicate()[1].decode(errors="replace")[-2000:]))
    p.kill()
    conn.close()
    err = p.stderr.read()
    p.stderr.close()
    return ms, reap(p), err.decode(errors="replace")


def bare(argv):
    """(wall ms, CPU ms) of a bare interpreter run, spawn to exit, in a minimal environment."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = reap(p)
    return (time.perf_counter() - t0) * 1000, cpu


def client_imports_us(importtime_stderr):
    """Sum of the cumulative times of the top-level imports after `site` (µs)."""
    total, after_site = 0, False
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:"):].split("|")
        try:
            cumulative = int(parts[1])
        except ValueError:
            continue
        name = parts[2]
        if not after_site:
            after_site = name.strip() == "site" and not name.startswith("  ")
            continue
        if name.startswith(" ") and not name.startswith("  "):  # top level: one space
            total += cumulative
    return total


def install_python(src, dest, python):
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(src):
        if name.endswith(".py"):
            shutil.copy(os.path.join(src, name), dest)
    for name in os.listdir(dest):
        if name.endswith(".py") and name != "bootstrap.py":
            subprocess.run([python, "-I", "-c", "import py_compile,sys; py_compile.compile(sys.argv[1], doraise=True)",
                            os.path.join(dest, name)], check=True)
    return os.path.join(dest, "bootstrap.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--python-a")
    ap.add_argument("--python-b")
    ap.add_argument("--node-a")
    ap.add_argument("--node-b")
    ap.add_argument("--skip-node", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="client-start-")
    task = os.path.join(tmp, "task")
    os.makedirs(task)
    with open(os.path.join(task, "h.py"), "w") as f:
        f.write("def handler(event, context):\n    return event\n")
    with open(os.path.join(task, "h.mjs"), "w") as f:
        f.write("export const handler = async (event) => event;\n")

    py = {}
    for label, src in (("a", a.python_a), ("b", a.python_b)):
        if src or label == "b":
            py[label] = install_python(src or os.path.join(CLIENTS, "python"), os.path.join(tmp, "py-" + label), a.python)
    node = {}
    if not a.skip_node:
        for label, src in (("a", a.node_a), ("b", a.node_b)):
            if src or label == "b":
                node[label] = os.path.join(src or os.path.join(CLIENTS, "node"), "index.mjs")

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    runs = {}

    def add(key, value):
        runs.setdefault(key, []).append(value)

    for r in range(a.rounds):
        wall, cpu = bare([a.python, "-s", "-c", "pass"])
        add("python_bare_ms", wall)
        add("python_bare_cpu_ms", cpu)
        for label, boot in py.items():
            env = env_for(task, port, "h.handler")
            env["PYTHONPATH"] = os.path.dirname(os.path.dirname(boot))
            wall, cpu, _ = until_next([a.python, "-u", "-s", boot], env, listener)
            add("python_%s_to_next_ms" % label, wall)
            add("python_%s_cpu_ms" % label, cpu)
            _, _, err = until_next([a.python, "-X", "importtime", "-u", "-s", boot], env, listener)
            add("python_%s_client_imports_ms" % label, client_imports_us(err) / 1000)
        if node:
            wall, cpu = bare([a.node, "-e", "0"])
            add("node_bare_ms", wall)
            add("node_bare_cpu_ms", cpu)
            for label, index in node.items():
                env = env_for(task, port, "h.handler")
                env["NODE_PATH"] = task
                wall, cpu, _ = until_next([a.node, "--max-http-header-size=81920", index], env, listener)
                add("node_%s_to_next_ms" % label, wall)
                add("node_%s_cpu_ms" % label, cpu)
        print(r, "load %.2f" % os.getloadavg()[0], file=sys.stderr, flush=True)
    out = {k: round(statistics.median(v), 2) for k, v in runs.items()}
    for k in list(out):
        lang = k.split("_")[0]
        if k.endswith("_to_next_ms"):
            out[k.replace("_to_next_ms", "_over_bare_ms")] = round(
                statistics.median(x - y for x, y in zip(runs[k], runs[lang + "_bare_ms"])), 2)
        if k.endswith("_cpu_ms") and "_bare_" not in k:
            out[k.replace("_cpu_ms", "_cpu_over_bare_ms")] = round(
                statistics.median(x - y for x, y in zip(runs[k], runs[lang + "_bare_cpu_ms"])), 2)
    out["rounds"] = a.rounds
    out["python"] = a.python
    out["node"] = a.node
    print(json.dumps(out, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
