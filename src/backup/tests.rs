//! Unit tests of backup and restore: round trip, refusals (running daemon, data present, newer schema) and scheduled-backup pruning.

use super::*;

fn seed(dir: &Path) {
    let store = crate::store::Store::open(&dir.join("lambdabox.db")).unwrap();
    store
        .call_blocking(|c| {
            c.execute_batch(
                "CREATE TABLE IF NOT EXISTS probe (v TEXT); INSERT INTO probe VALUES ('kept');",
            )?;
            Ok(())
        })
        .unwrap();
    std::fs::write(dir.join("admin-credentials"), b"[default]\n").unwrap();
    std::fs::create_dir_all(dir.join("cache/code/x")).unwrap();
}

fn probe(dir: &Path) -> String {
    let c = Connection::open(dir.join("lambdabox.db")).unwrap();
    c.query_row("SELECT v FROM probe", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn round_trip_into_an_empty_dir_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir(&src).unwrap();
    seed(&src);
    let archive = tmp.path().join("b/one.zip");
    let m = create(&src, &archive).unwrap();
    assert_eq!(m.schema_version, crate::store::SCHEMA_VERSION);
    assert!(m.files.contains(&"admin-credentials".to_string()));
    // no temporary leftovers next to the archive
    let names: Vec<_> = std::fs::read_dir(tmp.path().join("b"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(names.len(), 1);

    restore(&archive, &dst, false).unwrap();
    assert_eq!(probe(&dst), "kept");
    assert!(dst.join("admin-credentials").is_file());
    assert!(!dst.join("cache").exists());

    // a directory with data needs --force; --force replaces the data, WAL and all
    let err = restore(&archive, &src, false).unwrap_err();
    assert!(matches!(err, BackupError::NotEmpty(_)), "{err}");
    restore(&archive, &src, true).unwrap();
    assert_eq!(probe(&src), "kept");
    assert!(!src.join("cache").exists());

    // a held lock (a running daemon) is refused even with --force
    let held = crate::lock::acquire(&dst).unwrap();
    let err = restore(&archive, &dst, true).unwrap_err().to_string();
    assert!(err.contains("stop it first"), "{err}");
    drop(held);

    // not a backup
    std::fs::write(tmp.path().join("junk.zip"), b"nope").unwrap();
    assert!(matches!(
        restore(&tmp.path().join("junk.zip"), &tmp.path().join("n"), false),
        Err(BackupError::NotABackup(..))
    ));
}

#[test]
fn scheduled_archives_are_pruned_to_keep() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    seed(&src);
    let dir = tmp.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("pre-upgrade-v1.zip"), b"x").unwrap();
    for _ in 0..4 {
        scheduled::run_once(&src, &dir, 2).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[2], "pre-upgrade-v1.zip");
}

#[test]
fn object_files_follow_the_snapshot_of_s3_db() {
    use crate::store::s3::{buckets, files::Files, objects, quota::Quota};
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir(&src).unwrap();
    seed(&src);
    let store = crate::store::s3::open(&src).unwrap();
    let files = Files::open(&src).unwrap();
    let id = Files::new_id();
    std::fs::write(files.tmp_path(&id), b"object bytes").unwrap();
    files.place(&id).unwrap();
    // a file no row names (an interrupted write) stays out of the archive
    let stray = Files::new_id();
    std::fs::write(files.tmp_path(&stray), b"stray").unwrap();
    files.place(&stray).unwrap();
    let row = objects::ObjectRow {
        bucket: "b".into(),
        key: "k".into(),
        size: 12,
        etag: "e".into(),
        content_type: "text/plain".into(),
        headers: Vec::new(),
        checksum: String::new(),
        file: id.clone(),
        modified_ms: 1,
        parts: 0,
    };
    store
        .call_blocking(move |c| {
            buckets::create(c, "b", 1).unwrap();
            objects::put(c, &row, &Quota::default()).unwrap();
            Ok(())
        })
        .unwrap();
    drop(store);
    let archive = tmp.path().join("s3.zip");
    let m = create(&src, &archive).unwrap();
    assert!(m.files.contains(&"s3.db".to_string()));
    assert_eq!(m.s3_objects, 1);
    assert!(
        std::fs::read_dir(src.join("s3/holds"))
            .unwrap()
            .next()
            .is_none(),
        "the hold is released"
    );
    restore(&archive, &dst, false).unwrap();
    let restored = Files::at(&dst);
    assert_eq!(std::fs::read(restored.path(&id)).unwrap(), b"object bytes");
    assert!(restored.find(&stray).is_none());
    let c = Connection::open(dst.join("s3.db")).unwrap();
    let file: String = c
        .query_row("SELECT file FROM objects WHERE key = 'k'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(file, id);
}
