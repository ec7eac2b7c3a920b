//! Spares at the library level (`Sandbox::prepare` / `Sandbox::finish`): a spare dropped
//! unclaimed leaves nothing behind, each spare has its own uid, a spec of another shape is
//! refused without harm, and the spare's uid and id become the environment's.

use lambdabox::sandbox::{ExitStatus, SandboxError, Shape};

use super::support::{collect, expect_line, processes_of_uid, Fixture};

fn shape_of(fx: &Fixture, id: &str) -> Shape {
    Shape::of(&fx.python_spec(id, "")).expect("a loopback spec has a shape")
}

#[test]
fn sandbox_spare_dropped_unclaimed_leaves_nothing() {
    let fx = Fixture::new();
    let a = fx
        .sandbox
        .prepare("spare-a", shape_of(&fx, "spare-a"))
        .unwrap();
    let b = fx
        .sandbox
        .prepare("spare-b", shape_of(&fx, "spare-b"))
        .unwrap();
    assert!(a.alive() && b.alive());
    let (ua, ub) = (a.uid(), b.uid());
    assert!(ua.is_some() && ua != ub, "uids not unique: {ua:?} {ub:?}");
    drop(a);
    drop(b);
    fx.assert_host_unharmed("spare-a", ua, "");
    fx.assert_host_unharmed("spare-b", ub, "");
}

#[test]
fn sandbox_spare_refuses_a_spec_of_another_shape() {
    let fx = Fixture::new();
    let spare = fx
        .sandbox
        .prepare("spare-shape", shape_of(&fx, "spare-shape"))
        .unwrap();
    let uid = spare.uid();
    let mut spec = fx.python_spec("spare-shape", "print('ran')\n");
    spec.memory_mb = 512;
    let err = fx.sandbox.finish(spare, &spec).expect_err("must refuse");
    assert!(matches!(err, SandboxError::InvalidSpec(_)), "{err}");
    fx.assert_host_unharmed("spare-shape", uid, "");
    assert!(uid.is_some_and(|u| processes_of_uid(u).is_empty()));
}

#[test]
fn sandbox_spare_becomes_the_environment_it_is_finished_as() {
    let fx = Fixture::new();
    let spare = fx
        .sandbox
        .prepare("spare-run", shape_of(&fx, "spare-run"))
        .unwrap();
    let uid = spare.uid();
    let spec = fx.python_spec(
        "spare-run",
        "import os, socket\nprint(f'uid {os.getuid()}')\nprint(f'host {socket.gethostname()}')\n",
    );
    let mut wrong = spec.clone();
    wrong.id = "someone-else".into();
    // Another id is refused up front (and consumes nothing but this call's spare).
    let other = fx
        .sandbox
        .prepare("spare-run2", shape_of(&fx, "spare-run2"))
        .unwrap();
    assert!(fx.sandbox.finish(other, &wrong).is_err());
    let mut env = fx.sandbox.finish(spare, &spec).unwrap();
    assert_eq!(env.uid(), uid);
    let out = collect(&mut env);
    let info = env.wait();
    let text = out.join().unwrap();
    assert_eq!(info.status, ExitStatus::Code(0), "{text}");
    expect_line(&text, &format!("uid {}", uid.unwrap()));
    expect_line(&text, "host spare-run");
    fx.assert_host_unharmed("spare-run", uid, &text);
    fx.assert_host_unharmed("spare-run2", None, &text);
}
