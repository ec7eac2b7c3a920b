"""Java and Ruby (issue 23): cold start per runtime through the Invoke API (a new 512 MB
function each time, so every sample pays the sandbox, the interpreter and the runtime client's
init) and warm sequential latency (urllib3 keep-alive, signed once), beside the interpreter
floors of the same run: `java -version` of the JDK that serves `java17` and `ruby -e 0` of the
ruby mapped to `ruby3.2` (Debian 12 ships ruby 3.1; the daemon gets that mapping in its config).
Each cold sample is taken right after one floor sample (interleaved), so a loaded machine
slows both alike.

Echo handlers: Java `RequestHandler<Map<String,Object>, Map<String,Object>>` returning its
event (the JSON mapping both ways), Ruby `def handler(event:, context:) = event`.
"""
import io, os, shutil, subprocess, tempfile, time, zipfile

from lib import EVENT, Daemon, invoke_path, stats, timed

JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
RUBY = "/usr/bin/ruby3.1"

JAVA_API = {
    "com/amazonaws/services/lambda/runtime/RequestHandler.java":
        "package com.amazonaws.services.lambda.runtime;\n"
        "public interface RequestHandler<I, O> { O handleRequest(I input, Context context); }\n",
    "com/amazonaws/services/lambda/runtime/Context.java":
        "package com.amazonaws.services.lambda.runtime;\npublic interface Context { String getAwsRequestId(); }\n",
}
JAVA_ECHO = {
    "bench/Echo.java":
        "package bench;\nimport com.amazonaws.services.lambda.runtime.*;\nimport java.util.Map;\n"
        "public class Echo implements RequestHandler<Map<String, Object>, Map<String, Object>> {\n"
        "  public Map<String, Object> handleRequest(Map<String, Object> e, Context c) { return e; }\n}\n",
}
RUBY_ECHO = "def handler(event:, context:) = event\n"


def java_zip():
    import base64
    w = tempfile.mkdtemp(prefix="lbx-bench-java-")
    try:
        for rel, text in {**JAVA_API, **JAVA_ECHO}.items():
            p = os.path.join(w, "src", rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").write(text)
        srcs = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(w, "src")) for f in fs]
        subprocess.run(["javac", "--release", "8", "-Xlint:-options", "-d", os.path.join(w, "out")] + srcs, check=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(os.path.join(w, "out", "bench", "Echo.class"), "bench/Echo.class")
        return base64.b64encode(buf.getvalue()).decode()
    finally:
        shutil.rmtree(w, ignore_errors=True)


def ruby_zip():
    from lib import zipped
    return zipped({"app.rb": (RUBY_ECHO, 0o644)})


def floor_cmds():
    return {"java": [JAVA, "-version"], "ruby": [RUBY, "-e", "0"]}


def run(binary, env, quick):
    res = {"floors": {}}
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(f'[runtimes]\n"ruby3.2" = "{RUBY}"\n')
    cfg.close()
    d = Daemon(binary, env, extra_args=("--config", cfg.name))
    try:
        cases = {}
        if os.path.exists(JAVA) and shutil.which("javac"):
            cases["java"] = ("java17", "bench.Echo", java_zip())
        if os.path.exists(RUBY):
            cases["ruby"] = ("ruby3.2", "app.handler", ruby_zip())
        res["health_us"] = stats(timed(d.health, 300 if quick else 2000, warmup=100), 1e3, 0)
        for key, (rt, handler, code) in cases.items():
            cmd = floor_cmds()[key]
            subprocess.run(cmd, check=True, capture_output=True)
            floor, cold = [], []
            for i in range(3 if quick else 12):
                t = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                floor.append((time.perf_counter() - t) * 1e3)
                name = f"lang-{key}-cold-{i}"
                d.create(name, rt, handler, code)
                time.sleep(0.05)
                t = time.perf_counter()
                d.invoke(name)
                cold.append((time.perf_counter() - t) * 1e3)
            res["floors"][f"{key}_floor_ms"] = stats(floor, nd=1)
            name = f"lang-{key}-warm"
            d.create(name, rt, handler, code)
            headers = d.signed("POST", invoke_path(name), EVENT)
            warm = timed(lambda: d.invoke(name, EVENT, headers), 200 if quick else 2000, warmup=100)
            res[key] = {"runtime": rt, "cold_ms": stats(cold, nd=1), "warm_us": stats(warm, 1e3, 0),
                        "floor_cmd": " ".join(os.path.basename(c) if c.startswith("/") else c for c in cmd)}
    finally:
        d.stop()
        os.unlink(cfg.name)
    return res
