"""Java and Ruby (issue 23): cold start per runtime through the Invoke API (a new 512 MB
function each time, so every sample pays the sandbox, the interpreter and the runtime client's
init) and warm sequential latency (urllib3 keep-alive, signed once), beside the interpreter
floors of the same run: `java -version` of the JDK that serves `java17` and `ruby -e 0` of the
ruby mapped to `ruby3.2` (Debian 12 ships ruby 3.1; the daemon gets that mapping in its config).

Echo handlers: Java `RequestHandler<Map<String,Object>, Map<String,Object>>` returning its
event (the JSON mapping both ways), Ruby `def handler(event:, context:) = event`.
"""
import io, os, shutil, subprocess, tempfile, zipfile

from lib import EVENT, Daemon, invoke_path, stats, timed
from invoke import cold_starts

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


def run(binary, env, quick):
    res = {"floors": {}}
    n_floor = 10 if quick else 30
    if os.path.exists(JAVA):
        res["floors"]["java_version_ms"] = stats(timed(lambda: subprocess.run([JAVA, "-version"], check=True, capture_output=True),
                                                       n_floor, warmup=2), nd=1)
        res["floors"]["java_version_tiered1_ms"] = stats(timed(lambda: subprocess.run(
            [JAVA, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-version"], check=True, capture_output=True),
            n_floor, warmup=2), nd=1)
    if os.path.exists(RUBY):
        res["floors"]["ruby_e_0_ms"] = stats(timed(lambda: subprocess.run([RUBY, "-e", "0"], check=True), n_floor, warmup=2), nd=1)
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
        seq = timed(d.health, 300 if quick else 2000, warmup=100)
        res["health_us"] = stats(seq, 1e3, 0)
        for key, (rt, handler, code) in cases.items():
            cold = cold_starts(d, f"lang-{key}", rt, handler, code, 3 if quick else 12)
            name = f"lang-{key}-warm"
            d.create(name, rt, handler, code)
            headers = d.signed("POST", invoke_path(name), EVENT)
            warm = timed(lambda: d.invoke(name, EVENT, headers), 200 if quick else 2000, warmup=100)
            res[key] = {"runtime": rt, "cold_ms": stats(cold, nd=1), "warm_us": stats(warm, 1e3, 0)}
    finally:
        d.stop()
        os.unlink(cfg.name)
    return res
