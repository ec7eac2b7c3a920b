"""The cost estimate: `lambdabox cost` and the dashboard's Cost page price the month's
invocations at AWS's list prices from the usage the log writer records (requests and memory ×
billed duration, per function, architecture and day). The figures are checked against the
REPORT lines of the same invocations."""

from __future__ import annotations

import json
import re
import time

from dashboard_client import Dashboard, first_admin_password
from invoke_support import create_function, invoke

APP = "def handler(event, context):\n    return {'ok': True}\n"


def cost_json(d, *args) -> dict:
    r = d.lambdabox("cost", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_cost_matches_the_report_lines(daemon):
    d = daemon
    c = d.client()
    name = create_function(c, {"app.py": APP}, MemorySize=1024)
    other = create_function(c, {"app.py": APP}, MemorySize=256)
    billed = []
    for i in range(5):
        r = invoke(c, name, {"i": i})
        m = re.search(r"Billed Duration: (\d+) ms\tMemory Size: 1024 MB", r.log)
        assert m, r.log
        billed.append(int(m.group(1)))
    invoke(c, other, {})
    want_gb_s = sum(billed) * 1024 / 1024 / 1000

    def mine():
        # Both functions' usage is committed (the other one ran last).
        if cost_json(d, "--function", other)["requests"] != 1:
            return None
        rep = cost_json(d, "--function", name)
        return rep if rep["requests"] == 5 else None

    deadline = time.monotonic() + 30
    rep = mine()
    while rep is None and time.monotonic() < deadline:
        time.sleep(0.2)
        rep = mine()
    assert rep, cost_json(d)
    assert rep["month"] == time.strftime("%Y-%m", time.gmtime())
    [f] = rep["functions"]
    assert (f["function"], f["architecture"], f["requests"]) == (name, "x86_64", 5)
    assert abs(f["gb_seconds"] - want_gb_s) < 1e-9, (f, billed)
    assert abs(f["usd"] - (5 * 0.2e-6 + want_gb_s * 0.0000166667)) < 1e-12
    # Far below the free tier: nothing is due.
    assert rep["bill"]["due_usd"] == 0.0 and rep["bill"]["free_requests"] == 5
    assert rep["days"][0]["day"] == time.strftime("%Y-%m-%d", time.gmtime())

    everyone = cost_json(d)
    names = {x["function"] for x in everyone["functions"]}
    assert {name, other} <= names
    assert everyone["requests"] >= 6

    text = d.lambdabox("cost", "--daily")
    assert text.returncode == 0, text.stderr
    assert name in text.stdout and "free tier" in text.stdout
    assert "DAY" in text.stdout

    past = cost_json(d, "--month", "2001-01")
    assert past["functions"] == [] and past["requests"] == 0

    bad = d.lambdabox("cost", "--month", "2026-13")
    assert bad.returncode != 0
    assert "--month must look like 2026-12 (YYYY-MM)" in bad.stderr

    ui = Dashboard(d.endpoint)
    ui.login_ok("admin", first_admin_password(d.data_dir))
    page = ui.get("/ui/cost")
    assert page.status == 200
    assert name in page.text and other in page.text
    assert 'aria-current="page">Cost</a>' in page.text
    assert ui.get("/ui/cost?month=2026-13").status == 400
    old = ui.get("/ui/cost?month=2001-01")
    assert old.status == 200 and "No invocations in 2001-01." in old.text
