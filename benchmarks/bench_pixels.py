"""pytest-benchmark suite for pixel decoding (``pytest benchmarks --benchmark-only``), on dicomfast.bench inputs."""

from __future__ import annotations

import pytest

import dicomfast
from dicomfast.bench.core import public_files
from dicomfast.bench.pixels import select_files

GROUPS = select_files(public_files(), 2)
CASES = [(codec, p, d) for codec, items in GROUPS.items() for p, d in items]


@pytest.mark.parametrize("threads", [1, None], ids=["1thread", "allthreads"])
@pytest.mark.parametrize(("codec", "path", "data"), CASES, ids=[f"{c}:{p.name}" for c, p, _ in CASES])
def test_decode(benchmark: pytest.FixtureRequest, codec: str, path: object, data: bytes, threads: int | None) -> None:
    ds = dicomfast.dcmread(data, force=True)
    benchmark.extra_info["codec"] = codec
    benchmark.extra_info["mpix"] = ds.num_frames * int(ds.Rows) * int(ds.Columns) / 1e6
    arr = benchmark(dicomfast.pixel_array, ds, threads=threads)
    assert arr.size > 0
