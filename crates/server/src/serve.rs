//! Serving connections: axum's router on hyper's HTTP/1 server, with what `axum::serve` lacks
//! for a public collector. Slow or idle clients must not be able to hold the server:
//!
//! - **header-read timeout**: a client has `header_read_timeout_seconds` to send a request's
//!   headers; a kept-alive connection waiting for its next request is closed after that too;
//! - **idle timeout**: a connection on which no byte moves either way for
//!   `idle_timeout_seconds` is closed (a body that stops arriving, an answer nobody reads);
//! - **connection caps**: at most `max_connections_per_ip` open connections from one address
//!   and `max_connections` in all; one more is answered `503` (`too_many_connections`) and
//!   closed at once, so it never waits for a descriptor or a worker;
//! - **accept errors** (such as running out of file descriptors) pause accepting for a moment
//!   instead of spinning.
//!
//! On shutdown the listener closes, every connection is asked to finish its request in
//! flight, and [`serve`] returns when they all have.

use std::{
    collections::HashMap,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{Router, extract::ConnectInfo};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
};
use tower::ServiceExt;

use crate::config::Limits;

/// What [`serve`] enforces; [`ServeOptions::from`] reads it from `[limits]`.
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    /// Time to send a request's headers (and to start the next one on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// Time without a byte either way before a connection is closed.
    pub idle_timeout: Duration,
    /// Open connections per client address (`None`: no cap).
    pub per_ip: Option<u32>,
    /// Open connections in all.
    pub total: u32,
}

impl From<&Limits> for ServeOptions {
    fn from(l: &Limits) -> ServeOptions {
        ServeOptions {
            header_read_timeout: Duration::from_secs(l.header_read_timeout_seconds.max(1)),
            idle_timeout: Duration::from_secs(l.idle_timeout_seconds.max(1)),
            per_ip: l.connections_per_ip(),
            total: l.max_connections.max(1),
        }
    }
}

/// Descriptors kept back from connections for the database, its files and the bundle.
pub const RESERVED_DESCRIPTORS: u64 = 64;

impl ServeOptions {
    /// [`ServeOptions::from`] with the total cap lowered, if need be, to what this process's
    /// open-file limit leaves after [`RESERVED_DESCRIPTORS`]: however many addresses connect,
    /// accepting never runs out of descriptors.
    pub fn for_this_process(l: &Limits) -> ServeOptions {
        let mut o = ServeOptions::from(l);
        if let Some(fds) = descriptor_limit() {
            let room =
                u32::try_from(fds.saturating_sub(RESERVED_DESCRIPTORS).max(1)).unwrap_or(u32::MAX);
            if room < o.total {
                tracing::warn!(
                    configured = o.total,
                    allowed = room,
                    "limits.max_connections is above what the open-file limit (ulimit -n {fds}) allows; lowered"
                );
                o.total = room;
            }
        }
        o
    }
}

/// The soft open-file limit (`ulimit -n`), where the system tells it (`/proc/self/limits`).
pub fn descriptor_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Open connections, in all and per address.
#[derive(Default)]
struct Counts {
    total: u32,
    per_ip: HashMap<IpAddr, u32>,
}

/// One open connection's place in [`Counts`], given back when it is dropped.
struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
}

impl Slot {
    fn take(counts: &Arc<Mutex<Counts>>, ip: IpAddr, opts: &ServeOptions) -> Option<Slot> {
        let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
        let mine = c.per_ip.get(&ip).copied().unwrap_or(0);
        if c.total >= opts.total || opts.per_ip.is_some_and(|cap| mine >= cap) {
            return None;
        }
        c.total += 1;
        c.per_ip.insert(ip, mine + 1);
        Some(Slot {
            counts: counts.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

/// Refused connections, logged at most once a second (a flood must not flood the log too).
#[derive(Default)]
struct Refusals {
    since_logged: u64,
    logged_at: Option<Instant>,
}

impl Refusals {
    fn note(&mut self, ip: IpAddr) {
        self.since_logged += 1;
        if self
            .logged_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                peer = %ip,
                refused = self.since_logged,
                "connections refused: too many open connections (from this address or in all)"
            );
            self.since_logged = 0;
            self.logged_at = Some(Instant::now());
        }
    }
}

/// The whole answer to a connection over a cap: written without reading the request.
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 127\r\n\r\n{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many open connections from this address, or in all; try again shortly\"}}";

/// A TCP stream that notes when a byte last moved, for the idle timeout.
struct Watched {
    inner: TcpStream,
    started: Instant,
    last: Arc<AtomicU64>,
}

impl Watched {
    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.touch();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Resolves once nothing has moved for `idle` (checked against the stream's last activity).
async fn idle_for(started: Instant, last: Arc<AtomicU64>, idle: Duration) {
    loop {
        let quiet = started
            .elapsed()
            .saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
        if quiet >= idle {
            return;
        }
        tokio::time::sleep(idle - quiet).await;
    }
}

/// Errors that concern one connection only (the client went away while queued), not the
/// listener: accept again at once.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Serve `app` on `listener` until `shutdown` resolves, then let requests in flight finish.
/// Each request carries [`ConnectInfo`]`<SocketAddr>` like `axum::serve`'s.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let mut refusals = Refusals::default();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of descriptors, say: wait for connections to close rather than spin.
                    tracing::error!(error = %e, "accept error; pausing for 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = Slot::take(&counts, peer.ip(), &opts) else {
            refusals.note(peer.ip());
            // Best effort and never waiting: the socket's buffer takes this whole.
            let _ = stream.try_write(TOO_MANY);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let started = Instant::now();
        let last = Arc::new(AtomicU64::new(0));
        let io = TokioIo::new(Watched {
            inner: stream,
            started,
            last: last.clone(),
        });
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req)
            });
        let conn = graceful.watch(http.serve_connection(io, service));
        let idle = opts.idle_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                done = conn => if let Err(e) = done {
                    tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
                },
                () = idle_for(started, last, idle) => {
                    tracing::debug!(peer = %peer, "closing a connection idle for {idle:?}");
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_cap_fits_the_open_file_limit() {
        let limits = Limits {
            max_connections: u32::MAX,
            ..Limits::default()
        };
        let o = ServeOptions::for_this_process(&limits);
        match descriptor_limit() {
            Some(fds) => assert_eq!(u64::from(o.total), fds - RESERVED_DESCRIPTORS),
            None => assert_eq!(o.total, u32::MAX),
        }
        assert_eq!(ServeOptions::from(&Limits::default()).per_ip, Some(64));
        let behind_proxy = Limits {
            trust_forwarded_for: true,
            ..Limits::default()
        };
        assert_eq!(ServeOptions::from(&behind_proxy).per_ip, None);
        let off = Limits {
            max_connections_per_ip: Some(0),
            ..Limits::default()
        };
        assert_eq!(ServeOptions::from(&off).per_ip, None);
    }

    #[test]
    fn the_refusal_is_a_whole_http_answer() {
        let text = std::str::from_utf8(TOO_MANY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "too_many_connections");
    }

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let opts = ServeOptions {
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            per_ip: Some(2),
            total: 3,
        };
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = Slot::take(&counts, a, &opts).unwrap();
        let _a2 = Slot::take(&counts, a, &opts).unwrap();
        assert!(Slot::take(&counts, a, &opts).is_none(), "per-address cap");
        let _b1 = Slot::take(&counts, b, &opts).unwrap();
        assert!(Slot::take(&counts, b, &opts).is_none(), "total cap");
        drop(a1);
        assert!(Slot::take(&counts, a, &opts).is_some());
        assert_eq!(counts.lock().unwrap().per_ip.len(), 2);
    }
}
