//! Small pure helpers for the benchmark: order statistics, dates, compression sizes and the
//! parsing of what the machine reports. Unit-tested, since the report is only as good as them.

/// The median of `xs` (the mean of the two middle values for an even count); `None` if empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_unstable_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// Nearest-rank percentile (`p` in 0..=1) of `xs`; `None` if empty.
pub fn percentile(xs: &[f64], p: f64) -> Option<f64> {
    let mut s: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_unstable_by(f64::total_cmp);
    let rank = (p * s.len() as f64).ceil().max(1.0) as usize;
    Some(s[rank.min(s.len()) - 1])
}

/// Smallest and largest of `xs`.
pub fn range(xs: &[f64]) -> Option<(f64, f64)> {
    Some((percentile(xs, 0.0)?, percentile(xs, 1.0)?))
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the Unix epoch (proleptic Gregorian calendar).
pub fn utc(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// Now, as [`utc`].
pub fn now_utc() -> String {
    utc(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()))
}

/// gzip -9 and brotli q11 sizes of `bytes` (the same settings `cargo xtask dist` uses).
pub fn compressed_sizes(bytes: &[u8]) -> anyhow::Result<(usize, usize)> {
    Ok((
        crate::dist::gzip(bytes)?.len(),
        crate::dist::brotli(bytes)?.len(),
    ))
}

/// The CPU model from `/proc/cpuinfo` text.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "model name").then(|| v.split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

/// Total memory in GiB from `/proc/meminfo` text.
pub fn mem_gib(meminfo: &str) -> Option<f64> {
    let kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb / 1024.0 / 1024.0)
}

/// `PRETTY_NAME` from `/etc/os-release` text.
pub fn os_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|l| {
        Some(
            l.strip_prefix("PRETTY_NAME=")?
                .trim_matches('"')
                .to_string(),
        )
    })
}

/// The load average now (1, 5 and 15 minutes), from `/proc/loadavg`.
pub fn loadavg_now() -> Option<[f64; 3]> {
    loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// The first three numbers of `/proc/loadavg` (1, 5 and 15 minutes).
pub fn loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// User + system CPU time in clock ticks from a `/proc/<pid>/stat` line. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted from its closing `)`.
pub fn proc_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Thousands separated by commas: 12345 → "12,345".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as KB (1 KB = 1,024 bytes, as the brief counts) with one decimal.
pub fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 0.5), Some(50.0));
        assert_eq!(percentile(&xs, 0.99), Some(99.0));
        assert_eq!(percentile(&xs, 1.0), Some(100.0));
        assert_eq!(percentile(&xs, 0.0), Some(1.0));
        assert_eq!(range(&[2.0, 9.0, 4.0]), Some((2.0, 9.0)));
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_795_000_000 + 59), "2026-11-18 11:07 UTC");
    }

    #[test]
    fn machine_text() {
        let cpu = "processor\t: 0\nmodel name\t: AMD EPYC   7B13\nflags\t: x\n";
        assert_eq!(cpu_model(cpu).as_deref(), Some("AMD EPYC 7B13"));
        let mem = "MemTotal:       24576000 kB\nMemFree: 1 kB\n";
        assert!((mem_gib(mem).unwrap() - 23.4375).abs() < 1e-9);
        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            os_name(os).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            loadavg("3.43 1.25 0.46 2/300 999\n"),
            Some([3.43, 1.25, 0.46])
        );
        assert_eq!(loadavg("3.43 x"), None);
        // A command name with a space and a parenthesis in it.
        let stat = "4242 (chorus (srv) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 9 0";
        assert_eq!(proc_cpu_ticks(stat), Some(287));
    }

    #[test]
    fn formatting_and_sizes() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(kb(81_920), "80.0 KB");
        let text = "the same words again and again ".repeat(100);
        let (gz, br) = compressed_sizes(text.as_bytes()).unwrap();
        assert!(gz < text.len() / 10 && br < text.len() / 10, "{gz} {br}");
    }
}
