#!/usr/bin/env bash
# Long fuzzing campaign by CPU time (issue 9: each target runs for a stated number of CPU-minutes). Runs the
# binaries that `fuzz.sh --build` made, in rounds of ROUND seconds, on WORKERS parallel workers at nice 19 (so
# builds and benchmarks on the same machine take precedence), and appends one line per round to a ledger:
# the CPU seconds it used (from /usr/bin/time), its exit status, libFuzzer's coverage and the corpus size.
# A target is done when the CPU seconds in the ledger reach its quota; one that found a crash, hang or
# out-of-memory is not run again until that input (in artifacts/TARGET/) is triaged.
#
#   native/fuzz/campaign.sh LEDGER TARGET:CPU_MINUTES...    e.g. campaign.sh /tmp/ledger.tsv parse:30 decode_j2k:12
#
# Seeds come from `fuzz.sh 1 TARGET` (run it once per target first); the corpus grows in corpus/TARGET.
# Environment: WORKERS (default 2), ROUND (default 480), RSS_MB (default 2048), MAX_LEN (default 65536),
# TIMEOUT (default 30 s per input: a nice-19 fuzzer waits behind whatever else runs, so a 10 s limit reports
# inputs that take a second alone; re-run a timeout- input alone to tell a real hang).
# Pausing: while LEDGER.pause exists no new round starts (SIGINT to the running fuzzers stops them at once, exit status 72;
# the CPU time of an interrupted round is still recorded).
set -euo pipefail
cd "$(dirname "$0")"
ledger="$1"
shift
WORKERS="${WORKERS:-2}"
ROUND="${ROUND:-480}"
RSS_MB="${RSS_MB:-2048}"
MAX_LEN="${MAX_LEN:-65536}"
TIMEOUT="${TIMEOUT:-30}"
BIN=target/x86_64-unknown-linux-gnu/release
export ASAN_OPTIONS="allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=0"

declare -A QUOTA=()
for spec in "$@"; do QUOTA["${spec%%:*}"]=$((${spec#*:} * 60)); done
[ -f "$ledger" ] || printf 'target\tstart\tcpu_s\trc\tcov\tft\tcorpus\n' > "$ledger"
locks="$ledger.locks"
mkdir -p "$locks"

used() { awk -F'\t' -v t="$1" '$1 == t { s += $3 } END { printf "%d", s }' "$ledger"; }
# A finding (crash-, timeout-, oom-, leak-, slow-unit- file) left in artifacts/TARGET/ stops that target until it
# is triaged: fixed, or shown not to be a fault and moved to artifacts/TARGET/triaged/.
failed() { compgen -G "artifacts/$1/[a-z]*-[0-9a-f]*" > /dev/null; }

# The target with the most CPU time still to run that no other worker holds, or nothing.
pick() {
  local best="" left=0 t l
  for t in "${!QUOTA[@]}"; do
    [ -d "$locks/$t" ] && continue
    failed "$t" && continue
    l=$((QUOTA[$t] - $(used "$t")))
    if [ "$l" -gt "$left" ]; then best="$t"; left="$l"; fi
  done
  echo "$best"
}

worker() {
  local t secs log out rc last
  while true; do
    while [ -e "$ledger.pause" ]; do sleep 5; done
    t=""
    # mkdir is atomic: the worker that creates the lock owns the target for this round.
    for _ in 1 2 3; do
      t=$(pick)
      [ -z "$t" ] && break
      mkdir "$locks/$t" 2>/dev/null && break
      t=""
    done
    [ -z "$t" ] && return 0
    secs=$((QUOTA[$t] - $(used "$t")))
    [ "$secs" -gt "$ROUND" ] && secs="$ROUND"
    [ "$secs" -lt 30 ] && secs=30
    mkdir -p "corpus/$t" "corpus/.seeds/$t" "artifacts/$t"
    log="artifacts/$t/campaign.log"
    out=$(mktemp)
    start=$(date -u +%FT%TZ)
    set +e
    /usr/bin/time -f '%U %S' -o "$out" nice -n 19 "$BIN/$t" "corpus/$t" "corpus/.seeds/$t" \
      -max_total_time="$secs" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$RSS_MB" -timeout="$TIMEOUT" \
      -max_len="$MAX_LEN" -artifact_prefix="artifacts/$t/" -print_final_stats=1 > "$log" 2>&1
    rc=$?
    set -e
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$start" \
      "$(awk 'END { printf "%.1f", $1 + $2 }' "$out")" "$rc" \
      "$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<< "$last")" "$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<< "$last")" \
      "$(ls "corpus/$t" | wc -l)" >> "$ledger"
    rm -f "$out"
    rmdir "$locks/$t"
  done
}

for _ in $(seq "$WORKERS"); do worker & done
wait
echo "campaign done"
awk -F'\t' 'NR > 1 { s[$1] += $3; r[$1] = $0 } END { for (t in s) printf "%-16s %6.1f CPU-min  last: %s\n", t, s[t] / 60, r[t] }' "$ledger"
