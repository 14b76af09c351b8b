"""Encoders: lossless round trips over the corpora, pydicom decoding our files, lossy quality, transcoding."""

from __future__ import annotations

import io
import shutil
import subprocess
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


# Lossy settings (jpeg_quality, jls_error, j2k_cr, j2k_psnr), compress(arr=...), and the attributes a lossy
# step records (PS3.3 §C.7.6.1.1.5, §C.12.4.1).

JLS_SOURCES = ["CT_small.dcm", "MR_small.dcm", "SC_rgb.dcm", "emri_small.dcm", "OBXXXX1A.dcm", "SC_rgb_16bit.dcm"]


def _j2k_layers(codestream: bytes) -> int:
    """Number of quality layers in a JPEG 2000 codestream's COD marker (ISO/IEC 15444-1 §A.6.1)."""
    at = codestream.index(b"\xff\x52")
    return int.from_bytes(codestream[at + 6 : at + 8], "big")


def _first_fragment(ds: dicomfast.Dataset) -> bytes:
    from pydicom.encaps import generate_frames

    return next(generate_frames(ds.PixelData, number_of_frames=dicomfast.pixels.num_frames(ds)))


@pytest.mark.parametrize("name", JLS_SOURCES)
def test_jls_error_bounds_every_sample(name: str) -> None:
    # JPEG-LS near-lossless guarantees |decoded - original| <= NEAR for every sample (ISO/IEC 14495-1
    # §A.4): checked by our decoder and by pydicom's (pyjpegls) on the file we write.
    orig = dicomfast.dcmread(get_testdata_file(name)).pixel_array.astype(np.int64)
    sizes = []
    for near in (1, 3, 7):
        ds = dicomfast.dcmread(get_testdata_file(name))
        ds.compress("JPEGLSNearLossless", jls_error=near)
        ours = ds.pixel_array.astype(np.int64)
        assert int(np.abs(ours - orig).max()) <= near, (name, near)
        np.testing.assert_array_equal(_pydicom_pixels(ds).astype(np.int64), ours)
        assert f"NEAR {near}" in ds.DerivationDescription
        sizes.append(len(ds.PixelData))
    assert sizes[0] >= sizes[1] >= sizes[2], sizes


def test_jls_error_zero_is_lossless_and_keeps_the_instance() -> None:
    ds = dicomfast.dcmread(get_testdata_file("CT_small.dcm"))
    uid, orig = ds.SOPInstanceUID, ds.pixel_array
    ds.compress("JPEGLSNearLossless", jls_error=0)
    np.testing.assert_array_equal(ds.pixel_array, orig)
    assert ds.SOPInstanceUID == uid
    assert "LossyImageCompression" not in ds
    assert ds.ImageType[0] == "ORIGINAL"


def test_jpeg_quality_orders_size_and_psnr() -> None:
    for name in ("SC_rgb.dcm", "OBXXXX1A.dcm"):
        orig = dicomfast.dcmread(get_testdata_file(name)).pixel_array
        seen = []
        for q in (30, 70, 95):
            ds = dicomfast.dcmread(get_testdata_file(name))
            ds.compress("JPEGBaseline8Bit", jpeg_quality=q)
            ours = ds.pixel_array
            ref = _pydicom_pixels(ds)
            assert np.abs(ref.astype(np.int64) - ours.astype(np.int64)).max() <= 2, (name, q)
            assert f"quality {q}" in ds.DerivationDescription
            seen.append((len(ds.PixelData), _psnr(ours, orig, 8)))
        assert seen[0][0] < seen[1][0] < seen[2][0], (name, seen)
        assert seen[0][1] < seen[1][1] < seen[2][1], (name, seen)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_j2k_compression_ratios(name: str) -> None:
    orig = dicomfast.dcmread(get_testdata_file(name)).pixel_array
    psnrs = []
    for cr in (40, 10, 4):
        ds = dicomfast.dcmread(get_testdata_file(name))
        ds.compress("JPEG2000", j2k_cr=cr)
        achieved = orig.nbytes / len(_first_fragment(ds))
        # OpenJPEG's rate allocation stops at the byte budget (or before, when the image needs fewer)
        assert achieved >= 0.9 * cr, (cr, achieved)
        assert ds.LossyImageCompressionRatio[-1] == pytest.approx(orig.nbytes / len(_first_fragment(ds)), rel=0.05)
        psnrs.append(_psnr(ds.pixel_array, orig, int(ds.BitsStored)))
    assert psnrs[0] < psnrs[1] < psnrs[2], psnrs
    # several quality layers, coarsest first; pydicom (pylibjpeg-openjpeg) decodes all of them
    ds = dicomfast.dcmread(get_testdata_file(name))
    ds.compress("JPEG2000", j2k_cr=[80, 20, 5])
    assert _j2k_layers(_first_fragment(ds)) == 3
    assert "80:1, 20:1, 5:1" in ds.DerivationDescription
    np.testing.assert_array_equal(_pydicom_pixels(ds), ds.pixel_array)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "SC_rgb.dcm"])
def test_j2k_psnr_layers(name: str) -> None:
    orig = dicomfast.dcmread(get_testdata_file(name)).pixel_array
    sizes = []
    for target in (40.0, 50.0):
        ds = dicomfast.dcmread(get_testdata_file(name))
        ds.compress("JPEG2000", j2k_psnr=[target])
        # OpenJPEG allocates by its estimate of the distortion: within 1.5 dB of the target
        assert _psnr(ds.pixel_array, orig, int(ds.BitsStored)) >= target - 1.5, target
        sizes.append(len(ds.PixelData))
    assert sizes[0] < sizes[1]
    ds = dicomfast.dcmread(get_testdata_file(name))
    ds.compress("JPEG2000", j2k_psnr=[30, 45, 60])
    assert _j2k_layers(_first_fragment(ds)) == 3
    np.testing.assert_array_equal(_pydicom_pixels(ds), ds.pixel_array)


def test_lossy_settings_are_checked() -> None:
    ds = dicomfast.dcmread(get_testdata_file("OBXXXX1A.dcm"))
    with pytest.raises(ValueError, match="jpeg_quality applies to"):
        ds.compress("RLELossless", jpeg_quality=50)
    with pytest.raises(ValueError, match="jpeg_quality must be 1 to 100"):
        ds.compress("JPEGBaseline8Bit", jpeg_quality=0)
    with pytest.raises(ValueError, match="jls_error applies to JPEGLSNearLossless"):
        ds.compress("JPEGLSLossless", jls_error=2)
    with pytest.raises(ValueError, match="JPEG2000Lossless codes every sample exactly"):
        ds.compress("JPEG2000Lossless", j2k_cr=[10])
    with pytest.raises(ValueError, match="not both"):
        ds.compress("JPEG2000", j2k_cr=[10], j2k_psnr=[40])
    with pytest.raises(dicomfast.DicomError, match="decreasing"):
        ds.compress("JPEG2000", j2k_cr=[5, 10])
    with pytest.raises(dicomfast.DicomError, match="increasing"):
        ds.compress("JPEG2000", j2k_psnr=[50, 40])
    with pytest.raises(dicomfast.DicomError, match="at least 1"):
        ds.compress("JPEG2000", j2k_cr=[0.5])
    # NEAR <= min(255, MAXVAL / 2): 127 for 8-bit samples (ISO/IEC 14495-1 §C.2.4.1.1)
    with pytest.raises(dicomfast.DicomError, match="NEAR must be 0 to 127"):
        ds.compress("JPEGLSNearLossless", jls_error=128)
    # nothing was changed by the refusals
    before = dicomfast.dcmread(get_testdata_file("OBXXXX1A.dcm"))
    assert ds.file_meta.TransferSyntaxUID == before.file_meta.TransferSyntaxUID
    assert ds.LossyImageCompression == before.LossyImageCompression == "00"


def test_lossy_compression_makes_a_derived_instance() -> None:
    # PS3.3 §C.7.6.1.1.5: a lossy compressed version of a DICOM image is DERIVED and gets a new SOP
    # Instance UID; §C.12.4.1: the step described and coded, the predecessor referenced.
    src = get_testdata_file("CT_small.dcm")
    ds = dicomfast.dcmread(src)
    old_uid, sop_class, image_type = ds.SOPInstanceUID, ds.SOPClassUID, list(ds.ImageType)
    ds.compress("JPEG2000", j2k_cr=12)
    assert ds.LossyImageCompression == "01"
    assert ds.LossyImageCompressionMethod == ["ISO_15444_1"]
    assert ds.ImageType == ["DERIVED", *image_type[1:]]
    assert ds.SOPInstanceUID != old_uid
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    ref = ds.SourceImageSequence[-1]
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID) == (sop_class, old_uid)
    code = ref.PurposeOfReferenceCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == (
        "121320",
        "DCM",
        "Uncompressed predecessor",
    )
    code = ds.DerivationCodeSequence[-1]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == ("113040", "DCM", "Lossy Compression")
    assert "compression ratio" in ds.DerivationDescription
    first_uid = ds.SOPInstanceUID
    # a second lossy step adds to the history
    ds.compress("JPEGLSNearLossless", jls_error=2)
    assert ds.LossyImageCompressionMethod == ["ISO_15444_1", "ISO_14495_1"]
    assert len(ds.LossyImageCompressionRatio) == 2
    assert [r.ReferencedSOPInstanceUID for r in ds.SourceImageSequence] == [old_uid, first_uid]
    assert len(ds.DerivationCodeSequence) == 2
    assert ds.DerivationDescription.count("Lossy compression with") == 2
    # pydicom reads every attribute back
    buf = io.BytesIO()
    dicomfast.dcmwrite(buf, ds)
    back = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    assert back.SOPInstanceUID == back.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert back.SourceImageSequence[1].ReferencedSOPInstanceUID == first_uid
    assert back.DerivationCodeSequence[0].CodeValue == "113040"


def test_instance_uid_choice() -> None:
    src = get_testdata_file("CT_small.dcm")
    ds = dicomfast.dcmread(src)
    uid = ds.SOPInstanceUID
    ds.compress("RLELossless")
    assert ds.SOPInstanceUID == uid
    assert "SourceImageSequence" not in ds
    ds = dicomfast.dcmread(src).compress("RLELossless", generate_instance_uid=True)
    assert ds.SOPInstanceUID != uid
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == uid
    ds = dicomfast.dcmread(src).compress("JPEG2000", generate_instance_uid=False)
    assert ds.SOPInstanceUID == uid
    assert ds.LossyImageCompression == "01"


@pytest.mark.skipif(shutil.which("dcmdump") is None, reason="DCMTK's dcmdump is not installed")
def test_dcmdump_reads_lossy_derived_files(tmp_path: Path) -> None:
    for name, ts, opts in (
        ("CT_small.dcm", "JPEG2000", {"j2k_cr": [40, 10]}),
        ("SC_rgb.dcm", "JPEGBaseline8Bit", {"jpeg_quality": 75}),
        ("MR_small.dcm", "JPEGLSNearLossless", {"jls_error": 3}),
    ):
        ds = dicomfast.dcmread(get_testdata_file(name)).compress(ts, **opts)
        out = tmp_path / f"{name}.{ts}.dcm"
        dicomfast.dcmwrite(out, ds)
        res = subprocess.run(["dcmdump", "-q", str(out)], capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stderr
        assert "W:" not in res.stderr, res.stderr
        assert "E:" not in res.stderr, res.stderr
        assert "Uncompressed predecessor" in res.stdout
        assert "Lossy Compression" in res.stdout


def test_compress_an_array() -> None:
    ds = dicomfast.dcmread(get_testdata_file("emri_small.dcm"))
    arr = ds.pixel_array.copy()
    arr[:, :8] = 0
    ds.compress("JPEGLSLossless", arr)
    np.testing.assert_array_equal(ds.pixel_array, arr)
    np.testing.assert_array_equal(_pydicom_pixels(ds), arr)
    # a compressed data set takes a new array without being decoded first
    arr2 = arr[::-1].copy()
    ds.compress("RLELossless", arr=arr2)
    np.testing.assert_array_equal(ds.pixel_array, arr2)
    with pytest.raises(ValueError, match="expected"):
        ds.compress("RLELossless", arr[:3])
    with pytest.raises(ValueError, match="need uint16"):
        ds.compress("RLELossless", arr.astype(np.int32))


def test_transcode_with_settings(tmp_path: Path) -> None:
    src = get_testdata_file("MR_small.dcm")
    orig = dicomfast.dcmread(src).pixel_array.astype(np.int64)
    dicomfast.transcode(src, tmp_path / "a.dcm", "JPEGLSNearLossless", jls_error=5)
    back = dicomfast.dcmread(tmp_path / "a.dcm")
    assert int(np.abs(back.pixel_array.astype(np.int64) - orig).max()) == 5
    with pytest.raises(ValueError, match="not compressed"):
        dicomfast.transcode(src, tmp_path / "b.dcm", "ExplicitVRLittleEndian", jls_error=5)


# set_pixel_data: Pixel Data and the Image Pixel module from an array (pydicom 3's Dataset.set_pixel_data).


def test_set_pixel_data_monochrome(tmp_path: Path) -> None:
    ds = dicomfast.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    arr = (np.arange(70 * 50, dtype=np.uint16).reshape(70, 50) * 7) % 4096
    ds.set_pixel_data(arr, "MONOCHROME2", 12)
    assert (ds.Rows, ds.Columns, ds.SamplesPerPixel) == (70, 50, 1)
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0)
    assert ds[0x7FE00010].VR == "OW"
    assert "NumberOfFrames" not in ds
    assert "PlanarConfiguration" not in ds
    assert ds.SOPInstanceUID.startswith("2.25.")
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    np.testing.assert_array_equal(ds.pixel_array, arr)
    out = tmp_path / "mono.dcm"
    dicomfast.dcmwrite(out, ds)
    np.testing.assert_array_equal(pydicom.dcmread(out).pixel_array, arr)
    # signed multi-frame, then compressed losslessly
    frames = (np.arange(4 * 30 * 20, dtype=np.int32).reshape(4, 30, 20) - 1200).astype(np.int16)
    ds.set_pixel_data(frames, "MONOCHROME2", 16, generate_instance_uid=False)
    assert (ds.NumberOfFrames, ds.PixelRepresentation) == (4, 1)
    ds.compress("JPEG2000Lossless")
    np.testing.assert_array_equal(_pydicom_pixels(ds), frames)


def test_set_pixel_data_colour_replaces_compressed_data() -> None:
    ds = dicomfast.dcmread(get_testdata_file("SC_rgb_rle.dcm"))
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
    rgb = np.random.default_rng(7).integers(0, 256, (2, 16, 24, 3), dtype=np.uint8)
    uid = ds.SOPInstanceUID
    ds.set_pixel_data(rgb, "RGB", 8)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert (ds.NumberOfFrames, ds.PlanarConfiguration, ds[0x7FE00010].VR) == (2, 0, "OB")
    assert ds.SOPInstanceUID != uid
    np.testing.assert_array_equal(ds.pixel_array, rgb)
    np.testing.assert_array_equal(_pydicom_pixels(ds), rgb)


def test_set_pixel_data_refusals() -> None:
    ds = dicomfast.Dataset()
    with pytest.raises(ValueError, match="outside the 0 to 255"):
        ds.set_pixel_data(np.full((4, 4), 300, np.uint16), "MONOCHROME2", 8)
    with pytest.raises(ValueError, match="bits_stored 17"):
        ds.set_pixel_data(np.zeros((4, 4), np.uint16), "MONOCHROME2", 17)
    with pytest.raises(ValueError, match="dtype float32"):
        ds.set_pixel_data(np.zeros((4, 4), np.float32), "MONOCHROME2", 16)
    with pytest.raises(ValueError, match="YBR_FULL_422"):
        ds.set_pixel_data(np.zeros((4, 4, 3), np.uint8), "YBR_FULL_422", 8)
    with pytest.raises(ValueError, match="shaped"):
        ds.set_pixel_data(np.zeros((4, 4, 2), np.uint8), "RGB", 8)
    assert "PixelData" not in ds
    assert "Rows" not in ds


def test_jpeg_colour_as_dcmtk_writes_it() -> None:
    # RGB data coded as YCbCr 4:2:2 by default (PS3.5 §8.2.1, as DCMTK and GDCM write lossy colour JPEG):
    # smaller than 4:4:4, itself smaller than RGB without transform; pydicom decodes each to our values.
    src = get_testdata_file("US1_UNCR.dcm") or get_testdata_file("SC_rgb.dcm")
    orig = dicomfast.dcmread(src).pixel_array
    assert dicomfast.dcmread(src).PhotometricInterpretation == "RGB"
    sizes = {}
    for pm in (None, "YBR_FULL", "RGB"):
        ds = dicomfast.dcmread(src)
        ds.compress("JPEGBaseline8Bit", jpeg_photometric=pm)
        assert ds.PhotometricInterpretation == (pm or "YBR_FULL_422")
        assert ds.PlanarConfiguration == 0
        ours = ds.pixel_array  # RGB again, as pydicom 3 converts
        assert ours.shape == orig.shape
        assert _psnr(ours, orig, 8) >= 33.0, pm
        assert np.abs(_pydicom_pixels(ds).astype(np.int64) - ours.astype(np.int64)).max() <= 1, pm
        sizes[pm] = len(ds.PixelData)
    assert sizes[None] < sizes["YBR_FULL"] < sizes["RGB"], sizes
    with pytest.raises(ValueError, match="jpeg_photometric must be one of"):
        dicomfast.dcmread(src).compress("JPEGBaseline8Bit", jpeg_photometric="YBR_ICT")
    with pytest.raises(ValueError, match="jpeg_photometric applies to"):
        dicomfast.dcmread(src).compress("JPEGLSLossless", jpeg_photometric="RGB")


@pytest.mark.parametrize(("ts", "pi"), [("JPEG2000Lossless", "YBR_RCT"), ("JPEG2000", "YBR_ICT")])
def test_j2k_colour_transform(ts: str, pi: str) -> None:
    # RGB coded through JPEG 2000's reversible / irreversible colour transform (PS3.5 §8.2.4), as pydicom
    # and OpenJPEG do by default: the data set says YBR_RCT / YBR_ICT, and decodes to RGB again.
    src = get_testdata_file("US1_UNCR.dcm")  # an ultrasound image (pydicom-data): R, G and B much alike
    if src is None:
        pytest.skip("pydicom-data's US1_UNCR.dcm is not installed")
    orig = dicomfast.dcmread(src).pixel_array
    out = {}
    for mct in (True, False):
        ds = dicomfast.dcmread(src)
        ds.compress(ts, use_mct=mct)
        assert ds.PhotometricInterpretation == (pi if mct else "RGB")
        ours = ds.pixel_array
        np.testing.assert_array_equal(_pydicom_pixels(ds), ours)
        if ts == "JPEG2000Lossless":
            np.testing.assert_array_equal(ours, orig)
        out[mct] = (len(ds.PixelData), _psnr(ours, orig, 8))
        back = dicomfast.dcmread(src).compress(ts, use_mct=mct).decompress()
        assert back.PhotometricInterpretation == "RGB"
    if ts == "JPEG2000Lossless":
        assert out[True][0] < out[False][0], out  # the colour transform removes what R, G and B share
    else:
        assert out[True][1] > out[False][1], out  # same ratio, better quality
