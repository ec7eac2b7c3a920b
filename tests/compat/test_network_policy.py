"""The VPC analog (issue 3, item 9): network `none` by default; a subnet the admin maps to
`host` in the config gives the host network, and security groups restrict TCP connect to
their ports (landlock). Driven with the AWS CLI v2 as the AWS docs write it."""

import json
import socket
import threading

import pytest

from conftest import Daemon, make_zip, unique

PROBE = """
import socket
def handler(event, context):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", event["port"]))
        return "connected " + s.recv(16).decode()
    except OSError as e:
        return "failed " + type(e).__name__
    finally:
        s.close()
"""


def listener():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.sendall(b"hello")
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    allowed, allowed_port = listener()
    other, other_port = listener()
    work = tmp_path_factory.mktemp("net")
    cfg = work / "config.toml"
    cfg.write_text(
        '[sandbox.subnets]\n"host-lan" = "host"\n"isolated" = "none"\n'
        f'[sandbox.security_groups]\n"sg-web" = [{allowed_port}]\n'
    )
    d = Daemon(work, extra_args=("--config", str(cfg))).start()
    yield d, allowed_port, other_port
    d.kill()
    allowed.close()
    other.close()


def create_probe(d, tmp_path):
    name = unique("net")
    (tmp_path / "f.zip").write_bytes(make_zip({"app.py": PROBE}))
    rc, _, err = d.aws("create-function", "--function-name", name, "--runtime", "python3.11", "--handler", "app.handler",
                       "--role", "arn:aws:iam::123456789012:role/x", "--zip-file", f"fileb://{tmp_path / 'f.zip'}")
    assert rc == 0, err
    return name


def invoke(d, name, port, tmp_path):
    out = tmp_path / "out.json"
    rc, res, err = d.aws("invoke", "--function-name", name, "--cli-binary-format", "raw-in-base64-out",
                         "--payload", json.dumps({"port": port}), str(out))
    assert rc == 0, err
    return json.loads(out.read_text())


def test_default_network_sees_no_host_service(net, tmp_path):
    d, allowed_port, _ = net
    name = create_probe(d, tmp_path)
    assert invoke(d, name, allowed_port, tmp_path).startswith("failed ConnectionRefused")


def test_host_subnet_with_security_group_allows_only_its_ports(net, tmp_path):
    d, allowed_port, other_port = net
    name = create_probe(d, tmp_path)
    rc, cfg, err = d.aws("update-function-configuration", "--function-name", name,
                         "--vpc-config", "SubnetIds=host-lan,SecurityGroupIds=sg-web")
    assert rc == 0, err
    assert cfg["VpcConfig"]["SubnetIds"] == ["host-lan"]
    assert invoke(d, name, allowed_port, tmp_path) == "connected hello"
    denied = invoke(d, name, other_port, tmp_path)
    assert denied.startswith("failed PermissionError"), denied
    # Back to the isolated subnet: the host is unreachable again (new environment).
    rc, _, err = d.aws("update-function-configuration", "--function-name", name,
                       "--vpc-config", "SubnetIds=isolated,SecurityGroupIds=[]")
    assert rc == 0, err
    assert invoke(d, name, allowed_port, tmp_path).startswith("failed ConnectionRefused")


def test_unknown_subnet_is_refused_and_changes_nothing(net, tmp_path):
    d, _, _ = net
    name = create_probe(d, tmp_path)
    rc, _, err = d.aws("update-function-configuration", "--function-name", name,
                       "--vpc-config", "SubnetIds=nope,SecurityGroupIds=sg-web")
    assert rc != 0 and "InvalidParameterValueException" in err and "host-lan" in err, err
    rc, cfg, _ = d.aws("get-function-configuration", "--function-name", name)
    assert "VpcConfig" not in cfg or not cfg["VpcConfig"].get("SubnetIds")
