#!/usr/bin/env python3
"""Independent reference for the SPC (XmR, "Making Data Count") vectors: writes spc.json.

Written from the rules as stated in the core's `spc` module docs, not from its code. Each
case is computed twice: with IEEE doubles in the order the rules fix (which is what the Rust
code must reproduce to the bit), and with exact fractions. A case whose flags or verdicts
differ between the two sits on a knife-edge that binary rounding decides; such cases are
refused, so every expectation here is the exact answer too.

Run: python3 crates/core/vectors/spc_reference.py
"""

import json
import os
import random
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))


def chart(values, baseline=0, direction=None, target=None, shift=7, trend=7, exact=False):
    num = (lambda v: Fraction(v)) if exact else (lambda v: float(v))
    xs = [num(v) for v in values]
    n = len(xs) if baseline == 0 else min(baseline, len(xs))
    if n < 2:
        return None
    total = num(0)
    for x in xs[:n]:
        total = total + x
    mean = total / n
    ranges = num(0)
    for i in range(1, n):
        ranges = ranges + abs(xs[i] - xs[i - 1])
    mr = ranges / (n - 1)
    k = Fraction(266, 100) if exact else 2.66
    spread = k * mr
    near = spread * 2 / 3
    hi, lo = mean + spread, mean - spread
    nhi, nlo = mean + near, mean - near

    flags = [dict(astronomical=False, shift=False, trend=False, two_of_three=False, high=None)
             for _ in xs]

    def side(i, high):
        if flags[i]["high"] is None:
            flags[i]["high"] = high

    # 1. beyond a process limit
    for i, x in enumerate(xs):
        if x > hi or x < lo:
            flags[i]["astronomical"] = True
            side(i, x > hi)

    # 2. shift: label each point by its side, then find maximal equal-label stretches
    labels = [1 if x > mean else (-1 if x < mean else 0) for x in xs]
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and labels[j + 1] == labels[i] and labels[i] != 0:
            j += 1
        if labels[i] != 0 and j - i + 1 >= max(shift, 1):
            for t in range(i, j + 1):
                flags[t]["shift"] = True
                side(t, labels[i] == 1)
        i = j + 1

    # 3. trend: steps between neighbours; a run of m equal-sign steps spans m + 1 points
    steps = [(1 if xs[t] > xs[t - 1] else (-1 if xs[t] < xs[t - 1] else 0)) for t in range(1, len(xs))]
    for want in (1, -1):
        t = 0
        while t < len(steps):
            if steps[t] != want:
                t += 1
                continue
            u = t
            while u + 1 < len(steps) and steps[u + 1] == want:
                u += 1
            points = u - t + 2
            if points >= max(trend, 2):
                for p in range(t, u + 2):
                    flags[p]["trend"] = True
                    side(p, want == 1)
            t = u + 1

    # 4. two of three beyond the same two-sigma line
    for w in range(len(xs) - 2):
        for high in (True, False):
            near_ones = [p for p in range(w, w + 3) if (xs[p] > nhi if high else xs[p] < nlo)]
            if len(near_ones) >= 2:
                for p in near_ones:
                    flags[p]["two_of_three"] = True
                    side(p, high)

    last = flags[-1]
    special = last["astronomical"] or last["shift"] or last["trend"] or last["two_of_three"]
    if not special:
        variation = "common_cause"
    elif direction is None:
        variation = "neither"
    elif (direction == "higher") == (last["high"] is True):
        variation = "improvement"
    else:
        variation = "concern"

    assurance = None
    if direction is not None and target is not None:
        tv = num(target)
        good_beyond = tv < lo if direction == "higher" else tv > hi
        bad_beyond = tv > hi if direction == "higher" else tv < lo
        assurance = "pass" if good_beyond else ("fail" if bad_beyond else "hit_and_miss")

    return dict(baseline=n, mean=mean, mr_mean=mr, upper=hi, lower=lo, near_upper=nhi,
                near_lower=nlo, points=flags, variation=variation, assurance=assurance,
                few_points=n < 15)


def case(name, values, **opts):
    f = chart(values, **opts)
    e = chart(values, exact=True, **opts)
    if f is None:
        assert e is None
        return dict(name=name, rule="spc: too few points", values=values, options=opts, expect=None)
    for key in ("points", "variation", "assurance"):
        if f[key] != e[key]:
            raise SystemExit(f"{name}: {key} is decided by binary rounding; choose other values")
    return dict(name=name, rule="spc: xmr limits and special-cause rules", values=values,
                options=opts, expect=f)


def cases():
    out = []
    # Fifteen points whose mean is exactly 80 (so a point can sit on the mean).
    flat = [80.0, 82.0, 79.0, 81.0, 80.0, 78.0, 78.0, 80.0, 81.0, 79.0, 82.0, 80.0, 81.0, 79.0, 80.0]
    assert sum(flat) == 1200.0
    out.append(case("common cause only", flat, direction="higher"))
    out.append(case("a point above the upper limit (improvement when higher is better)",
                    flat + [95.0], direction="higher", baseline=15))
    out.append(case("a point below the lower limit (concern when higher is better)",
                    flat + [62.5], direction="higher", baseline=15))
    out.append(case("a point above the upper limit with lower better is a concern",
                    flat + [95.0], direction="lower", baseline=15))
    out.append(case("no direction: special cause neither", flat + [95.0], baseline=15))
    out.append(case("a shift of seven above the mean",
                    flat + [82.5, 81.5, 83.0, 82.0, 81.2, 82.8, 81.9], direction="higher", baseline=15))
    out.append(case("six above the mean is not a shift",
                    flat + [82.5, 81.5, 83.0, 82.0, 81.2, 82.8], direction="higher", baseline=15))
    out.append(case("a point on the mean ends a run",
                    flat + [82.5, 81.5, 83.0, 80.0, 81.2, 82.8, 81.9, 82.1], direction="higher", baseline=15))
    out.append(case("a falling trend of seven",
                    flat + [83.0, 82.0, 81.5, 80.5, 80.0, 79.5, 78.5], direction="higher", baseline=15))
    out.append(case("a tie breaks a trend",
                    flat + [80.5, 81.0, 81.5, 81.5, 82.0, 82.5, 83.0], direction="higher", baseline=15,
                    shift=8))
    out.append(case("the same rise without the tie is a trend",
                    flat + [80.5, 81.0, 81.5, 81.7, 82.0, 82.5, 83.0], direction="higher", baseline=15,
                    shift=8))
    out.append(case("two of three near the upper limit",
                    flat + [80.0, 83.5, 80.0, 83.8], direction="higher", baseline=15))
    out.append(case("two near different limits do not count",
                    flat + [83.5, 80.0, 76.5], direction="higher", baseline=15))
    out.append(case("shift of five with the rule set to five", flat[:10] + [82.0, 81.5, 83.0, 82.0, 81.5],
                    direction="higher", shift=5))
    out.append(case("baseline of twelve, few points", flat[:12] + [90.0, 91.0], baseline=12, direction="lower"))
    out.append(case("one point is too few", [50.0]))
    out.append(case("a baseline of one is too few", [50.0, 60.0, 70.0], baseline=1))
    out.append(case("assurance: target below the lower limit passes", flat, direction="higher", target=70.0))
    out.append(case("assurance: target above the upper limit fails", flat, direction="higher", target=90.0))
    out.append(case("assurance: target within the limits is hit and miss", flat, direction="higher", target=81.0))
    out.append(case("assurance with lower better: target above the upper limit passes", flat,
                    direction="lower", target=90.0))
    out.append(case("a constant series has zero-width limits", [70.0] * 10 + [70.0, 71.0], baseline=10,
                    direction="higher"))
    rng = random.Random(19)
    for k in range(24):
        n = rng.randint(12, 36)
        level = rng.uniform(60, 95)
        vals = []
        x = level
        drift = rng.choice([0.0, 0.0, 0.4, -0.4])
        for i in range(n):
            x = x + drift if i > n // 2 else x
            # one decimal place, as a displayed percentage would be
            vals.append(round(x + rng.gauss(0, 2.5), 1))
        if rng.random() < 0.3:
            vals[rng.randrange(n)] += rng.choice([-12.0, 12.0])
        opts = {}
        if rng.random() < 0.5:
            opts["baseline"] = rng.randint(6, n)
        if rng.random() < 0.7:
            opts["direction"] = rng.choice(["higher", "lower"])
            if rng.random() < 0.5:
                opts["target"] = round(rng.uniform(55, 99), 1)
        out.append(case(f"generated series {k + 1}", vals, **opts))
    return out


if __name__ == "__main__":
    cs = cases()
    with open(os.path.join(HERE, "spc.json"), "w") as fh:
        json.dump(cs, fh, indent=1)
        fh.write("\n")
    print(f"spc.json: {len(cs)} cases")
