//! Writing one body to disk: bytes arrive in chunks, are gathered into 1 MiB batches and
//! written, MD5-hashed (the ETag) and checksummed (`x-amz-checksum-*`) on a blocking thread,
//! so memory stays bounded whatever the size. [`Upload::finish`] fsyncs the file; the file
//! stays in `tmp/` until the caller places it. Dropping an unfinished upload (a broken
//! connection, a bad digest) removes the temporary file: no partial object is ever visible.

use std::io::Write;

use bytes::{Bytes, BytesMut};
use md5::{Digest, Md5};

use crate::domain::s3::checksum::{Algorithm, Hasher};
use crate::domain::s3::S3Error;
use crate::store::s3::files::Files;

const BATCH: usize = 1 << 20;

struct Sink {
    file: std::fs::File,
    md5: Md5,
    extra: Option<Hasher>,
}

/// A body being written.
pub struct Upload {
    files: Files,
    id: String,
    sink: Option<Sink>,
    buf: BytesMut,
    size: u64,
    algorithm: Option<Algorithm>,
    kept: bool,
}

/// A body written and fsynced, not yet placed.
pub struct Written {
    files: Files,
    pub id: String,
    pub size: u64,
    pub md5: [u8; 16],
    /// The checksum asked for, base64.
    pub checksum: Option<(Algorithm, String)>,
    placed: bool,
    kept: bool,
}

impl Upload {
    /// Starts a temporary file; `algorithm`: the extra checksum to compute.
    pub fn begin(files: &Files, algorithm: Option<Algorithm>) -> Result<Upload, S3Error> {
        let id = Files::new_id();
        let file = std::fs::File::create(files.tmp_path(&id))?;
        Ok(Upload {
            files: files.clone(),
            id,
            sink: Some(Sink {
                file,
                md5: Md5::new(),
                extra: algorithm.map(Hasher::new),
            }),
            buf: BytesMut::new(),
            size: 0,
            algorithm,
            kept: false,
        })
    }

    /// Bytes taken so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Takes the next chunk of the body.
    pub async fn write(&mut self, data: Bytes) -> Result<(), S3Error> {
        self.size += data.len() as u64;
        self.buf.extend_from_slice(&data);
        if self.buf.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), S3Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = self.buf.split().freeze();
        let mut sink = self
            .sink
            .take()
            .ok_or_else(|| S3Error::internal("the upload's file is gone"))?;
        let sink = tokio::task::spawn_blocking(move || -> Result<Sink, std::io::Error> {
            sink.file.write_all(&data)?;
            sink.md5.update(&data);
            if let Some(h) = sink.extra.as_mut() {
                h.update(&data);
            }
            Ok(sink)
        })
        .await
        .map_err(|e| S3Error::internal(format!("the writer thread failed: {e}")))??;
        self.sink = Some(sink);
        Ok(())
    }

    /// Copies `len` bytes of `file` from `start` (UploadPartCopy), hashing them as an upload,
    /// then finishes. A short source fails; the temporary file is then removed.
    pub async fn copy_file(
        mut self,
        file: std::fs::File,
        start: u64,
        len: u64,
    ) -> Result<Written, S3Error> {
        self.flush().await?;
        let sink = self
            .sink
            .take()
            .ok_or_else(|| S3Error::internal("the upload's file is gone"))?;
        let sink = tokio::task::spawn_blocking(move || -> Result<Sink, std::io::Error> {
            use std::io::{Read, Seek};
            let (mut file, mut sink) = (file, sink);
            file.seek(std::io::SeekFrom::Start(start))?;
            let mut buf = vec![0u8; BATCH];
            let mut left = len;
            while left > 0 {
                let want = left.min(BATCH as u64) as usize;
                let n = file.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the copy source is shorter than its row",
                    ));
                }
                sink.file.write_all(&buf[..n])?;
                sink.md5.update(&buf[..n]);
                if let Some(h) = sink.extra.as_mut() {
                    h.update(&buf[..n]);
                }
                left -= n as u64;
            }
            Ok(sink)
        })
        .await
        .map_err(|e| S3Error::internal(format!("the copy thread failed: {e}")))??;
        self.sink = Some(sink);
        self.size += len;
        self.finish().await
    }

    /// Writes what is left, fsyncs and closes the file.
    pub async fn finish(mut self) -> Result<Written, S3Error> {
        self.flush().await?;
        let sink = self
            .sink
            .take()
            .ok_or_else(|| S3Error::internal("the upload's file is gone"))?;
        let (md5, extra) = tokio::task::spawn_blocking(move || -> Result<_, std::io::Error> {
            sink.file.sync_all()?;
            Ok((sink.md5.finalize(), sink.extra.map(Hasher::finish)))
        })
        .await
        .map_err(|e| S3Error::internal(format!("the writer thread failed: {e}")))??;
        self.kept = true;
        Ok(Written {
            files: self.files.clone(),
            id: self.id.clone(),
            size: self.size,
            md5: md5.into(),
            checksum: self.algorithm.zip(extra),
            placed: false,
            kept: false,
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.kept {
            self.files.discard(&self.id);
        }
    }
}

impl Written {
    /// The ETag of a single-part body: its hex MD5.
    pub fn etag(&self) -> String {
        hex::encode(self.md5)
    }

    /// Moves the file into place (still removed on drop unless [`Written::keep`] is called).
    pub fn place(&mut self) -> Result<(), S3Error> {
        self.files.place(&self.id)?;
        self.placed = true;
        Ok(())
    }

    /// A row now names the file: it stays.
    pub fn keep(mut self) -> String {
        self.kept = true;
        std::mem::take(&mut self.id)
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        if self.placed {
            self.files.remove(std::slice::from_ref(&self.id));
        } else {
            self.files.discard(&self.id);
        }
    }
}
