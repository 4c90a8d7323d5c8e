//! People and sessions from the dashboard: adding and inviting a person, giving and removing
//! roles, disabling an account, ending someone's sessions, the idle timeout and "sign out
//! everywhere". Each runs on SQLite and, when `CHORUS_TEST_POSTGRES_URL` is set, PostgreSQL.

use std::sync::Arc;

use axum::{Router, http::StatusCode};
use chorus_server::{AppState, users};

mod common;

use common::{Backend, PASSWORD, TestDb, client::Client};

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    common::app_with(backend, "people", |config| {
        config.sessions.idle_minutes = 5;
        config.sites.push(common::other_site(&[]));
    })
    .await
}

on_both!(
    2;
    an_admin_adds_a_person_who_accepts_the_invitation_and_signs_in,
    roles_are_given_and_removed_on_the_admins_sites_only,
    a_disabled_account_loses_its_sessions_and_cannot_sign_in,
    an_admin_ends_someones_sessions,
    people_pages_are_for_admins_and_need_the_csrf_token,
    an_idle_session_ends_and_sign_out_everywhere_ends_them_all,
    a_withdrawn_response_is_gone_from_every_report_and_export,
    user_add_sets_a_password_only_where_there_is_none,
);

/// A browser on `chorus.test` (the invitation links name a host).
fn browser(app: &Router) -> Client {
    let mut c = Client::new(app);
    c.host = Some("chorus.test".into());
    c
}

async fn signed_in(app: &Router, state: &AppState, email: &str, site: &str, role: &str) -> Client {
    common::signed_in_as(browser(app), state, email, site, role).await
}

async fn user_id(state: &AppState, email: &str) -> i64 {
    common::value(
        state,
        "SELECT id FROM users WHERE email = $1",
        &[email.into()],
    )
    .await
}

async fn roles(state: &AppState, email: &str) -> Vec<(String, String)> {
    common::rows(
        state,
        "SELECT r.site, r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.email = $1 ORDER BY r.site",
        &[email.into()],
    )
    .await
}

async fn audit(state: &AppState, action: &str) -> Vec<(String, Option<String>, String)> {
    common::rows(
        state,
        "SELECT actor, site, detail FROM audit_log WHERE action = $1 ORDER BY id",
        &[action.into()],
    )
    .await
}

async fn an_admin_adds_a_person_who_accepts_the_invitation_and_signs_in(
    app: Router,
    state: Arc<AppState>,
) {
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let people = admin.get("/dashboard/people").await;
    assert_eq!(people.status, StatusCode::OK);
    assert!(people.body.contains("admin@trust.nhs.uk"));
    let csrf = people.csrf();
    let add = |email| [("email", email), ("site", "demo"), ("role", "viewer")];
    // A bad address is refused with a message beside the field.
    let bad = admin
        .form("/dashboard/people", &csrf, &add("not an address"))
        .await
        .want(StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("is not an e-mail address"),
        "{}",
        bad.body
    );
    let added = admin
        .form(
            "/dashboard/people",
            &csrf,
            &add(" New.Person@Trust.NHS.uk "),
        )
        .await
        .want(StatusCode::OK);
    let link = added
        .body
        .split("http://chorus.test/dashboard/invite/")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the invitation link is shown")
        .to_string();
    assert_eq!(link.len(), 64);
    assert_eq!(
        roles(&state, "new.person@trust.nhs.uk").await,
        vec![("demo".into(), "viewer".into())]
    );
    // Only a hash of the link's secret is stored.
    let stored: String = common::value(
        &state,
        "SELECT invite_hash FROM users WHERE email = 'new.person@trust.nhs.uk'",
        &[],
    )
    .await;
    assert_ne!(stored, link);
    assert_eq!(stored, chorus_server::dashboard::sha256_hex(&link));
    // Before accepting, there is no password that works.
    let mut person = browser(&app);
    assert_eq!(
        person.sign_in("new.person@trust.nhs.uk", "").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        person
            .sign_in("new.person@trust.nhs.uk", "any password at all")
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "an account with no password matches none"
    );
    let invite = format!("/dashboard/invite/{link}");
    let form = person.get(&invite).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("new.person@trust.nhs.uk"));
    let choose = |password, confirm| [("password", password), ("confirm", confirm)];
    let weak = person
        .post(&invite, &choose("password1234", "password1234"))
        .await
        .want(StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("commonly used"), "{}", weak.body);
    for (password, confirm, want) in [
        (
            "plum tree lantern",
            "plum tree lanterns",
            StatusCode::BAD_REQUEST,
        ),
        ("plum tree lantern", "plum tree lantern", StatusCode::OK),
    ] {
        person
            .post(&invite, &choose(password, confirm))
            .await
            .want(want);
    }
    // The link works once.
    assert_eq!(person.get(&invite).await.status, StatusCode::NOT_FOUND);
    let phrase = "another good phrase";
    person
        .post(&invite, &choose(phrase, phrase))
        .await
        .want(StatusCode::NOT_FOUND);
    let p = person
        .sign_in("new.person@trust.nhs.uk", "plum tree lantern")
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(person.signed_in().await);
    // A viewer: no People page.
    assert_eq!(
        person.get("/dashboard/people").await.status,
        StatusCode::FORBIDDEN
    );
    // The admin sees when they last signed in.
    let id = user_id(&state, "new.person@trust.nhs.uk").await;
    let page = admin.get(&format!("/dashboard/people/{id}")).await;
    assert!(
        !page.body.contains("id=\"last-sign-in\">never"),
        "{}",
        page.body
    );
    assert!(page.body.contains("1 signed in now"), "{}", page.body);
    assert_eq!(audit(&state, "person_added").await.len(), 1);
    assert_eq!(audit(&state, "invitation_made").await.len(), 1);
    assert_eq!(audit(&state, "invitation_accepted").await.len(), 1);
    assert_eq!(
        audit(&state, "person_added").await[0],
        (
            "admin@trust.nhs.uk".into(),
            Some("demo".into()),
            "new.person@trust.nhs.uk: viewer on demo".into()
        )
    );
}

/// `chorus user add` gives a password to an account that has none (added in the dashboard),
/// and still refuses to change a password it was not given.
async fn user_add_sets_a_password_only_where_there_is_none(app: Router, state: Arc<AppState>) {
    let (id, created) = users::find_or_create(&state.store, "nopass@trust.nhs.uk")
        .await
        .unwrap();
    assert!(created);
    users::give_role(&state.store, id, "demo", "viewer")
        .await
        .unwrap();
    let again = users::add(
        &state.store,
        "nopass@trust.nhs.uk",
        PASSWORD,
        "demo",
        "analyst",
    )
    .await
    .unwrap();
    assert_eq!(again, id);
    let mut c = browser(&app);
    assert_eq!(
        c.sign_in("nopass@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let e = users::add(
        &state.store,
        "nopass@trust.nhs.uk",
        "a different phrase",
        "demo",
        "admin",
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("not their password"), "{e}");
    assert_eq!(
        roles(&state, "nopass@trust.nhs.uk").await,
        vec![("demo".into(), "analyst".into())]
    );
}

async fn roles_are_given_and_removed_on_the_admins_sites_only(app: Router, state: Arc<AppState>) {
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    users::add(&state.store, "pat@trust.nhs.uk", PASSWORD, "demo", "viewer")
        .await
        .unwrap();
    users::add(
        &state.store,
        "oscar@other.nhs.uk",
        PASSWORD,
        "other",
        "admin",
    )
    .await
    .unwrap();
    let pat = user_id(&state, "pat@trust.nhs.uk").await;
    let oscar = user_id(&state, "oscar@other.nhs.uk").await;
    // Someone with roles on other sites only is not shown, and "not found" when asked for.
    let list = admin.get("/dashboard/people").await;
    assert!(list.body.contains("pat@trust.nhs.uk"));
    assert!(!list.body.contains("oscar@other.nhs.uk"));
    assert_eq!(
        admin
            .get(&format!("/dashboard/people/{oscar}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let csrf = admin.token().await;
    let here = format!("/dashboard/people/{pat}");
    // Given on the admin's own site; not on a site this admin does not administer, nor a role
    // there is none of.
    for (site, role, want) in [
        ("demo", "analyst", StatusCode::SEE_OTHER),
        ("other", "admin", StatusCode::FORBIDDEN),
        ("demo", "owner", StatusCode::BAD_REQUEST),
    ] {
        let give = [("action", "give_role"), ("site", site), ("role", role)];
        admin.form(&here, &csrf, &give).await.want(want);
        assert_eq!(
            roles(&state, "pat@trust.nhs.uk").await,
            vec![("demo".into(), "analyst".into())]
        );
    }
    // An admin cannot take away their own admin role.
    let me = user_id(&state, "admin@trust.nhs.uk").await;
    let remove = [("action", "remove_role"), ("site", "demo")];
    admin
        .form(&format!("/dashboard/people/{me}"), &csrf, &remove)
        .await
        .want(StatusCode::BAD_REQUEST);
    assert_eq!(
        roles(&state, "admin@trust.nhs.uk").await,
        vec![("demo".into(), "admin".into())]
    );
    admin
        .form(&here, &csrf, &remove)
        .await
        .want(StatusCode::SEE_OTHER);
    assert!(roles(&state, "pat@trust.nhs.uk").await.is_empty());
    // With no role on the admin's sites, they are no longer the admin's to see.
    assert_eq!(admin.get(&here).await.status, StatusCode::NOT_FOUND);
    let given = audit(&state, "role_given").await;
    assert_eq!(
        given,
        vec![(
            "admin@trust.nhs.uk".into(),
            Some("demo".into()),
            "pat@trust.nhs.uk: analyst on demo".into()
        )]
    );
    assert_eq!(audit(&state, "role_removed").await.len(), 1);
}

async fn a_disabled_account_loses_its_sessions_and_cannot_sign_in(
    app: Router,
    state: Arc<AppState>,
) {
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let mut pat = signed_in(&app, &state, "pat@trust.nhs.uk", "demo", "analyst").await;
    assert!(pat.signed_in().await);
    let id = user_id(&state, "pat@trust.nhs.uk").await;
    let here = format!("/dashboard/people/{id}");
    let csrf = admin.token().await;
    // Disabling someone with a role on a site this admin does not administer is refused.
    users::add(
        &state.store,
        "pat@trust.nhs.uk",
        PASSWORD,
        "other",
        "viewer",
    )
    .await
    .unwrap();
    let disable = [("action", "disable")];
    admin
        .form(&here, &csrf, &disable)
        .await
        .want(StatusCode::FORBIDDEN);
    assert!(pat.signed_in().await);
    common::exec(&state, "DELETE FROM user_roles WHERE site = 'other'", &[]).await;
    admin
        .form(&here, &csrf, &disable)
        .await
        .want(StatusCode::SEE_OTHER);
    assert!(
        !pat.signed_in().await,
        "a disabled account's session must stop working"
    );
    let again = pat.sign_in("pat@trust.nhs.uk", PASSWORD).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("disabled"), "{}", again.body);
    assert!(admin.get(&here).await.body.contains("disabled since"));
    // An admin cannot disable themselves.
    let me = user_id(&state, "admin@trust.nhs.uk").await;
    admin
        .form(&format!("/dashboard/people/{me}"), &csrf, &disable)
        .await
        .want(StatusCode::BAD_REQUEST);
    assert!(admin.signed_in().await);
    // Enabled again, the right password works again.
    admin
        .form(&here, &csrf, &[("action", "enable")])
        .await
        .want(StatusCode::SEE_OTHER);
    assert_eq!(
        pat.sign_in("pat@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let disabled = audit(&state, "account_disabled").await;
    assert_eq!(disabled.len(), 1);
    assert!(disabled[0].2.contains("1 sessions ended"), "{disabled:?}");
    assert_eq!(audit(&state, "account_enabled").await.len(), 1);
}

async fn an_admin_ends_someones_sessions(app: Router, state: Arc<AppState>) {
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let mut pat = signed_in(&app, &state, "pat@trust.nhs.uk", "demo", "viewer").await;
    let mut pat2 = browser(&app);
    assert_eq!(
        pat2.sign_in("pat@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let id = user_id(&state, "pat@trust.nhs.uk").await;
    let here = format!("/dashboard/people/{id}");
    assert!(admin.get(&here).await.body.contains("2 signed in now"));
    let csrf = admin.token().await;
    admin
        .form(&here, &csrf, &[("action", "end_sessions")])
        .await
        .want(StatusCode::SEE_OTHER);
    assert!(!pat.signed_in().await);
    assert!(!pat2.signed_in().await);
    assert!(admin.signed_in().await, "only their sessions end");
    let ended = audit(&state, "sessions_ended").await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2, "pat@trust.nhs.uk: 2 sessions ended");
    // They can sign in again (ending sessions is not disabling).
    assert_eq!(
        pat.sign_in("pat@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn people_pages_are_for_admins_and_need_the_csrf_token(app: Router, state: Arc<AppState>) {
    let mut analyst = signed_in(&app, &state, "ann@trust.nhs.uk", "demo", "analyst").await;
    assert_eq!(
        analyst.get("/dashboard/people").await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = analyst.token().await;
    let add = [
        ("email", "x@trust.nhs.uk"),
        ("site", "demo"),
        ("role", "admin"),
    ];
    analyst
        .form("/dashboard/people", &csrf, &add)
        .await
        .want(StatusCode::FORBIDDEN);
    assert!(roles(&state, "x@trust.nhs.uk").await.is_empty());
    // Signed out: to the sign-in page.
    let mut nobody = browser(&app);
    assert_eq!(
        nobody.get("/dashboard/people").await.status,
        StatusCode::SEE_OTHER
    );
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    // Without the session's token, or with another session's, nothing changes.
    for token in ["", "0000", csrf.as_str()] {
        let r = admin.form("/dashboard/people", token, &add).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{token}");
    }
    assert!(roles(&state, "x@trust.nhs.uk").await.is_empty());
    assert!(audit(&state, "person_added").await.is_empty());
}

async fn an_idle_session_ends_and_sign_out_everywhere_ends_them_all(
    app: Router,
    state: Arc<AppState>,
) {
    let mut a = signed_in(&app, &state, "pat@trust.nhs.uk", "demo", "viewer").await;
    let mut b = browser(&app);
    assert_eq!(
        b.sign_in("pat@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    // Used four minutes ago (the idle timeout here is five): still live, and the use is noted.
    let ago = |m: i64| chorus_server::store::iso_utc(chorus_server::dashboard::now_secs() - m * 60);
    let last_seen = "UPDATE sessions SET last_seen = $1";
    common::exec(&state, last_seen, &[(&ago(4)).into()]).await;
    assert!(a.signed_in().await);
    // Then six minutes without use: ended, though its absolute expiry is hours away.
    let id = user_id(&state, "pat@trust.nhs.uk").await;
    let seen: Vec<String> = common::column(
        &state,
        "SELECT last_seen FROM sessions WHERE user_id = $1 ORDER BY last_seen",
        &[id.into()],
    )
    .await;
    assert!(seen.last().unwrap() > &ago(1), "the use was noted");
    common::exec(&state, last_seen, &[(&ago(6)).into()]).await;
    assert!(!a.signed_in().await);
    assert!(!b.signed_in().await);
    // Two fresh sessions; "sign out everywhere" from one ends both.
    assert_eq!(
        a.sign_in("pat@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        b.sign_in("pat@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let account = a.get("/dashboard/account").await;
    assert!(
        account.body.contains("signed in in 2 places"),
        "{}",
        account.body
    );
    let csrf = account.csrf();
    for (token, want, b_signed_in) in [
        ("wrong", StatusCode::FORBIDDEN, true),
        (csrf.as_str(), StatusCode::SEE_OTHER, false),
    ] {
        a.form("/dashboard/logout-everywhere", token, &[])
            .await
            .want(want);
        assert_eq!(b.signed_in().await, b_signed_in);
    }
    assert!(!a.signed_in().await);
    assert!(!b.signed_in().await);
    let everywhere = audit(&state, "sign_out_everywhere").await;
    assert_eq!(
        everywhere,
        vec![(
            "pat@trust.nhs.uk".into(),
            Some("demo".into()),
            "2 sessions ended".into()
        )]
    );
}

async fn a_withdrawn_response_is_gone_from_every_report_and_export(
    app: Router,
    state: Arc<AppState>,
) {
    // A patient's response, with a phone number in the free text (redacted when stored).
    let body = serde_json::json!({"site": "demo", "service": "outpatients", "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": "withdraw-0000001",
        "answers": {"fft": "poor", "why": "Ring me on 07700 900123 about the long wait"}}});
    let (status, receipt) = common::post_submission(&app, &body, None).await;
    assert_eq!(status, StatusCode::CREATED);
    let reference = receipt["reference"].as_str().unwrap().to_string();

    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let month = &chorus_server::dashboard::now_iso()[..7];
    let csv_rows = |text: &str| text.lines().skip(1).filter(|l| !l.is_empty()).count();
    let before = admin
        .get("/dashboard/exports/responses.csv?site=demo")
        .await;
    assert_eq!(csv_rows(&before.body), 1, "{}", before.body);
    let fft_return = format!("/dashboard/exports/fft-return.csv?site=demo&month={month}");
    let return_before = admin.get(&fft_return).await.body;
    let comments = admin.get("/dashboard/comments?site=demo").await;
    assert!(
        comments.body.contains("about the long wait"),
        "{}",
        comments.body
    );

    // An admin of another site only finds nothing (not even whether it exists).
    let mut other = signed_in(&app, &state, "oscar@other.nhs.uk", "other", "admin").await;
    let q = format!("/dashboard/withdraw?reference={reference}");
    assert_eq!(other.get(&q).await.status, StatusCode::NOT_FOUND);
    // An analyst of the site may not withdraw.
    let mut analyst = signed_in(&app, &state, "ann@trust.nhs.uk", "demo", "analyst").await;
    assert_eq!(analyst.get(&q).await.status, StatusCode::FORBIDDEN);

    // Found by the reference as a patient reads it out (any case, no dashes), shown redacted.
    let typed = reference.replace('-', " ").to_lowercase();
    let found = admin
        .get(&format!(
            "/dashboard/withdraw?reference={}",
            typed.replace(' ', "+")
        ))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(found.body.contains(&reference));
    assert!(found.body.contains("about the long wait"));
    assert!(
        !found.body.contains("07700"),
        "shown redacted: {}",
        found.body
    );
    let csrf = found.csrf();
    let withdraw = |reason| [("reference", reference.as_str()), ("reason", reason)];
    // No reason, or the wrong token: nothing is deleted.
    for (token, reason, want) in [
        (csrf.as_str(), " ", StatusCode::BAD_REQUEST),
        ("nope", "asked", StatusCode::FORBIDDEN),
    ] {
        admin
            .form("/dashboard/withdraw", token, &withdraw(reason))
            .await
            .want(want);
        assert_eq!(state.store.count().await.unwrap(), 1);
    }

    let reason = "patient phoned from 07700 900123 to withdraw";
    let r = admin
        .form("/dashboard/withdraw", &csrf, &withdraw(reason))
        .await
        .want(StatusCode::OK);
    assert!(r.body.contains("was deleted"));
    assert_eq!(state.store.count().await.unwrap(), 0);
    // Gone from every report and export.
    assert_eq!(
        csv_rows(
            &admin
                .get("/dashboard/exports/responses.csv?site=demo")
                .await
                .body
        ),
        0
    );
    let return_after = admin.get(&fft_return).await.body;
    assert_ne!(
        return_before, return_after,
        "the FFT return counts it no more"
    );
    assert!(
        !admin
            .get("/dashboard/comments?site=demo")
            .await
            .body
            .contains("about the long wait")
    );
    // Asked again: already gone.
    admin
        .form("/dashboard/withdraw", &csrf, &withdraw("asked twice"))
        .await
        .want(StatusCode::NOT_FOUND);
    // The audit log says who, which reference and why, with the reason redacted too.
    let log = audit(&state, "response_withdrawn").await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].0, "admin@trust.nhs.uk");
    assert_eq!(log[0].1.as_deref(), Some("demo"));
    assert!(
        log[0]
            .2
            .starts_with(&format!("{reference} (fft, received ")),
        "{log:?}"
    );
    assert!(
        log[0].2.ends_with("to withdraw") && !log[0].2.contains("07700"),
        "{log:?}"
    );
}
