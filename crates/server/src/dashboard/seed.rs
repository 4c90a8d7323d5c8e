//! Demo data: several months of realistic responses from a seeded generator, sent through the
//! same handler as a patient's widget (`api::post_response`: validate, re-score, redact,
//! store) with only the HTTP and rate-limit layers left out, each dated into its month in the
//! same commit as its rollup. Generated a month at a time, so millions need little memory.
//!
//! Deterministic: the same seed gives the same responses with the same idempotency keys, so
//! running it again stores nothing twice (each is a replay of the original).

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    body::{Body, to_bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};
use chorus_core::{Instrument, ItemKind};
use serde_json::{Value, json};

use crate::state::AppState;

/// SplitMix64 (Steele, Lea and Flood): a tiny, well-mixed generator; plenty for demo data and
/// the same on every platform.
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from a seed.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Site the responses are for.
    pub site: String,
    /// Months of data, ending now.
    pub months: u32,
    /// Responses per month (all instruments together).
    pub per_month: u32,
    /// Generator seed.
    pub seed: u64,
    /// "Now", seconds since the epoch (the newest response is before it).
    pub now: i64,
}

/// What the seed did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// Newly stored.
    pub created: u64,
    /// Already there from an earlier run with the same seed.
    pub replayed: u64,
}

/// A service, the instrument it uses and how well it is going (probability of a positive
/// FFT answer at the start, and the change per month).
const FFT_SERVICES: [(&str, &str, f64, f64); 5] = [
    ("emergency", "fft-ae", 0.70, 0.012),
    ("outpatients", "fft-outpatient", 0.91, 0.0),
    ("maternity", "fft-maternity", 0.88, 0.004),
    ("ward-7", "fft-inpatient", 0.86, -0.015),
    ("community", "fft-community", 0.89, 0.002),
];

/// Comments written for the demo, by how the visit went. A few carry personal details,
/// which the server redacts before storage (the comments page shows the tokens).
const GOOD: [&str; 10] = [
    "The nurses were kind and explained everything before they did it.",
    "Seen on time and the doctor listened to me properly.",
    "Really clean ward and the food was better than I expected.",
    "Reception staff were friendly and helped me find the right clinic.",
    "My midwife was brilliant, I felt safe the whole time.",
    "Quick and well organised. Thank you to the whole team.",
    "They took my worries seriously and gave me a clear plan.",
    "Parking was hard but the care itself was excellent.",
    "Roedd y staff yn garedig iawn ac yn esbonio popeth.",
    "Everyone introduced themselves, which made a big difference.",
];
const BAD: [&str; 8] = [
    "Waited over four hours with no update on what was happening.",
    "Nobody told me the results and I had to chase them myself.",
    "The ward was noisy at night and I could not sleep.",
    "Felt rushed, the doctor was looking at the screen the whole time.",
    "Please call me back on 07700 900461, nobody has answered my complaint.",
    "Letter went to the wrong address, my postcode is LS1 4AP not LS1 4AB.",
    "I was given conflicting advice by two different staff.",
    "My NHS number is 943 476 5919 and they still could not find my records.",
];
const MIXED: [&str; 5] = [
    "Good care but the waiting room needs more seats.",
    "Some staff were great, others seemed too busy to talk.",
    "Fine overall. Signs to the clinic could be clearer.",
    "Email me at sam.jones@example.com about the follow-up please.",
    "Appointment moved twice but the visit itself went well.",
];
const BETTER: [&str; 6] = [
    "More updates while waiting.",
    "Let people know how long the wait will be.",
    "Hot drinks in the waiting area.",
    "Send letters by email as well as post.",
    "Nothing, keep doing what you are doing.",
    "Clearer signs from the car park.",
];

fn pick<'a>(rng: &mut SplitMix, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len() as u64) as usize]
}

/// Answers for one response to `inst`. `quality` (0–1) steers how well it went.
fn answers(rng: &mut SplitMix, inst: &Instrument, quality: f64) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut fft_positive = None;
    for item in &inst.items {
        let v = match item.kind {
            ItemKind::SingleChoice
                if item.role.as_deref() == Some(chorus_core::instrument::FFT_ROLE) =>
            {
                let q = quality.clamp(0.02, 0.98);
                let i = rng.weighted(&[
                    q * 0.68,
                    q * 0.32,
                    (1.0 - q) * 0.35,
                    (1.0 - q) * 0.3,
                    (1.0 - q) * 0.25,
                    (1.0 - q) * 0.1,
                ]);
                fft_positive = Some(match i {
                    0 | 1 => 1,
                    2 | 5 => 0,
                    _ => -1,
                });
                chorus_core::instrument::FFT_ANSWER_IDS
                    .get(i)
                    .map(|a| json!(a))
            }
            ItemKind::SingleChoice if !item.options.is_empty() => {
                let i = rng.below(item.options.len() as u64) as usize;
                Some(json!(item.options[i].id))
            }
            ItemKind::MultipleChoice if !item.options.is_empty() => {
                let chosen: Vec<&str> = item
                    .options
                    .iter()
                    .filter(|_| rng.chance(0.4))
                    .map(|o| o.id.as_str())
                    .collect();
                (!chosen.is_empty()).then(|| json!(chosen))
            }
            ItemKind::Agreement => {
                if rng.chance(0.06) {
                    Some(json!("does_not_apply"))
                } else if !item.required && rng.chance(0.04) {
                    None
                } else {
                    // Themes differ a little, so the chart has something to say.
                    let theme_shift = item
                        .theme
                        .as_deref()
                        .map_or(0.0, |t| (t.len() % 5) as f64 * 0.05 - 0.1);
                    let q = (quality + theme_shift).clamp(0.05, 0.95);
                    let i =
                        rng.weighted(&[q * 0.45, q * 0.55, 0.12, (1.0 - q) * 0.6, (1.0 - q) * 0.4]);
                    Some(json!(
                        [
                            "strongly_agree",
                            "agree",
                            "neither",
                            "disagree",
                            "strongly_disagree"
                        ][i]
                    ))
                }
            }
            ItemKind::Scale => {
                let (lo, hi) = item.range();
                // Mostly near the top, as real shared-decision scores are.
                let span = (hi - lo).max(0) as u64;
                let fall = (rng.unit() * rng.unit() * (span as f64 + 1.0) * (1.2 - quality)) as i64;
                if !item.required && rng.chance(0.03) {
                    None
                } else {
                    Some(json!((hi - fall).clamp(lo, hi)))
                }
            }
            ItemKind::YesNo => Some(json!(rng.chance(0.55 + 0.4 * quality))),
            ItemKind::Importance => {
                let (lo, hi) = item.range();
                Some(json!(lo + rng.below((hi - lo + 1).max(1) as u64) as i64))
            }
            ItemKind::Knowledge => {
                let right = item.answer.clone().unwrap_or_default();
                if rng.chance(0.75) && !right.is_empty() {
                    Some(json!(right))
                } else if item.options.is_empty() {
                    None
                } else {
                    let i = rng.below(item.options.len() as u64) as usize;
                    Some(json!(item.options[i].id))
                }
            }
            ItemKind::FreeText => {
                let first = item.id == "why";
                let p = if first { 0.45 } else { 0.2 };
                if rng.chance(p) {
                    let text = if first {
                        match fft_positive {
                            Some(1) => pick(rng, &GOOD),
                            Some(-1) => pick(rng, &BAD),
                            _ => pick(rng, &MIXED),
                        }
                    } else {
                        pick(rng, &BETTER)
                    };
                    let max = item.max_length.unwrap_or(500) as usize;
                    Some(json!(text.chars().take(max).collect::<String>()))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(v) = v {
            out.insert(item.id.clone(), v);
        }
    }
    out
}

/// "About you" answers with known gaps: drawn given the FFT answer, so that (for the demo and
/// the tests) people aged 75 and over and people whose day-to-day activities are limited a
/// lot are less often positive than everyone else, and a few groups are small.
fn about_you(rng: &mut SplitMix, positive: bool, locale: &str) -> Value {
    let mut a = serde_json::Map::new();
    let old = if positive { 0.6 } else { 2.0 };
    let bands = [
        "16_24",
        "25_34",
        "35_44",
        "45_54",
        "55_64",
        "65_74",
        "75_84",
        "85_plus",
        "prefer_not_to_say",
    ];
    let i = rng.weighted(&[1.0, 1.6, 1.6, 1.5, 1.4, 1.3, 1.2 * old, 0.3 * old, 0.2]);
    a.insert("age_band".into(), json!(bands[i]));
    if rng.chance(0.8) {
        a.insert(
            "sex".into(),
            json!(if rng.chance(0.54) { "female" } else { "male" }),
        );
    }
    if rng.chance(0.7) {
        let lt = rng.chance(if positive { 0.3 } else { 0.5 });
        a.insert(
            "long_term_condition".into(),
            json!(if lt { "yes" } else { "no" }),
        );
        if lt {
            let w = if positive {
                [0.2, 0.45, 0.35]
            } else {
                [0.55, 0.3, 0.15]
            };
            let l = ["a_lot", "a_little", "not_at_all"][rng.weighted(&w)];
            a.insert("activities_limited".into(), json!(l));
        }
    }
    if rng.chance(0.75) {
        let groups = [
            "white_british",
            "white_other",
            "asian_indian",
            "asian_pakistani",
            "black_african",
            "black_caribbean",
            "mixed_other",
            "other_any",
            "prefer_not_to_say",
        ];
        let g = groups[rng.weighted(&[7.5, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.2])];
        a.insert("ethnic_group".into(), json!(g));
    }
    if rng.chance(0.6) {
        a.insert(
            "carer".into(),
            json!(if rng.chance(0.12) { "yes" } else { "no" }),
        );
    }
    let language = if locale == "cy" {
        "welsh"
    } else if rng.chance(0.93) {
        "english"
    } else {
        ["polish", "romanian", "urdu", "punjabi"][rng.below(4) as usize]
    };
    a.insert("first_language".into(), json!(language));
    Value::Object(a)
}

/// One generated submission: the body a widget would post, and when it "arrived".
pub struct Generated {
    /// The submission JSON.
    pub body: Value,
    /// Seconds since the epoch.
    pub at: i64,
}

/// The responses for `opts`, a month at a time, oldest first.
pub struct Generator<'a> {
    app: &'a AppState,
    opts: &'a SeedOptions,
    rng: SplitMix,
    month: u32,
}

impl<'a> Generator<'a> {
    /// Start at the oldest month.
    pub fn new(app: &'a AppState, opts: &'a SeedOptions) -> Generator<'a> {
        Generator {
            app,
            opts,
            rng: SplitMix::new(opts.seed),
            month: 0,
        }
    }
}

impl Iterator for Generator<'_> {
    type Item = Vec<Generated>;

    /// The next month's responses.
    fn next(&mut self) -> Option<Vec<Generated>> {
        let (app, opts, m) = (self.app, self.opts, self.month);
        if m >= opts.months {
            return None;
        }
        self.month += 1;
        let rng = &mut self.rng;
        let month = 30 * 86_400i64;
        let mut out = Vec::with_capacity(opts.per_month as usize);
        let start = opts.now - i64::from(opts.months - m) * month;
        for k in 0..opts.per_month {
            let at = start + rng.below(month as u64 - 3600) as i64;
            let kind = rng.unit();
            let (instrument, service, quality) = if kind < 0.6 {
                let (svc, inst, base, drift) = FFT_SERVICES[rng.below(5) as usize];
                (inst, svc, base + drift * f64::from(m))
            } else if kind < 0.78 {
                let svc = if rng.chance(0.5) {
                    "community"
                } else {
                    "outpatients"
                };
                ("i-statements", svc, 0.72 + 0.02 * f64::from(m).min(4.0))
            } else {
                let which = rng.below(5);
                let svc = if which.is_multiple_of(2) {
                    "orthopaedics"
                } else {
                    "gp-surgery"
                };
                let inst = [
                    "aid-knee-pain",
                    "aid-blood-pressure",
                    "sure",
                    "collaborate",
                    "sdm-q-9",
                ][which as usize];
                (inst, svc, 0.8)
            };
            let Some(inst) = app.instruments.get(instrument) else {
                continue;
            };
            let locale = if rng.chance(0.1) { "cy" } else { "en" };
            let answers = answers(rng, inst, quality);
            let mut body = json!({
                "site": opts.site,
                "service": service,
                "response": {
                    "instrument": inst.id,
                    "version": inst.version,
                    "locale": locale,
                    "idempotency_key": format!("seed-{}-{m}-{k}", opts.seed),
                    "answers": answers,
                }
            });
            // Channels and "About you" from a stream of their own, so the answers above stay
            // what they were for a seed.
            let mut side = SplitMix::new(
                opts.seed ^ (u64::from(m) << 32 | u64::from(k)).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            );
            let mode = ["online", "sms", "qr", "tablet", "paper"]
                [side.weighted(&[0.55, 0.25, 0.08, 0.07, 0.05])];
            if mode != "online" {
                body["mode"] = json!(mode);
            }
            if inst.scoring == chorus_core::Scoring::Fft
                && app.config.equality.enabled(&opts.site)
                && side.chance(0.55)
            {
                let positive = matches!(
                    body["response"]["answers"]["fft"].as_str(),
                    Some("very_good" | "good")
                );
                body["about"] = about_you(&mut side, positive, locale);
            }
            out.push(Generated { body, at });
        }
        Some(out)
    }
}

/// Generate and store. Stops at the first response the server refuses, saying why (a seeded
/// response that does not validate is a bug in the generator, not something to skip).
/// Resumable: a run stopped part-way is finished by running it again with the same seed (what
/// was stored replays). `progress(done, total)` is called as responses are stored.
pub async fn seed(
    app: &Arc<AppState>,
    opts: &SeedOptions,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let total = u64::from(opts.months) * u64::from(opts.per_month);
    // Many in flight at once (as many as the writer commits together), so the store's group
    // commit writes them in few transactions.
    const IN_FLIGHT: usize = 512;
    let mut set = tokio::task::JoinSet::new();
    for month in Generator::new(app, opts) {
        for g in month {
            while set.len() >= IN_FLIGHT {
                count(&mut report, set.join_next().await)?;
                progress(report.created + report.replayed, total);
            }
            let app = app.clone();
            let body = serde_json::to_vec(&g.body)?;
            set.spawn(async move { store_one(&app, body, g.at).await });
        }
    }
    while !set.is_empty() {
        count(&mut report, set.join_next().await)?;
    }
    progress(report.created + report.replayed, total);
    Ok(report)
}

fn count(
    report: &mut SeedReport,
    done: Option<Result<anyhow::Result<bool>, tokio::task::JoinError>>,
) -> anyhow::Result<()> {
    if let Some(done) = done {
        if done?? {
            report.created += 1;
        } else {
            report.replayed += 1;
        }
    }
    Ok(())
}

/// One generated submission through the patient's handler, dated `at`: whether it was new.
async fn store_one(app: &Arc<AppState>, body: Vec<u8>, at: i64) -> anyhow::Result<bool> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let entry = crate::api::StaffEntry {
        received_at: Some(crate::store::iso_utc(at)),
    };
    let res = match crate::api::post_response(
        State(app.clone()),
        None,
        Some(axum::Extension(entry)),
        headers,
        Body::from(body),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => axum::response::IntoResponse::into_response(e),
    };
    match res.status() {
        StatusCode::CREATED => Ok(true),
        StatusCode::OK => Ok(false),
        s => {
            let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap_or_default();
            anyhow::bail!(
                "the server refused a seeded response ({s}): {}",
                String::from_utf8_lossy(&bytes)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_repeatable() {
        let mut a = SplitMix::new(7);
        let mut b = SplitMix::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        // SplitMix64's published first output for seed 0.
        assert_eq!(SplitMix::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }
}
