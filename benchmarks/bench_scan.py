"""pytest-benchmark suite for the archive scan (``pytest benchmarks --benchmark-only``), built on benchmarks.scan.

A small synthetic archive (600 files, made once per session in a temporary folder) keeps it quick enough to
run as a test with ``--benchmark-disable``; ``python -m benchmarks.scan`` is the full side-by-side run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import scan as bench
from benchmarks.make_archive import make

N = 600


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scan-archive")
    make(root, N, 512 * 1024)
    return root


@pytest.mark.parametrize("peer", ["dicomfast-1", "dicomfast-2", "pydicom", "dicomsdl"])
def test_scan(benchmark: Any, peer: str, archive: Path) -> None:
    files = bench.walk(archive)
    benchmark.extra_info["files"] = len(files)
    if peer.startswith("dicomfast"):
        n = benchmark(bench.df_scan, archive, int(peer[-1]))
    elif peer == "pydicom":
        bench._pd_init()
        n = benchmark(lambda: len([bench._pd_one(p) for p in files]))
    else:
        pytest.importorskip("dicomsdl")
        n = benchmark(bench.sdl_loop, files)
    # Correctness beside the timing: one row per file, every file read.
    benchmark.extra_info["rows"] = n
    assert n == N
