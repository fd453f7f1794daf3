//! What the CLI's tests share: the echo example as a handler, and checks of a Lambda zip.

// Each test binary uses a part of these.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Writes `dir/serverless.yml` for a service whose handler is the echo example; returns its path.
pub fn write_echo_manifest(dir: &Path, arch: &str) -> PathBuf {
    let echo = workspace().join("examples/echo");
    let text = format!(
        "name: echo\nSocket:\n  component: socket\n  inputs:\n    architecture: {arch}\n    code: {}\n",
        echo.display()
    );
    let path = dir.join("serverless.yml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The only entry of the zip, checked to be `bootstrap`, mode 0755, with the fixed timestamp.
pub fn bootstrap_from_zip(zip_path: &Path) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    assert_eq!(archive.len(), 1, "the zip holds only bootstrap");
    let mut entry = archive.by_index(0).unwrap();
    assert_eq!(entry.name(), "bootstrap");
    assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    let modified = entry.last_modified().unwrap();
    assert_eq!(
        (modified.year(), modified.month(), modified.day()),
        (1980, 1, 1)
    );
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    bytes
}

/// ELF checks: 64-bit little-endian, the expected machine, and no program interpreter (static).
pub fn assert_static_elf(bytes: &[u8], machine: u16) {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not 64-bit");
    assert_eq!(bytes[5], 1, "not little-endian");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
    assert_eq!(u16_at(18), machine, "wrong e_machine");
    let (phoff, phentsize, phnum) = (
        u64_at(32) as usize,
        u16_at(54) as usize,
        u16_at(56) as usize,
    );
    assert!(phnum > 0);
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        assert_ne!(
            u32_at(phoff + i * phentsize),
            PT_INTERP,
            "dynamically linked: has PT_INTERP"
        );
    }
}
