"""Go on `provided.al2023`, the AWS docs' Go path (issue 23): a `bootstrap` built here with
Debian's Go toolchain, statically (CGO_ENABLED=0), speaking the Runtime API through the
standard library only; and the architecture check (a host runs only its own architecture).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess

import pytest

from invoke_support import invoke, start_isolated_daemon, stop_daemon, unique
from runtime_support import cli_create, cli_invoke, seed_checks, zip_tree

ROLE = "arn:aws:iam::123456789012:role/lambda-execution-role"

MAIN_GO = r'''package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(api + "next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(1)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		deadline, _ := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
		var event map[string]interface{}
		_ = json.Unmarshal(body, &event)
		fmt.Printf("event: %s\n", body)
		fmt.Printf("request %s\n", id)
		fmt.Printf("remaining %d\n", deadline-time.Now().UnixMilli())
		if why, ok := event["fail"]; ok {
			e, _ := json.Marshal(map[string]string{"errorMessage": fmt.Sprint(why), "errorType": "GoError"})
			r, _ := http.Post(api+id+"/error", "application/json", bytes.NewReader(e))
			r.Body.Close()
			continue
		}
		if s, ok := event["sleep"].(float64); ok {
			time.Sleep(time.Duration(s) * time.Second)
		}
		data, _ := os.ReadFile("/var/task/data.txt")
		out, _ := json.Marshal(map[string]interface{}{
			"statusCode": 200,
			"body":       `{"message": "OK"}`,
			"data":       string(data),
			"fn":         os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		})
		r, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(out))
		if err != nil {
			os.Exit(1)
		}
		r.Body.Close()
	}
}
'''


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory) -> bytes:
    go = shutil.which("go")
    assert go, "Debian's golang is installed on every lambdabox test machine (tests/run)"
    w = tmp_path_factory.mktemp("go")
    (w / "main.go").write_text(MAIN_GO)
    env = dict(os.environ, CGO_ENABLED="0", GOOS="linux", GOCACHE=str(w / "cache"),
               GOPATH=str(w / "gopath"), GO111MODULE="off", GOFLAGS="")
    r = subprocess.run([go, "build", "-o", "bootstrap", "main.go"], cwd=w, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    data = (w / "bootstrap").read_bytes()
    assert data[:4] == b"\x7fELF"
    assert b"/lib64/ld-linux" not in data and b"/lib/ld-linux" not in data, "not static"
    return data


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-go"))
    yield d
    stop_daemon(d)


def test_go_bootstrap_with_the_cli(daemon, bootstrap, tmp_path):
    name = unique("go")
    z = zip_tree({"bootstrap": bootstrap, "data.txt": "packaged"}, executables=("bootstrap",))
    cfg = cli_create(daemon, tmp_path, name, "provided.al2023", "bootstrap", z, "--timeout", "2")
    assert cfg["Architectures"] == ["x86_64"] if platform.machine() == "x86_64" else True
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "value"}')
    seed_checks(stdout, body, log, 'event: {"key": "value"}')
    assert json.loads(body)["data"] == "packaged" and json.loads(body)["fn"] == name
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"fail": "go broke"}')
    assert stdout["FunctionError"] == "Unhandled"
    assert json.loads(body) == {"errorMessage": "go broke", "errorType": "GoError"}
    stdout, body, log = cli_invoke(daemon, tmp_path, name, '{"sleep": 5}')
    assert json.loads(body)["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in log


def test_go_bootstrap_from_a_layer(daemon, bootstrap):
    lam = daemon.client(read_timeout=60)
    layer = zip_tree({"bootstrap": bootstrap}, executables=("bootstrap",))
    arn = lam.publish_layer_version(LayerName=unique("go-rt"), Content={"ZipFile": layer},
                                    CompatibleRuntimes=["provided.al2023"])["LayerVersionArn"]
    name = unique("go-layer")
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Handler="unused", Role=ROLE,
                        Code={"ZipFile": zip_tree({"data.txt": "from the function"})}, Layers=[arn])
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    r = invoke(lam, name, {"k": 1})
    assert r.function_error is None, r.raw
    assert r.payload["data"] == "from the function"


def test_architecture_other_than_the_hosts_is_refused(daemon, bootstrap, tmp_path):
    host = {"x86_64": "x86_64", "aarch64": "arm64"}[platform.machine()]
    other = "arm64" if host == "x86_64" else "x86_64"
    z = zip_tree({"bootstrap": bootstrap}, executables=("bootstrap",))
    pkg = tmp_path / "go.zip"
    pkg.write_bytes(z)
    name = unique("go-arch")
    rc, _, err = daemon.aws("create-function", "--function-name", name, "--runtime", "provided.al2023",
                            "--handler", "bootstrap", "--role", ROLE, "--zip-file", f"fileb://{pkg}",
                            "--architectures", other)
    assert rc != 0 and "InvalidParameterValueException" in err, err
    assert other in err, err
    rc, _, _ = daemon.aws("get-function", "--function-name", name)
    assert rc != 0, "a refused create left a function behind"
    lam = daemon.client()
    out = lam.create_function(FunctionName=name, Runtime="provided.al2023", Handler="bootstrap", Role=ROLE,
                              Code={"ZipFile": z}, Architectures=[host])
    assert out["Architectures"] == [host]
