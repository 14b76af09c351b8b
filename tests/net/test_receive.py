"""The receive path of :class:`~dicomfast.net.association.Association`: P-DATA-TF PDUs taken straight from the
receive buffer, whatever the way the bytes are cut into ``recv`` results, with the checks of PS3.8 kept."""

from __future__ import annotations

import struct

import pytest

from dicomfast.errors import AssociationAbortedError
from dicomfast.net import dimse, pdu
from dicomfast.net.association import AcceptedContext, Association, Timeouts

FIND = "1.2.840.10008.5.1.4.1.2.2.1"
IMPLICIT = "1.2.840.10008.1.2"


class ChunkSocket:
    """Stands in for a connected socket: ``recv`` returns the given chunks in turn; writes are recorded."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.sent: list[bytes] = []
        self.timeouts: list[float | None] = []

    def recv(self, _n: int) -> bytes:
        if not self.chunks:
            raise TimeoutError("no more data")
        return self.chunks.pop(0)

    def settimeout(self, t: float | None) -> None:
        self.timeouts.append(t)

    def setsockopt(self, *_args: object) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def shutdown(self, _how: int) -> None:
        pass

    def close(self) -> None:
        pass


def pdv_pdu(context_id: int, control: int, data: bytes) -> bytes:
    """One P-DATA-TF PDU holding one PDV item (as DCMTK sends each command and each data set)."""
    item = struct.pack(">LBB", len(data) + 2, context_id, control) + data
    return pdu.encode_pdata_header(len(item)) + item


def find_responses(n: int) -> tuple[bytes, list[bytes]]:
    """``n`` pending C-FIND-RSPs (command PDU, then data set PDU) and the final one, as bytes; and the data sets."""
    pending = dimse.encode_command({0x0002: FIND, 0x0100: dimse.C_FIND_RSP, 0x0120: 1, 0x0800: 0, 0x0900: 0xFF00})
    final = dimse.encode_command({0x0002: FIND, 0x0100: dimse.C_FIND_RSP, 0x0120: 1, 0x0800: 0x0101, 0x0900: 0})
    stream, datasets = [], []
    for i in range(n):
        uid = f"1.2.3.{i}".encode()
        uid += b"\0" * (len(uid) % 2)
        data = struct.pack("<HHL", 0x0008, 0x0018, len(uid)) + uid
        datasets.append(data)
        stream += [pdv_pdu(1, 3, pending), pdv_pdu(1, 2, data)]
    stream.append(pdv_pdu(1, 3, final))
    return b"".join(stream), datasets


def association(chunks: list[bytes], max_length: int = 16384) -> tuple[Association, ChunkSocket]:
    sock = ChunkSocket(chunks)
    a = Association(sock, Timeouts(), max_length, is_requestor=True)  # type: ignore[arg-type]
    a.contexts[1] = AcceptedContext(1, FIND, IMPLICIT)
    a.is_established = True
    return a, sock


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 5, 6, 7, 13, 64, 1000, 1 << 20])
def test_messages_whatever_the_recv_boundaries(size: int) -> None:
    stream, datasets = find_responses(20)
    a, _ = association(cut(stream, size))
    got = [a.recv_message(1.0) for _ in range(21)]
    assert all(m is not None for m in got)
    assert [m.dataset for m in got[:20]] == datasets  # type: ignore[union-attr]
    assert [m.command[0x0900] for m in got] == [0xFF00] * 20 + [0]  # type: ignore[union-attr]
    assert got[20].dataset is None  # type: ignore[union-attr]
    assert not a._buf


def test_repeated_command_sets_are_separate_dicts() -> None:
    stream, _ = find_responses(3)
    a, _ = association([stream])
    first = a.recv_message(1.0)
    second = a.recv_message(1.0)
    assert first is not None
    assert second is not None
    assert first.command == second.command
    first.command[0x0900] = 0xDEAD  # a caller changing one response must not change the next
    third = a.recv_message(1.0)
    assert third is not None
    assert third.command[0x0900] == 0xFF00
    assert second.command[0x0900] == 0xFF00


def test_too_long_pdata_after_good_ones_is_refused() -> None:
    stream, _ = find_responses(1)
    too_long = b"\x04\x00" + struct.pack(">L", 16385)
    a, sock = association([stream[:-10], stream[-10:] + too_long])
    assert a.recv_message(1.0) is not None
    assert a.recv_message(1.0) is not None
    with pytest.raises(pdu.PDUError, match="length 16385 exceeds the maximum PDU length 16384"):
        a.recv_message(1.0)
    assert sock.sent
    assert sock.sent[-1][0] == pdu.A_ABORT
    assert a.sock is None


def test_abort_right_after_a_message_in_the_same_chunk() -> None:
    stream, _ = find_responses(1)
    a, _ = association([stream + pdu.encode(pdu.AAbort(2, 0))])
    for _ in range(2):
        assert a.recv_message(1.0) is not None
    with pytest.raises(AssociationAbortedError):
        a.recv_message(1.0)


def test_pdv_on_a_context_not_accepted() -> None:
    cmd = dimse.encode_command({0x0100: dimse.C_ECHO_RSP, 0x0120: 1, 0x0800: 0x0101, 0x0900: 0})
    a, sock = association([pdv_pdu(3, 3, cmd)])
    with pytest.raises(pdu.PDUError, match="context 3, which was not accepted"):
        a.recv_message(1.0)
    assert sock.sent
    assert sock.sent[-1][0] == pdu.A_ABORT


def test_context_change_inside_a_message() -> None:
    a, _ = association([pdv_pdu(1, 1, b"\x00\x00\x00\x00"), pdv_pdu(3, 3, b"\x00\x00\x00\x00")])
    a.contexts[3] = AcceptedContext(3, FIND, IMPLICIT)
    with pytest.raises(pdu.PDUError, match="PDV for context 3 inside a message on context 1"):
        a.recv_message(1.0)


def test_lying_pdv_length_in_the_buffer() -> None:
    body = struct.pack(">LBB", 64, 1, 3) + b"\x00\x00"  # declares 64 bytes, 2 follow
    a, _ = association([pdu.encode_pdata_header(len(body)) + body])
    with pytest.raises(pdu.PDUError, match="declares 64 bytes but 4 remain"):
        a.recv_message(1.0)


def test_the_rest_of_a_message_waits_the_network_timeout() -> None:
    stream, _ = find_responses(1)
    a, sock = association([stream[:20]])
    with pytest.raises(TimeoutError, match="the rest of a DIMSE message"):
        a.recv_message(1.0)
    assert sock.timeouts[0] == 1.0  # the first bytes: the DIMSE timeout given
    assert sock.timeouts[1] == Timeouts().network  # the rest: the network timeout
