//! The syntax check before a deploy from the Code tab: a Python file is compiled, a
//! JavaScript file parsed, by the interpreter of the function's own runtime (the host's, as
//! the catalog found it), so the verdict is that runtime's.
//!
//! Nothing of the user's code runs: Python gets the source on stdin and only calls
//! `compile()` (`-I -S -B`: isolated, no `site`, no bytecode written); node gets it on stdin
//! under `--check`, which parses and exits. The child has an empty environment, `/` as its
//! working directory, no stdin but the source, is killed after [`TIMEOUT`] and when dropped.
//! Other runtimes and file types, a missing interpreter, or a check that cannot finish are
//! "not checked": the deploy goes on (the runtime reports the error at the first invocation).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::runtime::command::RuntimeKind;

/// The longest a check may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A syntax error, as the runtime reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line (0 when the runtime named none).
    pub line: u32,
    pub message: String,
}

/// The check's outcome.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Fine,
    Problem(Problem),
    /// Not checked, and why (said on the page only when the user may want to know).
    NotChecked(&'static str),
}

/// Reads the `compile()` failure the Python script prints: `LINE\nMESSAGE`.
const PY_SCRIPT: &str = r#"import sys
src = sys.stdin.buffer.read()
try:
    compile(src, sys.argv[1], "exec", dont_inherit=True)
except SyntaxError as e:
    sys.stdout.write("%d\n%s" % (e.lineno or 0, e.msg))
    sys.exit(3)
except ValueError as e:
    sys.stdout.write("0\n%s" % e)
    sys.exit(3)
"#;

/// Which check fits a file of a runtime: `Some(true)` Python, `Some(false)` JavaScript.
fn kind_of(runtime: &str, file: &str) -> Option<bool> {
    let ext = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    match RuntimeKind::from_id(runtime)? {
        RuntimeKind::Python if ext == "py" => Some(true),
        RuntimeKind::Node(_) if matches!(ext.as_str(), "js" | "mjs" | "cjs") => Some(false),
        _ => None,
    }
}

/// Checks `text`, the new content of `file`, for a function of `runtime` served by
/// `interpreter`. `package_is_module` says whether the package's `package.json` declares
/// `"type": "module"` (how node reads a `.js` file).
pub async fn check(
    runtime: &str,
    interpreter: Option<&Path>,
    file: &str,
    text: &str,
    package_is_module: bool,
) -> Verdict {
    let Some(python) = kind_of(runtime, file) else {
        return Verdict::NotChecked("no check for this file type");
    };
    let Some(interp) = interpreter else {
        return Verdict::NotChecked("the runtime's interpreter is not on this host");
    };
    if python {
        return match run(interp, &["-I", "-S", "-B", "-c", PY_SCRIPT, file], text).await {
            Ok((Some(0), _)) => Verdict::Fine,
            Ok((Some(3), out)) => Verdict::Problem(python_problem(&out)),
            _ => Verdict::NotChecked("the check did not finish"),
        };
    }
    let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
    let modes: &[&str] = match ext {
        "mjs" => &["module"],
        "cjs" => &["commonjs"],
        _ if package_is_module => &["module"],
        // node 22+ reads ESM syntax in a .js file too: either reading may be the right one
        _ => &["commonjs", "module"],
    };
    let mut best: Option<Problem> = None;
    for mode in modes {
        let arg = format!("--input-type={mode}");
        match run(interp, &["--check", &arg], text).await {
            Ok((Some(0), _)) => return Verdict::Fine,
            Ok((Some(_), out)) => {
                if let Some(p) = node_problem(&out) {
                    // the reading that got further is the likelier one
                    if best.as_ref().map_or(true, |b| p.line > b.line) {
                        best = Some(p);
                    }
                }
            }
            _ => return Verdict::NotChecked("the check did not finish"),
        }
    }
    best.map_or(
        Verdict::NotChecked("the check gave no answer"),
        Verdict::Problem,
    )
}

/// Runs `interp args…` with `stdin` as its input: (exit code, stdout and stderr).
async fn run(interp: &Path, args: &[&str], stdin: &str) -> std::io::Result<(Option<i32>, String)> {
    let mut child = tokio::process::Command::new(interp)
        .args(args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut input = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin"))?;
    let source = stdin.as_bytes().to_vec();
    let feed = async move {
        // a child that exits early closes the pipe: its verdict is what counts
        let _ = input.write_all(&source).await;
        drop(input);
    };
    let done = async move {
        let (_, out) = tokio::join!(feed, child.wait_with_output());
        out
    };
    let out = tokio::time::timeout(TIMEOUT, done)
        .await
        .map_err(|_| std::io::Error::other("timed out"))??;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status.code(), text))
}

fn python_problem(out: &str) -> Problem {
    let (line, message) = out.split_once('\n').unwrap_or(("0", out));
    Problem {
        line: line.trim().parse().unwrap_or(0),
        message: message.trim().to_string(),
    }
}

/// `[stdin]:3` … `SyntaxError: Unexpected token '}'` from `node --check`.
fn node_problem(out: &str) -> Option<Problem> {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("[stdin]:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let message = out
        .lines()
        .find(|l| l.starts_with("SyntaxError:"))?
        .trim_start_matches("SyntaxError:")
        .trim()
        .to_string();
    Some(Problem { line, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_files_are_checked() {
        assert_eq!(kind_of("python3.12", "app.py"), Some(true));
        assert_eq!(kind_of("python3.12", "data.json"), None);
        assert_eq!(kind_of("nodejs20.x", "lib/index.mjs"), Some(false));
        assert_eq!(kind_of("nodejs20.x", "app.py"), None);
        assert_eq!(kind_of("java21", "A.java"), None);
        assert_eq!(kind_of("python3.12", "Makefile"), None);
    }

    #[test]
    fn reads_the_runtimes_answers() {
        assert_eq!(
            python_problem("3\nexpected ':'"),
            Problem {
                line: 3,
                message: "expected ':'".into()
            }
        );
        let node = "[stdin]:2\n  return {\n         ^\n\nSyntaxError: Unexpected end of input\n    at wrapSafe\n";
        assert_eq!(
            node_problem(node),
            Some(Problem {
                line: 2,
                message: "Unexpected end of input".into()
            })
        );
        assert_eq!(node_problem("something else"), None);
    }

    fn host(name: &str) -> Option<std::path::PathBuf> {
        ["/usr/bin", "/usr/local/bin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.exists())
    }

    #[tokio::test]
    async fn python_compiles_without_running() {
        let Some(py) = host("python3") else {
            panic!("python3 is needed for this test (the CI machine has it)");
        };
        let ok = "import os\nos.system('touch /tmp/lbx-never')\n";
        assert_eq!(
            check("python3.11", Some(&py), "a.py", ok, false).await,
            Verdict::Fine
        );
        assert!(
            !Path::new("/tmp/lbx-never").exists(),
            "compile only, nothing ran"
        );
        let bad = "def f(:\n    pass\n";
        match check("python3.11", Some(&py), "a.py", bad, false).await {
            Verdict::Problem(p) => assert_eq!(p.line, 1, "{p:?}"),
            v => panic!("{v:?}"),
        }
        assert_eq!(
            check("python3.11", None, "a.py", bad, false).await,
            Verdict::NotChecked("the runtime's interpreter is not on this host")
        );
    }

    #[tokio::test]
    async fn node_parses_without_running() {
        let Some(node) = host("node") else {
            panic!("node is needed for this test (the CI machine has it)");
        };
        let esm =
            "import fs from 'node:fs';\nexport const handler = async () => fs.existsSync('/');\n";
        assert_eq!(
            check("nodejs20.x", Some(&node), "index.mjs", esm, false).await,
            Verdict::Fine
        );
        assert_eq!(
            check("nodejs20.x", Some(&node), "index.js", esm, false).await,
            Verdict::Fine
        );
        let cjs = "exports.handler = async () => {\n  return {\n};\n";
        match check("nodejs20.x", Some(&node), "index.js", cjs, false).await {
            Verdict::Problem(p) => assert!(p.line >= 1 && !p.message.is_empty(), "{p:?}"),
            v => panic!("{v:?}"),
        }
    }
}
