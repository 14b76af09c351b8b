"""PDUs (PS3.8 §9.3) and DIMSE command sets (PS3.7 Annex E) against canonical bytes written out by hand."""

from __future__ import annotations

import struct

import pytest

from dicomfast.net import dimse, pdu
from dicomfast.net.association import AcceptedContext, MessageAssembler, pdata_pdus

# A-ASSOCIATE-RQ proposing Verification with Implicit VR Little Endian (PS3.8 §9.3.2)
RQ_ECHO = (
    b"\x01\x00\x00\x00\x00\xae"  # PDU type 0x01, reserved, PDU length 174
    b"\x00\x01\x00\x00"  # protocol version 1, reserved
    b"ECHOSCP         "  # called AE title, 16 bytes space-padded
    b"DICOMFAST       "  # calling AE title
    + bytes(32)  # reserved
    + b"\x10\x00\x00\x15"  # application context item, length 21
    b"1.2.840.10008.3.1.1.1"  # DICOM application context name
    b"\x20\x00\x00\x2e"  # presentation context item, length 46
    b"\x01\x00\x00\x00"  # context ID 1, reserved x3
    b"\x30\x00\x00\x11"  # abstract syntax sub-item, length 17
    b"1.2.840.10008.1.1"  # Verification SOP Class
    b"\x40\x00\x00\x11"  # transfer syntax sub-item, length 17
    b"1.2.840.10008.1.2"  # Implicit VR Little Endian
    b"\x50\x00\x00\x1b"  # user information item, length 27
    b"\x51\x00\x00\x04"  # maximum length sub-item
    b"\x00\x00\x40\x00"  # 16384
    b"\x52\x00\x00\x07"  # implementation class UID sub-item
    b"1.2.3.4"
    b"\x55\x00\x00\x04"  # implementation version name sub-item
    b"DF_1"
)

# A-ASSOCIATE-AC accepting context 1 with Implicit VR Little Endian, SCP role granted for CT (PS3.8 §9.3.3)
AC_ECHO = (
    b"\x02\x00\x00\x00\x00\xba"  # PDU type 0x02, PDU length 186
    b"\x00\x01\x00\x00"  # protocol version 1
    b"ECHOSCP         "
    b"DICOMFAST       " + bytes(32) + b"\x10\x00\x00\x15"
    b"1.2.840.10008.3.1.1.1"
    b"\x21\x00\x00\x19"  # presentation context item (AC), length 25
    b"\x01\x00\x00\x00"  # context ID 1, reserved, result 0 (acceptance), reserved
    b"\x40\x00\x00\x11"
    b"1.2.840.10008.1.2"
    b"\x50\x00\x00\x3c"  # user information item, length 60
    b"\x51\x00\x00\x04"
    b"\x00\x00\x40\x00"  # maximum length 16384
    b"\x52\x00\x00\x07"
    b"1.2.3.4"
    b"\x54\x00\x00\x1d"  # SCP/SCU role selection sub-item, length 29
    b"\x00\x19"  # UID length 25
    b"1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
    b"\x01\x01"  # SCU role, SCP role
    b"\x55\x00\x00\x04"
    b"DF_1"
)

RJ_CALLING_AE = b"\x03\x00\x00\x00\x00\x04\x00\x01\x01\x03"  # permanent, service user, calling AE not recognised
RELEASE_RQ = b"\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00"
RELEASE_RP = b"\x06\x00\x00\x00\x00\x04\x00\x00\x00\x00"
ABORT_PROVIDER_UNRECOGNISED = b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x01"  # source 2 provider, reason 1

# C-ECHO-RQ command set, Implicit VR Little Endian (PS3.7 §9.3.5)
ECHO_RQ_COMMAND = (
    b"\x00\x00\x00\x00\x04\x00\x00\x00\x38\x00\x00\x00"  # (0000,0000) UL 56: Command Group Length
    b"\x00\x00\x02\x00\x12\x00\x00\x00"  # (0000,0002) UI, 18 bytes: Affected SOP Class UID
    b"1.2.840.10008.1.1\x00"  # Verification, NUL-padded to even length
    b"\x00\x00\x00\x01\x02\x00\x00\x00\x30\x00"  # (0000,0100) US 0x0030: C-ECHO-RQ
    b"\x00\x00\x10\x01\x02\x00\x00\x00\x07\x00"  # (0000,0110) US 7: Message ID
    b"\x00\x00\x00\x08\x02\x00\x00\x00\x01\x01"  # (0000,0800) US 0x0101: no data set
)
PDATA_ECHO_RQ = (
    b"\x04\x00\x00\x00\x00\x4a"  # P-DATA-TF, PDU length 74
    b"\x00\x00\x00\x46"  # PDV item length 70
    b"\x01"  # presentation context ID 1
    b"\x03" + ECHO_RQ_COMMAND  # message control header: command, last fragment
)


def test_encode_associate_rq() -> None:
    rq = pdu.AAssociateRQ(
        "ECHOSCP",
        "DICOMFAST",
        [pdu.PresentationContextRQ(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])],
        max_length=16384,
        implementation_class_uid="1.2.3.4",
        implementation_version_name="DF_1",
    )
    assert pdu.encode(rq) == RQ_ECHO


def test_decode_associate_rq() -> None:
    pdu_type, length = pdu.parse_header(RQ_ECHO[:6], 16384)
    assert (pdu_type, length) == (1, len(RQ_ECHO) - 6)
    rq = pdu.decode(pdu_type, RQ_ECHO[6:])
    assert isinstance(rq, pdu.AAssociateRQ)
    assert (rq.called_ae, rq.calling_ae, rq.max_length) == ("ECHOSCP", "DICOMFAST", 16384)
    assert rq.contexts == [pdu.PresentationContextRQ(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])]
    assert (rq.implementation_class_uid, rq.implementation_version_name) == ("1.2.3.4", "DF_1")
    assert pdu.encode(rq) == RQ_ECHO


def test_associate_ac_round_trip() -> None:
    ac = pdu.AAssociateAC(
        "ECHOSCP",
        "DICOMFAST",
        [pdu.PresentationContextAC(1, 0, "1.2.840.10008.1.2")],
        max_length=16384,
        implementation_class_uid="1.2.3.4",
        implementation_version_name="DF_1",
        roles=[pdu.RoleSelection("1.2.840.10008.5.1.4.1.1.2", True, True)],
    )
    assert pdu.encode(ac) == AC_ECHO
    assert pdu.decode(2, AC_ECHO[6:]) == ac


def test_user_identity_round_trip() -> None:
    rq = pdu.AAssociateRQ(
        "A",
        "B",
        [pdu.PresentationContextRQ(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])],
        implementation_class_uid="1.2",
        user_identity=pdu.UserIdentity(2, b"alice", b"s3cret", True),
    )
    data = pdu.encode(rq)
    assert b"\x58\x00\x00\x11\x02\x01\x00\x05alice\x00\x06s3cret" in data  # PS3.7 D.3.3.7.1
    assert pdu.decode(1, data[6:]) == rq


def test_reject_release_abort_bytes() -> None:
    assert pdu.encode(pdu.AAssociateRJ(1, 1, 3)) == RJ_CALLING_AE
    rj = pdu.decode(3, RJ_CALLING_AE[6:])
    assert rj == pdu.AAssociateRJ(1, 1, 3)
    assert isinstance(rj, pdu.AAssociateRJ)
    assert pdu.reject_reason_text(rj) == (
        "association rejected permanently by the service user: calling AE title not recognised"
    )
    assert pdu.encode(pdu.AReleaseRQ()) == RELEASE_RQ
    assert pdu.encode(pdu.AReleaseRP()) == RELEASE_RP
    assert pdu.encode(pdu.AAbort(2, 1)) == ABORT_PROVIDER_UNRECOGNISED
    ab = pdu.decode(7, ABORT_PROVIDER_UNRECOGNISED[6:])
    assert isinstance(ab, pdu.AAbort)
    assert "unrecognised PDU" in pdu.abort_reason_text(ab)


def test_echo_command_and_pdata() -> None:
    cmd = {0x0002: "1.2.840.10008.1.1", 0x0100: dimse.C_ECHO_RQ, 0x0110: 7}
    assert dimse.encode_command({**cmd, 0x0800: dimse.NO_DATASET}) == ECHO_RQ_COMMAND
    assert list(pdata_pdus(1, cmd, None, 16384)) == [PDATA_ECHO_RQ]
    decoded = dimse.decode_command(ECHO_RQ_COMMAND)
    assert decoded == {0x0000: 56, **cmd, 0x0800: 0x0101}
    assert dimse.command_name(decoded) == "C-ECHO-RQ"
    p = pdu.decode(4, PDATA_ECHO_RQ[6:])
    assert p == pdu.PDataTF([(1, 3, ECHO_RQ_COMMAND)])


@pytest.mark.parametrize("peer_max", [0, 16384, 100, 64, 17])
def test_fragmentation_and_reassembly(peer_max: int) -> None:
    dataset = bytes(range(256)) * 40 + b"\x01"  # 10,241 bytes: odd on purpose
    cmd = {0x0002: "1.2.3", 0x0100: dimse.C_STORE_RQ, 0x0110: 1, 0x1000: "1.2.3.4"}
    pdus = list(pdata_pdus(3, cmd, dataset, peer_max))
    asm = MessageAssembler({3: AcceptedContext(3, "1.2.3", "1.2.840.10008.1.2")})
    msg = None
    for raw in pdus:
        pdu_type, length = pdu.parse_header(raw[:6], 0)
        assert pdu_type == 4
        assert length == len(raw) - 6
        if peer_max:
            assert length <= peer_max
        p = pdu.decode(4, raw[6:])
        assert isinstance(p, pdu.PDataTF)
        for _, control, data in p.pdvs:
            if not control & 2:
                assert len(data) % 2 == 0, "only the last fragment may have an odd length"
        out = asm.feed(p)
        if out is not None:
            msg = out
    assert msg is not None
    assert msg.dataset == dataset
    assert msg.command[0x1000] == "1.2.3.4"  # type: ignore[attr-defined]
    if peer_max in (0, 16384):
        assert len(pdus) == 1  # command and data set travel in one PDU, one write


def test_two_messages_in_one_pdu() -> None:
    one = next(iter(pdata_pdus(1, {0x0100: dimse.C_ECHO_RSP, 0x0120: 1, 0x0900: 0}, None, 0)))
    two = next(iter(pdata_pdus(1, {0x0100: dimse.C_ECHO_RSP, 0x0120: 2, 0x0900: 0}, None, 0)))
    body = one[6:] + two[6:]
    asm = MessageAssembler({1: AcceptedContext(1, "1.2.840.10008.1.1", "1.2.840.10008.1.2")})
    first = asm.feed(pdu.decode(4, body))
    assert first is not None
    assert first.command[0x0120] == 1
    second = asm.next_message()
    assert second is not None
    assert second.command[0x0120] == 2


def test_unknown_pdu_type() -> None:
    with pytest.raises(pdu.PDUError, match="unknown PDU type 0x09") as e:
        pdu.parse_header(b"\x09\x00\x00\x00\x00\x04", 16384)
    assert e.value.abort_reason == 1


def test_4gb_length_is_refused_before_reading() -> None:
    with pytest.raises(pdu.PDUError, match="length 4294967295 exceeds the maximum PDU length 16384"):
        pdu.parse_header(b"\x04\x00\xff\xff\xff\xff", 16384)
    with pytest.raises(pdu.PDUError, match="larger than 1 MiB"):
        pdu.parse_header(b"\x02\x00\xff\xff\xff\xff", 0)
    with pytest.raises(pdu.PDUError, match="A-ABORT length must be 4"):
        pdu.parse_header(b"\x07\x00\x00\x00\x01\x00", 0)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (AC_ECHO[6:-3], "item 0x50 at byte 122 declares 60 bytes but 57 remain"),  # runs past the PDU
        (AC_ECHO[6:74] + b"\x21\x00\x00\x02\x01\x00", "truncated presentation context item"),
        (AC_ECHO[6:74] + b"\x99\x00\x00\x00", "unexpected item type 0x99"),
        (AC_ECHO[6:74] + b"\x50\x00\x00\x06\x51\x00\x00\x02\x00\x00", "maximum length sub-item has 2 bytes"),
    ],
)
def test_lying_item_lengths(body: bytes, match: str) -> None:
    with pytest.raises(pdu.PDUError, match=match):
        pdu.decode(2, body)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"\x00\x00\x00\x40\x01\x03", "declares 64 bytes but 2 remain"),
        (b"\x00\x00\x00\x01\x01", "trailing bytes"),
    ],
)
def test_lying_pdv_lengths(body: bytes, match: str) -> None:
    with pytest.raises(pdu.PDUError, match=match):
        pdu.decode(4, body)


def test_command_errors() -> None:
    with pytest.raises(dimse.DimseError, match="declares 100 bytes"):
        dimse.decode_command(struct.pack("<HHL", 0, 0x0100, 100) + b"\x01\x00")
    with pytest.raises(dimse.DimseError, match=r"\(0008,0016\) is not in group 0000"):
        dimse.decode_command(struct.pack("<HHL", 8, 0x16, 0))


def test_status() -> None:
    st = dimse.Status(0xFF00, {0x0900: 0xFF00, 0x1020: 3})
    assert st == 0xFF00
    assert st.is_pending
    assert st.category == "Pending"
    assert st.NumberOfRemainingSuboperations == 3
    assert "ErrorComment" not in st
    with pytest.raises(AttributeError):
        _ = st.ErrorComment
    assert dimse.Status(0xB000).category == "Warning"
    assert dimse.Status(0xA801).category == "Failure"
    assert dimse.Status(0xFE00).category == "Cancel"
    assert dimse.Status(0).is_success
