"""pytest-benchmark suite for writing and encoding (``pytest benchmarks --benchmark-only``)."""

from __future__ import annotations

import io

import pytest

import dicomfast
from dicomfast.bench.core import public_files
from dicomfast.bench.write import ENCODERS, _inputs

ITEMS = _inputs(public_files(), quick=True, limit=3)


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
