//! Scheduled backups: a thread of the daemon that writes `lambdabox-<UTC time>.zip` into the
//! backup directory every `backup.interval` and then keeps only the newest `backup.keep`
//! of them (only archives it named itself are ever deleted; pre-upgrade backups are kept).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::time::Duration;

/// Prefix of the archives this schedule writes (and prunes).
pub const PREFIX: &str = "lambdabox-";

/// The running schedule; dropping it stops the thread.
pub struct Scheduled {
    stop: Option<Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Scheduled {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A file name for an archive taken now, sortable by time.
pub fn archive_name(prefix: &str) -> String {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let now = time::OffsetDateTime::now_utc();
    let millis = now.millisecond();
    format!(
        "{prefix}{}-{millis:03}.zip",
        now.format(&fmt).unwrap_or_default()
    )
}

/// Takes one backup into `dir` and prunes to `keep`; returns the archive's path.
pub fn run_once(data_dir: &Path, dir: &Path, keep: usize) -> Result<PathBuf, super::BackupError> {
    let to = dir.join(archive_name(PREFIX));
    super::create(data_dir, &to)?;
    prune(dir, keep);
    Ok(to)
}

/// Deletes all but the newest `keep` scheduled archives in `dir`.
pub fn prune(dir: &Path, keep: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(PREFIX) && n.ends_with(".zip"))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    let mut removed = 0;
    for n in names.into_iter().take(excess) {
        if std::fs::remove_file(dir.join(&n)).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Starts the schedule.
pub fn start(data_dir: PathBuf, dir: PathBuf, every: Duration, keep: usize) -> Scheduled {
    let (tx, rx) = channel::<()>();
    let thread = std::thread::Builder::new()
        .name("backup".into())
        .spawn(move || loop {
            match rx.recv_timeout(every) {
                Err(RecvTimeoutError::Timeout) => match run_once(&data_dir, &dir, keep) {
                    Ok(p) => tracing::info!(archive = %p.display(), "scheduled backup written"),
                    Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
                },
                _ => return,
            }
        })
        .ok();
    if thread.is_none() {
        tracing::error!("cannot start the backup thread: scheduled backups are off");
    }
    Scheduled {
        stop: Some(tx),
        thread,
    }
}
