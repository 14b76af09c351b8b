"""Overlay planes ((60xx,3000) Overlay Data, PS3.3 §C.9.2) against pydicom's ``overlay_array``."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomfast
from tests.conftest import all_files, file_id

pydicom = pytest.importorskip("pydicom")


def _planes() -> list[tuple[Path, int]]:
    out = []
    for p in all_files():
        try:
            ds = dicomfast.dcmread(p, force=True, stop_before_pixels=True)
        except dicomfast.DicomError:
            continue
        out += [(p, t >> 16) for t in ds.keys() if t & 0xFFFF == 0x3000 and 0x6000 <= t >> 16 <= 0x601E]
    return out


PLANES = _planes()


def test_corpora_hold_overlays() -> None:
    assert len(PLANES) >= 8, "pydicom's test files and the corpus hold a dozen overlay planes"


@pytest.mark.parametrize(("path", "group"), PLANES, ids=[f"{file_id(p)}-{g:04X}" for p, g in PLANES])
def test_overlay_matches_pydicom(path: Path, group: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = pydicom.dcmread(path, force=True).overlay_array(group)
        except Exception:  # pydicom cannot read this plane: we must refuse it cleanly
            ref = None
    ds = dicomfast.dcmread(path, force=True)
    if ref is None:
        # attributes missing, or fewer bits than rows x columns (fodicom GH1728 is 4 bits short)
        with pytest.raises(dicomfast.DecodeError, match=f"{group:04X}"):
            ds.overlay_array(group)
        return
    ours = ds.overlay_array(group)
    assert ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("ts", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"])
def test_multi_frame_overlay_in_every_byte_order(ts: str) -> None:
    rng = np.random.default_rng(3)
    planes = rng.integers(0, 2, (3, 10, 13), dtype=np.uint8)  # 390 bits: the last word is padded
    packed = np.packbits(planes.ravel(), bitorder="little").tobytes()
    packed += b"\0" * (len(packed) % 2)
    ds = dicomfast.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.add_new(0x60020010, "US", 10)
    ds.add_new(0x60020011, "US", 13)
    ds.add_new(0x60020015, "IS", 3)
    ds.add_new(0x60020040, "CS", "G")
    ds.add_new(0x60020050, "SS", [1, 1])
    ds.add_new(0x60020100, "US", 1)
    ds.add_new(0x60020102, "US", 0)
    ds.add_new(0x60023000, "OW", packed)
    np.testing.assert_array_equal(ds.overlay_array(0x6002), planes)
    buf = io.BytesIO()
    dicomfast.dcmwrite(buf, ds, transfer_syntax=ts)
    back = dicomfast.dcmread(buf.getvalue())
    np.testing.assert_array_equal(back.overlay_array(0x6002), planes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(pydicom.dcmread(io.BytesIO(buf.getvalue())).overlay_array(0x6002), planes)


def test_overlay_refusals() -> None:
    ds = dicomfast.Dataset()
    with pytest.raises(ValueError, match="0x6000 to 0x601E"):
        ds.overlay_array(0x6001)
    with pytest.raises(dicomfast.DecodeError, match="absent or embedded"):
        ds.overlay_array(0x6000)
    ds.add_new(0x60000010, "US", 4)
    ds.add_new(0x60000011, "US", 4)
    ds.add_new(0x60000100, "US", 16)
    ds.add_new(0x60000102, "US", 12)
    ds.add_new(0x60003000, "OW", b"\0\0")
    with pytest.raises(dicomfast.DecodeError, match="embedded in Pixel Data are retired"):
        ds.overlay_array(0x6000)
