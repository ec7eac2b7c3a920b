"""Control plane on a fresh daemon: CreateFunction with a 40 MB zip (stored, incompressible),
and ListFunctions pages of 50 out of 10,000 functions, beside the urllib3 `GET /health` floor
of the same daemon. The signed client signs every request (as the AWS CLI would); the floor
is unsigned, so the ratio includes botocore's signing (≈ 1 ms in Python).
"""
import base64, io, json, random, time, zipfile

from lib import Daemon, rss_kb, stats, timed


def zip_of(size):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
        z.writestr("blob.bin", random.randbytes(size))
    return base64.b64encode(buf.getvalue()).decode()


def run(binary, env, quick):
    n_functions = 1000 if quick else 10000
    d = Daemon(binary, env)
    try:
        floor = timed(d.health, 500 if quick else 2000, warmup=100)
        big = zip_of(40 * 1024 * 1024)
        big_times = []
        for i in range(2 if quick else 5):
            t = time.perf_counter()
            d.create(f"big-{i}", "python3.11", "app.handler", big)
            big_times.append((time.perf_counter() - t) * 1e3)
        small = zip_of(10)
        t0 = time.perf_counter()
        for i in range(n_functions):
            d.create(f"fn-{i:05d}", "python3.11", "app.handler", small)
        fill = time.perf_counter() - t0
        markers = [None]

        def page():
            path = "/2015-03-31/functions/?MaxItems=50"
            if markers[-1]:
                path += "&Marker=" + markers[-1]
            s, body = d.call("GET", path)
            assert s == 200, body[:200]
            nxt = json.loads(body).get("NextMarker")
            markers.append(nxt if nxt and len(markers) < 150 else None)

        pages = timed(page, 100 if quick else 300, warmup=10)
        return {
            "floor_health_us": stats(floor, 1e3, 0),
            "create_40mb_ms": dict(stats(big_times, nd=0), max=round(max(big_times))),
            "functions": n_functions + len(big_times),
            "list_page_50_ms": stats(pages, nd=2),
            "create_small_mean_ms": round(fill / n_functions * 1e3, 2),
            "rss_mb_after": round(rss_kb(d.pid) / 1024, 1),
        }
    finally:
        d.stop()
