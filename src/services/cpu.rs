//! Heavy CPU work of requests (zip checks, base64 decoding and JSON parsing of large bodies,
//! hashing code) on the daemon's own bulk threads, `server.blocking_threads` of them, so the
//! HTTP workers and the invoke path never wait behind a 50 MB upload.
//!
//! The bulk threads run at nice [`BULK_NICE`]: on a small host a code upload otherwise takes a
//! whole core from the warm invoke path (p99 2.7× quiet on 2 cores beside a 50 MB upload loop);
//! at a lower priority the scheduler lets an invocation's threads run first and the upload
//! uses what is left. They are dedicated threads rather than tokio's blocking pool because a
//! thread's nice value sticks and the blocking pool also launches environments.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::domain::Error;

/// Bodies at least this large are parsed on a bulk thread.
pub const HEAVY_BYTES: usize = 256 * 1024;

/// Nice value of the bulk threads (0 is normal, 19 the lowest priority).
pub const BULK_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The pool of bulk-work threads; cloning shares it. The threads end when the last clone goes.
#[derive(Clone)]
pub struct Cpu {
    jobs: mpsc::Sender<Job>,
}

impl Cpu {
    pub fn new(threads: usize) -> Cpu {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let started = std::thread::Builder::new()
                .name(format!("bulk-{i}"))
                .spawn(move || worker(&queue));
            if let Err(e) = started {
                tracing::error!(error = %e, "cannot start a bulk-work thread");
            }
        }
        Cpu { jobs }
    }

    /// Runs `f` on a bulk thread; requests queue while every thread is busy.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(std::panic::catch_unwind(AssertUnwindSafe(f)));
        });
        if self.jobs.send(job).is_err() {
            return Err(Error::Service("lambdabox is shutting down.".into()));
        }
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => {
                tracing::error!("heavy request work panicked");
                Err(Error::Service(
                    "An internal error occurred while processing the request.".into(),
                ))
            }
            Err(_) => Err(Error::Service(
                "lambdabox could not process the request: no bulk-work thread is running.".into(),
            )),
        }
    }

    /// Runs `f` inline when `size` is small, else on the pool.
    pub async fn run_sized<T, F>(&self, size: usize, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if size < HEAVY_BYTES {
            Ok(f())
        } else {
            self.run(f).await
        }
    }
}

fn worker(queue: &Mutex<mpsc::Receiver<Job>>) {
    if let Err(e) = crate::sandbox::set_thread_nice(BULK_NICE) {
        tracing::debug!(error = %e, "cannot lower the priority of a bulk-work thread");
    }
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.recv()
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_off_the_calling_thread_at_a_lower_priority() {
        let cpu = Cpu::new(1);
        let here = std::thread::current().id();
        let (there, nice) = cpu
            .run(|| (std::thread::current().id(), crate::sandbox::thread_nice()))
            .await
            .unwrap();
        assert_ne!(here, there);
        assert!(nice.unwrap() >= BULK_NICE);
        let inline = cpu
            .run_sized(10, || std::thread::current().id())
            .await
            .unwrap();
        assert_eq!(inline, here);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_pool_goes_on() {
        let cpu = Cpu::new(1);
        let failed = cpu.run(|| -> u32 { panic!("boom") }).await;
        assert!(matches!(failed, Err(Error::Service(_))));
        assert_eq!(cpu.run(|| 7).await.unwrap(), 7);
    }
}
