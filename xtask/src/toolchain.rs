//! Finding a way to compile for `wasm32-unknown-unknown`.
//!
//! A developer laptop normally has rustup with the target installed: use it. Where rustup
//! cannot download the target (as on our CI machines), Debian's `rustc-web` + `rust-web-src`
//! + `lld-22` can build `std` for the target with `-Zbuild-std`; see the brief's recipe.

use std::{path::PathBuf, process::Command};

use crate::util::{self, root};

/// How wasm builds are run on this machine.
#[derive(Debug, Clone)]
pub enum Wasm {
    /// rustup's toolchain with the wasm32 target installed.
    Rustup,
    /// Debian's rustc-web building std from source.
    DebianBuildStd,
}

/// Paths Debian's recipe needs.
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_STD_SRC: &str = "/usr/lib/rustlib/src/rust/library";
const DEBIAN_LINKER: &str = "wasm-ld-22";

impl Wasm {
    /// The toolchain for tests: rustup's target where installed (no std rebuild, so quicker),
    /// else Debian's recipe.
    pub fn for_tests() -> anyhow::Result<Wasm> {
        Self::pick([Wasm::Rustup, Wasm::DebianBuildStd])
    }

    /// The toolchain for the shipped bundle: Debian's build-std recipe where present, because
    /// rebuilding std lets panics be `immediate-abort` (about 20 KB less wasm); else rustup's.
    pub fn for_bundle() -> anyhow::Result<Wasm> {
        Self::pick([Wasm::DebianBuildStd, Wasm::Rustup])
    }

    fn available(&self) -> bool {
        match self {
            Wasm::Rustup => rustup_has_target(),
            Wasm::DebianBuildStd => debian_recipe_present(),
        }
    }

    fn pick(order: [Wasm; 2]) -> anyhow::Result<Wasm> {
        order.into_iter().find(Wasm::available).ok_or_else(|| {
            anyhow::anyhow!(
                "no wasm32 toolchain: run `cargo xtask setup` (it installs rustup's target or Debian's rustc-web)"
            )
        })
    }

    /// A `cargo` command set up for the wasm target: `cargo <sub> --target wasm32…` plus
    /// whatever this toolchain needs. `with_test` adds the `test` crate to build-std.
    pub fn cargo(&self, sub: &str, with_test: bool) -> Command {
        match self {
            Wasm::Rustup => {
                let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
                c.arg(sub).args(["--target", "wasm32-unknown-unknown"]);
                c.env("CARGO_TARGET_DIR", self.target_dir());
                c
            }
            Wasm::DebianBuildStd => {
                // Debian's cargo where installed; otherwise the outer (rustup) cargo, which
                // drives Debian's rustc just as well: only the compiler must match `rust-web-src`.
                let mut c = Command::new(if util::have(DEBIAN_CARGO) {
                    DEBIAN_CARGO.to_string()
                } else {
                    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
                });
                // rustup's proxies set these for the outer cargo; the inner one must not see them.
                for k in [
                    "RUSTUP_TOOLCHAIN",
                    "RUSTC",
                    "RUSTDOC",
                    "RUSTC_WRAPPER",
                    "CARGO",
                ] {
                    c.env_remove(k);
                }
                c.env("RUSTC", DEBIAN_RUSTC)
                    .env("RUSTDOC", "/usr/bin/rustdoc")
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", DEBIAN_LINKER)
                    .env("CARGO_TARGET_DIR", self.target_dir());
                c.arg(sub).args(["--target", "wasm32-unknown-unknown"]);
                c.arg(if with_test {
                    "-Zbuild-std=std,panic_abort,test"
                } else {
                    "-Zbuild-std=std,panic_abort"
                });
                c
            }
        }
    }

    /// Can this toolchain use nightly-only size flags (`-Cpanic=immediate-abort`)?
    pub fn nightly_flags(&self) -> bool {
        matches!(self, Wasm::DebianBuildStd)
    }

    /// A separate target dir per toolchain: the two compilers' artefacts must never mix.
    pub fn target_dir(&self) -> PathBuf {
        root().join("target").join(match self {
            Wasm::Rustup => "wasm",
            Wasm::DebianBuildStd => "wasm-build-std",
        })
    }
}

/// Does rustup have the wasm32 target installed for the active toolchain?
pub fn rustup_has_target() -> bool {
    util::have("rustup")
        && Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.trim() == "wasm32-unknown-unknown")
            })
            .unwrap_or(false)
}

/// Are Debian's rustc-web, its std sources and lld-22 installed? (Any cargo will do.)
pub fn debian_recipe_present() -> bool {
    util::have(DEBIAN_RUSTC)
        && std::path::Path::new(DEBIAN_STD_SRC).is_dir()
        && util::have(DEBIAN_LINKER)
}
