//! Kernel-surface attacks: ptrace, mount, namespaces, modules, reboot, hostname, keyrings,
//! io_uring, bpf, perf, userfaultfd, handles, personality; each must fail with the expected
//! errno, and the host must be unchanged.

use super::support::{expect_line, hostname, nr, Fixture, PRELUDE};
use lambdabox::sandbox::ExitStatus;

#[test]
fn sandbox_denies_dangerous_syscalls() {
    let fx = Fixture::new();
    let script = format!(
        "{PRELUDE}
import signal, time
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
attempt('ptrace sibling', sc('ptrace', 16, child, 0, 0))
attempt('process_vm_readv', raw({pvr}, child, 0, 0, 0, 0, 0))
os.kill(child, signal.SIGKILL); os.waitpid(child, 0)
attempt('mount tmpfs', sc('mount', b'none', b'/tmp', b'tmpfs', 0, None))
attempt('umount', sc('umount2', b'/usr', 2))
attempt('unshare user', sc('unshare', 0x10000000))
attempt('unshare mount', sc('unshare', 0x20000))
attempt('unshare net', sc('unshare', 0x40000000))
fd = os.open('/proc/self/ns/net', os.O_RDONLY)
attempt('setns', raw({setns}, fd, 0))
attempt('clone newuser', sc('syscall', {clone}, 0x10000000 | 17, 0, 0, 0, 0))
attempt('clone3', raw({clone3}, 0, 0))
attempt('init_module', raw({init_module}, 0, 0, b''))
attempt('finit_module', raw({finit_module}, fd, b'', 0))
attempt('reboot', sc('reboot', 0x4321FEDC))
attempt('sethostname', sc('sethostname', b'pwned', 5))
attempt('keyctl', raw({keyctl}, 0, 0, 0, 0, 0))
attempt('add_key', raw({add_key}, b'user', b'k', b'v', 1, 0xfffffffd))
attempt('io_uring_setup', raw({io_uring}, 8, 0))
attempt('bpf', raw({bpf}, 0, 0, 0))
attempt('perf_event_open', raw({perf}, 0, 0, -1, -1, 0))
attempt('userfaultfd', raw({uffd}, 0))
attempt('open_by_handle_at', raw({obh}, -100, 0, 0))
attempt('kexec_load', raw({kexec}, 0, 0, 0, 0))
attempt('personality change', sc('personality', 0x0040000))
attempt('personality query', sc('personality', 0xffffffff))
if os.uname().machine == 'x86_64':
    attempt('x32 getpid', raw(0x40000000 + 39))
attempt('raw socket', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt('packet socket', lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
attempt('setuid 0', lambda: os.setuid(0))
attempt('chown', lambda: os.chown('/tmp', 0, 0))
print('hostname inside:', open('/proc/sys/kernel/hostname').read().strip(), flush=True)
print('thread ok:', __import__('threading').Thread(target=lambda: None).start() is None, flush=True)
",
        pvr = nr("process_vm_readv"),
        setns = nr("setns"),
        clone = if cfg!(target_arch = "x86_64") {
            56
        } else {
            220
        },
        clone3 = nr("clone3"),
        init_module = nr("init_module"),
        finit_module = nr("finit_module"),
        keyctl = nr("keyctl"),
        add_key = nr("add_key"),
        io_uring = nr("io_uring_setup"),
        bpf = nr("bpf"),
        perf = nr("perf_event_open"),
        uffd = nr("userfaultfd"),
        obh = nr("open_by_handle_at"),
        kexec = nr("kexec_load"),
    );
    let before = hostname();
    let (info, out) = fx.run_python("kernel-surface", &script);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    let eperm = [
        "ptrace sibling",
        "mount tmpfs",
        "umount",
        "unshare user",
        "unshare mount",
        "unshare net",
        "setns",
        "clone newuser",
        "init_module",
        "finit_module",
        "reboot",
        "sethostname",
        "keyctl",
        "add_key",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "open_by_handle_at",
        "kexec_load",
        "personality change",
        "raw socket",
        "packet socket",
        "setuid 0",
        "chown",
        "process_vm_readv",
    ];
    for name in eperm {
        assert!(
            out.contains(&format!("{name}: blocked EPERM")),
            "{name} not blocked with EPERM:\n{out}"
        );
    }
    expect_line(&out, "clone3: blocked ENOSYS");
    if cfg!(target_arch = "x86_64") {
        // ENOSYS would mean the x32 guard is missing (and only the kernel config saved us).
        expect_line(&out, "x32 getpid: blocked EPERM");
    }
    expect_line(&out, "io_uring_setup: blocked ENOSYS");
    expect_line(&out, "personality query: ALLOWED 0");
    expect_line(&out, "hostname inside: kernel-surface");
    expect_line(&out, "thread ok: True");
    assert_eq!(hostname(), before, "host hostname changed");
}
