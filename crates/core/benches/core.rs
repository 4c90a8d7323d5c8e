//! Throughput of the work the server does per response: validate, score and redact, plus
//! aggregation. Figures, not assertions (the brief's budgets are checked by reading them):
//! `cargo bench -p chorus-core`.

use chorus_core::{
    Answer, Instrument, ItemKind, Response, aggregate::InstrumentAggregate, library,
    redact::redact, score, validate_response,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const COMMENT: &str = "The nurse was kind. Call me on 07700 900123 or email jo@example.org, \
                       NHS 943 476 5919, born 3/4/1960, CF10 3NQ.";

/// A complete response to `id` with a comment in every free-text item.
fn response(id: &str) -> (Instrument, Response) {
    let inst = library::get(id).expect("shipped");
    // Every agreement answer in turn, "does not apply" too: the core's own ids.
    let agreement = chorus_core::instrument::AGREEMENT_ANSWERS.map(|(id, _)| id);
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
            ItemKind::Agreement => Answer::Text(agreement[n % agreement.len()].into()),
            ItemKind::SingleChoice | ItemKind::Knowledge => {
                Answer::Text(item.options[n % item.options.len()].id.clone())
            }
            ItemKind::MultipleChoice => Answer::List(vec![item.options[0].id.clone()]),
            ItemKind::Scale | ItemKind::Importance => Answer::Number(item.range().1 - n as i64 % 3),
            ItemKind::YesNo => Answer::Bool(n % 2 == 0),
            ItemKind::FreeText => Answer::Text(COMMENT.into()),
            ItemKind::OptionGrid | ItemKind::Info | ItemKind::Outcome => continue,
        };
        r.answers.insert(item.id.clone(), a);
    }
    (inst, r)
}

/// What the server does per response: validate, score, redact each free text.
fn process(inst: &Instrument, r: &Response) -> usize {
    validate_response(inst, r).expect("valid");
    let s = score(inst, r);
    let mut n = 0;
    for item in inst.items.iter().filter(|i| i.kind == ItemKind::FreeText) {
        if let Some(Answer::Text(t)) = r.answers.get(&item.id) {
            n += redact(t).spans.len();
        }
    }
    black_box(s);
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("per_response");
    g.throughput(Throughput::Elements(1));
    for id in ["fft", "i-statements", "aid-knee-pain", "sdm-q-9"] {
        let (inst, resp) = response(id);
        g.bench_function(format!("validate+score+redact {id}"), |b| {
            b.iter(|| process(black_box(&inst), black_box(&resp)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("redact");
    let long = COMMENT.repeat(16);
    g.throughput(Throughput::Bytes(long.len() as u64));
    g.bench_function("2 KB of text with 6 identifiers per sentence", |b| {
        b.iter(|| redact(black_box(&long)))
    });
    let plain = "The staff were kind and the ward was clean. ".repeat(45);
    g.throughput(Throughput::Bytes(plain.len() as u64));
    g.bench_function("2 KB of text with nothing to redact", |b| {
        b.iter(|| redact(black_box(&plain)))
    });
    g.finish();

    let mut g = c.benchmark_group("aggregate");
    let (inst, resp) = response("i-statements");
    let report = score(&inst, &resp);
    g.throughput(Throughput::Elements(1));
    g.bench_function("add one I Statement report", |b| {
        let mut agg = InstrumentAggregate::default();
        b.iter(|| agg.add(black_box(&report)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
