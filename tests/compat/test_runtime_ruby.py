"""The Ruby runtimes (issue 23) on Debian 12's ruby 3.1, which serves no AWS runtime id by
itself: `ruby3.2` is available only through the explicit config mapping
`runtimes."ruby3.2" = "/usr/bin/ruby3.1"`, tested both ways here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import BIN
from invoke_support import CLIENT_CONTEXT, b64json, invoke, start_isolated_daemon, stop_daemon, unique
from runtime_support import cli_create, cli_invoke, frame, seed_checks, zip_tree

RUNTIME = "ruby3.2"
ROLE = "arn:aws:iam::123456789012:role/lambda-execution-role"

SEED = '''require 'json'

def lambda_handler(event:, context:)
  puts "event: #{event.to_json}"
  puts "request #{context.aws_request_id}"
  puts "remaining #{context.get_remaining_time_in_millis}"
  { statusCode: 200, body: JSON.generate({ message: 'OK' }) }
end
'''

MODULES = '''require 'logger'

module Shop
  class Orders
    LOGGER = Logger.new($stdout)

    def self.process(event:, context:)
      LOGGER.info("processing #{event['id']}")
      { 'total' => event['qty'] * event['price'], 'fn' => context.function_name }
    end
  end
end

def echo(event:, context:)
  event
end

def fail(event:, context:)
  raise ArgumentError, "bad input #{event['why']}" if event['why']
  sleep(event['sleep']) if event['sleep']
  'woke'
end

def missing_method(event:, context:)
  undefined_thing_here(event)
end

def probe(event:, context:)
  {
    'request_id' => context.aws_request_id, 'function_name' => context.function_name,
    'function_version' => context.function_version, 'arn' => context.invoked_function_arn,
    'memory' => context.memory_limit_in_mb, 'remaining' => context.get_remaining_time_in_millis,
    'log_group' => context.log_group_name, 'log_stream' => context.log_stream_name,
    'client_context' => context.client_context, 'identity' => context.identity,
    'ruby' => RUBY_VERSION, 'gem_path' => ENV['GEM_PATH'], 'cwd' => Dir.pwd,
    'trace' => ENV['_X_AMZN_TRACE_ID'], 'exec_env' => ENV['AWS_EXECUTION_ENV'],
  }
end
'''


def ruby_bin() -> str:
    p = shutil.which("ruby3.1") or shutil.which("ruby")
    assert p, "ruby is installed on every lambdabox test machine (tests/run installs Debian's ruby)"
    return p


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-ruby"),
                              extra_toml=f'[runtimes]\n"ruby3.2" = "{ruby_bin()}"\n')
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client(read_timeout=120)


def make(lam, files, handler, **kw):
    name = unique("rb")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Handler=handler, Role=ROLE,
                        Code={"ZipFile": zip_tree(files)}, **kw)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def test_without_the_mapping_ruby32_is_missing_and_says_what_to_install(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-ruby-unmapped"))
    try:
        rc, _, err = d.aws("create-function", "--function-name", unique("rb"), "--runtime", "ruby3.2",
                           "--handler", "f.h", "--role", ROLE, "--zip-file", "fileb:///dev/null")
        assert rc != 0
        # the CLI may refuse the empty zip itself; ask boto3 with a real package too
        lam = d.client()
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
            lam.create_function(FunctionName=unique("rb"), Runtime="ruby3.2", Handler="f.h", Role=ROLE,
                                Code={"ZipFile": zip_tree({"f.rb": SEED})})
        msg = str(e.value)
        assert "ruby3.2 is not supported on this lambdabox host" in msg, msg
        assert "ruby 3.1" in msg and 'runtimes."ruby3.2"' in msg, msg
        out = d.lambdabox("runtimes")
        assert out.returncode == 0
        assert re.search(r"^ruby3\.2\s+missing\s", out.stdout, re.M), out.stdout
    finally:
        stop_daemon(d)


def test_mapped_runtime_is_listed_with_its_real_version(daemon, tmp_path):
    cfg = daemon.workdir / "lambdabox.toml"
    r = subprocess.run([str(BIN), "runtimes", "--config", str(cfg)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    line = next(l for l in r.stdout.splitlines() if l.startswith("ruby3.2 "))
    assert "available" in line and "3.1." in line and "config" in line, line


def test_seed_handler_with_the_cli(daemon, tmp_path):
    name = unique("rb-seed")
    cli_create(daemon, tmp_path, name, RUNTIME, "lambda_function.lambda_handler",
               zip_tree({"lambda_function.rb": SEED}))
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "value"}')
    seed_checks(stdout, body, log, 'event: {"key":"value"}')
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "warm"}')
    seed_checks(stdout, body, log, 'event: {"key":"warm"}')
    assert "Init Duration" not in log


def test_module_class_method_and_logger_format(lam):
    name = make(lam, {"app.rb": MODULES}, "app.Shop::Orders.process")
    r = invoke(lam, name, {"id": "o-7", "qty": 3, "price": 2})
    assert r.function_error is None, r.raw
    assert r.payload == {"total": 6, "fn": name}
    rid = r.start_id()
    # aws_lambda_ric's LogFormatter: "I, [time #pid]  INFO <request id> -- : msg"
    assert re.search(rf"^I, \[\S+ #\d+\]  INFO {rid} -- : processing o-7$", r.log, re.M), r.log
    echo = make(lam, {"app.rb": MODULES}, "app.echo")
    assert invoke(lam, echo, [1, "two", {"3": None}]).payload == [1, "two", {"3": None}]


def test_error_shapes_timeout_and_critical_errors(lam):
    name = make(lam, {"app.rb": MODULES}, "app.fail", Timeout=2)
    r = invoke(lam, name, {"why": "x"})
    assert r.function_error == "Unhandled"
    assert r.payload["errorType"] == "Function<ArgumentError>"
    assert r.payload["errorMessage"] == "bad input x"
    assert r.payload["stackTrace"][0].startswith("/var/task/app.rb:"), r.payload
    assert not any("/var/runtime" in f for f in r.payload["stackTrace"]), r.payload
    assert "Error raised from handler method" in r.log, r.log
    r = invoke(lam, name, {"sleep": 5})
    assert r.payload["errorType"] == "Sandbox.Timedout" and "Task timed out after 2.00 seconds" in r.log
    assert invoke(lam, name, {}).payload == "woke"

    crit = make(lam, {"app.rb": MODULES}, "app.missing_method")
    r = invoke(lam, crit, {})
    assert r.payload["errorType"] == "Function<NoMethodError>", r.payload
    assert "undefined_thing_here" in r.payload["errorMessage"]
    assert "Critical exception from handler" in r.log
    # the environment ended after a critical error (as in AWS): the next invoke is a cold start
    r = invoke(lam, crit, {})
    assert "Init Duration" in r.log, r.log


def test_init_errors(lam):
    r = invoke(lam, make(lam, {"app.rb": "raise 'boom at load'\n"}, "app.h"), {})
    assert r.function_error == "Unhandled"
    assert r.payload["errorType"] == "Init<RuntimeError>" and r.payload["errorMessage"] == "boom at load"
    assert "Init error when loading handler app.h" in r.log, r.log
    r = invoke(lam, make(lam, {"app.rb": "def h(event:, context:) = 1\n"}, "nofile.h"), {})
    assert r.payload["errorType"] == "Init<LoadError>", r.payload
    assert "nofile" in r.payload["errorMessage"]
    r = invoke(lam, make(lam, {"app.rb": "def h(event:, context:\n"}, "app.h"), {})
    assert r.payload["errorType"] == "Init<SyntaxError>", r.payload
    r = invoke(lam, make(lam, {"app.rb": MODULES}, "badhandler"), {})
    assert r.payload["errorType"] == "Init<ArgumentError>", r.payload
    assert "must be of form FILENAME.METHOD" in r.payload["errorMessage"]


def test_context_fields(lam):
    name = make(lam, {"app.rb": MODULES}, "app.probe", MemorySize=384, Timeout=7)
    r = invoke(lam, name, {}, ClientContext=b64json(CLIENT_CONTEXT))
    p = r.payload
    assert p["request_id"] == r.start_id()
    assert p["function_name"] == name and p["function_version"] == "$LATEST"
    assert p["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert p["memory"] == "384" and 0 < p["remaining"] <= 7000
    assert p["log_group"] == f"/aws/lambda/{name}"
    assert re.match(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$", p["log_stream"])
    assert p["client_context"] == CLIENT_CONTEXT and p["identity"] is None
    assert p["ruby"].startswith("3.1.")  # the mapped interpreter really runs
    assert p["cwd"] == "/var/task" and p["exec_env"] == "AWS_Lambda_ruby3.2"
    assert p["trace"].startswith("Root=1-")
    assert p["gem_path"].split(":")[:2] == ["/var/task/vendor/bundle/ruby/3.2.0", "/opt/ruby/gems/3.2.0"]


def build_gem(work, name: str, body: str) -> "Path":
    """`gem build` of a one-file gem; returns the .gem path (no network)."""
    src = work / name
    (src / "lib").mkdir(parents=True)
    (src / "lib" / f"{name}.rb").write_text(body)
    (src / f"{name}.gemspec").write_text(
        f"Gem::Specification.new do |s|\n  s.name = '{name}'\n  s.version = '1.0.0'\n"
        f"  s.summary = 'test gem'\n  s.authors = ['lambdabox']\n  s.files = ['lib/{name}.rb']\nend\n")
    r = subprocess.run(["gem", "build", f"{name}.gemspec"], cwd=src, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return src / f"{name}-1.0.0.gem"


def gem_tree(gem, dest, abi: str) -> None:
    r = subprocess.run(["gem", "install", "--local", "--no-document", "--ignore-dependencies",
                        "--install-dir", str(dest / abi), str(gem)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def tree_files(root) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_gems_from_vendor_bundle_and_a_layer(lam, tmp_path):
    vendor = build_gem(tmp_path, "vendored", "module Vendored; def self.hi = 'vendored gem'; end\n")
    layered = build_gem(tmp_path, "layered", "module Layered; def self.hi = 'layer gem'; end\n")
    code = tmp_path / "code"
    gem_tree(vendor, code / "vendor/bundle/ruby", "3.2.0")
    (code / "app.rb").write_text(
        "require 'vendored'\nrequire 'layered'\nrequire 'shared_lib'\n"
        "def h(event:, context:) = [Vendored.hi, Layered.hi, SharedLib::NAME]\n")
    layer = tmp_path / "layer"
    gem_tree(layered, layer / "ruby/gems", "3.2.0")
    (layer / "ruby/lib").mkdir(parents=True)
    (layer / "ruby/lib/shared_lib.rb").write_text("module SharedLib; NAME = 'ruby/lib'; end\n")
    arn = lam.publish_layer_version(LayerName=unique("rb-layer"), Content={"ZipFile": zip_tree(tree_files(layer))},
                                    CompatibleRuntimes=[RUNTIME])["LayerVersionArn"]
    name = unique("rb-gems")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Handler="app.h", Role=ROLE,
                        Code={"ZipFile": zip_tree(tree_files(code))}, Layers=[arn])
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    r = invoke(lam, name, {})
    assert r.function_error is None, (r.raw, r.log)
    assert r.payload == ["vendored gem", "layer gem", "ruby/lib"]
