"""Upper layer protocol data units (PS3.8 §9.3): encoding and decoding, with no I/O.

Every PDU starts with a 6-byte header::

    +------+----------+----------------------+
    | type | reserved | length (uint32, BE)  |   then `length` bytes of PDU body
    +------+----------+----------------------+

:func:`encode` turns a PDU object into the bytes of one PDU (header included) so that the transport sends
each PDU with one write; :func:`decode` parses one PDU body whose header has already been read and checked
by :func:`parse_header`. Lengths declared inside the body are checked against the bytes that remain, so a
lying length gives :class:`PDUError`, never an over-read or a large allocation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from dicomfast.errors import NetworkError

__all__ = [
    "APPLICATION_CONTEXT",
    "PDU",
    "AAbort",
    "AAssociateAC",
    "AAssociateRJ",
    "AAssociateRQ",
    "AReleaseRP",
    "AReleaseRQ",
    "PDUError",
    "PDataTF",
    "PresentationContextAC",
    "PresentationContextRQ",
    "RoleSelection",
    "UserIdentity",
    "abort_reason_text",
    "decode",
    "decode_pdvs",
    "encode",
    "parse_header",
    "reject_reason_text",
]

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
"""The DICOM application context name (PS3.7 Annex A.2.1)."""

A_ASSOCIATE_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ, P_DATA_TF, A_RELEASE_RQ, A_RELEASE_RP, A_ABORT = range(1, 8)
PDU_NAMES = {
    1: "A-ASSOCIATE-RQ",
    2: "A-ASSOCIATE-AC",
    3: "A-ASSOCIATE-RJ",
    4: "P-DATA-TF",
    5: "A-RELEASE-RQ",
    6: "A-RELEASE-RP",
    7: "A-ABORT",
}

_HEADER = struct.Struct(">BxL")


class PDUError(NetworkError):
    """A PDU that breaks PS3.8: unknown type, impossible length, malformed item.

    Attributes
    ----------
    abort_reason : int
        The A-ABORT reason (PS3.8 Table 9-26) to send to the peer before closing: 1 unrecognized PDU,
        2 unexpected PDU, 4 unrecognized PDU parameter, 6 invalid PDU parameter value.
    """

    def __init__(self, message: str, abort_reason: int = 6) -> None:
        super().__init__(message)
        self.abort_reason = abort_reason


# ------------------------------------------------------------------------------------------- PDU types


@dataclass
class PresentationContextRQ:
    """A proposed presentation context: one abstract syntax and the transfer syntaxes offered for it."""

    context_id: int
    abstract_syntax: str
    transfer_syntaxes: list[str]


@dataclass
class PresentationContextAC:
    """The acceptor's answer for one presentation context.

    ``result`` is 0 acceptance, 1 user rejection, 2 no reason, 3 abstract syntax not supported,
    4 transfer syntaxes not supported (PS3.8 Table 9-18).
    """

    context_id: int
    result: int
    transfer_syntax: str = ""


@dataclass
class RoleSelection:
    """SCP/SCU role selection sub-item (PS3.7 Annex D.3.3.4) for one SOP class."""

    sop_class_uid: str
    scu_role: bool
    scp_role: bool


@dataclass
class UserIdentity:
    """User identity negotiation (PS3.7 Annex D.3.3.7).

    ``identity_type``: 1 username, 2 username and passcode, 3 Kerberos, 4 SAML, 5 JWT.
    """

    identity_type: int
    primary: bytes
    secondary: bytes = b""
    positive_response_requested: bool = False


@dataclass
class AAssociateRQ:
    """A-ASSOCIATE-RQ (type 0x01)."""

    called_ae: str
    calling_ae: str
    contexts: list[PresentationContextRQ]
    max_length: int = 16384
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    roles: list[RoleSelection] = field(default_factory=list)
    user_identity: UserIdentity | None = None
    application_context: str = APPLICATION_CONTEXT
    protocol_version: int = 1


@dataclass
class AAssociateAC:
    """A-ASSOCIATE-AC (type 0x02)."""

    called_ae: str
    calling_ae: str
    contexts: list[PresentationContextAC]
    max_length: int = 16384
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    roles: list[RoleSelection] = field(default_factory=list)
    user_identity_response: bytes | None = None
    application_context: str = APPLICATION_CONTEXT
    protocol_version: int = 1


@dataclass
class AAssociateRJ:
    """A-ASSOCIATE-RJ (type 0x03): result 1 permanent / 2 transient, source 1-3, reason (PS3.8 Table 9-21)."""

    result: int
    source: int
    reason: int


@dataclass
class PDataTF:
    """P-DATA-TF (type 0x04): presentation data values ``(context_id, control, data)``.

    ``control`` is the message control header: bit 0 set for a command fragment, bit 1 set for the last
    fragment of the command or data set (PS3.8 Annex E.2).
    """

    pdvs: list[tuple[int, int, bytes]]


@dataclass
class AReleaseRQ:
    """A-RELEASE-RQ (type 0x05)."""


@dataclass
class AReleaseRP:
    """A-RELEASE-RP (type 0x06)."""


@dataclass
class AAbort:
    """A-ABORT (type 0x07): source 0 service user, 2 service provider; reason (PS3.8 Table 9-26)."""

    source: int = 0
    reason: int = 0


PDU = AAssociateRQ | AAssociateAC | AAssociateRJ | PDataTF | AReleaseRQ | AReleaseRP | AAbort

# --------------------------------------------------------------------------------------------- reasons

_REJECT_REASONS = {
    (1, 1): "no reason given",
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognised",
    (1, 7): "called AE title not recognised",
    (2, 1): "no reason given",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
}
_REJECT_SOURCES = {
    1: "the service user",
    2: "the service provider (ACSE)",
    3: "the service provider (presentation)",
}
_ABORT_REASONS = {
    0: "reason not specified",
    1: "unrecognised PDU",
    2: "unexpected PDU",
    4: "unrecognised PDU parameter",
    5: "unexpected PDU parameter",
    6: "invalid PDU parameter value",
}


def reject_reason_text(rj: AAssociateRJ) -> str:
    """A sentence naming the result, source and reason of an A-ASSOCIATE-RJ (PS3.8 Table 9-21)."""
    kind = {1: "permanently", 2: "transiently"}.get(rj.result, f"(result {rj.result})")
    source = _REJECT_SOURCES.get(rj.source, f"source {rj.source}")
    reason = _REJECT_REASONS.get((rj.source, rj.reason), f"reason {rj.reason}")
    return f"association rejected {kind} by {source}: {reason}"


def abort_reason_text(ab: AAbort) -> str:
    """A sentence naming the source and reason of an A-ABORT (PS3.8 Table 9-26)."""
    if ab.source == 2:
        return f"association aborted by the peer's service provider: {_ABORT_REASONS.get(ab.reason, ab.reason)}"
    return "association aborted by the peer (service user)"


# -------------------------------------------------------------------------------------------- encoding


def _ae(title: str) -> bytes:
    raw = title.encode("ascii")
    if not 0 < len(raw.strip()) <= 16:
        raise ValueError(f"AE title {title!r} must have 1 to 16 characters")
    return raw.ljust(16, b" ")


def _item(item_type: int, body: bytes) -> bytes:
    return struct.pack(">BxH", item_type, len(body)) + body


def _uid(u: str) -> bytes:
    return u.encode("ascii")


def _user_info(
    max_length: int, impl_uid: str, impl_version: str, roles: list[RoleSelection], extra: bytes = b""
) -> bytes:
    sub = [_item(0x51, struct.pack(">L", max_length))]
    sub.append(_item(0x52, _uid(impl_uid)))
    for r in roles:
        u = _uid(r.sop_class_uid)
        sub.append(_item(0x54, struct.pack(">H", len(u)) + u + bytes((int(r.scu_role), int(r.scp_role)))))
    if impl_version:
        sub.append(_item(0x55, impl_version.encode("ascii")))
    sub.append(extra)
    return _item(0x50, b"".join(sub))


def _associate(pdu_type: int, version: int, called: str, calling: str, items: list[bytes]) -> bytes:
    body = struct.pack(">HH", version, 0) + _ae(called) + _ae(calling) + bytes(32) + b"".join(items)
    return _HEADER.pack(pdu_type, len(body)) + body


def encode(pdu: PDU) -> bytes:
    """The bytes of one PDU, header included.

    Parameters
    ----------
    pdu : PDU
        Any of the seven PDU classes.

    Returns
    -------
    bytes
        The complete PDU, ready for one write.
    """
    if isinstance(pdu, PDataTF):
        parts = []
        for ctx, control, data in pdu.pdvs:
            parts.append(struct.pack(">LBB", len(data) + 2, ctx, control))
            parts.append(data)
        body = b"".join(parts)
        return _HEADER.pack(P_DATA_TF, len(body)) + body
    if isinstance(pdu, AAssociateRQ):
        items = [_item(0x10, _uid(pdu.application_context))]
        for pc in pdu.contexts:
            sub = _item(0x30, _uid(pc.abstract_syntax)) + b"".join(_item(0x40, _uid(t)) for t in pc.transfer_syntaxes)
            items.append(_item(0x20, bytes((pc.context_id, 0, 0, 0)) + sub))
        extra = b""
        if pdu.user_identity is not None:
            ui = pdu.user_identity
            extra = _item(
                0x58,
                bytes((ui.identity_type, int(ui.positive_response_requested)))
                + struct.pack(">H", len(ui.primary))
                + ui.primary
                + struct.pack(">H", len(ui.secondary))
                + ui.secondary,
            )
        items.append(
            _user_info(pdu.max_length, pdu.implementation_class_uid, pdu.implementation_version_name, pdu.roles, extra)
        )
        return _associate(A_ASSOCIATE_RQ, pdu.protocol_version, pdu.called_ae, pdu.calling_ae, items)
    if isinstance(pdu, AAssociateAC):
        items = [_item(0x10, _uid(pdu.application_context))]
        for ac in pdu.contexts:
            ts = _item(0x40, _uid(ac.transfer_syntax)) if ac.transfer_syntax else b""
            items.append(_item(0x21, bytes((ac.context_id, 0, ac.result, 0)) + ts))
        extra = b""
        if pdu.user_identity_response is not None:
            r = pdu.user_identity_response
            extra = _item(0x59, struct.pack(">H", len(r)) + r)
        items.append(
            _user_info(pdu.max_length, pdu.implementation_class_uid, pdu.implementation_version_name, pdu.roles, extra)
        )
        return _associate(A_ASSOCIATE_AC, pdu.protocol_version, pdu.called_ae, pdu.calling_ae, items)
    if isinstance(pdu, AAssociateRJ):
        return _HEADER.pack(A_ASSOCIATE_RJ, 4) + bytes((0, pdu.result, pdu.source, pdu.reason))
    if isinstance(pdu, AReleaseRQ):
        return _HEADER.pack(A_RELEASE_RQ, 4) + bytes(4)
    if isinstance(pdu, AReleaseRP):
        return _HEADER.pack(A_RELEASE_RP, 4) + bytes(4)
    if isinstance(pdu, AAbort):
        return _HEADER.pack(A_ABORT, 4) + bytes((0, 0, pdu.source, pdu.reason))
    raise TypeError(f"not a PDU: {pdu!r}")


def encode_pdata_header(length: int) -> bytes:
    """The 6-byte header of a P-DATA-TF PDU whose PDV items take ``length`` bytes."""
    return _HEADER.pack(P_DATA_TF, length)


# -------------------------------------------------------------------------------------------- decoding


def parse_header(header: bytes, max_length: int) -> tuple[int, int]:
    """Check a 6-byte PDU header and return ``(pdu_type, length)``.

    Parameters
    ----------
    header : bytes
        The first six bytes of a PDU.
    max_length : int
        The largest body accepted for a P-DATA-TF PDU (the maximum length this side announced, 0 for no
        limit); other PDU types are capped at 1 MiB, far more than any real association PDU needs.

    Raises
    ------
    PDUError
        For an unknown PDU type or a length this side will not read.
    """
    pdu_type, length = _HEADER.unpack(header)
    if pdu_type not in PDU_NAMES:
        raise PDUError(f"unknown PDU type 0x{pdu_type:02x} (PS3.8 §9.3 defines 0x01 to 0x07)", abort_reason=1)
    name = PDU_NAMES[pdu_type]
    if pdu_type == P_DATA_TF:
        if max_length and length > max_length:
            raise PDUError(
                f"{name} length {length} exceeds the maximum PDU length {max_length} this side announced "
                "(limit max_pdu: raise it with net.connect(..., max_pdu=N) or StorageServer(..., max_pdu=N))",
                6,
            )
    elif pdu_type in (A_ASSOCIATE_RQ, A_ASSOCIATE_AC):
        if length > 1 << 20:
            raise PDUError(f"{name} length {length} is larger than 1 MiB: refusing to read it", 6)
        if length < 68:
            raise PDUError(f"{name} length {length} is shorter than its 68-byte fixed fields", 6)
    elif length != 4:
        raise PDUError(f"{name} length must be 4, not {length}", 6)
    return pdu_type, length


def _items(body: bytes | memoryview, start: int, ctx: str) -> list[tuple[int, memoryview]]:
    """Split ``body[start:]`` into (item type, item body) pairs, checking each declared length."""
    mv = memoryview(body)
    out = []
    pos = start
    end = len(mv)
    while pos < end:
        if end - pos < 4:
            raise PDUError(f"{ctx}: {end - pos} trailing bytes cannot hold an item header")
        item_type = mv[pos]
        (n,) = struct.unpack_from(">H", mv, pos + 2)
        if pos + 4 + n > end:
            raise PDUError(f"{ctx}: item 0x{item_type:02x} at byte {pos} declares {n} bytes but {end - pos - 4} remain")
        out.append((item_type, mv[pos + 4 : pos + 4 + n]))
        pos += 4 + n
    return out


def _text(b: memoryview) -> str:
    try:
        return bytes(b).decode("ascii").rstrip("\0 ").lstrip(" ")
    except UnicodeDecodeError:
        raise PDUError(f"non-ASCII characters in a UID or AE title: {bytes(b)!r}") from None


def _decode_user_info(body: memoryview, out: dict[str, object]) -> None:
    roles: list[RoleSelection] = []
    out["roles"] = roles
    for t, b in _items(body, 0, "user information item"):
        if t == 0x51:
            if len(b) != 4:
                raise PDUError(f"maximum length sub-item has {len(b)} bytes, not 4")
            out["max_length"] = struct.unpack(">L", b)[0]
        elif t == 0x52:
            out["implementation_class_uid"] = _text(b)
        elif t == 0x55:
            out["implementation_version_name"] = _text(b)
        elif t == 0x54:
            if len(b) < 2:
                raise PDUError("truncated SCP/SCU role selection sub-item")
            (n,) = struct.unpack_from(">H", b, 0)
            if len(b) != n + 4:
                raise PDUError(f"role selection sub-item declares a {n}-byte UID in {len(b)} bytes")
            roles.append(RoleSelection(_text(b[2 : 2 + n]), bool(b[2 + n]), bool(b[3 + n])))
        elif t == 0x58:
            if len(b) < 6:
                raise PDUError("truncated user identity sub-item")
            (n1,) = struct.unpack_from(">H", b, 2)
            if 4 + n1 + 2 > len(b):
                raise PDUError("user identity primary field runs past its sub-item")
            (n2,) = struct.unpack_from(">H", b, 4 + n1)
            if 6 + n1 + n2 > len(b):
                raise PDUError("user identity secondary field runs past its sub-item")
            out["user_identity"] = UserIdentity(b[0], bytes(b[4 : 4 + n1]), bytes(b[6 + n1 : 6 + n1 + n2]), bool(b[1]))
        elif t == 0x59:
            if len(b) < 2:
                raise PDUError("truncated user identity response sub-item")
            (n,) = struct.unpack_from(">H", b, 0)
            out["user_identity_response"] = bytes(b[2 : 2 + n])
        # 0x53 asynchronous operations window, 0x56/0x57 extended negotiation: not used, ignored (PS3.7 D.3.3)


_PDV_HEADER = struct.Struct(">LBB")


def decode_pdvs(mv: memoryview, start: int, end: int, out: list[tuple[int, int, bytes]] | Any) -> None:
    """Append the PDV items of the P-DATA-TF body ``mv[start:end]`` to ``out`` as ``(context_id, control, data)``.

    ``out`` is anything with ``append`` (the receiver passes its message queue, so that no intermediate
    list or :class:`PDataTF` is built for each PDU).

    Raises
    ------
    PDUError
        When an item's declared length is shorter than its header or runs past ``end``.
    """
    unpack = _PDV_HEADER.unpack_from
    append = out.append
    pos = start
    while pos < end:
        if end - pos < 6:
            raise PDUError(f"P-DATA-TF: {end - pos} trailing bytes cannot hold a PDV item header")
        n, context_id, control = unpack(mv, pos)
        if n < 2 or pos + 4 + n > end:
            raise PDUError(f"P-DATA-TF: PDV item at byte {pos - start} declares {n} bytes but {end - pos - 4} remain")
        append((context_id, control, bytes(mv[pos + 6 : pos + 4 + n])))
        pos += 4 + n


def decode(pdu_type: int, body: bytes | memoryview) -> PDU:
    """Decode the body of one PDU whose header :func:`parse_header` accepted.

    Raises
    ------
    PDUError
        When an item's declared length runs past the PDU or a mandatory field is malformed.
    """
    mv = memoryview(body)
    if pdu_type == P_DATA_TF:
        pdvs: list[tuple[int, int, bytes]] = []
        decode_pdvs(mv, 0, len(mv), pdvs)
        return PDataTF(pdvs)
    if pdu_type in (A_ASSOCIATE_RQ, A_ASSOCIATE_AC):
        name = PDU_NAMES[pdu_type]
        (version,) = struct.unpack_from(">H", mv, 0)
        called, calling = _text(mv[4:20]), _text(mv[20:36])
        fields: dict[str, object] = {}
        app = ""
        rq_contexts: list[PresentationContextRQ] = []
        ac_contexts: list[PresentationContextAC] = []
        for t, b in _items(mv, 68, name):
            if t == 0x10:
                app = _text(b)
            elif t == 0x20 and pdu_type == A_ASSOCIATE_RQ:
                if len(b) < 4:
                    raise PDUError("truncated presentation context item")
                abstract, ts = "", []
                for st, sb in _items(b, 4, "presentation context item"):
                    if st == 0x30:
                        abstract = _text(sb)
                    elif st == 0x40:
                        ts.append(_text(sb))
                rq_contexts.append(PresentationContextRQ(b[0], abstract, ts))
            elif t == 0x21 and pdu_type == A_ASSOCIATE_AC:
                if len(b) < 4:
                    raise PDUError("truncated presentation context item")
                sub = _items(b, 4, "presentation context item")
                ts_uid = next((_text(sb) for st, sb in sub if st == 0x40), "")
                ac_contexts.append(PresentationContextAC(b[0], b[2], ts_uid))
            elif t == 0x50:
                _decode_user_info(b, fields)
            else:
                raise PDUError(f"{name}: unexpected item type 0x{t:02x}", abort_reason=4)
        common: dict[str, Any] = {"application_context": app, "protocol_version": version, **fields}
        if pdu_type == A_ASSOCIATE_RQ:
            return AAssociateRQ(called, calling, rq_contexts, **common)
        return AAssociateAC(called, calling, ac_contexts, **common)
    if pdu_type == A_ASSOCIATE_RJ:
        return AAssociateRJ(mv[1], mv[2], mv[3])
    if pdu_type == A_RELEASE_RQ:
        return AReleaseRQ()
    if pdu_type == A_RELEASE_RP:
        return AReleaseRP()
    if pdu_type == A_ABORT:
        return AAbort(mv[2], mv[3])
    raise PDUError(f"unknown PDU type 0x{pdu_type:02x}", abort_reason=1)
