"""The .deb packages: built by packaging/build-deb (from the binaries already built), checked
file by file against the tree, lintian-clean apart from the tags packaging/README.md explains,
and installed, reinstalled, removed and purged with dpkg in a scratch root (dpkg --root with
--force-script-chrootless: the maintainer scripts run on the host with DPKG_ROOT set, as they
would for an image build, and must not touch the host's systemd or directories).

Architectures come from LAMBDABOX_DEB_ARCHS (default "amd64"; tests/run sets "amd64 arm64" with LAMBDABOX_TEST_ARM64=1).
The arm64 binary answers --version through qemu-user (binfmt_misc).
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST_BIN = ROOT / "target" / "release" / "lambdabox"
ARCHS = os.environ.get("LAMBDABOX_DEB_ARCHS", "amd64").split()
VERSION = "0.1.0"
UNIT = "lambdabox.service"
WANTS = Path("etc/systemd/system/multi-user.target.wants") / UNIT
ELF_MACHINE = {"amd64": 0x3E, "arm64": 0xB7}

COMPLETIONS = {
    "bash": "usr/share/bash-completion/completions/lambdabox",
    "zsh": "usr/share/zsh/vendor-completions/_lambdabox",
    "fish": "usr/share/fish/vendor_completions.d/lambdabox.fish",
}


def run(*args, check=True, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)
    if check:
        assert p.returncode == 0, f"{args}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module", params=ARCHS)
def deb(request) -> tuple[str, Path]:
    """(arch, path of the .deb), built once per architecture from the binaries in target/."""
    arch = request.param
    out = run(ROOT / "packaging" / "build-deb", "--arch", arch, "--no-build", cwd=ROOT)
    path = Path(out.stdout.strip().splitlines()[-1])
    if not path.is_absolute():
        path = ROOT / path
    assert path.is_file() and path.name == f"lambdabox_{VERSION}-1_{arch}.deb", out.stdout
    return arch, path


def members(path: Path) -> dict[str, tarfile.TarInfo]:
    """The data archive's entries, by path without the leading './'."""
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(path)], capture_output=True,
                          check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name.removeprefix("./"): m for m in tf.getmembers()}


def extract(path: Path, dest: Path) -> Path:
    run("dpkg-deb", "-x", path, dest)
    return dest


def control(path: Path, dest: Path) -> Path:
    run("dpkg-deb", "-e", path, dest)
    return dest


def test_control_fields(deb):
    arch, path = deb
    fields = run("dpkg-deb", "-f", path, "Package", "Version", "Architecture", "Section",
                 "Priority", "Depends", "Maintainer").stdout
    f = dict(line.split(": ", 1) for line in fields.splitlines())
    assert f["Package"] == "lambdabox"
    assert f["Version"] == f"{VERSION}-1"
    assert f["Architecture"] == arch
    assert f["Section"] == "net" and f["Priority"] == "optional"
    depends = f["Depends"]
    assert "libc6" in depends and "init-system-helpers (>= 1.54~)" in depends, depends
    assert "nftables" in depends, depends  # internet-only networking installs its rules with nft


def test_contents_match_the_tree(deb, tmp_path):
    arch, path = deb
    m = members(path)
    expected_modes = {
        "usr/bin/lambdabox": 0o755,
        "lib/systemd/system/lambdabox.service": 0o644,
        "etc/lambdabox/config.toml": 0o644,
        "usr/share/man/man1/lambdabox.1.gz": 0o644,
        "usr/share/man/man1/lambdabox-serve.1.gz": 0o644,
        "usr/share/man/man1/lambdabox-keys-create.1.gz": 0o644,
        "usr/share/doc/lambdabox/copyright": 0o644,
        "usr/share/doc/lambdabox/changelog.Debian.gz": 0o644,
        "usr/share/lintian/overrides/lambdabox": 0o644,
        **{p: 0o644 for p in COMPLETIONS.values()},
    }
    for name, mode in expected_modes.items():
        assert name in m, f"{name} missing from {sorted(m)}"
        assert m[name].mode & 0o7777 == mode, (name, oct(m[name].mode))
        assert m[name].uname == "root" or m[name].uid == 0, name
    # nothing but what packaging/ and Cargo.toml name: no build leftovers, no data directory
    # (the postinst makes /var/lib/lambdabox, so that a purge can own its removal)
    assert not any(n.startswith(("var/", "target/", "home/", "root/")) for n in m), sorted(m)

    x = extract(path, tmp_path / "x")
    assert (x / "lib/systemd/system/lambdabox.service").read_text() == \
        (ROOT / "systemd/lambdabox.service").read_text()
    assert (x / "etc/lambdabox/config.toml").read_text() == \
        (ROOT / "packaging/config.toml").read_text()
    binary = (x / "usr/bin/lambdabox").read_bytes()
    assert binary[:4] == b"\x7fELF" and binary[18] == ELF_MACHINE[arch], binary[:20]
    # stripped (cargo-deb strips with the target's binutils)
    described = run("file", "-b", x / "usr/bin/lambdabox").stdout
    assert ", stripped" in described, described

    # the generated files are what this tree's binary generates
    for shell, rel in COMPLETIONS.items():
        assert (x / rel).read_text() == run(HOST_BIN, "completions", shell).stdout, shell
    page = gzip.decompress((x / "usr/share/man/man1/lambdabox.1.gz").read_bytes()).decode()
    assert page == run(HOST_BIN, "man").stdout
    assert ".SH SUBCOMMANDS" in page and "lambdabox\\-doctor(1)" in page
    pages = sorted(n for n in m if n.startswith("usr/share/man/man1/"))
    listed = run(HOST_BIN, "man", "--out-dir", tmp_path / "man").stdout.split()
    assert [p.split("/")[-1] for p in pages] == sorted(Path(p).name + ".gz" for p in listed)


def test_conffile_and_maintainer_scripts(deb, tmp_path):
    _, path = deb
    c = control(path, tmp_path / "DEBIAN")
    assert (c / "conffiles").read_text().split() == ["/etc/lambdabox/config.toml"]
    for name in ("postinst", "prerm", "postrm"):
        script = c / name
        assert script.stat().st_mode & 0o777 == 0o755, name
        assert script.read_text() == (ROOT / "packaging/debian" / name).read_text(), name
        run("sh", "-n", script)
        run("dash", "-n", script)
    postinst = (c / "postinst").read_text()
    assert 'install -d -m 0700 "${DPKG_ROOT:-}/var/lib/lambdabox"' in postinst
    # systemd is only driven when it runs on the host the package goes to
    for script in ("postinst", "prerm", "postrm"):
        text = (c / script).read_text()
        for line in text.splitlines():
            if ("deb-systemd-invoke" in line or "daemon-reload" in line) and "#" not in line[:2]:
                block = text[:text.index(line)]
                assert '[ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]' in block, (script, line)
    postrm = (c / "postrm").read_text()
    purge = postrm[postrm.index('if [ "$1" = "purge" ]'):]
    assert 'rm -rf "${DPKG_ROOT:-}/var/lib/lambdabox"' in purge
    remove = postrm[postrm.index('if [ "$1" = "remove" ]'):postrm.index('if [ "$1" = "purge" ]')]
    assert "rm " not in remove, "remove must keep the data"


def test_lintian_reports_only_the_explained_tags(deb):
    _, path = deb
    # (lintian 2.116 exits 2 whenever --show-overrides shows one, so the verdict is read from
    # the tags: no error or warning may be left, and the run must have got to the overrides)
    p = run("lintian", "--allow-root", "--display-info", "--show-overrides",
            "--tag-display-limit", "0", path, check=False)
    assert "O: lambdabox:" in p.stdout, p.stdout + p.stderr
    overridden = {line.split()[2] for line in p.stdout.splitlines() if line.startswith("O: ")}
    reported = [line for line in p.stdout.splitlines() if line[:2] in ("E:", "W:")]
    assert reported == [], p.stdout
    readme = (ROOT / "packaging/README.md").read_text()
    overrides = []
    for line in (ROOT / "packaging/lintian-overrides").read_text().splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            overrides.append(words[1] if words[0].endswith(":") else words[0])
    for tag in overrides:
        assert f"`{tag}`" in readme, f"override {tag} is not explained in packaging/README.md"
    # every override still matches something (a stale one would hide nothing and mislead)
    for tag in overrides:
        assert tag in overridden, (tag, p.stdout)


def scratch_root(base: Path, arch: str) -> Path:
    """An empty dpkg database under `base`."""
    r = base / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
        (r / d).mkdir(parents=True)
    (r / "var/lib/dpkg/status").write_text("")
    (r / "var/lib/dpkg/available").write_text("")
    host_arch = run("dpkg", "--print-architecture").stdout.strip()
    (r / "var/lib/dpkg/arch").write_text(host_arch + "\n" + ("" if arch == host_arch else arch + "\n"))
    return r


def dpkg(root: Path, *args, check=True) -> subprocess.CompletedProcess:
    # --force-depends: the scratch root has no libc6 or init-system-helpers package (the
    # host's are used); chrootless: the scripts run with DPKG_ROOT=root.
    return run("dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
               "--force-unsafe-io", *args, check=check)


def status(root: Path) -> str:
    p = dpkg(root, "-s", "lambdabox", check=False)
    for line in p.stdout.splitlines():
        if line.startswith("Status: "):
            return line[len("Status: "):]
    return "not-installed"


def test_install_reinstall_remove_purge_in_a_scratch_root(deb, tmp_path):
    arch, path = deb
    host_wants = Path("/") / WANTS
    host_had = {p: p.exists() for p in (host_wants, Path("/var/lib/lambdabox"),
                                        Path("/etc/lambdabox"))}
    r = scratch_root(tmp_path, arch)

    dpkg(r, "-i", path)
    assert status(r) == "install ok installed"
    out = run(r / "usr/bin/lambdabox", "--version").stdout
    assert out.strip() == f"lambdabox {VERSION}", out
    assert (r / "var/lib/lambdabox").stat().st_mode & 0o777 == 0o700
    assert (r / "var/log/lambdabox").is_dir()
    link = r / WANTS
    assert link.is_symlink() and os.readlink(link) == f"/lib/systemd/system/{UNIT}", "enabled"

    # data the daemon would have made: a key in the state directory (by the installed binary,
    # except arm64's, which qemu runs fine but slowly; the host's writes the same files)
    maker = r / "usr/bin/lambdabox" if arch == "amd64" else HOST_BIN
    run(maker, "keys", "create", "--data-dir", r / "var/lib/lambdabox", "--description", "pkg")
    data = sorted(p.name for p in (r / "var/lib/lambdabox").iterdir())
    assert data, "keys create wrote nothing"
    conf = r / "etc/lambdabox/config.toml"
    conf.write_text(conf.read_text() + "\n# edited by the administrator\n")

    # the same version again (an upgrade's path through the scripts: prerm upgrade, postinst
    # configure with the old version): data and the edited conffile stay
    dpkg(r, "-i", path)
    assert status(r) == "install ok installed"
    assert "edited by the administrator" in conf.read_text()
    assert sorted(p.name for p in (r / "var/lib/lambdabox").iterdir()) == data

    dpkg(r, "-r", "lambdabox")
    assert status(r) == "deinstall ok config-files"
    assert not (r / "usr/bin/lambdabox").exists()
    assert not (r / "lib/systemd/system" / UNIT).exists()
    assert sorted(p.name for p in (r / "var/lib/lambdabox").iterdir()) == data, "remove keeps data"
    assert "edited by the administrator" in conf.read_text(), "remove keeps the configuration"

    dpkg(r, "-P", "lambdabox")
    assert status(r) == "not-installed"
    for gone in ("var/lib/lambdabox", "var/log/lambdabox", "etc/lambdabox", str(WANTS)):
        assert not (r / gone).exists() and not (r / gone).is_symlink(), f"{gone} left after purge"

    # nothing happened on the host
    for p, had in host_had.items():
        assert p.exists() == had, p
