#!/usr/bin/env bash
# Fuzz smoke run for CI (issue 9): every cargo-fuzz target of native/fuzz/ for a few seconds each (about a
# minute of fuzzing in all, plus the build), seeded from the test corpora; fails on any crash, hang or
# out-of-memory. Skips, with exit status 0 and a message saying so, when cargo-fuzz is not installed (the test
# command of scripts/dev.sh installs it). Uses the nightly toolchain where rustup has one, the stable one with
# RUSTC_BOOTSTRAP=1 otherwise (native/fuzz/fuzz.sh). The C codecs are built with AddressSanitizer when clang is
# present.
#
#   bash scripts/fuzz_smoke.sh            # 7 s per target
#   FUZZ_SMOKE_SECONDS=30 bash scripts/fuzz_smoke.sh
#
# Longer runs: native/fuzz/fuzz.sh SECONDS [TARGET[:SECONDS]...] (see its header).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${FUZZ_SMOKE_SECONDS:-7}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz smoke: SKIPPED: cargo-fuzz is not installed (cargo install cargo-fuzz)"
    exit 0
fi
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz smoke: note: clang not found, the C codecs are fuzzed without AddressSanitizer (apt-get install clang)"
fi
echo "== fuzz smoke: every target for ${secs} s"
# A fresh, small corpus (60 DICOM seeds of 16 KiB, the codec fixtures): libFuzzer reads its whole corpus before
# the clock starts, and the long-running corpus in native/fuzz/corpus/ grows to thousands of inputs.
rm -rf native/fuzz/corpus/.smoke
CORPUS_ROOT=corpus/.smoke SEED_LIMIT="${SEED_LIMIT:-60}" MAX_LEN="${MAX_LEN:-16384}" \
    JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}" SUMMARY="${SUMMARY:-$PWD/native/fuzz/artifacts/smoke.tsv}" \
    bash native/fuzz/fuzz.sh "$secs"
