#!/usr/bin/env bash
# Regenerates the committed reference fixtures from independent implementations:
# scikit-learn (Cohen's κ, all weightings) and numpy/scipy (Dice, HD, HD95, ASSD, NSD
# with anisotropic spacing). Installs Debian's python3-sklearn and python3-scipy if
# they are missing (needs root and Debian's package lists), then runs both scripts.
# The tests read the committed fixtures; CI does not need Python.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
if ! "$PY" -c 'import sklearn, scipy, numpy' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-scipy python3-numpy
fi
"$PY" scripts/reference/kappa_reference.py
"$PY" scripts/reference/segmentation_reference.py fixtures > test/fixtures/reference/segmentation.json
"$PY" scripts/reference/acceptance_reference.py
"$PY" scripts/reference/subgroups_reference.py
git --no-pager diff --stat -- test/fixtures/reference || true
