"""Pixel data as numpy arrays: frames, all frames, overlays, and the Modality / VOI / Palette Colour LUTs.

Decoding happens in the core with the GIL released, frames in parallel. Uncompressed little-endian frames
that need no conversion are read-only views over the file's bytes (no copy). Shapes follow pydicom:
``(rows, columns[, samples])`` for one frame, ``(frames, rows, columns[, samples])`` for several.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from dicomfast import _native
from dicomfast.dataset import Dataset, dcmread

__all__ = [
    "apply_color_lut",
    "apply_modality_lut",
    "apply_voi_lut",
    "apply_windowing",
    "convert_color_space",
    "iter_pixels",
    "overlay_array",
    "pack_bits",
    "pixel_array",
    "unpack_bits",
]


def _dataset(src: Any) -> Dataset:
    if isinstance(src, Dataset):
        return src
    return dcmread(src)


def _decode(ds: Dataset, index: int | None, threads: int | None, raw: bool, out: np.ndarray | None) -> np.ndarray:
    native = ds._native
    if native is None or ds._elements or ds._deleted:
        # Built or changed in Python: encode it through the writer and decode what it would read back.
        from dicomfast.filewriter import encode_dataset

        ts = str(ds.file_meta.get("TransferSyntaxUID") or ds.original_transfer_syntax or "1.2.840.10008.1.2.1")
        native = dcmread(encode_dataset(ds, ts), transfer_syntax=ts)._native
    arr = _native.decode_pixels(native, index, threads, raw, out is not None)
    if out is not None:
        if out.shape != arr.shape or out.dtype != arr.dtype:
            raise ValueError(f"out must have shape {arr.shape} and dtype {arr.dtype}, not {out.shape} {out.dtype}")
        np.copyto(out, arr)
        return out
    return arr  # type: ignore[no-any-return]


def pixel_array(
    src: str | os.PathLike[str] | bytes | BinaryIO | Dataset,
    index: int | None = None,
    threads: int | None = None,
    out: np.ndarray | None = None,
    raw: bool = False,
) -> np.ndarray:
    """Decode the pixel data of ``src`` into a numpy array.

    Parameters
    ----------
    src : path, bytes, binary file object or Dataset
        The data set holding (7FE0,0010) *Pixel Data* (or Float / Double Float Pixel Data).
    index : int, optional
        Decode only this frame (0-based); only that frame's bytes are read and decoded.
    threads : int, optional
        Most threads to decode frames on (default: all cores).
    out : numpy.ndarray, optional
        An array of the right shape and dtype to fill.
    raw : bool
        Keep YBR_FULL / YBR_FULL_422 values as stored instead of converting them to RGB (pydicom 3's default).

    Returns
    -------
    numpy.ndarray
        ``(rows, columns[, samples])`` for one frame, ``(frames, rows, columns[, samples])`` for several.
    """
    return _decode(_dataset(src), index, threads, raw, out)


def iter_pixels(src: Any, raw: bool = False) -> Iterator[np.ndarray]:
    """Yield the frames of ``src`` one at a time (each decoded on demand)."""
    ds = _dataset(src)
    for i in range(num_frames(ds)):
        yield _decode(ds, i, 1, raw, None)


def num_frames(ds: Dataset) -> int:
    """(0028,0008) *Number of Frames*, 1 when absent."""
    n = ds.get("NumberOfFrames")
    try:
        return max(int(n), 1) if n not in (None, "") else 1
    except (TypeError, ValueError):
        return 1


# --------------------------------------------------------------------------------------------- LUTs


def _lut_data(item: Dataset, descriptor_key: str = "LUTDescriptor") -> tuple[np.ndarray, int, int]:
    desc = list(getattr(item, descriptor_key))
    n = desc[0] or 65536
    first = desc[1]
    bits = desc[2]
    data = item.LUTData
    if isinstance(data, bytes):
        lut = np.frombuffer(data, dtype="<u2" if bits > 8 or len(data) >= 2 * n else "u1")
    else:
        lut = np.asarray(data if isinstance(data, list) else [data])
    return lut[:n].astype(np.int64), int(first), int(bits)


def apply_modality_lut(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Apply the Modality LUT (PS3.3 §C.11.1): a Modality LUT Sequence, or Rescale Slope / Intercept.

    Returns float64 when rescaling with a non-integral slope or intercept, as pydicom does.
    """
    seq = ds.get("ModalityLUTSequence")
    if seq:
        lut, first, _ = _lut_data(seq[0])
        idx = np.clip(arr.astype(np.int64) - first, 0, len(lut) - 1)
        return lut[idx]
    slope = ds.get("RescaleSlope")
    intercept = ds.get("RescaleIntercept")
    if slope is None and intercept is None:
        return arr
    slope = 1.0 if slope is None else float(slope)
    intercept = 0.0 if intercept is None else float(intercept)
    return arr.astype(np.float64) * slope + intercept


def apply_windowing(
    arr: np.ndarray, center: float, width: float, function: str = "LINEAR", y_min: float = 0.0, y_max: float = 255.0
) -> np.ndarray:
    """Window ``arr`` (PS3.3 §C.11.2.1.2): LINEAR, LINEAR_EXACT or SIGMOID, output in ``[y_min, y_max]``."""
    x = arr.astype(np.float64)
    y_range = y_max - y_min
    function = function.upper()
    if function == "LINEAR":
        if width < 1:
            raise ValueError("Window Width must be at least 1 for the LINEAR function (PS3.3 §C.11.2.1.2.1)")
        c, w = center - 0.5, width - 1
        out = ((x - c) / w + 0.5) * y_range + y_min
        out = np.where(x <= c - w / 2, y_min, np.where(x > c + w / 2, y_max, out))
    elif function == "LINEAR_EXACT":
        if width <= 0:
            raise ValueError("Window Width must be positive for LINEAR_EXACT (PS3.3 §C.11.2.1.3.2)")
        out = (x - center) / width * y_range + (y_min + y_max) / 2
        out = np.clip(out, y_min, y_max)
    elif function == "SIGMOID":
        if width <= 0:
            raise ValueError("Window Width must be positive for SIGMOID (PS3.3 §C.11.2.1.3.1)")
        out = y_range / (1 + np.exp(-4 * (x - center) / width)) + y_min
    else:
        raise ValueError(f"Unknown VOI LUT Function '{function}': use LINEAR, LINEAR_EXACT or SIGMOID")
    return out


def apply_voi_lut(arr: np.ndarray, ds: Dataset, index: int = 0) -> np.ndarray:
    """Apply the VOI LUT (PS3.3 §C.11.2): a VOI LUT Sequence item, else Window Center / Width (item ``index``).

    The window output range is that of the stored values (``0 .. 2**BitsStored - 1``, or signed), as pydicom
    gives it; a LUT sequence maps through the table.
    """
    seq = ds.get("VOILUTSequence")
    if seq:
        lut, first, _ = _lut_data(seq[min(index, len(seq) - 1)])
        idx = np.clip(arr.astype(np.int64) - first, 0, len(lut) - 1)
        return lut[idx]
    center = ds.get("WindowCenter")
    width = ds.get("WindowWidth")
    if center is None or width is None:
        return arr
    center = center[index] if isinstance(center, list) else center
    width = width[index] if isinstance(width, list) else width
    function = ds.get("VOILUTFunction") or "LINEAR"
    bits = int(ds.get("BitsStored") or 8)
    signed = int(ds.get("PixelRepresentation") or 0) == 1
    has_rescale = "RescaleSlope" in ds or "ModalityLUTSequence" in ds
    if signed and not has_rescale:
        y_min, y_max = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        y_min, y_max = 0, 2**bits - 1
    return apply_windowing(arr, float(center), float(width), str(function), y_min, y_max)


def apply_color_lut(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Apply the Palette Colour LUT (PS3.3 §C.7.6.3.1.5) of a PALETTE COLOR image: uint16 RGB out."""
    channels = []
    for colour in ("Red", "Green", "Blue"):
        desc = list(getattr(ds, f"{colour}PaletteColorLookupTableDescriptor"))
        n = desc[0] or 65536
        first = desc[1]
        bits = desc[2]
        seg = ds.get(f"Segmented{colour}PaletteColorLookupTableData")
        if seg is not None:
            lut = _expand_segmented(np.frombuffer(seg, dtype="<u2" if bits == 16 else "u1"), n)
        else:
            data = getattr(ds, f"{colour}PaletteColorLookupTableData")
            lut = np.frombuffer(data, dtype="<u2" if bits == 16 else "u1")[:n]
        idx = np.clip(arr.astype(np.int64) - first, 0, len(lut) - 1)
        channels.append(lut[idx].astype(np.uint16 if bits == 16 else np.uint8))
    return np.stack(channels, axis=-1)


# From -> to: whether the samples change, and which way (True: to RGB). YBR_FULL_422 arrays hold full YBR
# samples once decoded (raw=True keeps them so), as in pydicom.
_COLOUR_STEPS = {
    ("YBR_FULL", "RGB"): True,
    ("YBR_FULL_422", "RGB"): True,
    ("RGB", "YBR_FULL"): False,
    ("RGB", "YBR_FULL_422"): False,
}
_SAME_COLOURS = {"RGB": {"RGB"}, "YBR_FULL": {"YBR_FULL", "YBR_FULL_422"}, "YBR_FULL_422": {"YBR_FULL", "YBR_FULL_422"}}


def convert_color_space(arr: np.ndarray, current: str, desired: str, per_frame: bool = False) -> np.ndarray:
    """Convert 8-bit colour samples between RGB and YBR_FULL / YBR_FULL_422 (PS3.3 §C.7.6.3.1.2).

    pydicom's ``convert_color_space``, with its integer results, done in the core with the GIL released:
    for example on ``ds.pixel_array`` read with ``raw=True``, which keeps the stored YBR samples.

    Parameters
    ----------
    arr
        ``uint8`` samples, colour-by-pixel: ``(rows, columns, 3)`` or ``(frames, rows, columns, 3)``.
    current, desired
        ``"RGB"``, ``"YBR_FULL"`` or ``"YBR_FULL_422"``.
    per_frame
        Convert ``arr`` itself (it must then be writeable and C-contiguous) instead of a copy.

    Returns
    -------
    numpy.ndarray
        The converted samples (``arr`` itself with ``per_frame``, or when nothing changes).

    Raises
    ------
    ValueError
        ``arr`` is not ``uint8`` samples in threes, or ``per_frame`` is given an array that cannot be
        written in place.
    NotImplementedError
        A conversion other than those above (as pydicom).
    """
    if arr.dtype != np.uint8:
        raise ValueError(f"Invalid ndarray.dtype '{arr.dtype}' for color space conversion, must be 'uint8'")
    if desired in _SAME_COLOURS.get(current, ()):
        return arr
    to_rgb = _COLOUR_STEPS.get((current, desired))
    if to_rgb is None:
        raise NotImplementedError(f"Conversion from {current} to {desired} is not supported.")
    if arr.ndim not in (3, 4) or arr.shape[-1] != 3:
        raise ValueError(f"Colour conversion needs samples in threes, (..., rows, columns, 3); got shape {arr.shape}")
    if per_frame:
        if not (arr.flags.writeable and arr.flags.c_contiguous):
            raise ValueError("per_frame converts the array in place: it must be writeable and C-contiguous")
        out = arr
    else:
        out = np.array(arr, dtype=np.uint8, order="C", copy=True)
    _native.convert_colour(out, to_rgb)
    return out


def pack_bits(arr: np.ndarray, pad: bool = True) -> bytes:
    """Pack 0/1 samples into 1-bit Pixel Data, as pydicom's ``pack_bits``.

    PS3.5 §8.1.1: bit-packed, the first pixel in the least significant bit. ``arr`` is taken in C order
    (``(rows, columns)``, ``(frames, rows, columns)`` or flat); the last byte is filled with zero bits, and
    with ``pad`` a zero byte makes the length even (PS3.5 §7.1.1).

    Raises
    ------
    ValueError
        ``arr`` holds anything but 0 and 1.
    """
    flat = np.asarray(arr).ravel()
    if flat.size == 0:
        return b""
    if flat.dtype != np.bool_ and not np.isin(flat, (0, 1)).all():
        raise ValueError("Only binary arrays (containing ones or zeroes) can be packed.")
    packed = np.packbits(flat.astype(np.uint8, copy=False), bitorder="little").tobytes()
    return packed + b"\0" if pad and len(packed) % 2 else packed


def unpack_bits(src: bytes | bytearray | memoryview, as_array: bool = True) -> np.ndarray | bytes:
    """The bits of 1-bit Pixel Data, one ``uint8`` 0 or 1 each, as pydicom's ``unpack_bits``.

    Least significant bit of each byte first (PS3.5 §8.1.1): ``8 * len(src)`` values, as an array or
    (``as_array`` false) as bytes.
    """
    bits = np.unpackbits(np.frombuffer(src, dtype=np.uint8), bitorder="little")
    return bits if as_array else bits.tobytes()


def _expand_segmented(words: np.ndarray, n: int) -> np.ndarray:
    """Expand Segmented Palette Colour LUT Data (PS3.3 §C.7.9.2): discrete, linear and indirect segments."""
    out: list[float] = []
    i = 0
    w = [int(x) for x in words]
    while i + 1 < len(w) and len(out) < n:
        kind, length = w[i], w[i + 1]
        if kind == 0:  # discrete: `length` values follow
            out.extend(w[i + 2 : i + 2 + length])
            i += 2 + length
        elif kind == 1:  # linear: from the last value to the next one in `length` steps
            if not out:
                raise ValueError("A linear segment cannot open a segmented palette LUT (PS3.3 §C.7.9.2.2)")
            start, end = out[-1], w[i + 2]
            out.extend(start + (end - start) * (k + 1) / length for k in range(length))
            i += 3
        elif kind == 2:  # indirect: replay `length` segments starting at a byte offset
            offset = w[i + 2] | (w[i + 3] << 16)
            replay = _expand_segmented_from(w, offset, length)
            out.extend(replay)
            i += 4
        else:
            raise ValueError(f"Unknown segment type {kind} in a segmented palette LUT (PS3.3 §C.7.9.2)")
    return np.round(np.asarray(out[:n], dtype=np.float64)).astype(np.int64)


def _expand_segmented_from(w: list[int], offset: int, count: int) -> list[float]:
    """The values of ``count`` segments (discrete or linear) starting at word ``offset``."""
    out: list[float] = []
    i = offset
    for _ in range(count):
        if i + 1 >= len(w):
            break
        kind, length = w[i], w[i + 1]
        if kind == 0:
            out.extend(w[i + 2 : i + 2 + length])
            i += 2 + length
        elif kind == 1 and out:
            start, end = out[-1], w[i + 2]
            out.extend(start + (end - start) * (k + 1) / length for k in range(length))
            i += 3
        else:
            raise ValueError("An indirect segment may only replay discrete and linear segments (PS3.3 §C.7.9.2.3)")
    return out


# --------------------------------------------------------------------------------------------- Dataset API


def overlay_array(ds: Dataset, group: int = 0x6000) -> np.ndarray:
    """The overlay plane of repeating group ``group`` (0x6000 to 0x601E, PS3.3 §C.9.2), as 0 and 1.

    A uint8 array ``(rows, columns)``, or ``(frames, rows, columns)`` when the overlay has several frames.

    The plane is (60xx,3000) Overlay Data, one bit per pixel with the first pixel in the lowest bit (PS3.5
    §8.1.2, as 1-bit pixel data); overlays embedded in unused bits of Pixel Data (retired) are refused.
    """
    from dicomfast.errors import DecodeError

    if not (0x6000 <= group <= 0x601E and group % 2 == 0):
        raise ValueError(f"Overlay groups are even, 0x6000 to 0x601E, not {group:#06x}")
    base = group << 16

    def number(elem: int, default: int | None = None) -> int:
        value = ds.get(base | elem)
        if value is None or value.value in (None, "", b"", []):
            if default is None:
                raise DecodeError(f"Overlay group {group:04X} has no ({group:04X},{elem:04X})")
            return default
        v = value.value
        return int(v[0] if isinstance(v, list) else v)

    if (base | 0x3000) not in ds:
        raise DecodeError(f"No ({group:04X},3000) Overlay Data: the overlay of group {group:04X} is absent or embedded")
    rows, cols = number(0x0010), number(0x0011)
    frames = number(0x0015, 1)
    bits = number(0x0100, 1)
    position = number(0x0102, 0)
    if bits != 1 or position != 0:
        raise DecodeError(
            f"Overlay group {group:04X}: Overlay Bits Allocated {bits}, Bit Position {position}: only Overlay Data "
            "(one bit per pixel, bit position 0) is read; overlays embedded in Pixel Data are retired (PS3.5 §8.1.2)"
        )
    elem = ds[base | 0x3000]
    # The bits are counted in the bytes as stored, whatever the byte order of the data set (as for native
    # 1-bit Pixel Data here, and as pydicom counts them).
    data = elem.value if isinstance(elem.value, bytes) else bytes(elem.value or b"")
    n = rows * cols * frames
    if n <= 0:
        raise DecodeError(f"Overlay group {group:04X}: {frames} frame(s) of {rows} x {cols}")
    if len(data) * 8 < n:
        raise DecodeError(
            f"({group:04X},3000) Overlay Data holds {len(data) * 8} bits, fewer than the {n} of {frames} frame(s) "
            f"of {rows} x {cols}"
        )
    bits_arr = np.unpackbits(np.frombuffer(data, np.uint8, count=(n + 7) // 8), bitorder="little", count=n)
    return bits_arr.reshape((frames, rows, cols) if frames > 1 else (rows, cols))


def _ds_overlay_array(self: Dataset, group: int = 0x6000) -> np.ndarray:
    """The overlay plane of ``group`` (see :func:`dicomfast.pixels.overlay_array`)."""
    return overlay_array(self, group)


def _ds_pixel_array(self: Dataset) -> np.ndarray:
    """All frames of the pixel data (see :func:`dicomfast.pixel_array`)."""
    return _decode(self, None, None, False, None)


def _ds_frame(self: Dataset, index: int, raw: bool = False) -> np.ndarray:
    """Frame ``index`` (0-based), decoding only that frame."""
    return _decode(self, index, 1, raw, None)


def _ds_iter_frames(self: Dataset, raw: bool = False) -> Iterator[np.ndarray]:
    """Each frame in turn, decoded on demand."""
    return iter_pixels(self, raw)


Dataset.pixel_array = property(_ds_pixel_array)  # type: ignore[attr-defined]
Dataset.frame = _ds_frame  # type: ignore[attr-defined]
Dataset.iter_frames = _ds_iter_frames  # type: ignore[attr-defined]
Dataset.num_frames = property(num_frames)  # type: ignore[attr-defined]
Dataset.overlay_array = _ds_overlay_array  # type: ignore[attr-defined]
