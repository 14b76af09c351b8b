"""Encapsulated pixel data (PS3.5 §A.4): the codestream of each frame without decoding it, and encapsulation.

The names and signatures are pydicom 3's (``pydicom.encaps``): :func:`generate_frames` and :func:`get_frame`
take the value of (7FE0,0010) *Pixel Data* as pydicom's ``ds.PixelData`` gives it, and also a
:class:`~dicomfast.Dataset`, whose frames are then found through the file's own index (no copy of the
whole Pixel Data value; (0028,0008) *Number of Frames* and the Extended Offset Table taken from the data
set). Frame boundaries come, in order of preference, from the Extended Offset Table (7FE0,0001/0002), the
Basic Offset Table, one fragment per frame, all fragments for one frame, and the codestream markers, as for
decoding. A use: handing the codestreams to a decoder of one's own (a GPU one, say).

>>> ds = dicomfast.dcmread("ct_j2k.dcm")  # doctest: +SKIP
>>> first = get_frame(ds, 0)  # bytes of the first frame's JPEG 2000 codestream  # doctest: +SKIP
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

from dicomfast import _native
from dicomfast.codec import encapsulate as _encapsulate
from dicomfast.dataset import Dataset

__all__ = ["encapsulate", "encapsulate_extended", "generate_frames", "get_frame"]

ExtendedOffsets = tuple[Sequence[int], Sequence[int]] | tuple[bytes, bytes]


def _as_bytes(values: Sequence[int] | bytes) -> bytes:
    """An offset table value: given as its bytes, or as integers packed as 64-bit little endian."""
    if isinstance(values, bytes | bytearray | memoryview):
        return bytes(values)
    return struct.pack(f"<{len(values)}Q", *values)


def _codestreams(
    src: Dataset | bytes | bytearray | memoryview,
    index: int | None,
    number_of_frames: int | None,
    extended_offsets: ExtendedOffsets | None,
    transfer_syntax: str | None,
) -> list[bytes]:
    if index is not None and index < 0:
        raise IndexError(f"Frame index {index} is out of range: frames are counted from 0")
    if isinstance(src, Dataset):
        unchanged = src._native is not None and not src._elements
        if unchanged and number_of_frames is None and extended_offsets is None and transfer_syntax is None:
            return list(_native.frame_codestreams(src._native, index))
        if number_of_frames is None:
            number_of_frames = int(src.get("NumberOfFrames") or 1)
        if extended_offsets is None and "ExtendedOffsetTable" in src:
            extended_offsets = (src.ExtendedOffsetTable, src.get("ExtendedOffsetTableLengths") or b"")
        if transfer_syntax is None:
            transfer_syntax = str(src.file_meta.get("TransferSyntaxUID") or "")
        value = src.get("PixelData")
        if value is None:
            raise ValueError("The data set has no (7FE0,0010) 'Pixel Data' element")
        src = value
    eot = eot_len = None
    if extended_offsets is not None:
        eot, eot_len = (_as_bytes(v) for v in extended_offsets)
    return list(_native.value_codestreams(bytes(src), transfer_syntax or "", number_of_frames, eot, eot_len, index))


def generate_frames(
    buffer: Dataset | bytes | bytearray | memoryview,
    *,
    number_of_frames: int | None = None,
    extended_offsets: ExtendedOffsets | None = None,
    transfer_syntax: str | None = None,
) -> Iterator[bytes]:
    """Yield the codestream of each frame of encapsulated pixel data, in order.

    Parameters
    ----------
    buffer
        A data set with encapsulated pixel data, or the value of its (7FE0,0010) *Pixel Data* (the Basic
        Offset Table item, then the fragment items; a trailing Sequence Delimitation Item is allowed).
    number_of_frames
        (0028,0008) *Number of Frames*: needed with several fragments and no offset table (from the data
        set when a data set is given).
    extended_offsets
        (7FE0,0001) *Extended Offset Table* and (7FE0,0002) *Extended Offset Table Lengths*, as their
        bytes or as lists of integers.
    transfer_syntax
        The transfer syntax UID, which tells the codestream markers that start a frame when nothing else
        can (from the data set's file meta when a data set is given).

    Yields
    ------
    bytes
        One frame's codestream (its fragments joined).

    Raises
    ------
    dicomfast.ParseError
        The value is not a sequence of items (names the byte offset).
    ValueError
        Several fragments, no offset table and no ``number_of_frames``.
    """
    yield from _codestreams(buffer, None, number_of_frames, extended_offsets, transfer_syntax)


def get_frame(
    buffer: Dataset | bytes | bytearray | memoryview,
    index: int,
    *,
    number_of_frames: int | None = None,
    extended_offsets: ExtendedOffsets | None = None,
    transfer_syntax: str | None = None,
) -> bytes:
    """The codestream of frame ``index`` (from 0) of encapsulated pixel data; see :func:`generate_frames`.

    Raises
    ------
    IndexError
        ``index`` is not a frame of the pixel data.
    """
    return _codestreams(buffer, index, number_of_frames, extended_offsets, transfer_syntax)[0]


def encapsulate(frames: Sequence[bytes], fragments_per_frame: int = 1, has_bot: bool = True) -> bytes:
    """The (7FE0,0010) *Pixel Data* value for ``frames`` (PS3.5 §A.4), as pydicom's ``encapsulate``.

    Each frame is one item (``fragments_per_frame`` 1, the only value the encoders of dicomfast write) of
    even length, after a Basic Offset Table item that holds the frames' offsets (``has_bot``) or is empty.
    The Sequence Delimitation Item is not part of the value (the writer adds it).
    """
    if fragments_per_frame != 1:
        raise ValueError("dicomfast encapsulates each frame as one fragment: fragments_per_frame must be 1")
    # Without a Basic Offset Table the layout is the extended one's (an empty first item); its offset
    # tables are left unused. The Sequence Delimitation Item is cut off.
    value, _, _ = _encapsulate(list(frames), extended=not has_bot)
    return value[:-8]


def encapsulate_extended(frames: Sequence[bytes]) -> tuple[bytes, bytes, bytes]:
    """The Pixel Data value and Extended Offset Table for ``frames`` (PS3.5 §A.4.1), as pydicom's.

    Returns ``(pixel_data, extended_offset_table, extended_offset_table_lengths)``: an empty Basic Offset
    Table, then one item per frame; the 64-bit offsets and lengths of the frames' items.
    """
    value, eot, eot_len = _encapsulate(list(frames), extended=True)
    if eot is None or eot_len is None:  # (extended=True always gives them)
        raise AssertionError("encapsulate(extended=True) gave no Extended Offset Table")
    return value[:-8], eot, eot_len
