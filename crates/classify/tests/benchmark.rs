//! The labelled set is sound, and the classifier does not get worse on its `test` split.
//! Floors are the figures measured when the cue lists were last tuned (on `dev` only; see
//! BENCHMARKS.md) less a margin, so a change that makes tagging worse fails here.

use chorus_classify::{Classifier, eval};

#[test]
fn the_labelled_set_is_big_enough_and_uses_known_labels() {
    let set = eval::labelled();
    assert!(set.len() >= 300, "{} comments", set.len());
    let c = Classifier::builtin();
    let test = set.iter().filter(|l| l.split == "test").count();
    assert!(test >= 100, "{test} test comments");
    assert!(set.iter().all(|l| l.split == "test" || l.split == "dev"));
    assert!(set.iter().filter(|l| l.lang == "cy").count() >= 50);
    for (i, l) in set.iter().enumerate() {
        assert_eq!(l.id as usize, i + 1, "ids run 1, 2, 3, …");
        for t in l.themes.keys() {
            assert!(
                c.theme_names().contains(t),
                "comment {}: unknown theme {t}",
                l.id
            );
        }
        for f in &l.flags {
            assert!(
                c.flag_names().contains(f),
                "comment {}: unknown flag {f}",
                l.id
            );
        }
    }
}

#[test]
fn the_test_split_stays_above_its_floor() {
    let r = eval::evaluate(&Classifier::builtin(), &eval::labelled(), "test");
    println!("{}", r.table());
    // Measured: theme macro-F1 0.87, sentiment 78%, flag macro-F1 0.73.
    assert!(
        r.theme_macro_f1() >= 0.82,
        "theme macro-F1 {:.3}",
        r.theme_macro_f1()
    );
    assert!(
        r.sentiment_accuracy() >= 0.72,
        "sentiment {:.3}",
        r.sentiment_accuracy()
    );
    assert!(
        r.flag_macro_f1() >= 0.65,
        "flag macro-F1 {:.3}",
        r.flag_macro_f1()
    );
    // Every theme is found at all.
    for (t, c) in &r.themes {
        assert!(c.recall() >= 0.6, "{t}: recall {:.2}", c.recall());
    }
}

#[test]
fn evaluating_counts_what_it_should() {
    // A classifier that knows one theme finds nothing else: every other labelled theme is a
    // miss, so its recall is 0 and the macro mean falls.
    let only = Classifier::new(
        vec![chorus_classify::ThemeDef {
            name: "parking".into(),
            en: vec!["park*".into()],
            cy: vec![],
        }],
        vec![],
    )
    .unwrap();
    let r = eval::evaluate(&only, &eval::labelled(), "all");
    assert_eq!(r.themes.len(), 1);
    let p = r.themes["parking"];
    assert!(p.tp > 10 && p.precision() > 0.8, "{p:?}");
}
