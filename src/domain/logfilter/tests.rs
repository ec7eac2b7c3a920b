//! The examples of AWS's "Filter pattern syntax" documentation, as a table.

use super::Pattern;

fn m(pattern: &str, message: &str) -> bool {
    Pattern::parse(pattern)
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .matches(message)
}

const APACHE: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
const APACHE_404: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /index.html HTTP/1.0" 404 287"#;
const JSON: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cool":true,"latency":600,"level":"ERROR"}"#;

#[test]
fn terms() {
    let rows: &[(&str, &str, bool)] = &[
        ("", "anything", true),
        ("\"\"", "anything", true),
        ("ERROR", "[ERROR] 400 BAD REQUEST", true),
        ("ERROR", "[INFO] all good", false),
        ("ERROR", "error in lowercase", false),
        ("ERROR ARGUMENTS", "[ERROR] Missing ARGUMENTS", true),
        ("ERROR ARGUMENTS", "[ERROR] 400 BAD REQUEST", false),
        ("?ERROR ?ARGUMENTS", "[ERROR] 400 BAD REQUEST", true),
        ("?ERROR ?ARGUMENTS", "[INFO] ARGUMENTS parsed", true),
        ("?ERROR ?ARGUMENTS", "[INFO] nothing", false),
        (
            "\"Failed to process\"",
            "Failed to process the request",
            true,
        ),
        ("\"Failed to process\"", "Failed to do process", false),
        (
            "ERROR -Exiting",
            "[ERROR] Caught IllegalArgumentException",
            true,
        ),
        ("ERROR -Exiting", "[ERROR] Exiting program", false),
        ("-Exiting", "[INFO] fine", true),
        ("%ERR(OR)?%", "ERR 5", true),
        ("%^\\[WARN\\]%", "[WARN] disk", true),
        ("%^\\[WARN\\]%", "x [WARN] disk", false),
        (
            "?\"Task timed out\" ?ERROR",
            "2024 Task timed out after 3.00 seconds",
            true,
        ),
    ];
    for (p, msg, want) in rows {
        assert_eq!(m(p, msg), *want, "{p} on {msg}");
    }
}

#[test]
fn json() {
    let rows: &[(&str, bool)] = &[
        (r#"{ $.level = "ERROR" }"#, true),
        (r#"{ $.level = "INFO" }"#, false),
        (r#"{ $.eventType = "UpdateTrail" }"#, true),
        (r#"{ $.eventType = "Update*" }"#, true),
        (r#"{ $.sourceIPAddress != 123.123.* }"#, true),
        (r#"{ $.arrayKey[0] = "value" }"#, true),
        (r#"{ $.arrayKey[1] = "value" }"#, false),
        (r#"{ $.objectList[1].id = 2 }"#, true),
        (r#"{ $.objectList[1].id > 2 }"#, false),
        (r#"{ $.latency >= 500 }"#, true),
        (r#"{ $.latency < 500 }"#, false),
        (r#"{ $.SomeObject IS NULL }"#, true),
        (r#"{ $.SomeOtherObject NOT EXISTS }"#, true),
        (r#"{ $.SomeObject NOT EXISTS }"#, false),
        (r#"{ $.cool IS TRUE }"#, true),
        (r#"{ $.cool IS FALSE }"#, false),
        (
            r#"{ ($.level = "ERROR" && $.latency > 900) || $.cool IS TRUE }"#,
            true,
        ),
        (
            r#"{ ($.level = "ERROR" && $.latency > 900) || $.cool IS FALSE }"#,
            false,
        ),
        (r#"{ $.level = "ERROR" && $.eventType = "Update*" }"#, true),
    ];
    for (p, want) in rows {
        assert_eq!(m(p, JSON), *want, "{p}");
    }
    assert!(!m(r#"{ $.level = "ERROR" }"#, "ERROR not json"));
}

#[test]
fn delimited() {
    let rows: &[(&str, &str, bool)] = &[
        (
            "[ip, user, username, timestamp, request, status_code, bytes]",
            APACHE,
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code]",
            APACHE,
            false,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            APACHE,
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
            APACHE_404,
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
            APACHE,
            false,
        ),
        ("[..., status_code = 404, bytes]", APACHE_404, true),
        ("[ip, ..., bytes > 1000]", APACHE, true),
        ("[ip, ..., bytes > 1000]", APACHE_404, false),
        (
            "[ip, user, username, timestamp, request = \"*html*\", status_code, bytes]",
            APACHE_404,
            true,
        ),
        ("[ip, user, username = frank, ...]", APACHE, true),
        ("[ip, user, username != frank, ...]", APACHE, false),
        (
            "[..., status_code = 404 || status_code = 200, bytes]",
            APACHE,
            true,
        ),
        (
            "[..., status_code >= 400 && status_code < 500, bytes]",
            APACHE,
            false,
        ),
        ("[...]", APACHE, true),
    ];
    for (p, msg, want) in rows {
        assert_eq!(m(p, msg), *want, "{p} on {msg}");
    }
}

#[test]
fn refused() {
    for p in [
        "\"unterminated",
        "{ $.level = }",
        "{ level = \"x\" }",
        "{ $.a = 1 ",
        "{ $.a > \"x\" }",
        "[a, , b]",
        "[a = ]",
        "%(%",
        "?",
    ] {
        assert!(Pattern::parse(p).is_err(), "{p} should be refused");
    }
}
