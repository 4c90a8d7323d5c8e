//! Finding a way to compile for `wasm32-unknown-unknown`.
//!
//! **The shipped bundle has one recipe** ([`Wasm::Pinned`]): one dated nightly, identified by its
//! commit hash, rebuilding `std` from its own `rust-src` with `-Zbuild-std` and
//! `-Cpanic=immediate-abort`, every machine path remapped. The same nightly gives the same
//! bytes on a laptop, a developer machine and CI, so a trust can rebuild the bundle and check
//! the SRI hash it was given. Where that nightly cannot be had, `cargo xtask dist` fails and
//! says how to get it; `--any-toolchain` builds with whatever is here, for tinkering, and marks
//! the manifest "not reproducible".
//!
//! Tests need no particular compiler: rustup's wasm32 target where installed (quickest), else
//! Debian's `rustc-web` + `rust-web-src` + `lld-22` building `std` (the brief's recipe).

use std::{path::PathBuf, process::Command};

use crate::util::{self, root};

/// How wasm builds are run on this machine.
#[derive(Debug, Clone)]
pub enum Wasm {
    /// The pinned nightly (rustup toolchain of this name), building std from its `rust-src`.
    Pinned(String),
    /// rustup's toolchain with the wasm32 target installed.
    Rustup,
    /// Debian's rustc-web building std from source.
    DebianBuildStd,
}

/// The nightly the bundle is built with: rustup calls it `nightly-2026-05-20`; its compiler
/// reports the commit below (commit date 2026-05-19, 1.97.0-nightly). The hash, not the name,
/// is what is checked, so a machine whose plain `nightly` is this build can use it as it is.
pub const PINNED_NIGHTLY: &str = "nightly-2026-05-20";
pub const PINNED_COMMIT: &str = "e50aa6fba4e63ab34c72bf9acfd2c307c1155d1a";

/// Why the pinned recipe is not usable here, and what to run to fix it.
pub fn pinned() -> anyhow::Result<Wasm> {
    anyhow::ensure!(
        util::have("rustup"),
        "the bundle is built with rustup's {PINNED_NIGHTLY} (commit {PINNED_COMMIT}); rustup is not installed"
    );
    for name in [PINNED_NIGHTLY, "nightly"] {
        let Some(vv) = rustup_run(name, &["rustc", "-vV"]) else {
            continue;
        };
        if !vv
            .lines()
            .any(|l| l.trim() == format!("commit-hash: {PINNED_COMMIT}"))
        {
            continue;
        }
        let sysroot = rustup_run(name, &["rustc", "--print", "sysroot"]).unwrap_or_default();
        let src = PathBuf::from(sysroot.trim()).join("lib/rustlib/src/rust/library");
        anyhow::ensure!(
            src.is_dir(),
            "the pinned nightly ({name}) has no rust-src: run `rustup component add rust-src --toolchain {name}` (or `cargo xtask setup`)"
        );
        return Ok(Wasm::Pinned(name.to_string()));
    }
    anyhow::bail!(
        "the bundle is built with one pinned compiler so its bytes (and SRI hash) are the same on every machine: \
         rustup toolchain {PINNED_NIGHTLY} (rustc commit {PINNED_COMMIT}). Install it with \
         `rustup toolchain install {PINNED_NIGHTLY} --component rust-src --profile minimal`, \
         or pass --any-toolchain to build a bundle for local tinkering (marked not reproducible)"
    )
}

/// `rustup run <toolchain> <args…>`'s stdout, if it ran and succeeded.
fn rustup_run(toolchain: &str, args: &[&str]) -> Option<String> {
    let mut c = Command::new("rustup");
    c.arg("run").arg(toolchain).args(args);
    without_outer_toolchain(&mut c);
    let o = c.stderr(std::process::Stdio::null()).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
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

    /// The toolchain for the shipped bundle: the pinned nightly; with `any`, whatever builds
    /// here (the pinned one first), for local tinkering.
    pub fn for_bundle(any: bool) -> anyhow::Result<Wasm> {
        match pinned() {
            Ok(w) => Ok(w),
            Err(e) if !any => Err(e),
            Err(_) => Self::pick([Wasm::DebianBuildStd, Wasm::Rustup]),
        }
    }

    /// Is this the pinned recipe (so the bundle it builds is reproducible)?
    pub fn reproducible(&self) -> bool {
        matches!(self, Wasm::Pinned(_))
    }

    fn available(&self) -> bool {
        match self {
            Wasm::Pinned(_) => pinned().is_ok(),
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
            Wasm::Pinned(name) => {
                let mut c = Command::new("rustup");
                without_outer_toolchain(&mut c);
                // Its own linker (rust-lld ships with the toolchain); nothing from the machine.
                c.args(["run", name, "cargo", sub])
                    .args(["--target", "wasm32-unknown-unknown"])
                    .env_remove("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER")
                    .env("CARGO_TARGET_DIR", self.target_dir());
                c.arg(if with_test {
                    "-Zbuild-std=std,panic_abort,test"
                } else {
                    "-Zbuild-std=std,panic_abort"
                });
                c
            }
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
                without_outer_toolchain(&mut c);
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
        matches!(self, Wasm::Pinned(_) | Wasm::DebianBuildStd)
    }

    /// A separate target dir per toolchain: the two compilers' artefacts must never mix.
    pub fn target_dir(&self) -> PathBuf {
        root().join("target").join(match self {
            Wasm::Pinned(_) => "wasm-pinned",
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

/// The compiler's sysroot for `wasm`, whose `rust-src` paths must not reach the bundle.
pub fn sysroot(wasm: &Wasm) -> Option<PathBuf> {
    let out = match wasm {
        Wasm::Pinned(name) => rustup_run(name, &["rustc", "--print", "sysroot"])?,
        Wasm::Rustup => {
            let o = Command::new("rustc")
                .args(["--print", "sysroot"])
                .output()
                .ok()?;
            String::from_utf8_lossy(&o.stdout).into_owned()
        }
        Wasm::DebianBuildStd => "/usr".into(),
    };
    let p = PathBuf::from(out.trim());
    (!out.trim().is_empty()).then_some(p)
}

/// rustup's proxies set these for the outer cargo (the one running xtask); a compiler chosen
/// here must not see them, or it would run the outer toolchain's rustc instead.
fn without_outer_toolchain(c: &mut Command) {
    for k in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "CARGO",
    ] {
        c.env_remove(k);
    }
}
