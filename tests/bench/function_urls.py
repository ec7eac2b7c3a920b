"""Function URL benchmarks (issue 17): requests/s and p50/p99 with wrk through a public
(`AuthType: NONE`, `BUFFERED`) function URL for the Rust (`provided.al2023`) and Python echo,
beside direct Invoke of the same function at the same concurrency (SigV4-signed, `{"k":1}`)
and the loopback floor (`GET /health`), all in the same run on the same daemon.

The URL's echo answers its whole payload 2.0 event (about 1 KB: headers, request context) as
a 2.0 plain return, so the URL path also pays the event's building and the answer's mapping;
that is what a real backend pays. Goal: URL p50 / Invoke p50 ≤ 1.1 (and Invoke req/s / URL
req/s ≤ 1.1).
"""
import json

from invoke import measured
from lib import EVENT, invoke_path, runtimes, wrk


def create_url(d, name):
    body = json.dumps({"AuthType": "NONE", "InvokeMode": "BUFFERED"}).encode()
    s, out = d.call("POST", f"/2021-10-31/functions/{name}/url", body)
    assert s == 201, out
    return json.loads(out)["FunctionUrl"]


def check(url):
    """One request through the URL answers 200 with the event (correctness before timing)."""
    import urllib3

    r = urllib3.request("POST", url, body=EVENT, headers={"content-type": "application/json"}, timeout=30)
    assert r.status == 200, (r.status, r.data)
    ev = json.loads(r.data)
    assert ev["version"] == "2.0" and ev["body"] == EVENT.decode(), ev


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def run(d, quick, conns=(1, 8, 32)):
    secs = 2 if quick else 5
    res = {"floor": {c: wrk(f"http://{d.host}/health", conns=c, secs=secs) for c in conns}}
    for key in ("rust", "python"):
        rts = runtimes()
        if key not in rts:
            res[key] = {"error": "fixture missing (tests/bench/run builds the Rust echo)"}
            continue
        rt, handler, code = rts[key]
        name = f"{key}-url"
        d.create(name, rt, handler, code)
        url = create_url(d, name)
        check(url)
        path = invoke_path(name)
        headers = d.signed("POST", path, EVENT)
        inv = f"http://{d.host}{path}"
        rows = {}
        for c in conns:
            i = measured(d, inv, headers, c, secs)
            u = measured(d, url, {"content-type": "application/json"}, c, secs)
            f = res["floor"][c]
            rows[c] = {"invoke": i, "url": u,
                       "url_over_invoke_p50": ratio(u["p50_us"], i["p50_us"]),
                       "invoke_over_url_rps": ratio(i["rps"], u["rps"]),
                       "url_over_floor_p50": ratio(u["p50_us"], f["p50_us"])}
        res[key] = {"runtime": rt, "wrk": rows}
    return res


def section(fu):
    """The report's Markdown for this section."""
    from report import _f, _table

    out = ["## Function URLs (issue 17, same daemon)\n",
           "wrk through a public BUFFERED function URL (`POST /lambda-url/<id>/`, the echo answers its payload 2.0 event) "
           "beside direct Invoke of the same function (SigV4, `{\"k\":1}`) and the loopback floor `GET /health`. "
           "Goal: URL p50 / Invoke p50 ≤ 1.1.\n"]
    rows = []
    for key in ("rust", "python"):
        for c, w in sorted(((fu.get(key) or {}).get("wrk") or {}).items(), key=lambda kv: int(kv[0])):
            u, i = w["url"], w["invoke"]
            fl = (fu.get("floor") or {}).get(c) or (fu.get("floor") or {}).get(str(c)) or {}
            rows.append([f"{key} c={c}", _f(u["rps"]), _f(i["rps"]), _f(fl.get("rps")),
                         _f(u["p50_us"]) + " / " + _f(u["p99_us"]) + " µs", _f(i["p50_us"]) + " / " + _f(i["p99_us"]) + " µs",
                         _f(fl.get("p50_us")) + " µs", f"{w['url_over_invoke_p50']}", f"{u['errors']} / {i['errors']}"])
    out.append(_table(["echo", "URL req/s", "Invoke req/s", "floor req/s", "URL p50 / p99", "Invoke p50 / p99",
                       "floor p50", "URL / Invoke p50", "errors URL / Invoke"], rows))
    return "\n".join(out)
