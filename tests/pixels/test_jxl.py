"""JPEG XL against imagecodecs (libjxl), the reference the pixels issue names where pydicom cannot decode.

Lossless frames of every bit depth DICOM uses are encoded by imagecodecs, wrapped in a file by pydicom, and
must decode to the very samples encoded, one frame at a time and all frames at once. The corpus' JPEG
recompression file must agree with imagecodecs' rendering within the rounding of two lossy pipelines (PSNR >= 50 dB).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import dicomfast

imagecodecs = pytest.importorskip("imagecodecs")
pydicom = pytest.importorskip("pydicom")
if not imagecodecs.JPEGXL.available:
    pytest.skip("imagecodecs was built without JPEG XL", allow_module_level=True)

from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.encaps import encapsulate, generate_frames  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

CORPUS_JXL = Path("../shared/corpus/dcm4che__will-jxl.dcm")


def _file(frames: list[np.ndarray], bits: int, **changes: object) -> bytes:
    """A Secondary Capture file holding `frames` encoded losslessly at `bits` bits per sample.

    pydicom 3.0 does not know the JPEG XL transfer syntaxes: it writes the file as JPEG 2000, and dicomfast
    writes it again as JPEG XL Lossless (with `changes` applied).
    """
    first = frames[0]
    spp = first.shape[2] if first.ndim == 3 else 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = first.shape[:2]
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = "RGB" if spp == 3 else "MONOCHROME2"
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = len(frames)
    codestreams = [imagecodecs.jpegxl_encode(f, lossless=True, bitspersample=bits) for f in frames]
    ds.PixelData = encapsulate(codestreams)
    ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    ours = dicomfast.dcmread(buf.getvalue())
    ours.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.110"
    for keyword, value in changes.items():
        setattr(ours, keyword, value)
    out = io.BytesIO()
    dicomfast.dcmwrite(out, ours)
    return out.getvalue()


def _frames(shape: tuple[int, ...], bits: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(bits * 100 + n)
    dtype = np.uint8 if bits <= 8 else np.uint16
    # smooth ramps plus noise: something a real encoder has to model, every value in range
    base = np.add.outer(np.arange(shape[0]), np.arange(shape[1])) * 37
    if len(shape) == 3:
        base = base[..., None] + np.arange(shape[2]) * 91
    return [((base + rng.integers(0, 1 << bits, shape) // 4 + k) % (1 << bits)).astype(dtype) for k in range(n)]


@pytest.mark.parametrize(
    ("bits", "shape"),
    [(8, (40, 56)), (6, (33, 17)), (12, (64, 48)), (10, (31, 70)), (16, (48, 64)), (8, (32, 24, 3))],
)
def test_lossless_frames_decode_to_what_was_encoded(bits: int, shape: tuple[int, ...]) -> None:
    frames = _frames(shape, bits, 3)
    data = _file(frames, bits)
    ds = dicomfast.dcmread(data)
    arr = ds.pixel_array
    assert arr.shape == (3, *shape)
    assert arr.dtype == frames[0].dtype
    for k, f in enumerate(frames):
        np.testing.assert_array_equal(arr[k], f)
        np.testing.assert_array_equal(ds.frame(k), f)


def test_lossless_frames_decode_on_many_threads() -> None:
    frames = _frames((24, 20), 12, 9)
    data = _file(frames, 12)
    np.testing.assert_array_equal(dicomfast.pixel_array(data, threads=4), np.stack(frames))
    np.testing.assert_array_equal(dicomfast.pixel_array(data, index=7, threads=1), frames[7])


def test_header_that_lies_is_a_decode_error() -> None:
    frames = _frames((16, 16), 8, 1)
    with pytest.raises(dicomfast.DecodeError, match="JPEG XL"):
        dicomfast.dcmread(_file(frames, 8, Rows=17)).pixel_array  # noqa: B018
    with pytest.raises(dicomfast.DecodeError, match="channels"):
        dicomfast.dcmread(_file(frames, 8, SamplesPerPixel=3, PlanarConfiguration=0)).pixel_array  # noqa: B018


def test_libjxl_is_built_in() -> None:
    # native/libjxl-sys builds libjxl 0.12 and links it unless told not to (DICOMFAST_NO_LIBJXL) or told to
    # use the system's (DICOMFAST_SYSTEM_LIBJXL, any version from 0.7).
    import os

    name = dicomfast._native.DECODERS["JPEG XL"]
    if os.environ.get("DICOMFAST_NO_LIBJXL", "0") != "0":
        assert name == "jxl-oxide"
    elif os.environ.get("DICOMFAST_SYSTEM_LIBJXL", "0") != "0":
        assert name.startswith("libjxl 0.")
    else:
        assert name == "libjxl 0.12.0"


def test_recompressed_jpeg_agrees_with_imagecodecs() -> None:
    if not CORPUS_JXL.exists():
        pytest.skip(f"{CORPUS_JXL} is absent (../shared/corpus not beside the repository)")
    pds = pydicom.dcmread(CORPUS_JXL)
    frames = list(generate_frames(pds.PixelData, number_of_frames=int(pds.NumberOfFrames)))
    ds = dicomfast.dcmread(CORPUS_JXL)
    for k in (0, 13, 26):
        ref = imagecodecs.jpegxl_decode(frames[k]).astype(np.float64)
        ours = ds.frame(k).astype(np.float64)
        assert ours.shape == ref.shape
        # We decode the original JPEG (rebuilt from the jbrd box) and convert its YBR as pydicom does;
        # imagecodecs renders libjxl's own RGB: ~0.15 apart on average, 99.9 % within 2, PSNR ~55.7 dB.
        diff = np.abs(ours - ref)
        psnr = 10 * np.log10(255**2 / np.mean(diff**2))
        assert diff.mean() < 0.5, diff.mean()
        assert np.percentile(diff, 99.9) <= 2, np.percentile(diff, 99.9)
        assert psnr >= 50, psnr
