//! `cargo xtask release`: the one archive a trust's IT team installs.
//!
//! `chorus-<version>-<target>.tar.gz` holds `chorus` (the server, release build), `pkg/` (the
//! pinned, reproducible widget bundle with its manifest), `www/` (docs and demo site),
//! `chorus.example.toml`, `deploy/` (the hardened systemd unit and an nginx example), the README
//! and `SHA256SUMS` of every file; a `.sha256` of the archive sits beside it. Entries are sorted
//! with fixed owners and times, so the same inputs give the same archive.
//!
//! [`check`] is what `cargo xtask test` runs: unpack an archive into an empty folder as an
//! operator would, verify the sums, then from that folder alone migrate, run `chorus doctor`,
//! serve, submit a response and fetch the bundle.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use sha2::{Digest, Sha256};

use crate::{
    dist,
    util::{CommandExt, root, step},
};

/// Build the bundle and the server (release profile, unless `bin` names one to package), and
/// write the archive to `target/release-archive/`.
pub fn run(bin: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let root = root();
    dist::run(false)?;
    let bin = match bin {
        Some(b) => b,
        None => {
            step("Building the server (release profile `server`)");
            crate::util::cmd(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--profile", "server", "--package", "chorus-server"])
                .args(["--bin", "chorus"])
                .current_dir(&root)
                .status_checked()?;
            root.join("target/server/chorus")
        }
    };
    let archive = archive(&bin, &root.join("target/release-archive"))?;
    println!("    {}", archive.display());
    Ok(archive)
}

/// Assemble the archive around the given server binary (the bundle must be in `pkg/`).
pub fn archive(bin: &Path, out_dir: &Path) -> anyhow::Result<PathBuf> {
    let root = root();
    ensure!(
        root.join("pkg/manifest.json").is_file(),
        "pkg/ is not built: run `cargo xtask dist`"
    );
    let name = format!(
        "chorus-{}-{}-linux",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    // (path inside the archive, file on disk, executable?)
    let mut files: Vec<(String, PathBuf, bool)> = vec![
        ("chorus".into(), bin.to_path_buf(), true),
        (
            "chorus.example.toml".into(),
            root.join("chorus.example.toml"),
            false,
        ),
        ("README.md".into(), root.join("README.md"), false),
    ];
    for dir in ["pkg", "www", "deploy"] {
        for f in walk(&root.join(dir))? {
            let rel = f.strip_prefix(&root)?.to_string_lossy().replace('\\', "/");
            files.push((rel, f, false));
        }
    }
    files.sort();
    let mut sums = String::new();
    for (rel, path, _) in &files {
        let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
        sums.push_str(&format!("{}  {rel}\n", hex(&Sha256::digest(&bytes))));
    }
    std::fs::create_dir_all(out_dir)?;
    let archive = out_dir.join(format!("{name}.tar.gz"));
    step(&format!("Writing {}", archive.display()));
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&archive)?,
        // Level 6: within a few per cent of the best, and seconds rather than minutes for a
        // debug server binary in the test suite.
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut add = |rel: &str, bytes: &[u8], exec: bool| -> anyhow::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(if exec { 0o755 } else { 0o644 });
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        tar.append_data(&mut h, format!("{name}/{rel}"), bytes)?;
        Ok(())
    };
    for (rel, path, exec) in &files {
        add(rel, &std::fs::read(path)?, *exec)?;
    }
    add("SHA256SUMS", sums.as_bytes(), false)?;
    tar.into_inner()?.finish()?.sync_all()?;
    let digest = hex(&Sha256::digest(std::fs::read(&archive)?));
    std::fs::write(
        out_dir.join(format!("{name}.tar.gz.sha256")),
        format!("{digest}  {name}.tar.gz\n"),
    )?;
    println!("    {} files, sha256 {digest}", files.len() + 1);
    Ok(archive)
}

/// Files under `dir`, recursively, skipping symbolic links.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| d.display().to_string())? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Install `archive` into an empty folder and use it as an operator would: checksums, migrate,
/// doctor, serve, one submission, the bundle fetched and checked against its manifest.
pub fn check(archive: &Path) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("chorus-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive)?);
    tar::Archive::new(gz).unpack(&dir)?;
    let top = std::fs::read_dir(&dir)?
        .next()
        .context("the archive is empty")??
        .path();
    // Every file matches SHA256SUMS, and nothing is unlisted.
    let sums = std::fs::read_to_string(top.join("SHA256SUMS"))?;
    let mut listed = 0;
    for line in sums.lines() {
        let (want, rel) = line.split_once("  ").context("a SHA256SUMS line")?;
        let got = hex(&Sha256::digest(std::fs::read(top.join(rel))?));
        ensure!(got == want, "{rel} does not match SHA256SUMS");
        listed += 1;
    }
    ensure!(
        listed + 1 == walk(&top)?.len(),
        "files in the archive not listed in SHA256SUMS"
    );
    println!("    {listed} files match SHA256SUMS");

    let bin = top.join("chorus");
    let config = top.join("chorus.toml");
    std::fs::write(
        &config,
        "[[sites]]\nid = \"trust\"\nname = \"Install test\"\norigins = [\"https://www.example-trust.nhs.uk\"]\nservices = [\"outpatients\"]\norg_code = \"RXX\"\nsite_code = \"RXX01\"\n",
    )?;
    let run = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(args)
            .current_dir(&top)
            .env("CHORUS_CONFIG", &config)
            .env("DATABASE_URL", "sqlite://data/chorus.db")
            .env_remove("CHORUS_PKG_DIR")
            .env_remove("CHORUS_WWW_DIR");
        c
    };
    run(&["migrate"]).status_checked()?;
    let doctor = run(&["doctor"]).output()?;
    print!("{}", String::from_utf8_lossy(&doctor.stdout));
    ensure!(
        doctor.status.success(),
        "chorus doctor failed on the fresh install"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = run(&["serve", "--addr", &addr]).spawn()?;
    let result = (|| -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Ok((200, body)) = http(&addr, "GET", "/healthz", None) {
                ensure!(body.trim() == "ok", "healthz said {body}");
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the installed server did not become healthy in 30 s");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let body = r#"{"site":"trust","service":"outpatients","response":{"instrument":"fft","version":1,"locale":"en","idempotency_key":"install-test-0001","answers":{"fft":"very_good","why":"Installed from the archive."}}}"#;
        let (status, receipt) = http(&addr, "POST", "/api/v1/responses", Some(body))?;
        ensure!(
            status == 201 && receipt.contains("\"reference\":\"CH-"),
            "submission: {status} {receipt}"
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(top.join("pkg/manifest.json"))?)?;
        let (status, js) = http(&addr, "GET", "/embed/chorus.js", None)?;
        ensure!(status == 200, "GET /embed/chorus.js: {status}");
        let sri = dist::sri(js.as_bytes());
        ensure!(
            manifest["files"][0]["integrity"] == serde_json::Value::String(sri),
            "the served chorus.js does not match the manifest"
        );
        println!("    installed server: healthy, stored a response ({receipt}), served the bundle");
        Ok(())
    })();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// One HTTP/1.1 request on a fresh connection: (status, body). Enough for a smoke test
/// without a client library.
fn http(addr: &str, method: &str, path: &str, json: Option<&str>) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = json.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if json.is_some() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no HTTP status")?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
