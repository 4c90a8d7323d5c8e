//! Staff accounts: argon2id password hashes (the PHC string, salt and parameters included) and
//! a role per site. The dashboard signs people in against these; `chorus user add` creates
//! the first admin.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use sqlx::Row;

use crate::store::Store;

/// Roles, from most to least powerful.
pub const ROLES: [&str; 3] = ["admin", "analyst", "viewer"];

/// Shortest password accepted: length is what makes a password hard to guess.
pub const MIN_PASSWORD: usize = 12;

/// Create a user with a role on a site (or add the role if the user exists, with the same
/// password check). Returns the user id.
pub async fn add(
    store: &Store,
    email: &str,
    password: &str,
    site: &str,
    role: &str,
) -> anyhow::Result<i64> {
    let email = email.trim().to_lowercase();
    anyhow::ensure!(
        email.contains('@') && email.len() <= 254,
        "\"{email}\" is not an e-mail address"
    );
    anyhow::ensure!(
        ROLES.contains(&role),
        "role must be one of {}",
        ROLES.join(", ")
    );
    anyhow::ensure!(!site.trim().is_empty(), "a site is needed");
    anyhow::ensure!(
        password.chars().count() >= MIN_PASSWORD,
        "passwords need at least {MIN_PASSWORD} characters"
    );
    let existing = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(store.pool())
        .await?;
    let id = match existing {
        Some(row) => {
            let hash: String = row.get(1);
            anyhow::ensure!(
                Argon2::default()
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok(),
                "{email} exists and that is not their password"
            );
            row.get(0)
        }
        None => {
            let hash = Argon2::default()
                .hash_password(password.as_bytes())
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
                .to_string();
            sqlx::query("INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id")
                .bind(&email)
                .bind(&hash)
                .fetch_one(store.pool())
                .await?
                .get(0)
        }
    };
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND site = $2")
        .bind(id)
        .bind(site)
        .execute(store.pool())
        .await?;
    sqlx::query("INSERT INTO user_roles (user_id, site, role) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(site)
        .bind(role)
        .execute(store.pool())
        .await?;
    Ok(id)
}

/// The user id if `password` is theirs. Unknown users cost the same hashing work as known
/// ones, so timing does not reveal which e-mail addresses have accounts.
pub async fn verify(store: &Store, email: &str, password: &str) -> anyhow::Result<Option<i64>> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(store.pool())
        .await?;
    let (id, hash) = match &row {
        Some(r) => (Some(r.get::<i64, _>(0)), r.get::<String, _>(1)),
        None => (
            None,
            DUMMY
                .get_or_init(|| {
                    Argon2::default()
                        .hash_password(b"no such user: same work as a real check")
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone(),
        ),
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), hash.as_str())
        .is_ok();
    Ok(id.filter(|_| ok))
}

/// The user's role on a site.
pub async fn role(store: &Store, user: i64, site: &str) -> anyhow::Result<Option<String>> {
    Ok(
        sqlx::query("SELECT role FROM user_roles WHERE user_id = $1 AND site = $2")
            .bind(user)
            .bind(site)
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get(0)),
    )
}
