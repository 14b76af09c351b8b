"""Lenient reading: ``on_error="collect"`` / ``"warn"`` keep what is readable and list the faults."""

from __future__ import annotations

from pathlib import Path

import pytest

import dicomfast
from dicomfast.errors import DicomWarning
from tests.conftest import CORPUS

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"

# file -> (elements read, [(tag, offset, start of the message)])
PINNED = {
    PYDICOM_FILES / "MR_truncated.dcm": (72, [(0x7FE00010, 1488, "The value length 8192 exceeds the 8130 bytes")]),
    PYDICOM_FILES / "rtplan_truncated.dcm": (32, [(0x300A00B0, 1410, "The value length 976 exceeds the 711 bytes")]),
    PYDICOM_FILES / "dicomdirtests" / "DICOMDIR-nooffset": (5, [(0x00041220, 10860, "An item length 248 exceeds")]),
    CORPUS / "dcm4che__3gb-bulk-data-truncated.dcm": (
        89,
        [(0x7FE00010, 1908, "The value length 3221225472 exceeds the 98080 bytes")],
    ),
    CORPUS / "fodicom__GH179A.dcm": (56, [(0x00280120, 1398, "The value length 139296 exceeds the 1436 bytes")]),
    CORPUS / "fodicom__GH626.dcm": (25, [(0x00000000, 1080, "The value length 337256453 exceeds")]),
}


@pytest.mark.parametrize("path", list(PINNED), ids=[p.name for p in PINNED])
def test_damaged_files_list_their_faults(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with pytest.raises(dicomfast.ParseError):
        dicomfast.dcmread(path, force=True)
    ds = dicomfast.dcmread(path, force=True, on_error="collect")
    n, faults = PINNED[path]
    assert len(ds) == n
    assert [(e.tag, e.offset) for e in ds.errors] == [(t, o) for t, o, _ in faults]
    for e, (_, _, msg) in zip(ds.errors, faults, strict=True):
        assert e.message.startswith(msg), e.message
    for elem in ds.iterall():  # every value of what was read can be decoded
        _ = elem.value


def test_truncated_value_keeps_the_bytes_present() -> None:
    ds = dicomfast.dcmread(PYDICOM_FILES / "MR_truncated.dcm", on_error="collect")
    assert len(ds.PixelData) == 8130
    assert ds.Rows == 64
    with pytest.raises(dicomfast.DecodeError, match="8130"):
        _ = ds.pixel_array


def test_warn_mode_warns() -> None:
    with pytest.warns(DicomWarning, match="exceeds"):
        ds = dicomfast.dcmread(PYDICOM_FILES / "MR_truncated.dcm", on_error="warn")
    assert len(ds.errors) == 1


def test_clean_file_has_no_errors() -> None:
    ds = dicomfast.dcmread(get_testdata_file("CT_small.dcm"), on_error="collect")
    assert ds.errors == []
    assert dicomfast.dcmread(get_testdata_file("CT_small.dcm")).errors == []


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "emri_small_RLE.dcm"])
def test_collect_never_raises_on_truncation(name: str) -> None:
    data = Path(get_testdata_file(name)).read_bytes()
    for cut in range(140, len(data), 997):
        ds = dicomfast.dcmread(data[:cut], on_error="collect")
        for elem in ds.iterall():
            _ = elem.value


def test_bad_on_error_value() -> None:
    with pytest.raises(ValueError, match="on_error"):
        dicomfast.dcmread(get_testdata_file("CT_small.dcm"), on_error="ignore")
