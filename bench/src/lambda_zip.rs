//! The Lambda deployment zip of a binary: one entry, `bootstrap`, executable, deflated, with a
//! fixed timestamp — the same shape `socket package` produces, so sizes compare like for like.

use std::io::{Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The zip holding `binary` as `bootstrap`.
pub fn zip_bootstrap(binary: &Path) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(binary)?;
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755);
    writer
        .start_file("bootstrap", options)
        .map_err(std::io::Error::other)?;
    writer.write_all(&bytes)?;
    Ok(writer.finish().map_err(std::io::Error::other)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_zip_and_it_reads_back() {
        let dir = std::env::temp_dir().join(format!("socket-bench-zip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("app");
        std::fs::write(&binary, vec![7u8; 100_000]).unwrap();
        let first = zip_bootstrap(&binary).unwrap();
        assert_eq!(first, zip_bootstrap(&binary).unwrap(), "deterministic");
        assert!(first.len() < 10_000, "deflated");
        let mut archive = zip::ZipArchive::new(Cursor::new(first)).unwrap();
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|mode| mode & 0o777), Some(0o755));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
