//! Checks a deployment package before it is stored: a readable zip archive within the size
//! limits, with no entry that could land outside its directory. Nothing is decompressed:
//! sizes come from the central directory, and entries whose compressed data overlap (the
//! classic zip-bomb trick of many entries sharing one stream) are refused.

use std::io::Cursor;

use super::ziplinks as links;
use super::Error;

/// Largest zipped package accepted in a direct upload (50 MB).
pub const MAX_ZIPPED: u64 = 52_428_800;
/// Largest unzipped function plus layers (250 MB).
pub const MAX_UNZIPPED: u64 = 262_144_000;
/// Most entries a package may have.
pub const MAX_ENTRIES: usize = 100_000;
/// Highest declared compression ratio accepted for one entry (deflate cannot exceed ~1032:1).
const MAX_RATIO: u64 = 1100;

/// What the check learned about a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipInfo {
    pub entries: usize,
    pub unzipped_size: u64,
}

/// Validates `bytes` as a deployment package.
pub fn check(bytes: &[u8]) -> Result<ZipInfo, Error> {
    let invalid =
        |why: &str| Error::InvalidParameterValue(format!("Could not unzip uploaded file. {why}"));
    if bytes.len() as u64 > MAX_ZIPPED {
        return Err(Error::RequestEntityTooLarge(format!(
            "Zipped size must be smaller than {MAX_ZIPPED} bytes"
        )));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        invalid(&format!(
            "Please check your file, then try to upload again. ({e})"
        ))
    })?;
    if archive.len() > MAX_ENTRIES {
        return Err(invalid(&format!(
            "The archive has {} entries; at most {MAX_ENTRIES} are allowed.",
            archive.len()
        )));
    }
    let mut total: u64 = 0;
    let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(archive.len());
    let mut links = links::Links::default();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| invalid(&format!("Entry {i} is unreadable ({e}).")))?;
        let name = entry.name().to_string();
        if !safe_name(&name) {
            return Err(invalid(&format!(
                "Entry '{name}' has an absolute path or '..': every path must stay inside the package."
            )));
        }
        let size = entry.size();
        let csize = entry.compressed_size();
        links
            .add(&name, entry.is_dir(), entry.unix_mode(), size)
            .map_err(|why| invalid(&why))?;
        if csize > 0 && size / csize.max(1) > MAX_RATIO {
            return Err(invalid(&format!(
                "Entry '{name}' declares a compression ratio above {MAX_RATIO}:1 (zip bomb)."
            )));
        }
        if csize == 0 && size > 0 {
            return Err(invalid(&format!(
                "Entry '{name}' declares data it does not contain."
            )));
        }
        total = total.saturating_add(size);
        if total > MAX_UNZIPPED {
            return Err(Error::InvalidParameterValue(format!(
                "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
            )));
        }
        if csize > 0 {
            ranges.push((entry.data_start(), entry.data_start().saturating_add(csize)));
        }
    }
    links.check().map_err(|why| invalid(&why))?;
    ranges.sort_unstable();
    if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(invalid("Entries share compressed data (zip bomb)."));
    }
    // Declared sizes can lie and data can be corrupt: stream every entry through its
    // decompressor into nothing, checking each CRC and stopping at the unzipped limit. No
    // byte is written anywhere and memory use is one buffer.
    let mut budget = MAX_UNZIPPED;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| invalid(&format!("Entry {i} is unreadable ({e}).")))?;
        let name = entry.name().to_string();
        let is_link = links::is_link(entry.unix_mode());
        let mut target = Vec::new();
        loop {
            use std::io::Read;
            let n = entry
                .read(&mut buf)
                .map_err(|e| invalid(&format!("Entry '{name}' is corrupt ({e}).")))?;
            if n == 0 {
                break;
            }
            budget = budget.checked_sub(n as u64).ok_or_else(|| {
                Error::InvalidParameterValue(format!(
                    "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
                ))
            })?;
            if is_link {
                target.extend_from_slice(&buf[..n]);
            }
        }
        if is_link {
            links::check_target(&name, &target).map_err(|why| invalid(&why))?;
        }
    }
    Ok(ZipInfo {
        entries: archive.len(),
        unzipped_size: total,
    })
}

/// True when extracting an entry of this name stays inside the target directory.
pub fn safe_name(name: &str) -> bool {
    if name.is_empty() || name.starts_with('/') || name.starts_with('\\') || name.contains('\0') {
        return false;
    }
    if name.len() >= 2 && name.as_bytes()[1] == b':' {
        return false; // C:\ style
    }
    !name.split(['/', '\\']).any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in entries {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn accepts_a_normal_package() {
        let z = make_zip(&[
            ("app.py", b"def handler(e, c):\n    return 1\n"),
            ("pkg/m.py", b"x=1"),
        ]);
        let info = check(&z).unwrap();
        assert_eq!(info.entries, 2);
    }

    #[test]
    fn refuses_garbage_and_traversal() {
        assert!(check(b"not a zip").is_err());
        assert!(check(&make_zip(&[("../evil", b"x")])).is_err());
        assert!(check(&make_zip(&[("/etc/passwd", b"x")])).is_err());
        assert!(check(&make_zip(&[("a/../../b", b"x")])).is_err());
    }

    #[test]
    fn refuses_oversized_unzipped_without_unpacking() {
        let zeros = vec![0u8; MAX_UNZIPPED as usize + 1];
        let z = make_zip(&[("zeros", &zeros)]);
        assert!(z.len() < 1024 * 1024, "compressed to {}", z.len());
        let err = check(&z).unwrap_err();
        assert!(err.to_string().contains("Unzipped size"), "{err}");
    }
}
