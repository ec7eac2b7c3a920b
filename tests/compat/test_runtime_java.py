"""The Java runtimes (issue 23): jars built here from sources compiled against AWS's interface
names, deployed with the AWS CLI v2 and boto3, run by lambdabox's own Java runtime client on
the host's JDK (Debian 12: openjdk 17 → `java17`).
"""

from __future__ import annotations

import json
import re

import pytest

from invoke_support import CLIENT_CONTEXT, b64json, invoke, start_isolated_daemon, stop_daemon, unique
from runtime_support import cli_create, cli_invoke, frame, java_jar, seed_checks, zip_tree

RUNTIME = "java17"

SEED = {
    "example/Hello.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
import java.util.*;
public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    LambdaLogger log = context.getLogger();
    log.log("event: " + event);
    log.log("request " + context.getAwsRequestId());
    log.log("remaining " + context.getRemainingTimeInMillis());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("statusCode", 200);
    out.put("body", "{\\"message\\": \\"OK\\"}");
    return out;
  }
}
""",
}

POJO = {
    "example/Order.java": """
package example;
import java.util.List;
public class Order {
  private String id; private int quantity; private double price; private List<String> tags;
  private Customer customer; private boolean rush;
  public String getId() { return id; } public void setId(String v) { id = v; }
  public int getQuantity() { return quantity; } public void setQuantity(int v) { quantity = v; }
  public double getPrice() { return price; } public void setPrice(double v) { price = v; }
  public List<String> getTags() { return tags; } public void setTags(List<String> v) { tags = v; }
  public Customer getCustomer() { return customer; } public void setCustomer(Customer v) { customer = v; }
  public boolean isRush() { return rush; } public void setRush(boolean v) { rush = v; }
}
""",
    "example/Customer.java": """
package example;
public class Customer { public String name; public String email; }
""",
    "example/Receipt.java": """
package example;
public class Receipt {
  private final String orderId; private final double total; private final String note;
  public Receipt(String orderId, double total, String note) { this.orderId = orderId; this.total = total; this.note = note; }
  public String getOrderId() { return orderId; }
  public double getTotal() { return total; }
  public String getNote() { return note; }
  public String getURL() { return "https://example.com/" + orderId; }
}
""",
    "example/Orders.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
public class Orders implements RequestHandler<Order, Receipt> {
  public Receipt handleRequest(Order o, Context c) {
    String who = o.getCustomer() == null ? "?" : o.getCustomer().name;
    return new Receipt(o.getId(), o.getQuantity() * o.getPrice(), o.isRush() ? who + " " + o.getTags() : null);
  }
}
""",
    "example/Strings.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
public class Strings implements RequestHandler<String, String> {
  public String handleRequest(String s, Context c) { return s.toUpperCase(); }
}
""",
    "example/Streams.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
import java.io.*;
public class Streams implements RequestStreamHandler {
  public void handleRequest(InputStream in, OutputStream out, Context c) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    for (int n; (n = in.read(buf)) > 0; ) b.write(buf, 0, n);
    out.write(("{\\"echo\\":" + b.toString("UTF-8") + ",\\"len\\":" + b.size() + "}").getBytes("UTF-8"));
  }
}
""",
    "example/Methods.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
import java.util.*;
public class Methods {
  public static Map<String, Object> twice(Map<String, Integer> event, Context c) {
    Map<String, Object> out = new HashMap<>();
    out.put("n", event.get("n") * 2);
    out.put("fn", c.getFunctionName());
    return out;
  }
  public void nothing() {}
  public List<Integer> counts(List<Integer> xs) { List<Integer> r = new ArrayList<>(xs); Collections.reverse(r); return r; }
}
""",
}

FAILURES = {
    "example/Fail.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
import java.util.Map;
public class Fail implements RequestHandler<Map<String, Object>, String> {
  public String handleRequest(Map<String, Object> e, Context c) {
    if (e.containsKey("sleep")) {
      try { Thread.sleep(((Number) e.get("sleep")).longValue() * 1000); } catch (InterruptedException x) { }
      return "woke";
    }
    return deeper(String.valueOf(e.get("why")));
  }
  private String deeper(String why) { throw new IllegalStateException("broken: " + why); }
}
""",
    "example/BadInit.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
public class BadInit implements RequestHandler<Object, String> {
  static { if (true) throw new RuntimeException("static init failed"); }
  public String handleRequest(Object e, Context c) { return "never"; }
}
""",
    "example/BadCtor.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
public class BadCtor implements RequestHandler<Object, String> {
  public BadCtor() { throw new IllegalArgumentException("constructor refused"); }
  public String handleRequest(Object e, Context c) { return "never"; }
}
""",
}

PROBE = {
    "example/Probe.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
import java.lang.management.ManagementFactory;
import java.util.*;
public class Probe implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  private static final String ENV_ID = UUID.randomUUID().toString();
  private static int count = 0;
  public Map<String, Object> handleRequest(Map<String, Object> e, Context c) {
    count++;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("env", ENV_ID); m.put("count", count);
    m.put("requestId", c.getAwsRequestId()); m.put("functionName", c.getFunctionName());
    m.put("functionVersion", c.getFunctionVersion()); m.put("arn", c.getInvokedFunctionArn());
    m.put("memory", c.getMemoryLimitInMB()); m.put("remaining", c.getRemainingTimeInMillis());
    m.put("logGroup", c.getLogGroupName()); m.put("logStream", c.getLogStreamName());
    m.put("identity", c.getIdentity() == null ? null : c.getIdentity().getIdentityId());
    ClientContext cc = c.getClientContext();
    if (cc != null) {
      m.put("installationId", cc.getClient().getInstallationId());
      m.put("appTitle", cc.getClient().getAppTitle());
      m.put("custom", cc.getCustom()); m.put("ccEnv", cc.getEnvironment());
    }
    m.put("javaVersion", System.getProperty("java.version"));
    m.put("prop", System.getProperty("lbx.prop"));
    m.put("maxHeapMb", Runtime.getRuntime().maxMemory() / (1024 * 1024));
    m.put("jvmArgs", ManagementFactory.getRuntimeMXBean().getInputArguments());
    m.put("cwd", System.getProperty("user.dir"));
    m.put("toolOptions", System.getenv("JAVA_TOOL_OPTIONS"));
    m.put("handlerEnv", System.getenv("_HANDLER"));
    m.put("execEnv", System.getenv("AWS_EXECUTION_ENV"));
    m.put("trace", System.getProperty("com.amazonaws.xray.traceHeader"));
    m.put("globalLogger", LambdaRuntime.getLogger() != null);
    System.out.println("stdout line from " + c.getAwsRequestId());
    System.err.println("stderr line");
    return m;
  }
}
""",
}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-java"))
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client(read_timeout=180)


@pytest.fixture(scope="module")
def jars(tmp_path_factory):
    w = tmp_path_factory.mktemp("jars")
    return {
        "seed": java_jar(w / "seed", SEED),
        "pojo": java_jar(w / "pojo", POJO),
        "fail": java_jar(w / "fail", FAILURES),
        "probe": java_jar(w / "probe", PROBE),
        "uber": java_jar(w / "uber", PROBE, uber=True),
    }


def test_seed_handler_with_the_cli(daemon, jars, tmp_path):
    name = unique("java-seed")
    cfg = cli_create(daemon, tmp_path, name, RUNTIME, "example.Hello", jars["seed"],
                     "--memory-size", "512", "--timeout", "10", suffix="jar")
    assert cfg["Runtime"] == RUNTIME and cfg["Handler"] == "example.Hello"
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "value"}')
    rid = seed_checks(stdout, body, log, "event: {key=value}")
    rep = [line for line in log.split("\n") if line.startswith("REPORT")][0]
    assert "Init Duration" in rep, log
    # warm: same environment, no init
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "again"}')
    assert seed_checks(stdout, body, log, "event: {key=again}") != rid
    assert "Init Duration" not in log


def test_pojo_string_stream_and_method_handlers(daemon, lam, jars, tmp_path):
    z = jars["pojo"]
    names = {}
    for handler in ("example.Orders", "example.Strings", "example.Streams", "example.Methods::twice",
                    "example.Methods::counts", "example.Methods::nothing"):
        n = unique("java-h")
        lam.create_function(FunctionName=n, Runtime=RUNTIME, Handler=handler, Role="arn:aws:iam::123456789012:role/r",
                            Code={"ZipFile": z}, MemorySize=512, Timeout=10)
        names[handler] = n
    for n in names.values():
        lam.get_waiter("function_active_v2").wait(FunctionName=n)

    order = {"id": "o-1", "quantity": 3, "price": 2.5, "tags": "single",
             "customer": {"name": "Ada", "email": "a@x", "unknown": 1}, "rush": True, "extra": [1, 2]}
    r = invoke(lam, names["example.Orders"], order)
    assert r.function_error is None, r.raw
    # getters, standard bean naming (getURL -> "URL"), single value accepted as a list
    assert r.payload == {"orderId": "o-1", "total": 7.5, "note": "Ada [single]", "URL": "https://example.com/o-1"}
    r = invoke(lam, names["example.Orders"], {"id": "o-2", "quantity": 1, "price": 1})
    assert r.payload == {"orderId": "o-2", "total": 1.0, "URL": "https://example.com/o-2"}, "nulls are left out"

    assert invoke(lam, names["example.Strings"], "hello").payload == "HELLO"
    r = invoke(lam, names["example.Strings"], {"not": "a string"})
    assert r.function_error == "Unhandled"
    assert r.payload["errorType"] == "java.lang.RuntimeException"
    assert r.payload["errorMessage"] == "An error occurred during JSON parsing"

    r = invoke(lam, names["example.Streams"], raw=b'{"a": [1, 2, "\xc3\xa9"]}')
    assert r.payload == {"echo": {"a": [1, 2, "é"]}, "len": 19}

    r = invoke(lam, names["example.Methods::twice"], {"n": 21})
    assert r.payload == {"n": 42, "fn": names["example.Methods::twice"]}
    assert invoke(lam, names["example.Methods::counts"], [1, 2, 3]).payload == [3, 2, 1]
    r = invoke(lam, names["example.Methods::nothing"], {})
    assert r.function_error is None and r.raw == b"null"


def test_exception_shape_timeout_and_recovery(daemon, lam, jars, tmp_path):
    name = unique("java-fail")
    cli_create(daemon, tmp_path, name, RUNTIME, "example.Fail", jars["fail"], "--timeout", "2",
               "--memory-size", "256", suffix="jar")
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"why": "disk"}')
    assert stdout["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "java.lang.IllegalStateException"
    assert err["errorMessage"] == "broken: disk"
    assert err["stackTrace"][0].startswith("example.Fail.deeper(Fail.java:"), err
    assert err["stackTrace"][1].startswith("example.Fail.handleRequest(Fail.java:"), err
    assert not any("lambdabox" in f or "reflect" in f for f in err["stackTrace"]), err
    _, inner = frame(log)
    logged = "\n".join(inner)
    assert "broken: disk: java.lang.IllegalStateException" in logged, log
    assert "\tat example.Fail.deeper" in logged.replace("\r", "\n"), log

    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"sleep": 5}')
    assert stdout["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "Sandbox.Timedout", err
    assert "Task timed out after 2.00 seconds" in log, log
    # a new environment serves the next invoke
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"why": "again"}')
    assert json.loads(body)["errorMessage"] == "broken: again"
    assert "Init Duration" in log


def test_init_errors_and_bad_handlers(daemon, lam, jars):
    def make(handler):
        n = unique("java-init")
        lam.create_function(FunctionName=n, Runtime=RUNTIME, Handler=handler, Role="arn:aws:iam::123456789012:role/r",
                            Code={"ZipFile": jars["fail"]}, MemorySize=256)
        lam.get_waiter("function_active_v2").wait(FunctionName=n)
        return n

    r = invoke(lam, make("example.BadInit"), {})
    assert r.function_error == "Unhandled"
    assert r.payload["errorType"] == "java.lang.ExceptionInInitializerError", r.payload
    assert r.payload["errorMessage"].startswith("Error loading class example.BadInit"), r.payload
    assert "INIT_REPORT" in r.log or "static init failed" in r.log, r.log
    assert "static init failed" in r.log, r.log

    r = invoke(lam, make("example.BadCtor"), {})
    assert r.payload == {"errorMessage": "constructor refused", "errorType": "java.lang.IllegalArgumentException"}

    r = invoke(lam, make("example.Missing"), {})
    assert r.payload == {"errorMessage": "Class not found: example.Missing",
                         "errorType": "java.lang.ClassNotFoundException"}
    r = invoke(lam, make("example.Fail::absent"), {})
    assert r.payload["errorMessage"] == ("No public method named absent with appropriate method "
                                         "signature found on class example.Fail"), r.payload


@pytest.mark.parametrize("variant", ["probe", "uber"])
def test_context_fields_and_jvm_settings(daemon, lam, jars, variant):
    name = unique("java-probe")
    lam.create_function(
        FunctionName=name, Runtime=RUNTIME, Handler="example.Probe", Role="arn:aws:iam::123456789012:role/r",
        Code={"ZipFile": jars[variant]}, MemorySize=640, Timeout=9,
        Environment={"Variables": {"JAVA_TOOL_OPTIONS": "-Dlbx.prop=yes -Xmx200m"}})
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    r = invoke(lam, name, {"k": 1}, ClientContext=b64json(CLIENT_CONTEXT))
    assert r.function_error is None, r.raw
    p = r.payload
    assert p["requestId"] == r.start_id()
    assert p["functionName"] == name and p["functionVersion"] == "$LATEST"
    assert p["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert p["memory"] == 640 and 0 < p["remaining"] <= 9000
    assert p["logGroup"] == f"/aws/lambda/{name}"
    assert re.match(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$", p["logStream"])
    assert p["identity"] is None
    assert p["installationId"] == "inst-42" and p["appTitle"] == "Compat"
    assert p["custom"] == {"tenant": "t-1", "n": "7"} and p["ccEnv"]["platform"] == "Linux"
    assert p["javaVersion"].startswith("17.")
    # JAVA_TOOL_OPTIONS is honoured, and our default heap yields to the user's -Xmx
    assert p["prop"] == "yes" and p["toolOptions"] == "-Dlbx.prop=yes -Xmx200m"
    assert 150 <= p["maxHeapMb"] <= 200, p
    assert "-XX:+UseSerialGC" in p["jvmArgs"] and "-XX:TieredStopAtLevel=1" in p["jvmArgs"]
    assert not any(a.startswith("-XX:MaxHeapSize") for a in p["jvmArgs"]), p["jvmArgs"]
    assert p["cwd"] == "/var/task" and p["handlerEnv"] == "example.Probe"
    assert p["execEnv"] == "AWS_Lambda_java17"
    assert p["trace"] and p["trace"].startswith("Root=1-"), p
    assert p["globalLogger"] is True
    assert f"stdout line from {p['requestId']}" in r.log and "stderr line" in r.log
    assert "Picked up JAVA_TOOL_OPTIONS: -Dlbx.prop=yes -Xmx200m" in r.log
    again = invoke(lam, name, {}).payload
    assert again["env"] == p["env"] and again["count"] == 2


def test_default_heap_follows_memory_size(daemon, lam, jars):
    name = unique("java-heap")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Handler="example.Probe",
                        Role="arn:aws:iam::123456789012:role/r", Code={"ZipFile": jars["probe"]}, MemorySize=1024)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    p = invoke(lam, name, {}).payload
    assert "-XX:MaxHeapSize=870m" in p["jvmArgs"], p["jvmArgs"]
    assert 700 <= p["maxHeapMb"] <= 870, p


def test_layer_jars_in_opt_java_lib(daemon, lam, tmp_path):
    lib_src = {"util/Greeter.java": "package util;\npublic class Greeter { public static String hi(String n) { return \"hi \" + n + \" from a layer\"; } }\n"}
    lib_jar = java_jar(tmp_path / "lib", lib_src)
    (tmp_path / "util.jar").write_bytes(lib_jar)
    layer = zip_tree({"java/lib/util.jar": lib_jar})
    arn = lam.publish_layer_version(LayerName=unique("java-layer"), Content={"ZipFile": layer},
                                    CompatibleRuntimes=[RUNTIME])["LayerVersionArn"]
    fn_src = {"example/UsesLayer.java": """
package example;
import com.amazonaws.services.lambda.runtime.*;
public class UsesLayer implements RequestHandler<String, String> {
  public String handleRequest(String n, Context c) { return util.Greeter.hi(n); }
}
"""}
    fn_jar = java_jar(tmp_path / "fn", fn_src, extra_classpath=[tmp_path / "util.jar"])
    # also a zip with the function's own lib/*.jar (the other documented layout)
    name = unique("java-layer-fn")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Handler="example.UsesLayer",
                        Role="arn:aws:iam::123456789012:role/r", Code={"ZipFile": fn_jar}, Layers=[arn])
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    assert invoke(lam, name, "ada").payload == "hi ada from a layer"

    name2 = unique("java-libdir")
    z = zip_tree({"lib/util.jar": lib_jar, "lib/fn.jar": fn_jar})
    lam.create_function(FunctionName=name2, Runtime=RUNTIME, Handler="example.UsesLayer",
                        Role="arn:aws:iam::123456789012:role/r", Code={"ZipFile": z})
    lam.get_waiter("function_active_v2").wait(FunctionName=name2)
    assert invoke(lam, name2, "bob").payload == "hi bob from a layer"


def test_missing_runtimes_say_what_to_install(daemon, jars, tmp_path):
    """CreateFunction with a runtime this host lacks: AWS's exception, the install hint, and
    nothing created — through the CLI and boto3."""
    pkg = tmp_path / "fn.jar"
    pkg.write_bytes(jars["seed"])
    name = unique("java-missing")
    rc, _, err = daemon.aws("create-function", "--function-name", name, "--runtime", "dotnet8",
                            "--handler", "x", "--role", "arn:aws:iam::123456789012:role/r",
                            "--zip-file", f"fileb://{pkg}")
    assert rc != 0 and "InvalidParameterValueException" in err, err
    assert "dotnet8 is not supported on this lambdabox host" in err and "no .NET runtime client" in err, err
    assert "java17" in err, "the message lists the runtimes available here"
    rc, _, _ = daemon.aws("get-function", "--function-name", name)
    assert rc != 0
    lam = daemon.client()
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.create_function(FunctionName=name, Runtime="go1.x", Handler="x", Role="arn:aws:iam::123456789012:role/r",
                            Code={"ZipFile": jars["seed"]})
    assert "provided.al2023" in str(e.value), "retired go1.x points to the Go path"
    out = daemon.lambdabox("runtimes")
    assert out.returncode == 0, out.stderr
    assert re.search(r"^java17\s+available\s+/\S+/bin/java \(17\.", out.stdout, re.M), out.stdout
    assert re.search(r"^dotnet8\s+missing\s", out.stdout, re.M), out.stdout
    assert re.search(r"^go1\.x\s+retired\s", out.stdout, re.M), out.stdout
