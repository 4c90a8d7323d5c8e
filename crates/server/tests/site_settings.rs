//! Site settings from the dashboard: an admin adds, changes and removes a site's services
//! (with their FFT setting, ward and specialty codes) and sets its retention; every change is
//! audited and takes effect without a restart (the API's service check, the hosted pages, the
//! paper form, retention); mistakes answer an error summary and store nothing; only admins of
//! the site, with the CSRF token, may change anything; what is saved outlives a restart. Each
//! runs on SQLite and, when `CHORUS_TEST_POSTGRES_URL` is set, PostgreSQL.

use std::sync::Arc;

use axum::{Router, http::StatusCode};
use chorus_server::{AppState, config::FftSetting};

mod common;

use common::{Backend, TestDb, signed_in};

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    common::app_with(backend, "sites", |config| {
        config.sites[0].services = vec!["outpatients".into()];
        config.sites.push(common::other_site(&["gp"]));
    })
    .await
}

on_both!(
    2;
    an_admin_adds_changes_and_removes_services_and_the_api_follows_at_once,
    mistakes_show_an_error_summary_and_store_nothing,
    retention_set_in_the_dashboard_is_what_the_retention_task_applies,
    site_settings_are_for_the_sites_admins_only_and_need_the_csrf_token,
    saved_settings_outlive_a_restart_and_can_be_reset_to_the_file,
);

/// Post a response for `service` on the demo site: the status and the API's error code.
async fn submit(app: &Router, service: &str, key: &str) -> (StatusCode, String) {
    let body = serde_json::json!({"site": "demo", "service": service, "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
        "answers": {"fft": "very_good"}}});
    let (status, answer) = common::post_submission(app, &body, None).await;
    (
        status,
        answer["error"]["code"]
            .as_str()
            .or(answer["code"].as_str())
            .unwrap_or("")
            .to_string(),
    )
}

async fn audit_actions(state: &AppState, site: &str) -> Vec<(String, String)> {
    common::rows(
        &state,
        "SELECT action, detail FROM audit_log WHERE site = $1 AND action LIKE 'site_%' ORDER BY id",
        &[site.into()],
    )
    .await
}

async fn saved_rows(state: &AppState) -> i64 {
    common::value(&state, "SELECT COUNT(*) FROM site_settings", &[]).await
}

async fn an_admin_adds_changes_and_removes_services_and_the_api_follows_at_once(
    app: Router,
    state: Arc<AppState>,
) {
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    // Before: the file's one service; a ward not yet listed is refused by the API and the
    // hosted page.
    assert_eq!(
        submit(&app, "outpatients", "sites-0000001").await.0,
        StatusCode::CREATED
    );
    let (status, code) = submit(&app, "ward-3", "sites-0000002").await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_service")
    );
    assert_eq!(
        admin.get("/f/demo/ward-3").await.status,
        StatusCode::NOT_FOUND
    );

    let page = admin.get("/dashboard/sites/demo").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("from the configuration file"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let add = admin
        .form(
            "/dashboard/sites/demo",
            &csrf,
            &[
                ("action", "save_service"),
                ("original", ""),
                ("id", "ward-3"),
                ("name", "Ward 3"),
                ("setting", "inpatient"),
                ("ward_code", "W03"),
                ("specialty_code", "300"),
            ],
        )
        .await
        .want(StatusCode::SEE_OTHER);
    assert_eq!(add.location(), "/dashboard/sites/demo?saved=service");
    // At once, without a restart: the API, the hosted page and the accessor see it.
    assert_eq!(
        submit(&app, "ward-3", "sites-0000003").await.0,
        StatusCode::CREATED
    );
    assert_eq!(admin.get("/f/demo/ward-3").await.status, StatusCode::OK);
    let site = state.site("demo").unwrap();
    let ward = site.service("ward-3").unwrap();
    assert_eq!(ward.setting, Some(FftSetting::Inpatient));
    assert_eq!(
        (ward.ward_code.as_str(), ward.specialty_code.as_str()),
        ("W03", "300")
    );
    // The paper cards form and the report filter offer it.
    let paper = admin.get("/dashboard/paper?site=demo").await;
    assert!(
        paper.body.contains(r#"<option value="ward-3""#),
        "{}",
        paper.body
    );
    let fft = admin.get("/dashboard/fft?site=demo").await;
    assert!(
        fft.body.contains(r#"<option value="ward-3""#),
        "{}",
        fft.body
    );
    // The file's origins are untouched.
    assert_eq!(site.origins, state.config.site("demo").unwrap().origins);
    let page = admin.get("/dashboard/sites/demo?saved=service").await;
    assert!(page.body.contains("The service is saved"), "{}", page.body);
    assert!(
        page.body
            .contains("saved in the dashboard by admin@trust.nhs.uk"),
        "{}",
        page.body
    );
    assert!(page.body.contains("W03"));

    // Change it: a new ward code and id. The old id is then refused.
    let edit = admin.get("/dashboard/sites/demo?edit=ward-3").await;
    assert!(edit.body.contains("Change ward-3"), "{}", edit.body);
    // The form is filled in with the service as saved.
    assert!(
        edit.body
            .contains(r#"id="ward-code" name="ward_code" type="text" value="W03""#),
        "{}",
        edit.body
    );
    admin
        .form(
            "/dashboard/sites/demo",
            &csrf,
            &[
                ("action", "save_service"),
                ("original", "ward-3"),
                ("id", "ward-3a"),
                ("name", ""),
                ("setting", "inpatient"),
                ("ward_code", "W03A"),
                ("specialty_code", "301"),
            ],
        )
        .await
        .want(StatusCode::SEE_OTHER);
    assert_eq!(
        submit(&app, "ward-3", "sites-0000004").await.1,
        "unknown_service"
    );
    assert_eq!(
        submit(&app, "ward-3a", "sites-0000005").await.0,
        StatusCode::CREATED
    );

    // Remove it; the last service cannot be removed (the site would then accept any id).
    admin
        .form(
            "/dashboard/sites/demo",
            &csrf,
            &[("action", "remove_service"), ("original", "ward-3a")],
        )
        .await
        .want(StatusCode::SEE_OTHER);
    assert_eq!(
        submit(&app, "ward-3a", "sites-0000006").await.1,
        "unknown_service"
    );
    let last = admin
        .form(
            "/dashboard/sites/demo",
            &csrf,
            &[("action", "remove_service"), ("original", "outpatients")],
        )
        .await
        .want(StatusCode::BAD_REQUEST);
    assert!(
        last.body.contains("There is a problem") && last.body.contains("accepts any service"),
        "{}",
        last.body
    );
    assert_eq!(
        submit(&app, "outpatients", "sites-0000007").await.0,
        StatusCode::CREATED
    );

    let audit = audit_actions(&state, "demo").await;
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "site_service_added",
            "site_service_changed",
            "site_service_removed"
        ]
    );
    assert_eq!(
        audit[0].1,
        "service ward-3 (Inpatient, ward W03, specialty 300)"
    );
    assert!(
        audit[1]
            .1
            .contains("→ service ward-3a (Inpatient, ward W03A, specialty 301)"),
        "{}",
        audit[1].1
    );
}

async fn mistakes_show_an_error_summary_and_store_nothing(app: Router, state: Arc<AppState>) {
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let csrf = admin.get("/dashboard/sites/demo").await.csrf();
    let service =
        |id: &'static str, setting: &'static str, ward: &'static str, specialty: &'static str| {
            vec![
                ("action", "save_service"),
                ("original", ""),
                ("id", id),
                ("name", ""),
                ("setting", setting),
                ("ward_code", ward),
                ("specialty_code", specialty),
            ]
        };
    type Case = (
        Vec<(&'static str, &'static str)>,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            service("ward-9", "hospice", "", ""),
            "service-setting",
            "is not an FFT setting",
        ),
        (
            service("ward-9", "inpatient", "W9", "30"),
            "specialty-code",
            "three digits",
        ),
        (
            service("ward-9", "inpatient", "W 9", "300"),
            "ward-code",
            "Ward code",
        ),
        (
            service("ward-9", "inpatient", "", ""),
            "ward-code",
            "give both",
        ),
        (
            service("ward-9", "ae", "W9", "300"),
            "service-setting",
            "inpatient services only",
        ),
        (service("", "ae", "", ""), "service-id", "Service id"),
        (
            service("outpatients", "outpatient", "", ""),
            "service-id",
            "already has a service",
        ),
        (
            vec![("action", "retention"), ("retention_days", "0")],
            "retention-days",
            "1 to 3650",
        ),
        (
            vec![("action", "retention"), ("retention_days", "3651")],
            "retention-days",
            "1 to 3650",
        ),
        (
            vec![("action", "retention"), ("retention_days", "two years")],
            "retention-days",
            "whole number",
        ),
    ];
    for (fields, field_id, message) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields.iter().copied());
        let p = admin.post("/dashboard/sites/demo", &form).await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{fields:?}: {}", p.body);
        assert!(p.body.contains("There is a problem"), "{fields:?}");
        assert!(
            p.body.contains(&format!("href=\"#{field_id}\"")),
            "{fields:?}: {}",
            p.body
        );
        assert!(
            p.body.contains(message),
            "{fields:?} wants {message}: {}",
            p.body
        );
        assert!(
            p.body.contains(&format!("id=\"{field_id}-error\"")),
            "{fields:?}"
        );
    }
    assert_eq!(
        saved_rows(&state).await,
        0,
        "a refused change stored something"
    );
    assert!(audit_actions(&state, "demo").await.is_empty());
    let site = state.site("demo").unwrap();
    assert_eq!(site.service_ids(), ["outpatients"]);
    assert_eq!(site.retention_days, 730);
}

async fn retention_set_in_the_dashboard_is_what_the_retention_task_applies(
    app: Router,
    state: Arc<AppState>,
) {
    assert_eq!(
        submit(&app, "outpatients", "sites-0000011").await.0,
        StatusCode::CREATED
    );
    // Ten days old: kept by the file's 730 days.
    let ten_days_ago = chorus_server::store::iso_utc(chorus_server::util::now_secs() - 10 * 86_400);
    common::exec(
        &state,
        "UPDATE responses SET received_at = $1",
        &[(&ten_days_ago).into()],
    )
    .await;
    assert_eq!(chorus_server::apply_retention(&state).await, 0);
    assert_eq!(state.store.count().await.unwrap(), 1);

    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let csrf = admin.get("/dashboard/sites/demo").await.csrf();
    admin
        .form(
            "/dashboard/sites/demo",
            &csrf,
            &[("action", "retention"), ("retention_days", "7")],
        )
        .await
        .want(StatusCode::SEE_OTHER);
    assert_eq!(state.site("demo").unwrap().retention_days, 7);
    // The other site keeps the file's.
    assert_eq!(state.site("other").unwrap().retention_days, 30);
    assert_eq!(chorus_server::apply_retention(&state).await, 1);
    assert_eq!(state.store.count().await.unwrap(), 0);
    let audit = audit_actions(&state, "demo").await;
    assert_eq!(
        audit,
        [(
            "site_retention_set".to_string(),
            "retention 730 → 7 days".to_string()
        )]
    );
    let run: String = common::value(&state, "SELECT detail FROM audit_log WHERE action = 'retention' AND site = 'demo' ORDER BY id DESC", &[]).await;
    assert_eq!(run, "deleted 1 responses older than 7 days");
}

async fn site_settings_are_for_the_sites_admins_only_and_need_the_csrf_token(
    app: Router,
    state: Arc<AppState>,
) {
    let mut analyst = signed_in(&app, &state, "analyst@trust.nhs.uk", "demo", "analyst").await;
    assert_eq!(
        analyst.get("/dashboard/sites/demo").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        analyst.get("/dashboard/sites").await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = analyst.get("/dashboard/account").await.csrf();
    analyst
        .form(
            "/dashboard/sites/demo",
            &csrf,
            &[("action", "retention"), ("retention_days", "7")],
        )
        .await
        .want(StatusCode::FORBIDDEN);

    // An admin of demo is not an admin of the other site.
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let sites = admin.get("/dashboard/sites").await;
    assert_eq!(sites.status, StatusCode::SEE_OTHER);
    assert_eq!(sites.location(), "/dashboard/sites/demo");
    assert_eq!(
        admin.get("/dashboard/sites/other").await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = admin.get("/dashboard/sites/demo").await.csrf();
    admin
        .form(
            "/dashboard/sites/other",
            &csrf,
            &[("action", "retention"), ("retention_days", "7")],
        )
        .await
        .want(StatusCode::FORBIDDEN);
    // Without the token, or with another's, nothing changes.
    let p = admin
        .post(
            "/dashboard/sites/demo",
            &[("action", "retention"), ("retention_days", "7")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    admin
        .form(
            "/dashboard/sites/demo",
            "not-the-token",
            &[("action", "retention"), ("retention_days", "7")],
        )
        .await
        .want(StatusCode::FORBIDDEN);
    assert_eq!(saved_rows(&state).await, 0);
    assert_eq!(state.site("other").unwrap().retention_days, 30);
    assert_eq!(state.site("demo").unwrap().retention_days, 730);
}

async fn saved_settings_outlive_a_restart_and_can_be_reset_to_the_file(
    app: Router,
    state: Arc<AppState>,
) {
    let mut admin = signed_in(&app, &state, "admin@trust.nhs.uk", "demo", "admin").await;
    let csrf = admin.get("/dashboard/sites/demo").await.csrf();
    for form in [
        vec![("action", "retention"), ("retention_days", "400")],
        vec![
            ("action", "save_service"),
            ("original", ""),
            ("id", "ed"),
            ("name", "Emergency department"),
            ("setting", "ae"),
            ("ward_code", ""),
            ("specialty_code", ""),
        ],
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let p = admin.post("/dashboard/sites/demo", &f).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    }
    // A second server on the same database (a restart, or another instance) reads them.
    let again = AppState::new(state.store.clone(), state.config.clone());
    assert_eq!(
        again.site("demo").unwrap().retention_days,
        730,
        "not read yet"
    );
    again.site_settings.refresh(&again.store).await.unwrap();
    let site = again.site("demo").unwrap();
    assert_eq!(site.retention_days, 400);
    assert_eq!(site.service_ids(), ["outpatients", "ed"]);
    assert_eq!(site.service("ed").unwrap().setting, Some(FftSetting::Ae));
    assert_eq!(site.service("ed").unwrap().name, "Emergency department");

    let p = admin
        .form("/dashboard/sites/demo", &csrf, &[("action", "reset")])
        .await
        .want(StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/dashboard/sites/demo?saved=reset");
    let site = state.site("demo").unwrap();
    assert_eq!(
        (site.retention_days, site.service_ids()),
        (730, vec!["outpatients".to_string()])
    );
    assert_eq!(saved_rows(&state).await, 0);
    let last = audit_actions(&state, "demo").await.pop().unwrap();
    assert_eq!(last.0, "site_settings_reset");
}
