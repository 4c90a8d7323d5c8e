//! Staff accounts: argon2id password hashes (the PHC string, salt and parameters included) and
//! a role per site. The dashboard signs people in against these; `chorus user add` creates
//! the first admin.
//!
//! Hashing is slow on purpose (tens of milliseconds of CPU and 19 MiB per check), so it never
//! runs on the async workers that answer patients: every hash and every check goes to tokio's
//! blocking pool behind a semaphore of [`hashing_threads`] permits. A burst of sign-ins then
//! queues for those few threads instead of stalling `POST /api/v1/responses`.

//!
//! `rules`: what a password and an e-mail address must be; `hashing`: the bounded pool.
//! This module is the accounts as stored.

mod hashing;
mod rules;

pub use hashing::hashing_threads;
pub use rules::{MAX_EMAIL, MAX_PASSWORD, MIN_PASSWORD, check_email, check_password};

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use hashing::{hash_password, on_hashing_pool};
use sqlx::Row;

use crate::store::Store;

/// Roles, from most to least powerful.
pub const ROLES: [&str; 3] = ["admin", "analyst", "viewer"];

/// Create a user with a role on a site (or add the role if the user exists, with the same
/// password check). Returns the user id.
pub async fn add(
    store: &Store,
    email: &str,
    password: &str,
    site: &str,
    role: &str,
) -> anyhow::Result<i64> {
    let email = check_email(email).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        ROLES.contains(&role),
        "role must be one of {}",
        ROLES.join(", ")
    );
    anyhow::ensure!(!site.trim().is_empty(), "a site is needed");
    check_password(password, &email).map_err(anyhow::Error::msg)?;
    let existing = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(store.pool())
        .await?;
    let id = match existing {
        Some(row) if row.get::<String, _>(1).is_empty() => {
            // An account with no password yet (added in the dashboard, or signed in through
            // the provider): this sets it.
            let id: i64 = row.get(0);
            let hash = hash_password(password).await?;
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(id)
                .execute(store.pool())
                .await?;
            id
        }
        Some(row) => {
            let hash: String = row.get(1);
            let password = password.to_string();
            let ok = on_hashing_pool(move || {
                Argon2::default()
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
            anyhow::ensure!(ok, "{email} exists and that is not their password");
            row.get(0)
        }
        None => {
            let hash = hash_password(password).await?;
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

/// What a password check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The password is this user's.
    Ok(i64),
    /// This user exists; the password is not theirs.
    WrongPassword(i64),
    /// No account has this e-mail address.
    NoSuchUser,
}

/// Check `password` against the account `email`. Unknown users cost the same hashing work as
/// known ones, so timing does not reveal which e-mail addresses have accounts.
pub async fn check(store: &Store, email: &str, password: &str) -> anyhow::Result<Check> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(store.pool())
        .await?;
    let (id, hash) = match &row {
        Some(r) => (Some(r.get::<i64, _>(0)), r.get::<String, _>(1)),
        None => (None, String::new()),
    };
    let password = password.to_string();
    // An account with no password (signs in through the provider, or invited) costs the same
    // work too, and never matches.
    let no_password = hash.is_empty();
    let ok = on_hashing_pool(move || {
        let hash = if id.is_some() && !no_password {
            hash
        } else {
            DUMMY
                .get_or_init(|| {
                    Argon2::default()
                        .hash_password(b"no such user: same work as a real check")
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone()
        };
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
            && !no_password
    })
    .await?;
    Ok(match id {
        Some(id) if ok => Check::Ok(id),
        Some(id) => Check::WrongPassword(id),
        None => Check::NoSuchUser,
    })
}

/// The user id if `password` is theirs (see [`check`]).
pub async fn verify(store: &Store, email: &str, password: &str) -> anyhow::Result<Option<i64>> {
    Ok(match check(store, email, password).await? {
        Check::Ok(id) => Some(id),
        _ => None,
    })
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

/// The sites a user has a role on.
pub async fn sites(store: &Store, user: i64) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query("SELECT site FROM user_roles WHERE user_id = $1 ORDER BY site")
            .bind(user)
            .fetch_all(store.pool())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect(),
    )
}

/// What linking a provider's account to a Chorus account found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linked {
    /// This account (found by subject, linked by e-mail address, or created).
    User(i64),
    /// The account is disabled.
    Disabled,
    /// An account with this e-mail address is linked to another subject.
    Conflict,
}

/// Find the account of provider subject (`issuer`, `subject`), else link the account with this
/// e-mail address to it, else create one (with no password: an empty hash, which no password
/// matches). A linked account follows its e-mail address at the provider when no other account
/// has the new one.
pub async fn link_oidc(
    store: &Store,
    issuer: &str,
    subject: &str,
    email: &str,
) -> anyhow::Result<Linked> {
    let pool = store.pool();
    if let Some(row) = sqlx::query(
        "SELECT id, disabled_at FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(pool)
    .await?
    {
        let id: i64 = row.get(0);
        if row.get::<Option<String>, _>(1).is_some() {
            return Ok(Linked::Disabled);
        }
        sqlx::query(
            "UPDATE users SET email = $1 WHERE id = $2 AND email <> $1
               AND NOT EXISTS (SELECT 1 FROM users WHERE email = $1)",
        )
        .bind(email)
        .bind(id)
        .execute(pool)
        .await?;
        return Ok(Linked::User(id));
    }
    if let Some(row) =
        sqlx::query("SELECT id, disabled_at, oidc_subject FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(pool)
            .await?
    {
        let id: i64 = row.get(0);
        if row.get::<Option<String>, _>(2).is_some() {
            return Ok(Linked::Conflict);
        }
        if row.get::<Option<String>, _>(1).is_some() {
            return Ok(Linked::Disabled);
        }
        sqlx::query("UPDATE users SET oidc_issuer = $1, oidc_subject = $2 WHERE id = $3")
            .bind(issuer)
            .bind(subject)
            .bind(id)
            .execute(pool)
            .await?;
        return Ok(Linked::User(id));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO users (email, password_hash, oidc_issuer, oidc_subject) VALUES ($1, '', $2, $3) RETURNING id",
    )
    .bind(email)
    .bind(issuer)
    .bind(subject)
    .fetch_one(pool)
    .await?
    .get(0);
    Ok(Linked::User(id))
}

/// Make the user's roles from groups exactly `roles` (site, role); roles given by hand stay,
/// and win over a group's on the same site. Returns whether anything changed.
pub async fn set_group_roles(
    store: &Store,
    user: i64,
    roles: &[(String, String)],
) -> anyhow::Result<bool> {
    let pool = store.pool();
    let now: Vec<(String, String)> = sqlx::query(
        "SELECT site, role FROM user_roles WHERE user_id = $1 AND source = 'oidc' ORDER BY site",
    )
    .bind(user)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let manual: Vec<String> =
        sqlx::query("SELECT site FROM user_roles WHERE user_id = $1 AND source = 'manual'")
            .bind(user)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    let mut want: Vec<(String, String)> = roles
        .iter()
        .filter(|(s, _)| !manual.contains(s))
        .cloned()
        .collect();
    want.sort();
    if want == now {
        return Ok(false);
    }
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND source = 'oidc'")
        .bind(user)
        .execute(&mut *tx)
        .await?;
    for (site, role) in &want {
        insert_role(&mut tx, user, site, role, "oidc").await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Is the account disabled?
pub async fn is_disabled(store: &Store, user: i64) -> anyhow::Result<bool> {
    Ok(sqlx::query("SELECT disabled_at FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(store.pool())
        .await?
        .is_some_and(|r| r.get::<Option<String>, _>(0).is_some()))
}

/// A member of staff as the People pages show them.
#[derive(Clone, Debug)]
pub struct Person {
    /// User id.
    pub id: i64,
    /// E-mail address.
    pub email: String,
    /// When the account was disabled, if it is.
    pub disabled_at: Option<String>,
    /// When they last signed in.
    pub last_sign_in: Option<String>,
    /// Linked to an account at the trust's identity provider.
    pub linked: bool,
    /// Has a password.
    pub has_password: bool,
    /// An invitation to choose a password is open.
    pub invited: bool,
    /// (site, role, source) for every role.
    pub roles: Vec<(String, String, String)>,
}

/// Everyone with a role on a site, with all their roles, by e-mail address.
pub async fn people(store: &Store) -> anyhow::Result<Vec<Person>> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.disabled_at, u.last_sign_in, u.oidc_subject, u.password_hash,
                u.invite_expires, r.site, r.role, r.source
         FROM users u JOIN user_roles r ON r.user_id = u.id ORDER BY u.email, u.id, r.site",
    )
    .fetch_all(store.pool())
    .await?;
    let now = crate::dashboard::now_iso();
    let mut out: Vec<Person> = Vec::new();
    for r in rows {
        let id: i64 = r.get(0);
        if out.last().is_none_or(|p| p.id != id) {
            out.push(Person {
                id,
                email: r.get(1),
                disabled_at: r.get(2),
                last_sign_in: r.get(3),
                linked: r.get::<Option<String>, _>(4).is_some(),
                has_password: !r.get::<String, _>(5).is_empty(),
                invited: r.get::<Option<String>, _>(6).is_some_and(|e| e > now),
                roles: vec![],
            });
        }
        if let Some(p) = out.last_mut() {
            p.roles.push((r.get(7), r.get(8), r.get(9)));
        }
    }
    Ok(out)
}

/// One person (with every role), if they have a role on some site.
pub async fn person(store: &Store, id: i64) -> anyhow::Result<Option<Person>> {
    Ok(people(store).await?.into_iter().find(|p| p.id == id))
}

/// The account with this (checked, normalised) e-mail address, made with no password if there
/// is none. Returns (id, whether it was made now).
pub async fn find_or_create(store: &Store, email: &str) -> anyhow::Result<(i64, bool)> {
    let email = check_email(email).map_err(anyhow::Error::msg)?;
    if let Some(r) = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(store.pool())
        .await?
    {
        return Ok((r.get(0), false));
    }
    let id = sqlx::query("INSERT INTO users (email, password_hash) VALUES ($1, '') RETURNING id")
        .bind(&email)
        .fetch_one(store.pool())
        .await?
        .get(0);
    Ok((id, true))
}

/// One role row: `source` says where it came from (`oidc`: the provider's groups, kept in step
/// at each sign-in; `manual`: given by hand, which a sign-in leaves alone).
async fn insert_role(
    conn: &mut sqlx::AnyConnection,
    user: i64,
    site: &str,
    role: &str,
    source: &str,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO user_roles (user_id, site, role, source) VALUES ($1, $2, $3, $4)")
        .bind(user)
        .bind(site)
        .bind(role)
        .bind(source)
        .execute(conn)
        .await?;
    Ok(())
}

/// Give `role` on `site` by hand (replacing any role there, from groups or by hand).
pub async fn give_role(store: &Store, user: i64, site: &str, role: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        ROLES.contains(&role),
        "role must be one of {}",
        ROLES.join(", ")
    );
    let mut tx = store.pool().begin().await?;
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND site = $2")
        .bind(user)
        .bind(site)
        .execute(&mut *tx)
        .await?;
    insert_role(&mut tx, user, site, role, "manual").await?;
    tx.commit().await?;
    Ok(())
}

/// Remove the role on `site`; returns whether there was one.
pub async fn remove_role(store: &Store, user: i64, site: &str) -> anyhow::Result<bool> {
    Ok(
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND site = $2")
            .bind(user)
            .bind(site)
            .execute(store.pool())
            .await?
            .rows_affected()
            > 0,
    )
}

/// Disable (`true`) or enable the account. A disabled account cannot sign in, and its
/// sessions stop working at once.
pub async fn set_disabled(store: &Store, user: i64, disabled: bool) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(disabled.then(crate::dashboard::now_iso))
        .bind(user)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// A new one-time invitation for `user` to choose a password, valid for `days`: the secret to
/// put in the link (only its hash is stored; a new one replaces the last).
pub async fn invite(store: &Store, user: i64, days: i64) -> anyhow::Result<String> {
    let secret = crate::dashboard::random_token();
    sqlx::query("UPDATE users SET invite_hash = $1, invite_expires = $2 WHERE id = $3")
        .bind(crate::dashboard::sha256_hex(&secret))
        .bind(crate::store::iso_utc(
            crate::dashboard::now_secs() + days * 86_400,
        ))
        .bind(user)
        .execute(store.pool())
        .await?;
    Ok(secret)
}

/// The (id, e-mail address) an open invitation belongs to.
pub async fn invited(store: &Store, secret: &str) -> anyhow::Result<Option<(i64, String)>> {
    Ok(sqlx::query(
        "SELECT id, email FROM users WHERE invite_hash = $1 AND invite_expires > $2 AND disabled_at IS NULL",
    )
    .bind(crate::dashboard::sha256_hex(secret))
    .bind(crate::dashboard::now_iso())
    .fetch_optional(store.pool())
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

/// Accept an invitation: set the password (checked as `chorus user add` checks it) and close
/// the invitation. `Err` with the reason for a refused password.
pub async fn accept_invite(
    store: &Store,
    user: i64,
    email: &str,
    password: &str,
) -> anyhow::Result<Result<(), String>> {
    if let Err(e) = check_password(password, email) {
        return Ok(Err(e));
    }
    let hash = hash_password(password).await?;
    sqlx::query(
        "UPDATE users SET password_hash = $1, invite_hash = NULL, invite_expires = NULL WHERE id = $2",
    )
    .bind(&hash)
    .bind(user)
    .execute(store.pool())
    .await?;
    Ok(Ok(()))
}
