//! Host facts inside an environment: the host's boot id, kernel command line, data-dir path and
//! the code's digest appear nowhere a function can read; /proc entries container runtimes
//! mask are masked; an API error for a broken package names no host path.

use sha2::Digest as _;

use super::{create, daemon, invoke, invoke_ok, zip_of};

/// Reads everything a function can cheaply reach that could carry host facts.
const SNOOP: &str = r#"
import os, json
def read(p, limit=1 << 16):
    try:
        with open(p, 'rb') as f:
            return f.read(limit).decode('utf-8', 'replace')
    except OSError as e:
        return f'<{e.__class__.__name__}>'
def handler(event, context):
    out = {}
    for p in ['/proc/self/mountinfo', '/proc/self/mounts', '/proc/1/mountinfo', '/proc/mounts',
              '/proc/cmdline', '/proc/sys/kernel/random/boot_id', '/proc/self/environ',
              '/proc/self/maps', '/proc/self/status', '/proc/self/cgroup', '/proc/1/cmdline',
              '/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/kallsyms']:
        out[p] = read(p)
    for p in ['/proc/self/exe', '/proc/self/cwd', '/proc/self/root'] + [f'/proc/self/fd/{n}' for n in os.listdir('/proc/self/fd')]:
        try:
            out['link ' + p] = os.readlink(p)
        except OSError as e:
            out['link ' + p] = f'<{e.__class__.__name__}>'
    for top in ['/etc', '/var', '/opt', '/tmp']:
        for dirpath, dirs, files in os.walk(top):
            for f in files:
                out[os.path.join(dirpath, f)] = read(os.path.join(dirpath, f), 4096)
    out['env'] = dict(os.environ)
    out['acpi'] = os.listdir('/proc/acpi') if os.path.isdir('/proc/acpi') else None
    return out
"#;

#[test]
fn sandbox_daemon_shows_no_host_facts_inside() {
    let d = daemon(&[]);
    let zip = zip_of(&[("app.py", SNOOP)]);
    let digest = hex::encode(sha2::Sha256::digest(&zip));
    create(&d, "snoop", "python3.11", "app.handler", &zip, 256, 20);
    create(&d, "snoop2", "python3.11", "app.handler", &zip, 256, 20);
    let a = invoke_ok(&d, "snoop", &serde_json::json!({}));
    let b = invoke_ok(&d, "snoop2", &serde_json::json!({}));
    let text = format!("{a}\n{b}");
    let host_boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let host_cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let data = std::fs::canonicalize(&d.data_dir).unwrap_or_else(|_| d.data_dir.clone());
    let mut secrets = vec![
        ("host boot id", host_boot.trim().to_string()),
        ("host kernel command line", host_cmdline.trim().to_string()),
        ("data dir", data.display().to_string()),
        ("data dir as given", d.data_dir.display().to_string()),
        ("code digest", digest),
    ];
    secrets.retain(|(_, v)| v.len() >= 8);
    for (what, value) in &secrets {
        if let Some(at) = text.find(value.as_str()) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(300)
                .map_or(0, |(i, _)| i);
            let context: String = text[from..].chars().take(700).collect();
            panic!("the {what} ({value}) is visible inside:\n{context}");
        }
    }
    let boot = |v: &serde_json::Value| {
        v["/proc/sys/kernel/random/boot_id"]
            .as_str()
            .unwrap_or("")
            .trim()
            .to_string()
    };
    assert_eq!(boot(&a).len(), 36, "boot id inside: {:?}", boot(&a));
    assert_ne!(boot(&a), boot(&b), "two environments share a boot id");
    let mountinfo = a["/proc/self/mountinfo"].as_str().unwrap_or("");
    assert!(
        mountinfo
            .lines()
            .any(|l| l.contains(" /var/task ") && l.contains(" - overlay ")),
        "/var/task is not the neutral overlay:\n{mountinfo}"
    );
    for masked in [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
        "/proc/kallsyms",
    ] {
        let v = a[masked].as_str().unwrap_or("");
        assert!(
            v.is_empty() || v.starts_with('<'),
            "{masked} is readable: {}",
            &v[..v.len().min(200)]
        );
    }
    assert_eq!(a["acpi"], serde_json::json!([]), "/proc/acpi is not masked");
    assert_eq!(
        a["/proc/cmdline"].as_str().map(str::trim),
        Some("lambdabox")
    );
}

#[test]
fn sandbox_daemon_broken_package_error_names_no_host_path() {
    let d = daemon(&[]);
    // "lib" is a file, then "lib/x.py" needs it to be a directory: extraction fails.
    let zip = zip_of(&[
        ("app.py", "def handler(e, c):\n    return 1\n"),
        ("lib", "x"),
        ("lib/x.py", "y"),
    ]);
    create(&d, "broken", "python3.11", "app.handler", &zip, 128, 5);
    let (status, _, body) = invoke(&d, "broken", &serde_json::json!({}));
    let data = std::fs::canonicalize(&d.data_dir).unwrap_or_else(|_| d.data_dir.clone());
    assert!(status >= 400, "{status} {body}");
    assert!(
        !body.contains(&data.display().to_string()),
        "host path in the error: {body}"
    );
    assert!(!body.contains("/cache/"), "cache path in the error: {body}");
    assert!(
        body.contains("package entry lib "),
        "the error does not say which entry: {body}"
    );
    assert!(
        d.log().contains("cannot prepare the function's code"),
        "the daemon's log lacks the detail"
    );
}
