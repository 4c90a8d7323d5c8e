//! What the server's integration tests share: a fresh database on either backend, and its
//! removal after a test passes (a failed test keeps it to look at).

use std::{path::PathBuf, sync::Arc};

use chorus_server::AppState;

/// Which storage backend a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A number no other test in this run will pick.
pub fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
}

/// A fresh, empty database: a SQLite file in its own temporary directory, or an isolated
/// schema on `CHORUS_TEST_POSTGRES_URL` so tests never see each other's rows.
pub struct TestDb {
    /// Database URL for `Store::open`.
    pub url: String,
    /// The test's own temporary directory (SQLite file, stand-in bundle and site).
    pub dir: PathBuf,
    schema: Option<(String, String)>,
}

impl TestDb {
    /// `None` (with the reason printed) when the backend is not available here.
    pub async fn new(backend: Backend, prefix: &str) -> Option<TestDb> {
        let dir = std::env::temp_dir().join(format!(
            "chorus-{prefix}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let (url, schema) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.join("t.db").display()), None),
            Backend::Postgres => {
                let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
                    // Straight to stderr, past libtest's capture, so the skip is seen.
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL"
                    );
                    return None;
                };
                sqlx::any::install_default_drivers();
                let schema = format!("t_{}_{}", std::process::id(), rand_suffix());
                let admin = sqlx::AnyPool::connect(&base)
                    .await
                    .expect("connect to PostgreSQL");
                // The name is made of digits we generated: safe to splice.
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                (url, Some((base, schema)))
            }
        };
        Some(TestDb { url, dir, schema })
    }

    /// Close the app's pool, then remove the directory and the schema.
    pub async fn remove(self, state: Arc<AppState>) {
        state.store.pool().close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((base, schema)) = self.schema {
            let admin = sqlx::AnyPool::connect(&base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }
}
