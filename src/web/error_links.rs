//! Go-to-line from error messages: the places (`file`, `line`) of a test run's error and log
//! that name a file of the function's package, as Python tracebacks
//! (`File "/var/task/app.py", line 3`), Python syntax errors (`(app.py, line 3)`), and
//! node and ruby stack frames (`/var/task/index.mjs:3:9`, `/var/task/app.rb:3:in`) write
//! them. The Test tab links each to the Code tab at that line.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

/// At most this many places are linked.
pub const MAX_LINKS: usize = 8;

/// One place in the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub file: String,
    pub line: u32,
}

fn patterns() -> &'static [Regex; 3] {
    static P: OnceLock<[Regex; 3]> = OnceLock::new();
    P.get_or_init(|| {
        [
            // also inside a JSON string (the error payload's stackTrace): `File \"…\"`
            r#"File \\?"/var/task/([^"\\]+)\\?", line (\d+)"#,
            r#"/var/task/([^\s"'()<>:]+):(\d+)"#,
            r#"\(([^\s"'(),]+), line (\d+)\)"#,
        ]
        .map(|p| Regex::new(p).unwrap_or_else(|_| unreachable!("a fixed pattern")))
    })
}

/// The places of `texts` that name a file in `files`, in order of appearance, each once.
pub fn places(texts: &[&str], files: &[String]) -> Vec<Place> {
    let mut found: Vec<(usize, usize, Place)> = Vec::new();
    for (t, text) in texts.iter().enumerate() {
        for re in patterns() {
            for c in re.captures_iter(text) {
                let (Some(file), Some(line), Some(at)) = (c.get(1), c.get(2), c.get(0)) else {
                    continue;
                };
                let file = file.as_str().trim_start_matches("./");
                let Ok(line) = line.as_str().parse::<u32>() else {
                    continue;
                };
                if line == 0 || !files.iter().any(|f| f == file) {
                    continue;
                }
                found.push((
                    t,
                    at.start(),
                    Place {
                        file: file.to_string(),
                        line,
                    },
                ));
            }
        }
    }
    found.sort_by_key(|(t, at, _)| (*t, *at));
    let mut out: Vec<Place> = Vec::new();
    for (_, _, p) in found {
        if !out.contains(&p) {
            out.push(p);
        }
        if out.len() == MAX_LINKS {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<String> {
        ["lambda_function.py", "lib/util.py", "index.mjs", "app.rb"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn python_traceback_and_syntax_error() {
        let payload = r#"{"errorMessage": "division by zero", "errorType": "ZeroDivisionError", "stackTrace": ["  File \"/var/task/lambda_function.py\", line 4, in lambda_handler\n    return helper()\n", "  File \"/var/task/lib/util.py\", line 2, in helper\n    return 1/0\n", "  File \"/var/runtime/bootstrap.py\", line 90, in run\n"]}"#;
        assert_eq!(
            places(&[payload], &files()),
            [
                Place {
                    file: "lambda_function.py".into(),
                    line: 4
                },
                Place {
                    file: "lib/util.py".into(),
                    line: 2
                }
            ]
        );
        let syntax =
            "Syntax error in module 'lambda_function': invalid syntax (lambda_function.py, line 7)";
        assert_eq!(
            places(&[syntax], &files()),
            [Place {
                file: "lambda_function.py".into(),
                line: 7
            }]
        );
    }

    #[test]
    fn node_and_ruby_frames_only_of_package_files() {
        let node = "TypeError: x is not a function\n    at Runtime.handler (file:///var/task/index.mjs:3:9)\n    at /var/runtime/node/index.mjs:120:7";
        let ruby = "/var/task/app.rb:5:in `handler': boom (RuntimeError)";
        assert_eq!(
            places(&[node, ruby, node], &files()),
            [
                Place {
                    file: "index.mjs".into(),
                    line: 3
                },
                Place {
                    file: "app.rb".into(),
                    line: 5
                }
            ]
        );
        assert!(places(&["/var/task/other.py:3"], &files()).is_empty());
    }
}
