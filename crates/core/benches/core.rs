//! Throughput of the work the server does per response: validate, score and redact.
//! Figures, not assertions: `cargo bench -p chorus-core`.

use chorus_core::{Answer, Response, library, redact::redact, score, validate_response};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn i_statement_response() -> (chorus_core::Instrument, Response) {
    let inst = library::get("i-statements").expect("shipped");
    let answers = [
        "strongly_agree",
        "agree",
        "neither",
        "disagree",
        "strongly_disagree",
        "does_not_apply",
    ];
    let mut r = Response {
        instrument: inst.id.clone(),
        version: inst.version,
        locale: Default::default(),
        idempotency_key: "bench-key-0001".into(),
        answers: Default::default(),
        client_scores: None,
    };
    for (n, item) in inst.items.iter().enumerate() {
        let a = match item.kind {
            chorus_core::ItemKind::Agreement => Answer::Text(answers[n % answers.len()].into()),
            _ => Answer::Text("The nurse was kind. Call me on 07700 900123 or email jo@example.org, NHS 943 476 5919.".into()),
        };
        r.answers.insert(item.id.clone(), a);
    }
    (inst, r)
}

fn bench(c: &mut Criterion) {
    let (inst, resp) = i_statement_response();
    let mut g = c.benchmark_group("per_response");
    g.throughput(Throughput::Elements(1));
    g.bench_function("validate+score+redact (I Statements, 25 items)", |b| {
        b.iter(|| {
            let r = black_box(&resp);
            validate_response(&inst, r).expect("valid");
            let s = score(&inst, r);
            let t = redact(match &r.answers["comments"] {
                Answer::Text(t) => t,
                _ => "",
            });
            black_box((s, t))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
