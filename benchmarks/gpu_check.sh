#!/usr/bin/env bash
# The GPU check: everything this project says about CuPy and CUDA, run on a machine with an
# NVIDIA GPU, in one go, into one results file.
#
#   1. installs the CuPy extra:           pip install -e '.[gpu,test]'
#   2. runs the whole test suite on CuPy: MINIGEN_BACKEND=cupy pytest tests
#      (the backend fixture also runs each backend test on NumPy; CuPy tests skip without a GPU)
#   3. runs the benchmark suite on CUDA:  python -m minigen bench --device cuda
#      (minigen on CuPy, PyTorch on CUDA when torch is installed; the NumPy floor stays on the
#      CPU, so '× numpy' there is GPU time over the CPU floor's time)
#
# Usage, from anywhere:   bash benchmarks/gpu_check.sh
# Results:                benchmarks/gpu_results.txt (or RESULTS=path); the benchmark table is
#                         also written as JSON beside it (gpu_results.json).
# Settings:               PYTHON (default python3), ROUNDS (benchmark rounds, default 9).
# Exit status:            0 when the tests pass and the benchmark runs; otherwise the first
#                         failure's, after everything has run and been written down.
set -euo pipefail

cd "$(dirname "$0")/.."                        # the repository root
PYTHON=${PYTHON:-python3}
ROUNDS=${ROUNDS:-9}
RESULTS=${RESULTS:-benchmarks/gpu_results.txt}
JSON=${RESULTS%.txt}.json
status=0

optional() {                                   # the same, for what may be missing (git, torch)
    "$@" 2>&1 | tee -a "$RESULTS" || printf '(optional; it failed: %s)\n' "$*" | tee -a "$RESULTS"
}

section() {                                    # a heading, on screen and in the results file
    printf '\n== %s ==\n' "$1" | tee -a "$RESULTS"
}

run() {                                        # run a command, record its output and status
    local code=0
    "$@" 2>&1 | tee -a "$RESULTS" || code=$?
    if [ "$code" -ne 0 ]; then
        printf '(exit status %s: %s)\n' "$code" "$*" | tee -a "$RESULTS"
        if [ "$status" -eq 0 ]; then status=$code; fi
    fi
}

: > "$RESULTS"
section "machine"
run date -u
run nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
run "$PYTHON" --version
optional git log -1 --format='commit %H %s'

section "1. install: pip install -e '.[gpu,test]'"
run "$PYTHON" -m pip install --quiet -e '.[gpu,test]'
run "$PYTHON" -c 'import cupy, minigen
print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion())
print("backends:", minigen.backend.available())'
optional "$PYTHON" -c 'import torch; print("torch", torch.__version__, "CUDA:", torch.cuda.is_available())'

section "2. the whole test suite on CuPy: MINIGEN_BACKEND=cupy pytest tests"
run env MINIGEN_BACKEND=cupy "$PYTHON" -m pytest -q -rs tests

section "3. the benchmark suite on CUDA: python -m minigen bench --device cuda"
# No MINIGEN_BACKEND here: the suite puts minigen's worker on CuPy itself, and the floor and
# the agreement check (minigen against the floor) run as the suite intends.
run "$PYTHON" -m minigen bench --device cuda --rounds "$ROUNDS" --json "$JSON"

section "done"
printf 'exit status %s; results in %s and %s\n' "$status" "$RESULTS" "$JSON" | tee -a "$RESULTS"
exit "$status"
