"""Packages with symbolic links (issue 23): code and layer zips keep their links, as on AWS; a
layer's `libfoo.so -> libfoo.so.1 -> libfoo.so.1.0.0` chain loads from /opt/lib into a Python C
extension; links are resolved only inside the sandbox, so one pointing outside the package (an
absolute target, `..`, the daemon's data dir) reaches nothing of the host.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys

import pytest

from invoke_support import invoke, start_isolated_daemon, stop_daemon, unique
from runtime_support import zip_tree

ROLE = "arn:aws:iam::123456789012:role/lambda-execution-role"
PY = "python3.11"  # Debian's: its headers (python3.11-dev) build the C extension

LIBFOO_C = "int foo_answer(void) { return 42; }\n"
EXT_C = r'''
#include <Python.h>
int foo_answer(void);
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(foo_answer()); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "libfoo's answer"}, {0}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "fooext", 0, -1, methods};
PyMODINIT_FUNC PyInit_fooext(void) { return PyModule_Create(&mod); }
'''


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-symlinks"))
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client(read_timeout=60)


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    """libfoo.so.1.0.0 (soname libfoo.so.1) and a C extension linked against it."""
    gcc = shutil.which("gcc")
    assert gcc, "gcc is on every lambdabox test machine"
    w = tmp_path_factory.mktemp("native")
    (w / "foo.c").write_text(LIBFOO_C)
    (w / "ext.c").write_text(EXT_C)
    run = lambda *a: subprocess.run(a, cwd=w, check=True, capture_output=True, text=True)  # noqa: E731
    run(gcc, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", "libfoo.so.1.0.0", "foo.c")
    (w / "libfoo.so.1").symlink_to("libfoo.so.1.0.0")
    (w / "libfoo.so").symlink_to("libfoo.so.1")
    inc = subprocess.run([PY, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    suffix = subprocess.run([PY, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    run(gcc, "-shared", "-fPIC", f"-I{inc}", "-o", f"fooext{suffix}", "ext.c", "-L.", "-lfoo")
    needed = subprocess.run(["readelf", "-d", f"fooext{suffix}"], cwd=w, capture_output=True, text=True).stdout
    assert "libfoo.so.1" in needed, needed
    return {"lib": (w / "libfoo.so.1.0.0").read_bytes(), "ext": (f"fooext{suffix}", (w / f"fooext{suffix}").read_bytes())}


def make(lam, files, links=None, handler="app.handler", layers=(), runtime=PY):
    name = unique("ln")
    lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
                        Code={"ZipFile": zip_tree(files, links)}, Layers=list(layers))
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def test_layer_shared_library_links_load_into_a_c_extension(lam, native):
    layer = zip_tree({"lib/libfoo.so.1.0.0": native["lib"]},
                     {"lib/libfoo.so.1": "libfoo.so.1.0.0", "lib/libfoo.so": "libfoo.so.1"})
    arn = lam.publish_layer_version(LayerName=unique("libfoo"), Content={"ZipFile": layer})["LayerVersionArn"]
    ext_name, ext = native["ext"]
    app = (
        "import ctypes, os, fooext\n"
        "def handler(event, context):\n"
        "    return {'ext': fooext.answer(),\n"
        "            'ctypes': ctypes.CDLL('libfoo.so').foo_answer(),\n"
        "            'links': [os.readlink('/opt/lib/libfoo.so'), os.readlink('/opt/lib/libfoo.so.1')],\n"
        "            'realpath': os.path.realpath('/opt/lib/libfoo.so')}\n"
    )
    name = make(lam, {"app.py": app, ext_name: ext}, layers=[arn])
    r = invoke(lam, name, {})
    assert r.function_error is None, (r.raw, r.log)
    assert r.payload == {"ext": 42, "ctypes": 42, "links": ["libfoo.so.1", "libfoo.so.1.0.0"],
                         "realpath": "/opt/lib/libfoo.so.1.0.0"}


def test_links_inside_the_code_package_and_in_merged_layers(lam):
    a = zip_tree({"python/realpkg/__init__.py": "NAME = 'through a link'\n"},
                 {"python/pkg": "realpkg"})
    b = zip_tree({"python/other.py": "X = 1\n"}, {"bin/tool": "/usr/bin/true"})
    arns = [lam.publish_layer_version(LayerName=unique("lnl"), Content={"ZipFile": z})["LayerVersionArn"]
            for z in (a, b)]
    app = (
        "import os, pkg, helpers\n"
        "def handler(event, context):\n"
        "    return [pkg.NAME, helpers.X, os.readlink('/opt/bin/tool'), os.path.islink('/var/task/helpers.py')]\n"
    )
    name = make(lam, {"app.py": app, "lib/impl.py": "X = 'code link'\n"}, {"helpers.py": "lib/impl.py"},
                layers=arns)
    r = invoke(lam, name, {})
    assert r.function_error is None, (r.raw, r.log)
    assert r.payload == ["through a link", "code link", "/usr/bin/true", True]


def test_links_out_of_the_package_reach_nothing_of_the_host(daemon, lam, tmp_path):
    secret = tmp_path / "host-secret.txt"
    marker = "host-secret-" + unique("m")
    secret.write_text(marker)
    data_dir = str(daemon.data_dir.resolve())
    links = {
        "passwd": "/etc/passwd",
        "shadow": "/etc/shadow",
        "up": "../../../../../../../etc/shadow",
        "dotdot": "../../../../../../..",
        "root": "/",
        "secret": str(secret),
        "datadir": data_dir,
        "db": data_dir + "/lambdabox.db",
    }
    app = (
        "import os\n"
        "def read(p):\n"
        "    try:\n"
        "        with open(p, 'rb') as f: return f.read().decode(errors='replace')\n"
        "    except OSError as e: return type(e).__name__\n"
        "def handler(event, context):\n"
        "    t = '/var/task/'\n"
        "    out = {k: read(t + k) for k in ('passwd', 'shadow', 'up', 'secret', 'db')}\n"
        "    out['datadir'] = os.path.exists(t + 'datadir')\n"
        "    out['root'] = sorted(os.listdir(t + 'root'))\n"
        "    out['dotdot'] = sorted(os.listdir(t + 'dotdot'))\n"
        "    try:\n"
        "        open(t + 'passwd', 'w').write('x')\n"
        "        out['write'] = 'written'\n"
        "    except OSError as e:\n"
        "        out['write'] = type(e).__name__\n"
        "    return out\n"
    )
    host_passwd = open("/etc/passwd").read()
    name = make(lam, {"app.py": app}, links)
    r = invoke(lam, name, {})
    assert r.function_error is None, (r.raw, r.log)
    p = r.payload
    assert "sbx_user" in p["passwd"] and p["passwd"] != host_passwd
    assert p["shadow"] == "FileNotFoundError" and p["up"] == "FileNotFoundError"
    assert p["secret"] == "FileNotFoundError" and marker not in r.raw.decode()
    assert p["db"] == "FileNotFoundError" and p["datadir"] is False
    assert p["root"] == p["dotdot"], "`..` climbs to the sandbox's root, not the host's"
    assert "work" not in p["root"] and "root" not in p["root"], p["root"]
    assert p["write"] in ("OSError", "PermissionError"), p
    assert secret.read_text() == marker and open("/etc/passwd").read() == host_passwd
    # the package round-trips with its links (GetFunction's code URL serves the stored zip)
    cfg = lam.get_function(FunctionName=name)
    assert cfg["Configuration"]["CodeSize"] > 0


def test_entries_below_a_link_are_refused_and_change_nothing(daemon, lam, tmp_path):
    target = tmp_path / "victim"
    target.mkdir()
    z = zip_tree({"app.py": "def handler(e, c): return 1\n", "lib/evil.py": "x = 1\n"},
                 {"lib": str(target)})
    # zip_tree writes files first; put the link first as an attacker would
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(z)) as src, zipfile.ZipFile(buf, "w") as dst:
        infos = sorted(src.infolist(), key=lambda i: i.filename != "lib")
        for info in infos:
            dst.writestr(info, src.read(info))
    name = unique("ln-evil")
    before = len(lam.list_functions()["Functions"])
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.create_function(FunctionName=name, Runtime=PY, Handler="app.handler", Role=ROLE,
                            Code={"ZipFile": buf.getvalue()})
    assert "below the symbolic link 'lib'" in str(e.value)
    assert len(lam.list_functions()["Functions"]) == before
    assert list(target.iterdir()) == []
    pkg = tmp_path / "evil.zip"
    pkg.write_bytes(buf.getvalue())
    rc, _, err = daemon.aws("create-function", "--function-name", name, "--runtime", PY,
                            "--handler", "app.handler", "--role", ROLE, "--zip-file", f"fileb://{pkg}")
    assert rc != 0 and "below the symbolic link" in err, err


def test_code_download_keeps_links(daemon, lam):
    z = zip_tree({"app.py": "def handler(e, c): return 1\n"}, {"link.py": "app.py"})
    name = make(lam, {"app.py": "def handler(e, c): return 1\n"}, {"link.py": "app.py"})
    loc = lam.get_function(FunctionName=name)["Code"]["Location"]
    import urllib.request
    with urllib.request.urlopen(loc) as resp:
        got = resp.read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(z).digest()
    assert base64.b64encode(hashlib.sha256(z).digest()).decode() == \
        lam.get_function_configuration(FunctionName=name)["CodeSha256"]
    assert sys.version_info >= (3, 8)
