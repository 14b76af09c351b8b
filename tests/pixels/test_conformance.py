"""Pixel conformance: every file with pixel data in the three corpora, decoded by dicomfast and by pydicom.

Lossless transfer syntaxes must give identical arrays; lossy ones must agree with the reference decoder within
``LOSSY_MAX_DIFF`` and ``LOSSY_MIN_PSNR``. Files pydicom (with pylibjpeg-openjpeg, pylibjpeg-rle, pyjpegls,
python-gdcm) cannot decode must be decoded by us or refused with a ``DicomError``. Deliberate differences
are listed in ``EXPECTED``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomfast
from tests.conftest import all_files, file_id

pydicom = pytest.importorskip("pydicom")

LOSSY = {
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.203",
    "1.2.840.10008.1.2.4.111",
    "1.2.840.10008.1.2.4.112",
}
LOSSY_MAX_DIFF = 2
LOSSY_MIN_PSNR = 50.0

EXPECTED: dict[str, str] = {}


def _pixel_files() -> list[Path]:
    out = []
    for p in all_files():
        try:
            ds = dicomfast.dcmread(p, force=True, stop_before_pixels=False)
        except dicomfast.DicomError:
            continue
        if any(t in ds for t in (0x7FE00010, 0x7FE00008, 0x7FE00009)):
            out.append(p)
    return out


FILES = _pixel_files()


def _psnr(a: np.ndarray, b: np.ndarray, bits: int) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0:
        return float("inf")
    peak = float(2**bits - 1)
    return 10 * np.log10(peak * peak / mse)


@pytest.mark.parametrize("path", FILES, ids=[file_id(p) for p in FILES])
def test_pixels_match_pydicom(path: Path) -> None:
    fid = file_id(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = pydicom.dcmread(path, force=True).pixel_array
        except Exception:
            ref = None
    try:
        ours = dicomfast.dcmread(path, force=True).pixel_array
    except dicomfast.DicomError as e:
        if ref is None or fid in EXPECTED:
            return
        pytest.fail(f"refused what pydicom decodes: {e}")
    if ref is None:
        return
    problem = ""
    if ours.shape != ref.shape:
        problem = f"shape {ours.shape} vs {ref.shape}"
    elif ours.dtype != ref.dtype.newbyteorder("=") and ours.dtype != ref.dtype:
        problem = f"dtype {ours.dtype} vs {ref.dtype}"
    else:
        ts = str(dicomfast.dcmread(path, force=True, stop_before_pixels=True).original_transfer_syntax)
        if ts in LOSSY:
            diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
            bits = int(ours.dtype.itemsize * 8) if ours.dtype.kind != "f" else 16
            psnr = _psnr(ours, ref, min(bits, 16))
            if diff.max() > LOSSY_MAX_DIFF and psnr < LOSSY_MIN_PSNR:
                problem = f"lossy: max |diff| {diff.max():.0f}, PSNR {psnr:.1f} dB"
        elif not np.array_equal(ours, ref):
            n = int(np.count_nonzero(ours != ref))
            problem = f"{n} of {ours.size} values differ"
    if fid in EXPECTED:
        assert problem, "now matches pydicom: remove it from EXPECTED"
    else:
        assert not problem, problem


def test_frame_by_frame_equals_all_frames() -> None:
    multi = [p for p in FILES if 1 < dicomfast.dcmread(p, stop_before_pixels=True, force=True).num_frames <= 50]
    assert multi
    for p in multi[:8]:
        ds = dicomfast.dcmread(p, force=True)
        try:
            whole = ds.pixel_array
        except dicomfast.DicomError:
            continue
        for i in range(ds.num_frames):
            np.testing.assert_array_equal(ds.frame(i), whole[i])
        np.testing.assert_array_equal(np.stack(list(ds.iter_frames())), whole)
