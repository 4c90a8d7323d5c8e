//! Staff sign-in with the trust's own accounts: OpenID Connect (authorisation code flow with
//! PKCE, state and nonce) against any standards-compliant provider, such as Microsoft Entra ID.
//!
//! Every check on the ID token (signature against the provider's published keys, issuer,
//! audience, expiry, nonce) is the `openidconnect` crate's; this module only keeps the
//! provider's metadata, drives the two redirects and maps the verified claims to an account.
//!
//! - **Discovery** happens on first use, not at start-up, so Chorus starts (and keeps taking
//!   patients' responses) while the provider is unreachable. The metadata and keys are cached
//!   for an hour; an ID token signed with a key id that is not in the cache fetches the key set
//!   again (a provider rotating keys), at most once a minute.
//! - **State**: each redirect to the provider stores a row in `oidc_flows` (hash of the state,
//!   hash of a browser-bound cookie, the nonce and PKCE verifier). The callback deletes it in
//!   the same statement that reads it, so a state is good for one try only, in the browser
//!   that started it, for ten minutes.
//! - **Accounts** are found by (issuer, subject), then by e-mail address (linking an account made
//!   with `chorus user add` or in the dashboard), else created. Only addresses in
//!   `allowed_domains` may sign in. Roles from `[[oidc.roles]]` groups are replaced at every
//!   sign-in; roles given in the dashboard stay.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
        CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
        CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
    },
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio::sync::Mutex;

use crate::{
    AppState,
    config::OidcConfig,
    dashboard::{audit, auth, now_iso, now_secs, random_token, same_secret, sha256_hex, templates},
    store::iso_utc,
};

/// How long a browser may spend at the provider.
const FLOW_SECONDS: i64 = 600;
/// The most sign-ins that may be under way at the provider at once.
const MAX_OPEN_FLOWS: i64 = 10_000;
/// How long discovered metadata and keys are used before being fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of the key set for an unknown key id.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(60);

/// Claims beyond the standard ones, read by name (the groups claim is configurable).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Extra {
    #[serde(flatten)]
    other: BTreeMap<String, serde_json::Value>,
}
impl AdditionalClaims for Extra {}

type Fields = IdTokenFields<
    Extra,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type OidcClient = Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Cached {
    metadata: CoreProviderMetadata,
    fetched: Instant,
    /// When an unknown key id last made us fetch the keys again.
    keys_forced: Option<Instant>,
}

/// The configured provider: settings, the secret, an HTTP client, and the cached metadata.
pub struct Oidc {
    /// `[oidc]` from the configuration.
    pub config: OidcConfig,
    secret: Option<String>,
    http: openidconnect::reqwest::Client,
    cache: Mutex<Option<Cached>>,
}

/// Why a sign-in through the provider was refused (shown to the person, and audited).
#[derive(Debug)]
pub struct Refused {
    status: StatusCode,
    /// What the audit log says.
    pub reason: String,
    /// What the person reads.
    message: String,
}

fn refused(status: StatusCode, reason: impl Into<String>, message: &str) -> Refused {
    Refused {
        status,
        reason: reason.into(),
        message: message.into(),
    }
}

impl Oidc {
    /// From the configuration; the secret is read from the environment variable it names now
    /// (a missing one is reported at the first sign-in and by `chorus doctor`, not fatal).
    pub fn new(config: OidcConfig) -> anyhow::Result<Oidc> {
        let secret = std::env::var(&config.client_secret_env)
            .ok()
            .filter(|s| !s.is_empty());
        if secret.is_none() {
            tracing::warn!(
                variable = %config.client_secret_env,
                "oidc: the client secret's environment variable is not set; sign-in through the provider will fail"
            );
        }
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send us anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Oidc {
            config,
            secret,
            http,
            cache: Mutex::new(None),
        })
    }

    /// The provider's metadata (with its keys), discovered or from the cache.
    async fn metadata(&self, refresh_keys: bool) -> anyhow::Result<CoreProviderMetadata> {
        let mut cache = self.cache.lock().await;
        let fresh = cache
            .as_ref()
            .is_some_and(|c| c.fetched.elapsed() < METADATA_TTL);
        if !fresh {
            let issuer = IssuerUrl::new(self.config.issuer.clone())?;
            let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
                .await
                .map_err(|e| anyhow::anyhow!("discovery from {}: {e}", self.config.issuer))?;
            *cache = Some(Cached {
                metadata,
                fetched: Instant::now(),
                keys_forced: None,
            });
        } else if refresh_keys
            && let Some(c) = cache.as_mut()
            && c.keys_forced
                .is_none_or(|t| t.elapsed() >= JWKS_MIN_REFRESH)
        {
            let keys = CoreJsonWebKeySet::fetch_async(c.metadata.jwks_uri(), &self.http)
                .await
                .map_err(|e| anyhow::anyhow!("fetching the provider's keys: {e}"))?;
            c.metadata = c.metadata.clone().set_jwks(keys);
            c.keys_forced = Some(Instant::now());
            tracing::info!("oidc: fetched the provider's keys again (an unknown key id)");
        }
        cache
            .as_ref()
            .map(|c| c.metadata.clone())
            .ok_or_else(|| anyhow::anyhow!("no provider metadata"))
    }

    fn client(&self, metadata: CoreProviderMetadata) -> anyhow::Result<OidcClient> {
        Ok(OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(self.config.redirect_url.clone())?))
    }
}

fn flow_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-chorus_oidc"
    } else {
        "chorus_oidc"
    }
}

/// The flow cookie is `SameSite=Lax`, not `Strict`: the browser comes back from the provider's
/// site, and a strict cookie would not be sent with that navigation.
fn flow_cookie(secure: bool, value: &str, max_age: i64) -> String {
    let flags = if secure { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{flags}",
        flow_cookie_name(secure)
    )
}

/// `GET /dashboard/oidc/start`: off to the provider.
pub async fn start(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(oidc) = app.oidc.as_ref() else {
        return templates::not_found().await.into_response();
    };
    let begun = async {
        let client = oidc.client(oidc.metadata(false).await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser = random_token();
        // Flows abandoned at the provider go whenever another starts; and anyone can start
        // one, so there is a cap on how many may be under way (far above any trust's staff
        // signing in within ten minutes).
        sqlx::query("DELETE FROM oidc_flows WHERE expires_at < $1")
            .bind(now_iso())
            .execute(app.store.pool())
            .await?;
        let open: i64 = sqlx::query("SELECT COUNT(*) FROM oidc_flows")
            .fetch_one(app.store.pool())
            .await?
            .get(0);
        anyhow::ensure!(
            open < MAX_OPEN_FLOWS,
            "{open} sign-ins are under way at the provider: refusing more for now"
        );
        sqlx::query(
            "INSERT INTO oidc_flows (state_hash, browser_hash, nonce, pkce_verifier, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(state.secret()))
        .bind(sha256_hex(&browser))
        .bind(nonce.secret())
        .bind(verifier.secret())
        .bind(iso_utc(now_secs() + FLOW_SECONDS))
        .execute(app.store.pool())
        .await?;
        anyhow::Ok((url, browser))
    }
    .await;
    match begun {
        Ok((url, browser)) => {
            let secure = auth::secure(&app, &headers);
            let mut res = Redirect::to(url.as_str()).into_response();
            if let Ok(v) = flow_cookie(secure, &browser, FLOW_SECONDS).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            tracing::warn!(error = %e, "oidc: could not start a sign-in");
            problem_page(
                &app,
                StatusCode::BAD_GATEWAY,
                "Your organisation's sign-in service did not answer. Try again in a few minutes, or tell your IT service desk if it goes on.",
            )
        }
    }
}

/// What the provider sends the browser back with.
#[derive(Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /dashboard/oidc/callback`.
pub async fn callback(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let Some(oidc) = app.oidc.as_ref() else {
        return templates::not_found().await.into_response();
    };
    let secure = auth::secure(&app, &headers);
    let outcome = sign_in(&app, oidc, &headers, secure, q).await;
    let mut res = match outcome {
        Ok(Ok((user_id, email))) => {
            match auth::start_session(&app, user_id, &email, secure, "oidc").await {
                Ok(r) => r,
                Err(e) => templates::server_error(&e),
            }
        }
        Ok(Err(r)) => {
            tracing::info!(reason = %r.reason, "oidc: sign-in refused");
            if let Err(e) = audit::record(
                &app.store,
                None,
                "oidc sign-in",
                "sign_in_failed",
                None,
                &r.reason,
            )
            .await
            {
                return templates::server_error(&e);
            }
            problem_page(&app, r.status, &r.message)
        }
        Err(e) => templates::server_error(&e),
    };
    if let Ok(v) = flow_cookie(secure, "", 0).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn problem_page(app: &AppState, status: StatusCode, message: &str) -> Response {
    let password = app.oidc.as_ref().is_none_or(|o| o.config.password_sign_in);
    let body = html! {
        h1 { "You are not signed in" }
        p id="problem" { (message) }
        p { a href="/dashboard/login" { "Back to sign in" } }
        @if password { p { "You can also sign in with a Chorus password if an administrator gave you one." } }
    };
    (
        status,
        templates::page("You are not signed in", None, "", body),
    )
        .into_response()
}

/// The whole callback: `Ok(Ok(user))` signed in, `Ok(Err(why))` refused, `Err` a failure of ours.
async fn sign_in(
    app: &AppState,
    oidc: &Oidc,
    headers: &HeaderMap,
    secure: bool,
    q: Callback,
) -> anyhow::Result<Result<(i64, String), Refused>> {
    let again = "Go back to the sign-in page and try again.";
    if let Some(e) = q.error {
        let e: String = e
            .chars()
            .take(64)
            .filter(|c| c.is_ascii_graphic())
            .collect();
        return Ok(Err(refused(
            StatusCode::UNAUTHORIZED,
            format!("the provider answered {e}"),
            &format!("Your organisation's sign-in service did not sign you in ({e}). {again}"),
        )));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Ok(Err(refused(
            StatusCode::BAD_REQUEST,
            "callback without code or state",
            &format!("This sign-in link is incomplete. {again}"),
        )));
    };
    // One try per state: the row goes in the statement that reads it.
    let row = sqlx::query(
        "DELETE FROM oidc_flows WHERE state_hash = $1
         RETURNING browser_hash, nonce, pkce_verifier, expires_at",
    )
    .bind(sha256_hex(&state))
    .fetch_optional(app.store.pool())
    .await?;
    let Some(row) = row else {
        return Ok(Err(refused(
            StatusCode::BAD_REQUEST,
            "unknown or used state",
            &format!("This sign-in link has been used already or has expired. {again}"),
        )));
    };
    let browser = auth::cookie(headers, flow_cookie_name(secure)).unwrap_or_default();
    if !same_secret(&sha256_hex(&browser), &row.get::<String, _>(0)) {
        return Ok(Err(refused(
            StatusCode::BAD_REQUEST,
            "state from another browser",
            &format!("This sign-in was started in another browser or window. {again}"),
        )));
    }
    if row.get::<String, _>(3) < now_iso() {
        return Ok(Err(refused(
            StatusCode::BAD_REQUEST,
            "state expired",
            &format!("This sign-in took too long. {again}"),
        )));
    }
    let nonce = Nonce::new(row.get(1));
    let verifier = PkceCodeVerifier::new(row.get(2));
    let metadata = match oidc.metadata(false).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "oidc: discovery failed at the callback");
            return Ok(Err(refused(
                StatusCode::BAD_GATEWAY,
                "provider unreachable",
                &format!("Your organisation's sign-in service did not answer. {again}"),
            )));
        }
    };
    let client = oidc.client(metadata)?;
    let tokens = match client
        .exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(verifier)
        .request_async(&oidc.http)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = ?e, "oidc: the code exchange failed");
            return Ok(Err(refused(
                StatusCode::BAD_GATEWAY,
                format!("code exchange failed: {}", short(&e.to_string())),
                &format!(
                    "Your organisation's sign-in service did not confirm the sign-in. {again}"
                ),
            )));
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return Ok(Err(refused(
            StatusCode::BAD_GATEWAY,
            "no ID token in the token response",
            &format!("Your organisation's sign-in service sent no identity. {again}"),
        )));
    };
    let verified = {
        let first = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .cloned();
        match first {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key we have not seen: the provider may have rotated its keys.
                let client = oidc.client(oidc.metadata(true).await?)?;
                id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .cloned()
            }
            other => other,
        }
    };
    let claims = match verified {
        Ok(c) => c,
        Err(e) => {
            let what = match &e {
                ClaimsVerificationError::Expired(_) => "expired",
                ClaimsVerificationError::InvalidAudience(_) => "for another application",
                ClaimsVerificationError::InvalidIssuer(_) => "from another issuer",
                ClaimsVerificationError::InvalidNonce(_) => "for another sign-in",
                ClaimsVerificationError::SignatureVerification(_) => "not signed by the provider",
                _ => "not valid",
            };
            return Ok(Err(refused(
                StatusCode::UNAUTHORIZED,
                format!("ID token {what}: {}", short(&e.to_string())),
                &format!(
                    "The identity your organisation's sign-in service sent is {what}, so it was not accepted. {again}"
                ),
            )));
        }
    };
    // The e-mail address, from the configured claim.
    let c = &oidc.config;
    let raw_email = match c.email_claim.as_str() {
        "email" => claims.email().map(|e| e.as_str().to_string()),
        "preferred_username" => claims.preferred_username().map(|u| u.as_str().to_string()),
        other => claims
            .additional_claims()
            .other
            .get(other)
            .and_then(|v| v.as_str())
            .map(str::to_string),
    };
    let Some(email) = raw_email.and_then(|e| crate::users::check_email(&e).ok()) else {
        return Ok(Err(refused(
            StatusCode::FORBIDDEN,
            format!("no e-mail address in the {} claim", c.email_claim),
            "Your organisation's account has no e-mail address Chorus can use. Ask your IT service desk.",
        )));
    };
    if claims.email_verified() == Some(false) {
        return Ok(Err(refused(
            StatusCode::FORBIDDEN,
            "e-mail address not verified by the provider",
            "Your organisation's sign-in service has not verified your e-mail address.",
        )));
    }
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    if !c
        .allowed_domains
        .iter()
        .any(|d| d.trim().eq_ignore_ascii_case(domain))
    {
        return Ok(Err(refused(
            StatusCode::FORBIDDEN,
            format!("e-mail domain {domain} is not allowed"),
            "Accounts from your organisation cannot sign in to this dashboard. Ask an administrator if you think they should.",
        )));
    }
    let groups: Vec<String> = match claims.additional_claims().other.get(&c.groups_claim) {
        Some(serde_json::Value::Array(v)) => v
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => vec![],
    };
    let subject = claims.subject().as_str().to_string();
    let linked = crate::users::link_oidc(&app.store, &c.issuer, &subject, &email).await?;
    let user_id = match linked {
        crate::users::Linked::Disabled => {
            return Ok(Err(refused(
                StatusCode::FORBIDDEN,
                format!("account {email} is disabled"),
                "Your Chorus account has been disabled. Ask an administrator if you need it again.",
            )));
        }
        crate::users::Linked::Conflict => {
            return Ok(Err(refused(
                StatusCode::FORBIDDEN,
                format!("{email} belongs to another provider account"),
                "A Chorus account with your e-mail address is linked to another account at your organisation. Ask an administrator.",
            )));
        }
        crate::users::Linked::User(id) => id,
    };
    let mut roles: BTreeMap<String, auth::Role> = BTreeMap::new();
    for g in c.roles.iter().filter(|g| groups.contains(&g.group)) {
        if let Some(r) = auth::Role::parse(&g.role) {
            let e = roles.entry(g.site.clone()).or_insert(r);
            *e = (*e).max(r);
        }
    }
    let roles: Vec<(String, String)> = roles
        .into_iter()
        .map(|(s, r)| (s, r.name().to_string()))
        .collect();
    let changed = crate::users::set_group_roles(&app.store, user_id, &roles).await?;
    if changed {
        let sites = crate::users::sites(&app.store, user_id).await?;
        let shown: Vec<String> = roles.iter().map(|(s, r)| format!("{r} on {s}")).collect();
        audit::record_for_sites(
            &app.store,
            Some(user_id),
            &email,
            "roles_from_groups",
            &sites,
            &if shown.is_empty() {
                "no roles from groups".to_string()
            } else {
                shown.join(", ")
            },
        )
        .await?;
    }
    if crate::users::sites(&app.store, user_id).await?.is_empty() {
        return Ok(Err(refused(
            StatusCode::FORBIDDEN,
            format!("{email} has no role on any site"),
            "You are signed in to your organisation, but you have no role in Chorus yet. Ask an administrator to give you one.",
        )));
    }
    Ok(Ok((user_id, email)))
}

/// The first line of an error, at most 200 characters (for the audit log).
fn short(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}
