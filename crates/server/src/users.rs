//! Staff accounts: argon2id password hashes (the PHC string, salt and parameters included) and
//! a role per site. The dashboard signs people in against these; `chorus user add` creates
//! the first admin.
//!
//! Hashing is slow on purpose (tens of milliseconds of CPU and 19 MiB per check), so it never
//! runs on the async workers that answer patients: every hash and every check goes to tokio's
//! blocking pool behind a semaphore of [`hashing_threads`] permits. A burst of sign-ins then
//! queues for those few threads instead of stalling `POST /api/v1/responses`.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use sqlx::Row;
use tokio::sync::Semaphore;

use crate::store::Store;

/// Roles, from most to least powerful.
pub const ROLES: [&str; 3] = ["admin", "analyst", "viewer"];

/// Shortest password accepted: length is what makes a password hard to guess.
pub const MIN_PASSWORD: usize = 12;

/// Longest password accepted (argon2 takes any length; this only bounds the work per request).
pub const MAX_PASSWORD: usize = 1024;

/// Longest e-mail address (RFC 5321's limit on a forward path).
pub const MAX_EMAIL: usize = 254;

/// The shipped list of common passwords (see the file's header for how it is used).
const COMMON: &str = include_str!("common-passwords.txt");

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
async fn on_hashing_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = hashing_permits().acquire().await?;
    Ok(tokio::task::spawn_blocking(f).await?)
}

/// An argon2 hash of `password` (PHC string), made on the hashing pool.
async fn hash_password(password: &str) -> anyhow::Result<String> {
    let password = password.to_string();
    on_hashing_pool(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Why an e-mail address is refused, or `Ok` with it normalised (trimmed, lower case).
pub fn check_email(email: &str) -> Result<String, String> {
    let email = email.trim();
    if email.len() > MAX_EMAIL {
        return Err(format!(
            "an e-mail address has at most {MAX_EMAIL} characters"
        ));
    }
    let email = email.to_lowercase();
    let shown = || format!("\"{email}\" is not an e-mail address");
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(format!("{} (it has no @)", shown()));
    };
    // The dot-atom form of RFC 5322 (what every mail provider issues); quoted local parts and
    // address literals are not accepted for staff accounts.
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(atext));
    if !local_ok {
        return Err(format!("{} (the part before the @ is not valid)", shown()));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld = labels.last().copied().unwrap_or("");
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || (tld.starts_with("xn--") && tld.len() > 4);
    if labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
        return Err(format!(
            "{} (the part after the @ must be a domain such as nhs.net)",
            shown()
        ));
    }
    Ok(email)
}

/// Why a password is refused, if it is.
pub fn check_password(password: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if password.trim().is_empty() {
        return Err("a password cannot be only spaces".into());
    }
    if n < MIN_PASSWORD {
        return Err(format!("passwords need at least {MIN_PASSWORD} characters"));
    }
    if n > MAX_PASSWORD {
        return Err(format!("passwords have at most {MAX_PASSWORD} characters"));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 3 {
        return Err(
            "that password repeats one or two characters: choose one that is harder to guess"
                .into(),
        );
    }
    let lower = password.to_lowercase();
    if !email.is_empty() && lower.contains(&email.trim().to_lowercase()) {
        return Err("a password cannot contain the e-mail address".into());
    }
    if is_common(&lower) {
        return Err(
            "that password is on the list of commonly used passwords: choose another (three or four unrelated words work well)"
                .into(),
        );
    }
    Ok(())
}

/// Is `lower` (a lower-cased password) a common password, a common one followed only by
/// digits and punctuation, or a common one repeated?
fn is_common(lower: &str) -> bool {
    let base = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let unpunctuated = lower.trim_end_matches(|c: char| c.is_ascii_punctuation());
    let squashed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    COMMON
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|w| {
            w == lower
                || w == base
                || w == unpunctuated
                || w == squashed
                || (lower.len() > w.len()
                    && lower.len().is_multiple_of(w.len())
                    && lower.as_bytes().chunks(w.len()).all(|c| c == w.as_bytes()))
        })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked() {
        assert_eq!(
            check_email(" Ann.Smith+ward7@Trust.NHS.uk ").as_deref(),
            Ok("ann.smith+ward7@trust.nhs.uk")
        );
        assert!(check_email("zoë@example.com").is_ok());
        for bad in [
            "a@b",
            "a@b.c",
            "ab",
            "@nhs.net",
            "a@",
            "a..b@nhs.net",
            ".a@nhs.net",
            "a@-nhs.net",
            "a@nhs..net",
            "a b@nhs.net",
            "a@nhs.net.",
            "a@nhs.n3t",
            "\"a\"@nhs.net",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        let long = format!("{}@nhs.net", "a".repeat(200_000));
        assert!(check_email(&long).unwrap_err().contains("at most 254"));
        assert!(check_email(&format!("{}@nhs.net", "a".repeat(65))).is_err());
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_password("correct horse battery", "a@nhs.net").is_ok());
        assert!(check_password("chorus-demo-password", "a@nhs.net").is_ok());
        for (bad, why) in [
            ("            ", "only spaces"),
            ("\t\t\t\t\t\t\t\t\t\t\t\t\t", "only spaces"),
            ("short", "at least 12"),
            ("aaaaaaaaaaaa", "repeats"),
            ("abababababab", "repeats"),
            ("password1234", "commonly used"),
            ("Password2026!", "commonly used"),
            ("QWERTYUIOP12", "commonly used"),
            ("qwertyqwertyqwerty", "commonly used"),
            ("correct horse battery staple", "commonly used"),
            ("iloveyou!!!!!!", "commonly used"),
            ("123456789012!", "commonly used"),
            ("my a@nhs.net password", "e-mail address"),
        ] {
            let e = check_password(bad, "a@nhs.net").unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(
            check_password(&"ab3".repeat(400), "")
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn the_common_list_is_a_few_hundred_lower_case_entries() {
        let words: Vec<&str> = COMMON
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(words.len() >= 300, "{}", words.len());
        assert!(
            words
                .iter()
                .all(|w| *w == w.to_lowercase() && !w.contains(' '))
        );
    }
}
