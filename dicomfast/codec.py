"""Compression and decompression of pixel data, and transcoding of files between transfer syntaxes.

Frames are encoded by the core (RLE and lossless one-component JPEG-LS our own; other JPEG-LS by CharLS;
JPEG 2000 by OpenJPEG; JPEG baseline and lossless by libjpeg-turbo; Deflated Image Frame by zlib-rs), in
parallel with the GIL released, and encapsulated with a Basic Offset Table (PS3.5 §A.4), or an Extended
Offset Table when the offsets do not fit in 32 bits. The attributes that depend on the compression are
updated as PS3.3 §C.7.6.1.1.5 and PS3.5 §8 require.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from dicomfast import _native
from dicomfast.dataset import DataElement, Dataset, dcmread
from dicomfast.errors import UnsupportedTransferSyntaxError
from dicomfast.filewriter import dcmwrite
from dicomfast.pixels import num_frames
from dicomfast.uid import _TS, UID, ExplicitVRLittleEndian

__all__ = ["compress", "decompress", "encapsulate", "set_pixel_data", "transcode"]

# PS3.3 §C.7.6.1.1.5: (0028,2114) Lossy Image Compression Method per lossy transfer syntax.
_LOSSY_METHOD = {
    "1.2.840.10008.1.2.4.50": "ISO_10918_1",
    "1.2.840.10008.1.2.4.51": "ISO_10918_1",
    "1.2.840.10008.1.2.4.81": "ISO_14495_1",
    "1.2.840.10008.1.2.4.91": "ISO_15444_1",
}


def _resolve_ts(name: str) -> str:
    """A transfer syntax UID from a UID or keyword (``"RLELossless"``, ``"JPEG2000Lossless"``, ...)."""
    if name in _TS:
        return name
    for uid, info in _TS.items():
        if info[0].lower() == name.lower():
            return uid
    raise UnsupportedTransferSyntaxError(
        f"Unknown transfer syntax '{name}': give a UID or a keyword such as RLELossless"
    )


def encapsulate(frames: list[bytes], extended: bool | None = None) -> tuple[bytes, bytes | None, bytes | None]:
    """Encapsulate frames (PS3.5 §A.4): items with even lengths, a Basic Offset Table, and the delimiter.

    Returns ``(pixel_data_bytes, extended_offset_table, extended_offset_table_lengths)``; the last two are
    set (and the Basic Offset Table left empty, PS3.5 §A.4.1) when offsets pass 2**32 or ``extended`` asks.
    """
    # Item headers, frames and pads go into one join: each frame's bytes are copied once.
    parts: list[bytes] = []
    offsets = []
    lengths = []
    pos = 0
    for f in frames:
        pad = len(f) % 2
        offsets.append(pos)
        lengths.append(len(f) + pad)
        parts.append(struct.pack("<HHI", 0xFFFE, 0xE000, len(f) + pad))
        parts.append(f)
        if pad:
            parts.append(b"\0")
        pos += 8 + len(f) + pad
    use_eot = extended if extended is not None else pos >= 2**32
    eot: bytes | None
    eot_len: bytes | None
    if use_eot:
        bot = b""
        eot = struct.pack(f"<{len(offsets)}Q", *offsets)
        eot_len = struct.pack(f"<{len(lengths)}Q", *lengths)
    else:
        bot = struct.pack(f"<{len(offsets)}I", *offsets)
        eot = eot_len = None
    head = struct.pack("<HHI", 0xFFFE, 0xE000, len(bot)) + bot
    out = b"".join([head, *parts, struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)])
    return out, eot, eot_len


def _stored_frames(ds: Dataset, threads: int | None = None) -> np.ndarray:
    """All frames as stored values (YBR kept as YBR), C-contiguous, colour-by-pixel."""
    # copy=False: native frames come as read-only views over the file's bytes (only read here, then copied
    # once by tobytes() for the encoder).
    arr = _native.decode_pixels(ds._native, None, threads, True, False) if ds._native is not None else None
    if arr is None or ds._elements:
        from dicomfast.pixels import pixel_array

        arr = pixel_array(ds, raw=True, threads=threads)
    return np.ascontiguousarray(arr)


# Bits Allocated each encoder family accepts (PS3.5 §8.2: JPEG up to 16 bits, JPEG-LS 2-16, JPEG 2000 up to 16
# here, RLE 8/16/32, Deflated Image Frame any including 1-bit).
_MAX_BITS = {
    "1.2.840.10008.1.2.4.50": 8,
    "1.2.840.10008.1.2.4.51": 16,
    "1.2.840.10008.1.2.4.57": 16,
    "1.2.840.10008.1.2.4.70": 16,
    "1.2.840.10008.1.2.4.80": 16,
    "1.2.840.10008.1.2.4.81": 16,
    "1.2.840.10008.1.2.4.90": 16,
    "1.2.840.10008.1.2.4.91": 16,
}


def _check_encodable(ds: Dataset, ts: str) -> None:
    bits = int(ds.get("BitsAllocated") or 0)
    name = UID(ts).name
    if bits == 1 and ts != "1.2.840.10008.1.2.8.1":
        raise UnsupportedTransferSyntaxError(
            f"1-bit pixel data ((0028,0100) 'Bits Allocated' 1) can only be compressed with Deflated Image Frame "
            f"Compression, not {name}"
        )
    limit = _MAX_BITS.get(ts)
    if limit is not None and bits > limit:
        raise UnsupportedTransferSyntaxError(
            f"{name} supports (0028,0100) 'Bits Allocated' up to {limit}, not {bits}: use RLELossless or "
            f"DeflatedImageFrameCompression"
        )


# PS3.16: (113040, DCM, "Lossy Compression") of CID 7203 Image Derivation, and (121320, DCM, "Uncompressed
# predecessor") of CID 7202 Source Image Purposes of Reference.
_LOSSY_DERIVATION = ("113040", "DCM", "Lossy Compression")
_PREDECESSOR = ("121320", "DCM", "Uncompressed predecessor")
_JPEG_LOSSY = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
_JPEG_COLOUR = ("YBR_FULL_422", "YBR_FULL", "RGB")
_JLS_NEAR = "1.2.840.10008.1.2.4.81"
_J2K = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91")
_J2K_LOSSY = "1.2.840.10008.1.2.4.91"


def _code_item(code: tuple[str, str, str]) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code
    return item


def _check_options(
    ts: str,
    jpeg_quality: int | None,
    jls_error: int | None,
    j2k_cr: Any,
    j2k_psnr: Any,
    jpeg_photometric: str | None = None,
) -> tuple[list[float] | None, list[float] | None]:
    """Refuses lossy settings the transfer syntax has no use for; the JPEG 2000 layers as lists."""
    name = UID(ts).name
    if jpeg_quality is not None and ts not in _JPEG_LOSSY:
        raise ValueError(f"jpeg_quality applies to JPEGBaseline8Bit and JPEGExtended12Bit, not {name}")
    if jpeg_quality is not None and not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"jpeg_quality must be 1 to 100, not {jpeg_quality}")
    if jpeg_photometric is not None and ts not in _JPEG_LOSSY:
        raise ValueError(f"jpeg_photometric applies to JPEGBaseline8Bit and JPEGExtended12Bit, not {name}")
    if jpeg_photometric is not None and jpeg_photometric not in _JPEG_COLOUR:
        raise ValueError(f"jpeg_photometric must be one of {', '.join(_JPEG_COLOUR)}, not {jpeg_photometric!r}")
    if jls_error is not None and ts != _JLS_NEAR:
        raise ValueError(f"jls_error applies to JPEGLSNearLossless, not {name}")
    if jls_error is not None and not 0 <= int(jls_error) <= 255:
        raise ValueError(f"jls_error must be 0 to 255 (JPEG-LS NEAR), not {jls_error}")
    if (j2k_cr is not None or j2k_psnr is not None) and ts != _J2K_LOSSY:
        raise ValueError(
            f"j2k_cr and j2k_psnr apply to JPEG2000 (lossy, 1.2.840.10008.1.2.4.91), not {name}: "
            "JPEG2000Lossless codes every sample exactly"
        )
    if j2k_cr is not None and j2k_psnr is not None:
        raise ValueError("give JPEG 2000 quality layers as j2k_cr or as j2k_psnr, not both")

    def floats(v: Any, what: str) -> list[float] | None:
        if v is None:
            return None
        values = [float(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
        if not values:
            raise ValueError(f"{what} needs at least one value (one per quality layer)")
        return values

    return floats(j2k_cr, "j2k_cr"), floats(j2k_psnr, "j2k_psnr")


def _little_endian(arr: np.ndarray) -> np.ndarray:
    """``arr`` with its samples in little-endian order (itself when they are already)."""
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False)


def _stored_range(stored: int, signed: bool) -> tuple[int, int]:
    """The smallest and largest values ``stored`` bits hold (two's complement when ``signed``)."""
    return (-(1 << (stored - 1)), (1 << (stored - 1)) - 1) if signed else (0, (1 << stored) - 1)


def _frames_from(ds: Dataset, arr: Any) -> np.ndarray:
    """``arr`` checked against the data set's Image Pixel attributes, as the frames to encode."""
    arr = np.asarray(arr)
    rows, cols = int(ds.Rows), int(ds.Columns)
    spp = int(ds.get("SamplesPerPixel") or 1)
    n = num_frames(ds)
    bits = int(ds.BitsAllocated)
    signed = int(ds.get("PixelRepresentation") or 0) == 1
    frame = (rows, cols) if spp == 1 else (rows, cols, spp)
    shapes = [(n, *frame)] + ([frame] if n == 1 else [])
    if arr.shape not in shapes:
        raise ValueError(
            f"arr has shape {arr.shape}, but the data set describes {n} frame(s) of {rows} x {cols}"
            f"{f' x {spp}' if spp > 1 else ''}: expected {shapes[-1]}"
        )
    if arr.dtype.kind not in "ui" or arr.dtype.itemsize * 8 != bits or (arr.dtype.kind == "i") != signed:
        want = f"{'int' if signed else 'uint'}{bits}"
        raise ValueError(
            f"arr has dtype {arr.dtype}, but (0028,0100) 'Bits Allocated' {bits} and (0028,0103) 'Pixel "
            f"Representation' {int(signed)} need {want}"
        )
    return np.ascontiguousarray(_little_endian(arr))


def _record_lossy(ds: Dataset, ts: str, ratio: float, detail: str) -> None:
    """Record a lossy compression step (PS3.3 §C.7.6.1.1.5 and §C.12.4.1).

    Lossy Image Compression "01" (never reset), its ratio and method added to those of earlier lossy steps,
    Image Type value 1 DERIVED, and the derivation described in text (with the ratio, as recommended) and
    coded (CID 7203 "Lossy Compression").
    """
    ds.LossyImageCompression = "01"
    prev_ratio = ds.get("LossyImageCompressionRatio")
    prev_method = ds.get("LossyImageCompressionMethod")
    ratios = ([*prev_ratio] if isinstance(prev_ratio, list) else [prev_ratio] if prev_ratio else []) + [ratio]
    methods = ([*prev_method] if isinstance(prev_method, list) else [prev_method] if prev_method else []) + [
        _LOSSY_METHOD[ts]
    ]
    ds.LossyImageCompressionRatio = [float(f"{r:.6g}") for r in ratios]
    ds.LossyImageCompressionMethod = methods
    image_type = ds.get("ImageType")
    if image_type:
        values = [*image_type] if isinstance(image_type, list) else str(image_type).split("\\")
        ds.ImageType = ["DERIVED", *values[1:]] if len(values) > 1 else ["DERIVED", "SECONDARY"]
    else:
        # Image Type has VM 2-n: value 2 SECONDARY, an image made after the acquisition.
        ds.ImageType = ["DERIVED", "SECONDARY"]
    text = f"Lossy compression with {UID(ts).name}, {detail}, compression ratio {ratio:.3g}"
    before = str(ds.get("DerivationDescription") or "")
    joined = f"{before}; {text}" if before else text
    ds.DerivationDescription = joined if len(joined) <= 1024 else text  # ST: 1024 characters at most
    codes = [*(ds.get("DerivationCodeSequence") or [])]
    codes.append(_code_item(_LOSSY_DERIVATION))
    ds.DerivationCodeSequence = codes


def _new_instance(ds: Dataset) -> None:
    """Give ``ds`` a new SOP Instance UID (in the file meta too).

    The former one is referenced in Source Image Sequence as the "Uncompressed predecessor" (PS3.3
    §C.12.4.1.2, CID 7202).
    """
    from dicomfast.uid import generate_uid

    old = ds.get("SOPInstanceUID")
    sop_class = ds.get("SOPClassUID")
    new = generate_uid()
    ds.SOPInstanceUID = new
    ds.file_meta.MediaStorageSOPInstanceUID = new
    if old and sop_class:
        ref = Dataset()
        ref.ReferencedSOPClassUID = str(sop_class)
        ref.ReferencedSOPInstanceUID = str(old)
        ref.PurposeOfReferenceCodeSequence = [_code_item(_PREDECESSOR)]
        ds.SourceImageSequence = [*(ds.get("SourceImageSequence") or []), ref]


def compress(
    ds: Dataset,
    transfer_syntax: str,
    arr: Any = None,
    *,
    threads: int | None = None,
    extended_offset_table: bool | None = None,
    generate_instance_uid: bool | None = None,
    jpeg_quality: int | None = None,
    jpeg_photometric: str | None = None,
    jls_error: int | None = None,
    j2k_cr: float | list[float] | None = None,
    j2k_psnr: float | list[float] | None = None,
    use_mct: bool = True,
) -> Dataset:
    """Compress ``ds``'s pixel data in place with ``transfer_syntax`` (UID or keyword) and return ``ds``.

    Parameters
    ----------
    arr : numpy.ndarray, optional
        Frames to encode instead of the data set's own pixel data (as ``pixel_array`` shapes them, with the
        dtype that Bits Allocated and Pixel Representation describe); the Image Pixel attributes must
        already describe them.
    threads : int, optional
        Frames encoded in parallel; default: every core.
    extended_offset_table : bool, optional
        Force (or forbid) the Extended Offset Table; by default it is used when offsets pass 2**32.
    generate_instance_uid : bool, optional
        Give the image a new SOP Instance UID, the former one kept in Source Image Sequence as its
        "Uncompressed predecessor". By default only a lossy compression does, as PS3.3 §C.7.6.1.1.5 requires
        of a lossy compressed version of a DICOM image.
    jpeg_quality : int, optional
        JPEGBaseline8Bit and JPEGExtended12Bit: quality 1-100 (default 90).
    jpeg_photometric : {"YBR_FULL_422", "YBR_FULL", "RGB"}, optional
        JPEGBaseline8Bit and JPEGExtended12Bit, RGB data: coded as YCbCr with 4:2:2 chroma (the default, as
        DCMTK and GDCM write it), as YCbCr 4:4:4, or as RGB without colour transform (PS3.5 §8.2.1); the
        data set's Photometric Interpretation becomes that value.
    jls_error : int, optional
        JPEGLSNearLossless: NEAR, the largest difference allowed per sample (default 2; 0 codes losslessly).
    j2k_cr, j2k_psnr : float or list of float, optional
        JPEG2000 (lossy): quality layers as compression ratios, decreasing (default ``[10]``, 10:1), or as
        PSNRs in dB, increasing; one value per layer.
    use_mct : bool
        JPEG 2000, RGB data: code it through the reversible (lossless) or irreversible (lossy) colour
        transform, as pydicom and OpenJPEG do by default; the data set becomes YBR_RCT or YBR_ICT (PS3.5
        §8.2.4). Decoding gives RGB again.

    A lossy result sets (0028,2110) *Lossy Image Compression* to "01" and adds its *Ratio* and *Method*,
    sets Image Type value 1 to DERIVED, and describes the step in (0008,2111) *Derivation Description* and
    (0008,9215) *Derivation Code Sequence* (PS3.3 §C.7.6.1.1.5, §C.12.4.1).
    """
    ts = _resolve_ts(transfer_syntax)
    if not _TS[ts][4]:
        raise UnsupportedTransferSyntaxError(f"{UID(ts).name} is not a compressed transfer syntax: use decompress()")
    j2k_ratios, j2k_psnrs = _check_options(ts, jpeg_quality, jls_error, j2k_cr, j2k_psnr, jpeg_photometric)
    current = str(ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax or ExplicitVRLittleEndian)
    if arr is None and _TS.get(current, ("", True, False, False, False))[4]:
        # Compressed already: decompress first (colour converted as decoded, attributes updated).
        decompress(ds, threads=threads)
    _check_encodable(ds, ts)
    frames_arr = _stored_frames(ds, threads) if arr is None else _frames_from(ds, arr)
    n = num_frames(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    spp = int(ds.get("SamplesPerPixel") or 1)
    bits = int(ds.BitsAllocated)
    stored = int(ds.get("BitsStored") or bits)
    pr = int(ds.get("PixelRepresentation") or 0)
    pi = str(ds.get("PhotometricInterpretation") or "MONOCHROME2")
    frames = _native.encode_frames(
        frames_arr.tobytes(),
        rows,
        cols,
        spp,
        bits,
        stored,
        pr,
        pi,
        n,
        ts,
        threads,
        jpeg_quality=jpeg_quality,
        jls_near=jls_error,
        j2k_ratios=j2k_ratios,
        j2k_psnr=j2k_psnrs,
        jpeg_colour=jpeg_photometric,
        use_mct=bool(use_mct),
    )
    data, eot, eot_len = encapsulate(frames, extended_offset_table)
    raw_size = frames_arr.nbytes
    ds[0x7FE00010] = DataElement(0x7FE00010, "OB", data)
    if eot is not None:
        ds[0x7FE00001] = DataElement(0x7FE00001, "OV", eot)
        ds[0x7FE00002] = DataElement(0x7FE00002, "OV", eot_len)
    else:
        for t in (0x7FE00001, 0x7FE00002):
            if t in ds:
                del ds[t]
    if spp > 1:
        ds.PlanarConfiguration = 0
    if ts in _JPEG_LOSSY and spp == 3 and pi.strip() == "RGB":
        # the encoder converted RGB to YCbCr (or not) as asked: the data set says which (PS3.5 §8.2.1)
        ds.PhotometricInterpretation = jpeg_photometric or "YBR_FULL_422"
    if ts in _J2K and spp == 3 and pi.strip() == "RGB" and use_mct:
        # RGB went through the colour transform of JPEG 2000 (PS3.5 §8.2.4)
        ds.PhotometricInterpretation = "YBR_RCT" if ts == "1.2.840.10008.1.2.4.90" else "YBR_ICT"
    near = 2 if jls_error is None else int(jls_error)
    lossy = ts in _LOSSY_METHOD and not (ts == _JLS_NEAR and near == 0)
    if lossy:
        ratio = raw_size / max(sum(len(f) for f in frames), 1)
        if ts in _JPEG_LOSSY:
            detail = f"quality {90 if jpeg_quality is None else int(jpeg_quality)}"
            if spp == 3:
                detail += f", {ds.PhotometricInterpretation}"
        elif ts == _JLS_NEAR:
            detail = f"NEAR {near}"
        elif j2k_psnrs is not None:
            detail = "irreversible wavelet, layers at PSNR " + ", ".join(f"{p:g}" for p in j2k_psnrs) + " dB"
        else:
            detail = "irreversible wavelet, layers at " + ", ".join(f"{r:g}:1" for r in (j2k_ratios or [10.0]))
        _record_lossy(ds, ts, ratio, detail)
    if generate_instance_uid if generate_instance_uid is not None else lossy:
        _new_instance(ds)
    ds.file_meta.TransferSyntaxUID = ts
    return ds


def decompress(ds: Dataset, *, threads: int | None = None) -> Dataset:
    """Decompress ``ds``'s pixel data in place to Explicit VR Little Endian and return ``ds``.

    YBR_FULL / YBR_FULL_422 become RGB (PS3.3 §C.7.6.3.1.2), planar configuration 0.
    """
    from dicomfast.pixels import pixel_array

    arr = np.ascontiguousarray(pixel_array(ds, threads=threads))
    bits = int(ds.BitsAllocated)
    stored = int(ds.get("BitsStored") or bits)
    if arr.dtype.kind in "ui" and stored < bits and arr.size:
        lo, hi = _stored_range(stored, arr.dtype.kind == "i")
        if int(arr.min()) < lo or int(arr.max()) > hi:
            # The codestream held more bits than (0028,0101) says (seen with JPEG 2000): keep every value.
            ds.BitsStored = bits
            ds.HighBit = bits - 1
    data = _little_endian(arr).tobytes()
    if len(data) % 2:
        data += b"\0"
    ds[0x7FE00010] = DataElement(0x7FE00010, "OW" if bits > 8 else "OB", data)
    for t in (0x7FE00001, 0x7FE00002):
        if t in ds:
            del ds[t]
    pi = str(ds.get("PhotometricInterpretation") or "")
    if pi in ("YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT"):
        ds.PhotometricInterpretation = "RGB"
    if int(ds.get("SamplesPerPixel") or 1) > 1:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def transcode(
    src: Any, dst: str | os.PathLike[str], transfer_syntax: str, *, threads: int | None = None, **options: Any
) -> None:
    """Read ``src``, re-encode it in ``transfer_syntax`` (compressing or decompressing), write ``dst``.

    ``options`` go to :func:`compress` (``jpeg_quality``, ``jls_error``, ``j2k_cr``, ``j2k_psnr``,
    ``generate_instance_uid``, ``extended_offset_table``).
    """
    ts = _resolve_ts(transfer_syntax)
    ds = dcmread(src) if not isinstance(src, Dataset) else src
    has_pixels = 0x7FE00010 in ds
    current = str(ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax or ExplicitVRLittleEndian)
    src_encaps = _TS.get(current, ("", True, False, False, False))[4]
    dst_encaps = _TS[ts][4]
    if options and not dst_encaps:
        raise ValueError(f"{', '.join(sorted(options))}: options of compress(), and {UID(ts).name} is not compressed")
    if has_pixels and (current != ts or options) and (src_encaps or dst_encaps):
        if src_encaps:
            decompress(ds, threads=threads)
        if dst_encaps:
            compress(ds, ts, threads=threads, **options)
    dcmwrite(Path(dst), ds, transfer_syntax=ts)


_MONO = ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")
_COLOUR = ("RGB", "YBR_FULL", "YBR_ICT", "YBR_RCT")


def set_pixel_data(
    ds: Dataset,
    arr: Any,
    photometric_interpretation: str,
    bits_stored: int,
    *,
    generate_instance_uid: bool = True,
) -> Dataset:
    """Set ``ds``'s Pixel Data from ``arr`` and the Image Pixel attributes that describe it; return ``ds``.

    ``arr`` is shaped as ``pixel_array`` gives frames: ``(rows, columns)``, ``(rows, columns, samples)``,
    ``(frames, rows, columns)`` or ``(frames, rows, columns, samples)`` (3 samples for a colour
    ``photometric_interpretation``), of dtype (u)int8, (u)int16 or (u)int32, every value within
    ``bits_stored`` bits. Sets Rows, Columns, Samples per Pixel, Photometric Interpretation, Planar
    Configuration (0, colour-by-pixel) for colour, Number of Frames for a frame axis, Bits Allocated (the
    dtype's size), Bits Stored, High Bit, Pixel Representation (the dtype's sign) and Pixel Data (OB for
    8-bit samples, OW otherwise, little endian). A compressed or big endian transfer syntax becomes Explicit
    VR Little Endian, and an Extended Offset Table is removed. With ``generate_instance_uid`` (the default)
    the data set gets a new SOP Instance UID.
    """
    arr = np.asarray(arr)
    pi = str(photometric_interpretation).strip().upper()
    if pi not in _MONO + _COLOUR:
        raise ValueError(
            f"photometric_interpretation {photometric_interpretation!r}: set_pixel_data takes "
            f"{', '.join(_MONO + _COLOUR)} (YBR_FULL_422 and YBR_PARTIAL_420 are subsampled layouts that only "
            "an encoder writes)"
        )
    spp = 3 if pi in _COLOUR else 1
    if arr.dtype.kind not in "ui" or arr.dtype.itemsize not in (1, 2, 4):
        raise ValueError(f"arr has dtype {arr.dtype}: set_pixel_data takes int8, uint8, int16, uint16, int32 or uint32")
    if spp == 1 and arr.ndim in (2, 3):
        frames = arr.shape[0] if arr.ndim == 3 else None
    elif spp == 3 and arr.ndim in (3, 4) and arr.shape[-1] == 3:
        frames = arr.shape[0] if arr.ndim == 4 else None
    else:
        want = (
            "(rows, columns) or (frames, rows, columns)"
            if spp == 1
            else "(rows, columns, 3) or (frames, rows, columns, 3)"
        )
        raise ValueError(f"arr has shape {arr.shape}: {pi} pixel data is shaped {want}")
    if arr.size == 0:
        raise ValueError(f"arr has shape {arr.shape}: no pixel")
    rows, cols = arr.shape[-3:-1] if spp == 3 else arr.shape[-2:]
    if rows > 0xFFFF or cols > 0xFFFF:
        raise ValueError(f"{rows} x {cols}: (0028,0010) Rows and (0028,0011) Columns are US, at most 65535")
    bits = arr.dtype.itemsize * 8
    signed = arr.dtype.kind == "i"
    if not 1 <= int(bits_stored) <= bits:
        raise ValueError(f"bits_stored {bits_stored}: it must be 1 to {bits} for {arr.dtype}")
    stored = int(bits_stored)
    lo, hi = _stored_range(stored, signed)
    amin, amax = int(arr.min()), int(arr.max())
    if amin < lo or amax > hi:
        raise ValueError(
            f"arr holds values from {amin} to {amax}, outside the {lo} to {hi} that bits_stored {stored} allows"
        )
    ds.Rows, ds.Columns = int(rows), int(cols)
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = pi
    if spp > 1:
        ds.PlanarConfiguration = 0
    elif "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    if frames is not None:
        ds.NumberOfFrames = int(frames)
    elif "NumberOfFrames" in ds:
        del ds.NumberOfFrames
    ds.BitsAllocated = bits
    ds.BitsStored = stored
    ds.HighBit = stored - 1
    ds.PixelRepresentation = int(signed)
    data = _little_endian(arr).tobytes()  # (C order whatever arr's strides: one copy)
    if len(data) % 2:
        data += b"\0"
    for t in (0x7FE00001, 0x7FE00002, 0x7FE00008, 0x7FE00009):
        if t in ds:
            del ds[t]
    ds[0x7FE00010] = DataElement(0x7FE00010, "OB" if bits == 8 else "OW", data)
    current = str(ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax or ExplicitVRLittleEndian)
    info = _TS.get(current)
    if info is None or info[4] or info[2]:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if generate_instance_uid:
        from dicomfast.uid import generate_uid

        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _ds_compress(self: Dataset, transfer_syntax: str, arr: Any = None, **kwargs: Any) -> Dataset:
    """Compress the pixel data in place (see :func:`dicomfast.codec.compress`)."""
    return compress(self, transfer_syntax, arr, **kwargs)


def _ds_decompress(self: Dataset, **kwargs: Any) -> Dataset:
    """Decompress the pixel data in place (see :func:`dicomfast.codec.decompress`)."""
    return decompress(self, **kwargs)


def _ds_set_pixel_data(
    self: Dataset, arr: Any, photometric_interpretation: str, bits_stored: int, **kwargs: Any
) -> Dataset:
    """Set the Pixel Data and its Image Pixel attributes from an array (see :func:`dicomfast.codec.set_pixel_data`)."""
    return set_pixel_data(self, arr, photometric_interpretation, bits_stored, **kwargs)


Dataset.compress = _ds_compress  # type: ignore[attr-defined]
Dataset.set_pixel_data = _ds_set_pixel_data  # type: ignore[attr-defined]
Dataset.decompress = _ds_decompress  # type: ignore[attr-defined]
