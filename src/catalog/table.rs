//! Every runtime id of AWS Lambda's runtime table, what lambdabox needs on the host to serve
//! it, what to install when it is missing, and the dates AWS publishes for it.
//!
//! Dates are AWS's (`docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html`, the
//! "Supported runtimes" and "Deprecated runtimes" tables, as published in 2026): deprecation,
//! block function create, block function update. lambdabox shows them (dashboard,
//! `lambdabox runtimes`) but does not enforce the block dates: on your own host an old
//! interpreter keeps running as long as you keep it installed.

/// What serves a runtime id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `python3.N`: a python3.N interpreter and the embedded python client.
    Python(u32),
    /// `nodejsN.x`: a node N binary and the embedded node client.
    Node(u32),
    /// `javaN`: a JRE/JDK of major version N and the embedded Java client.
    Java(u32),
    /// `ruby3.N`: a ruby 3.N interpreter and the embedded ruby client.
    Ruby(u32),
    /// `dotnetN`: needs a .NET host; lambdabox has no .NET client.
    Dotnet(u32),
    /// `provided*`: the function's own `bootstrap`.
    Provided,
    /// An id AWS retired that lambdabox does not serve (python2.7, nodejs16.x, go1.x, …).
    Retired,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub id: &'static str,
    /// AWS's display name, e.g. `Java 21`.
    pub name: &'static str,
    pub family: Family,
    /// `YYYY-MM-DD`, AWS's deprecation date (past or projected).
    pub deprecation: Option<&'static str>,
    /// `YYYY-MM-DD`, when AWS blocks creating functions with it.
    pub block_create: Option<&'static str>,
    /// `YYYY-MM-DD`, when AWS blocks updating functions with it.
    pub block_update: Option<&'static str>,
    /// What provides the interpreter (Debian package first).
    pub install: &'static str,
}

const fn row(
    id: &'static str,
    name: &'static str,
    family: Family,
    dates: [&'static str; 3],
    install: &'static str,
) -> Spec {
    Spec {
        id,
        name,
        family,
        deprecation: Some(dates[0]),
        block_create: Some(dates[1]),
        block_update: Some(dates[2]),
        install,
    }
}

use Family::*;

/// The table, newest first within each language, as AWS lists it.
pub const RUNTIMES: &[Spec] = &[
    row("nodejs24.x", "Node.js 24", Node(24), ["2028-04-30", "2028-06-01", "2028-07-01"],
        "a node 24 binary: NodeSource's `nodejs` 24.x package, or node 24 on PATH as `node24`"),
    row("nodejs22.x", "Node.js 22", Node(22), ["2027-04-30", "2027-06-01", "2027-07-01"],
        "a node 22 binary: NodeSource's `nodejs` 22.x package, or node 22 on PATH as `node22`"),
    row("nodejs20.x", "Node.js 20", Node(20), ["2026-04-30", "2026-06-01", "2026-07-01"],
        "Debian 13's `nodejs` (20.x) or NodeSource's `nodejs` 20.x package"),
    row("nodejs18.x", "Node.js 18", Node(18), ["2025-09-01", "2025-10-01", "2025-11-01"],
        "Debian 12's `nodejs` (18.x)"),
    row("python3.14", "Python 3.14", Python(14), ["2029-06-30", "2029-07-31", "2029-08-31"],
        "`python3.14` (Debian testing) or pyenv (`pyenv install 3.14`)"),
    row("python3.13", "Python 3.13", Python(13), ["2029-06-30", "2029-07-31", "2029-08-31"],
        "Debian 13's `python3.13` or pyenv (`pyenv install 3.13`)"),
    row("python3.12", "Python 3.12", Python(12), ["2028-10-31", "2028-11-30", "2029-01-10"],
        "pyenv (`pyenv install 3.12`; Debian has no python3.12 package)"),
    row("python3.11", "Python 3.11", Python(11), ["2026-06-30", "2026-07-31", "2026-08-31"],
        "Debian 12's `python3.11`"),
    row("python3.10", "Python 3.10", Python(10), ["2026-06-30", "2026-07-31", "2026-08-31"],
        "pyenv (`pyenv install 3.10`; Debian has no python3.10 package)"),
    row("python3.9", "Python 3.9", Python(9), ["2025-12-15", "2026-06-01", "2026-07-01"],
        "Debian 11's `python3.9` or pyenv (`pyenv install 3.9`)"),
    row("java25", "Java 25", Java(25), ["2029-06-30", "2029-07-31", "2029-08-31"],
        "a JDK or JRE 25 in /usr/lib/jvm: `openjdk-25-jre-headless` (Debian 13 backports) or Adoptium's `temurin-25-jre`"),
    row("java21", "Java 21", Java(21), ["2029-06-30", "2029-07-31", "2029-08-31"],
        "a JDK or JRE 21 in /usr/lib/jvm: Debian 13's `openjdk-21-jre-headless` or Adoptium's `temurin-21-jre`"),
    row("java17", "Java 17", Java(17), ["2026-06-30", "2026-07-31", "2026-08-31"],
        "Debian 12's `openjdk-17-jre-headless`"),
    row("java11", "Java 11", Java(11), ["2026-06-30", "2026-07-31", "2026-08-31"],
        "a JDK or JRE 11 in /usr/lib/jvm: Debian 11's `openjdk-11-jre-headless` or Adoptium's `temurin-11-jre`"),
    row("java8.al2", "Java 8", Java(8), ["2026-06-30", "2026-07-31", "2026-08-31"],
        "a JDK or JRE 8 in /usr/lib/jvm: Adoptium's `temurin-8-jre` (Debian no longer packages Java 8)"),
    row("dotnet10", ".NET 10", Dotnet(10), ["2028-11-14", "2028-12-14", "2029-01-15"],
        "no .NET runtime client in lambdabox yet (the host would also need Microsoft's `dotnet-runtime-10.0`)"),
    row("dotnet8", ".NET 8", Dotnet(8), ["2026-11-10", "2026-12-10", "2027-01-11"],
        "no .NET runtime client in lambdabox yet (the host would also need Microsoft's `dotnet-runtime-8.0`)"),
    row("ruby3.4", "Ruby 3.4", Ruby(4), ["2028-03-31", "2028-04-30", "2028-05-31"],
        "`ruby3.4` (Debian testing)"),
    row("ruby3.3", "Ruby 3.3", Ruby(3), ["2027-03-31", "2027-04-30", "2027-05-31"],
        "Debian 13's `ruby3.3`"),
    row("ruby3.2", "Ruby 3.2", Ruby(2), ["2026-03-31", "2026-06-01", "2026-07-01"],
        "`ruby3.2` (Debian 12 ships ruby3.1 instead, which an admin may map to ruby3.2 in the config)"),
    row("provided.al2023", "OS-only Runtime", Provided, ["2029-06-30", "2029-07-31", "2029-08-31"],
        "nothing: the function brings its own bootstrap"),
    row("provided.al2", "OS-only Runtime", Provided, ["2026-06-30", "2026-07-31", "2026-08-31"],
        "nothing: the function brings its own bootstrap"),
    row("provided", "Custom Runtime", Provided, ["2024-01-08", "2024-02-08", "2025-11-01"],
        "nothing: the function brings its own bootstrap"),
    // Retired ids: AWS refuses new functions with them; lambdabox does not serve them.
    row("java8", "Java 8 (Amazon Linux 1)", Retired, ["2024-01-08", "2024-02-08", "2025-11-01"],
        "nothing lambdabox serves: use java8.al2 or java21"),
    row("go1.x", "Go 1.x", Retired, ["2024-01-08", "2024-02-08", "2025-11-01"],
        "nothing lambdabox serves: build the Go program as `bootstrap` for provided.al2023"),
    row("dotnet6", ".NET 6", Retired, ["2024-12-20", "2025-10-01", "2025-11-01"],
        "nothing lambdabox serves: use dotnet8"),
    row("nodejs16.x", "Node.js 16", Retired, ["2024-06-12", "2025-10-01", "2025-11-01"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs14.x", "Node.js 14", Retired, ["2023-12-04", "2024-07-09", "2025-11-01"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs12.x", "Node.js 12", Retired, ["2023-03-31", "2023-03-31", "2023-04-30"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs10.x", "Node.js 10", Retired, ["2021-07-30", "2021-07-30", "2022-02-14"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs8.10", "Node.js 8.10", Retired, ["2020-03-06", "2020-03-06", "2020-03-06"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs6.10", "Node.js 6.10", Retired, ["2019-08-12", "2019-08-12", "2019-08-12"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs4.3-edge", "Node.js 4.3 edge", Retired, ["2020-03-05", "2019-04-30", "2019-04-30"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs4.3", "Node.js 4.3", Retired, ["2020-03-05", "2020-03-05", "2020-03-05"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("nodejs", "Node.js 0.10", Retired, ["2016-10-31", "2016-10-31", "2016-10-31"],
        "nothing lambdabox serves: use nodejs20.x or later"),
    row("python3.8", "Python 3.8", Retired, ["2024-10-14", "2025-10-01", "2025-11-01"],
        "nothing lambdabox serves: use python3.9 or later"),
    row("python3.7", "Python 3.7", Retired, ["2023-12-04", "2024-01-09", "2025-11-01"],
        "nothing lambdabox serves: use python3.9 or later"),
    row("python3.6", "Python 3.6", Retired, ["2022-07-18", "2022-07-18", "2022-08-29"],
        "nothing lambdabox serves: use python3.9 or later"),
    row("python2.7", "Python 2.7", Retired, ["2021-07-15", "2021-07-15", "2022-05-30"],
        "nothing lambdabox serves: use python3.9 or later"),
    row("ruby2.7", "Ruby 2.7", Retired, ["2023-12-07", "2024-01-09", "2025-11-01"],
        "nothing lambdabox serves: use ruby3.2 or later"),
    row("ruby2.5", "Ruby 2.5", Retired, ["2021-07-30", "2021-07-30", "2022-03-31"],
        "nothing lambdabox serves: use ruby3.2 or later"),
    row("dotnetcore3.1", ".NET Core 3.1", Retired, ["2023-04-03", "2023-04-03", "2023-05-03"],
        "nothing lambdabox serves"),
    row("dotnetcore2.1", ".NET Core 2.1", Retired, ["2022-01-05", "2022-01-05", "2022-04-13"],
        "nothing lambdabox serves"),
    row("dotnetcore2.0", ".NET Core 2.0", Retired, ["2019-05-30", "2019-05-30", "2019-05-30"],
        "nothing lambdabox serves"),
    row("dotnetcore1.0", ".NET Core 1.0", Retired, ["2019-06-27", "2019-07-30", "2019-07-30"],
        "nothing lambdabox serves"),
];

/// The row of `id`.
pub fn spec(id: &str) -> Option<&'static Spec> {
    RUNTIMES.iter().find(|s| s.id == id)
}

impl Spec {
    /// The family of a Lambda runtime id, if the table knows it.
    pub fn family_of(id: &str) -> Option<Family> {
        spec(id).map(|s| s.family)
    }

    /// True once `today` (`YYYY-MM-DD`) is on or after the deprecation date.
    pub fn deprecated_on(&self, today: &str) -> bool {
        self.deprecation.is_some_and(|d| today >= d)
    }
}

/// Today's UTC date, `YYYY-MM-DD`.
pub fn today() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

/// What AWS publishes about `id`'s lifecycle, as one short phrase for the dashboard:
/// `deprecated 2025-12-15 (AWS blocks creates from 2026-06-01, updates from 2026-07-01)` or
/// `AWS deprecation 2029-06-30`.
pub fn lifecycle(id: &str, today: &str) -> Option<String> {
    let s = spec(id)?;
    let d = s.deprecation?;
    if s.deprecated_on(today) {
        Some(format!(
            "deprecated by AWS {d} (AWS blocks creates from {}, updates from {})",
            s.block_create.unwrap_or("-"),
            s.block_update.unwrap_or("-")
        ))
    } else {
        Some(format!("AWS deprecation {d}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate::KNOWN_RUNTIMES;

    #[test]
    fn every_known_runtime_has_a_row_and_dates_are_ordered() {
        for id in KNOWN_RUNTIMES {
            let s = spec(id).unwrap_or_else(|| panic!("{id} has no row"));
            if let (Some(d), Some(c), Some(u)) = (s.deprecation, s.block_create, s.block_update) {
                for x in [d, c, u] {
                    assert_eq!(x.len(), 10, "{id}: {x}");
                }
                assert!(c <= u, "{id}: create block after update block");
            }
        }
        let mut ids: Vec<_> = RUNTIMES.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RUNTIMES.len(), "duplicate rows");
    }

    #[test]
    fn deprecation_compares_dates() {
        let s = spec("python3.9").unwrap_or_else(|| panic!("row"));
        assert!(s.deprecated_on("2026-01-01"));
        assert!(!s.deprecated_on("2025-12-14"));
        assert_eq!(Spec::family_of("java21"), Some(Family::Java(21)));
        assert_eq!(
            lifecycle("python3.9", "2026-01-01").as_deref(),
            Some("deprecated by AWS 2025-12-15 (AWS blocks creates from 2026-06-01, updates from 2026-07-01)")
        );
        assert_eq!(
            lifecycle("java21", "2026-01-01").as_deref(),
            Some("AWS deprecation 2029-06-30")
        );
        assert_eq!(today().len(), 10);
    }
}
