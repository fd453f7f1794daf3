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

/// The zip holding `bootstrap` as its one entry, in memory.
pub fn bootstrap_zip(bootstrap: &Path) -> std::io::Result<Vec<u8>> {
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
    Ok(buffer.into_inner())
}

/// Writes the zip of `bootstrap` to `zip_path`, with the digests deploy compares.
pub fn write(bootstrap: &Path, zip_path: &Path) -> std::io::Result<Written> {
    let bytes = bootstrap_zip(bootstrap)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_binary_same_zip_and_it_reads_back_as_an_executable_bootstrap() {
        let dir = std::env::temp_dir().join(format!("socket-build-zip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("app");
        std::fs::write(&binary, vec![7u8; 100_000]).unwrap();
        let first = bootstrap_zip(&binary).unwrap();
        assert_eq!(first, bootstrap_zip(&binary).unwrap(), "deterministic");
        assert!(first.len() < 10_000, "deflated");
        let written = write(&binary, &dir.join("bootstrap.zip")).unwrap();
        assert_eq!(written.size, first.len() as u64);
        let mut archive = ::zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
        assert_eq!(archive.len(), 1);
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|mode| mode & 0o777), Some(0o755));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
