"""pytest-benchmark suite for writing and encoding (``pytest benchmarks --benchmark-only``)."""

from __future__ import annotations

import io

import pytest

import dicomfast
from dicomfast.bench.core import public_files
from dicomfast.bench.write import ENCODERS, _imagecodecs_encode, _inputs, _native_encode

ITEMS = _inputs(public_files(), quick=True, limit=3)
MULTI = next((d for _, d in _inputs(public_files(), quick=True) if dicomfast.dcmread(d).num_frames > 1), None)


@pytest.mark.parametrize("peer", ["dicomfast", "pydicom"])
def test_read_modify_write(benchmark: pytest.FixtureRequest, peer: str) -> None:
    pydicom = pytest.importorskip("pydicom")

    def ours() -> None:
        for _, d in ITEMS:
            ds = dicomfast.dcmread(d)
            ds.PatientName = "ANONYMOUS"
            dicomfast.dcmwrite(io.BytesIO(), ds)

    def theirs() -> None:
        for _, d in ITEMS:
            ds = pydicom.dcmread(io.BytesIO(d))
            ds.PatientName = "ANONYMOUS"
            ds.save_as(io.BytesIO())

    benchmark(ours if peer == "dicomfast" else theirs)


@pytest.mark.parametrize("name", list(ENCODERS))
def test_encode(benchmark: pytest.FixtureRequest, name: str) -> None:
    _, data = ITEMS[0]
    benchmark(lambda: dicomfast.dcmread(data).compress(name, threads=1))


@pytest.mark.parametrize("peer", ["dicomfast-1-thread", "dicomfast-all-threads", "imagecodecs"])
@pytest.mark.parametrize("name", [k for k in ENCODERS if k != "RLELossless"])
def test_encode_multiframe_frames(benchmark: pytest.FixtureRequest, name: str, peer: str) -> None:
    if MULTI is None:
        pytest.skip("no uncompressed multi-frame input")
    ts, codec = ENCODERS[name]
    src = dicomfast.dcmread(MULTI)
    arr = src.pixel_array
    if peer == "imagecodecs":
        pytest.importorskip("imagecodecs")
        fn = _imagecodecs_encode(list(arr), codec)
    else:
        fn = _native_encode(src, arr, ts, 1 if peer == "dicomfast-1-thread" else None)
    benchmark(fn)
