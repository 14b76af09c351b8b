"""Encoders: lossless round trips over the corpora, pydicom decoding our files, lossy quality, transcoding."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomfast
from dicomfast.codec import encapsulate
from tests.pixels.test_conformance import FILES, _psnr

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

LOSSLESS = ["RLELossless", "JPEGLSLossless", "JPEG2000Lossless", "JPEGLosslessSV1", "DeflatedImageFrameCompression"]
LOSSY = {"JPEGBaseline8Bit": 30.0, "JPEGLSNearLossless": 40.0, "JPEG2000": 30.0}
MAX_BYTES = 4 << 20  # keep the table fast: frames of up to 4 MiB decoded


def _sources() -> list[Path]:
    out = []
    for p in FILES:
        ds = dicomfast.dcmread(p, force=True)
        try:
            arr = ds.pixel_array
        except dicomfast.DicomError:
            continue
        if arr.nbytes <= MAX_BYTES and arr.dtype.kind in "ui":
            out.append(p)
    return out


SOURCES = _sources()


def _encodable(exc: Exception) -> bool:
    """Encoder refusals that name a limit of the codec (not a bug): signed JPEG, bit depths, ..."""
    if isinstance(exc, dicomfast.UnsupportedTransferSyntaxError):
        return True
    words = ("not supported", "needs", "must be", "cannot", "only", "Unsupported", "supports")
    return isinstance(exc, dicomfast.DicomError) and any(s in str(exc) for s in words)


@pytest.mark.parametrize("ts", LOSSLESS)
def test_lossless_round_trip_over_corpora(ts: str) -> None:
    done = refused = 0
    for p in SOURCES:
        ds = dicomfast.dcmread(p, force=True)
        orig = ds.pixel_array
        if ds.get("PhotometricInterpretation") in ("YBR_FULL_422", "YBR_FULL") or "PALETTE" in str(
            ds.get("PhotometricInterpretation")
        ):
            continue  # the decoded frames are RGB (converted) or indices: compared through decompress below
        try:
            ds.compress(ts)
        except dicomfast.DicomError as e:
            assert _encodable(e), f"{p.name}: {e}"
            refused += 1
            continue
        back = ds.pixel_array
        np.testing.assert_array_equal(back, orig, err_msg=f"{p.name} through {ts}")
        done += 1
    assert done > len(SOURCES) // 2, f"{ts}: only {done} of {len(SOURCES)} files encoded ({refused} refused)"


def _pydicom_pixels(ds: dicomfast.Dataset) -> np.ndarray:
    """The pixel array pydicom (with its plugins) decodes from ``ds`` as dcmwrite writes it."""
    buf = io.BytesIO()
    dicomfast.dcmwrite(buf, ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(buf.getvalue())).pixel_array


@pytest.mark.parametrize("ts", ["RLELossless", "JPEGLSLossless", "JPEG2000Lossless", "JPEGLosslessSV1"])
@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "SC_rgb.dcm", "emri_small.dcm", "SC_rgb_16bit.dcm"])
def test_pydicom_decodes_our_files(name: str, ts: str) -> None:
    p = get_testdata_file(name)
    ds = dicomfast.dcmread(p)
    orig = ds.pixel_array
    ds.compress(ts)  # every pair encodes, signed CT_small / MR_small with JPEG Lossless included
    ref = _pydicom_pixels(ds)
    np.testing.assert_array_equal(ref, orig)


@pytest.mark.parametrize(("ts", "min_psnr"), list(LOSSY.items()))
def test_lossy_quality(ts: str, min_psnr: float) -> None:
    for name in ("SC_rgb.dcm", "OBXXXX1A.dcm", "emri_small.dcm"):
        p = get_testdata_file(name)
        if p is None:
            continue
        ds = dicomfast.dcmread(p)
        orig = ds.pixel_array
        try:
            ds.compress(ts)
        except dicomfast.DicomError as e:
            assert _encodable(e), str(e)
            continue
        back = ds.pixel_array
        bits = int(ds.BitsStored)
        assert _psnr(back, orig, bits) >= min_psnr, name
        assert ds.LossyImageCompression == "01"
        assert ds.LossyImageCompressionMethod


def test_decompress_and_transcode(tmp_path: Path) -> None:
    src = get_testdata_file("SC_rgb_rle.dcm")
    rgb = dicomfast.dcmread(src).pixel_array
    out = tmp_path / "a.dcm"
    dicomfast.transcode(src, out, "JPEGLSLossless")
    ds = dicomfast.dcmread(out)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.80"
    np.testing.assert_array_equal(ds.pixel_array, rgb)
    dicomfast.transcode(out, tmp_path / "b.dcm", "ExplicitVRLittleEndian")
    back = dicomfast.dcmread(tmp_path / "b.dcm")
    np.testing.assert_array_equal(back.pixel_array, rgb)
    assert back.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    ycc = dicomfast.dcmread(get_testdata_file("SC_rgb_dcmtk_+eb+cy+n1.dcm"))
    want = ycc.pixel_array
    ycc.decompress()
    assert ycc.PhotometricInterpretation == "RGB"
    np.testing.assert_array_equal(ycc.pixel_array, want)


def test_multiframe_offsets_and_extended_table() -> None:
    p = get_testdata_file("emri_small.dcm")
    ds = dicomfast.dcmread(p)
    orig = ds.pixel_array
    ds.compress("RLELossless", extended_offset_table=True)
    assert ds[0x7FE00001].VR == "OV"
    assert len(ds[0x7FE00001].value) == 8 * orig.shape[0]
    np.testing.assert_array_equal(ds.pixel_array, orig)
    for i in (0, 5, 9):
        np.testing.assert_array_equal(ds.frame(i), orig[i])


def test_encapsulate_layout() -> None:
    data, eot, _ = encapsulate([b"abc", b"defg"])
    assert eot is None
    # BOT item with two offsets, then items padded to even length, then the sequence delimiter
    assert data[:8] == b"\xfe\xff\x00\xe0\x08\x00\x00\x00"
    assert data[8:16] == b"\x00\x00\x00\x00\x0c\x00\x00\x00"
    assert data[16:28] == b"\xfe\xff\x00\xe0\x04\x00\x00\x00abc\x00"
    assert data[-8:] == b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"


def test_unknown_transfer_syntax() -> None:
    ds = dicomfast.dcmread(get_testdata_file("CT_small.dcm"))
    with pytest.raises(dicomfast.UnsupportedTransferSyntaxError, match="Unknown transfer syntax"):
        ds.compress("NotACodec")
    with pytest.raises(dicomfast.UnsupportedTransferSyntaxError, match="not a compressed"):
        ds.compress("ExplicitVRLittleEndian")


@pytest.mark.parametrize("ts", ["JPEGLosslessSV1", "JPEGLossless"])
@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_signed_jpeg_lossless(name: str, ts: str) -> None:
    # PS3.5 §8.2.1: JPEG Lossless takes Pixel Representation 1. The codestream holds the two's complement
    # pattern within Bits Stored as unsigned samples (precision = Bits Stored); decoders reinterpret it.
    # This used to be refused ("JPEG encoding of signed pixel data is not supported").
    ds = dicomfast.dcmread(get_testdata_file(name))
    assert ds.PixelRepresentation == 1
    orig = ds.pixel_array
    ds.compress(ts)
    np.testing.assert_array_equal(ds.pixel_array, orig)
    ref = _pydicom_pixels(ds)
    np.testing.assert_array_equal(ref, orig)


def test_signed_12_bit_jpeg_lossless_keeps_negative_values() -> None:
    # Bits Stored 12 of 16, negative values: only the low 12 bits are coded and sign-extended on decoding.
    ds = dicomfast.dcmread(get_testdata_file("CT_small.dcm"))
    arr = ds.pixel_array.astype(np.int16)
    vals = (arr.astype(np.int32) % 4096 - 2048).astype(np.int16)
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelData = vals.tobytes()
    assert vals.min() < 0
    ds.compress("JPEGLosslessSV1")
    np.testing.assert_array_equal(ds.pixel_array, vals)
    ref = _pydicom_pixels(ds)
    np.testing.assert_array_equal(ref, vals)


def test_lossy_jpeg_refuses_signed_data() -> None:
    ds = dicomfast.dcmread(get_testdata_file("CT_small.dcm"))
    with pytest.raises(dicomfast.DicomError, match=r"\(0028,0103\) 'Pixel Representation' must be 0"):
        ds.compress("JPEGExtended12Bit")


@pytest.mark.parametrize("ts", ["RLELossless", "JPEGLSLossless", "JPEG2000Lossless", "JPEGLosslessSV1"])
def test_multiframe_encode_is_the_same_on_any_number_of_threads(ts: str) -> None:
    # Frames are encoded in parallel (one per rayon task, GIL released) and put back in frame order.
    src = get_testdata_file("emri_small.dcm")
    one = dicomfast.dcmread(src).compress(ts, threads=1)
    two = dicomfast.dcmread(src).compress(ts, threads=2)
    assert one.PixelData == two.PixelData
    np.testing.assert_array_equal(two.pixel_array, dicomfast.dcmread(src).pixel_array)
