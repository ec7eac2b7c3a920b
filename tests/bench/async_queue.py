"""Asynchronous invocation (issue 13) on a fresh daemon: accepted events/s with 1 and 8
connections (wrk replaying one signed `InvocationType: Event` request; every 202 is a
committed SQLite transaction, group-committed when requests overlap), beside two floors of the
same run: the sync `GetFunction` rate at the same concurrency, and the disk's durable-commit
rate (fdatasync of the data directory's file system, one writer). The events also run while
they are accepted, as they would in real use.

A second fresh daemon measures acceptance alone (see `accept_only`).

Accept-to-start latency when idle: a Python function prints `time.time_ns()` as its first
act; its warm synchronous invoke (request sent -> handler start) is interleaved with Event
invokes, whose start is read from the function's log in the database. Reported from the
request sent and from the 202 received.
"""
import json, os, sqlite3, threading, time

import urllib3

from lib import Daemon, invoke_path, stats, wrk, zipped

HOLD = "import time\ndef handler(event, context):\n    time.sleep(event.get('s', 20))\n    return 1\n"
STAMP = "import time\ndef handler(event, context):\n    t = time.time_ns()\n    print('T', t)\n    return t\n"
ECHO = "def handler(event, context):\n    return event\n"


def fdatasync_floor(directory, n):
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        t = time.perf_counter()
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            os.fdatasync(fd)
        return round(n / (time.perf_counter() - t))
    finally:
        os.close(fd)
        os.unlink(path)


def last_stamp(db, after_id):
    row = db.execute("SELECT id, message FROM log_events WHERE id > ? AND message LIKE 'T %' ORDER BY id DESC LIMIT 1",
                     (after_id,)).fetchone()
    return row


def accept_only(binary, env, secs):
    """Acceptance alone: the account's only concurrency slot is held by a sleeping sync invoke,
    so every queued event's first attempt is throttled and waits (back-off set to 2 minutes);
    the machine's CPU goes to accepting, not to running the events."""
    d = Daemon(binary, dict(env, LAMBDABOX_ENGINE__CONCURRENT_EXECUTIONS="1",
                            LAMBDABOX_ASYNC_INVOKE__BACKOFF_MIN_MS="120000"))
    try:
        d.create("hold", "python3.11", "app.handler", zipped({"app.py": (HOLD, 0o644)}), memory=128)
        d.create("echo", "python3.11", "app.handler", zipped({"app.py": (ECHO, 0o644)}), memory=128)
        host, port = d.host.split(":")
        hold_path = invoke_path("hold")
        body = json.dumps({"s": 4 * secs + 10}).encode()
        hold_h = d.signed("POST", hold_path, body)
        holder = threading.Thread(target=lambda: urllib3.HTTPConnectionPool(host, int(port), timeout=120).urlopen(
            "POST", hold_path, body=body, headers=hold_h))
        holder.start()
        time.sleep(1.5)
        base = f"http://{d.host}"
        ev_path = invoke_path("echo")
        ev_headers = dict(d.signed("POST", ev_path, b'{"k":1}'), **{"X-Amz-Invocation-Type": "Event"})
        get_path = "/2015-03-31/functions/echo"
        out = {}
        for conns in (1, 8):
            g = wrk(base + get_path, d.signed("GET", get_path), b"", conns, secs)
            a = wrk(base + ev_path, ev_headers, b'{"k":1}', conns, secs)
            out[conns] = {"get_function": g, "event": a, "ratio": round(a["rps"] / g["rps"], 2) if g["rps"] else None}
        holder.join()
        return out
    finally:
        d.stop()


def run(binary, env, quick):
    secs = 3 if quick else 5
    d = Daemon(binary, env)
    try:
        d.create("echo", "python3.11", "app.handler", zipped({"app.py": (ECHO, 0o644)}), memory=128)
        d.create("stamp", "python3.11", "app.handler", zipped({"app.py": (STAMP, 0o644)}), memory=128)
        d.invoke("echo")
        base = f"http://{d.host}"
        get_path = "/2015-03-31/functions/echo"
        ev_path = invoke_path("echo")
        ev_headers = dict(d.signed("POST", ev_path, b'{"k":1}'), **{"X-Amz-Invocation-Type": "Event"})
        out = {"fdatasync_per_s": fdatasync_floor(d.data, 100 if quick else 300), "wrk": {}}
        for conns in (1, 8):
            g = wrk(base + get_path, d.signed("GET", get_path), b"", conns, secs)
            a = wrk(base + ev_path, ev_headers, b'{"k":1}', conns, secs)
            out["wrk"][conns] = {"get_function": g, "event": a,
                                 "ratio": round(a["rps"] / g["rps"], 2) if g["rps"] else None}
        # let the accepted events drain before measuring idle latency
        deadline = time.time() + 120
        qdb = sqlite3.connect(f"file:{os.path.join(d.data, 'async-queue.db')}?mode=ro", uri=True)
        while qdb.execute("SELECT COUNT(*) FROM events").fetchone()[0] and time.time() < deadline:
            time.sleep(0.5)
        out["drained"] = qdb.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
        # accept-to-start, idle, interleaved with the warm sync baseline
        host, port = d.host.split(":")
        pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=1, timeout=60)
        st_path = invoke_path("stamp")
        sync_h = d.signed("POST", st_path, b"{}")
        async_h = dict(d.signed("POST", st_path, b"{}"), **{"X-Amz-Invocation-Type": "Event"})
        db = sqlite3.connect(f"file:{os.path.join(d.data, 'logs.db')}?mode=ro", uri=True)
        for _ in range(3):
            assert pool.urlopen("POST", st_path, body=b"{}", headers=sync_h).status == 200
        time.sleep(0.2)
        last = (last_stamp(db, 0) or (0, ""))[0]
        sync_ms, sent_ms, accepted_ms, ack_ms = [], [], [], []
        for _ in range(30 if quick else 100):
            t0 = time.time_ns()
            r = pool.urlopen("POST", st_path, body=b"{}", headers=sync_h)
            assert r.status == 200
            sync_ms.append((int(r.data) - t0) / 1e6)
            # the sync invoke's own stamp line must not be taken for the event's
            while (row := last_stamp(db, last)) is None:
                time.sleep(0.005)
            last = row[0]
            time.sleep(0.02)
            t0 = time.time_ns()
            r = pool.urlopen("POST", st_path, body=b"{}", headers=async_h)
            t1 = time.time_ns()
            assert r.status == 202, r.data
            ack_ms.append((t1 - t0) / 1e6)
            while True:
                row = last_stamp(db, last)
                if row:
                    break
                time.sleep(0.01)
            last = row[0]
            started = int(row[1].split()[1])
            sent_ms.append((started - t0) / 1e6)
            accepted_ms.append((started - t1) / 1e6)
            time.sleep(0.05)
        out["latency_ms"] = {
            "sync_start_from_request": stats(sync_ms, nd=2),
            "event_202": stats(ack_ms, nd=2),
            "event_start_from_request": stats(sent_ms, nd=2),
            "event_start_from_202": stats(accepted_ms, nd=2),
        }
        s50 = out["latency_ms"]["sync_start_from_request"]["p50"]
        # the same reference point for both: the request leaving the client
        out["over_sync_p50_ms"] = round(out["latency_ms"]["event_start_from_request"]["p50"] - s50, 2)
    finally:
        d.stop()
    out["accept_only"] = accept_only(binary, env, secs)
    return out
