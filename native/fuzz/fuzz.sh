#!/usr/bin/env bash
# Builds and runs the fuzz targets (STYLE.md §8): every target, or those named, each for SECONDS, with memory
# capped, the corpora seeded from the test files, and the C codecs (libjpeg-turbo, CharLS, OpenJPEG, libjxl) compiled
# with AddressSanitizer and libFuzzer coverage too (clang), so an over-read inside a codec is caught as well.
#
#   native/fuzz/fuzz.sh [SECONDS] [TARGET[:SECONDS]...]   run (default: 60 s each, every target)
#   native/fuzz/fuzz.sh --build                    build only
#   native/fuzz/fuzz.sh --list                     list the targets
#
# Needs cargo-fuzz (cargo install cargo-fuzz) and clang (apt-get install clang).
# Environment: SUMMARY (where the table goes, for runs side by side), CORPUS_ROOT (default corpus; a folder under
# native/fuzz), SEED_LIMIT (use only the first N corpus files as seeds), JOBS (cargo build jobs, default 1), RSS_MB (default 2048), MAX_LEN (default 65536, the
# largest input libFuzzer makes), NO_C_SANITIZER=1 to build the C codecs without instrumentation.
# Seeds: pydicom's test files, pydicom-data, ../../../shared/corpus (whole when small, their first MAX_LEN
# bytes otherwise: the header and the start of the pixel data) and native/tests/data/*.frame for the codecs,
# copied once into corpus/.seeds/TARGET.
# New inputs go to corpus/TARGET, crashes to artifacts/TARGET; a summary table is printed at the end
# (and written to artifacts/summary.tsv; corpus/ and artifacts/ are git-ignored): executions, corpus size, coverage (cov = edges, ft = features).
set -euo pipefail
cd "$(dirname "$0")"
HERE="$PWD"
ROOT="$(cd ../.. && pwd)"

TARGETS=(parse write_roundtrip decode_rle decode_jpeg decode_jpegls decode_j2k decode_jxl decode_deflate frame_fragments)
JOBS="${JOBS:-1}"
RSS_MB="${RSS_MB:-2048}"
MAX_LEN="${MAX_LEN:-65536}"
CORPUS_ROOT="${CORPUS_ROOT:-corpus}"

mode=run
case "${1:-}" in
  --build) mode=build; shift ;;
  --list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
  -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
esac
secs=60
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then secs="$1"; shift; fi
if [ $# -gt 0 ]; then TARGETS=("$@"); fi

# cargo-fuzz passes -Z flags (the sanitizer) to rustc: the nightly toolchain where rustup has it, otherwise
# the machine's stable toolchain with RUSTC_BOOTSTRAP=1 (which accepts the same flags).
if cargo +nightly --version >/dev/null 2>&1; then
  FUZZ=(cargo +nightly fuzz)
else
  echo "fuzz.sh: no nightly toolchain: using the stable one with RUSTC_BOOTSTRAP=1" >&2
  FUZZ=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi
if ! "${FUZZ[@]}" --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is missing (cargo install cargo-fuzz)" >&2; exit 2
fi

# The C codecs: same sanitizer as the Rust code (cargo-fuzz's default is address), plus libFuzzer's coverage
# counters so the fuzzer sees edges inside the codecs. The -sys crates build with cc / cmake, which take
# CC / CXX / CFLAGS / CXXFLAGS from the environment (a change rebuilds them).
if [ -z "${NO_C_SANITIZER:-}" ]; then
  if command -v clang >/dev/null && command -v clang++ >/dev/null; then
    export CC=clang CXX=clang++
    export CFLAGS="-fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer -g"
    export CXXFLAGS="$CFLAGS"
  else
    echo "fuzz.sh: clang not found: the C codecs are built without the sanitizer (apt-get install clang)" >&2
  fi
fi
# libjxl (built by native/libjxl-sys/build.rs) would build its own fuzzer programs as well: native/fuzz/libjxl.cmake
# turns them off.
export CMAKE_TOOLCHAIN_FILE="$HERE/libjxl.cmake"
export CARGO_BUILD_JOBS="$JOBS"
# STYLE.md §8 (dicom-rs): a failed large allocation returns null and is reported, never kills the machine.
export ASAN_OPTIONS="allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=0${ASAN_EXTRA:+:$ASAN_EXTRA}"

# TARGET:SECONDS gives one target its own time.
declare -A SECS=()
for i in "${!TARGETS[@]}"; do
  t="${TARGETS[$i]}"
  if [[ "$t" == *:* ]]; then SECS["${t%%:*}"]="${t#*:}"; TARGETS[$i]="${t%%:*}"; fi
done

for t in "${TARGETS[@]}"; do
  echo "== building $t (jobs $JOBS)"
  "${FUZZ[@]}" build -O "$t"
done
[ "$mode" = build ] && exit 0

# ---------------------------------------------------------------------------------------------- seeds
seed_files() {
  # The three corpora of the tests (tests/conftest.py), one path a line.
  local py="${PYTHON:-python3}"
  "$py" - <<'EOF' 2>/dev/null || true
import os, pathlib
dirs = []
try:
    import pydicom
    base = pathlib.Path(pydicom.__file__).parent / "data"
    dirs += [base / "test_files", base / "charset_files"]
except ImportError:
    pass
try:
    import data_store
    dirs.append(pathlib.Path(data_store.__file__).parent / "data")
except ImportError:
    pass
dirs.append(pathlib.Path(os.environ["ROOT"]).parent / "shared" / "corpus")
for d in dirs:
    if d.is_dir():
        for p in sorted(d.rglob("*")):
            if p.is_file() and p.suffix.lower() not in (".py", ".pyc", ".json", ".txt", ".md", ".xml", ".tsv", ".gz", ".bz2"):
                print(p)
EOF
}

seed_dicom() {
  local dir="$1" n=0
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
  while IFS= read -r f; do
    n=$((n + 1))
    [ -n "${SEED_LIMIT:-}" ] && [ "$n" -gt "$SEED_LIMIT" ] && break
    head -c "$MAX_LEN" "$f" > "$dir/$(printf '%04d' "$n")_$(basename "$f" | tr -c 'A-Za-z0-9._-' '_' | cut -c1-80)"
  done < <(ROOT="$ROOT" seed_files)
  echo "   seeded $dir with $n files"
}

seed_codec() {
  local t="$1" dir="$2" glob
  case "$t" in
    decode_rle) glob="*rle*" ;;
    decode_jpeg) glob="*jp*g*" ;;
    decode_jpegls) glob="*jls*" ;;
    decode_j2k) glob="*j2k*" ;;
    decode_jxl) glob="*jxl*" ;;
    *) return 0 ;;
  esac
  mkdir -p "$dir"
  for f in ../tests/data/$glob.frame; do
    [ -e "$f" ] || continue
    # 6 header bytes (src/lib.rs; 0x80 in the last: take the dimensions from the codestream), then the stream.
    { printf '\x00\x00\x00\x00\x00\x80'; cat "$f"; } > "$dir/$(basename "$f")"
  done
}

# -------------------------------------------------------------------------------------------------- run
summary="${SUMMARY:-$HERE/artifacts/summary.tsv}"
mkdir -p "$(dirname "$summary")"
printf 'target\tseconds\tran_s\texecs\tcorpus\tcov\tft\tresult\n' > "$summary"
status=0
for t in "${TARGETS[@]}"; do
  corpus="$CORPUS_ROOT/$t"
  seeds="$CORPUS_ROOT/.seeds/$t"
  mkdir -p "$corpus" "artifacts/$t" "$seeds"
  case "$t" in
    parse|write_roundtrip) seed_dicom "$seeds" ;;
    *) seed_codec "$t" "$seeds" ;;
  esac
  log="artifacts/$t/fuzz.log"
  tsecs="${SECS[$t]:-$secs}"
  echo "== fuzzing $t for $tsecs s (log: native/fuzz/$log)"
  t0=$SECONDS
  set +e
  "${FUZZ[@]}" run -O "$t" "$corpus" "$seeds" -- \
    -max_total_time="$tsecs" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$RSS_MB" -timeout=10 \
    -max_len="$MAX_LEN" -print_final_stats=1 > "$log" 2>&1
  rc=$?
  set -e
  elapsed=$((SECONDS - t0))
  # The last status line: "#N  DONE  cov: C ft: F corp: K/S ..." (or the last "pulse"/"NEW" line).
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "${last%%[^#0-9]*}")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<< "$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<< "$last")
  corp=$(ls "$corpus" | wc -l)
  if [ "$rc" -eq 0 ]; then res=ok; else res="FAILED rc=$rc (see $log)"; status=1; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$tsecs" "$elapsed" "${execs:-?}" "$corp" "${cov:-?}" "${ft:-?}" "$res" >> "$summary"
done
echo
column -t -s $'\t' "$summary" 2>/dev/null || cat "$summary"
exit "$status"
