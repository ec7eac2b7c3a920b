"""Turns the suite's JSON into the Markdown report: every figure beside its same-run floor and
the ratio, then the issue 7 goals, held or not."""


def _g(d, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k, d.get(str(k)) if not isinstance(k, str) else None)
    return d


def _f(v, nd=1):
    if v is None:
        return "—"
    if isinstance(v, (int, float)) and abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def _ratio(a, b):
    return f"{a / b:.1f}×" if a and b else "—"


def _table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def markdown(r):
    m = r["machine"]
    out = [f"# lambdabox benchmark report\n\n{m['date']}, commit {m['commit']}{' (QUICK run: few samples)' if r.get('quick') else ''}. "
           f"{m['cpus']} vCPU {m['cpu_model']}, {m['mem_gib']} GiB, {m['os']}, kernel {m['kernel']}; "
           f"{m['python']} and node {m['node']} (Debian); {m['wrk']}; bubblewrap {m['bwrap']}. "
           f"Load average (1 min) at start / end: {r['load']['start'][0]} / {r['load'].get('end', ['?'])[0]}.\n"]
    fl, http = r.get("floors", {}), _g(r, "floors", "http") or {}
    if fl:
        out.append("## Floors (same run)\n")
        rows = [["spawn+exec+wait, static binary (from Python)", _f(_g(fl, "spawn_static_ms", "p50"), 3) + " ms", _f(_g(fl, "spawn_static_ms", "p99"), 3) + " ms", ""],
                ["spawn+exec+wait, dynamic `/bin/true` (from Python)", _f(_g(fl, "spawn_bin_true_ms", "p50"), 3) + " ms", _f(_g(fl, "spawn_bin_true_ms", "p99"), 3) + " ms", ""],
                ["`python3.11 -c pass`", _f(_g(fl, "python3_c_pass_ms", "p50"), 2) + " ms", _f(_g(fl, "python3_c_pass_ms", "p99"), 2) + " ms", ""],
                ["`node -e 0`", _f(_g(fl, "node_e_0_ms", "p50"), 2) + " ms", _f(_g(fl, "node_e_0_ms", "p99"), 2) + " ms", ""],
                ["loopback `GET /health`, urllib3 keep-alive", _f(_g(http, "urllib3_us", "p50"), 0) + " µs", _f(_g(http, "urllib3_us", "p99"), 0) + " µs", ""]]
        for c in (1, 8, 32):
            w = _g(http, "wrk", c) or {}
            rows.append([f"loopback `GET /health`, wrk c={c}", _f(w.get("p50_us")) + " µs", _f(w.get("p99_us")) + " µs", f"{_f(w.get('rps'))} req/s"])
        out.append(_table(["floor", "p50", "p99", "throughput"], rows))
    sb = r.get("sandbox")
    if sb:
        out.append("## Sandbox start (launch → exec, every protection on)\n")
        bare = _g(sb, "bare spawn+exec+wait", "p50")
        rows = [[k, _f(v["p50"], 2) + " ms", _f(v["p99"], 2) + " ms", v["n"], _ratio(v["p50"], bare)] for k, v in sb.items()
                if isinstance(v, dict) and "n" in v and k not in ("bwrap_ms", "python_spawn_ms")]
        if "bwrap_ms" in sb:
            b, pyb = sb["bwrap_ms"], _g(sb, "python_spawn_ms", "p50") or _g(fl, "spawn_static_ms", "p50")
            rows.append(["bare spawn+exec+wait from Python (bubblewrap's floor)", _f(pyb, 2) + " ms", _f(_g(sb, "python_spawn_ms", "p99"), 2) + " ms", b["n"], "1.0×"])
            rows.append(["bubblewrap (from Python; floor: Python-spawned bare start)", _f(b["p50"], 2) + " ms", _f(b["p99"], 2) + " ms", b["n"], _ratio(b["p50"], pyb)])
        out.append(_table(["figure", "p50", "p99", "n", "ratio to bare"], rows))
        if "bwrap_args" in sb:
            out.append(f"bubblewrap: `bwrap {sb['bwrap_args']}` (namespaces and mounts; no cgroup, seccomp or landlock).\n")
        if "error" in sb:
            out.append(f"Sandbox bench failed:\n```\n{sb['error']}\n```\n")
    inv = r.get("invoke", {})
    if inv:
        idle_sb = _g(sb, "sandbox launch→exec (after 50 ms idle)", "p50")
        floors_cold = {"rust": ("sandbox launch→exec after idle", idle_sb), "python": ("`python3 -c pass`", _g(fl, "python3_c_pass_ms", "p50")),
                       "node": ("`node -e 0`", _g(fl, "node_e_0_ms", "p50"))}
        out.append("## Cold start through the Invoke API (client-observed, new function each time)\n")
        rows = []
        for k, v in inv.items():
            name, fv = floors_cold.get(k, ("", None))
            rows.append([f"{k} (`{v['runtime']}`)", _f(v["cold_ms"]["p50"], 1) + " ms", _f(v["cold_ms"]["p99"], 1) + " ms",
                         f"{name} {_f(fv, 2)} ms", _ratio(v["cold_ms"]["p50"], fv), f"{v['cold_ms']['p50'] - fv:+.1f} ms" if fv else "—"])
        out.append(_table(["runtime", "p50", "p99", "floor", "ratio", "over floor"], rows))
        fu = _g(http, "urllib3_us", "p50")
        out.append("## Warm invoke, sequential (urllib3 keep-alive, signed once)\n")
        rows = [[k, _f(v["warm_us"]["p50"], 0) + " µs", _f(v["warm_us"]["p99"], 0) + " µs", _f(fu, 0) + " µs",
                 _ratio(v["warm_us"]["p50"], fu), f"{_f(v['warm_us']['p50'] - fu, 0)} µs" if fu else "—"] for k, v in inv.items()]
        out.append(_table(["runtime", "p50", "p99", "floor (`/health`)", "ratio", "overhead"], rows))
        out.append("## Warm invoke with wrk (p50 latency and throughput per concurrency)\n")
        rows = []
        for c in (1, 8, 32):
            f = _g(http, "wrk", c) or {}
            for k, v in inv.items():
                w = v["wrk"].get(c) or v["wrk"].get(str(c)) or {}
                rows.append([f"c={c}", k, _f(w.get("p50_us")) + " µs", _f(w.get("p99_us")) + " µs", _f(w.get("rps")), _f(f.get("rps")),
                             _ratio(f.get("rps"), w.get("rps")), f"{_f(w['p50_us'] - f['p50_us'], 0)} µs" if f.get("p50_us") and w.get("p50_us") else "—",
                             _f(w.get("daemon_cpu_us_per_req")), f"{_f(w.get('machine_busy_pct'))} %",
                             f"{w.get('non2xx', 0)} / {w.get('timeouts', 0)}" if w.get("errors") else "0"])
        out.append(_table(["conc.", "runtime", "p50", "p99", "req/s", "floor req/s", "floor / result", "p50 over floor", "daemon CPU µs/req", "machine busy", "errors (non-2xx / wrk 2 s timeouts)"], rows))
    pc = r.get("provisioned")
    if pc:
        out.append("## First invocation: provisioned environment vs cold start (interleaved)\n")
        rows = [[f"{k} (`{v['runtime']}`)", _f(v["cold_first_invoke_ms"]["p50"], 2) + " ms",
                 _f(v["provisioned_first_invoke_ms"]["p50"], 2) + " ms",
                 _f(v["cold_first_invoke_ms"]["p99"], 2) + " / " + _f(v["provisioned_first_invoke_ms"]["p99"], 2) + " ms",
                 f"{v['paired_median_ratio']}×", v["cold_first_invoke_ms"]["n"]] for k, v in pc.items()]
        out.append(_table(["runtime", "cold p50", "provisioned p50", "p99 (cold / provisioned)", "cold ÷ provisioned (median of pairs)", "n each"], rows))
    ly = r.get("layers")
    if ly:
        out.append("## Cold start with 5 layers vs none (layers already extracted; interleaved)\n")
        rows = [[f"{k} (`{v['runtime']}`)", _f(v["no_layers_ms"]["p50"], 2) + " ms", _f(v["five_layers_ms"]["p50"], 2) + " ms",
                 _f(v["no_layers_ms"]["p99"], 2) + " / " + _f(v["five_layers_ms"]["p99"], 2) + " ms",
                 f"{v['five_layers_ms']['p50'] - v['no_layers_ms']['p50']:+.2f} ms", f"{v.get('paired_median_diff_ms', 0):+.2f} ms",
                 v["no_layers_ms"]["n"]] for k, v in ly.items()]
        out.append(_table(["runtime", "no layers p50", "5 layers p50", "p99 (none / 5)", "added (p50 − p50)", "added (median of paired differences)", "n each"], rows))
    pe = r.get("peer")
    if pe:
        out.append("## Peer: cargo-lambda's emulator, same Rust echo, same clients\n")
        if "error" in pe:
            out.append(f"Not measured: {pe['error']}\n")
        elif "rust" in inv:
            lb = inv["rust"]
            rows = [["sequential p50 (urllib3)", _f(lb["warm_us"]["p50"], 0) + " µs", _f(pe["warm_us"]["p50"], 0) + " µs", _ratio(lb["warm_us"]["p50"], pe["warm_us"]["p50"])]]
            for c in (1, 8, 32):
                a, b = _g(lb, "wrk", c) or {}, _g(pe, "wrk", c) or {}
                rows.append([f"wrk c={c} p50", _f(a.get("p50_us")) + " µs", _f(b.get("p50_us")) + " µs", _ratio(a.get("p50_us"), b.get("p50_us"))])
                rows.append([f"wrk c={c} req/s", _f(a.get("rps")), _f(b.get("rps")), _ratio(a.get("rps"), b.get("rps"))])
            out.append(_table(["figure", "lambdabox", f"cargo-lambda {pe.get('version', '')}", "lambdabox / peer"], rows))
            out.append(f"cargo-lambda ran {pe['instances']} bootstrap instances, unsandboxed; lambdabox runs each in a full sandbox.\n")
    fp = r.get("footprint")
    if fp:
        out.append("## Footprint\n")
        rows = [["daemon idle RSS (fresh)", _f(fp["idle_rss_mb"]) + " MB", "", "", ""]]
        for k in ("python", "node"):
            e = fp.get(k, {})
            rows.append([f"per warm {k} environment ({e.get('envs')} envs)", _f(e.get("daemon_side_mb"), 2) + " MB",
                         _f(e.get("total_mb"), 2) + " MB", _f(e.get("envs_in_8_gib")), ""])
        out.append(_table(["figure", "daemon-side", "total (daemon + Pss of env processes)", "envs in 8 GiB", ""], rows))
    cp = r.get("control")
    if cp:
        fl_ms = cp["floor_health_us"]["p50"] / 1e3
        out.append("## Control plane (fresh daemon)\n")
        rows = [["floor: `GET /health` (urllib3, unsigned)", _f(fl_ms, 2) + " ms", _f(cp["floor_health_us"]["p99"] / 1e3, 2) + " ms", "1"],
                [f"ListFunctions, page of 50 of {cp['functions']:,} (signed)", _f(cp["list_page_50_ms"]["p50"], 2) + " ms", _f(cp["list_page_50_ms"]["p99"], 2) + " ms", _ratio(cp["list_page_50_ms"]["p50"], fl_ms)],
                [f"CreateFunction, 40 MB zip (n={cp['create_40mb_ms']['n']}, max {cp['create_40mb_ms']['max']} ms)", _f(cp["create_40mb_ms"]["p50"], 0) + " ms", "", _ratio(cp["create_40mb_ms"]["p50"], fl_ms)],
                ["CreateFunction, small zip (mean while filling)", _f(cp["create_small_mean_ms"], 2) + " ms", "", ""],
                ["daemon RSS after all that", _f(cp["rss_mb_after"]) + " MB", "", ""]]
        out.append(_table(["figure", "p50", "p99", "ratio to floor"], rows))
    aq = r.get("async")
    if aq:
        out.append(async_section(aq))
    qs = r.get("queues")
    if qs:
        out.append(queues_section(qs))
    ob = r.get("s3")
    if ob:
        out.append(s3_section(ob))
    sc = r.get("schedules")
    if sc:
        out.append(schedules_section(sc))
    lg = r.get("langs")
    if lg:
        f = lg.get("floors", {})
        out.append("## Java and Ruby (own daemon; `ruby3.2` mapped to Debian's ruby 3.1)\n")
        floors_of = {"java": ("`java -version`", _g(f, "java_floor_ms", "p50")), "ruby": ("`ruby3.1 -e 0`", _g(f, "ruby_floor_ms", "p50"))}
        rows = []
        for k in ("java", "ruby"):
            v = lg.get(k)
            if not v:
                continue
            name, fv = floors_of[k]
            rows.append([f"{k} (`{v['runtime']}`) cold", _f(v["cold_ms"]["p50"], 1) + " ms", _f(v["cold_ms"]["p99"], 1) + " ms",
                         f"{name} {_f(fv, 1)} ms", _ratio(v["cold_ms"]["p50"], fv), f"{v['cold_ms']['p50'] - fv:+.1f} ms" if fv else "—"])
        hu = _g(lg, "health_us", "p50")
        for k in ("java", "ruby"):
            v = lg.get(k)
            if v:
                rows.append([f"{k} (`{v['runtime']}`) warm", _f(v["warm_us"]["p50"], 0) + " µs", _f(v["warm_us"]["p99"], 0) + " µs",
                             f"`GET /health` {_f(hu, 0)} µs", _ratio(v["warm_us"]["p50"], hu), f"{_f(v['warm_us']['p50'] - hu, 0)} µs" if hu else "—"])
        out.append(_table(["figure", "p50", "p99", "floor (same run)", "ratio", "over floor"], rows))
    fz = r.get("freeze")
    if fz:
        out.append(f"## Freezing idle environments (Rust echo, wrk c=1, median of {fz['rounds']} interleaved rounds)\n")
        rows = [[name, _f(fz[name]["floor_p50_us"]) + " µs", _f(fz[name]["c1_p50_us"]) + " µs", _f(fz[name]["c1_p99_us"]) + " µs", _f(fz[name]["c1_rps"]) + " req/s"]
                for name in ("unfrozen", "frozen")]
        out.append(_table(["sandbox.freeze_idle", "floor `GET /health` p50", "invoke p50", "invoke p99", "throughput"], rows))
        out.append(f"Frozen − unfrozen, invoke p50: {fz['delta_c1_p50_us']} µs.\n")
    fu = r.get("urls")
    if fu:
        import function_urls

        out.append(function_urls.section(fu))
    ia = r.get("inapi")
    if ia:
        import in_function_api

        out.append(in_function_api.section(ia))
    out.append(goals(r))
    pr = r.get("profile")
    if pr and "error" not in pr:
        out.append("## Profile of the warm path (perf, Rust echo, wrk c=8)\n")
        out.append(_table(["inclusive %", "function"], [[f"{p:.1f}", f"`{s}`"] for p, s in pr["inclusive"][:20]]))
    elif pr:
        out.append(f"## Profile\n\nNot taken: {pr['error']}\n")
    return "\n".join(out)


def async_section(aq):
    out = ["## Asynchronous invocation (issue 13, fresh daemon)\n",
           f"Disk floor: {aq['fdatasync_per_s']:,} durable commits/s (fdatasync, one writer, data directory's file system). "
           "Every 202 below is a committed transaction; concurrent requests share a commit.\n"]
    rows = []
    for c in (1, 8):
        w = _g(aq, "wrk", c) or {}
        g, e = w.get("get_function") or {}, w.get("event") or {}
        rows.append([f"c={c}", _f(e.get("rps")), _f(g.get("rps")), f"{w.get('ratio')}", f"{e.get('rps', 0) / aq['fdatasync_per_s']:.1f}",
                     _f(e.get("p50_us")) + " µs", _f(e.get("p99_us")) + " µs", f"{e.get('non2xx', 0)} / {e.get('timeouts', 0)}"])
    for c in (1, 8):
        w = _g(aq, "accept_only", c) or {}
        g, e = w.get("get_function") or {}, w.get("event") or {}
        if e:
            rows.append([f"c={c}, accepting only (function at its concurrency limit)", _f(e.get("rps")), _f(g.get("rps")), f"{w.get('ratio')}",
                         f"{e.get('rps', 0) / aq['fdatasync_per_s']:.1f}", _f(e.get("p50_us")) + " µs", _f(e.get("p99_us")) + " µs",
                         f"{e.get('non2xx', 0)} / {e.get('timeouts', 0)}"])
    out.append(_table(["conc.", "accepted events/s", "GetFunction req/s (floor)", "events / GetFunction", "events per fdatasync", "202 p50", "202 p99", "errors"], rows))
    lat = aq.get("latency_ms", {})
    rows = [[k.replace("_", " "), _f(v["p50"], 2) + " ms", _f(v["p99"], 2) + " ms", v["n"]] for k, v in lat.items()]
    out.append(_table(["idle latency", "p50", "p99", "n"], rows))
    out.append(f"Event start over a warm sync invoke's start, both from the request leaving the client (p50): {aq.get('over_sync_p50_ms')} ms. "
               f"Queue drained after the throughput runs: {aq.get('drained')}.\n")
    return "\n".join(out)


def s3_section(ob):
    seq, lg, nt = _g(ob, "small", "sequential") or {}, ob.get("large") or {}, ob.get("notify") or {}
    out = ["## Object store (issue 20, fresh daemon)\n",
           "Every PUT answer is an object whose file is fsynced and renamed and whose row is committed. The floor is the "
           "same bytes written by Python the way the store writes them (write, fsync, rename, fsync of the directory) "
           "and read back, in the same run and the same data directory.\n"]
    rows = [["1 KB PUT (sequential, signed SHA-256)", _f(_g(seq, "put_ms", "p50"), 3) + " ms", _f(_g(seq, "floor_write_ms", "p50"), 3) + " ms",
             _ratio(_g(seq, "put_ms", "p50"), _g(seq, "floor_write_ms", "p50"))],
            ["1 KB GET (sequential)", _f(_g(seq, "get_ms", "p50"), 3) + " ms", _f(_g(seq, "floor_read_ms", "p50"), 3) + " ms",
             _ratio(_g(seq, "get_ms", "p50"), _g(seq, "floor_read_ms", "p50"))],
            [f"64 MB PUT (UNSIGNED-PAYLOAD, n={lg.get('runs')})", _f(lg.get("put_mb_s")) + " MB/s", _f(lg.get("floor_write_mb_s")) + " MB/s",
             _ratio(lg.get("floor_write_mb_s"), lg.get("put_mb_s"))],
            ["64 MB GET", _f(lg.get("get_mb_s")) + " MB/s", _f(lg.get("floor_read_mb_s")) + " MB/s",
             _ratio(lg.get("floor_read_mb_s"), lg.get("get_mb_s"))]]
    out.append(_table(["figure", "lambdabox", "floor (local file)", "slowdown"], rows))
    rows = []
    for c in (1, 8):
        w = _g(ob, "small", "wrk", c) or {}
        p, g = w.get("put") or {}, w.get("get") or {}
        rows.append([f"c={c}", _f(p.get("rps")), _f(p.get("p50_us")) + " µs", _f(g.get("rps")), _f(g.get("p50_us")) + " µs",
                     f"{p.get('errors', 0)} / {g.get('errors', 0)}"])
    out.append(_table(["wrk, 1 KB", "PUT/s", "PUT p50", "GET/s", "GET p50", "errors"], rows))
    out.append(f"Upload → function start (bucket notification, warm Python function, n={nt.get('n')}): "
               f"p50 {_f(nt.get('p50_ms'), 2)} ms, max {_f(nt.get('max_ms'), 2)} ms.\n")
    return "\n".join(out)


def queues_section(qs):
    fs = qs["fdatasync_per_s"]
    out = ["## Queues (issue 16, fresh daemon)\n",
           f"Disk floor: {fs:,} durable commits/s (fdatasync, one writer). Every SendMessage answer below is a committed "
           f"message (AWS JSON 1.0, 200-byte body, one standard queue); {qs.get('sent_stored', 0):,} messages were stored.\n"]
    rows = []
    for c in (1, 8):
        w = _g(qs, "send", c) or {}
        g, s = w.get("get_function") or {}, w.get("send") or {}
        rows.append([f"{c} producer{'s' if c > 1 else ''}", _f(s.get("rps")), _f(g.get("rps")), f"{w.get('ratio')}",
                     f"{s.get('rps', 0) / fs:.1f}", _f(s.get("p50_us")) + " µs", _f(s.get("p99_us")) + " µs",
                     f"{s.get('non2xx', 0)} / {s.get('timeouts', 0)}"])
    out.append(_table(["producers", "messages/s", "GetFunction req/s (floor)", "sends / GetFunction", "sends per fdatasync",
                       "send p50", "send p99", "errors"], rows))
    e = qs.get("e2e") or {}
    si = qs.get("sync_invoke") or {}
    rows = [[f"{e.get('messages', 0):,} queued messages → mapping (BatchSize 10) → Python batch function", _f(e.get("msgs_per_s")) + " msgs/s",
             f"{_f(_g(si, 1, 'rps'))} / {_f(_g(si, 8, 'rps'))}", f"{e.get('ratio_sync_c1')} / {e.get('ratio_sync_c8')}",
             f"{e.get('secs')} s, {e.get('left')} left"]]
    out.append(_table(["end to end", "rate", "sync invokes/s of the same function, c=1 / c=8 (floor)", "messages / sync invoke", "time"], rows))
    return "\n".join(out)


def schedules_section(sc):
    fl = sc["floor_async"]
    f = fl["start_from_request_ms"]
    la = sc["lateness_ms"]
    out = [f"## Schedules (issue 15, fresh daemon, system clock)\n",
           f"{sc['rules']} EventBridge rules with `rate(1 second)` → one Python function; lateness = handler start − the "
           f"occurrence's second (`time` of the event), {sc['firings']:,} firings after a warm-up, "
           f"{sc['firings_per_s']} firings/s over {sc['window_s']} s. Floor: the same function's idle asynchronous invoke, "
           f"request sent → handler start (every firing goes through that queue).\n"]
    rows = [["lateness", _f(la["p50"], 1) + " ms", _f(la["p99"], 1) + " ms", f"{sc.get('lateness_p50_over_async_floor')}×"],
            ["floor: async invoke, request → start", _f(f["p50"], 2) + " ms", _f(f["p99"], 2) + " ms", "1×"],
            ["daemon CPU per firing / per async event (floor)", f"{sc.get('daemon_cpu_ms_per_firing')} ms", f"{fl['daemon_cpu_ms_per_event']} ms", ""]]
    out.append(_table(["figure", "p50", "p99 (or floor)", "p50 / floor"], rows))
    return "\n".join(out)


def goals(r):
    inv, fl = r.get("invoke", {}), r.get("floors", {})
    rows = []
    w1, f1 = _g(inv, "rust", "wrk", 1, "p50_us"), _g(fl, "http", "wrk", 1, "p50_us")
    if w1 and f1:
        rows.append(["warm overhead over the loopback floor (Rust echo, wrk c=1 p50)", "≤ 150 µs", f"{w1 - f1:.0f} µs", w1 - f1 <= 150])
    r8 = _g(inv, "rust", "wrk", 8, "rps")
    if r8:
        rows.append(["warm invokes/s at c=8 (Rust echo)", "≥ 10,000/s", f"{r8:,}/s", r8 >= 10000])
    c = _g(inv, "rust", "cold_ms", "p50")
    if c:
        rows.append(["cold start `provided` p50", "≤ 5 ms", f"{c:.1f} ms", c <= 5])
    cp, bp = _g(inv, "python", "cold_ms", "p50"), _g(fl, "python3_c_pass_ms", "p50")
    if cp and bp:
        rows.append(["cold start python p50", f"≤ `python3 -c pass` + 5 = {bp + 5:.1f} ms", f"{cp:.1f} ms", cp <= bp + 5])
    idle = _g(r, "footprint", "idle_rss_mb")
    if idle:
        rows.append(["daemon idle RSS", "≤ 25 MB", f"{idle} MB", idle <= 25])
    for k in ("python", "node"):
        ds = _g(r, "footprint", k, "daemon_side_mb")
        if ds is not None:
            rows.append([f"daemon-side memory per warm {k} environment", "≤ 3 MB", f"{ds} MB", ds <= 3])
    for k, v in (r.get("layers") or {}).items():
        added = v.get("paired_median_diff_ms", v["five_layers_ms"]["p50"] - v["no_layers_ms"]["p50"])
        rows.append([f"5 layers add to a {k} cold start (once extracted, median of paired differences; issue 5)", "< 1 ms", f"{added:+.2f} ms", added < 1])
    aq = r.get("async") or {}
    for c in (1, 8):
        for key, what in (("wrk", "while running them"), ("accept_only", "accepting only")):
            e = _g(aq, key, c, "event", "rps")
            if e:
                rows.append([f"accepted async events/s, durable, c={c}, {what} (issue 13)", "≥ 3,000/s", f"{e:,}/s ({_g(aq, key, c, 'ratio')}× GetFunction)", e >= 3000])
    o = _g(aq, "over_sync_p50_ms")
    if o is not None:
        rows.append(["async accept-to-start over a warm sync invoke, idle, p50 (issue 13)", "≤ 5 ms", f"{o:+.2f} ms", o <= 5])
    return "## Goals (issues 7, 5 and 13)\n\n" + _table(["goal", "target", "measured", "held"], [r[:3] + ["yes" if r[3] else "**no**"] for r in rows])
