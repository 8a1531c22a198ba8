"""Reference values for Goldline's acceptance sampling (functions/domain/acceptance).

Writes test/fixtures/reference/acceptance.json:
  - binomial: pmf / cdf / sf from scipy.stats.binom for n up to 3000 and p from
    1e-4 to 0.9999, including far tails (values down to 1e-300);
  - plans: the smallest single sampling plan (n, c) meeting AQL/RQL/alpha/beta,
    found here by an independent brute-force search over scipy's binom.cdf;
  - iso: ISO 2859-1 Table 2-A (= ANSI/ASQ Z1.4 Table II-A) normal single sampling
    plans for code letters F (n=20), G (n=32), H (n=50) at AQL 1.0/2.5/4.0/6.5 %
    (arrows resolved to the plan they point to), with scipy's P(accept) on a grid
    and the limiting quality at P(accept) = 10 % (brentq);
  - sprt: Wald's boundaries from his formulas, and the truncated SPRT designed and
    evaluated by an independent dynamic program (numpy), per the rule stated in
    functions/domain/acceptance/sprt.ts: looks every g items, N the smallest look
    where a terminal acceptance number c_N meets alpha and beta exactly — per
    decision, and (perBatch) also per batch settled, E[tau 1{reject}]/E[tau] at
    p0 and E[tau 1{accept}]/E[tau] at p1.
test/unit/domain/acceptance/*.test.ts compare Goldline's values with these.

Regenerate with any python3 that has scipy and numpy (Debian's python3-scipy, as
scripts/reference/regenerate.sh installs, or a virtualenv):

    python3 scripts/reference/acceptance_reference.py

Deterministic: no randomness.
"""

import json
import math
from pathlib import Path

import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.stats import binom

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "reference" / "acceptance.json"


def binomial_cases():
    out = []
    for n in (1, 6, 13, 38, 50, 200, 1000, 3000):
        for p in (1e-4, 0.01, 0.05, 0.2, 0.5, 0.8, 0.9999):
            ks = sorted({0, 1, n // 2, n - 1, n, int(n * p), min(n, int(n * p) + 3), max(0, int(n * p) - 3)})
            for k in ks:
                out.append({
                    "n": n, "p": p, "k": k,
                    "pmf": float(binom.pmf(k, n, p)),
                    "logpmf": float(binom.logpmf(k, n, p)),
                    "cdf": float(binom.cdf(k, n, p)),
                    "sf": float(binom.sf(k, n, p)),
                })
    return out


def smallest_plan(aql, rql, alpha, beta):
    p0, p1 = 1 - aql, 1 - rql
    for n in range(1, 5001):
        best = -1
        for c in range(0, n + 1):
            if binom.cdf(c, n, p1) <= beta:
                best = c
            else:
                break
        if best >= 0 and binom.cdf(best, n, p0) >= 1 - alpha:
            return {"n": n, "c": best, "alpha": float(1 - binom.cdf(best, n, p0)), "beta": float(binom.cdf(best, n, p1))}
    return None


SPECS = [
    (0.95, 0.80, 0.05, 0.10),
    (0.95, 0.80, 0.05, 0.05),
    (0.95, 0.80, 0.05, 0.25),
    (0.90, 0.70, 0.05, 0.10),
    (0.98, 0.90, 0.05, 0.10),
    (0.99, 0.95, 0.10, 0.10),
    (0.97, 0.85, 0.01, 0.05),
    (1.00, 0.80, 0.05, 0.10),
]

# ISO 2859-1:1999 Table 2-A, normal inspection, single sampling: (code letter, n, AQL %, Ac, Re).
# F at AQL 1.0 is an up arrow (use E: n=13, Ac 0); G at AQL 1.0 a down arrow (use H: n=50, Ac 1).
ISO = [
    ("F", 20, 1.0, "E", 13, 0, 1),
    ("F", 20, 2.5, "F", 20, 1, 2),
    ("F", 20, 4.0, "F", 20, 2, 3),
    ("F", 20, 6.5, "F", 20, 3, 4),
    ("G", 32, 1.0, "H", 50, 1, 2),
    ("G", 32, 2.5, "G", 32, 2, 3),
    ("G", 32, 4.0, "G", 32, 3, 4),
    ("G", 32, 6.5, "G", 32, 5, 6),
    ("H", 50, 1.0, "H", 50, 1, 2),
    ("H", 50, 2.5, "H", 50, 3, 4),
    ("H", 50, 4.0, "H", 50, 5, 6),
    ("H", 50, 6.5, "H", 50, 7, 8),
]
GRID = [0.5 + 0.05 * i for i in range(11)]


def iso_cases():
    out = []
    for letter, n_letter, aql_pct, used, n, ac, re in ISO:
        p_aql = aql_pct / 100
        out.append({
            "letter": letter, "letterN": n_letter, "aqlPercent": aql_pct, "usedLetter": used,
            "n": n, "ac": ac, "re": re,
            "pAcceptAtAql": float(binom.cdf(ac, n, p_aql)),
            "lq10": float(brentq(lambda p: binom.cdf(ac, n, p) - 0.10, 1e-12, 1 - 1e-12, xtol=1e-15)),
            "oc": [{"accuracy": round(a, 2), "pAccept": float(binom.cdf(ac, n, 1 - round(a, 2)))} for a in GRID],
        })
    return out


def wald(aql, rql, alpha, beta):
    p0, p1 = 1 - aql, 1 - rql
    g1, g2 = math.log(p1 / p0), math.log((1 - p0) / (1 - p1))
    a, b = math.log((1 - beta) / alpha), math.log(beta / (1 - alpha))
    return {"accept": b, "reject": a, "slope": g2 / (g1 + g2), "h0": -b / (g1 + g2), "h1": a / (g1 + g2),
            "wrong": g1, "right": -g2}


def llr(w, t, k):
    return (k * w["wrong"] if k else 0.0) + ((t - k) * w["right"] if t - k else 0.0)


def bounds_at(w, t):
    ks = np.arange(t + 1)
    ll = np.array([llr(w, t, int(k)) for k in ks])
    acc = ks[ll <= w["accept"]]
    rej = ks[ll >= w["reject"]]
    return (int(acc.max()) if acc.size else -1), (int(rej.min()) if rej.size else t + 1)


def sprt_design(aql, rql, alpha, beta, g, per_batch):
    p0, p1 = 1 - aql, 1 - rql
    for shrink in range(30):
        w = wald(aql, rql, alpha * 0.9 ** shrink, beta * 0.9 ** shrink)
        st = {p: {"cont": np.array([1.0]), "acc": 0.0, "rej": 0.0, "iacc": 0.0, "irej": 0.0, "iall": 0.0} for p in (p0, p1)}
        steps = {p: binom.pmf(np.arange(g + 1), g, p) for p in (p0, p1)}
        t = 0
        while t < 20000:
            t += g
            am, rm = bounds_at(w, t)
            for p in (p0, p1):
                s = st[p]
                c = np.convolve(s["cont"], steps[p])
                a_mass = c[: am + 1].sum() if am >= 0 else 0.0
                r_mass = c[rm:].sum()
                s["acc"] += a_mass
                s["rej"] += r_mass
                s["iacc"] += t * a_mass
                s["irej"] += t * r_mass
                s["iall"] += t * (a_mass + r_mass)
                if am >= 0:
                    c[: am + 1] = 0
                c[rm:] = 0
                s["cont"] = c
            def beta_ok(c_n):
                s = st[p1]
                term = s["cont"][: c_n + 1].sum()
                if s["acc"] + term > beta:
                    return False
                return not per_batch or (s["iacc"] + t * term) / (s["iall"] + t * s["cont"].sum()) <= beta

            def alpha_ok(c_n):
                s = st[p0]
                term = s["cont"][c_n + 1:].sum()
                if s["rej"] + term > alpha:
                    return False
                return not per_batch or (s["irej"] + t * term) / (s["iall"] + t * s["cont"].sum()) <= alpha

            chosen = None
            for c_n in range(max(am, rm - 1), am - 1, -1):
                if beta_ok(c_n):
                    chosen = c_n
                    break
            if chosen is not None and alpha_ok(chosen):
                return w, shrink, t, chosen
            if st[p0]["cont"].sum() < 1e-14 and st[p1]["cont"].sum() < 1e-14:
                break
    return None


def exact_oc(w, g, n_max, c_n, accuracy):
    p = 1 - accuracy
    step = binom.pmf(np.arange(g + 1), g, p)
    cont, acc, rej, items, t = np.array([1.0]), 0.0, 0.0, 0.0, 0
    iacc, irej = 0.0, 0.0
    terminal = (llr(w, n_max, c_n) + llr(w, n_max, c_n + 1)) / 2
    while True:
        t += g
        cont = np.convolve(cont, step)
        am, rm = bounds_at(w, t)
        if am >= 0:
            m = cont[: am + 1].sum()
            acc += m; items += t * m; iacc += t * m; cont[: am + 1] = 0
        m = cont[rm:].sum()
        rej += m; items += t * m; irej += t * m; cont[rm:] = 0
        if t >= n_max:
            for k in range(len(cont)):
                if llr(w, t, k) < terminal:
                    acc += cont[k]; iacc += t * cont[k]
                else:
                    rej += cont[k]; irej += t * cont[k]
                items += t * cont[k]
            return {"accuracy": accuracy, "pAccept": float(acc), "pReject": float(rej), "expectedItems": float(items),
                    "rejectedWorkShare": float(irej / items), "acceptedWorkShare": float(iacc / items)}


def sprt_cases():
    out = []
    for (aql, rql, alpha, beta) in SPECS[:6]:
        for g, per_batch in ((1, True), (6, True), (7, True), (6, False), (7, False)):
            w, shrink, n_max, c_n = sprt_design(aql, rql, alpha, beta, g, per_batch)
            out.append({
                "spec": {"aql": aql, "rql": rql, "alpha": alpha, "beta": beta}, "lookEvery": g, "perBatch": per_batch,
                "wald": w, "shrinkSteps": shrink, "maxItems": n_max, "terminalC": c_n,
                "oc": [exact_oc(w, g, n_max, c_n, a) for a in (0.5, 0.7, rql, 0.85, 0.9, aql, 1.0)],
            })
    return out


def main():
    doc = {
        "generator": "scripts/reference/acceptance_reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "binomial": binomial_cases(),
        "plans": [{"spec": {"aql": a, "rql": r, "alpha": al, "beta": be}, "plan": smallest_plan(a, r, al, be)} for a, r, al, be in SPECS],
        "iso": iso_cases(),
        "sprt": sprt_cases(),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
