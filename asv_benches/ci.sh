#!/usr/bin/env bash
# One quick pass of the asv suite against the working tree, in the current
# Python environment (numba_act and the bench extra installed there), for CI.
# Fails if the suite does not import or if any benchmark fails; skipped
# combinations (NotImplementedError in setup) are fine.  Nothing is recorded.
#
#   BENCH_PYTHON   the Python to run asv with (default: python)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

python=${BENCH_PYTHON:-python}

"$python" -m asv machine --yes >/dev/null
# Signatures, parameters and imports of every benchmark.
"$python" -m asv check --python=same
# Every benchmark once; asv exits non-zero when one fails, and the accuracy
# benchmark fails where an activation is over its documented bound.
NUMBA_ACT_ASV_STRICT=1 "$python" -m asv run --python=same --quick --show-stderr --durations 10
