"""dicomfast.encaps: frames' codestreams without decoding, and encapsulation, against pydicom.encaps."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import pytest

import dicomfast
from dicomfast import encaps
from tests.conftest import all_files, file_id

pydicom = pytest.importorskip("pydicom")
from pydicom import encaps as pd_encaps  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402


def _encapsulated_files() -> list[Path]:
    out = []
    for p in all_files():
        try:
            ds = dicomfast.dcmread(p, stop_before_pixels=True)
            ts = dicomfast.uid.UID(str(ds.file_meta.get("TransferSyntaxUID") or ""))
            if ts in dicomfast.uid.TRANSFER_SYNTAXES and ts.is_encapsulated:
                out.append(p)
        except dicomfast.DicomError:
            continue
    return out


FILES = _encapsulated_files()


def _pydicom_frames(path: Path) -> tuple[object, list[bytes]] | None:
    """pydicom's data set and frames, or None where pydicom cannot read the file or split its frames."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pds = pydicom.dcmread(path)
            eot = (pds.ExtendedOffsetTable, pds.ExtendedOffsetTableLengths) if "ExtendedOffsetTable" in pds else None
            n = int(pds.get("NumberOfFrames") or 1)
            return pds, list(pd_encaps.generate_frames(pds.PixelData, number_of_frames=n, extended_offsets=eot))
        except Exception:
            return None


@pytest.mark.parametrize("path", FILES, ids=[file_id(p) for p in FILES])
def test_frames_match_pydicom(path: Path) -> None:
    ref = _pydicom_frames(path)
    if ref is None:
        pytest.skip("pydicom cannot read the file or split its frames")
    pds, frames = ref
    ds = dicomfast.dcmread(path)
    # Through the file's own index...
    assert list(encaps.generate_frames(ds)) == frames
    # ... and from the Pixel Data value, as pydicom's functions take it.
    eot = (pds.ExtendedOffsetTable, pds.ExtendedOffsetTableLengths) if "ExtendedOffsetTable" in pds else None
    ours = encaps.generate_frames(
        pds.PixelData,
        number_of_frames=int(pds.get("NumberOfFrames") or 1),
        extended_offsets=eot,
        transfer_syntax=str(pds.file_meta.TransferSyntaxUID),
    )
    assert list(ours) == frames
    assert encaps.get_frame(ds, len(frames) - 1) == frames[-1]


def test_enough_files_are_compared() -> None:
    compared = sum(1 for p in FILES if _pydicom_frames(p) is not None)
    assert compared >= (150 if len(FILES) > 150 else 1)


def test_get_frame_of_a_multi_frame_file_and_out_of_range() -> None:
    path = get_testdata_file("emri_small_jpeg_2k_lossless.dcm")
    ds = dicomfast.dcmread(path)
    frames = list(encaps.generate_frames(ds))
    assert len(frames) == 10
    assert all(f[:2] == b"\xff\x4f" for f in frames)  # J2K SOC marker
    for i in (0, 4, 9):
        assert encaps.get_frame(ds, i) == frames[i]
        assert encaps.get_frame(ds.PixelData, i, number_of_frames=10) == frames[i]
    with pytest.raises(IndexError, match="out of range"):
        encaps.get_frame(ds, 10)
    with pytest.raises(IndexError):
        encaps.get_frame(ds, -1)


def test_the_codestream_decodes_to_the_frame() -> None:
    imagecodecs = pytest.importorskip("imagecodecs")
    path = get_testdata_file("emri_small_jpeg_2k_lossless.dcm")
    ds = dicomfast.dcmread(path)
    assert (imagecodecs.jpeg2k_decode(encaps.get_frame(ds, 3)) == ds.frame(3)).all()


def test_a_changed_data_set_uses_its_new_pixel_data() -> None:
    ds = dicomfast.dcmread(get_testdata_file("emri_small_jpeg_2k_lossless.dcm"))
    frames = list(encaps.generate_frames(ds))
    ds.PixelData = encaps.encapsulate(frames[:2])
    ds.NumberOfFrames = 2
    assert list(encaps.generate_frames(ds)) == frames[:2]


def test_encapsulate_matches_pydicom() -> None:
    frames = [b"\xff\xd8" + bytes(range(n % 256)) * 3 + b"\xff\xd9" for n in (10, 33, 0, 7)]  # odd lengths too
    for has_bot in (True, False):
        ours = encaps.encapsulate(frames, has_bot=has_bot)
        assert ours == pd_encaps.encapsulate(frames, has_bot=has_bot)
        # Read back, without a table the frame count (or the JPEG markers) tells the boundaries.
        padded = [f + b"\0" * (len(f) % 2) for f in frames]
        assert list(encaps.generate_frames(ours, number_of_frames=4)) == padded
    even = [f + b"\0" * (len(f) % 2) for f in frames]
    value, eot, eot_len = encaps.encapsulate_extended(even)
    pd_value, pd_eot, pd_len = pd_encaps.encapsulate_extended(even)
    assert (value, eot, eot_len) == (pd_value, pd_eot, pd_len)
    assert list(encaps.generate_frames(value, extended_offsets=(eot, eot_len))) == even
    offsets = list(struct.unpack(f"<{len(even)}Q", eot))
    lengths = list(struct.unpack(f"<{len(even)}Q", eot_len))
    assert list(encaps.generate_frames(value, extended_offsets=(offsets, lengths))) == even
    with pytest.raises(ValueError, match="fragments_per_frame"):
        encaps.encapsulate(frames, fragments_per_frame=2)


def test_bad_values_are_clear_errors() -> None:
    good = encaps.encapsulate([b"\xff\xd8\x00\xff\xd9\x00", b"\xff\xd8\x01\xff\xd9\x00"], has_bot=False)
    # Several fragments, no offset table, no frame count: as pydicom, the boundaries are not guessed.
    with pytest.raises(ValueError, match="number_of_frames"):
        list(encaps.generate_frames(good))
    # Not an item where one is expected: a ParseError that names the byte offset.
    with pytest.raises(dicomfast.ParseError, match=r"Expected an Item .* at byte 8"):
        encaps.get_frame(good[:8] + b"\x08\x00\x10\x00" + good[12:], 0, number_of_frames=2)
    # An item longer than the bytes left, and a truncated item header.
    with pytest.raises(dicomfast.ParseError, match="exceeds"):
        encaps.get_frame(good[:12] + struct.pack("<I", 1000) + good[16:], 0, number_of_frames=2)
    with pytest.raises(dicomfast.ParseError, match="too few"):
        encaps.get_frame(good + b"\xfe\xff", 0, number_of_frames=2)
    with pytest.raises(dicomfast.ParseError):
        encaps.get_frame(b"", 0)
    # Frame data that is not encapsulated.
    with pytest.raises(ValueError, match="not encapsulated"):
        encaps.get_frame(dicomfast.dcmread(get_testdata_file("CT_small.dcm")), 0)
