#!/usr/bin/env python3
"""Independent reference for the experience-gap vectors (equality monitoring): writes gap.json.

Written from the rules in the core's `gap` module docs, not from its code: per group of one
characteristic, its count, its figure (FFT % positive with the Wilson interval, or a mean
score with its normal interval), the difference from everyone else with a 95% interval
(Newcombe's hybrid score interval for proportions; the normal approximation with both spreads
for means), a verdict that names a difference only where the interval excludes zero, the
group's share of those who stated a category and how it compares with a reference share.
Small counts are suppressed (1 to 4), and secondary suppression (reference.py's `protect`,
which finds leaks by enumerating solutions) protects the counts and the positives against
the published total.

Arithmetic here is exact fractions and 60-digit decimals. A case where a displayed figure or
a verdict sits within a hair of a boundary (where binary rounding could decide) is refused,
so every expectation is the exact answer.

Run: python3 crates/core/vectors/gap_reference.py
"""

import json
import os
import random
import sys
from decimal import Decimal
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as R  # noqa: E402  (wilson, pub_percent, pub_mean, protect, rounding)

Z = R.Z
EDGE = Decimal("1e-7")


class KnifeEdge(Exception):
    pass


def d1(x):
    # Refuse values whose tenths sit within a hair of a rounding boundary.
    t = x * 10
    frac = t - t.to_integral_value(rounding="ROUND_FLOOR")
    if abs(frac - Decimal("0.5")) < EDGE:
        raise KnifeEdge(x)
    return R.half_even_1dp(x)


def sign_of(low, high):
    if abs(low) < EDGE or abs(high) < EDGE:
        raise KnifeEdge((low, high))
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "no_clear_difference"


def pct(k, n):
    return Decimal(k) * 100 / Decimal(n)


def prop_diff(a, b):
    (k1, n1), (k2, n2) = a, b
    if n1 == 0 or n2 == 0:
        return None
    l1, u1 = R.wilson(k1, n1)
    l2, u2 = R.wilson(k2, n2)
    p1, p2 = pct(k1, n1), pct(k2, n2)
    d = p1 - p2
    return d, d - ((p1 - l1) ** 2 + (u2 - p2) ** 2).sqrt(), d + ((u1 - p1) ** 2 + (p2 - l2) ** 2).sqrt()


def mean_stats(values):
    n = len(values)
    if n < 2:
        return None
    mean = sum(values, Fraction(0)) / n
    var = sum(((v - mean) ** 2 for v in values), Fraction(0)) / (n - 1)
    return R._exact_dec(mean), R._exact_dec(var / n)


def mean_diff(a, b):
    sa, sb = mean_stats(a), mean_stats(b)
    if sa is None or sb is None:
        return None
    d = sa[0] - sb[0]
    half = Z * (sa[1] + sb[1]).sqrt()
    return d, d - half, d + half


def protect_against_total(cells, primary, total):
    values, hidden = list(cells), list(primary)
    if total > sum(cells):
        values.append(total - sum(cells))
        hidden.append(True)
    h, _ = R.protect(values, hidden, [list(range(len(values)))], [True])
    return h[:len(cells)]


def shares(groups, counts, hidden_n):
    stated = sum(c for g, c in zip(groups, counts) if g["stated"])
    out = []
    for g, c, h in zip(groups, counts, hidden_n):
        if not g["stated"] or stated == 0:
            out.append(("*", None))
            continue
        share = "*" if h else R.score(Fraction(100 * c, stated))["display"]
        rep = None
        if g.get("reference_tenths") is not None:
            lo, hi = R.wilson(c, stated)
            r = Decimal(g["reference_tenths"]) / 10
            if abs(hi - r) < EDGE or abs(lo - r) < EDGE:
                raise KnifeEdge("representation")
            rep = "under" if hi < r else ("over" if lo > r else "in_line")
        out.append((share, rep))
    return out


def row(g, n_shown, figure, diff, rest_ok, share):
    if not g["stated"]:
        difference, verdict = "*", "not_compared"
    elif figure != "*" and diff is not None and rest_ok:
        d, lo, hi = diff
        difference = {"points": d1(d), "low": d1(lo), "high": d1(hi)}
        verdict = sign_of(lo, hi)
    else:
        difference, verdict = "*", "too_few"
    return {"label": g["label"], "n": n_shown, "figure": figure, "difference": difference,
            "verdict": verdict, "share": share[0], "representation": share[1]}


def proportion_table(groups, all_k, all_n):
    ns = [g["n"] for g in groups]
    ks = [min(g["k"], g["n"]) for g in groups]
    hidden_n = protect_against_total(ns, [1 <= n < 5 for n in ns], all_n)
    primary_k = [h or R.pub_percent(k, n) == "*" if n else True
                 for h, k, n in zip(hidden_n, ks, ns)]
    hidden_k = protect_against_total(ks, primary_k, all_k)
    sh = shares(groups, ns, hidden_n)
    rows = []
    for i, g in enumerate(groups):
        figure = "*" if hidden_k[i] or ns[i] == 0 else R.pub_percent(ks[i], ns[i])
        if figure != "*":
            # the reference's pub_percent rounds the interval with its own d1; check edges
            lo, hi = R.wilson(ks[i], ns[i])
            d1(lo), d1(hi)
        rk, rn = all_k - ks[i], all_n - ns[i]
        rest_ok = rn >= 5 and rk >= 5
        diff = prop_diff((ks[i], ns[i]), (rk, rn))
        rows.append(row(g, "*" if hidden_n[i] else ns[i], figure, diff, rest_ok, sh[i]))
    return {"total": R.count(all_n), "rows": rows}


def mean_table(groups, all_values):
    ns = [len(g["values"]) for g in groups]
    hidden_n = protect_against_total(ns, [1 <= n < 5 for n in ns], len(all_values))
    sh = shares(groups, ns, hidden_n)
    rows = []
    for i, g in enumerate(groups):
        vals = g["values"]
        figure = "*" if hidden_n[i] else R.pub_mean(vals)
        if figure != "*":
            m, v = mean_stats(vals)
            half = Z * v.sqrt()
            d1(m - half), d1(m + half)
        rest = list(all_values)
        for v in vals:
            rest.remove(v)
        diff = mean_diff(vals, rest)
        rows.append(row(g, "*" if hidden_n[i] else ns[i], figure, diff, len(rest) >= 5, sh[i]))
    return {"total": R.count(len(all_values)), "rows": rows}


def frac_json(v):
    return [v.numerator, v.denominator]


def proportion_case(name, rule, groups, extra_n=0, extra_k=0):
    all_k = sum(min(g["k"], g["n"]) for g in groups) + extra_k
    all_n = sum(g["n"] for g in groups) + extra_n
    return {"name": name, "rule": rule, "kind": "proportion", "groups": groups,
            "all": {"k": all_k, "n": all_n}, "expect": proportion_table(groups, all_k, all_n)}


def mean_case(name, rule, groups, extra=()):
    all_values = [v for g in groups for v in g["values"]] + list(extra)
    expect = mean_table(groups, all_values)
    out_groups = [dict(g, values=[frac_json(v) for v in g["values"]]) for g in groups]
    return {"name": name, "rule": rule, "kind": "mean", "groups": out_groups,
            "all": {"values": [frac_json(v) for v in all_values]}, "expect": expect}


def G(label, k, n, stated=True, ref=None):
    return {"label": label, "stated": stated, "reference_tenths": ref, "k": k, "n": n}


def M(label, values, stated=True, ref=None):
    return {"label": label, "stated": stated, "reference_tenths": ref,
            "values": [Fraction(v) for v in values]}


def cases():
    out = []
    rule_p = "equality gap: FFT % positive by group, Newcombe interval, verdict, suppression"
    rule_m = "equality gap: theme mean by group, normal interval, verdict, suppression"
    rule_r = "equality gap: representation against a reference mix"
    out.append(proportion_case("gap: a lower group named", rule_p,
                               [G("16 to 24", 30, 60), G("25 to 64", 180, 200), G("65 and over", 40, 50)]))
    out.append(proportion_case("gap: prefer not to say is not compared", rule_p,
                               [G("Yes", 50, 60), G("No", 70, 80), G("Prefer not to say", 20, 30, stated=False)]))
    out.append(proportion_case("gap: a group of four is hidden and so is the next", rule_p,
                               [G("A", 3, 4), G("B", 60, 100)]))
    out.append(proportion_case("gap: a group of four hidden by the unanswered", rule_p,
                               [G("A", 3, 4), G("B", 60, 100)], extra_n=12, extra_k=7))
    out.append(proportion_case("gap: few positives hide the percentage, and the next", rule_p,
                               [G("A", 2, 40), G("B", 50, 60), G("C", 45, 50)]))
    out.append(proportion_case("gap: a tiny group raises no alarm", rule_p,
                               [G("A", 5, 6), G("B", 40, 200)]))
    out.append(proportion_case("gap: a zero group is shown", rule_p,
                               [G("A", 0, 0), G("B", 40, 60), G("C", 50, 70)]))
    out.append(proportion_case("gap: under-represented against the census", rule_r,
                               [G("White", 380, 420, ref=800), G("Asian", 10, 15, ref=120),
                                G("Black", 20, 25, ref=40), G("Other", 30, 40, ref=40)]))
    out.append(mean_case("gap: theme mean lower for one group", rule_m,
                         [M("Disabled", [25, 50, 25, 50, 0, 50, 25]), M("Not disabled", [50, 75, 100, 75, 50, 75, 100, 75])]))
    out.append(mean_case("gap: theme mean, a small group hidden", rule_m,
                         [M("A", [100, 75, 50]), M("B", [50, 75, 100, 75, 50, 75]), M("C", [25, 50, 75, 50, 25, 100])]))
    out.append(mean_case("gap: theme mean with thirds", rule_m,
                         [M("A", [Fraction(200, 3), Fraction(175, 3), 50, 75, 100]),
                          M("B", [25, Fraction(100, 3), 50, 75, Fraction(250, 3), 0])], extra=[50, 75]))
    rnd = random.Random(24)
    made = 0
    tries = 0
    while made < 40 and tries < 2000:
        tries += 1
        m = rnd.randint(2, 5)
        groups = []
        for i in range(m):
            n = rnd.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 35, 60, 120, 400])
            k = rnd.randint(0, n)
            stated = rnd.random() > 0.15
            ref = rnd.choice([None, None, 50, 150, 300, 600]) if stated else None
            groups.append(G(f"group {i + 1}", k, n, stated, ref))
        extra_n = rnd.choice([0, 0, 3, 17])
        extra_k = rnd.randint(0, extra_n)
        try:
            out.append(proportion_case(f"gap: random proportion {made + 1}", rule_p, groups, extra_n, extra_k))
            made += 1
        except KnifeEdge:
            pass
    made = 0
    while made < 15 and tries < 4000:
        tries += 1
        m = rnd.randint(2, 4)
        groups = []
        for i in range(m):
            n = rnd.choice([1, 2, 4, 5, 7, 12, 30])
            groups.append(M(f"group {i + 1}", [rnd.choice([0, 25, 50, 75, 100, Fraction(200, 3)]) for _ in range(n)],
                            stated=rnd.random() > 0.15))
        try:
            out.append(mean_case(f"gap: random mean {made + 1}", rule_m, groups))
            made += 1
        except KnifeEdge:
            pass
    return out


if __name__ == "__main__":
    cs = cases()
    with open(os.path.join(HERE, "gap.json"), "w") as fh:
        json.dump(cs, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"gap.json: {len(cs)} cases")
