"""PyTorch datasets: one item per frame (:class:`FrameDataset`) or per series (:class:`VolumeDataset`).

Both are map-style (``len`` and ``ds[i]``), so ``torch.utils.data.DataLoader`` shuffles, batches and spreads
them over worker processes. They hold only paths and frame counts, so pickling one for a worker (``spawn``) or
forking copies next to nothing; each worker opens the files it is asked for. torch is imported when a dataset
is made, never by ``import dicomfast``: install it with ``pip install dicomfast[torch]``.

Tensors without an extra copy
-----------------------------
Decoded frames (any compressed transfer syntax, or a conversion such as YBR to RGB) and rescaled arrays are new
numpy arrays that ``torch.from_numpy`` shares with no copy. Frames of uncompressed little-endian data are
read-only views over the file's memory map; torch cannot hold read-only memory, so those are copied once
(``np.array``) into a writable array, which also lets the map close. The result is always a tensor that owns
(or shares with nothing else) its memory. Volumes from :func:`~dicomfast.read_series` are new arrays, shared
with no copy.

Worker processes
----------------
Items decode on one thread each (``threads=1``): DataLoader workers are the parallelism, and a forked worker
never touches the core's global thread pool, which a fork does not carry over (a decode on it in a forked
child would wait forever).

Examples
--------
>>> from torch.utils.data import DataLoader  # doctest: +SKIP
>>> from dicomfast.torch import FrameDataset  # doctest: +SKIP
>>> frames = FrameDataset("archive/", rescale=True)  # doctest: +SKIP
>>> for batch in DataLoader(frames, batch_size=32, num_workers=4, shuffle=True):  # doctest: +SKIP
...     ...
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dicomfast.dataset import dcmread
from dicomfast.pixels import apply_modality_lut, num_frames, pixel_array
from dicomfast.volume import SeriesInfo, Volume, _fg, _map, _walk, list_series, read_series

if TYPE_CHECKING:
    import torch

__all__ = ["FrameDataset", "VolumeDataset"]


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError("dicomfast.torch needs PyTorch: pip install 'dicomfast[torch]' (or torch>=2)") from e
    return torch


def _tensor(arr: np.ndarray) -> torch.Tensor:
    """``arr`` as a tensor: shared with no copy when writable, copied once when it is a read-only file view."""
    if not arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.array(arr, order="C")
    tensor: torch.Tensor = _torch().from_numpy(arr)
    return tensor


def _frame_counts(paths: Sequence[str], threads: int | None) -> list[int]:
    def count(p: str) -> int:
        return num_frames(dcmread(p, stop_before_pixels=True, specific_tags=["NumberOfFrames"]))

    return list(_map(count, paths, threads))


class FrameDataset:
    """One item per frame of a set of files: a 2-D image tensor (``(rows, columns[, samples])``).

    Parameters
    ----------
    source : path, iterable of paths, or pyarrow.Table
        Folders (walked recursively), files, or a table with a ``path`` column, such as
        :func:`dicomfast.scan` gives (rows whose ``ok`` column is false are left out). A
        ``NumberOfFrames`` column, when the table has one, saves opening each file to count frames.
    transform : callable, optional
        Applied to each item's tensor (e.g. a torchvision transform).
    rescale : bool
        Apply the Modality LUT (Rescale Slope / Intercept or Modality LUT Sequence): float32 out.
    dtype : numpy dtype, optional
        Cast each frame to this dtype (before ``transform``).
    columns : sequence of str, optional
        Table columns returned with each frame as a dict (labels, IDs); implies ``with_meta``.
    with_meta : bool
        Return ``(tensor, meta)`` where ``meta`` holds ``path``, ``frame`` and the ``columns``.
    threads : int, optional
        Threads used once, to count the frames of the files at construction.

    Notes
    -----
    Frames are numbered file by file in the order given, frame 0 first. Each ``__getitem__`` opens its file
    (a memory map; only that frame is read and decoded, with the GIL released), so items can be fetched in
    any order from any worker.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Any,
        transform: Callable[[Any], Any] | None = None,
        rescale: bool = False,
        dtype: Any = None,
        columns: Sequence[str] | None = None,
        with_meta: bool = False,
        threads: int | None = None,
    ) -> None:
        counts: list[int] | None = None
        self._columns: dict[str, list[Any]] = {}
        if hasattr(source, "column_names") and hasattr(source, "column"):  # a pyarrow.Table
            table: Any = source
            if "ok" in table.column_names:
                table = table.filter(table.column("ok"))
            if "path" not in table.column_names:
                raise ValueError("A table source needs a 'path' column (as dicomfast.scan gives)")
            paths = [str(p) for p in table.column("path").to_pylist()]
            if "NumberOfFrames" in table.column_names:
                counts = [
                    max(int(n), 1) if n not in (None, "") else 1 for n in table.column("NumberOfFrames").to_pylist()
                ]
            for c in columns or ():
                self._columns[c] = table.column(c).to_pylist()
        else:
            if columns:
                raise ValueError("columns= needs a pyarrow.Table source")
            paths = _walk(source)
        self.paths: list[str] = paths
        self._ends = np.cumsum(counts if counts is not None else _frame_counts(paths, threads), dtype=np.int64)
        self.transform = transform
        self.rescale = rescale
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.with_meta = with_meta or bool(columns)
        _torch()

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def _locate(self, index: int) -> tuple[int, int]:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"Frame index {index} is out of range for {n} frame(s)")
        f = int(np.searchsorted(self._ends, index, side="right"))
        return f, index - (int(self._ends[f - 1]) if f else 0)

    def locate(self, index: int) -> tuple[str, int]:
        """The file and frame (0-based) of item ``index``."""
        f, frame = self._locate(index)
        return self.paths[f], frame

    def __getitem__(self, index: int) -> Any:
        f, frame = self._locate(int(index))
        path = self.paths[f]
        ds = dcmread(path)
        # threads=1: a fresh one-thread pool per call, safe in forked DataLoader workers.
        arr = pixel_array(ds, index=frame, threads=1)
        if self.rescale:
            arr = _rescale(arr, ds, frame, np.dtype(np.float32) if self.dtype is None else self.dtype)
        elif self.dtype is not None and arr.dtype != self.dtype:
            arr = arr.astype(self.dtype)
        item = _tensor(arr)
        if self.transform is not None:
            item = self.transform(item)
        if not self.with_meta:
            return item
        meta: dict[str, Any] = {"path": path, "frame": frame}
        for c, values in self._columns.items():
            meta[c] = values[f]
        return item, meta

    def __repr__(self) -> str:
        return f"FrameDataset({len(self.paths)} files, {len(self)} frames)"


def _rescale(arr: np.ndarray, ds: Any, frame: int, dtype: np.dtype) -> np.ndarray:
    """The Modality LUT of ``frame``: its Pixel Value Transformation functional group, else the data set's."""
    if ds.get("ModalityLUTSequence"):
        return np.asarray(apply_modality_lut(arr, ds), dtype=dtype)
    groups = ds.get("PerFrameFunctionalGroupsSequence")
    shared = ds.get("SharedFunctionalGroupsSequence")
    items = (groups[frame] if groups is not None and frame < len(groups) else None, shared[0] if shared else None)
    slope = _fg(items, "PixelValueTransformationSequence", "RescaleSlope")
    intercept = _fg(items, "PixelValueTransformationSequence", "RescaleIntercept")
    slope = ds.get("RescaleSlope") if slope is None else slope
    intercept = ds.get("RescaleIntercept") if intercept is None else intercept
    if dtype.kind != "f":  # an integer result: compute in float64, round
        value = arr * float(1.0 if slope in (None, "") else slope) + float(
            0.0 if intercept in (None, "") else intercept
        )
        return np.rint(value).astype(dtype)
    out = arr.astype(dtype)  # a new array: the tensor will own it
    if slope not in (None, "") and float(slope) != 1.0:
        out *= dtype.type(float(slope))
    if intercept not in (None, "") and float(intercept) != 0.0:
        out += dtype.type(float(intercept))
    return out


class VolumeDataset:
    """One item per series: a 3-D tensor ``(slices, rows, columns[, samples])`` from :func:`read_series`.

    Parameters
    ----------
    source : path, iterable, or pyarrow.Table
        A folder or files (grouped with :func:`dicomfast.list_series`); a list of :class:`SeriesInfo`, of
        folders (one series each) or of lists of files; or a table with ``path`` and ``SeriesInstanceUID``
        columns (from :func:`dicomfast.scan`).
    transform : callable, optional
        Applied to each item's tensor.
    rescale : bool
        Apply the Modality LUT (float32 Hounsfield units for CT).
    dtype : numpy dtype, optional
        The volume's dtype (see :func:`read_series`).
    with_meta : bool
        Return ``(tensor, meta)`` with ``affine`` (4×4 LPS, float64 tensor), ``spacing``, ``origin``,
        ``series_uid`` and ``paths``.
    threads : int, optional
        Threads decoding the slices of one volume (default 1: DataLoader workers already run in parallel;
        raise it with ``num_workers=0``).
    """

    def __init__(
        self,
        source: Any,
        transform: Callable[[Any], Any] | None = None,
        rescale: bool = True,
        dtype: Any = None,
        with_meta: bool = False,
        threads: int | None = 1,
    ) -> None:
        self.series: list[tuple[str | None, tuple[str, ...]]] = _series_of(source)
        self.transform = transform
        self.rescale = rescale
        self.dtype = dtype
        self.with_meta = with_meta
        self.threads = threads
        _torch()

    def __len__(self) -> int:
        return len(self.series)

    def volume(self, index: int) -> Volume:
        """The :class:`Volume` of series ``index`` (read now)."""
        uid, paths = self.series[index]
        return read_series(paths, series_uid=uid, threads=self.threads, rescale=self.rescale, dtype=self.dtype)

    def __getitem__(self, index: int) -> Any:
        vol = self.volume(int(index))
        item = _tensor(vol.array)
        if self.transform is not None:
            item = self.transform(item)
        if not self.with_meta:
            return item
        torch = _torch()
        meta = {
            "affine": torch.from_numpy(vol.affine),
            "spacing": torch.tensor(vol.spacing, dtype=torch.float64),
            "origin": torch.tensor(vol.origin, dtype=torch.float64),
            "series_uid": vol.series_uid or "",
            "paths": vol.paths,
        }
        return item, meta

    def __repr__(self) -> str:
        return f"VolumeDataset({len(self)} series)"


def _series_of(source: Any) -> list[tuple[str | None, tuple[str, ...]]]:
    if hasattr(source, "column_names") and hasattr(source, "column"):  # a pyarrow.Table
        table = source
        if "ok" in table.column_names:
            table = table.filter(table.column("ok"))
        if "path" not in table.column_names or "SeriesInstanceUID" not in table.column_names:
            raise ValueError(
                "A table source needs 'path' and 'SeriesInstanceUID' columns: "
                "dicomfast.scan(..., tags=['SeriesInstanceUID'])"
            )
        groups: dict[str, list[str]] = {}
        for p, uid in zip(table.column("path").to_pylist(), table.column("SeriesInstanceUID").to_pylist(), strict=True):
            groups.setdefault(str(uid or ""), []).append(str(p))
        return [(uid, tuple(paths)) for uid, paths in sorted(groups.items())]
    if isinstance(source, str | os.PathLike):
        return [(s.series_uid, s.paths) for s in list_series(source)]
    out: list[tuple[str | None, tuple[str, ...]]] = []
    for item in source:
        if isinstance(item, SeriesInfo):
            out.append((item.series_uid, item.paths))
        elif isinstance(item, str | os.PathLike):
            out.append((None, (os.fspath(item),)))
        else:
            out.append((None, tuple(os.fspath(p) for p in item)))
    return out
