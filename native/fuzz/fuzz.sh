#!/usr/bin/env bash
# Run one pixel fuzz target with memory capped (STYLE.md §8), seeded from the test fixtures.
# Needs nightly and cargo-fuzz: cargo install cargo-fuzz. Usage: ./fuzz.sh decode_rle [seconds]
set -euo pipefail
cd "$(dirname "$0")"
target="${1:?target name}"
secs="${2:-60}"
mkdir -p "corpus/$target"
case "$target" in
  decode_rle) glob="*rle*" ;;
  decode_jpeg) glob="*jpeg*" ;;
  decode_jpegls) glob="*jls*" ;;
  decode_j2k) glob="*j2k*" ;;
  decode_jxl) glob="*jxl*" ;;
  *) glob="" ;;
esac
if [ -n "$glob" ]; then
  for f in ../tests/data/$glob.frame; do
    # 6 header bytes (see src/lib.rs; 0x80 in the last: take the dimensions from the stream), then the
    # codestream.
    { printf '\x00\x00\x00\x00\x00\x80'; cat "$f"; } > "corpus/$target/$(basename "$f")"
  done
fi
export ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=1024
cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10
