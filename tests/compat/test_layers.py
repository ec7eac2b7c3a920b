"""Layers (issue 5): PublishLayerVersion, ListLayers, ListLayerVersions, GetLayerVersion,
GetLayerVersionByArn and DeleteLayerVersion through boto3 and the AWS CLI, and functions that
run with them: a Python dependency layer built from a real PyPI package, `awslambdaric`
shipped in a layer as a custom runtime, a Node layer with `node_modules`, the 5-layer limit,
conflicting files resolved in order, the runtime paths (/opt/bin, /opt/lib), versions that
keep their layers when $LATEST changes, a deleted layer version that keeps working (even
after the extraction cache is wiped), and every error case with its AWS error type."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import FIXED_ZIP_TIME, make_zip, unique

ROLE = "arn:aws:iam::123456789012:role/x"
DEBIAN_PYTHON = "/usr/bin/python3.11"


def zip_tree(root: Path) -> bytes:
    """A zip of every file under `root`, keeping the executable bits."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(str(path.relative_to(root)), date_time=FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def zip_files(files: dict[str, str], executables: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name in executables else 0o644) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def error_code(call, *a, **kw):
    with pytest.raises(ClientError) as e:
        call(*a, **kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def publish(lam, name, files_or_zip, **kw):
    content = files_or_zip if isinstance(files_or_zip, bytes) else make_zip(files_or_zip)
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": content}, **kw)


def create(lam, files, runtime="python3.11", handler="app.handler", layers=(), **kw):
    name = unique("lay")
    lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
                        Code={"ZipFile": zip_files(files, kw.pop("executables", ()))},
                        Layers=list(layers), **kw)
    return name


def invoke(lam, name, qualifier=None, payload=b"{}"):
    kw = {"Qualifier": qualifier} if qualifier else {}
    r = lam.invoke(FunctionName=name, Payload=payload, LogType="Tail", **kw)
    body = r["Payload"].read()
    assert "FunctionError" not in r, body
    return json.loads(body)


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client(read_timeout=120)


# -- the layer API ------------------------------------------------------------------------------


def test_publish_get_list_and_delete(lam, daemon):
    name = unique("deps")
    v1 = publish(lam, name, {"python/m.py": "X = 1\n"}, Description="first", CompatibleRuntimes=["python3.11"],
                 CompatibleArchitectures=["x86_64"], LicenseInfo="MIT")
    assert v1["Version"] == 1
    assert v1["LayerArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}"
    assert v1["LayerVersionArn"] == v1["LayerArn"] + ":1"
    assert (v1["Description"], v1["LicenseInfo"]) == ("first", "MIT")
    assert v1["CompatibleRuntimes"] == ["python3.11"] and v1["CompatibleArchitectures"] == ["x86_64"]
    assert v1["Content"]["CodeSize"] > 0 and v1["Content"]["CodeSha256"]
    # The download link serves the archive itself.
    import urllib.request
    with urllib.request.urlopen(v1["Content"]["Location"]) as r:
        assert zipfile.ZipFile(io.BytesIO(r.read())).read("python/m.py") == b"X = 1\n"
    v2 = publish(lam, name, {"python/m.py": "X = 2\n"}, CompatibleRuntimes=["nodejs20.x"])
    assert v2["Version"] == 2
    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["Content"]["CodeSha256"] == v1["Content"]["CodeSha256"]
    assert lam.get_layer_version_by_arn(Arn=v2["LayerVersionArn"])["Version"] == 2
    assert lam.get_layer_version(LayerName=v1["LayerArn"], VersionNumber=2)["Version"] == 2
    versions = [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]]
    assert versions == [2, 1]
    py = lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.11")["LayerVersions"]
    assert [v["Version"] for v in py] == [1]
    layers = {l["LayerName"]: l for l in lam.list_layers()["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2
    layers = {l["LayerName"]: l for l in lam.list_layers(CompatibleRuntime="python3.11")["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 1
    paged = [v["Version"] for p in lam.get_paginator("list_layer_versions").paginate(
        LayerName=name, PaginationConfig={"PageSize": 1}) for v in p["LayerVersions"]]
    assert paged == [2, 1]

    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    lam.delete_layer_version(LayerName=name, VersionNumber=2)  # idempotent
    assert error_code(lam.get_layer_version, LayerName=name, VersionNumber=2)[0] == "ResourceNotFoundException"
    # Numbers are never reused.
    assert publish(lam, name, {"python/m.py": "X = 3\n"})["Version"] == 3
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [3, 1]

    # The AWS CLI sees the same.
    rc, out, err = daemon.aws("list-layer-versions", "--layer-name", name)
    assert rc == 0, err
    assert [v["Version"] for v in out["LayerVersions"]] == [3, 1]


def test_layer_errors_change_nothing(lam):
    name = unique("bad")
    cases = [
        (dict(LayerName="bad name", Content={"ZipFile": make_zip({"a": "b"})}), "ValidationException"),
        (dict(LayerName=name, Content={"ZipFile": make_zip({"a": "b"})}, CompatibleRuntimes=["cobol"]),
         "ValidationException"),
        (dict(LayerName=name, Content={"ZipFile": make_zip({"a": "b"})}, CompatibleArchitectures=["mips"]),
         "ValidationException"),
        (dict(LayerName=name, Content={"ZipFile": b"not a zip"}), "InvalidParameterValueException"),
        (dict(LayerName=name, Content={"ZipFile": make_zip({"a": "b"})}, Description="d" * 300),
         "ValidationException"),
        (dict(LayerName=name, Content={"S3Bucket": "bucket", "S3Key": "k"}), "InvalidParameterValueException"),
    ]
    for kw, want in cases:
        got, msg = error_code(lam.publish_layer_version, **kw)
        assert got == want, (kw, got, msg)
    assert lam.list_layer_versions(LayerName=name)["LayerVersions"] == []
    assert error_code(lam.get_layer_version, LayerName=name, VersionNumber=1)[0] == "ResourceNotFoundException"
    assert error_code(lam.get_layer_version_by_arn,
                      Arn="arn:aws:lambda:us-east-1:000000000000:layer:nope:1")[0] == "ResourceNotFoundException"
    assert error_code(lam.list_layers, CompatibleRuntime="cobol")[0] == "ValidationException"


def test_function_layer_errors(lam):
    ok = publish(lam, unique("py"), {"python/m.py": "X = 1\n"}, CompatibleRuntimes=["python3.11"],
                 CompatibleArchitectures=["x86_64"])
    other = publish(lam, unique("any"), {"x": "y"})
    arm = publish(lam, unique("arm"), {"x": "y"}, CompatibleArchitectures=["arm64"])
    arn = ok["LayerVersionArn"]
    missing = ok["LayerArn"] + ":99"
    files = {"app.py": "def handler(e, c):\n    return 1\n"}
    cases = [
        (dict(layers=[missing]), "InvalidParameterValueException", "does not exist"),
        (dict(layers=["arn:aws:lambda:eu-west-1:000000000000:layer:x:1"]), "InvalidParameterValueException", ""),
        (dict(layers=["not-an-arn"]), "ValidationException", ""),
        (dict(layers=[arn], runtime="nodejs20.x", handler="index.handler"), "InvalidParameterValueException",
         "not compatible with runtime nodejs20.x"),
        (dict(layers=[arm["LayerVersionArn"]]), "InvalidParameterValueException", "architecture x86_64"),
        (dict(layers=[arn, ok["LayerArn"] + ":1"]), "InvalidParameterValueException", "more than once"),
        (dict(layers=[other["LayerVersionArn"]] * 6), "InvalidParameterValueException", "more than 5"),
    ]
    for kw, want, text in cases:
        got, msg = error_code(create, lam, files, **kw)
        assert got == want and text in msg, (kw, got, msg)
    name = create(lam, files)
    got, _ = error_code(lam.update_function_configuration, FunctionName=name, Layers=[missing])
    assert got == "InvalidParameterValueException"
    assert "Layers" not in lam.get_function_configuration(FunctionName=name)


def test_code_plus_layers_over_250_mb_is_refused(lam):
    # Two layers of 130 MB of zeros each (they compress to ~130 KB) exceed 250 MB together.
    big = io.BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("zeros", date_time=FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as f:
            chunk = bytes(1 << 20)
            for _ in range(130):
                f.write(chunk)
    data = big.getvalue()
    a = publish(lam, unique("big"), data)
    b = publish(lam, unique("big"), data)
    files = {"app.py": "def handler(e, c):\n    return 1\n"}
    create(lam, files, layers=[a["LayerVersionArn"]])  # one fits
    got, msg = error_code(create, lam, files, layers=[a["LayerVersionArn"], b["LayerVersionArn"]])
    assert got == "InvalidParameterValueException" and "262144000" in msg, msg


# -- functions running with layers --------------------------------------------------------------


def pip_layer(tmp_path: Path, *packages: str, subdir: str = "python") -> bytes:
    target = tmp_path / "layer" / subdir
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--target", str(target),
                    *packages], check=True, capture_output=True, timeout=300)
    return zip_tree(tmp_path / "layer")


def test_python_dependency_layer_from_pypi(lam, daemon, tmp_path):
    """The AWS docs' flow: a `python-requests` layer, attached with the CLI."""
    content = pip_layer(tmp_path, "requests")
    layer = f"python-requests-{unique('x')}"
    v = publish(lam, layer, content, CompatibleRuntimes=["python3.11"], Description="requests from PyPI")
    app = ("import requests\n"
           "def handler(event, context):\n"
           "    return {'version': requests.__version__, 'file': requests.__file__}\n")
    name = create(lam, {"app.py": app})
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert r.get("FunctionError") == "Unhandled"  # no layer yet: ImportError
    rc, out, err = daemon.aws("update-function-configuration", "--function-name", name,
                              "--layers", v["LayerVersionArn"])
    assert rc == 0, err
    assert out["Layers"] == [{"Arn": v["LayerVersionArn"], "CodeSize": len(content)}]
    got = invoke(lam, name)
    assert got["file"].startswith("/opt/python/requests/"), got
    assert got["version"]  # a real version string from the package
    # The site-packages layout works too.
    layer2 = unique("sp")
    sp = {"python/lib/python3.11/site-packages/sp_mod.py": "WHERE = 'site-packages'\n"}
    v2 = publish(lam, layer2, sp)
    app2 = "import sp_mod\ndef handler(e, c):\n    return {'where': sp_mod.WHERE, 'file': sp_mod.__file__}\n"
    name2 = create(lam, {"app.py": app2}, layers=[v2["LayerVersionArn"]])
    assert invoke(lam, name2) == {"where": "site-packages",
                                  "file": "/opt/python/lib/python3.11/site-packages/sp_mod.py"}


def test_awslambdaric_layer_as_custom_runtime(lam, tmp_path):
    """A `provided.al2023` function whose runtime (awslambdaric + /opt/bootstrap) is a layer."""
    assert os.path.exists(DEBIAN_PYTHON)
    content_root = tmp_path / "layer"
    subprocess.run([DEBIAN_PYTHON, "-c", "import sys; assert sys.version_info[:2] == (3, 11)"], check=True)
    from test_invoke_clients import awslambdaric_files
    for rel, data in awslambdaric_files().items():
        p = content_root / "python" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    boot = content_root / "bootstrap"
    boot.write_text(f"#!/bin/sh\nexport PYTHONPATH=/opt/python:/var/task\nexec {DEBIAN_PYTHON} -m awslambdaric \"$_HANDLER\"\n")
    boot.chmod(0o755)
    v = publish(lam, unique("ric"), zip_tree(content_root), CompatibleRuntimes=["provided.al2023"])
    app = ("import awslambdaric\n"
           "def handler(event, context):\n"
           "    return {'event': event, 'ric': awslambdaric.__file__, 'fn': context.function_name}\n")
    name = create(lam, {"app.py": app}, runtime="provided.al2023", handler="app.handler",
                  layers=[v["LayerVersionArn"]], MemorySize=256, Timeout=10)
    got = invoke(lam, name, payload=b'{"k": "v"}')
    assert got == {"event": {"k": "v"}, "ric": "/opt/python/awslambdaric/__init__.py", "fn": name}


def test_node_layer_with_node_modules(lam, tmp_path):
    npm = shutil.which("npm")
    assert npm, "npm is needed to build the node layer (Debian package npm)"
    root = tmp_path / "layer" / "nodejs"
    root.mkdir(parents=True)
    subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(root), "uuid@9"],
                   check=True, capture_output=True, timeout=300)
    assert (root / "node_modules" / "uuid" / "package.json").exists()
    v = publish(lam, unique("node"), zip_tree(tmp_path / "layer"), CompatibleRuntimes=["nodejs20.x"])
    app = ("const { v4, validate } = require('uuid');\n"
           "exports.handler = async () => { const id = v4();\n"
           "  return { id, valid: validate(id), from: require.resolve('uuid') }; };\n")
    name = create(lam, {"index.js": app}, runtime="nodejs20.x", handler="index.handler",
                  layers=[v["LayerVersionArn"]])
    got = invoke(lam, name)
    assert got["valid"] is True and got["from"].startswith("/opt/nodejs/node_modules/uuid/"), got


PROBE = r'''
import json, os, subprocess
def handler(event, context):
    out = {}
    for root, _, files in os.walk("/opt"):
        for f in files:
            p = os.path.join(root, f)
            out[p] = open(p).read()
    tool = subprocess.run(["layer-tool"], capture_output=True, text=True).stdout
    return {"files": out, "tool": tool, "ld": os.environ.get("LD_LIBRARY_PATH", ""),
            "path": os.environ.get("PATH", "")}
'''


def test_five_layers_merge_in_order(lam):
    arns = []
    for i in range(5):
        files = {"conflict.txt": f"layer {i}", f"only{i}.txt": str(i)}
        if i == 1:
            files["bin/layer-tool"] = "#!/bin/sh\necho tool from layer 1\n"
        if i == 3:
            files["bin/layer-tool"] = "#!/bin/sh\necho tool from layer 3\n"
        if i == 4:
            files["lib/libdemo.txt"] = "lib"
        arns.append(publish(lam, unique(f"l{i}"), zip_files(files, executables=("bin/layer-tool",)))["LayerVersionArn"])
    name = create(lam, {"app.py": PROBE}, layers=arns)
    got = invoke(lam, name)
    files = got["files"]
    assert files["/opt/conflict.txt"] == "layer 4"  # the last layer wins
    assert all(files[f"/opt/only{i}.txt"] == str(i) for i in range(5))
    assert got["tool"] == "tool from layer 3\n"  # /opt/bin is on PATH, layer 3 over layer 1
    assert files["/opt/lib/libdemo.txt"] == "lib"
    assert "/opt/lib" in got["ld"].split(":") and "/opt/bin" in got["path"].split(":")
    cfg = lam.get_function_configuration(FunctionName=name)
    assert [l["Arn"] for l in cfg["Layers"]] == arns
    # Reversed order, reversed winner.
    lam.update_function_configuration(FunctionName=name, Layers=list(reversed(arns)))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert invoke(lam, name)["files"]["/opt/conflict.txt"] == "layer 0"
    # /opt is read-only.
    writer = "def handler(e, c):\n    open('/opt/x', 'w')\n"
    w = create(lam, {"app.py": writer}, layers=arns[:1])
    r = lam.invoke(FunctionName=w, Payload=b"{}")
    assert r.get("FunctionError") == "Unhandled"
    assert "Read-only file system" in r["Payload"].read().decode()


def test_versions_keep_their_layers(lam):
    layer = unique("ver")
    v1 = publish(lam, layer, {"python/which.py": "N = 1\n"})
    v2 = publish(lam, layer, {"python/which.py": "N = 2\n"})
    app = "import which\ndef handler(e, c):\n    return which.N\n"
    name = create(lam, {"app.py": app}, layers=[v1["LayerVersionArn"]])
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_configuration(FunctionName=name, Layers=[v2["LayerVersionArn"]])
    assert invoke(lam, name) == 2
    assert invoke(lam, name, "1") == 1
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["Layers"][0]["Arn"] == \
        v1["LayerVersionArn"]


def test_deleted_layer_keeps_working(lam, daemon):
    layer = unique("gone")
    v = publish(lam, layer, {"python/gone_mod.py": "V = 'still here'\n"})
    app = "import gone_mod\ndef handler(e, c):\n    return gone_mod.V\n"
    name = create(lam, {"app.py": app}, layers=[v["LayerVersionArn"]])
    assert invoke(lam, name) == "still here"
    lam.delete_layer_version(LayerName=layer, VersionNumber=1)
    assert error_code(lam.get_layer_version, LayerName=layer, VersionNumber=1)[0] == "ResourceNotFoundException"
    # A new function cannot pick the deleted version ...
    got, _ = error_code(create, lam, {"app.py": app}, layers=[v["LayerVersionArn"]])
    assert got == "InvalidParameterValueException"
    # ... but the function that has it keeps it through config changes and a cold start from
    # a wiped extraction cache (rebuilt from the archive kept in SQLite).
    lam.update_function_configuration(FunctionName=name, MemorySize=256)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    cache = daemon.data_dir / "cache" / "code"
    for entry in cache.iterdir():
        shutil.rmtree(entry, ignore_errors=True)
    assert invoke(lam, name) == "still here"
    assert lam.get_function_configuration(FunctionName=name)["Layers"][0]["Arn"] == v["LayerVersionArn"]
    # Once no function uses it, its archive is freed.
    before = lam.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    lam.delete_function(FunctionName=name)
    after = lam.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    assert before - after >= v["Content"]["CodeSize"]


def test_unused_extractions_are_evicted_and_rebuilt(tmp_path):
    """With short idle times, the environment is reaped, its code and layers leave the
    extraction cache, and the next invoke rebuilds them from SQLite."""
    from invoke_support import start_isolated_daemon, stop_daemon
    import time
    d = start_isolated_daemon(tmp_path, extra_toml="[engine]\nidle_timeout_secs = 1\ncode_cache_idle_secs = 1\n")
    try:
        lam = d.client()
        arns = [publish(lam, unique("ev"), {f"python/ev{i}.py": f"N = {i}\n"})["LayerVersionArn"] for i in range(2)]
        app = "import ev0, ev1\ndef handler(e, c):\n    return ev0.N + ev1.N\n"
        name = create(lam, {"app.py": app}, layers=arns)
        assert invoke(lam, name) == 1
        cache = d.data_dir / "cache" / "code"
        entries = {p.name for p in cache.iterdir()}
        assert len(entries) == 4, entries  # code, two layers, the merged /opt
        assert any(e.startswith("opt-") for e in entries)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(cache.iterdir()):
            time.sleep(0.5)
        assert not any(cache.iterdir()), sorted(p.name for p in cache.iterdir())
        assert invoke(lam, name) == 1
        assert len(list(cache.iterdir())) == 4
    finally:
        stop_daemon(d)


def test_layers_with_the_cli(daemon, tmp_path):
    """publish-layer-version, get-layer-version-by-arn, list-layers and delete-layer-version
    as the AWS docs write them (CLI v2), and create-function --layers."""
    z = tmp_path / "layer.zip"
    z.write_bytes(make_zip({"python/cli_mod.py": "WHO = 'cli layer'\n"}))
    name = unique("cli-layer")
    rc, out, err = daemon.aws("publish-layer-version", "--layer-name", name, "--description", "from the CLI",
                              "--zip-file", f"fileb://{z}", "--compatible-runtimes", "python3.11", "python3.12",
                              "--compatible-architectures", "x86_64", "--license-info", "MIT")
    assert rc == 0, err
    arn = out["LayerVersionArn"]
    assert out["Version"] == 1 and out["CompatibleRuntimes"] == ["python3.11", "python3.12"]
    rc, out, err = daemon.aws("get-layer-version-by-arn", "--arn", arn)
    assert rc == 0, err
    assert out["Description"] == "from the CLI" and out["LicenseInfo"] == "MIT"
    rc, out, err = daemon.aws("list-layers", "--compatible-runtime", "python3.12")
    assert rc == 0, err
    assert name in [l["LayerName"] for l in out["Layers"]]
    f = tmp_path / "f.zip"
    f.write_bytes(make_zip({"app.py": "import cli_mod\ndef handler(e, c):\n    return cli_mod.WHO\n"}))
    fn = unique("cli-fn")
    rc, out, err = daemon.aws("create-function", "--function-name", fn, "--runtime", "python3.11", "--handler",
                              "app.handler", "--role", ROLE, "--zip-file", f"fileb://{f}", "--layers", arn)
    assert rc == 0, err
    assert out["Layers"][0]["Arn"] == arn
    rc, out, err = daemon.aws("invoke", "--function-name", fn, str(tmp_path / "out.json"))
    assert rc == 0, err
    assert json.loads((tmp_path / "out.json").read_text()) == "cli layer"
    rc, _, err = daemon.aws("delete-layer-version", "--layer-name", name, "--version-number", "1")
    assert rc == 0, err
    rc, _, err = daemon.aws("get-layer-version", "--layer-name", name, "--version-number", "1")
    assert rc != 0 and "ResourceNotFoundException" in err
