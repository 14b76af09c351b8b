"""pytest-benchmark suite for series loading (``pytest benchmarks --benchmark-only``), on dicomfast.bench.volume.

Runs on a small series by default (``DICOMFAST_BENCH_SLICES``, 40) so that it also runs as a test with
``--benchmark-disable``; ``dicomfast bench --suite volume`` gives the 300-slice side-by-side table.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import dicomfast
from dicomfast.bench import volume

SLICES = int(os.environ.get("DICOMFAST_BENCH_SLICES", "40"))


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return volume.make_series(tmp_path_factory.mktemp("ct") / "uncompressed", SLICES)


@pytest.mark.parametrize("peer", ["dicomfast", "pydicom", "SimpleITK", "dicomsdl"])
def test_series_to_hu_volume(benchmark: pytest.FixtureRequest, series: list[Path], peer: str) -> None:
    if peer == "dicomfast":
        fn = volume.load_dicomfast
    else:
        module, fn = volume.PEERS[peer]
        pytest.importorskip(module)
    arr = benchmark(fn, series)
    ref = dicomfast.read_series(series).array
    same = bool(np.array_equal(np.asarray(arr), ref))
    benchmark.extra_info["slices"] = len(series)
    benchmark.extra_info["same_array"] = same
    assert same


@pytest.mark.parametrize("peer", ["dicomfast", "pydicom"])
def test_dataloader_frames(benchmark: pytest.FixtureRequest, series: list[Path], peer: str) -> None:
    pytest.importorskip("torch")
    from dicomfast.torch import FrameDataset

    dataset = FrameDataset(series, rescale=True) if peer == "dicomfast" else volume.PydicomFrames(series)
    rate = benchmark(volume.frames_per_second, dataset, 0)
    benchmark.extra_info["frames"] = len(series)
    assert rate > 0
