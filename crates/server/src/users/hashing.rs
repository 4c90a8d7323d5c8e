//! argon2id on tokio's blocking pool behind a semaphore of [`hashing_threads`] permits, so a
//! burst of sign-ins queues for a few threads and never stalls the async workers.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher};
use tokio::sync::Semaphore;

/// How many hashes or checks may run at once: half the cores (at least one), so sign-ins can
/// never take every core from the API.
pub fn hashing_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get() / 2)
        .max(1)
}

fn hashing_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(hashing_threads()))
}

/// Run `f` (an argon2 hash or check) on the blocking pool, at most [`hashing_threads`] at once.
pub(super) async fn on_hashing_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = hashing_permits().acquire().await?;
    Ok(tokio::task::spawn_blocking(f).await?)
}

/// An argon2 hash of `password` (PHC string), made on the hashing pool.
pub(super) async fn hash_password(password: &str) -> anyhow::Result<String> {
    let password = password.to_string();
    on_hashing_pool(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}
