"""The asyncio API against the same peers, and its faults."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

import dicomfast
from dicomfast import net
from dicomfast.net import aio, pdu
from tests.net.conftest import FakePeer, Peer, free_port, recv_pdu, sample
from tests.net.test_faults import FAST, accept

pytestmark = pytest.mark.network


def test_echo_store_many_concurrently(storescp: Peer, tmp_path: Path) -> None:
    # Four associations at once from one event loop, to our StorageServer (which serves them in parallel;
    # DCMTK's storescp serves one association at a time, so it gets one association here).
    async def one(port: int, ae: str) -> list[int]:
        async with await aio.connect("127.0.0.1", port, ae) as a:
            assert (net.Verification, "1.2.840.10008.1.2") in a.accepted_contexts
            return [int(await a.echo())] + [int(s) for s in await a.store_many([sample("CT_small.dcm")] * 5)]

    with net.StorageServer("DFCONC", 0, directory=tmp_path) as server:

        async def main() -> list[list[int]]:
            return await asyncio.gather(*(one(server.port, "DFCONC") for _ in range(4)))

        assert asyncio.run(main()) == [[0] * 6] * 4
    assert asyncio.run(one(storescp.port, "STORESCP")) == [0] * 6


def test_find_get_move_orthanc(
    orthanc: Peer, orthanc_loaded: dict[str, Path], move_server: net.StorageServer, tmp_path: Path
) -> None:
    ct = dicomfast.dcmread(sample("CT_small.dcm"), stop_before_pixels=True)
    query = {"PatientName": "CompressedSamples*", "StudyInstanceUID": "", "PatientID": ""}

    async def main() -> None:
        async with await aio.connect("127.0.0.1", orthanc.port, "ORTHANC") as a:
            found = [(int(s), i) async for s, i in a.find(query, "STUDY")]
            got = await a.get({"SOPInstanceUID": ct.SOPInstanceUID}, "IMAGE", directory=tmp_path)
            moved = await a.move({"SOPInstanceUID": ct.SOPInstanceUID}, "DFSTORE", "IMAGE")
            # leaving a find early cancels it and keeps the association usable
            async for _s, _i in a.find({"SOPInstanceUID": ""}, "IMAGE"):
                break
            assert await a.echo() == 0
        with orthanc.connect() as b:
            blocking = [(int(s), i) for s, i in b.find(query, "STUDY")]
        assert [(s, i and i.to_json()) for s, i in found] == [(s, i and i.to_json()) for s, i in blocking]
        assert got.status == 0
        assert got.completed == 1
        assert (tmp_path / f"{ct.SOPInstanceUID}.dcm").is_file()
        assert moved.status == 0
        assert moved.completed == 1

    asyncio.run(main())


@pytest.mark.usefixtures("no_leaks")
def test_refused() -> None:
    async def main() -> None:
        with pytest.raises(ConnectionRefusedError):
            await aio.connect("127.0.0.1", free_port(), "NOBODY", **FAST)

    asyncio.run(main())


@pytest.mark.usefixtures("no_leaks")
def test_silent_listener(fake_peer: type[FakePeer]) -> None:
    peer = fake_peer(lambda c: None, accept=False)

    async def main() -> None:
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="A-ASSOCIATE-AC"):
            await aio.connect("127.0.0.1", peer.port, "SILENT", **FAST)
        assert time.monotonic() - start < 3

    asyncio.run(main())


@pytest.mark.usefixtures("no_leaks")
def test_abort_and_dimse_timeout(fake_peer: type[FakePeer]) -> None:
    def aborter(conn: socket.socket) -> None:
        accept(conn)
        recv_pdu(conn)
        conn.sendall(pdu.encode(pdu.AAbort(2, 0)))

    def mute(conn: socket.socket) -> None:
        accept(conn)
        recv_pdu(conn)
        recv_pdu(conn)

    p1, p2 = fake_peer(aborter), fake_peer(mute)

    async def main() -> None:
        a = await aio.connect("127.0.0.1", p1.port, "ABORTER", **FAST)
        with pytest.raises(net.AssociationAbortedError, match="reason not specified"):
            await a.echo()
        b = await aio.connect("127.0.0.1", p2.port, "MUTE", **FAST)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            await b.echo()
        assert time.monotonic() - start < 3
        await asyncio.sleep(0)  # let the transports finish closing

    asyncio.run(main())


@pytest.mark.usefixtures("no_leaks")
def test_store_to_our_server(tmp_path: Path) -> None:
    with net.StorageServer("DFSCP", 0, directory=tmp_path) as server:

        async def main() -> None:
            async with await aio.connect("127.0.0.1", server.port, "DFSCP") as a:
                assert await a.store(sample("MR_small.dcm")) == 0

        asyncio.run(main())
    assert len(list(tmp_path.glob("*.dcm"))) == 1


def test_bytes_arriving_before_the_wait_starts_wake_the_reader() -> None:
    # Regression (CI failure): the waiter was created inside a coroutine that asyncio.wait_for runs one loop turn
    # later on Python 3.11, so bytes arriving in that turn were noticed only at the timeout.
    async def main() -> bytes:
        proto = aio._Protocol()
        assoc = aio.AsyncClientAssociation(net.association.Association.__new__(net.association.Association), proto)
        asyncio.get_running_loop().call_soon(proto.data_received, b"\x01\x02")
        t0 = time.perf_counter()
        got = await assoc._read(2, 5.0, "two bytes")
        assert time.perf_counter() - t0 < 1.0
        return got

    assert asyncio.run(main()) == b"\x01\x02"
