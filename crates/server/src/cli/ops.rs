//! `chorus user add`, `seed`, `backup`, `restore`, `doctor` and `rollup`.

use std::{io::IsTerminal, path::PathBuf};

use super::{DEFAULT_DATABASE, Db, redact_url};

/// `chorus user add`: the password from standard input, audited.
pub async fn user_add(email: String, site: String, role: String, db: Db) -> anyhow::Result<()> {
    // A mistyped address is refused before the password is asked for.
    let email = chorus_server::users::check_email(&email).map_err(anyhow::Error::msg)?;
    if std::io::stdin().is_terminal() {
        eprint!(
            "Password for {email} (at least {} characters, not a common password): ",
            chorus_server::users::MIN_PASSWORD
        );
    }
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let store = db.open().await?;
    let id = chorus_server::users::add(&store, &email, password, &site, &role).await?;
    chorus_server::audit::record(
        &store,
        None,
        "command line",
        "user_role_set",
        Some(&site),
        &format!("{email} is {role}"),
    )
    .await?;
    println!("user {id} ({email}) is {role} on {site}");
    Ok(())
}

// `chorus seed`'s arguments (a plain comment: the command's help is the variant's).
#[derive(clap::Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub db: Db,
    /// Site the responses are for.
    #[arg(long, default_value = "demo")]
    pub site: String,
    /// Months of data, ending now.
    #[arg(long, default_value_t = 6)]
    pub months: u32,
    /// Responses per month.
    #[arg(long, default_value_t = 300)]
    pub per_month: u32,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// E-mail of the demo admin (made admin of the site).
    #[arg(long, default_value = "demo@chorus.example")]
    pub admin_email: String,
    /// Password of the demo admin; without it, a random one is made and printed.
    #[arg(long, env = "CHORUS_DEMO_PASSWORD")]
    pub admin_password: Option<String>,
}

/// `chorus seed`: demo data through the API handler, and a demo admin.
pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let SeedArgs {
        db,
        site,
        months,
        per_month,
        seed,
        admin_email,
        admin_password,
    } = args;
    let (config, database) = db.resolve()?;
    anyhow::ensure!(
        config.site(&site).is_some(),
        "there is no site \"{site}\" in the configuration"
    );
    let store = chorus_server::store::Store::open(&database).await?;
    let state = std::sync::Arc::new(chorus_server::AppState::new(store, config));
    let opts = chorus_server::dashboard::seed::SeedOptions {
        site: site.clone(),
        months,
        per_month,
        seed,
        now: chorus_server::util::now_secs(),
    };
    let started = std::time::Instant::now();
    let bar =
        chorus_server::offline::progress(Some(u64::from(months) * u64::from(per_month)), "seeding");
    let report =
        chorus_server::dashboard::seed::seed(&state, &opts, |done, _| bar.set_position(done))
            .await?;
    bar.finish_and_clear();
    let password =
        admin_password.unwrap_or_else(|| chorus_server::util::random_token()[..20].to_string());
    chorus_server::users::add(&state.store, &admin_email, &password, &site, "admin").await?;
    println!(
        "seeded {} responses ({} already there) for site {site} in {:.1} s",
        report.created,
        report.replayed,
        started.elapsed().as_secs_f64()
    );
    println!("dashboard sign-in: {admin_email} / {password}");
    state.store.pool().close().await;
    Ok(())
}

/// `chorus backup`.
pub async fn backup(file: PathBuf, db: Db) -> anyhow::Result<()> {
    let (_, url) = db.resolve()?;
    let o = chorus_server::backup::backup(&url, &file).await?;
    println!(
        "backed up {} responses to {} ({:.1} MB, checked) in {:.1} s",
        o.responses,
        file.display(),
        o.bytes as f64 / 1e6,
        o.seconds
    );
    Ok(())
}

/// `chorus restore`.
pub async fn restore(file: PathBuf, db: Db) -> anyhow::Result<()> {
    let (_, url) = db.resolve()?;
    let o = chorus_server::backup::restore(&file, &url).await?;
    println!(
        "restored {} responses from {} into {} in {:.1} s",
        o.responses,
        file.display(),
        redact_url(&url),
        o.seconds
    );
    Ok(())
}

/// `chorus doctor`.
pub async fn doctor(
    db: Db,
    pkg_dir: PathBuf,
    www_dir: PathBuf,
    strict: bool,
) -> anyhow::Result<()> {
    // The file is read by the doctor itself, so a broken one is a finding, not an exit.
    let database = db
        .database
        .clone()
        .or_else(|| {
            db.config
                .as_ref()
                .and_then(|p| chorus_server::config::Config::load(p).ok())
                .and_then(|c| c.database)
        })
        .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
    let opts = chorus_server::doctor::Options {
        config: db.config.clone(),
        database,
        pkg_dir,
        www_dir,
    };
    let findings = chorus_server::doctor::run(&opts).await;
    std::process::exit(chorus_server::doctor::print(&findings, strict))
}

/// `chorus rollup rebuild`.
pub async fn rollup_rebuild(db: Db, site: Option<String>) -> anyhow::Result<()> {
    let store = db.open().await?;
    let bar = chorus_server::offline::progress(None, "rolling up");
    let started = std::time::Instant::now();
    let n = store
        .rebuild_rollups(site.as_deref(), |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    println!(
        "rolled up {n} responses in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.pool().close().await;
    Ok(())
}

/// `chorus rollup check`: exits 1 on any difference.
pub async fn rollup_check(db: Db, site: Option<String>) -> anyhow::Result<()> {
    let store = db.open().await?;
    let bar = chorus_server::offline::progress(None, "checking");
    let r = store
        .check_rollups(site.as_deref(), |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    store.pool().close().await;
    for k in &r.differences {
        println!(
            "differs: site {} service {:?} instrument {} v{} locale {} mode {} day {}",
            k.site, k.service, k.instrument, k.version, k.locale, k.mode, k.day
        );
    }
    for k in &r.theme_differences {
        println!(
            "themes differ: site {} service {:?} day {}",
            k.site, k.service, k.day
        );
    }
    println!(
        "{} rollups checked ({} responses): {} differ; theme rollups: {} differ",
        r.keys,
        r.responses,
        r.differences.len(),
        r.theme_differences.len()
    );
    if !r.differences.is_empty() || !r.theme_differences.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
