//! The NHS England FFT return by setting: responses posted through the API for services that
//! carry their setting, ward and specialty codes (some set in the file, one added in the
//! dashboard's Site settings) come back, read from each setting's CSV, exactly: inpatients by
//! ward, specialty and mode, A&E merged per site (the `fft-ae` instrument on a service with no
//! setting included); the exports page shows each setting's deadline and link; the preview
//! marks what publication would suppress; a bad setting is refused; every download is audited.
//! Each runs on SQLite and, when `CHORUS_TEST_POSTGRES_URL` is set, PostgreSQL.

use std::{collections::BTreeMap, sync::Arc};

use axum::{Router, http::StatusCode};
use chorus_server::{
    AppState,
    config::{FftSetting, Service},
    users,
};

mod common;

use common::{Backend, TestDb, client::Client};

fn service(id: &str, setting: FftSetting, ward: &str, specialty: &str) -> Service {
    Service {
        id: id.into(),
        name: String::new(),
        setting: Some(setting),
        ward_code: ward.into(),
        specialty_code: specialty.into(),
    }
}

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    common::app_with(backend, "return", |config| {
        config.sites[0].services = vec![
            service("ward-3", FftSetting::Inpatient, "W03", "300"),
            service("ward-4", FftSetting::Inpatient, "W04", "101"),
            service("ed", FftSetting::Ae, "", ""),
            "leaflets".into(),
        ];
    })
    .await
}

on_both!(
    2;
    each_settings_csv_reads_back_exactly_what_was_posted,
);

async fn post(app: &Router, service: &str, instrument: &str, mode: &str, answer: &str, n: usize) {
    for i in 0..n {
        let body = serde_json::json!({"site": "demo", "service": service, "mode": mode, "response": {
            "instrument": instrument, "version": 1, "locale": "en",
            "idempotency_key": format!("ret-{service}-{mode}-{answer}-{i:04}-{}", common::rand_suffix()),
            "answers": {"fft": answer}}});
        let (status, answer) = common::post_submission(app, &body, None).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
}

/// A CSV read back: its header, and its rows.
fn read(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

async fn each_settings_csv_reads_back_exactly_what_was_posted(app: Router, state: Arc<AppState>) {
    users::add(
        &state.store,
        "analyst@trust.nhs.uk",
        "correct horse battery",
        "demo",
        "admin",
    )
    .await
    .unwrap();
    let mut c = Client::new(&app);
    c.sign_in("analyst@trust.nhs.uk", "correct horse battery")
        .await;
    // A maternity service added in the dashboard counts at once.
    let csrf = c.get("/dashboard/sites/demo").await.csrf();
    c.form(
        "/dashboard/sites/demo",
        &csrf,
        &[
            ("action", "save_service"),
            ("original", ""),
            ("id", "birth-centre"),
            ("name", ""),
            ("setting", "maternity"),
            ("ward_code", ""),
            ("specialty_code", ""),
        ],
    )
    .await
    .want(StatusCode::SEE_OTHER);

    post(&app, "ward-3", "fft", "online", "very_good", 7).await;
    post(&app, "ward-3", "fft", "paper", "very_good", 6).await;
    post(&app, "ward-3", "fft", "paper", "poor", 2).await;
    post(&app, "ward-4", "fft-inpatient", "sms", "good", 5).await;
    post(&app, "ed", "fft", "online", "good", 3).await;
    post(&app, "ed", "fft", "tablet", "neither", 1).await;
    // No setting on the service: the A&E instrument decides.
    post(&app, "leaflets", "fft-ae", "online", "very_poor", 2).await;
    // No setting at all: only in the all-settings CSV.
    post(&app, "leaflets", "fft", "online", "dont_know", 1).await;
    post(&app, "birth-centre", "fft", "qr", "very_good", 4).await;

    let month = &chorus_server::store::iso_utc(chorus_server::util::now_secs())[..7];
    let csv = |setting: &str| {
        format!("/dashboard/exports/fft-return.csv?site=demo&month={month}&setting={setting}")
    };

    let p = c.get(&csv("inpatient")).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(
        p.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("fft-return-demo-inpatient-{month}.csv"))
    );
    let (header, rows) = read(&p.body);
    // Each expected line, its cells split at the commas (none of them holds one).
    let cells = |line: &str| -> Vec<String> { line.split(',').map(String::from).collect() };
    assert_eq!(
        header,
        cells(
            "Period,Organisation code,Site code,Setting,Ward code,Specialty code,Service,\
             Very good,Good,Neither good nor poor,Poor,Very poor,Don't know,\
             Total responses,Mode of collection"
        )
    );
    assert_eq!(
        rows,
        [
            "DEMO1,DEMO1-01,Inpatient,W03,300,ward-3,7,0,0,0,0,0,7,Online",
            "DEMO1,DEMO1-01,Inpatient,W03,300,ward-3,6,0,0,2,0,0,8,Paper",
            "DEMO1,DEMO1-01,Inpatient,W04,101,ward-4,0,5,0,0,0,0,5,SMS",
        ]
        .map(|row| cells(&format!("{month},{row}")))
    );

    let (header, rows) = read(&c.get(&csv("ae")).await.body);
    assert!(!header.iter().any(|h| h == "Ward code"), "{header:?}");
    let by_mode: BTreeMap<&str, Vec<&str>> = rows
        .iter()
        .map(|r| {
            (
                r[11].as_str(),
                r[4..11].iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        by_mode,
        BTreeMap::from([
            ("Electronic", vec!["0", "0", "1", "0", "0", "0", "1"]),
            ("Online", vec!["0", "3", "0", "0", "2", "0", "5"]),
        ])
    );
    let (_, rows) = read(&c.get(&csv("maternity")).await.body);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0][4][..], &rows[0][10][..], &rows[0][11][..]),
        ("4", "4", "Online")
    );
    // A setting with no responses: the header alone.
    let (_, rows) = read(&c.get(&csv("dental")).await.body);
    assert!(rows.is_empty());
    // Every setting in one: the responses of no setting are there, as Other.
    let all = c
        .get(&format!(
            "/dashboard/exports/fft-return.csv?site=demo&month={month}"
        ))
        .await;
    let (_, rows) = read(&all.body);
    let total: u64 = rows.iter().map(|r| r[11].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 31);
    assert!(
        rows.iter()
            .any(|r| r[3] == "Other" && r[4] == "leaflets" && r[10] == "1")
    );

    let bad = c.get(&csv("hospice")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("Setting must be one of: inpatient, ae"),
        "{}",
        bad.body
    );

    // The exports page: a row per setting (those with responses, and those configured), each
    // with its deadline and its own link.
    let page = c
        .get(&format!(
            "/dashboard/exports/fft-return?site=demo&month={month}"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for x in [FftSetting::Inpatient, FftSetting::Ae, FftSetting::Maternity] {
        let d = chorus_server::dashboard::fft_return::deadline(month, x).unwrap();
        let iso = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        assert!(
            page.body.contains(&format!("id=\"setting-{}\"", x.code())),
            "{x:?}"
        );
        assert!(
            page.body.contains(&format!("datetime=\"{iso}\"")),
            "{x:?} {iso}"
        );
        assert!(
            page.body.contains(&format!("&amp;setting={}", x.code())),
            "{x:?}"
        );
    }
    assert!(!page.body.contains("id=\"setting-dental\""));
    assert!(
        page.body.contains("1 responses have no setting"),
        "{}",
        page.body
    );
    // The preview: ward 3's paper row has poor = 2 (small), and more of ward 3's cells are
    // marked so neither its row total (8) nor the poor total over its modes gives it away;
    // ward 4's one row (5 good) has nothing small and nothing marked.
    let table = &page.body[page.body.find("id=\"preview-table-inpatient\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let rows_of = |ward: &str| -> Vec<&str> {
        table
            .split("<tr>")
            .filter(|r| r.contains(&format!("<th scope=\"row\">{ward}</th>")))
            .collect()
    };
    let w3 = rows_of("W03");
    assert_eq!(w3.len(), 2, "{table}");
    assert!(
        w3[1].contains("Paper") && w3[1].contains("2 <strong class=\"suppress-small\">"),
        "{}",
        w3[1]
    );
    assert!(
        w3.iter()
            .map(|r| r.matches("suppress-secondary").count())
            .sum::<usize>()
            >= 1,
        "{table}"
    );
    let w4 = rows_of("W04");
    assert_eq!(w4.len(), 1);
    assert!(!w4[0].contains("suppress-"), "{}", w4[0]);
    let exports = c.get("/dashboard/exports?site=demo").await;
    assert!(
        exports.body.contains("id=\"return-settings\"")
            || exports.body.contains("id=\"no-return-settings\"")
    );

    let audit: Vec<String> = common::column(
        &state,
        "SELECT detail FROM audit_log WHERE action = 'export_fft_return' ORDER BY id",
        &[],
    )
    .await;
    assert_eq!(audit.len(), 5, "{audit:?}");
    assert_eq!(audit[0], format!("{month} inpatient: 3 rows, 31 responses"));
    assert!(
        audit[4].starts_with(&format!("{month} every setting:")),
        "{audit:?}"
    );
}
