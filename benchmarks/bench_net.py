"""pytest-benchmark suite for the network client (``pytest benchmarks/bench_net.py --benchmark-only``).

Built on :mod:`dicomfast.bench.net`: DCMTK storescp and Orthanc on 127.0.0.1, dicomfast vs pynetdicom.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dicomfast.bench import net as netbench

pytestmark = pytest.mark.network
PEERS = ["dicomfast", "pynetdicom"]


@pytest.fixture(scope="module")
def storescp_port() -> Iterator[int]:
    if not os.access(netbench.STORESCP, os.X_OK):
        pytest.skip("DCMTK storescp is absent (apt-get install -y dcmtk)")
    with netbench.storescp() as (port, _folder):
        yield port


@pytest.fixture(scope="module")
def orthanc_port() -> Iterator[int]:
    if not os.access(netbench.ORTHANC, os.X_OK):
        pytest.skip("Orthanc is absent (apt-get install -y orthanc)")
    with netbench.orthanc() as port:
        netbench.load_orthanc(port, 200)
        yield port


@pytest.mark.parametrize("peer", PEERS)
def test_echo_round_trip(benchmark: pytest.FixtureRequest, storescp_port: int, peer: str) -> None:
    if peer == "pynetdicom":
        pytest.importorskip("pynetdicom")
    fn = netbench.echo_dicomfast if peer == "dicomfast" else netbench.echo_pynetdicom
    median = benchmark(fn, storescp_port, "STORESCP", 5)
    benchmark.extra_info["median_round_trip_s"] = median
    assert median > 0


@pytest.mark.parametrize("peer", PEERS)
def test_store_20(benchmark: pytest.FixtureRequest, storescp_port: int, peer: str) -> None:
    if peer == "pynetdicom":
        pytest.importorskip("pynetdicom")
    fn = netbench.store_dicomfast if peer == "dicomfast" else netbench.store_pynetdicom
    benchmark.extra_info["stores"] = 20
    benchmark(fn, storescp_port, 20)


@pytest.mark.parametrize("peer", PEERS)
def test_find_200(benchmark: pytest.FixtureRequest, orthanc_port: int, peer: str) -> None:
    if peer == "pynetdicom":
        pytest.importorskip("pynetdicom")
    fn = netbench.find_dicomfast if peer == "dicomfast" else netbench.find_pynetdicom
    _total, _stream, n = benchmark(fn, orthanc_port)
    benchmark.extra_info["identifiers"] = n
    assert n == 200
