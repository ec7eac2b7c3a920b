//! Roles of dashboard users and the table of which route needs which role.
//!
//! `admin` may do everything; `developer` works on functions, layers, queues, schedules and
//! triggers and manages the API keys they created; `viewer` reads. [`RULES`] lists every
//! dashboard route with the least role it needs (for `POST /ui/settings`, per `action`);
//! [`required`] is what the guard checks, after the session and before the CSRF token and
//! the handler. A route missing from the table needs `viewer` for GET/HEAD and `admin` for
//! anything else, so a page added later is closed to non-admins until it is listed here.
//! These are dashboard roles only; API keys carry their own permissions.

use serde::Serialize;

/// A dashboard user's role, ordered from least to most allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Developer,
    Admin,
}

impl Role {
    /// Every role, least allowed first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Developer, Role::Admin];

    /// The role of a stored name (an unknown name gives the least role).
    pub fn parse(s: &str) -> Role {
        match s {
            "admin" => Role::Admin,
            "developer" => Role::Developer,
            _ => Role::Viewer,
        }
    }

    /// A stored name as a role, `None` if it names none.
    pub fn from_name(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Admin => "admin",
        }
    }

    /// What the role may do, in plain words.
    pub fn summary(self) -> &'static str {
        match self {
            Role::Viewer => "reads everything, changes nothing (but their own password)",
            Role::Developer => {
                "creates, edits, tests and deletes functions, layers, queues, schedules and triggers, and manages their own API keys"
            }
            Role::Admin => "everything, including users and every API key",
        }
    }
}

/// One row of the table: method, path pattern (`{}` is one path segment), the `action`
/// field of the form (`*` for any) and the least role.
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub action: &'static str,
    pub role: Role,
}

const fn rule(method: &'static str, path: &'static str, action: &'static str, role: Role) -> Rule {
    Rule {
        method,
        path,
        action,
        role,
    }
}

use Role::{Admin, Developer, Viewer};

/// Every dashboard route and the least role it needs. The login page and static assets need
/// no session at all and are not listed.
pub const RULES: &[Rule] = &[
    rule("GET", "/ui/", "*", Viewer),
    rule("POST", "/ui/logout", "*", Viewer),
    rule("GET", "/ui/functions", "*", Viewer),
    rule("GET", "/ui/functions/new", "*", Developer),
    rule("POST", "/ui/functions/new", "*", Developer),
    rule("GET", "/ui/functions/{}", "*", Viewer),
    rule("POST", "/ui/functions/{}/delete", "*", Developer),
    rule("GET", "/ui/functions/{}/code", "*", Viewer),
    rule("POST", "/ui/functions/{}/code", "*", Developer),
    rule("GET", "/ui/functions/{}/package", "*", Viewer),
    rule("POST", "/ui/functions/{}/upload", "*", Developer),
    rule("POST", "/ui/functions/{}/files", "*", Developer),
    rule("GET", "/ui/functions/{}/test", "*", Viewer),
    rule("POST", "/ui/functions/{}/test", "*", Developer),
    rule("GET", "/ui/functions/{}/configuration", "*", Viewer),
    rule("POST", "/ui/functions/{}/configuration", "*", Developer),
    rule("POST", "/ui/functions/{}/async", "*", Developer),
    rule("POST", "/ui/functions/{}/concurrency", "*", Developer),
    rule("GET", "/ui/functions/{}/versions", "*", Viewer),
    rule("POST", "/ui/functions/{}/versions", "*", Developer),
    rule("GET", "/ui/functions/{}/logs", "*", Viewer),
    rule("GET", "/ui/functions/{}/logs/tail", "*", Viewer),
    rule("GET", "/ui/functions/{}/monitoring", "*", Viewer),
    rule("GET", "/ui/functions/{}/triggers", "*", Viewer),
    rule("POST", "/ui/functions/{}/triggers", "*", Developer),
    rule("GET", "/ui/queues", "*", Viewer),
    rule("POST", "/ui/queues", "*", Developer),
    rule("GET", "/ui/queues/{}", "*", Viewer),
    rule("POST", "/ui/queues/{}/send", "*", Developer),
    rule("POST", "/ui/queues/{}/purge", "*", Developer),
    rule("POST", "/ui/queues/{}/delete", "*", Developer),
    rule("POST", "/ui/queues/{}/redrive", "*", Developer),
    rule("GET", "/ui/apis", "*", Viewer),
    rule("GET", "/ui/layers", "*", Viewer),
    rule("POST", "/ui/layers", "*", Developer),
    rule("POST", "/ui/layers/delete", "*", Developer),
    rule("GET", "/ui/schedules", "*", Viewer),
    rule("POST", "/ui/schedules", "*", Developer),
    rule("GET", "/ui/schedules/preview", "*", Viewer),
    rule("POST", "/ui/schedules/state", "*", Developer),
    rule("POST", "/ui/schedules/delete", "*", Developer),
    rule("GET", "/ui/functions/{}/traces", "*", Viewer),
    rule("GET", "/ui/functions/{}/permissions", "*", Viewer),
    rule("GET", "/ui/cost", "*", Viewer),
    rule("GET", "/ui/buckets", "*", Viewer),
    rule("POST", "/ui/buckets", "*", Developer),
    rule("GET", "/ui/buckets/{}", "*", Viewer),
    rule("POST", "/ui/buckets/{}/upload", "*", Developer),
    rule("GET", "/ui/buckets/{}/download", "*", Viewer),
    rule("POST", "/ui/buckets/{}/delete-object", "*", Developer),
    rule("POST", "/ui/buckets/{}/delete", "*", Developer),
    rule("POST", "/ui/buckets/{}/rules", "*", Developer),
    // IAM roles decide what functions may call: changing them is an admin's.
    rule("GET", "/ui/roles", "*", Viewer),
    rule("POST", "/ui/roles", "*", Admin),
    rule("GET", "/ui/roles/{}", "*", Viewer),
    rule("GET", "/ui/settings", "*", Viewer),
    rule("POST", "/ui/settings", "password", Viewer),
    rule("POST", "/ui/settings", "create_key", Developer),
    rule("POST", "/ui/settings", "revoke_key", Developer),
    rule("POST", "/ui/settings", "add_user", Admin),
    rule("POST", "/ui/settings", "remove_user", Admin),
    rule("POST", "/ui/settings", "set_role", Admin),
    rule("POST", "/ui/settings", "*", Admin),
];

fn path_matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('/');
    let mut s = path.split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return true,
            (Some("{}"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The least role a request needs (see the module doc for routes not in [`RULES`]).
pub fn required(method: &str, path: &str, action: Option<&str>) -> Role {
    let method = if method == "HEAD" { "GET" } else { method };
    let action = action.unwrap_or("");
    RULES
        .iter()
        .filter(|r| r.method == method && path_matches(r.path, path))
        .find(|r| r.action == "*" || r.action == action)
        .map_or(if method == "GET" { Viewer } else { Admin }, |r| r.role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_answers_per_route_and_action() {
        assert_eq!(required("GET", "/ui/functions", None), Viewer);
        assert_eq!(required("HEAD", "/ui/functions/f/code", None), Viewer);
        assert_eq!(required("POST", "/ui/functions/f/code", None), Developer);
        assert_eq!(required("POST", "/ui/functions/f/logs/tail", None), Admin);
        assert_eq!(required("POST", "/ui/settings", Some("password")), Viewer);
        assert_eq!(
            required("POST", "/ui/settings", Some("create_key")),
            Developer
        );
        assert_eq!(required("POST", "/ui/settings", Some("add_user")), Admin);
        assert_eq!(required("POST", "/ui/settings", Some("other")), Admin);
        assert_eq!(required("POST", "/ui/settings", None), Admin);
        // not listed: reading is open to viewers, writing only to admins
        assert_eq!(required("GET", "/ui/not-listed", None), Viewer);
        assert_eq!(required("POST", "/ui/not-listed", None), Admin);
        assert_eq!(required("POST", "/ui/buckets", None), Developer);
        assert_eq!(required("POST", "/ui/roles", None), Admin);
        assert_eq!(required("DELETE", "/ui/functions/f", None), Admin);
        assert!(!path_matches("/ui/functions/{}", "/ui/functions/"));
        assert!(Viewer < Developer && Developer < Admin);
        assert_eq!(Role::parse("developer"), Developer);
        assert_eq!(Role::parse("nonsense"), Viewer);
        assert_eq!(Role::from_name("root"), None);
    }
}
