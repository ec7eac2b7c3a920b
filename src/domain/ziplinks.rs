//! The symbolic links of a deployment package. A package keeps its links (a layer's
//! `libfoo.so -> libfoo.so.1`); they are resolved only inside the sandbox, so any target text
//! is allowed. What is refused is what extraction could not do without writing through a
//! link: an entry below a link (`lib -> /etc` then `lib/x`), or two entries of one path.

use std::collections::HashSet;

/// Longest link target (Linux's PATH_MAX less the NUL).
pub const MAX_TARGET: u64 = 4095;

/// True when a zip entry's unix mode says "symbolic link".
pub fn is_link(mode: Option<u32>) -> bool {
    mode.is_some_and(|m| m & 0o170000 == 0o120000)
}

/// The paths of a package, collected entry by entry.
#[derive(Debug, Default)]
pub struct Links {
    links: HashSet<String>,
    paths: Vec<String>,
    seen: HashSet<String>,
}

impl Links {
    /// Records one entry; refuses a second entry of a file or link path, and oversized links.
    pub fn add(
        &mut self,
        name: &str,
        is_dir: bool,
        mode: Option<u32>,
        size: u64,
    ) -> Result<(), String> {
        let path = name
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        if path.is_empty() {
            return Ok(());
        }
        let link = is_link(mode);
        if link && size > MAX_TARGET {
            return Err(format!(
                "Entry '{name}' is a symbolic link with a target longer than {MAX_TARGET} bytes."
            ));
        }
        if !self.seen.insert(path.clone()) && !is_dir {
            return Err(format!("Entry '{name}' appears twice."));
        }
        if link {
            self.links.insert(path.clone());
        }
        self.paths.push(path);
        Ok(())
    }

    /// Refuses any entry that lies below a link of the package.
    pub fn check(&self) -> Result<(), String> {
        if self.links.is_empty() {
            return Ok(());
        }
        for p in &self.paths {
            let mut end = 0;
            while let Some(i) = p[end..].find('/') {
                end += i;
                let ancestor = &p[..end];
                if self.links.contains(ancestor) {
                    return Err(format!(
                        "Entry '{p}' lies below the symbolic link '{ancestor}': a package cannot write through its own links."
                    ));
                }
                end += 1;
            }
        }
        Ok(())
    }
}

/// A link's target must be non-empty and hold no NUL byte.
pub fn check_target(name: &str, target: &[u8]) -> Result<(), String> {
    if target.is_empty() || target.contains(&0) {
        return Err(format!(
            "Entry '{name}' is a symbolic link with an empty or invalid target."
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LINK: Option<u32> = Some(0o120777);
    const FILE: Option<u32> = Some(0o100644);

    #[test]
    fn entries_below_a_link_or_twice_are_refused() {
        let mut l = Links::default();
        l.add("lib/", true, None, 0).unwrap();
        l.add("lib/libfoo.so", false, LINK, 11).unwrap();
        l.add("lib/libfoo.so.1", false, FILE, 100).unwrap();
        l.add("abs", false, LINK, 11).unwrap();
        l.check().unwrap();
        l.add("abs/x", false, FILE, 1).unwrap();
        assert!(l
            .check()
            .unwrap_err()
            .contains("below the symbolic link 'abs'"));
        let mut l = Links::default();
        l.add("a", false, FILE, 1).unwrap();
        assert!(l.add("a", false, LINK, 1).unwrap_err().contains("twice"));
        assert!(Links::default().add("x", false, LINK, 5000).is_err());
        assert!(check_target("x", b"").is_err() && check_target("x", b"a\0").is_err());
        assert!(check_target("x", b"/etc/shadow").is_ok());
    }
}
