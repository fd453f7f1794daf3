//! The machine the tool runs on, as far as building for Lambda goes: whether it builds Linux
//! binaries natively, and which exact commands install a C cross toolchain or Zig here.
//!
//! Install commands depend on the package manager (Homebrew on macOS; apt, dnf or pacman on
//! Linux, told apart by `/etc/os-release`), so a user can paste what the error prints.

use socket_manifest::Architecture;

/// How software is installed on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageManager {
    Homebrew,
    Apt,
    Dnf,
    Pacman,
    /// Another Linux distribution, or another OS: only the portable (pip) route is named.
    Other,
}

impl PackageManager {
    /// This machine's package manager.
    pub fn detect() -> Self {
        match std::env::consts::OS {
            "macos" => PackageManager::Homebrew,
            "linux" => std::fs::read_to_string("/etc/os-release")
                .map(|text| Self::from_os_release(&text))
                .unwrap_or(PackageManager::Other),
            _ => PackageManager::Other,
        }
    }

    /// The package manager of the distribution `/etc/os-release` describes: its `ID`, else the
    /// first family in `ID_LIKE` that is known (Ubuntu is `debian`-like, Rocky `rhel fedora`-like).
    pub fn from_os_release(text: &str) -> Self {
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.trim().strip_prefix(name)?.strip_prefix('='))
                .map(|value| value.trim().trim_matches(['"', '\'']).to_ascii_lowercase())
                .unwrap_or_default()
        };
        let id = field("ID");
        let id_like = field("ID_LIKE");
        std::iter::once(id.as_str())
            .chain(id_like.split_whitespace())
            .find_map(|name| match name {
                "debian" | "ubuntu" => Some(PackageManager::Apt),
                "fedora" | "rhel" | "centos" | "rocky" | "almalinux" | "amzn" => {
                    Some(PackageManager::Dnf)
                }
                "arch" | "archlinux" | "manjaro" | "endeavouros" => Some(PackageManager::Pacman),
                _ => None,
            })
            .unwrap_or(PackageManager::Other)
    }

    /// The command that installs a C toolchain building static musl binaries for `arch`, when
    /// this system packages one. Fedora's aarch64 cross compiler ships without a C library, so
    /// it does not count.
    pub fn c_toolchain_command(self, arch: Architecture) -> Option<&'static str> {
        match (self, arch) {
            (PackageManager::Homebrew, _) => Some("brew install FiloSottile/musl-cross/musl-cross"),
            (PackageManager::Apt, Architecture::X86_64) => Some("sudo apt-get install musl-tools"),
            (PackageManager::Apt, Architecture::Arm64) => {
                Some("sudo apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross")
            }
            (PackageManager::Dnf, Architecture::X86_64) => Some("sudo dnf install musl-gcc"),
            (PackageManager::Pacman, Architecture::X86_64) => Some("sudo pacman -S musl"),
            (PackageManager::Pacman, Architecture::Arm64) => {
                Some("sudo pacman -S aarch64-linux-gnu-gcc")
            }
            (PackageManager::Dnf, Architecture::Arm64) | (PackageManager::Other, _) => None,
        }
    }

    /// The command that installs Zig and cargo-zigbuild, which build for every target.
    pub fn zig_command(self) -> &'static str {
        match self {
            PackageManager::Homebrew => "brew install zig && cargo install --locked cargo-zigbuild",
            PackageManager::Dnf => "sudo dnf install zig && cargo install --locked cargo-zigbuild",
            PackageManager::Pacman => "sudo pacman -S zig && cargo install --locked cargo-zigbuild",
            // Debian's own Zig is too old or absent; PyPI has both as wheels, no root needed.
            PackageManager::Apt | PackageManager::Other => "pip3 install ziglang cargo-zigbuild",
        }
    }
}

/// The architecture whose static Linux binaries this machine builds with its own C compiler:
/// a Linux host's own. A Mac, even an Apple silicon one, is a cross build for every target.
pub fn native_linux() -> Option<Architecture> {
    if std::env::consts::OS == "linux" {
        Architecture::host()
    } else {
        None
    }
}

/// What to install for `arch`, for a help line: the C toolchain when this system packages
/// one, and Zig in any case.
pub fn install_advice(arch: Architecture) -> String {
    let manager = PackageManager::detect();
    let zig = format!(
        "Zig, which builds for every target: `{}`",
        manager.zig_command()
    );
    match manager.c_toolchain_command(arch) {
        Some(c) => format!("install a C toolchain for the target: `{c}`, or {zig}"),
        None => format!("install {zig}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_ids_and_families_pick_the_package_manager() {
        let cases = [
            ("ID=debian\nVERSION_ID=\"12\"\n", PackageManager::Apt),
            ("ID=ubuntu\nID_LIKE=debian\n", PackageManager::Apt),
            (
                "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n",
                PackageManager::Apt,
            ),
            ("ID=fedora\n", PackageManager::Dnf),
            (
                "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
                PackageManager::Dnf,
            ),
            (
                "ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\n",
                PackageManager::Dnf,
            ),
            ("ID=arch\n", PackageManager::Pacman),
            ("ID=garuda\nID_LIKE=arch\n", PackageManager::Pacman),
            ("ID=alpine\n", PackageManager::Other),
            ("", PackageManager::Other),
        ];
        for (text, expected) in cases {
            assert_eq!(PackageManager::from_os_release(text), expected, "{text:?}");
        }
    }

    #[test]
    fn commands_name_the_host_tools() {
        let arm = Architecture::Arm64;
        assert_eq!(
            PackageManager::Apt.c_toolchain_command(arm),
            Some("sudo apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross")
        );
        assert!(PackageManager::Homebrew
            .c_toolchain_command(arm)
            .unwrap()
            .starts_with("brew install"));
        assert!(PackageManager::Homebrew
            .zig_command()
            .starts_with("brew install zig"));
        assert_eq!(PackageManager::Dnf.c_toolchain_command(arm), None);
        assert!(PackageManager::Other
            .zig_command()
            .contains("pip3 install ziglang"));
    }
}
