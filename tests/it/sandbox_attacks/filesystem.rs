//! Filesystem attacks: reading host secrets, other functions' code and the data dir; writing
//! system paths; escaping through /proc, symlinks, `..`, chroot; setuid binaries.

use super::support::{expect_line, Fixture, PRELUDE};
use lambdabox::sandbox::{ExitStatus, Mount};

#[test]
fn sandbox_runs_and_reports_exit_code() {
    let fx = Fixture::new();
    let (info, out) = fx.run_python(
        "exit-code",
        "import sys\nprint('hello from inside')\nsys.exit(7)\n",
    );
    assert_eq!(info.status, ExitStatus::Code(7), "{out}");
    expect_line(&out, "hello from inside");
    assert!(!info.oom_killed);
    assert!(info.memory_peak_bytes > 0, "peak memory not read back");
}

#[test]
fn sandbox_launch_fails_cleanly_for_a_missing_program() {
    let fx = Fixture::new();
    let mut spec = fx.python_spec("missing-prog", "");
    spec.argv = vec!["/var/task/does-not-exist".into()];
    let err = fx.sandbox.launch(&spec).expect_err("launch must fail");
    assert!(err.to_string().contains("does-not-exist"), "{err}");
    fx.assert_host_unharmed("missing-prog", None, "");
}

#[test]
fn sandbox_cannot_read_host_secrets_data_dir_or_other_code() {
    let fx = Fixture::new();
    let data = fx.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("lambdabox.db"), "SECRET-DB").unwrap();
    let other = fx.dir.path().join("other-function");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("handler.py"), "SECRET-CODE").unwrap();
    let script = format!(
        "{PRELUDE}
attempt('shadow', lambda: open('/etc/shadow').read())
attempt('data dir', lambda: open('{db}').read())
attempt('other code', lambda: open('{code}').read())
attempt('host root home', lambda: os.listdir('/root'))
attempt('host state dir', lambda: os.listdir('{state}'))
attempt('etc listing has no shadow', lambda: 'shadow' in os.listdir('/etc') or (_ for _ in ()).throw(OSError(2, 'absent')))
",
        db = data.join("lambdabox.db").display(),
        code = other.join("handler.py").display(),
        state = fx.dir.path().display(),
    );
    let (info, out) = fx.run_python("read-secrets", &script);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    for name in [
        "shadow",
        "data dir",
        "other code",
        "host root home",
        "host state dir",
        "etc listing has no shadow",
    ] {
        assert!(
            out.contains(&format!("{name}: blocked")),
            "{name} not blocked:\n{out}"
        );
    }
    assert!(!out.contains("SECRET"), "{out}");
}

#[test]
fn sandbox_cannot_write_system_paths_or_its_code() {
    let fx = Fixture::new();
    let code = fx.code_dir("write-system");
    std::fs::write(code.join("keep.txt"), "original").unwrap();
    let script = format!(
        "{PRELUDE}
attempt('write usr', lambda: open('/usr/evil', 'w'))
attempt('write etc', lambda: open('/etc/evil', 'w'))
attempt('write etc passwd', lambda: open('/etc/passwd', 'a'))
attempt('write var task', lambda: open('/var/task/evil', 'w'))
attempt('overwrite code', lambda: open('/var/task/keep.txt', 'w'))
attempt('write root', lambda: open('/evil', 'w'))
attempt('mkdir opt', lambda: os.mkdir('/opt'))
attempt('write tmp', lambda: open('/tmp/ok', 'w').write('fine'))
"
    );
    let (info, out) = fx.run_python("write-system", &script);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    for name in [
        "write usr",
        "write etc",
        "write etc passwd",
        "write var task",
        "overwrite code",
        "write root",
        "mkdir opt",
    ] {
        assert!(
            out.contains(&format!("{name}: blocked")),
            "{name} not blocked:\n{out}"
        );
    }
    expect_line(&out, "write tmp: ALLOWED 4");
    assert_eq!(
        std::fs::read_to_string(code.join("keep.txt")).unwrap(),
        "original"
    );
    assert!(!code.join("evil").exists());
    assert!(!std::path::Path::new("/usr/evil").exists());
    assert!(!std::path::Path::new("/etc/evil").exists());
}

#[test]
fn sandbox_path_escapes_lead_nowhere() {
    let fx = Fixture::new();
    let script = format!(
        "{PRELUDE}
attempt('proc 1 root', lambda: os.listdir('/proc/1/root'))
attempt('proc 1 root shadow', lambda: open('/proc/1/root/etc/shadow').read())
attempt('proc 1 cwd', lambda: os.listdir('/proc/1/cwd'))
attempt('proc 1 environ', lambda: open('/proc/1/environ').read())
os.symlink('/etc/shadow', '/tmp/link')
attempt('symlink to shadow', lambda: open('/tmp/link').read())
os.symlink('../../../../../../../../etc/shadow', '/tmp/rel')
attempt('relative symlink', lambda: open('/tmp/rel').read())
attempt('dotdot from task', lambda: open('/var/task/../../../../../../etc/shadow').read())
os.chdir('/proc/self/cwd/../../../..')
print('cwd after dotdot:', os.getcwd(), sorted(os.listdir('.')), flush=True)
attempt('chroot', lambda: os.chroot('/tmp'))
attempt('proc self root is sandbox', lambda: sorted(os.listdir('/proc/self/root')) == sorted(os.listdir('/')) or (_ for _ in ()).throw(OSError(1, 'differs')))
attempt('sysfs', lambda: os.listdir('/sys'))
attempt('dev mem', lambda: open('/dev/mem', 'rb'))
attempt('dev kmem', lambda: open('/dev/kmem', 'rb'))
attempt('dev sda', lambda: open('/dev/vda', 'rb'))
attempt('mknod', lambda: os.mknod('/tmp/mem', 0o600 | 0o020000, os.makedev(1, 1)))
attempt('proc kcore', lambda: open('/proc/kcore', 'rb').read(1))
attempt('proc sysrq', lambda: open('/proc/sysrq-trigger', 'w').write('b'))
attempt('proc sys write', lambda: open('/proc/sys/kernel/hostname', 'w').write('x'))
"
    );
    let (info, out) = fx.run_python("path-escape", &script);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    for name in [
        "proc 1 root",
        "proc 1 root shadow",
        "proc 1 cwd",
        "proc 1 environ",
        "symlink to shadow",
        "relative symlink",
        "dotdot from task",
        "chroot",
        "sysfs",
        "dev mem",
        "dev kmem",
        "dev sda",
        "mknod",
        "proc kcore",
        "proc sysrq",
        "proc sys write",
    ] {
        assert!(
            out.contains(&format!("{name}: blocked")),
            "{name} not blocked:\n{out}"
        );
    }
    expect_line(&out, "proc self root is sandbox: ALLOWED True");
    assert!(out.contains("cwd after dotdot: / "), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("root:")),
        "shadow content leaked:\n{out}"
    );
}

#[test]
fn sandbox_setuid_binary_gains_nothing() {
    let fx = Fixture::new();
    // A setuid-root copy of `id`, mounted in the function's code dir.
    let bin = fx.dir.path().join("suid");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/usr/bin/id", bin.join("id")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("id"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    let mut spec = fx.python_spec(
        "setuid",
        "import subprocess\nprint('euid=' + subprocess.run(['/opt/suid/id', '-u'], capture_output=True, text=True).stdout.strip())\n",
    );
    spec.mounts.push(Mount::ro(&bin, "/opt/suid"));
    let (info, out) = fx.run(&spec);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    assert!(out.contains("euid="), "{out}");
    assert!(!out.contains("euid=0"), "setuid gave root:\n{out}");
}

#[test]
fn sandbox_tmp_is_private_per_environment() {
    let fx = Fixture::new();
    let (_, out) = fx.run_python(
        "tmp-a",
        "open('/tmp/secret', 'w').write('A')\nprint('written')\n",
    );
    expect_line(&out, "written");
    let (_, out) = fx.run_python(
        "tmp-b",
        "import os\nprint('exists' if os.path.exists('/tmp/secret') else 'absent')\n",
    );
    expect_line(&out, "absent");
}

#[test]
fn sandbox_nested_mount_never_writes_into_a_host_dir() {
    let fx = Fixture::new();
    let layers = fx.dir.path().join("layers");
    std::fs::create_dir_all(&layers).unwrap();
    let extra = fx.dir.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    let mut spec = fx.python_spec("nested-mount", "print('ran')\n");
    spec.mounts.push(Mount {
        host: layers.clone(),
        inside: "/opt".into(),
        writable: true,
    });
    spec.mounts.push(Mount::ro(&extra, "/opt/extra"));
    let err = fx
        .sandbox
        .launch(&spec)
        .expect_err("nested mount inside a bind must fail");
    assert!(err.to_string().contains("inside another mount"), "{err}");
    assert!(
        !layers.join("extra").exists(),
        "a directory was created on the host"
    );
    fx.assert_host_unharmed("nested-mount", None, "");
}
