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
