//! Multipart uploads: an upload id, parts written like objects (each its own file), and the
//! completion that concatenates the named parts into a new file (streamed, fsynced, placed)
//! before one transaction makes it the object and forgets the upload.

use std::io::{Read, Write};

use md5::{Digest, Md5};

use crate::domain::function::now_ms;
use crate::domain::s3::checksum::{Algorithm, Hasher};
use crate::domain::s3::names::check_key;
use crate::domain::s3::{multipart_etag, S3Error, MAX_PART_NUMBER, MIN_PART};
use crate::store::s3::files::Files;
use crate::store::s3::objects::ObjectRow;
use crate::store::s3::uploads::{self, PartRow, UploadRow};

use super::objects::NewObject;
use super::upload::Written;
use super::{Caller, S3};

/// A part named by CompleteMultipartUpload.
#[derive(Debug, Clone)]
pub struct PartRef {
    pub number: i64,
    /// Without quotes.
    pub etag: String,
}

impl S3 {
    pub async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        meta: NewObject,
        algorithm: Option<Algorithm>,
    ) -> Result<String, S3Error> {
        check_key(key)?;
        let u = UploadRow {
            id: Files::new_id(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            created_ms: now_ms(),
            content_type: meta.content_type,
            headers: meta.headers,
            checksum_algorithm: algorithm.map(|a| a.name().to_string()).unwrap_or_default(),
        };
        let id = u.id.clone();
        self.with(move |c| uploads::create(c, &u)).await?;
        Ok(id)
    }

    /// The upload, or `NoSuchUpload`.
    pub async fn upload(&self, bucket: &str, key: &str, id: &str) -> Result<UploadRow, S3Error> {
        let (b, k, i) = (bucket.to_string(), key.to_string(), id.to_string());
        self.with(move |c| uploads::require(c, &b, &k, &i)).await
    }

    /// Stores part `number` of an upload; returns its ETag.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        number: i64,
        mut body: Written,
    ) -> Result<PartRow, S3Error> {
        check_number(number)?;
        body.place()?;
        let p = PartRow {
            number,
            size: body.size,
            etag: body.etag(),
            checksum: body
                .checksum
                .as_ref()
                .map(|(a, v)| format!("{}:{v}", a.name()))
                .unwrap_or_default(),
            file: body.id.clone(),
            modified_ms: now_ms(),
        };
        let (b, k, i, row) = (
            bucket.to_string(),
            key.to_string(),
            id.to_string(),
            p.clone(),
        );
        let q = self.quota(bucket);
        let old = self
            .with(move |c| uploads::put_part(c, &b, &k, &i, &row, &q))
            .await?;
        body.keep();
        if let Some(old) = old {
            self.files.remove(&[old]);
        }
        Ok(p)
    }

    pub async fn parts(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
    ) -> Result<(UploadRow, Vec<PartRow>), S3Error> {
        let (b, k, i) = (bucket.to_string(), key.to_string(), id.to_string());
        self.with(move |c| {
            let u = uploads::require(c, &b, &k, &i)?;
            Ok((u, uploads::parts(c, &i)?))
        })
        .await
    }

    pub async fn uploads(&self, bucket: &str, prefix: &str) -> Result<Vec<UploadRow>, S3Error> {
        let (b, p) = (bucket.to_string(), prefix.to_string());
        self.with(move |c| uploads::list(c, &b, &p)).await
    }

    pub async fn abort_upload(&self, bucket: &str, key: &str, id: &str) -> Result<(), S3Error> {
        let (b, k, i) = (bucket.to_string(), key.to_string(), id.to_string());
        let files = self.with(move |c| uploads::abort(c, &b, &k, &i)).await?;
        self.files.remove(&files);
        Ok(())
    }

    /// CompleteMultipartUpload with the parts the client names, in ascending order.
    pub async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        named: Vec<PartRef>,
        caller: &Caller,
    ) -> Result<ObjectRow, S3Error> {
        if named.is_empty() {
            return Err(S3Error::malformed_xml());
        }
        if named.windows(2).any(|w| w[0].number >= w[1].number) {
            return Err(S3Error::new(
                "InvalidPartOrder",
                400,
                "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
            ));
        }
        let (upload, stored) = self.parts(bucket, key, id).await?;
        let mut chosen = Vec::new();
        for (i, n) in named.iter().enumerate() {
            let p = stored
                .iter()
                .find(|p| p.number == n.number && p.etag == n.etag)
                .ok_or_else(|| {
                    S3Error::new(
                        "InvalidPart",
                        400,
                        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                    )
                    .with("UploadId", id)
                    .with("PartNumber", n.number.to_string())
                    .with("ETag", n.etag.as_str())
                })?;
            if i + 1 < named.len() && p.size < MIN_PART {
                return Err(S3Error::new(
                    "EntityTooSmall",
                    400,
                    "Your proposed upload is smaller than the minimum allowed object size.",
                )
                .with("ProposedSize", p.size.to_string())
                .with("MinSizeAllowed", MIN_PART.to_string())
                .with("PartNumber", n.number.to_string())
                .with("ETag", n.etag.as_str()));
            }
            chosen.push(p.clone());
        }
        let algorithm = Algorithm::parse(&upload.checksum_algorithm);
        let files = self.files.clone();
        let part_files: Vec<String> = chosen.iter().map(|p| p.file.clone()).collect();
        let paths: Vec<_> = part_files.iter().map(|f| files.path(f)).collect();
        let new_id = Files::new_id();
        let tmp = files.tmp_path(&new_id);
        let size = tokio::task::spawn_blocking(move || -> Result<u64, std::io::Error> {
            let mut out = std::fs::File::create(&tmp)?;
            let mut total = 0u64;
            let mut buf = vec![0u8; 1 << 20];
            for p in paths {
                let mut f = std::fs::File::open(p)?;
                loop {
                    let n = f.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    out.write_all(&buf[..n])?;
                    total += n as u64;
                }
            }
            out.sync_all()?;
            Ok(total)
        })
        .await
        .map_err(|e| S3Error::internal(format!("the writer thread failed: {e}")))?;
        let size = match size {
            Ok(s) => s,
            Err(e) => {
                self.files.discard(&new_id);
                return Err(e.into());
            }
        };
        if let Err(e) = self.files.place(&new_id) {
            self.files.discard(&new_id);
            return Err(e.into());
        }
        let md5s: Vec<[u8; 16]> = chosen
            .iter()
            .map(|p| {
                let mut m = [0u8; 16];
                if let Ok(b) = hex::decode(&p.etag) {
                    if b.len() == 16 {
                        m.copy_from_slice(&b);
                    }
                }
                m
            })
            .collect();
        let checksum = algorithm.map(|a| composite(a, &chosen)).unwrap_or_default();
        let row = ObjectRow {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size,
            etag: multipart_etag(&md5s),
            content_type: upload.content_type.clone(),
            headers: upload.headers.clone(),
            checksum,
            file: new_id.clone(),
            modified_ms: now_ms(),
            parts: chosen.len() as i64,
        };
        let (r, i) = (row.clone(), id.to_string());
        match self
            .with(move |c| uploads::complete(c, &i, &part_files, &r))
            .await
        {
            Ok(remove) => self.files.remove(&remove),
            Err(e) => {
                self.files.remove(&[new_id]);
                return Err(e);
            }
        }
        self.created(&row, "ObjectCreated:CompleteMultipartUpload", caller)
            .await;
        Ok(row)
    }
}

fn check_number(n: i64) -> Result<(), S3Error> {
    if !(1..=MAX_PART_NUMBER).contains(&n) {
        return Err(S3Error::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
        )
        .with("ArgumentName", "partNumber")
        .with("ArgumentValue", n.to_string()));
    }
    Ok(())
}

/// The composite checksum S3 reports for a multipart object: the checksum of the parts'
/// decoded checksums, `-` and their count.
fn composite(a: Algorithm, parts: &[PartRow]) -> String {
    use base64::Engine as _;
    let mut h = Hasher::new(a);
    for p in parts {
        let v = p.checksum.split_once(':').map(|(_, v)| v).unwrap_or("");
        if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(v) {
            h.update(&raw);
        }
    }
    format!("{}:{}-{}", a.name(), h.finish(), parts.len())
}

/// MD5 of bytes (for Content-MD5 checks elsewhere).
pub fn md5_of(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}
