"""The peer, side by side: cargo-lambda's emulator (`cargo lambda watch`, the prebuilt binary of
its PyPI wheel) serving the same Rust echo bootstrap, with the same clients and request bytes.

cargo-lambda is started with `--only-lambda-apis`, so it builds nothing: it serves the Invoke
API and the Runtime API on one port, and the suite starts the very bootstrap binary lambdabox
runs (no sandbox) against it, as many instances as the highest concurrency measured, so neither
side is short of workers. cargo-lambda checks no signature; the signed headers are sent anyway
so both servers parse the same bytes.
"""
import os, shutil, socket, subprocess, time

from lib import EVENT, ROOT, RUST_ECHO, stats, timed, wrk

import urllib3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_cargo_lambda():
    venv = os.environ.get("LAMBDABOX_TEST_VENV", os.path.join(ROOT, ".venv"))
    for c in (os.path.join(venv, "bin", "cargo-lambda"), shutil.which("cargo-lambda")):
        if c and os.access(c, os.X_OK):
            return c
    return None


def run(headers, quick, instances=32):
    exe = find_cargo_lambda()
    if not exe:
        return {"error": "cargo-lambda not found (pip install cargo-lambda into the venv)"}
    if not os.path.exists(RUST_ECHO):
        return {"error": "the Rust echo fixture is not built"}
    port = free_port()
    fixture = os.path.dirname(os.path.dirname(os.path.dirname(RUST_ECHO)))
    # No --concurrency: with it, cargo-lambda spawns `cargo run` instances of its own.
    emu = subprocess.Popen([exe, "lambda", "watch", "--only-lambda-apis", "--ignore-changes", "-A", "127.0.0.1", "-P",
                            str(port)], cwd=fixture,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fns = []
    try:
        version = subprocess.run([exe, "lambda", "--version"], capture_output=True, text=True).stdout.strip()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        env = dict(os.environ, AWS_LAMBDA_FUNCTION_NAME="_", AWS_LAMBDA_FUNCTION_VERSION="1",
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512", AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt")
        fns = [subprocess.Popen([RUST_ECHO], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(instances)]
        path = "/2015-03-31/functions/_/invocations"
        pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, timeout=30)

        def call():
            r = pool.urlopen("POST", path, body=EVENT, headers=headers)
            assert r.status == 200 and r.data == EVENT, (r.status, r.data)

        seq = timed(call, 300 if quick else 3000, warmup=100)
        url = f"http://127.0.0.1:{port}{path}"
        return {"version": version, "instances": instances, "warm_us": stats(seq, 1e3, 0),
                "wrk": {c: wrk(url, headers, EVENT, c, 2 if quick else 5) for c in (1, 8, 32)}}
    except (AssertionError, OSError, urllib3.exceptions.HTTPError, StopIteration) as e:
        return {"error": f"{type(e).__name__}: {e}"}
    finally:
        for p in fns + [emu]:
            p.kill()
            p.wait()
