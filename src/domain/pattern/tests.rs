//! The matching table: the examples of the EventBridge user guide ("Content filtering in
//! Amazon EventBridge event patterns", "Comparison operators", "Arrays in patterns"), written
//! down again here as (pattern, event, expected) rows, plus the refusals.

use serde_json::{json, Value};

use super::EventPattern;

fn ec2_event() -> Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1",
        "resources": [
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"
        ],
        "detail": {
            "instance-id": "i-1234567890abcdef0",
            "state": "terminated",
            "c-count": 5,
            "d-count": 3,
            "x-limit": 301.8,
            "source-ip": "10.0.0.123",
            "FileName": "image.PNG",
            "responseElements": null,
            "eventVersion": "",
            "location": "us-east-1",
            "tags": ["red", "blue"],
            "items": [
                {"name": "a", "qty": 1},
                {"name": "b", "qty": 7}
            ]
        }
    })
}

fn check(pattern: Value, expected: bool) {
    let p = EventPattern::from_value(&pattern)
        .unwrap_or_else(|e| panic!("pattern {pattern} refused: {e}"));
    assert_eq!(
        p.matches(&ec2_event()),
        expected,
        "pattern {pattern} should {}match",
        if expected { "" } else { "not " }
    );
}

#[test]
fn exact_and_nested() {
    check(
        json!({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
               "detail": {"state": ["terminated"]}}),
        true,
    );
    check(json!({"source": ["aws.s3"]}), false);
    check(json!({"source": ["aws.s3", "aws.ec2"]}), true);
    check(json!({"detail": {"state": ["running", "pending"]}}), false);
    check(json!({"detail": {"nope": ["x"]}}), false);
    // A nested pattern against a scalar never matches.
    check(json!({"source": {"inner": ["x"]}}), false);
    // Types are not coerced.
    check(json!({"detail": {"c-count": ["5"]}}), false);
    check(json!({"detail": {"c-count": [5]}}), true);
    check(json!({"detail": {"x-limit": [3.018e2]}}), true);
}

#[test]
fn null_and_empty_string() {
    check(
        json!({"detail": {"responseElements": [null], "eventVersion": [""]}}),
        true,
    );
    check(json!({"detail": {"eventVersion": [null]}}), false);
    check(json!({"detail": {"responseElements": [""]}}), false);
}

#[test]
fn prefix_suffix_and_case() {
    check(json!({"time": [{"prefix": "2017-12-22"}]}), true);
    check(json!({"time": [{"prefix": "2017-10-02"}]}), false);
    check(json!({"detail": {"FileName": [{"suffix": ".png"}]}}), false);
    check(
        json!({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}),
        true,
    );
    check(
        json!({"detail-type": [{"prefix": {"equals-ignore-case": "ec2 INSTANCE"}}]}),
        true,
    );
    check(
        json!({"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}}),
        true,
    );
    // String operators never match numbers.
    check(json!({"detail": {"c-count": [{"prefix": "5"}]}}), false);
}

#[test]
fn anything_but() {
    check(
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        true,
    );
    check(
        json!({"detail": {"state": [{"anything-but": "terminated"}]}}),
        false,
    );
    check(
        json!({"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}}),
        false,
    );
    check(
        json!({"detail": {"c-count": [{"anything-but": [1, 2, 3]}]}}),
        true,
    );
    check(json!({"detail": {"c-count": [{"anything-but": 5}]}}), false);
    check(
        json!({"region": [{"anything-but": {"prefix": "us-"}}]}),
        false,
    );
    check(
        json!({"region": [{"anything-but": {"prefix": "eu-"}}]}),
        true,
    );
    check(
        json!({"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}),
        true,
    );
    check(
        json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["TERMINATED"]}}]}}),
        false,
    );
    check(
        json!({"detail": {"FileName": [{"anything-but": {"wildcard": "*.PNG"}}]}}),
        false,
    );
    // anything-but needs the field to be there.
    check(
        json!({"detail": {"missing": [{"anything-but": "x"}]}}),
        false,
    );
    // With an array in the event: one element outside the set is enough.
    check(json!({"detail": {"tags": [{"anything-but": "red"}]}}), true);
    check(
        json!({"detail": {"tags": [{"anything-but": ["red", "blue"]}]}}),
        false,
    );
}

#[test]
fn numeric() {
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
                          "d-count": [{"numeric": ["<", 10]}],
                          "x-limit": [{"numeric": ["=", 3.018e2]}]}}),
        true,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 5]}]}}),
        false,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">=", 5]}]}}),
        true,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": ["<=", 5, ">=", 5]}]}}),
        true,
    );
    // Strings are not numbers.
    check(json!({"detail": {"state": [{"numeric": [">", 0]}]}}), false);
}

#[test]
fn exists() {
    check(json!({"detail": {"c-count": [{"exists": true}]}}), true);
    check(json!({"detail": {"c-count": [{"exists": false}]}}), false);
    check(json!({"detail": {"nope": [{"exists": false}]}}), true);
    check(json!({"detail": {"nope": [{"exists": true}]}}), false);
    // exists works on leaves only: an object has no leaf.
    check(json!({"detail": [{"exists": true}]}), false);
    check(json!({"detail": [{"exists": false}]}), true);
    // null is a leaf.
    check(
        json!({"detail": {"responseElements": [{"exists": true}]}}),
        true,
    );
}

#[test]
fn cidr() {
    check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}),
        true,
    );
    check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}),
        false,
    );
    check(
        json!({"detail": {"source-ip": [{"cidr": "0.0.0.0/0"}]}}),
        true,
    );
    check(
        json!({"detail": {"source-ip": [{"cidr": "2001:db8::/32"}]}}),
        false,
    );
    check(
        json!({"detail": {"state": [{"cidr": "10.0.0.0/8"}]}}),
        false,
    );
}

#[test]
fn wildcard() {
    check(
        json!({"resources": [{"wildcard": "arn:aws:ec2:us-east-1:*:instance/*"}]}),
        true,
    );
    check(
        json!({"detail": {"FileName": [{"wildcard": "*.PNG"}]}}),
        true,
    );
    check(
        json!({"detail": {"FileName": [{"wildcard": "image*"}]}}),
        true,
    );
    check(
        json!({"detail": {"FileName": [{"wildcard": "*mag*NG"}]}}),
        true,
    );
    check(
        json!({"detail": {"FileName": [{"wildcard": "*.png"}]}}),
        false,
    );
    check(
        json!({"detail": {"FileName": [{"wildcard": "image.PNG"}]}}),
        true,
    );
    check(
        json!({"detail": {"FileName": [{"wildcard": "i*i*.PNG"}]}}),
        false,
    );
}

#[test]
fn wildcard_escapes() {
    let p = EventPattern::parse(r#"{"k": [{"wildcard": "a\\*b*"}]}"#).unwrap();
    assert!(p.matches(&json!({"k": "a*bcd"})));
    assert!(!p.matches(&json!({"k": "axbcd"})));
    let p = EventPattern::parse(r#"{"k": [{"wildcard": "a\\\\*"}]}"#).unwrap();
    assert!(p.matches(&json!({"k": "a\\zz"})));
}

#[test]
fn arrays() {
    check(
        json!({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                             "arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}),
        true,
    );
    check(
        json!({"resources": ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}),
        false,
    );
    check(json!({"detail": {"tags": ["blue"]}}), true);
    // Arrays of objects match element by element.
    check(
        json!({"detail": {"items": {"name": ["b"], "qty": [7]}}}),
        true,
    );
    check(
        json!({"detail": {"items": {"name": ["a"], "qty": [7]}}}),
        false,
    );
}

#[test]
fn or() {
    check(
        json!({"detail": {"$or": [
            {"c-count": [{"numeric": [">", 10]}]},
            {"d-count": [{"numeric": ["<", 10]}]}
        ]}}),
        true,
    );
    check(
        json!({"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["running"]}}]}),
        false,
    );
    check(
        json!({"source": ["aws.ec2"], "$or": [{"region": ["eu-west-1"]}, {"detail": {"location": [{"prefix": "us-"}]}}]}),
        true,
    );
}

fn refused(text: &str, reason_part: &str) {
    match EventPattern::parse(text) {
        Ok(_) => panic!("pattern {text} was accepted"),
        Err(e) => assert!(
            e.to_string().contains(reason_part),
            "refusal of {text} was {e:?}, expected it to mention {reason_part:?}"
        ),
    }
}

#[test]
fn refusals_say_what_and_where() {
    refused("[1]", "must be a JSON object");
    refused("{}", "at least one field");
    refused("not json", "not valid JSON");
    refused(r#"{"source": "aws.ec2"}"#, "inside an array");
    refused(r#"{"source": []}"#, "must not be empty");
    refused(
        r#"{"detail": {"state": [{"prefix": 1}]}}"#,
        "detail.state[0].prefix",
    );
    refused(
        r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
        "exactly one key",
    );
    refused(
        r#"{"a": [{"regex": "x"}]}"#,
        "unknown match operator \"regex\"",
    );
    refused(
        r#"{"a": [{"numeric": [">", "1"]}]}"#,
        "operator/number pairs",
    );
    refused(
        r#"{"a": [{"numeric": [">", 1, ">", 2]}]}"#,
        "at most one lower bound",
    );
    refused(
        r#"{"a": [{"numeric": [">", 5, "<", 1]}]}"#,
        "below its upper bound",
    );
    refused(
        r#"{"a": [{"numeric": ["=", 1, "<", 2]}]}"#,
        "cannot be combined",
    );
    refused(
        r#"{"a": [{"numeric": ["<", 6e9]}]}"#,
        "between -5.0e9 and 5.0e9",
    );
    refused(
        r#"{"a": [{"numeric": ["~", 1]}]}"#,
        "unknown numeric operator",
    );
    refused(r#"{"a": [{"exists": "yes"}]}"#, "true or false");
    refused(r#"{"a": [{"cidr": "10.0.0.0/33"}]}"#, "not a CIDR block");
    refused(r#"{"a": [{"cidr": "10.0.0/8"}]}"#, "not a CIDR block");
    refused(r#"{"a": [{"wildcard": "a**b"}]}"#, "consecutive wildcard");
    refused(r#"{"a": [{"wildcard": "a\\b"}]}"#, "backslash");
    refused(r#"{"a": [{"anything-but": []}]}"#, "at least one value");
    refused(
        r#"{"a": [{"anything-but": ["x", 1]}]}"#,
        "all strings or all numbers",
    );
    refused(
        r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#,
        "cannot take \"numeric\"",
    );
    refused(r#"{"a": [{"anything-but": null}]}"#, "anything-but takes");
    refused(r#"{"$or": [{"a": ["x"]}]}"#, "at least two");
    refused(r#"{"$or": {"a": ["x"]}}"#, "array of patterns");
    refused(r#"{"a": [[1]]}"#, "a match value must be");
}

#[test]
fn non_object_events_match_nothing() {
    let p = EventPattern::parse(r#"{"a": [{"exists": false}]}"#).unwrap();
    assert!(p.matches(&json!({})));
    assert!(!p.matches(&json!([1, 2])));
    assert!(!p.matches(&json!("text")));
}
