"""pytest-benchmark suite for the archive scan (``pytest benchmarks --benchmark-only``), on dicomfast.bench.scan.

A small synthetic archive (600 files, made once per module in a temporary folder) keeps it quick enough to
run as a test with ``--benchmark-disable``; ``dicomfast bench --suite scan`` is the full side-by-side run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dicomfast.bench import scan as bench
from dicomfast.bench.archive import make

N = 600


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pydicom")
    root = tmp_path_factory.mktemp("scan-archive")
    make(root, N)
    return root


@pytest.mark.parametrize("peer", ["dicomfast-1", "dicomfast-2", "pydicom", "dicomsdl"])
def test_scan(benchmark: Any, peer: str, archive: Path) -> None:
    files = bench.walk(archive)
    benchmark.extra_info["files"] = len(files)
    if peer.startswith("dicomfast"):
        n = benchmark(bench.df_scan, archive, int(peer[-1]))
    elif peer == "pydicom":
        rows = benchmark(bench.pd_loop, files)
        n = len(rows)
        # Recorded, not asserted: pydicom leaves ISO 2022 escapes in some GB18030 names that dicomfast decodes.
        mismatch, _ = bench.compare(bench.table_values(bench.df_table(archive, 2)), rows)
        benchmark.extra_info["mismatch"] = mismatch
    else:
        pytest.importorskip("dicomsdl")
        n = benchmark(bench.sdl_loop, files)
    # Correctness beside the timing: one row per file, every file read.
    benchmark.extra_info["rows"] = n
    assert n == N
