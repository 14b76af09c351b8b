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

__all__ = ["compress", "decompress", "encapsulate", "transcode"]

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


def compress(
    ds: Dataset, transfer_syntax: str, *, threads: int | None = None, extended_offset_table: bool | None = None
) -> Dataset:
    """Compress ``ds``'s pixel data in place with ``transfer_syntax`` (UID or keyword) and return ``ds``.

    Lossless syntaxes keep every value; lossy ones (JPEG baseline quality 90, JPEG-LS NEAR 2, JPEG 2000 at
    10:1) set (0028,2110) *Lossy Image Compression*, *Ratio* and *Method* (PS3.3 §C.7.6.1.1.5).
    """
    ts = _resolve_ts(transfer_syntax)
    if not _TS[ts][4]:
        raise UnsupportedTransferSyntaxError(f"{UID(ts).name} is not a compressed transfer syntax: use decompress()")
    current = str(ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax or ExplicitVRLittleEndian)
    if _TS.get(current, ("", True, False, False, False))[4]:
        # Compressed already: decompress first (colour converted as decoded, attributes updated).
        decompress(ds, threads=threads)
    _check_encodable(ds, ts)
    arr = _stored_frames(ds, threads)
    n = num_frames(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    spp = int(ds.get("SamplesPerPixel") or 1)
    bits = int(ds.BitsAllocated)
    stored = int(ds.get("BitsStored") or bits)
    pr = int(ds.get("PixelRepresentation") or 0)
    pi = str(ds.get("PhotometricInterpretation") or "MONOCHROME2")
    frames = _native.encode_frames(arr.tobytes(), rows, cols, spp, bits, stored, pr, pi, n, ts, threads)
    data, eot, eot_len = encapsulate(frames, extended_offset_table)
    raw_size = arr.nbytes
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
    if ts in _LOSSY_METHOD:
        ds.LossyImageCompression = "01"
        ratio = raw_size / max(sum(len(f) for f in frames), 1)
        prev_ratio = ds.get("LossyImageCompressionRatio")
        prev_method = ds.get("LossyImageCompressionMethod")
        ratios = ([*prev_ratio] if isinstance(prev_ratio, list) else [prev_ratio] if prev_ratio else []) + [ratio]
        methods = ([*prev_method] if isinstance(prev_method, list) else [prev_method] if prev_method else []) + [
            _LOSSY_METHOD[ts]
        ]
        ds.LossyImageCompressionRatio = [float(f"{r:.6g}") for r in ratios]
        ds.LossyImageCompressionMethod = methods
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
        lo, hi = (-(1 << (stored - 1)), (1 << (stored - 1)) - 1) if arr.dtype.kind == "i" else (0, (1 << stored) - 1)
        if int(arr.min()) < lo or int(arr.max()) > hi:
            # The codestream held more bits than (0028,0101) says (seen with JPEG 2000): keep every value.
            ds.BitsStored = bits
            ds.HighBit = bits - 1
    data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
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


def transcode(src: Any, dst: str | os.PathLike[str], transfer_syntax: str, *, threads: int | None = None) -> None:
    """Read ``src``, re-encode it in ``transfer_syntax`` (compressing or decompressing), write ``dst``."""
    ts = _resolve_ts(transfer_syntax)
    ds = dcmread(src) if not isinstance(src, Dataset) else src
    has_pixels = 0x7FE00010 in ds
    current = str(ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax or ExplicitVRLittleEndian)
    src_encaps = _TS.get(current, ("", True, False, False, False))[4]
    dst_encaps = _TS[ts][4]
    if has_pixels and current != ts and (src_encaps or dst_encaps):
        if src_encaps:
            decompress(ds, threads=threads)
        if dst_encaps:
            compress(ds, ts, threads=threads)
    dcmwrite(Path(dst), ds, transfer_syntax=ts)


def _ds_compress(self: Dataset, transfer_syntax: str, **kwargs: Any) -> Dataset:
    """Compress the pixel data in place (see :func:`dicomfast.codec.compress`)."""
    return compress(self, transfer_syntax, **kwargs)


def _ds_decompress(self: Dataset, **kwargs: Any) -> Dataset:
    """Decompress the pixel data in place (see :func:`dicomfast.codec.decompress`)."""
    return decompress(self, **kwargs)


Dataset.compress = _ds_compress  # type: ignore[attr-defined]
Dataset.decompress = _ds_decompress  # type: ignore[attr-defined]
