//! Secondary suppression: hiding further cells so that no suppressed count can be worked out
//! from the figures shown beside it (the brief: "poor = 5 shown, very poor `*`, 38.9 % negative
//! of 18 → very poor = 2 must not be possible").
//!
//! A table is cells (counts) and published sums over sets of them (a total, or a percentage
//! whose denominator is shown, which gives its numerator away). What a reader knows: every
//! shown cell, every published sum, and that counts are whole and never negative. A hidden
//! small count (1 to 4) **leaks** when it has the same value in every whole, non-negative
//! solution. (A zero is not protected: that nobody gave an answer discloses no one, and
//! hiding every cell of a table whose one answer is 100 % would hide nothing. Cells hidden
//! only to protect others need no protection of their own.) Two ways
//! apply to the tables Chorus publishes (sums over nested or disjoint sets): a sum whose hidden
//! cells are fixed by the other sums (linear algebra: the cell's unit vector lies in the span of
//! the sums' rows), or a sum whose hidden cells add up to zero (all of them are then zero).
//!
//! The rule, applied until nothing leaks (so the same table is protected the same way on every
//! client): take the first leaking cell (lowest index); of the published sums that contain it,
//! take the smallest (fewest cells; ties: lowest index) that still shows a cell, and hide its
//! smallest shown cell (ties: lowest index); if none shows a cell, stop publishing the smallest
//! such sum. Independent reference: `vectors/reference.py` finds leaks by
//! enumerating every solution instead.

/// Counts below this are small (the brief's primary suppression threshold).
const SMALL: u64 = crate::aggregate::SUPPRESS_BELOW;

/// The protected pattern: which cells to hide and which sums may still be published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protected {
    /// Per cell: hidden.
    pub hidden: Vec<bool>,
    /// Per sum: still published.
    pub published: Vec<bool>,
}

/// Protect `values`, of which `primary` are already hidden (small numbers), where each of
/// `sums` (cell indices) is published if `published` says so.
pub fn protect(
    values: &[u64],
    primary: &[bool],
    sums: &[Vec<usize>],
    published: &[bool],
) -> Protected {
    let mut hidden: Vec<bool> = (0..values.len())
        .map(|i| primary.get(i).copied().unwrap_or(false))
        .collect();
    let mut published: Vec<bool> = (0..sums.len())
        .map(|s| published.get(s).copied().unwrap_or(false))
        .collect();
    // Each round hides a cell or withdraws a sum, so this ends.
    for _ in 0..=(values.len() + sums.len()) {
        let Some(leak) = first_leak(values, &hidden, sums, &published) else {
            break;
        };
        // The published sums that contain it, smallest first (ties: lowest index).
        let mut containing: Vec<usize> = (0..sums.len())
            .filter(|&s| published[s] && sums[s].contains(&leak))
            .collect();
        containing.sort_by_key(|&s| (sums[s].len(), s));
        let candidate = containing.iter().find_map(|&s| {
            sums[s]
                .iter()
                .copied()
                .filter(|&j| j < values.len() && !hidden[j])
                .min_by_key(|&j| (values[j], j))
        });
        match (candidate, containing.first()) {
            (Some(j), _) => hidden[j] = true,
            (None, Some(&s)) => published[s] = false,
            // Fixed by no published sum: cannot happen (a leak needs a sum), but never loop.
            (None, None) => break,
        }
    }
    Protected { hidden, published }
}

/// Protect the parts of a whole that is known to the reader (a page's total, or the positives
/// its overall percentage gives away): `primary` are hidden already; returns which parts to
/// hide so none of the hidden small ones can be had by subtraction. Where the parts do not
/// add up to the whole (responses in no part: no service, or a characteristic not given),
/// the rest is one more part nobody publishes.
pub fn protect_parts(parts: &[u64], primary: &[bool], whole: u64) -> Vec<bool> {
    let sum: u64 = parts.iter().sum();
    let mut values = parts.to_vec();
    let mut hidden: Vec<bool> = (0..parts.len())
        .map(|i| primary.get(i).copied().unwrap_or(false))
        .collect();
    if whole > sum {
        values.push(whole - sum);
        hidden.push(true);
    }
    let members: Vec<usize> = (0..values.len()).collect();
    let p = protect(&values, &hidden, &[members], &[true]);
    p.hidden[..parts.len()].to_vec()
}

/// FFT figures for the rows of one table (months, or services) whose whole is also on the
/// page: each row's own [`InstrumentAggregate::fft_summary`], then, across the rows, the
/// responses, the positives and the negatives each protected against the whole's, so a
/// suppressed month or service cannot be had from the total minus the others (or from the
/// overall percentage minus the others' percentages × their counts). A row whose count is
/// hidden shows no percentage, and a shown percentage that would leave its hidden partner
/// fewer than 5 possible values is hidden too (hiding more only ever widens what a reader can
/// infer).
///
/// [`InstrumentAggregate::fft_summary`]: crate::aggregate::InstrumentAggregate::fft_summary
pub fn fft_rows(
    rows: &[&crate::aggregate::InstrumentAggregate],
) -> Vec<crate::aggregate::FftSummary> {
    use crate::aggregate::Pub;
    let mut out: Vec<_> = rows.iter().map(|a| a.fft_summary()).collect();
    let column = |f: fn(&crate::aggregate::InstrumentAggregate) -> u64| -> Vec<u64> {
        rows.iter().map(|a| f(a)).collect()
    };
    // Responses, positives and negatives: each a column of parts whose whole the page shows.
    protect_column(
        &mut out,
        &column(|a| a.fft_total()),
        |s| s.total.value().is_some(),
        |s| {
            s.total = Pub::Suppressed;
            s.positive = Pub::Suppressed;
            s.negative = Pub::Suppressed;
        },
    );
    protect_column(
        &mut out,
        &column(|a| a.fft_positive().k),
        |s| s.positive.value().is_some(),
        |s| s.positive = Pub::Suppressed,
    );
    protect_column(
        &mut out,
        &column(|a| a.fft_negative().k),
        |s| s.negative.value().is_some(),
        |s| s.negative = Pub::Suppressed,
    );
    // A row's positives and negatives share its count (positives + negatives <= responses),
    // so one of them shown beside its count bounds the other: 5 of 5 negative shown pins the
    // positives at 0, and the others' hidden positives are then had by subtraction (found by
    // the brute-force test). Sums can only pin a hidden count whose bound is below the small
    // threshold, so where a shown one leaves its hidden partner fewer than 5 to range over,
    // the shown one is hidden too; every bound left is then 5 or more.
    for (s, a) in out.iter_mut().zip(rows) {
        if s.total.value().is_none() {
            continue;
        }
        let n = a.fft_total();
        let (k, j) = (a.fft_positive().k, a.fft_negative().k);
        let (pos, neg) = (s.positive.value().is_some(), s.negative.value().is_some());
        if (!pos && neg && n - j < SMALL) || (!neg && pos && n - k < SMALL) {
            s.positive = Pub::Suppressed;
            s.negative = Pub::Suppressed;
        }
    }
    out
}

/// Protect one column of a table's rows against its total (the column's sum): hide, with
/// `hide`, every row [`protect_parts`] says must go besides those `shown` already leaves out.
fn protect_column(
    out: &mut [crate::aggregate::FftSummary],
    values: &[u64],
    shown: impl Fn(&crate::aggregate::FftSummary) -> bool,
    hide: impl Fn(&mut crate::aggregate::FftSummary),
) {
    let primary: Vec<bool> = out.iter().map(|s| !shown(s)).collect();
    let hidden = protect_parts(values, &primary, values.iter().sum());
    for (s, h) in out.iter_mut().zip(hidden) {
        if h {
            hide(s);
        }
    }
}

/// The lowest-index hidden cell a reader can work out, if any.
fn first_leak(
    values: &[u64],
    hidden: &[bool],
    sums: &[Vec<usize>],
    published: &[bool],
) -> Option<usize> {
    // Cells pinned to zero by a sum whose hidden cells add up to nothing, repeatedly.
    let mut known: Vec<bool> = hidden.iter().map(|h| !h).collect();
    let mut zero_pinned = vec![false; values.len()];
    loop {
        let mut changed = false;
        for (s, members) in sums.iter().enumerate() {
            if !published[s] {
                continue;
            }
            let unknown: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&j| j < values.len() && !known[j])
                .collect();
            let rest: u64 = unknown.iter().map(|&j| values[j]).sum();
            if !unknown.is_empty() && rest == 0 {
                for j in unknown {
                    known[j] = true;
                    zero_pinned[j] = true;
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Then linear algebra over the cells still unknown.
    let unknown: Vec<usize> = (0..values.len()).filter(|&j| !known[j]).collect();
    let rows: Vec<Vec<i128>> = sums
        .iter()
        .enumerate()
        .filter(|(s, _)| published[*s])
        .map(|(_, m)| unknown.iter().map(|j| i128::from(m.contains(j))).collect())
        .collect();
    let base = rank(rows.clone());
    (0..values.len()).find(|&i| {
        hidden[i]
            && (1..SMALL).contains(&values[i])
            && (zero_pinned[i]
                || unknown.iter().position(|&j| j == i).is_some_and(|col| {
                    let mut with = rows.clone();
                    with.push((0..unknown.len()).map(|c| i128::from(c == col)).collect());
                    rank(with) == base
                }))
    })
}

/// Rank of a small integer matrix (fraction-free elimination, kept small by gcds).
fn rank(mut m: Vec<Vec<i128>>) -> usize {
    let cols = m.first().map_or(0, Vec::len);
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..m.len()).find(|&i| m[i][c] != 0) else {
            continue;
        };
        m.swap(r, p);
        for i in 0..m.len() {
            if i != r && m[i][c] != 0 {
                let (a, b) = (m[r][c], m[i][c]);
                let row_r = m[r].clone();
                let mut g = 0;
                for (x, y) in m[i].iter_mut().zip(&row_r) {
                    *x = *x * a - *y * b;
                    g = crate::num::gcd(g, *x);
                }
                if g > 1 {
                    for x in &mut m[i] {
                        *x /= g;
                    }
                }
            }
        }
        r += 1;
    }
    r
}
