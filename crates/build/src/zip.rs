//! The Lambda deployment package: a zip holding only `bootstrap`, byte-for-byte reproducible.
//!
//! Fixed timestamp (1980-01-01, the zip epoch), mode 0755, one entry, fixed compression level: the
//! same binary always gives the same zip, so deploy can compare its SHA-256 with Lambda's
//! `CodeSha256` and skip an upload of unchanged code.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

pub struct Written {
    pub size: u64,
    pub sha256_hex: String,
    /// Base64 SHA-256, as Lambda reports `CodeSha256`.
    pub code_sha256: String,
}

pub fn write(bootstrap: &Path, zip_path: &Path) -> std::io::Result<Written> {
    let binary = std::fs::read(bootstrap)?;
    let mut buffer = std::io::Cursor::new(Vec::with_capacity(binary.len() / 2));
    {
        let mut zip = ZipWriter::new(&mut buffer);
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(DateTime::default())
            .unix_permissions(0o755);
        zip.start_file("bootstrap", options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&binary)?;
        zip.finish().map_err(std::io::Error::other)?;
    }
    let bytes = buffer.into_inner();
    // Write beside and rename, so a reader never sees half a zip.
    let tmp = zip_path.with_extension("zip.tmp");
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, zip_path)?;
    let digest = Sha256::digest(&bytes);
    Ok(Written {
        size: bytes.len() as u64,
        sha256_hex: hex::encode(digest),
        code_sha256: base64::engine::general_purpose::STANDARD.encode(digest),
    })
}
