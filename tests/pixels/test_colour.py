"""YBR_FULL to RGB: every one of the 2^24 8-bit triplets converts exactly as pydicom's ``convert_color_space``.

Regression: float32 constants computed in single precision, and separate products and sums where numpy's
BLAS fuses them, made 28 triplets differ by one (JPEG conformance compares lossy files within a tolerance, so
only this table showed it).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import dicomfast
from dicomfast import Dataset

pydicom_pixels = pytest.importorskip("pydicom.pixels")


def test_every_ybr_triplet_converts_as_pydicom() -> None:
    v = np.arange(256, dtype=np.uint8)
    y, cb, cr = np.meshgrid(v, v, v, indexing="ij")
    ybr = np.stack([y.ravel(), cb.ravel(), cr.ravel()], axis=-1).reshape(4096, 4096, 3)
    ds = Dataset()
    ds.Rows = 4096
    ds.Columns = 4096
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "YBR_FULL"
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = ybr.tobytes()
    ours = dicomfast.dcmread(_part10(ds)).pixel_array
    ref = pydicom_pixels.convert_color_space(ybr.copy(), "YBR_FULL", "RGB")
    assert ours.dtype == ref.dtype == np.uint8
    diff = np.flatnonzero((ours != ref).any(axis=-1))
    assert diff.size == 0, f"{diff.size} triplets differ, first YBR {ybr.reshape(-1, 3)[diff[0]]}"


def _part10(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "2.25.42"
    dicomfast.dcmwrite(buf, ds)
    return buf.getvalue()


def _every_triplet() -> np.ndarray:
    v = np.arange(256, dtype=np.uint8)
    a, b, c = np.meshgrid(v, v, v, indexing="ij")
    return np.stack([a.ravel(), b.ravel(), c.ravel()], axis=-1).reshape(4096, 4096, 3)


@pytest.mark.parametrize(("current", "desired"), [("YBR_FULL", "RGB"), ("RGB", "YBR_FULL")])
def test_convert_color_space_gives_pydicoms_integers_for_every_triplet(current: str, desired: str) -> None:
    every = _every_triplet()
    ours = dicomfast.convert_color_space(every, current, desired)
    ref = pydicom_pixels.convert_color_space(every.copy(), current, desired)
    assert ours.dtype == np.uint8
    diff = np.flatnonzero((ours != ref).any(axis=-1))
    assert diff.size == 0, f"{diff.size} triplets differ, first {every.reshape(-1, 3)[diff[0]]}"
    assert ours is not every  # a copy unless per_frame
    assert (every == _every_triplet()).all()


def test_convert_color_space_of_raw_frames_gives_the_default_decode() -> None:
    from pydicom.data import get_testdata_file

    path = get_testdata_file("SC_ybr_full_uncompressed.dcm")
    ds = dicomfast.dcmread(path)
    assert ds.PhotometricInterpretation == "YBR_FULL"
    raw = dicomfast.pixel_array(ds, raw=True)
    np.testing.assert_array_equal(dicomfast.convert_color_space(raw, "YBR_FULL", "RGB"), ds.pixel_array)
    # Multi-frame, converted in place frame by frame as pydicom's per_frame does.
    frames = np.ascontiguousarray(np.stack([raw, raw[::-1]]))
    out = dicomfast.convert_color_space(frames, "YBR_FULL_422", "RGB", per_frame=True)
    assert out is frames
    np.testing.assert_array_equal(frames[1], ds.pixel_array[::-1])


def test_convert_color_space_refuses_what_it_cannot_convert() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    assert dicomfast.convert_color_space(rgb, "RGB", "RGB") is rgb
    assert dicomfast.convert_color_space(rgb, "YBR_FULL_422", "YBR_FULL") is rgb
    with pytest.raises(ValueError, match="uint8"):
        dicomfast.convert_color_space(rgb.astype(np.uint16), "RGB", "YBR_FULL")
    with pytest.raises(ValueError, match="threes"):
        dicomfast.convert_color_space(np.zeros((4, 4, 4), np.uint8), "RGB", "YBR_FULL")
    with pytest.raises(NotImplementedError, match="YBR_ICT"):
        dicomfast.convert_color_space(rgb, "YBR_ICT", "RGB")
    frozen = rgb.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="in place"):
        dicomfast.convert_color_space(frozen, "RGB", "YBR_FULL", per_frame=True)
