//! Telling people that a comment was flagged for urgent review: an e-mail through the trust's
//! SMTP relay and/or an HTTP POST to a webhook, signed with HMAC-SHA256.
//!
//! Sent in the background, after the flag is committed: a patient's receipt never waits for,
//! or fails because of, a notification. Each channel is tried up to `attempts` times, the wait
//! doubling from `retry_seconds` (capped at five minutes); the outcome goes in the audit log.
//!
//! **No comment text is sent**, redacted or not: only the site, service, receipt reference,
//! when it arrived, the flag kinds with the word-list phrases that matched (for example
//! "shouted at"), and a link to the review queue, where signed-in staff read the comment.
//!
//! The webhook body is JSON ([`Notice`]). Headers: `X-Chorus-Timestamp` (seconds since the
//! epoch) and `X-Chorus-Signature: sha256=<hex>`, the HMAC-SHA256 under the shared secret of
//! `<timestamp>.<body>`; a receiver recomputes it, compares in constant time, and refuses old
//! timestamps (replays).

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};

use crate::AppState;

/// `[notify]` in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// SMTP relay, `smtp://host:port` (plain SMTP: a relay on this machine or the trust's
    /// network, which does TLS onwards).
    #[serde(default)]
    pub smtp: Option<String>,
    /// Addresses that receive the e-mail.
    #[serde(default)]
    pub email_to: Vec<String>,
    /// The sender address.
    #[serde(default)]
    pub email_from: Option<String>,
    /// Webhook, `http://host:port/path` (an internal receiver or a local forwarding proxy).
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Shared secret for the signature (at least 16 characters). `CHORUS_WEBHOOK_SECRET` in the
    /// environment takes precedence, so the file need not hold it.
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// The dashboard's public address (`https://feedback.example-trust.nhs.uk`), for the
    /// review link.
    #[serde(default)]
    pub dashboard_url: Option<String>,
    /// Tries per channel.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// First wait between tries; doubled each time.
    #[serde(default = "default_retry")]
    pub retry_seconds: u64,
}

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        NotifyConfig {
            smtp: None,
            email_to: Vec::new(),
            email_from: None,
            webhook_url: None,
            webhook_secret: None,
            dashboard_url: None,
            attempts: default_attempts(),
            retry_seconds: default_retry(),
        }
    }
}

fn default_attempts() -> u32 {
    6
}
fn default_retry() -> u64 {
    5
}

/// `host`, `port` and path of `scheme://host:port/path`.
fn split_url<'a>(url: &'a str, scheme: &str, default_port: u16) -> Option<(String, u16, &'a str)> {
    let rest = url.strip_prefix(scheme)?.strip_prefix("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && !host.contains('@')).then(|| (host.to_string(), port, path))
}

impl NotifyConfig {
    /// Mistakes caught at start-up.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(s) = &self.smtp {
            anyhow::ensure!(
                split_url(s, "smtp", 25).is_some_and(|(_, _, p)| p == "/"),
                "notify.smtp must be smtp://host:port, e.g. smtp://127.0.0.1:25"
            );
            anyhow::ensure!(
                !self.email_to.is_empty(),
                "notify.email_to: give at least one address for notify.smtp to send to"
            );
            let from = self
                .email_from
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("notify.email_from is needed with notify.smtp"))?;
            for a in self.email_to.iter().map(String::as_str).chain([from]) {
                anyhow::ensure!(
                    a.parse::<lettre::message::Mailbox>().is_ok(),
                    "notify: \"{a}\" is not an e-mail address"
                );
            }
        } else {
            anyhow::ensure!(
                self.email_to.is_empty(),
                "notify.email_to is set but notify.smtp is not: say which relay sends the mail"
            );
        }
        if let Some(w) = &self.webhook_url {
            anyhow::ensure!(
                split_url(w, "http", 80).is_some(),
                "notify.webhook_url must be http://host[:port]/path (https is not built in: point it at an internal receiver or a local forwarding proxy)"
            );
            anyhow::ensure!(
                self.secret().is_some_and(|s| s.len() >= 16),
                "notify.webhook_url needs notify.webhook_secret (or CHORUS_WEBHOOK_SECRET) of at least 16 characters"
            );
        }
        anyhow::ensure!(
            (1..=20).contains(&self.attempts),
            "notify.attempts must be 1 to 20"
        );
        anyhow::ensure!(
            (1..=3600).contains(&self.retry_seconds),
            "notify.retry_seconds must be 1 to 3600"
        );
        Ok(())
    }

    fn secret(&self) -> Option<String> {
        std::env::var("CHORUS_WEBHOOK_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| self.webhook_secret.clone())
    }
}

/// One flag kind in a notice.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FlagKind {
    /// `self-harm`, `abuse`, `harm`, `neglect`, `safety incident`, `complaint`, or a site's own.
    pub kind: String,
    /// The word-list phrases that matched.
    pub cues: Vec<String>,
}

/// What is sent (the webhook's JSON body; the e-mail says the same in words).
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    /// Always `comment_flagged`.
    pub event: &'static str,
    /// Site id.
    pub site: String,
    /// Service id, if any.
    pub service: Option<String>,
    /// Receipt reference of the response (`CH-XXXX-XXXX`).
    pub reference: String,
    /// When the response arrived (UTC).
    pub received_at: String,
    /// What was flagged.
    pub flags: Vec<FlagKind>,
    /// Where staff review it.
    pub review_url: String,
}

/// HMAC-SHA256 of `msg` under `key`, lower-case hex.
pub fn sign(key: &[u8], msg: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    crate::dashboard::hex(&m.finalize().into_bytes())
}

/// Send `n` on every configured channel, in the background.
pub fn send(app: &Arc<AppState>, mut n: Notice) {
    let cfg = app.config.notify.clone();
    let base = cfg
        .dashboard_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/');
    n.review_url = format!(
        "{base}/dashboard/review?site={}#{}",
        crate::dashboard::reports::url_encode(&n.site),
        n.reference
    );
    let n = Arc::new(n);
    if cfg.smtp.is_some() {
        spawn_channel(app, &cfg, n.clone(), Channel::Email);
    }
    if cfg.webhook_url.is_some() {
        spawn_channel(app, &cfg, n, Channel::Webhook);
    }
}

#[derive(Clone, Copy, Debug)]
enum Channel {
    Email,
    Webhook,
}

fn spawn_channel(app: &Arc<AppState>, cfg: &NotifyConfig, n: Arc<Notice>, ch: Channel) {
    let store = app.store.clone();
    let cfg = cfg.clone();
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(cfg.retry_seconds);
        let mut outcome = Err(String::new());
        for attempt in 1..=cfg.attempts {
            let r = match ch {
                Channel::Email => send_email(&cfg, &n).await,
                Channel::Webhook => send_webhook(&cfg, &n).await,
            };
            match r {
                Ok(()) => {
                    outcome = Ok(attempt);
                    break;
                }
                Err(e) => {
                    tracing::warn!(channel = ?ch, attempt, error = %e, reference = %n.reference, "flag notification failed");
                    outcome = Err(e);
                    if attempt < cfg.attempts {
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(300));
                    }
                }
            }
        }
        let (action, detail) = match (&outcome, ch) {
            (Ok(a), Channel::Email) => (
                "flag_emailed",
                format!("{} e-mailed (try {a})", n.reference),
            ),
            (Ok(a), Channel::Webhook) => (
                "flag_webhook_sent",
                format!("{} sent to the webhook (try {a})", n.reference),
            ),
            (Err(e), _) => (
                "flag_notify_failed",
                format!(
                    "{} not sent by {ch:?} after {} tries: {e}",
                    n.reference, cfg.attempts
                ),
            ),
        };
        if let Err(e) =
            crate::dashboard::audit::record(&store, None, "system", action, Some(&n.site), &detail)
                .await
        {
            tracing::warn!(error = %e, "could not write the audit entry for a flag notification");
        }
    });
}

fn kinds(n: &Notice) -> String {
    n.flags
        .iter()
        .map(|f| f.kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn send_email(cfg: &NotifyConfig, n: &Notice) -> Result<(), String> {
    use lettre::{
        AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::header::ContentType,
    };
    let (host, port, _) = cfg
        .smtp
        .as_deref()
        .and_then(|s| split_url(s, "smtp", 25))
        .ok_or("notify.smtp is not smtp://host:port")?;
    let from = cfg.email_from.as_deref().unwrap_or_default();
    let mut m = Message::builder()
        .from(from.parse().map_err(|e| format!("email_from: {e}"))?)
        .subject(format!(
            "Chorus: a comment needs urgent review ({}) - {}",
            kinds(n),
            n.reference
        ));
    for to in &cfg.email_to {
        m = m.to(to.parse().map_err(|e| format!("email_to: {e}"))?);
    }
    let mut body = format!(
        "A patient comment was flagged for urgent review.\n\nSite: {}\nService: {}\nReference: {}\nReceived: {}\n\n",
        n.site,
        n.service.as_deref().unwrap_or("(none)"),
        n.reference,
        n.received_at
    );
    for f in &n.flags {
        body += &format!("Flag: {} (matched: {})\n", f.kind, f.cues.join("; "));
    }
    body += &format!(
        "\nRead and review it, signed in, at:\n{}\n\nThe comment itself is not in this e-mail.\n",
        n.review_url
    );
    let msg = m
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())?;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(Duration::from_secs(15)))
        .build();
    mailer
        .send(msg)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn send_webhook(cfg: &NotifyConfig, n: &Notice) -> Result<(), String> {
    use http_body_util::Full;
    let url = cfg.webhook_url.as_deref().unwrap_or_default();
    let (host, port, path) = split_url(url, "http", 80).ok_or("webhook_url is not http://")?;
    let secret = cfg.secret().ok_or("no webhook secret")?;
    let body = serde_json::to_vec(n).map_err(|e| e.to_string())?;
    let ts = crate::dashboard::now_secs().to_string();
    let mut signed = ts.clone().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(&body);
    let sig = sign(secret.as_bytes(), &signed);
    let run = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let authority = if port == 80 {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let req = axum::http::Request::post(path)
            .header(axum::http::header::HOST, authority)
            .header(axum::http::header::CONTENT_TYPE, "application/json")
            .header(axum::http::header::USER_AGENT, "chorus")
            .header("x-chorus-timestamp", &ts)
            .header("x-chorus-signature", format!("sha256={sig}"))
            .body(Full::new(axum::body::Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {}", res.status()))
        }
    };
    tokio::time::timeout(Duration::from_secs(15), run)
        .await
        .map_err(|_| "the webhook did not answer within 15 s".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn urls_and_addresses_are_checked() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/hook", "http", 80),
            Some(("127.0.0.1".into(), 8080, "/hook"))
        );
        assert_eq!(
            split_url("http://h", "http", 80),
            Some(("h".into(), 80, "/"))
        );
        assert_eq!(split_url("https://h/x", "http", 80), None);
        let ok = NotifyConfig {
            smtp: Some("smtp://127.0.0.1:2525".into()),
            email_to: vec!["safeguarding@example-trust.nhs.uk".into()],
            email_from: Some("chorus@example-trust.nhs.uk".into()),
            webhook_url: Some("http://127.0.0.1:9000/chorus".into()),
            webhook_secret: Some("0123456789abcdef".into()),
            attempts: 3,
            retry_seconds: 1,
            ..Default::default()
        };
        ok.check().unwrap();
        let bad = |f: &dyn Fn(&mut NotifyConfig)| {
            let mut c = ok.clone();
            f(&mut c);
            c.check().unwrap_err().to_string()
        };
        assert!(bad(&|c| c.email_to = vec!["nobody".into()]).contains("not an e-mail"));
        assert!(bad(&|c| c.webhook_url = Some("https://x.example/h".into())).contains("https"));
        assert!(bad(&|c| c.webhook_secret = Some("short".into())).contains("16"));
        assert!(bad(&|c| c.email_from = None).contains("email_from"));
        assert!(bad(&|c| c.smtp = Some("mail.example".into())).contains("smtp://"));
    }
}
