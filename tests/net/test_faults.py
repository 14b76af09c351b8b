"""Faults: each ends in the named exception within its timeout, with no thread or socket left behind."""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

import pytest

from dicomfast import net
from dicomfast.net import dimse, pdu
from dicomfast.net.association import pdata_pdus
from dicomfast.net.server import file_meta_bytes
from tests.net.conftest import FakePeer, free_port, recv_pdu

pytestmark = pytest.mark.usefixtures("no_leaks")

FAST = {"timeout": 2.0, "acse_timeout": 1.0, "dimse_timeout": 1.0, "network_timeout": 1.0}
CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"


def accept(conn: socket.socket, max_length: int = 16384) -> pdu.AAssociateRQ:
    """Read the A-ASSOCIATE-RQ and accept every context with its first transfer syntax and every role."""
    t, body = recv_pdu(conn)
    assert t == 1
    rq = pdu.decode(t, body)
    assert isinstance(rq, pdu.AAssociateRQ)
    ac = pdu.AAssociateAC(
        rq.called_ae,
        rq.calling_ae,
        [pdu.PresentationContextAC(c.context_id, 0, c.transfer_syntaxes[0]) for c in rq.contexts],
        max_length=max_length,
        implementation_class_uid="1.2.3",
        roles=rq.roles,
    )
    conn.sendall(pdu.encode(ac))
    return rq


def big_file(n: int = 4 << 20) -> bytes:
    """A Part 10 CT object with ``n`` bytes of pixel data, Explicit VR Little Endian."""

    def el(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        if vr == b"OB":
            return struct.pack("<HH2sHL", group, elem, vr, 0, len(value)) + value
        return struct.pack("<HH2sH", group, elem, vr, len(value)) + value

    body = el(8, 0x16, b"UI", CT.encode() + b"\0") + el(8, 0x18, b"UI", b"1.2.3.4.5.6\0")
    body += el(0x7FE0, 0x10, b"OB", bytes(n))
    return file_meta_bytes(CT, "1.2.3.4.5.6", EXPLICIT) + body


def elapsed_below(start: float, limit: float) -> None:
    took = time.monotonic() - start
    assert took < limit, f"took {took:.2f} s, more than {limit} s"


def test_connection_refused() -> None:
    start = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        net.connect("127.0.0.1", free_port(), "NOBODY", **FAST)
    elapsed_below(start, 2)


def test_listener_that_never_answers(fake_peer: type[FakePeer]) -> None:
    peer = fake_peer(lambda c: None, accept=False)  # the kernel completes the handshake; nobody reads
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="A-ASSOCIATE-AC"):
        net.connect("127.0.0.1", peer.port, "SILENT", **FAST)
    elapsed_below(start, 3)


def test_dimse_timeout_aborts(fake_peer: type[FakePeer]) -> None:
    got: list[int] = []

    def script(conn: socket.socket) -> None:
        accept(conn)
        got.append(recv_pdu(conn)[0])  # the C-ECHO-RQ, never answered
        got.append(recv_pdu(conn)[0])  # then the A-ABORT

    peer = fake_peer(script)
    a = net.connect("127.0.0.1", peer.port, "MUTE", **FAST)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="DIMSE"):
        a.echo()
    elapsed_below(start, 3)
    assert not a.is_established
    peer.close()
    assert got == [4, 7]


def test_peer_dies_in_the_middle_of_a_store(fake_peer: type[FakePeer]) -> None:
    def script(conn: socket.socket) -> None:
        accept(conn)
        received = 0
        while received < 200_000:
            received += len(recv_pdu(conn)[1])
        conn.close()

    peer = fake_peer(script)
    with net.connect("127.0.0.1", peer.port, "DYING", **FAST) as a:
        start = time.monotonic()
        with pytest.raises(net.AssociationAbortedError, match="connection"):
            a.store(big_file())
        elapsed_below(start, 3)
        assert not a.is_established


def test_peer_dies_in_the_middle_of_a_get(fake_peer: type[FakePeer], tmp_path: Path) -> None:
    def script(conn: socket.socket) -> None:
        rq = accept(conn)
        t, body = recv_pdu(conn)  # C-GET-RQ (command and identifier in one PDU)
        p = pdu.decode(t, body)
        assert isinstance(p, pdu.PDataTF)
        ctx = next(c.context_id for c in rq.contexts if c.abstract_syntax == CT)
        cmd = {0x0002: CT, 0x0100: dimse.C_STORE_RQ, 0x0110: 1, 0x0700: 0, 0x1000: "1.2.3.4.5.6"}
        pdus = list(pdata_pdus(ctx, cmd, bytes(1 << 20), 16384))
        for raw in pdus[: len(pdus) // 2]:
            conn.sendall(raw)
        conn.close()

    peer = fake_peer(script)
    with net.connect("127.0.0.1", peer.port, "DYINGQR", **FAST) as a:
        start = time.monotonic()
        with pytest.raises(net.AssociationAbortedError, match="closed the connection"):
            a.get({"PatientID": "X"}, "PATIENT", "P", directory=tmp_path)
        elapsed_below(start, 3)
    assert list(tmp_path.iterdir()) == []  # the partial file was removed


def test_unknown_pdu_type(fake_peer: type[FakePeer]) -> None:
    got: list[bytes] = []

    def script(conn: socket.socket) -> None:
        recv_pdu(conn)
        conn.sendall(b"\x09\x00\x00\x00\x00\x04\x00\x00\x00\x00")
        got.append(conn.recv(100))

    peer = fake_peer(script)
    with pytest.raises(pdu.PDUError, match="unknown PDU type 0x09"):
        net.connect("127.0.0.1", peer.port, "WEIRD", **FAST)
    peer.close()
    assert got == [b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x01"]  # A-ABORT: provider, unrecognised PDU


def test_pdu_whose_items_lie(fake_peer: type[FakePeer]) -> None:
    def script(conn: socket.socket) -> None:
        recv_pdu(conn)
        head = b"\x00\x01\x00\x00" + b"LIAR".ljust(16) + b"DICOMFAST".ljust(16) + bytes(32)
        body = head + b"\x10\x00\x01\x00" + b"1.2.840.10008.3.1.1.1"  # item claims 256 bytes, has 21
        conn.sendall(struct.pack(">BxL", 2, len(body)) + body)
        conn.recv(100)

    peer = fake_peer(script)
    with pytest.raises(pdu.PDUError, match="item 0x10 at byte 68 declares 256 bytes but 21 remain"):
        net.connect("127.0.0.1", peer.port, "LIAR", **FAST)


def test_pdu_whose_length_lies(fake_peer: type[FakePeer]) -> None:
    """A header announcing more bytes than ever come: the network timeout ends the wait."""

    def script(conn: socket.socket) -> None:
        recv_pdu(conn)
        conn.sendall(struct.pack(">BxL", 2, 1000) + bytes(100))
        conn.recv(100)  # waits for our A-ABORT

    peer = fake_peer(script)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="the rest of a A-ASSOCIATE-AC"):
        net.connect("127.0.0.1", peer.port, "SHORT", **FAST)
    elapsed_below(start, 3)


def test_4gb_pdu_length(fake_peer: type[FakePeer]) -> None:
    def script(conn: socket.socket) -> None:
        accept(conn)
        recv_pdu(conn)
        conn.sendall(b"\x04\x00\xff\xff\xff\xff" + bytes(64))
        conn.recv(100)

    peer = fake_peer(script)
    with net.connect("127.0.0.1", peer.port, "HUGE", **FAST, max_pdu=16384) as a:
        start = time.monotonic()
        with pytest.raises(pdu.PDUError, match="length 4294967295 exceeds the maximum PDU length 16384"):
            a.echo()
        elapsed_below(start, 1)


def test_reject(fake_peer: type[FakePeer]) -> None:
    def script(conn: socket.socket) -> None:
        recv_pdu(conn)
        conn.sendall(pdu.encode(pdu.AAssociateRJ(2, 3, 1)))

    peer = fake_peer(script)
    with pytest.raises(
        net.AssociationRejectedError,
        match=r"rejected transiently by the service provider \(presentation\): temporary congestion",
    ):
        net.connect("127.0.0.1", peer.port, "BUSY", **FAST)


def test_abort_during_negotiation(fake_peer: type[FakePeer]) -> None:
    def script(conn: socket.socket) -> None:
        recv_pdu(conn)
        conn.sendall(pdu.encode(pdu.AAbort(0, 0)))

    peer = fake_peer(script)
    with pytest.raises(net.AssociationAbortedError, match=r"aborted by the peer .* during association negotiation"):
        net.connect("127.0.0.1", peer.port, "ABORTER", **FAST)


def test_abort_in_the_middle_of_a_find(fake_peer: type[FakePeer]) -> None:
    def script(conn: socket.socket) -> None:
        accept(conn)
        recv_pdu(conn)
        conn.sendall(pdu.encode(pdu.AAbort(2, 2)))

    peer = fake_peer(script)
    with net.connect("127.0.0.1", peer.port, "ABORTER", **FAST) as a:
        with pytest.raises(net.AssociationAbortedError, match="service provider: unexpected PDU"):
            list(a.find({"PatientName": "*"}, "PATIENT", "P"))
        assert not a.is_established
        with pytest.raises(net.NetworkError, match="not established"):
            a.echo()


def test_release_without_answer_is_bounded(fake_peer: type[FakePeer]) -> None:
    def script(conn: socket.socket) -> None:
        accept(conn)
        recv_pdu(conn)  # A-RELEASE-RQ, never answered
        conn.recv(100)

    peer = fake_peer(script)
    a = net.connect("127.0.0.1", peer.port, "NORP", **FAST)
    start = time.monotonic()
    a.release()
    elapsed_below(start, 3)
    assert not a.is_established


def test_server_survives_a_client_dying_mid_store(tmp_path: Path) -> None:
    with net.StorageServer("DFSCP", 0, directory=tmp_path) as server:
        a = net.connect("127.0.0.1", server.port, "DFSCP", **FAST)
        ctx = a.assoc.context_for(CT)
        cmd = {0x0002: CT, 0x0100: dimse.C_STORE_RQ, 0x0110: 1, 0x0700: 0, 0x1000: "1.2.3.4.5.6"}
        pdus = list(pdata_pdus(ctx.context_id, cmd, bytes(1 << 20), a.assoc.peer_max_length or 16384))
        for raw in pdus[:-1]:
            a.assoc.send_bytes(raw)
        a.assoc.close()  # dies before the last fragment
        deadline = time.monotonic() + 5
        while server.active_associations and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.active_associations == 0
        assert list(tmp_path.iterdir()) == []  # the temporary file is gone, nothing was renamed
        with net.connect("127.0.0.1", server.port, "DFSCP", **FAST) as b:
            assert b.store(big_file(1000)) == 0
        assert [p.name for p in tmp_path.iterdir()] == ["1.2.3.4.5.6.dcm"]


def test_server_rejects_wrong_called_ae(tmp_path: Path) -> None:
    with net.StorageServer("DFSCP", 0, directory=tmp_path, require_called_ae=True) as server:
        with pytest.raises(net.AssociationRejectedError, match="called AE title not recognised"):
            net.connect("127.0.0.1", server.port, "SOMEONE", **FAST)
        with net.connect("127.0.0.1", server.port, "DFSCP", **FAST) as a:
            assert a.echo() == 0


def test_server_idle_association_is_dropped(tmp_path: Path) -> None:
    timeouts = net.Timeouts(connect=2, acse=1, dimse=1, network=0.5)
    with net.StorageServer("DFSCP", 0, directory=tmp_path, timeouts=timeouts) as server:
        a = net.connect("127.0.0.1", server.port, "DFSCP", **FAST)
        time.sleep(1.0)  # longer than the server's network timeout: it aborts the association
        with pytest.raises((net.AssociationAbortedError, TimeoutError)):
            a.echo()
        a.abort()
