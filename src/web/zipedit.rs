//! Deployment packages as the Code tab sees them: the file list of a zip, one file's text,
//! a one-file package built from the inline editor, and a package with one file replaced,
//! added, renamed or removed (every other entry copied byte for byte).

use std::io::{Cursor, Read, Write};

use serde::Serialize;
use zip::write::SimpleFileOptions;

/// Largest file the viewer shows.
pub const MAX_VIEW: u64 = 512 * 1024;
/// Packages up to this size can be edited in the browser.
pub const MAX_EDITABLE_PACKAGE: u64 = 3 * 1024 * 1024;

/// One entry of a package.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub depth: usize,
    pub is_dir: bool,
}

fn err(e: impl std::fmt::Display) -> String {
    format!("the package cannot be read: {e}")
}

/// The entries of a package, sorted by path (directories implied by paths included).
pub fn entries(zip: &[u8]) -> Result<Vec<Entry>, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(zip)).map_err(err)?;
    let mut out = std::collections::BTreeMap::new();
    for i in 0..z.len() {
        let f = z.by_index_raw(i).map_err(err)?;
        let path = f.name().trim_end_matches('/').to_string();
        let mut acc = String::new();
        for part in path
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(part);
            out.entry(acc.clone()).or_insert((0, true));
        }
        out.insert(path, (f.size(), f.is_dir()));
    }
    Ok(out
        .into_iter()
        .map(|(path, (size, is_dir))| Entry {
            depth: path.matches('/').count(),
            path,
            size,
            is_dir,
        })
        .collect())
}

/// The names of the files (not directories) of a package.
pub fn file_names(zip: &[u8]) -> Result<Vec<String>, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(zip)).map_err(err)?;
    let mut out = Vec::new();
    for i in 0..z.len() {
        let f = z.by_index_raw(i).map_err(err)?;
        if !f.is_dir() {
            out.push(f.name().to_string());
        }
    }
    Ok(out)
}

/// The text of one file (None if absent, too large or not UTF-8).
pub fn read_text(zip: &[u8], path: &str) -> Result<Option<String>, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(zip)).map_err(err)?;
    let Ok(f) = z.by_name(path) else {
        return Ok(None);
    };
    if f.size() > MAX_VIEW || f.is_dir() {
        return Ok(None);
    }
    let mut buf = Vec::new();
    f.take(MAX_VIEW).read_to_end(&mut buf).map_err(err)?;
    Ok(String::from_utf8(buf).ok())
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644)
}

/// A package holding one file.
pub fn single_file(path: &str, text: &str) -> Result<Vec<u8>, String> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file(path, options()).map_err(err)?;
    w.write_all(text.as_bytes()).map_err(err)?;
    Ok(w.finish().map_err(err)?.into_inner())
}

/// `zip` with `path` replaced by (or added as) `text`; other entries are copied unchanged.
pub fn replace_file(zip: &[u8], path: &str, text: &str) -> Result<Vec<u8>, String> {
    let mut src = zip::ZipArchive::new(Cursor::new(zip)).map_err(err)?;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..src.len() {
        let f = src.by_index_raw(i).map_err(err)?;
        if f.name() == path {
            continue;
        }
        w.raw_copy_file(f).map_err(err)?;
    }
    w.start_file(path, options()).map_err(err)?;
    w.write_all(text.as_bytes()).map_err(err)?;
    Ok(w.finish().map_err(err)?.into_inner())
}

/// Whether `zip` has a file (not a directory) named `path`.
pub fn has_file(zip: &[u8], path: &str) -> Result<bool, String> {
    Ok(file_names(zip)?.iter().any(|n| n == path))
}

/// `zip` without the file `path` (which must exist).
pub fn remove_file(zip: &[u8], path: &str) -> Result<Vec<u8>, String> {
    let mut src = zip::ZipArchive::new(Cursor::new(zip)).map_err(err)?;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut found = false;
    for i in 0..src.len() {
        let f = src.by_index_raw(i).map_err(err)?;
        if f.name() == path && !f.is_dir() {
            found = true;
            continue;
        }
        w.raw_copy_file(f).map_err(err)?;
    }
    if !found {
        return Err(format!("{path} is not in the package"));
    }
    Ok(w.finish().map_err(err)?.into_inner())
}

/// `zip` with the file `from` renamed to `to` (its bytes and attributes unchanged).
pub fn rename_file(zip: &[u8], from: &str, to: &str) -> Result<Vec<u8>, String> {
    let mut src = zip::ZipArchive::new(Cursor::new(zip)).map_err(err)?;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut found = false;
    for i in 0..src.len() {
        let f = src.by_index_raw(i).map_err(err)?;
        if f.name() == from && !f.is_dir() {
            found = true;
            w.raw_copy_file_rename(f, to).map_err(err)?;
        } else {
            w.raw_copy_file(f).map_err(err)?;
        }
    }
    if !found {
        return Err(format!("{from} is not in the package"));
    }
    Ok(w.finish().map_err(err)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_list_read_replace() {
        let z = single_file("src/app.py", "print(1)\n").unwrap();
        let e = entries(&z).unwrap();
        assert_eq!(
            e.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
            ["src", "src/app.py"]
        );
        assert!(e[0].is_dir);
        let z2 = replace_file(&z, "src/app.py", "print(2)\n").unwrap();
        let z3 = replace_file(&z2, "other.txt", "x").unwrap();
        assert_eq!(
            read_text(&z3, "src/app.py").unwrap().as_deref(),
            Some("print(2)\n")
        );
        assert_eq!(read_text(&z3, "other.txt").unwrap().as_deref(), Some("x"));
        assert_eq!(read_text(&z3, "missing").unwrap(), None);
        crate::domain::zipcheck::check(&z3).unwrap();
    }

    #[test]
    fn rename_and_remove_keep_the_other_entries() {
        let z = replace_file(&single_file("a.py", "a\n").unwrap(), "lib/b.py", "b\n").unwrap();
        assert!(has_file(&z, "lib/b.py").unwrap() && !has_file(&z, "lib").unwrap());
        let r = rename_file(&z, "a.py", "lib/c.py").unwrap();
        assert_eq!(file_names(&r).unwrap(), ["lib/c.py", "lib/b.py"]);
        assert_eq!(read_text(&r, "lib/c.py").unwrap().as_deref(), Some("a\n"));
        let d = remove_file(&r, "lib/b.py").unwrap();
        assert_eq!(file_names(&d).unwrap(), ["lib/c.py"]);
        assert!(remove_file(&d, "nope.py").is_err());
        assert!(rename_file(&d, "nope.py", "x.py").is_err());
        crate::domain::zipcheck::check(&d).unwrap();
    }
}
