"""Reference values for Goldline's Cohen's kappa, from scikit-learn.

Writes test/fixtures/reference/kappa.json: ~30 seeded random two-rater cases
(2-6 categories, 5-200 items, ordinal scales with unused grades, integer and
string labels) plus a few fixed edge cases, each with sklearn
`cohen_kappa_score(y1, y2, labels=..., weights=None|'linear'|'quadratic')` and the
percent agreement mean(y1 == y2). test/unit/scoring/classification.reference.test.ts
compares Goldline's cohenKappa / percentAgreement to these values to 1e-9.

Regenerate (Debian's python3-sklearn and python3-numpy, not a pyenv python):

    /usr/bin/python3 scripts/reference/kappa_reference.py

Deterministic: the cases come from Python's `random.Random(seed)` (stable across
Python 3 versions), so rerunning with the same sklearn gives an identical file.
sklearn returns NaN (with a warning) when the denominator is 0; that is written
as null. `disjoint` marks cases where the raters share no label, where Goldline
reports 0 by convention (METRICS.md) instead of sklearn's weighted value.
"""

import json
import math
import random
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "reference" / "kappa.json"
SEED = 20240611
N_RANDOM = 30


def as_json_number(x):
    x = float(x)
    return None if math.isnan(x) else x


def reference(name, labels, a, b):
    with warnings.catch_warnings():
        # sklearn warns (and returns NaN) on a zero denominator; we record null.
        warnings.simplefilter("ignore")
        kappa = {
            ("none" if w is None else w): as_json_number(
                cohen_kappa_score(a, b, labels=labels, weights=w)
            )
            for w in (None, "linear", "quadratic")
        }
    return {
        "name": name,
        "labels": labels,
        "a": a,
        "b": b,
        "disjoint": not (set(a) & set(b)),
        "kappa": kappa,
        "percentAgreement": float(np.mean(np.array(a, dtype=object) == np.array(b, dtype=object))),
    }


def random_case(rng, index):
    k = rng.randint(2, 6)
    n = rng.randint(5, 200)
    kind = rng.choice(["grades", "zero-based", "strings"])
    if kind == "grades":
        # Ordinal scale 1..K plus up to 3 extra grades nobody uses: the protocol's
        # full scale, which is what weighted kappa must be computed over.
        scale = list(range(1, k + 1 + rng.randint(0, 3)))
    elif kind == "zero-based":
        scale = list(range(k))
    else:
        scale = [f"c{i}" for i in range(k)]
    used = scale[:k] if kind != "grades" else sorted(rng.sample(scale, k))
    agreement = rng.random()  # how often rater b copies rater a
    spread = rng.random()  # skews the prevalence of the first category
    a, b = [], []
    for _ in range(n):
        x = used[0] if rng.random() < spread * 0.6 else rng.choice(used)
        y = x if rng.random() < agreement else rng.choice(used)
        if kind == "grades" and rng.random() < 0.3:
            # Near misses by one grade make linear and quadratic weights differ.
            i = scale.index(x) + rng.choice([-1, 1])
            if 0 <= i < len(scale) and scale[i] in used:
                y = scale[i]
        a.append(x)
        b.append(y)
    return reference(f"random-{index:02d}-{kind}-k{k}-n{n}", scale, a, b)


def fixed_cases():
    paradox_a = [0] * 118 + [0] * 5 + [1] * 2
    paradox_b = [0] * 118 + [1] * 5 + [0] * 2
    return [
        reference("kappa-paradox-118-5-2-0", [0, 1], paradox_a, paradox_b),
        reference("all-same-label", [1, 2, 3], [2, 2, 2, 2], [2, 2, 2, 2]),
        reference("perfect-agreement-unused-grades", [0, 1, 2, 3, 4], [0, 2, 2, 4, 0], [0, 2, 2, 4, 0]),
        reference("total-disagreement-two-labels", [0, 1], [0, 1, 0, 1], [1, 0, 1, 0]),
        # Disjoint categories: Goldline reports 0 (METRICS.md); sklearn's weighted
        # value is kept here to document the difference.
        reference("disjoint-one-label-each", ["a", "b"], ["a", "a", "a"], ["b", "b", "b"]),
        reference("disjoint-weighted", [0, 1, 2, 3], [0, 1, 0, 1], [2, 3, 2, 3]),
    ]


def main():
    rng = random.Random(SEED)
    cases = [random_case(rng, i) for i in range(N_RANDOM)] + fixed_cases()
    payload = {
        "generator": "scripts/reference/kappa_reference.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "seed": SEED,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
