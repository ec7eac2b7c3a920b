//! Heavy CPU work of requests (zip checks, base64 decoding and JSON parsing of large bodies,
//! hashing code) on blocking threads, at most `server.blocking_threads` at a time, so the
//! HTTP workers and the invoke path never wait behind a 50 MB upload.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::domain::Error;

/// Bodies at least this large are parsed on a blocking thread.
pub const HEAVY_BYTES: usize = 256 * 1024;

/// The bounded pool of heavy-work threads.
#[derive(Clone)]
pub struct Cpu {
    slots: Arc<Semaphore>,
}

impl Cpu {
    pub fn new(threads: usize) -> Cpu {
        Cpu {
            slots: Arc::new(Semaphore::new(threads.max(1))),
        }
    }

    /// Runs `f` on a blocking thread once one of the pool's slots is free.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let _slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| Error::Service("lambdabox is shutting down.".into()))?;
        tokio::task::spawn_blocking(f).await.map_err(|e| {
            tracing::error!(error = %e, "heavy work panicked or was cancelled");
            Error::Service("An internal error occurred while processing the request.".into())
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_off_the_calling_thread() {
        let cpu = Cpu::new(1);
        let here = std::thread::current().id();
        let there = cpu.run(|| std::thread::current().id()).await.unwrap();
        assert_ne!(here, there);
        let inline = cpu
            .run_sized(10, || std::thread::current().id())
            .await
            .unwrap();
        assert_eq!(inline, here);
    }
}
