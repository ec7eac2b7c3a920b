//! Process attacks across the sandbox boundary: `kill -9 -1`, signalling host pids, seeing
//! other environments.

use std::process::Command;
use std::time::Duration;

use super::support::{collect, expect_line, Fixture, PRELUDE};
use lambdabox::sandbox::ExitStatus;

#[test]
fn sandbox_kill_minus_one_only_kills_its_own() {
    let fx = Fixture::new();
    // A host process and a neighbour environment that must survive.
    let mut host_sleeper = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let neighbour_spec = fx.python_spec(
        "kill-neighbour",
        "import time\ntime.sleep(3)\nprint('neighbour alive', flush=True)\n",
    );
    let mut neighbour = fx.launch(&neighbour_spec);
    let neighbour_out = collect(&mut neighbour);

    let script = format!(
        "{PRELUDE}
import time, signal
kids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
attempt('kill host pid', lambda: os.kill({host_pid}, signal.SIGKILL))
attempt('kill neighbour init', lambda: os.kill({neighbour_pid}, signal.SIGKILL))
os.kill(-1, signal.SIGKILL)
alive = [k for k in kids if os.waitpid(k, 0)[1] != signal.SIGKILL]
print('own children left', len(alive), flush=True)
print('visible pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), flush=True)
",
        host_pid = host_sleeper.id(),
        neighbour_pid = neighbour.init_pid(),
    );
    std::thread::sleep(Duration::from_millis(100));
    let (info, out) = fx.run_python("kill-all", &script);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    expect_line(&out, "kill host pid: blocked ESRCH");
    expect_line(&out, "kill neighbour init: blocked ESRCH");
    expect_line(&out, "own children left 0");
    expect_line(&out, "visible pids [1, 2]");

    assert!(
        host_sleeper.try_wait().unwrap().is_none(),
        "host process was killed"
    );
    host_sleeper.kill().unwrap();
    let _ = host_sleeper.wait();
    let info = neighbour.wait();
    let text = neighbour_out.join().unwrap();
    assert_eq!(info.status, ExitStatus::Code(0), "{text}");
    expect_line(&text, "neighbour alive");
}
