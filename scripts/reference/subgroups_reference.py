"""Reference values for Goldline's subgroup diagnosis (functions/domain/quality/subgroups.ts).

Writes test/fixtures/reference/subgroups.json:
  - fisher: scipy.stats.fisher_exact p-values (alternative 'less', 'greater' and
    'two-sided') for 2x2 tables [[a, b], [c, d]] from tiny to a few thousand items;
  - bh: scipy.stats.false_discovery_control(p, method='bh') on the 15 p-values of
    Benjamini & Hochberg (1995), section 4, and on a second set.
test/unit/domain/quality/subgroups.test.ts compares Goldline's values with these.

Regenerate with any python3 that has scipy (Debian's python3-scipy, as
scripts/reference/regenerate.sh installs):

    python3 scripts/reference/subgroups_reference.py

Deterministic: no randomness.
"""

import json
from pathlib import Path

import scipy
from scipy.stats import false_discovery_control, fisher_exact

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "reference" / "subgroups.json"

TABLES = [
    (3, 1, 1, 3),  # Fisher's tea-tasting lady
    (1, 9, 11, 3),
    (8, 2, 1, 5),
    (2, 3, 40, 5),
    (12, 8, 90, 10),
    (0, 5, 20, 0),
    (5, 0, 0, 5),
    (45, 15, 570, 30),
    (300, 100, 2700, 150),
    (1800, 200, 1900, 100),
    (7, 3, 7, 3),
    (0, 1, 0, 1),
]

BH_SETS = [
    # Benjamini & Hochberg (1995), J. R. Stat. Soc. B 57:289, section 4: 15 p-values.
    [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0],
    [0.04, 0.001, 0.03, 0.2, 0.011, 0.04],
]


def main() -> None:
    fisher = []
    for a, b, c, d in TABLES:
        row = {"table": [a, b, c, d]}
        for alt in ("less", "greater", "two-sided"):
            row[alt] = float(fisher_exact([[a, b], [c, d]], alternative=alt).pvalue)
        fisher.append(row)
    bh = [{"p": ps, "adjusted": [float(x) for x in false_discovery_control(ps, method="bh")]} for ps in BH_SETS]
    OUT.write_text(json.dumps({"scipy": scipy.__version__, "fisher": fisher, "bh": bh}, indent=1) + "\n")


if __name__ == "__main__":
    main()
