"""Internet-only networking (issue 19 item 5), AWS's default for a function without VpcConfig:
outbound through NAT, never the host, the LAN or a private range; DNS answered through the
daemon. VpcConfig subnets map to named networks (a LAN allowance) and security groups to
egress rules.

Every address used lives on this machine: the test makes a network namespace standing in for
"the internet" (198.51.100.10, a documentation address routed from the host through a veth at
203.0.113.1/30, with an HTTP server on ports 80 and 8080 and a DNS server) and one standing in for
the LAN (10.251.77.10/24 behind 10.251.77.1). Needs root (namespaces, veths, nftables)."""

import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import make_zip, unique
from invoke_support import cgroup_dirs, start_isolated_daemon, stop_daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network namespaces and veths")

SFX = str(os.getpid() % 10000)
INET_NS, LAN_NS = f"lbt-inet-{SFX}", f"lbt-lan-{SFX}"
INET_IF, LAN_IF = f"lbtI{SFX}", f"lbtL{SFX}"
INET_HOST, INET_PEER, PUBLIC = "203.0.113.1", "203.0.113.2", "198.51.100.10"
# the ranges this test puts on the host: it refuses to run where the host already uses them
# (the development machine's own uplink is in 192.0.2.0/24, for example)
TEST_NETS = ("203.0.113.0/30", "198.51.100.10/32", "10.251.77.0/24")
LAN_HOST, LAN_ADDR = "10.251.77.1", "10.251.77.10"
NAME = "internet.test"

HTTP_SERVER = r"""
import http.server, sys
addr, port, body = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((addr, port), H).serve_forever()
"""

# Answers A queries for one name with one address, NOERROR/empty for its other types and
# NXDOMAIN for every other name.
DNS_SERVER = r"""
import socket, struct, sys
addr, name, answer = sys.argv[1], sys.argv[2].lower().rstrip("."), socket.inet_aton(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
while True:
    q, client = s.recvfrom(4096)
    if len(q) < 12:
        continue
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        n = q[i]; labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace")); i += 1 + n
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
    question = q[12:i + 5]
    asked = ".".join(labels).lower()
    if asked == name and qtype == 1:
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + answer
        head = q[:2] + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
    else:
        rr = b""
        head = q[:2] + struct.pack("!HHHHH", 0x8180 if asked == name else 0x8183, 1, 0, 0, 0)
    s.sendto(head + question + rr, client)
"""

PROBE = r"""
import socket
def get(host, port):
    try:
        s = socket.create_connection((host, port), timeout=3)
    except OSError as e:
        return "err:" + type(e).__name__
    try:
        s.settimeout(3)
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return "ok:" + data.split(b"\r\n\r\n", 1)[-1].decode()
    except OSError as e:
        return "err:" + type(e).__name__
    finally:
        s.close()

def handler(event, context):
    out = {}
    for key, host, port in event["targets"]:
        out[key] = get(host, port)
    try:
        out["dns"] = socket.gethostbyname(event["name"])
    except OSError as e:
        out["dns"] = "err:" + type(e).__name__
    try:
        socket.gethostbyname("nowhere.invalid")
        out["nxdomain"] = "resolved"
    except OSError as e:
        out["nxdomain"] = "err:" + type(e).__name__
    return out
"""


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r


def ours() -> set:
    """The daemon-made environment links on the host now."""
    return {n for n in os.listdir("/sys/class/net") if n[:3] in ("lbx", "lbv") and n[3:].isdigit()}


def own_links(parent: str) -> set:
    """The host ends of the veths of the environments under cgroup parent `parent` (one
    daemon's): other daemons of the suite (the other pytest worker) make links of their own,
    so "every lbx/lbv link" is not this daemon's. Found from each environment's netns: its
    `eth0@ifN` names the host end's ifindex."""
    by_index = {}
    for n in ours():
        try:
            by_index[int(Path(f"/sys/class/net/{n}/ifindex").read_text())] = n
        except (OSError, ValueError):
            pass
    found = set()
    for base in cgroup_dirs(parent):
        for g in base.glob("lbx-*"):
            try:
                pids = (g / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for pid in pids[:1]:
                r = sh("nsenter", "-t", pid, "-n", "ip", "-o", "link", "show", check=False)
                for word in r.stdout.split():
                    if "@if" in word:
                        peer = word.rstrip(":").rsplit("@if", 1)[1]
                        if peer.isdigit() and int(peer) in by_index:
                            found.add(by_index[int(peer)])
    return found


def own_chains(links: set) -> set:
    """The nftables chains of the filtered (VPC) environments among `links` (named by slot)."""
    return {f"env-{n[3:]}" for n in links if n.startswith("lbv")}


def wait_for(pred, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def teardown_topology(procs):
    for p in procs:
        p.kill()
        p.wait(timeout=10)
    sh("ip", "route", "del", f"{PUBLIC}/32", check=False)
    for ns in (INET_NS, LAN_NS):
        sh("ip", "netns", "del", ns, check=False)
    for link in (INET_IF, LAN_IF):
        sh("ip", "link", "del", link, check=False)


def host_nets_in_use():
    """Every IPv4 route destination and address on the host now."""
    out = []
    for cmd in (["ip", "-j", "-4", "route", "show", "table", "all"], ["ip", "-j", "-4", "addr"]):
        for item in json.loads(sh(*cmd).stdout or "[]"):
            if "dst" in item and item["dst"] not in ("default", ""):
                try:
                    out.append(ipaddress.ip_network(item["dst"], strict=False))
                except ValueError:
                    pass
            for a in item.get("addr_info", []):
                out.append(ipaddress.ip_network(f"{a['local']}/{a['prefixlen']}", strict=False))
    return out


@pytest.fixture(scope="module")
def topology():
    procs = []
    teardown_topology([])
    used = host_nets_in_use()
    for net in map(ipaddress.ip_network, TEST_NETS):
        clash = [u for u in used if u.overlaps(net) and u.prefixlen > 0]
        assert not clash, f"this host already uses {clash} (overlaps the test's {net}): refusing to add routes"
    try:
        for ns, host_if, host_cidr, peer_cidr in (
                (INET_NS, INET_IF, f"{INET_HOST}/30", f"{INET_PEER}/30"),
                (LAN_NS, LAN_IF, f"{LAN_HOST}/24", f"{LAN_ADDR}/24")):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "addr", "add", host_cidr, "dev", host_if)
            sh("ip", "link", "set", host_if, "up")
            sh("ip", "-n", ns, "addr", "add", peer_cidr, "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", INET_NS, "addr", "add", f"{PUBLIC}/32", "dev", "lo")
        sh("ip", "-n", INET_NS, "route", "add", "default", "via", INET_HOST)
        sh("ip", "-n", LAN_NS, "route", "add", "default", "via", LAN_HOST)
        sh("ip", "route", "add", f"{PUBLIC}/32", "via", INET_PEER)

        def spawn(ns, code, *args):
            procs.append(subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", code, *args],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        # on every address of the namespace: also its end of the host's link (the host's LAN)
        spawn(INET_NS, HTTP_SERVER, "0.0.0.0", "80", "internet-ok")
        spawn(INET_NS, HTTP_SERVER, PUBLIC, "8080", "internet-8080")
        spawn(INET_NS, DNS_SERVER, PUBLIC, NAME, PUBLIC)
        spawn(LAN_NS, HTTP_SERVER, LAN_ADDR, "80", "lan-ok")
        # host services: on the host's own non-loopback address and on loopback
        host_srv = subprocess.Popen([sys.executable, "-c", HTTP_SERVER, INET_HOST, "8081", "host-ok"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        loop_srv = subprocess.Popen([sys.executable, "-c", HTTP_SERVER, "127.0.0.1", "8082", "loopback-ok"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.extend([host_srv, loop_srv])
        for host, port in ((PUBLIC, 80), (INET_PEER, 80), (PUBLIC, 8080), (LAN_ADDR, 80), (INET_HOST, 8081), ("127.0.0.1", 8082)):
            wait_for(lambda: reachable(host, port), f"test server {host}:{port}")
        yield
    finally:
        teardown_topology(procs)


DAEMON_TOML = f"""dns_servers = ["{PUBLIC}"]

[sandbox.subnets]
"subnet-private-1a" = {{ mode = "internet", allow = ["{LAN_ADDR} tcp 80"] }}
"subnet-private-1b" = {{ mode = "internet", allow = ["{LAN_ADDR} tcp 80"] }}
"isolated" = "none"

[sandbox.security_groups]
"sg-lambda" = {{ egress = ["{LAN_ADDR} tcp 80", "{PUBLIC} tcp 8080"] }}
"""


@pytest.fixture(scope="module")
def daemon(topology, tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("netinet"), extra_toml=DAEMON_TOML)
    yield d
    stop_daemon(d)


def create_probe(d, tmp_path, *extra):
    name = unique("inet")
    (tmp_path / "f.zip").write_bytes(make_zip({"app.py": PROBE}))
    rc, _, err = d.aws("create-function", "--function-name", name, "--runtime", "python3.11",
                       "--handler", "app.handler", "--role", "arn:aws:iam::123456789012:role/x",
                       "--zip-file", f"fileb://{tmp_path / 'f.zip'}", *extra)
    assert rc == 0, err
    return name


def probe(d, name, tmp_path):
    targets = [
        ["internet", PUBLIC, 80],
        ["internet_8080", PUBLIC, 8080],
        ["by_name", NAME, 80],
        ["lan", LAN_ADDR, 80],
        ["host_lan_neighbour", INET_PEER, 80],  # public range, but on a network the host is on
        ["host_address", INET_HOST, 8081],
        ["host_loopback", "127.0.0.1", 8082],
        ["daemon_port", "127.0.0.1", d.port],
    ]
    out = tmp_path / "out.json"
    rc, _, err = d.aws("invoke", "--function-name", name, "--cli-binary-format", "raw-in-base64-out",
                       "--payload", json.dumps({"targets": targets, "name": NAME}), str(out))
    assert rc == 0, err
    return json.loads(out.read_text())


def test_default_function_reaches_the_internet_and_nothing_private(daemon, tmp_path):
    name = create_probe(daemon, tmp_path)
    got = probe(daemon, name, tmp_path)
    assert got["internet"] == "ok:internet-ok", got
    assert got["internet_8080"] == "ok:internet-8080", got
    assert got["dns"] == PUBLIC, got
    assert got["by_name"] == "ok:internet-ok", got
    assert got["nxdomain"].startswith("err:"), got
    for blocked in ("lan", "host_lan_neighbour", "host_address", "host_loopback", "daemon_port"):
        assert got[blocked].startswith("err:"), (blocked, got)


def test_vpc_subnets_and_security_group_map_to_rules(daemon, tmp_path):
    name = create_probe(daemon, tmp_path, "--vpc-config",
                        "SubnetIds=subnet-private-1a,subnet-private-1b,SecurityGroupIds=sg-lambda")
    rc, cfg, err = daemon.aws("get-function-configuration", "--function-name", name)
    assert rc == 0, err
    assert cfg["VpcConfig"]["SubnetIds"] == ["subnet-private-1a", "subnet-private-1b"]
    assert cfg["VpcConfig"]["SecurityGroupIds"] == ["sg-lambda"]
    got = probe(daemon, name, tmp_path)
    assert got["lan"] == "ok:lan-ok", got  # the subnet allows it, and so does the group
    assert got["internet_8080"] == "ok:internet-8080", got
    assert got["internet"].startswith("err:"), got  # port 80 is not in the group's egress
    assert got["dns"] == PUBLIC, got
    for blocked in ("host_lan_neighbour", "host_address", "host_loopback", "daemon_port"):
        assert got[blocked].startswith("err:"), (blocked, got)
    # back to the default network: the LAN is unreachable again (a new environment)
    rc, _, err = daemon.aws("update-function-configuration", "--function-name", name,
                            "--vpc-config", "SubnetIds=[],SecurityGroupIds=[]")
    assert rc == 0, err
    got = probe(daemon, name, tmp_path)
    assert got["lan"].startswith("err:") and got["internet"] == "ok:internet-ok", got


@pytest.mark.parametrize("vpc, word", [
    ("SubnetIds=subnet-nope,SecurityGroupIds=sg-lambda", "Subnet 'subnet-nope'"),
    ("SubnetIds=subnet-private-1a,SecurityGroupIds=sg-nope", "Security group 'sg-nope'"),
    ("SubnetIds=isolated,subnet-private-1a,SecurityGroupIds=sg-lambda", "network mode"),
])
def test_unknown_names_are_refused_with_aws_error(daemon, tmp_path, vpc, word):
    name = create_probe(daemon, tmp_path)
    rc, _, err = daemon.aws("update-function-configuration", "--function-name", name, "--vpc-config", vpc)
    assert rc != 0 and "InvalidParameterValueException" in err and word in err, err
    rc, cfg, _ = daemon.aws("get-function-configuration", "--function-name", name)
    assert not cfg.get("VpcConfig", {}).get("SubnetIds"), cfg
    rc, _, err = daemon.aws("create-function", "--function-name", unique("inet"), "--runtime", "python3.11",
                            "--handler", "app.handler", "--role", "arn:aws:iam::123456789012:role/x",
                            "--zip-file", f"fileb://{tmp_path / 'f.zip'}", "--vpc-config", vpc)
    assert rc != 0 and "InvalidParameterValueException" in err, err


def nft_env_chains() -> set:
    r = sh("nft", "list", "table", "inet", "lambdabox", check=False)
    return {line.split()[1] for line in r.stdout.splitlines()
            if line.strip().startswith("chain env-")}


def test_nothing_leaks_after_kill_9_and_restart(topology, tmp_path_factory, tmp_path):
    # Only this daemon's links and chains are looked at: the other pytest worker's daemons
    # make and remove their own meanwhile.
    work = tmp_path_factory.mktemp("netkill")
    parent = f"lambdabox-compat-{work.name.rstrip('0123456789')}"  # as start_isolated_daemon names it
    d = start_isolated_daemon(work, extra_toml=DAEMON_TOML)
    try:
        plain = create_probe(d, tmp_path)
        vpc = create_probe(d, tmp_path, "--vpc-config",
                           "SubnetIds=subnet-private-1a,SecurityGroupIds=sg-lambda")
        assert probe(d, plain, tmp_path)["internet"] == "ok:internet-ok"
        assert probe(d, vpc, tmp_path)["lan"] == "ok:lan-ok"
        live = own_links(parent)
        assert any(n.startswith("lbx") for n in live) and any(n.startswith("lbv") for n in live), live
        chains = own_chains(live)
        assert chains and chains <= nft_env_chains(), "a VPC environment has its own chain"
    finally:
        d.kill()
    # the environments die with the daemon and the kernel deletes their veths with their
    # namespaces; the chain of the VPC environment stays until a daemon sweeps it
    wait_for(lambda: not (live & ours()), "the veths of a killed daemon's environments to go")
    d = start_isolated_daemon(work, extra_toml=DAEMON_TOML)
    try:
        assert not (chains & nft_env_chains()), "restart swept the dead environment's chain"
        plain_again = probe(d, plain, tmp_path)
        assert plain_again["internet"] == "ok:internet-ok", plain_again
        live = own_links(parent)
        assert live, "the restarted daemon's environment has its veth"
    finally:
        stop_daemon(d)
    wait_for(lambda: not (live & ours()), "an orderly stop to delete its veths")
    assert not (own_chains(live) & nft_env_chains())


def test_shipped_config_documents_the_seed_vpc_example():
    text = (Path(__file__).resolve().parents[2] / "packaging" / "config.toml").read_text()
    assert 'default_network = "internet"' in text
    assert "SubnetIds=subnet-private-1a,subnet-private-1b,SecurityGroupIds=sg-lambda" in text
    assert '# "sg-lambda" = { egress = [' in text
