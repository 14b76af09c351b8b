"""The DIMSE-C service user: C-ECHO, C-STORE, C-FIND (with C-CANCEL), C-GET and C-MOVE (PS3.4, PS3.7).

>>> from dicomfast import net
>>> with net.connect("127.0.0.1", 4242, called_ae="ORTHANC") as assoc:  # doctest: +SKIP
...     assoc.echo()
...     for status, identifier in assoc.find({"PatientName": "A*", "StudyInstanceUID": ""}, level="STUDY"):
...         print(status, identifier)

Each service is written once, as a *flow*: a generator that yields actions (``send`` a message, ``recv`` a
message, ``emit`` a result to the caller) and receives their results. :class:`ClientAssociation` drives
flows over a blocking socket and :class:`dicomfast.net.aio.AsyncClientAssociation` drives the same flows
over asyncio, so both APIs behave the same.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import ssl
import struct
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomfast import uid
from dicomfast.dataset import Dataset, dcmread
from dicomfast.errors import DicomError, NetworkError
from dicomfast.net import dimse
from dicomfast.net.association import DEFAULT_MAX_PDU, Association, Message, Timeouts, request
from dicomfast.net.dimse import Status
from dicomfast.net.pdu import RoleSelection, UserIdentity
from dicomfast.net.server import StoreEvent, TempFileSink

__all__ = [
    "DEFAULT_CONTEXTS",
    "STORAGE_CLASSES",
    "UNCOMPRESSED",
    "ClientAssociation",
    "RetrieveResult",
    "connect",
    "storage_contexts",
]

Verification = "1.2.840.10008.1.1"
QR_MODELS: dict[str, dict[str, str]] = {
    "P": {
        "find": "1.2.840.10008.5.1.4.1.2.1.1",
        "move": "1.2.840.10008.5.1.4.1.2.1.2",
        "get": "1.2.840.10008.5.1.4.1.2.1.3",
    },
    "S": {
        "find": "1.2.840.10008.5.1.4.1.2.2.1",
        "move": "1.2.840.10008.5.1.4.1.2.2.2",
        "get": "1.2.840.10008.5.1.4.1.2.2.3",
    },
}
UNCOMPRESSED: list[str] = [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian]
"""The transfer syntaxes proposed by default: Explicit then Implicit VR Little Endian."""
_UNCOMPRESSED_ALL = {uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian}

STORAGE_CLASSES: list[str] = [
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image
    "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray (presentation)
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray (processing)
    "1.2.840.10008.5.1.4.1.1.1.2",  # Digital Mammography (presentation)
    "1.2.840.10008.5.1.4.1.1.1.2.1",  # Digital Mammography (processing)
    "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame
    "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word SC
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
    "1.2.840.10008.5.1.4.1.1.12.1",  # X-Ray Angiographic
    "1.2.840.10008.5.1.4.1.1.12.2",  # X-Ray Radiofluoroscopic
    "1.2.840.10008.5.1.4.1.1.20",  # Nuclear Medicine
    "1.2.840.10008.5.1.4.1.1.128",  # PET
    "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET
    "1.2.840.10008.5.1.4.1.1.481.1",  # RT Image
    "1.2.840.10008.5.1.4.1.1.481.2",  # RT Dose
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.481.5",  # RT Plan
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
    "1.2.840.10008.5.1.4.1.1.11.1",  # Grayscale Softcopy Presentation State
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation
    "1.2.840.10008.5.1.4.1.1.77.1.6",  # VL Whole Slide Microscopy
    "1.2.840.10008.5.1.4.1.1.13.1.3",  # Breast Tomosynthesis
    "1.2.840.10008.5.1.4.1.1.77.1.4",  # VL Photographic
]
"""Storage SOP classes proposed by default (with uncompressed transfer syntaxes and the SCP role for C-GET)."""

DEFAULT_CONTEXTS: list[tuple[str, list[str]]] = [
    (Verification, [uid.ImplicitVRLittleEndian]),
    *[(QR_MODELS[m][op], list(UNCOMPRESSED)) for m in ("P", "S") for op in ("find", "move", "get")],
    *[(s, list(UNCOMPRESSED)) for s in STORAGE_CLASSES],
]
"""Verification, the Patient and Study Root Q/R models, and :data:`STORAGE_CLASSES`: 41 contexts."""

ContextSpec = str | tuple[str, Iterable[str]]


def storage_contexts(sources: Iterable[str | os.PathLike[str] | tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Presentation contexts to store the given files (or ``(SOP class, transfer syntax)`` pairs).

    Each SOP class gets one context with the uncompressed transfer syntaxes, and every other transfer syntax
    seen (compressed, Implicit VR, big endian) gets a context of its own, so the peer can accept it without
    giving up the others, and a C-GET peer can send each object in the transfer syntax it was stored in.

    Parameters
    ----------
    sources : iterable
        Paths of Part 10 files (only their meta information is read) or ``(sop_class, transfer_syntax)``.

    Returns
    -------
    list of (abstract syntax, [transfer syntaxes])
        Ready for ``connect(contexts=...)``; add :data:`DEFAULT_CONTEXTS` for the other services.
    """
    out: list[tuple[str, list[str]]] = []
    seen: set[tuple[str, str]] = set()
    for src in sources:
        if isinstance(src, tuple):
            sop, ts = src
        else:
            sop, ts = file_classes(src)
        if not sop:
            continue
        if (sop, "") not in seen:
            seen.add((sop, ""))
            out.append((sop, list(UNCOMPRESSED)))
        if ts and ts != uid.ExplicitVRLittleEndian and (sop, ts) not in seen:
            seen.add((sop, ts))
            out.append((sop, [ts]))
    return out


def file_classes(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(SOP class UID, transfer syntax UID)`` of a file, reading only its header; ``("", "")`` if unreadable."""
    try:
        ds = dcmread(path, stop_before_pixels=True, specific_tags=[0x00080016])
    except (DicomError, OSError):
        return "", ""
    meta = ds.file_meta
    sop = str(ds.get("SOPClassUID") or meta.get("MediaStorageSOPClassUID") or "")
    return sop, str(meta.get("TransferSyntaxUID") or "")


def read_meta(data: bytes | memoryview | mmap.mmap) -> tuple[dict[int, str], int]:
    """The UI values of a Part 10 file's meta information group and the offset where the data set starts.

    Returns ``({}, -1)`` for bytes that have no preamble and ``DICM`` prefix.
    """
    mv = memoryview(data)
    if len(mv) < 132 or bytes(mv[128:132]) != b"DICM":
        return {}, -1
    pos, out = 132, {}
    while pos + 8 <= len(mv):
        group, el = struct.unpack_from("<HH", mv, pos)
        if group != 2:
            break
        vr = bytes(mv[pos + 4 : pos + 6])
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"):
            (n,) = struct.unpack_from("<L", mv, pos + 8)
            start = pos + 12
        else:
            (n,) = struct.unpack_from("<H", mv, pos + 6)
            start = pos + 8
        if start + n > len(mv):
            break
        if vr == b"UI":
            out[(group << 16) | el] = bytes(mv[start : start + n]).decode("ascii", "replace").rstrip("\0 ")
        pos = start + n
    return out, pos


def file_uids(data: bytes | mmap.mmap, path: Any = None) -> tuple[str, str, str, int]:
    """``(SOP class, SOP instance, transfer syntax, data set offset)`` of a Part 10 file's bytes.

    The SOP UIDs are the data set's own (0008,0016) and (0008,0018), which a peer checks against the
    C-STORE-RQ (a file's meta information may disagree with them); the meta's values fill in when absent.
    The offset is -1 for bytes without a preamble and ``DICM``.
    """
    info, offset = read_meta(data)
    if offset < 0:
        return "", "", "", -1
    src = path if path is not None else data if isinstance(data, bytes) else bytes(data)
    head = dcmread(src, stop_before_pixels=True, specific_tags=[0x00080016, 0x00080018])
    sop = str(head.get("SOPClassUID") or info.get(0x00020002, ""))
    inst = str(head.get("SOPInstanceUID") or info.get(0x00020003, ""))
    return sop, inst, info.get(0x00020010, ""), offset


def _encode(ds: Dataset, transfer_syntax: str) -> bytes:
    from dicomfast.filewriter import encode_dataset

    return encode_dataset(ds, transfer_syntax)


def _encode_identifier(ds: Dataset, transfer_syntax: str) -> bytes:
    """An identifier encoded by the core without the VR checks of stored objects.

    PS3.4 §C.2.2.2 allows ranges and wildcards in identifiers (``20040101-``, ``CT*``) that the VRs of stored
    objects forbid.
    """
    from dicomfast.filewriter import encode_dataset

    return encode_dataset(ds, transfer_syntax, validate=False)


def _as_dataset(query: Dataset | dict[str, Any]) -> Dataset:
    return query if isinstance(query, Dataset) else Dataset(dict(query))


def _decode(data: bytes | None, transfer_syntax: str) -> Dataset | None:
    if data is None:
        return None
    return dcmread(data, transfer_syntax=transfer_syntax)


@dataclass
class RetrieveResult:
    """The outcome of a C-GET or C-MOVE.

    Attributes
    ----------
    status : Status
        The final response's status (0x0000 success, 0xB000 warning: some sub-operations failed, …).
    completed, failed, warning, remaining : int
        The sub-operation counts of the final response (or of the last one that carried them).
    failed_instances : list[str]
        (0008,0058) *Failed SOP Instance UID List* from the final identifier, when present.
    received : list[Path]
        C-GET into a directory: the files written, in arrival order.
    responses : int
        How many C-GET/C-MOVE responses arrived (pending ones included).
    """

    status: Status
    completed: int = 0
    failed: int = 0
    warning: int = 0
    remaining: int = 0
    failed_instances: list[str] = field(default_factory=list)
    received: list[Path] = field(default_factory=list)
    responses: int = 0


# ------------------------------------------------------------------------------------------------ flows

Action = tuple[Any, ...]
Flow = Generator[Action, Any, Any]


class _Cancel(Exception):
    """Thrown into a C-FIND flow when the caller stops iterating: it then sends C-CANCEL-RQ."""


def _check_response(rsp: Message, expected: int, msg_id: int) -> Status:
    if rsp.command_field != expected:
        raise dimse.DimseError(f"expected {dimse.COMMAND_NAMES[expected]}, received {dimse.command_name(rsp.command)}")
    got = rsp.command.get(0x0120)
    if got != msg_id:
        raise dimse.DimseError(f"{dimse.COMMAND_NAMES[expected]} answers message {got}, not {msg_id}")
    if 0x0900 not in rsp.command:
        raise dimse.DimseError(f"{dimse.COMMAND_NAMES[expected]} without (0000,0900) Status")
    return Status(rsp.command[0x0900], rsp.command)


def echo_flow(assoc: Association) -> Flow:
    """C-ECHO (PS3.7 §9.1.5): one request, one response."""
    ctx = assoc.context_for(Verification)
    msg_id = assoc.next_message_id()
    yield ("send", ctx.context_id, {0x0002: Verification, 0x0100: dimse.C_ECHO_RQ, 0x0110: msg_id}, None)
    rsp = yield ("recv", assoc.timeouts.dimse, None)
    return _check_response(rsp, dimse.C_ECHO_RSP, msg_id)


_MMAP_ABOVE = 16 << 20  # files larger than this are sent from a read-only memory map, not read into memory


def prepare_store(assoc: Association, src: Any) -> tuple[int, str, str, bytes | memoryview, Any]:
    """Pick the presentation context for ``src`` and the bytes to send on it.

    ``src`` is a path, the bytes of a Part 10 file, or a :class:`~dicomfast.Dataset`. The data set is sent
    as stored when the peer accepted its transfer syntax; otherwise an uncompressed one is re-encoded
    through the core, and a compressed one is decompressed to Explicit VR Little Endian.

    Returns
    -------
    (context_id, sop_class_uid, sop_instance_uid, data, owner)
        ``owner`` is the memory map ``data`` points into (close it once sent), or ``None``.
    """
    owner: Any = None
    if isinstance(src, Dataset):
        ds: Dataset | None = src
        meta = src.file_meta
        sop = str(src.get("SOPClassUID") or meta.get("MediaStorageSOPClassUID") or "")
        inst = str(src.get("SOPInstanceUID") or meta.get("MediaStorageSOPInstanceUID") or "")
        ts = str(meta.get("TransferSyntaxUID") or src.original_transfer_syntax or uid.ExplicitVRLittleEndian)
        raw: bytes | memoryview | None = None
    else:
        data: bytes | mmap.mmap
        if isinstance(src, bytes | bytearray | memoryview):
            data = bytes(src)
        elif os.path.getsize(src) > _MMAP_ABOVE:
            with open(src, "rb") as f:
                data = owner = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        else:
            data = Path(src).read_bytes()
        try:
            sop, inst, ts, offset = file_uids(data, None if owner is None else src)
            if offset < 0:
                ds = dcmread(bytes(data), force=True)
                if owner is not None:
                    owner.close()
                return prepare_store(assoc, ds)
        except BaseException:
            if owner is not None:
                owner.close()
            raise
        ds = None
        raw = memoryview(data)[offset:]
    try:
        return (*_choose(assoc, sop, inst, ts, ds, raw), owner)
    except BaseException:
        if owner is not None:
            _close_map(raw, owner)
        raise


def _close_map(view: Any, owner: mmap.mmap) -> None:
    """Release a view into a memory map and close the map (left to the garbage collector if still exported)."""
    with contextlib.suppress(BufferError, AttributeError):
        view.release()
    with contextlib.suppress(BufferError):
        owner.close()


def _choose(
    assoc: Association, sop: str, inst: str, ts: str, ds: Dataset | None, raw: bytes | memoryview | None
) -> tuple[int, str, str, bytes | memoryview]:
    if not sop or not inst:
        raise NetworkError("cannot store a data set without (0008,0016) SOP Class UID and (0008,0018) SOP Instance UID")
    ctx = next(
        (c for c in assoc.contexts.values() if c.accepted and c.abstract_syntax == sop and c.transfer_syntax == ts),
        None,
    )
    if ctx is not None:
        if raw is not None and len(raw) % 2 and ts == uid.DeflatedExplicitVRLittleEndian:
            # PS3.5 §A.5: an odd-length deflated stream is padded with one NUL byte (DCMTK refuses odd fragments)
            raw = bytes(raw) + b"\0"
        if raw is None:
            assert ds is not None
            raw = _encode(ds, ts)
        return ctx.context_id, sop, inst, raw
    plain = [c for c in assoc.contexts.values() if c.accepted and c.abstract_syntax == sop]
    plain = [c for c in plain if c.transfer_syntax in _UNCOMPRESSED_ALL]
    if not plain:
        name = uid.UID(sop).name
        accepted = sorted(
            {c.transfer_syntax for c in assoc.contexts.values() if c.accepted and c.abstract_syntax == sop}
        )
        raise NetworkError(
            f"the peer accepted no context for {name} ({sop}) in {uid.UID(ts).name} ({ts}) nor in an "
            f"uncompressed transfer syntax (accepted: {accepted or 'none'}); "
            "propose one with connect(contexts=storage_contexts(...))"
        )
    target = next((c for c in plain if c.transfer_syntax == uid.ExplicitVRLittleEndian), plain[0])
    if ds is None:
        assert raw is not None
        ds = dcmread(bytes(raw), transfer_syntax=ts)
    if ts and uid.UID(ts).is_transfer_syntax and uid.UID(ts).is_encapsulated:
        ds = _decompressed(ds)
    return target.context_id, sop, inst, _encode(ds, target.transfer_syntax)


def _decompressed(ds: Dataset) -> Dataset:
    """``ds`` with its pixel data decompressed by the core (``dicomfast.decompress``), ready for a native syntax."""
    import dicomfast

    try:
        return dicomfast.decompress(ds)
    except (DicomError, AttributeError, NotImplementedError, ValueError) as e:
        raise NetworkError(f"cannot decompress the pixel data to send it uncompressed: {e}") from e


def store_flow(assoc: Association, src: Any, priority: int = 0) -> Flow:
    """C-STORE (PS3.7 §9.1.1) of one file or data set."""
    ctx_id, sop, inst, data, owner = prepare_store(assoc, src)
    msg_id = assoc.next_message_id()
    cmd = {0x0002: sop, 0x0100: dimse.C_STORE_RQ, 0x0110: msg_id, 0x0700: priority, 0x1000: inst}
    try:
        yield ("send", ctx_id, cmd, data)
    finally:
        if owner is not None:
            _close_map(data, owner)
    rsp = yield ("recv", assoc.timeouts.dimse, None)
    return _check_response(rsp, dimse.C_STORE_RSP, msg_id)


def _query(query: Dataset | dict[str, Any], level: str | None) -> Dataset:
    ds = _as_dataset(query)
    if level is not None:
        ds.QueryRetrieveLevel = level.upper()
    elif "QueryRetrieveLevel" not in ds:
        raise ValueError("give level= ('PATIENT', 'STUDY', 'SERIES' or 'IMAGE') or a QueryRetrieveLevel in the query")
    return ds


def _model(model: str, op: str) -> str:
    key = model.upper()[:1]
    if key in QR_MODELS:
        return QR_MODELS[key][op]
    return model  # a SOP class UID given directly


def find_flow(
    assoc: Association, query: Dataset | dict[str, Any], level: str | None, model: str, priority: int
) -> Flow:
    """C-FIND (PS3.7 §9.1.2): emits ``(status, identifier)`` per response; sends C-CANCEL when cancelled."""
    sop = _model(model, "find")
    ctx = assoc.context_for(sop)
    msg_id = assoc.next_message_id()
    identifier = _encode_identifier(_query(query, level), ctx.transfer_syntax)
    cmd = {0x0002: sop, 0x0100: dimse.C_FIND_RQ, 0x0110: msg_id, 0x0700: priority}
    yield ("send", ctx.context_id, cmd, identifier)
    cancelled = False
    while True:
        rsp = yield ("recv", assoc.timeouts.dimse, None)
        status = _check_response(rsp, dimse.C_FIND_RSP, msg_id)
        if cancelled:
            if not status.is_pending:
                return None
            continue
        result = (status, _decode(rsp.dataset, ctx.transfer_syntax) if status.is_pending else None)
        try:
            yield ("emit", result)
        except _Cancel:
            cancelled = True
            if status.is_pending:
                yield ("send", ctx.context_id, {0x0100: dimse.C_CANCEL_RQ, 0x0120: msg_id}, None)
        if not status.is_pending:
            return None


def _retrieve_result(status: Status, rsp: Message, ts: str, last: RetrieveResult | None) -> RetrieveResult:
    def count(el: int, prev: int) -> int:
        return int(rsp.command[el]) if el in rsp.command else prev

    r = RetrieveResult(status)
    if last is not None:
        r.completed, r.failed, r.warning, r.remaining = last.completed, last.failed, last.warning, last.remaining
        r.received, r.responses = last.received, last.responses
    r.remaining = count(0x1020, r.remaining if status.is_pending else 0)
    r.completed = count(0x1021, r.completed)
    r.failed = count(0x1022, r.failed)
    r.warning = count(0x1023, r.warning)
    r.responses += 1
    if rsp.dataset and not status.is_pending:
        with contextlib.suppress(DicomError):
            ident = _decode(rsp.dataset, ts)
            failed = ident.get("FailedSOPInstanceUIDList") if ident is not None else None
            if failed:
                r.failed_instances = list(failed) if isinstance(failed, list) else [str(failed)]
    return r


def move_flow(
    assoc: Association,
    query: Dataset | dict[str, Any],
    destination: str,
    level: str | None,
    model: str,
    priority: int,
    progress: Callable[[RetrieveResult], None] | None,
) -> Flow:
    """C-MOVE (PS3.7 §9.1.4) to the AE ``destination``; returns the final :class:`RetrieveResult`."""
    sop = _model(model, "move")
    ctx = assoc.context_for(sop)
    msg_id = assoc.next_message_id()
    identifier = _encode_identifier(_query(query, level), ctx.transfer_syntax)
    cmd = {0x0002: sop, 0x0100: dimse.C_MOVE_RQ, 0x0110: msg_id, 0x0700: priority, 0x0600: destination}
    yield ("send", ctx.context_id, cmd, identifier)
    result: RetrieveResult | None = None
    while True:
        rsp = yield ("recv", assoc.timeouts.dimse, None)
        status = _check_response(rsp, dimse.C_MOVE_RSP, msg_id)
        result = _retrieve_result(status, rsp, ctx.transfer_syntax, result)
        if progress is not None:
            yield ("call", progress, result)
        if not status.is_pending:
            return result


def get_flow(
    assoc: Association,
    query: Dataset | dict[str, Any],
    level: str | None,
    model: str,
    priority: int,
    directory: str | os.PathLike[str] | None,
    handler: Callable[[StoreEvent], int | None] | None,
    progress: Callable[[RetrieveResult], None] | None,
) -> Flow:
    """C-GET (PS3.7 §9.1.3): the C-STORE sub-operations arrive on this association (PS3.4 C.4.3)."""
    if (directory is None) == (handler is None):
        raise ValueError("give either directory= or handler= to receive the C-GET sub-operations")
    sop = _model(model, "get")
    ctx = assoc.context_for(sop)
    msg_id = assoc.next_message_id()
    identifier = _encode_identifier(_query(query, level), ctx.transfer_syntax)
    cmd = {0x0002: sop, 0x0100: dimse.C_GET_RQ, 0x0110: msg_id, 0x0700: priority}
    received: list[Path] = []
    sinks: list[TempFileSink] = []

    def sink(context_id: int, command: dict[int, Any]) -> TempFileSink | None:
        if directory is None or command.get(0x0100) != dimse.C_STORE_RQ or context_id not in assoc.contexts:
            return None
        s = TempFileSink(Path(directory), command, assoc.contexts[context_id].transfer_syntax, assoc.called_ae)
        sinks.append(s)
        return s

    yield ("send", ctx.context_id, cmd, identifier)
    result: RetrieveResult | None = None
    try:
        while True:
            msg = yield ("recv", assoc.timeouts.dimse, sink)
            if msg.command_field == dimse.C_STORE_RQ:
                yield ("send", msg.context_id, _store_sub(assoc, msg, handler, received), None)
                continue
            status = _check_response(msg, dimse.C_GET_RSP, msg_id)
            result = _retrieve_result(status, msg, ctx.transfer_syntax, result)
            result.received = received
            if progress is not None:
                yield ("call", progress, result)
            if not status.is_pending:
                return result
    finally:
        for s in sinks:
            s.discard()


def _store_sub(
    assoc: Association, msg: Message, handler: Callable[[StoreEvent], int | None] | None, received: list[Path]
) -> dict[int, Any]:
    """Handle one C-STORE-RQ sub-operation of a C-GET; returns the C-STORE-RSP command."""
    cmd = msg.command
    rsp = {
        0x0002: cmd.get(0x0002, ""),
        0x0100: dimse.C_STORE_RSP,
        0x0120: cmd.get(0x0110, 0),
        0x1000: cmd.get(0x1000, ""),
    }
    ctx = assoc.contexts.get(msg.context_id)
    if ctx is None or not ctx.scp_role:
        rsp[0x0900] = 0x0124  # refused: not authorized (no SCP role on this context)
        return rsp
    sink = msg.extra.get("sink")
    try:
        if isinstance(sink, TempFileSink):
            received.append(sink.commit())
            rsp[0x0900] = 0
        else:
            assert handler is not None
            event = StoreEvent(cmd, ctx.transfer_syntax, msg.dataset or b"", assoc.called_ae, assoc.calling_ae)
            code = handler(event)
            rsp[0x0900] = 0 if code is None else int(code)
    except Exception as e:  # a failing handler fails the sub-operation, not the association
        rsp[0x0900] = 0xA700 if isinstance(e, OSError) else 0xC211
        rsp[0x0902] = str(e)[:64]
    return rsp


# ----------------------------------------------------------------------------------------------- driver


class ClientAssociation:
    """A requestor's association, driving the service flows over a blocking socket.

    Obtain one with :func:`connect`; use it as a context manager (release on exit, abort on an exception).

    Attributes
    ----------
    assoc : Association
        The upper layer association: negotiated contexts (``assoc.contexts``), peer max length, timeouts.
    """

    def __init__(self, assoc: Association) -> None:
        self.assoc = assoc
        self._open_find: Generator[Any, None, Any] | None = None

    def __enter__(self) -> ClientAssociation:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.release()
        else:
            self.abort()

    def __repr__(self) -> str:
        return f"<ClientAssociation {self.assoc!r}>"

    @property
    def is_established(self) -> bool:
        """Whether the association is up."""
        return self.assoc.is_established

    @property
    def accepted_contexts(self) -> list[tuple[str, str]]:
        """``(abstract syntax, transfer syntax)`` of every accepted presentation context."""
        return [(c.abstract_syntax, c.transfer_syntax) for c in self.assoc.contexts.values() if c.accepted]

    def _finish_open_find(self) -> None:
        """Cancel a C-FIND whose generator was left unfinished, and drain its responses."""
        open_find, self._open_find = self._open_find, None
        if open_find is not None:
            open_find.close()

    def _drive(self, flow: Flow, cleanup: bool = True) -> Generator[Any, None, Any]:
        """Run a flow: perform its sends and receives, yield what it emits, return its result."""
        assoc = self.assoc
        if cleanup:
            self._finish_open_find()
        if not assoc.is_established:
            raise NetworkError("the association is not established (released or aborted)")
        value: Any = None
        throw: BaseException | None = None
        stopping = in_progress = False
        try:
            while True:
                try:
                    action = flow.throw(throw) if throw is not None else flow.send(value)
                except StopIteration as stop:
                    return stop.value
                throw, value = None, None
                kind = action[0]
                if kind == "send":
                    in_progress = True
                    assoc.send_message(action[1], action[2], action[3])
                elif kind == "recv":
                    value = assoc.recv_message(action[1], action[2])
                elif kind == "call":
                    action[1](action[2])
                elif kind == "emit" and not stopping:
                    try:
                        yield action[1]
                    except GeneratorExit:
                        stopping, throw = True, _Cancel()
        except dimse.DimseError:
            assoc.abort(2, 6)
            raise
        except BaseException:
            # a failure in the middle of an exchange leaves the peer mid-operation: abort (PS3.8 §7.3)
            if in_progress and assoc.is_established:
                assoc.abort()
            raise

    def _run(self, flow: Flow) -> Any:
        gen = self._drive(flow)
        try:
            while True:
                next(gen)
        except StopIteration as stop:
            return stop.value

    # --------------------------------------------------------------------------------------- services

    def echo(self) -> Status:
        """Send a C-ECHO-RQ and return the response's status (0x0000 on success)."""
        return self._run(echo_flow(self.assoc))  # type: ignore[no-any-return]

    def store(self, src: str | os.PathLike[str] | bytes | Dataset, priority: int = 0) -> Status:
        """C-STORE one file (path or bytes of a Part 10 file) or :class:`~dicomfast.Dataset`.

        Returns
        -------
        Status
            The C-STORE-RSP status: 0x0000 success, 0xB000/0xB007/0xB006 warnings, 0xA7xx/0xA9xx/0xCxxx failures.

        Raises
        ------
        NetworkError
            When no accepted context can carry the object (see :func:`storage_contexts`).
        """
        return self._run(store_flow(self.assoc, src, priority))  # type: ignore[no-any-return]

    def store_many(
        self,
        sources: Iterable[str | os.PathLike[str] | bytes | Dataset],
        progress: Callable[[int, Status], None] | None = None,
    ) -> list[Status]:
        """C-STORE each source in turn over this association; ``progress(i, status)`` after each."""
        out = []
        for i, src in enumerate(sources):
            st = self.store(src)
            out.append(st)
            if progress is not None:
                progress(i, st)
        return out

    def find(
        self,
        query: Dataset | dict[str, Any],
        level: str | None = None,
        model: str = "S",
        priority: int = 0,
    ) -> Iterator[tuple[Status, Dataset | None]]:
        """C-FIND: yield ``(status, identifier)`` for each response, as pynetdicom's ``send_c_find``.

        Parameters
        ----------
        query : Dataset or dict
            Matching keys with values and return keys empty, e.g. ``{"PatientName": "A*", "StudyDate": ""}``.
        level : str, optional
            ``PATIENT``, ``STUDY``, ``SERIES`` or ``IMAGE``; sets (0008,0052) *Query/Retrieve Level*.
        model : str
            ``"P"`` Patient Root, ``"S"`` Study Root, or a FIND SOP class UID.
        priority : int
            0 medium, 1 high, 2 low.

        Yields
        ------
        (Status, Dataset | None)
            Pending responses carry an identifier; the final one (success, cancel or failure) has ``None``.
            Leaving the loop early sends C-CANCEL-RQ and drains the remaining responses.
        """
        self._finish_open_find()
        gen = self._drive(find_flow(self.assoc, query, level, model, priority), cleanup=False)
        self._open_find = gen
        return gen

    def get(
        self,
        query: Dataset | dict[str, Any],
        level: str | None = None,
        model: str = "S",
        *,
        directory: str | os.PathLike[str] | None = None,
        handler: Callable[[StoreEvent], int | None] | None = None,
        progress: Callable[[RetrieveResult], None] | None = None,
        priority: int = 0,
    ) -> RetrieveResult:
        """C-GET: retrieve matching instances over this association.

        Each C-STORE sub-operation is written to ``directory`` as ``<SOPInstanceUID>.dcm`` (temporary name,
        renamed when complete) or passed to ``handler(event)``, which returns a C-STORE status (``None`` is
        success). The storage contexts must have been proposed with the SCP role (the default contexts are).
        """
        return self._run(  # type: ignore[no-any-return]
            get_flow(self.assoc, query, level, model, priority, directory, handler, progress)
        )

    def move(
        self,
        query: Dataset | dict[str, Any],
        destination: str,
        level: str | None = None,
        model: str = "S",
        *,
        progress: Callable[[RetrieveResult], None] | None = None,
        priority: int = 0,
    ) -> RetrieveResult:
        """C-MOVE matching instances to the AE title ``destination`` (which the peer must know)."""
        return self._run(  # type: ignore[no-any-return]
            move_flow(self.assoc, query, destination, level, model, priority, progress)
        )

    def release(self) -> None:
        """A-RELEASE the association (aborts if the peer does not answer within the ACSE timeout)."""
        self.assoc.release()

    def abort(self) -> None:
        """A-ABORT the association."""
        self.assoc.abort()


def _contexts(contexts: Iterable[ContextSpec] | None) -> list[tuple[str, list[str]]]:
    if contexts is None:
        return [(a, list(t)) for a, t in DEFAULT_CONTEXTS]
    out: list[tuple[str, list[str]]] = []
    for c in contexts:
        if isinstance(c, str):
            out.append((c, [str(uid.ImplicitVRLittleEndian)] if c == Verification else list(UNCOMPRESSED)))
        else:
            out.append((c[0], list(c[1])))
    return out


def _roles(contexts: list[tuple[str, list[str]]]) -> list[RoleSelection]:
    """SCU and SCP roles for every storage class proposed, so C-GET can deliver on them."""
    seen: dict[str, RoleSelection] = {}
    for a, _ in contexts:
        if a.startswith("1.2.840.10008.5.1.4.1.1.") and a not in seen:
            seen[a] = RoleSelection(a, True, True)
    return list(seen.values())


def connect(
    host: str,
    port: int,
    called_ae: str = "ANY-SCP",
    calling_ae: str = "DICOMFAST",
    *,
    timeout: float | None = 10.0,
    acse_timeout: float | None = 30.0,
    dimse_timeout: float | None = 30.0,
    network_timeout: float | None = 60.0,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    contexts: Iterable[ContextSpec] | None = None,
    roles: Iterable[RoleSelection] | None = None,
    max_pdu: int = DEFAULT_MAX_PDU,
    username: str | None = None,
    password: str | None = None,
) -> ClientAssociation:
    """Open an association with a DICOM peer.

    Parameters
    ----------
    host, port : str, int
        The peer's address.
    called_ae, calling_ae : str
        The peer's AE title and ours.
    timeout : float | None
        Connect (and TLS handshake) timeout, seconds.
    acse_timeout, dimse_timeout, network_timeout : float | None
        Association negotiation and release; each DIMSE response; an idle network in the middle of a PDU
        or message. ``None`` waits for ever. Each one aborts the association and raises ``TimeoutError``.
    tls : ssl.SSLContext, optional
        Use TLS; ``ssl.create_default_context(cafile=...)`` verifies the peer's certificate.
    server_hostname : str, optional
        Host name checked against the certificate (default ``host``).
    contexts : iterable, optional
        Proposed presentation contexts: abstract syntax UIDs (proposed with Explicit and Implicit VR Little
        Endian) or ``(abstract syntax, [transfer syntaxes])``. Default :data:`DEFAULT_CONTEXTS`.
    roles : iterable of RoleSelection, optional
        Role selection items; by default the SCU and SCP roles for every storage class proposed.
    max_pdu : int
        The maximum PDU length we receive.
    username, password : str, optional
        User identity negotiation (type 1 or 2).

    Returns
    -------
    ClientAssociation

    Raises
    ------
    ConnectionRefusedError, OSError, ssl.SSLError, TimeoutError
        Connection and TLS failures.
    AssociationRejectedError, AssociationAbortedError
        The peer refused the association; the message gives the reason.
    """
    ctx = _contexts(contexts)
    ident = None
    if username is not None:
        ident = UserIdentity(
            2 if password is not None else 1, username.encode("utf-8"), (password or "").encode("utf-8")
        )
    assoc = request(
        host,
        port,
        called_ae,
        calling_ae,
        ctx,
        _roles(ctx) if roles is None else list(roles),
        timeouts=Timeouts(timeout, acse_timeout, dimse_timeout, network_timeout),
        max_length=max_pdu,
        tls=tls,
        server_hostname=server_hostname,
        user_identity=ident,
    )
    return ClientAssociation(assoc)
