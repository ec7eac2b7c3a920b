//! The front door seen from outside the daemon: README.md lists exactly the operations the
//! router serves (`lambdabox operations`), and the hidden command stays out of `--help`.

use crate::fixture::{command, run_with_timeout};
use std::time::Duration;

fn operations() -> String {
    let out = run_with_timeout(
        {
            let mut c = command();
            c.arg("operations");
            c
        },
        Duration::from_secs(10),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn readme_lists_exactly_the_operations_served() {
    let listed = operations();
    assert!(listed.contains("**AWS Lambda** (`lambda`, rest-json): CreateFunction, "));
    assert!(listed.contains("**AWS STS** (`sts`, query): GetCallerIdentity"));
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let begin = "<!-- operations:begin -->\n";
    let end = "<!-- operations:end -->";
    let start = readme
        .find(begin)
        .expect("README has the operations:begin marker")
        + begin.len();
    let stop = readme[start..].find(end).expect("operations:end marker") + start;
    assert_eq!(
        &readme[start..stop],
        listed,
        "README.md's operations list differs from `lambdabox operations`: paste its output between the markers"
    );
}

#[test]
fn operations_is_hidden_from_help() {
    let out = run_with_timeout(
        {
            let mut c = command();
            c.arg("--help");
            c
        },
        Duration::from_secs(10),
    );
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("serve"));
    assert!(!help.contains("operations"), "{help}");
}
