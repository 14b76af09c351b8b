"""Writing data sets: value encoding and checks, the data set encoder, Part 10 files (PS3.10 §7).

Elements read from a file and left alone are copied by the core as they were (byte for byte when the
transfer syntax does not change); elements set from Python are checked against their VR and encoded here.
Files are written to a temporary name in the target folder and renamed into place, so a failed write leaves
no partial file.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import struct
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from dicomfast import _native
from dicomfast.dataset import DataElement, Dataset, FileMetaDataset, Sequence, Tag
from dicomfast.errors import InvalidValueError
from dicomfast.uid import (
    _TS,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

__all__ = ["dcmwrite", "encode_dataset", "encode_value"]

_PADDED_WITH_NUL = frozenset({"UI", "OB", "UN", "OD", "OF", "OL", "OV", "OW"})
_CHARSET_VRS = {"PN": "PN", "LO": "text", "SH": "text", "UC": "text", "LT": "long", "ST": "long", "UT": "long"}
_INT_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "UV": "Q", "SV": "q"}
_FLOAT_FORMATS = {"FL": "f", "FD": "d"}
_INT_RANGES = {
    "US": (0, 2**16 - 1),
    "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "UV": (0, 2**64 - 1),
    "SV": (-(2**63), 2**63 - 1),
}
# PS3.5 §6.2: maximum lengths of one value (in characters) and the characters allowed.
_MAX_LEN = {"AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "IS": 12, "LO": 64, "SH": 16, "TM": 14, "UI": 64}
_PATTERNS = {
    "DA": re.compile(r"^(\d{8})?(-(\d{8})?)?$|^\d{8}$"),
    "TM": re.compile(r"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?(-(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?$|^-\d{2}"),
    "UI": re.compile(r"^[0-9.]*$"),
    "CS": re.compile(r"^[A-Z0-9 _]*$"),
    "AS": re.compile(r"^\d{3}[DWMY]$"),
    "IS": re.compile(r"^ *[+-]?\d+ *$"),
    "DS": re.compile(r"^ *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *$"),
}


def _bad(tag: int, vr: str, value: Any, why: str) -> InvalidValueError:
    kw = _native.dictionary_entry(tag)
    name = f"{Tag(tag)} '{kw[3]}'" if kw and kw[3] else str(Tag(tag))
    return InvalidValueError(f"The {name} value {value!r} is not a valid {vr}: {why}")


def _format_ds(v: float, tag: int) -> str:
    """A DS string of at most 16 characters for a number (PS3.5 §6.2)."""
    if not math.isfinite(v):
        raise _bad(tag, "DS", v, "DS cannot hold NaN or infinity")
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    for prec in range(16, 0, -1):
        s = f"{v:.{prec}g}"
        if len(s) <= 16:
            return s
    raise _bad(tag, "DS", v, "cannot be written in 16 characters")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _check_text(tag: int, vr: str, items: list[str]) -> None:
    limit = _MAX_LEN.get(vr)
    pattern = _PATTERNS.get(vr)
    for s in items:
        if limit is not None and len(s) > limit:
            raise _bad(tag, vr, s, f"longer than the {limit} characters allowed (PS3.5 §6.2)")
        if pattern is not None and s and not pattern.match(s):
            what = {"DA": "not a date YYYYMMDD", "TM": "not a time HHMMSS.FFFFFF", "UI": "a UID holds digits and dots"}
            raise _bad(tag, vr, s, what.get(vr, "characters outside the VR's repertoire (PS3.5 §6.2)"))
        if "\\" in s and vr not in ("LT", "ST", "UT", "UR"):
            raise _bad(tag, vr, s, "a single value cannot contain a backslash (the value delimiter)")


def encode_value(elem: DataElement, charsets: list[str], big_endian: bool = False, validate: bool = True) -> bytes:
    """Encode an element's value for writing (padded to even length), after checking it fits its VR.

    With ``validate=False`` the checks of text values are skipped: query identifiers (PS3.4 §C.2.2.2) carry
    wildcards (``CT*``), ranges (``20040101-``) and lists that the VRs of stored objects forbid.

    Raises
    ------
    InvalidValueError
        The value is not valid for the VR (the message names the element and why).
    """
    vr, value, tag = elem.VR, elem.value, int(elem.tag)
    if value is None or (isinstance(value, str | bytes | list) and len(value) == 0 and vr != "SQ"):
        return b""
    end = ">" if big_endian else "<"
    if vr in _INT_FORMATS:
        items = _as_list(value)
        lo, hi = _INT_RANGES[vr]
        for v in items:
            if not isinstance(v, int) or not lo <= v <= hi:
                raise _bad(tag, vr, v, f"needs integers from {lo} to {hi}")  # struct could not pack it either
        return struct.pack(f"{end}{len(items)}{_INT_FORMATS[vr]}", *items)
    if vr in _FLOAT_FORMATS:
        items = [float(v) for v in _as_list(value)]
        return struct.pack(f"{end}{len(items)}{_FLOAT_FORMATS[vr]}", *items)
    if vr == "AT":
        out = b""
        for v in _as_list(value):
            t = Tag(v)
            out += struct.pack(f"{end}HH", t.group, t.element)
        return out
    if vr in ("OB", "OD", "OF", "OL", "OV", "OW", "UN"):
        if not isinstance(value, bytes | bytearray | memoryview):
            try:
                import numpy as np

                value = np.asarray(value).tobytes()
            except Exception as e:
                raise _bad(tag, vr, type(value).__name__, "binary VRs take bytes") from e
        b = bytes(value)
        return b + b"\0" if len(b) % 2 else b
    # text VRs
    items = _as_list(value)
    if vr == "DS":
        texts = [v if isinstance(v, str) else _format_ds(float(v), tag) for v in items]
    elif vr == "IS":
        texts = []
        for v in items:
            if isinstance(v, float) and v != int(v):
                raise _bad(tag, vr, v, "IS holds integers")
            texts.append(v if isinstance(v, str) else str(int(v)))
    else:
        texts = [str(v) for v in items]
    if validate:
        _check_text(tag, vr, texts)
    text = "\\".join(texts) if vr not in ("LT", "ST", "UT", "UR") else texts[0]
    kind = _CHARSET_VRS.get(vr)
    if kind is not None and charsets and not text.isascii():
        data = _native.encode_text(text, charsets, kind)
    else:
        try:
            data = text.encode("ascii" if kind is None else "latin-1")
        except UnicodeEncodeError:
            if kind is None:
                raise _bad(tag, vr, text, f"{vr} allows only the default character repertoire (ASCII)") from None
            raise _bad(
                tag, vr, text, "not encodable in the data set's Specific Character Set; set it to 'ISO_IR 192'"
            ) from None
    if len(data) % 2:
        data += b"\0" if vr in _PADDED_WITH_NUL else b" "
    return data


def _charsets_of(ds: Dataset, inherited: list[str]) -> list[str]:
    if "SpecificCharacterSet" in ds:
        v = ds.SpecificCharacterSet
        return [str(x) for x in v] if isinstance(v, list) else [str(v)]
    return inherited


def _is_modified(ds: Dataset) -> bool:
    """Whether ``ds`` differs from what its native handle holds.

    Elements set or deleted, or values changed in place: sequence items, the values of a multi-valued element.
    """
    if ds._native is None or ds._elements or ds._deleted:
        return True
    return next(_changed_in_place(ds), None) is not None


def _changed_in_place(ds: Dataset) -> Iterator[tuple[int, DataElement]]:
    """The values read from the file that were changed in place since, as elements to write instead.

    Lazily: the first one found is enough to say the data set changed. ``ds.ImageType[0] = "DERIVED"``,
    ``ds.BeamSequence[0].BeamName = ...``, items appended or removed.
    """
    native = ds._native
    if native is None:
        return
    for tag, v in ds._values.items():
        if tag in ds._elements:
            continue
        if isinstance(v, Sequence):
            if _is_modified_seq(ds, tag, v):
                yield tag, DataElement._make(tag, "SQ", v)
        elif isinstance(v, list) and v != native.get(tag, None):
            yield tag, DataElement._make(tag, str(native.vr(tag)), v)


def _encode_items(
    items: Iterable[Dataset], ts: str, charsets: list[str], explicit: bool, big_endian: bool, validate: bool = True
) -> bytes:
    out = bytearray()
    for item in items:
        if not isinstance(item, Dataset):
            raise InvalidValueError(f"Sequence items must be Datasets, not {type(item).__name__}")
        body = _encode(item, ts, charsets, explicit, big_endian, validate)
        out += struct.pack(">HHI" if big_endian else "<HHI", 0xFFFE, 0xE000, len(body))
        out += body
    return bytes(out)


def _encode(
    ds: Dataset, ts: str, inherited: list[str], explicit: bool, big_endian: bool, validate: bool = True
) -> bytes:
    charsets = _charsets_of(ds, inherited)
    native = ds._native
    overrides: dict[int, tuple[str, bytes, bool]] = {}
    elements: dict[int, DataElement] = dict(ds._elements)
    elements.update(_changed_in_place(ds))  # (tag, element) pairs
    for tag, elem in elements.items():
        if elem.VR == "SQ":
            items = _encode_items(elem.value or [], ts, charsets, explicit, big_endian, validate)
            overrides[tag] = ("SQ", items, False)
        elif tag == 0x7FE00010 and _TS.get(ts, ("", True, False, False, False))[4] and isinstance(elem.value, bytes):
            overrides[tag] = (elem.VR if elem.VR in ("OB", "OW") else "OB", elem.value, True)
        else:
            overrides[tag] = (elem.VR, encode_value(elem, charsets, big_endian, validate), False)
    if native is None:
        native = _EMPTY
    deleted = [t for t in ds._deleted if t not in overrides]
    return native.encode(overrides, deleted, explicit, big_endian)  # type: ignore[no-any-return]


def _is_modified_seq(ds: Dataset, tag: int, seq: Sequence) -> bool:
    """Whether a sequence read from the file had items added, removed, replaced or changed."""
    if len(seq) != int(ds._native.item_count(tag)):
        return True
    return any(not isinstance(item, Dataset) or _is_modified(item) for item in seq)


_EMPTY = _native.read_bytes(b"", False, None, True, None, "1.2.840.10008.1.2.1")


def encode_dataset(ds: Dataset, transfer_syntax: str = ExplicitVRLittleEndian, *, validate: bool = True) -> bytes:
    """The data set alone (no preamble, no file meta) encoded in ``transfer_syntax``.

    ``validate=False`` skips the checks of text values against their VR (for query identifiers, PS3.4
    §C.2.2.2: wildcards, ranges); values are still encoded as their VR says.

    An unmodified data set read in the same transfer syntax gives back the bytes it was read from. Deflated
    Explicit VR Little Endian is deflated (PS3.5 §A.5). Pixel data is written as it is held: changing between
    an encapsulated and a native transfer syntax needs ``Dataset.decompress`` / ``compress`` first.
    """
    ts = str(transfer_syntax)
    info = _TS.get(ts)
    explicit, big_endian, deflated = (info[1], info[2], info[3]) if info else (True, False, False)
    data = _encode(ds, ts, [], explicit, big_endian, validate)
    if deflated:
        import zlib

        c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = c.compress(data) + c.flush()
    return data


def _meta_bytes(ds: Dataset, ts: str) -> bytes:
    """Encode group 0002 with its group length (PS3.10 §7.1).

    The elements read are kept as they were; missing required ones and a changed transfer syntax are filled in.
    """
    src = ds.file_meta
    meta = FileMetaDataset._from_native(src._native) if src._native is not None else FileMetaDataset()
    meta._elements.update(src._elements)
    meta._deleted.update(src._deleted)
    meta._deleted.add(0x00020000)
    if 0x00020001 not in meta:
        meta[0x00020001] = DataElement(0x00020001, "OB", b"\x00\x01")
    if 0x00020002 not in meta and "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if 0x00020003 not in meta and "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if meta.get("TransferSyntaxUID") != ts:
        meta.TransferSyntaxUID = ts
    if 0x00020012 not in meta:
        meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    body = _encode(meta, ExplicitVRLittleEndian, [], True, False)
    return struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(body)) + body


def dcmwrite(
    fp: str | os.PathLike[str] | BinaryIO,
    ds: Dataset,
    transfer_syntax: str | None = None,
    *,
    write_like_original: bool = False,
    implicit_vr: bool | None = None,
    little_endian: bool | None = None,
    enforce_file_format: bool = True,
    overwrite: bool = True,
) -> None:
    """Write ``ds`` as a DICOM Part 10 file (preamble, "DICM", file meta, data set).

    Parameters
    ----------
    fp : str, PathLike or binary file object
        Where to write. Paths are written to a temporary file in the same folder and renamed into place.
    ds : Dataset
        The data set; its ``file_meta`` is kept, with (0002,0000), (0002,0001), (0002,0002), (0002,0003),
        (0002,0010), (0002,0012) and (0002,0013) filled in when missing.
    transfer_syntax : str, optional
        Target transfer syntax (default: the file meta's, else the one read, else Explicit VR Little Endian).
    write_like_original : bool
        Write only the data set (no preamble, no meta), as pydicom's option of the same name.
    implicit_vr, little_endian : bool, optional
        pydicom 3's way to choose the encoding, instead of ``transfer_syntax``: Implicit or Explicit VR Little
        Endian, or Explicit VR Big Endian. A data set with compressed pixel data keeps its transfer syntax
        when it is explicit VR little endian, as the arguments then ask.
    enforce_file_format : bool
        Accepted for pydicom 3's signature: the file meta is always completed, so the file always conforms.
    overwrite : bool
        With ``False``, a path that exists already raises ``FileExistsError`` and is left as it is.
    """
    if isinstance(transfer_syntax, bool):
        # pydicom's third positional argument was write_like_original
        write_like_original, transfer_syntax = transfer_syntax, None
    if implicit_vr is not None or little_endian is not None:
        if transfer_syntax is not None:
            raise ValueError("Give the encoding as transfer_syntax or as implicit_vr / little_endian, not both")
        implicit = bool(implicit_vr)
        little = True if little_endian is None else bool(little_endian)
        if implicit and not little:
            raise ValueError("Implicit VR Big Endian is not a DICOM transfer syntax (PS3.5 §10)")
        current = str(ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax or "")
        if not implicit and little and _TS.get(current, ("", True, False, False, False))[4]:
            transfer_syntax = current  # compressed pixel data: explicit VR little endian already
        elif implicit:
            transfer_syntax = ImplicitVRLittleEndian
        else:
            transfer_syntax = ExplicitVRLittleEndian if little else ExplicitVRBigEndian
    ts = transfer_syntax or ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax
    ts = str(ts or ExplicitVRLittleEndian)
    body = encode_dataset(ds, ts)
    if write_like_original:
        parts = [body]
    else:
        preamble = ds.preamble or b"\0" * 128
        parts = [preamble[:128].ljust(128, b"\0") + b"DICM" + _meta_bytes(ds, ts), body]
    if isinstance(fp, str | os.PathLike):
        _atomic_write(os.fspath(fp), parts, overwrite)
    else:
        for part in parts:
            fp.write(part)


def _atomic_write(path: str, parts: list[bytes], overwrite: bool = True) -> None:
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(errno.EEXIST, "File exists (overwrite=False)", path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".dicomfast-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
        # The rename makes the file appear whole or not at all (no fsync: durability across a power loss is
        # the file system's, as for other writers). Without overwrite, a link that fails when the path
        # appeared meanwhile keeps the other writer's file.
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _save_as(
    self: Dataset, filename: str | os.PathLike[str] | BinaryIO, transfer_syntax: str | None = None, **kwargs: Any
) -> None:
    """Write the data set to ``filename`` (see :func:`dcmwrite`)."""
    dcmwrite(filename, self, transfer_syntax, **kwargs)


Dataset.save_as = _save_as  # type: ignore[attr-defined]
