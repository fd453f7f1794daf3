//! Private copies of the handler binary, one per build.
//!
//! Workers run a copy, never the file cargo writes: a rebuild then cannot change the binary
//! under a worker that is replaced after a crash, and the old and new generations can run side
//! by side while the old one finishes its invocations.

use std::path::{Path, PathBuf};

pub struct Binaries {
    dir: PathBuf,
    generation: u32,
}

impl Binaries {
    /// A fresh folder under the system's temporary directory.
    pub fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("socket-dev-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, generation: 0 })
    }

    /// Copies `built` as the next generation and returns the copy's path.
    pub fn stage(&mut self, built: &Path) -> std::io::Result<PathBuf> {
        self.generation += 1;
        // `.exe` on Windows, where the host-target build is what the workers run.
        let copy = self.dir.join(format!(
            "bootstrap-{}{}",
            self.generation,
            std::env::consts::EXE_SUFFIX
        ));
        std::fs::copy(built, &copy)?;
        Ok(copy)
    }

    /// Removes every copy (once no worker runs any more).
    pub fn remove_all(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
