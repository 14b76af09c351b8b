"""pytest-benchmark suite for header reads (``pytest benchmarks --benchmark-only``), on dicomfast.bench.headers."""

from __future__ import annotations

import pytest

from dicomfast.bench import headers
from dicomfast.bench.core import public_files

FILES, WHOLE = headers._readable(public_files()[:120])


@pytest.mark.parametrize("peer", ["dicomfast", "pydicom"])
def test_header_read(benchmark: pytest.FixtureRequest, peer: str) -> None:
    fn = headers.df_header if peer == "dicomfast" else headers.pd_header
    benchmark.extra_info["files"] = len(FILES)
    benchmark(fn, FILES)


@pytest.mark.parametrize("peer", ["dicomfast", "pydicom"])
def test_full_walk(benchmark: pytest.FixtureRequest, peer: str) -> None:
    fn = headers.df_walk if peer == "dicomfast" else headers.pd_walk
    benchmark(fn, WHOLE[:50])
