#!/usr/bin/env bash
# Sets up a fresh machine for dicomfast and runs one job:
#   bash scripts/dev.sh demo   system packages + release build + `dicomfast demo` (the main job)
#   bash scripts/dev.sh test   system packages + test dependencies + release build + every test and lint,
#                              and a fuzz smoke run of every cargo-fuzz target
set -euo pipefail
cd "$(dirname "$0")/.."

job="${1:-demo}"
PY="${PYTHON:-python3}"
APT_BUILD=(cmake nasm g++ clang pkg-config)
APT_TEST=(dcmtk orthanc libclang-rt-14-dev)

apt_install() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== apt-get install ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

build() {
    # The C++ codecs (CharLS, libjxl) build with clang++ where it is installed: their decodes ran 1.11x
    # (JPEG-LS) and 1.02x (JPEG XL) as fast as with g++ 12 on this machine, side by side. The C codecs
    # (libjpeg-turbo, OpenJPEG) stay with the default cc: J2K lossy decodes ran 0.94x as fast with clang.
    # An explicit CXX wins; cargo test and clippy below see the same setting.
    if [ -z "${CXX:-}" ] && command -v clang++ >/dev/null 2>&1; then
        export CXX=clang++
    fi
    # One release build of the extension, installed editable so the tests import this checkout.
    echo "== building dicomfast (release)"
    "$PY" -m pip install -q --disable-pip-version-check -e "$@"
}

case "$job" in
demo)
    apt_install "${APT_BUILD[@]}"
    build .
    if dicomfast demo --help >/dev/null 2>&1; then
        dicomfast demo
    else
        dicomfast dump
    fi
    ;;
test)
    apt_install "${APT_BUILD[@]}" "${APT_TEST[@]}"
    build ".[test]"
    echo "== cargo test (release, shares the extension's build of the C codecs)"
    (cd native && cargo test --release --quiet 2>&1 | tail -n 30)
    echo "== cargo clippy"
    (cd native && cargo clippy --release --all-targets --quiet -- -D warnings)
    (cd native && cargo fmt --check)
    echo "== fuzz smoke (cargo-fuzz targets, C codecs under AddressSanitizer)"
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install --locked --quiet cargo-fuzz
    fi
    bash scripts/fuzz_smoke.sh 2>&1 | tail -n 14
    echo "== ruff"
    "$PY" -m ruff check dicomfast tests benchmarks scripts
    "$PY" -m ruff format --check dicomfast tests benchmarks scripts
    echo "== pytest"
    set +e
    "$PY" -m pytest -q -p no:cacheprovider
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then
        echo "pytest collected no tests: failing" >&2
        exit 1
    fi
    exit "$rc"
    ;;
*)
    echo "usage: bash scripts/dev.sh demo|test" >&2
    exit 2
    ;;
esac
