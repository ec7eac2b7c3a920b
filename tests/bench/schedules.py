"""Schedules (issue 15) on a fresh daemon with the system clock: 100 EventBridge rules with
`rate(1 second)`, all targeting one Python function that prints `time.time_ns()` and the
event's `time` (the occurrence it was fired for) as its first act. Lateness is the handler's
start minus the occurrence's second; after a warm-up (the first firings start environments),
1,000 firings are taken. The daemon's own CPU (utime + stime of its threads, not the
functions') over the window is divided by the firings taken.

Floor of the same run: the same function's asynchronous invoke, idle, request sent -> handler
start (every firing goes through that queue), and the daemon CPU per such event.
"""
import calendar, json, os, sqlite3, time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from lib import Daemon, invoke_path, stats, zipped

STAMP = ("import time\n"
         "def handler(event, context):\n"
         "    t = time.time_ns()\n"
         "    print('T', t, event.get('time', '-'))\n"
         "    return 1\n")
RULES = 100
TAKE = 1000
WARMUP_S = 8


def cpu_s(pid):
    """utime + stime of every thread of `pid`, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def events_call(d, target, body):
    data = json.dumps(body).encode()
    req = AWSRequest(method="POST", url=f"http://{d.host}/", data=data,
                     headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSEvents.{target}"})
    SigV4Auth(d.creds, "events", "us-east-1").add_auth(req)
    r = d.pool.urlopen("POST", "/", body=data, headers=dict(req.headers.items()))
    assert r.status == 200, (target, r.status, r.data)
    return json.loads(r.data or b"{}")


def stamps(db, after_id):
    return db.execute("SELECT id, message FROM log_events WHERE id > ? AND message LIKE 'T %' ORDER BY id",
                      (after_id,)).fetchall()


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def floor(d, db, n):
    """Idle async invokes of the stamp function: request sent -> handler start, and daemon CPU."""
    path = invoke_path("stamp")
    headers = dict(d.signed("POST", path, b"{}"), **{"X-Amz-Invocation-Type": "Event"})
    last = max([r[0] for r in stamps(db, 0)] or [0])
    lat, cpu = [], 0.0
    for _ in range(n):
        c0 = cpu_s(d.pid)
        t0 = time.time_ns()
        r = d.pool.urlopen("POST", path, body=b"{}", headers=headers)
        assert r.status == 202, r.data
        deadline = time.time() + 30
        while not (rows := stamps(db, last)) and time.time() < deadline:
            time.sleep(0.005)
        assert rows, "an event never started"
        last = rows[-1][0]
        lat.append((int(rows[0][1].split()[1]) - t0) / 1e6)
        time.sleep(0.05)
        cpu += cpu_s(d.pid) - c0
    return {"start_from_request_ms": stats(lat, nd=2), "daemon_cpu_ms_per_event": round(cpu * 1000 / n, 2)}


def run(binary, env, quick):
    take = 300 if quick else TAKE
    d = Daemon(binary, env)
    try:
        d.create("stamp", "python3.11", "app.handler", zipped({"app.py": (STAMP, 0o644)}), memory=128)
        db = sqlite3.connect(f"file:{os.path.join(d.data, 'logs.db')}?mode=ro", uri=True)
        for _ in range(3):
            d.call("POST", invoke_path("stamp"), b"{}")
        out = {"rules": RULES, "floor_async": floor(d, db, 30 if quick else 100)}
        arn = "arn:aws:lambda:us-east-1:000000000000:function:stamp"
        for i in range(RULES):
            events_call(d, "PutRule", {"Name": f"r{i}", "ScheduleExpression": "rate(1 second)"})
            events_call(d, "PutTargets", {"Rule": f"r{i}", "Targets": [{"Id": "1", "Arn": arn}]})
        time.sleep(WARMUP_S)
        start_id = max([r[0] for r in stamps(db, 0)] or [0])
        c0, t0 = cpu_s(d.pid), time.time()
        late, last = [], start_id
        deadline = time.time() + 120
        while len(late) < take and time.time() < deadline:
            time.sleep(0.5)
            for rid, msg in stamps(db, last):
                last = rid
                _, ns, occ = msg.split()[:3]
                if occ != "-":
                    late.append(int(ns) / 1e6 - epoch(occ) * 1000)
        late = late[:take]
        window_s = time.time() - t0
        cpu = cpu_s(d.pid) - c0
        fired = len(late)
        for i in range(RULES):
            events_call(d, "DisableRule", {"Name": f"r{i}"})
        out.update({
            "firings": fired, "window_s": round(window_s, 1),
            "firings_per_s": round(fired / window_s, 1) if window_s else None,
            "lateness_ms": stats(late, nd=1),
            "daemon_cpu_ms_per_firing": round(cpu * 1000 / fired, 2) if fired else None,
        })
        f50 = out["floor_async"]["start_from_request_ms"]["p50"]
        out["lateness_p50_over_async_floor"] = round(out["lateness_ms"]["p50"] / f50, 1) if f50 else None
    finally:
        d.stop()
    return out
