"""Series to volumes: slices sorted in space, geometry as an affine, pixels decoded in parallel.

:func:`read_series` stacks the slices of one series (single-frame files, enhanced multi-frame files read
through their functional groups, or both) into a :class:`Volume`. :func:`list_series` groups a folder by
(0020,000E) *Series Instance UID*.

Geometry convention
-------------------
Coordinates are patient coordinates in millimetres, LPS (x to the patient's Left, y to Posterior, z to
Superior: the DICOM patient coordinate system, PS3.3 §C.7.6.2.1.1). The array is ``(slices, rows, columns)``
(``[, samples]``); ``spacing``, the columns of ``direction`` and the first three columns of ``affine`` follow
ITK / SimpleITK and NIfTI and name the array's axes in reverse order, ``(column, row, slice)``::

    lps = volume.affine @ [i, j, k, 1]      # the centre of voxel volume.array[k, j, i]

so ``volume.array.T`` (or ``np.transpose``) is the ``(i, j, k)`` array that the affine describes, as nibabel
expects. ``to_ras()`` gives the same affine in RAS (x, y negated), the convention of NIfTI and nibabel.

Slices are sorted by (0020,0032) *Image Position (Patient)* projected on the normal of (0020,0037) *Image
Orientation (Patient)* (row cosine × column cosine), in increasing order: slice 0 is the one furthest along
−normal, as ITK's and GDCM's sorters do. ``spacing[2]`` is the distance between slice planes measured along
that normal from the positions, never (0018,0050) *Slice Thickness*.

Problems with a series
----------------------
Problems that leave a usable volume are reported with :func:`warnings.warn` in a subclass of
:class:`SeriesWarning` (turn any of them into an error with ``warnings.simplefilter("error", ...)``):

- :class:`DuplicateSliceWarning`: several slices at one position; the first (by *Instance Number*, then path
  and frame) is kept.
- :class:`UnevenSpacingWarning`: the distance between slices varies; the affine uses the mean spacing and
  ``Volume.positions`` gives each slice's real position. :class:`MissingSliceWarning` (a subclass) when the
  gaps look like whole slices missing.
- :class:`GantryTiltWarning`: the slices are stacked obliquely to their normal (CT gantry tilt); the third
  column of ``affine`` is then the real step between slice positions (a sheared affine, exact for the
  positions), while ``direction`` stays the orthonormal slice frame and ``spacing[2]`` the distance between
  planes, as ITK gives them.
- :class:`InconsistentPositionWarning`: the positions do not lie on one line.
- :class:`MissingGeometryWarning`: no *Image Position / Orientation (Patient)*; slices are sorted by
  *Instance Number* and the affine is the identity scaled by the spacing.

Series that cannot make one volume (different orientations, sizes or pixel spacings, positions on some
slices only) raise :class:`SeriesError`.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dicomfast import _native
from dicomfast.dataset import Dataset, dcmread
from dicomfast.errors import DicomError, InvalidDicomError
from dicomfast.pixels import apply_modality_lut, num_frames, pixel_array

__all__ = [
    "DuplicateSliceWarning",
    "GantryTiltWarning",
    "InconsistentPositionWarning",
    "MissingGeometryWarning",
    "MissingSliceWarning",
    "SeriesError",
    "SeriesInfo",
    "SeriesWarning",
    "SliceInfo",
    "UnevenSpacingWarning",
    "Volume",
    "list_series",
    "read_series",
]

# Cosines of two slices' orientations may differ by this much and still count as the same orientation.
_ORIENTATION_TOL = 1e-3
# (0002,0002) of a DICOMDIR: Media Storage Directory Storage (PS3.10 §8.6).
_MEDIA_DIRECTORY = "1.2.840.10008.1.3.10"


class SeriesError(DicomError):  # type: ignore[misc]  # DicomError comes from the compiled module
    """The files given cannot make one volume (several series, orientations, sizes or pixel spacings)."""


class SeriesWarning(UserWarning):
    """Base class of the warnings about a series' geometry."""


class DuplicateSliceWarning(SeriesWarning):
    """Several slices share one position; only the first of each position is kept."""


class UnevenSpacingWarning(SeriesWarning):
    """The distance between consecutive slices varies; the affine uses the mean."""


class MissingSliceWarning(UnevenSpacingWarning):
    """Gaps between slices are whole multiples of the usual spacing: slices look missing."""


class GantryTiltWarning(SeriesWarning):
    """Slices are stacked obliquely to their normal (CT gantry tilt); the affine is sheared."""


class InconsistentPositionWarning(SeriesWarning):
    """The slice positions do not lie on one line."""


class MissingGeometryWarning(SeriesWarning):
    """No Image Position / Orientation (Patient): slices sorted by Instance Number, identity direction."""


@dataclass(frozen=True)
class SliceInfo:
    """Where one slice of a :class:`Volume` came from.

    Attributes
    ----------
    path : str
        The file.
    frame : int or None
        The frame (0-based) in a multi-frame file; ``None`` for a single-frame file.
    position : tuple of float
        (0020,0032) *Image Position (Patient)* of the slice (from the frame's *Plane Position Sequence* in an
        enhanced multi-frame file), LPS millimetres.
    instance_number : int or None
        (0020,0013) *Instance Number*.
    sop_instance_uid : str or None
        (0008,0018) *SOP Instance UID*.
    rescale_slope, rescale_intercept : float or None
        The Modality LUT's (0028,1053) *Rescale Slope* and (0028,1052) *Rescale Intercept* of the slice (from
        the *Pixel Value Transformation Sequence* in an enhanced multi-frame file).
    """

    path: str
    frame: int | None
    position: tuple[float, float, float] | None
    instance_number: int | None
    sop_instance_uid: str | None
    rescale_slope: float | None
    rescale_intercept: float | None


@dataclass
class Volume:
    """A series stacked into one array with its geometry (see the module's convention).

    Attributes
    ----------
    array : numpy.ndarray
        ``(slices, rows, columns)``, or ``(slices, rows, columns, samples)`` for colour.
    spacing : tuple of float
        ``(column spacing, row spacing, slice spacing)`` in mm: (0028,0030) *Pixel Spacing* reversed, then the
        mean distance between slice planes along the normal.
    origin : tuple of float
        LPS position of the centre of voxel ``array[0, 0, 0]`` (the first slice's *Image Position*).
    direction : numpy.ndarray
        3×3; its columns are the unit vectors of increasing column, row and slice index (row cosine, column
        cosine, normal), as ITK's direction matrix.
    affine : numpy.ndarray
        4×4, LPS: ``affine @ [i, j, k, 1]`` is the position of ``array[k, j, i]``.
    slices : list of SliceInfo
        One per slice of ``array``, in order.
    series_uid : str or None
        (0020,000E) *Series Instance UID*.
    modality : str or None
        (0008,0060) *Modality*.
    header : Dataset or None
        The data set of the first slice (read lazily; its pixel data is not decoded again).
    """

    array: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    affine: np.ndarray
    slices: list[SliceInfo] = field(default_factory=list)
    series_uid: str | None = None
    modality: str | None = None
    header: Dataset | None = field(default=None, repr=False)

    @property
    def paths(self) -> list[str]:
        """The source file of each slice, in slice order (a multi-frame file appears once per frame)."""
        return [s.path for s in self.slices]

    @property
    def positions(self) -> np.ndarray:
        """``(slices, 3)``: each slice's *Image Position (Patient)* (LPS, mm), in slice order."""
        return np.array([s.position if s.position is not None else (np.nan,) * 3 for s in self.slices])

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return tuple(self.array.shape)

    def to_ras(self) -> np.ndarray:
        """The affine in RAS (x and y negated), as NIfTI and nibabel use it.

        Returns
        -------
        numpy.ndarray
            4×4: ``to_ras() @ [i, j, k, 1]`` is the RAS position of ``array[k, j, i]``; with
            ``np.transpose(volume.array)`` it makes a NIfTI image.
        """
        ras: np.ndarray = np.diag([-1.0, -1.0, 1.0, 1.0]) @ self.affine
        return ras

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is None or np.dtype(dtype) == self.array.dtype:
            return self.array.copy() if copy else self.array
        return self.array.astype(dtype)

    def __repr__(self) -> str:
        sp = ", ".join(f"{v:g}" for v in self.spacing)
        return f"Volume(shape={self.shape}, dtype={self.array.dtype}, spacing=({sp}), series_uid={self.series_uid!r})"


@dataclass(frozen=True)
class SeriesInfo:
    """One series found by :func:`list_series`; pass it (or its ``paths``) to :func:`read_series`.

    Attributes
    ----------
    series_uid : str
        (0020,000E) *Series Instance UID*.
    paths : tuple of str
        Its files, sorted by name.
    modality, description, series_number, study_uid, patient_id
        (0008,0060) *Modality*, (0008,103E) *Series Description*, (0020,0011) *Series Number*,
        (0020,000D) *Study Instance UID*, (0010,0020) *Patient ID* of the first file.
    frames : int
        Frames in all its files together (one per single-frame file).
    """

    series_uid: str
    paths: tuple[str, ...]
    modality: str | None = None
    description: str | None = None
    series_number: int | None = None
    study_uid: str | None = None
    patient_id: str | None = None
    frames: int = 0


# --------------------------------------------------------------------------------------------- files

_HEADER_TAGS = [
    "SeriesInstanceUID",
    "StudyInstanceUID",
    "PatientID",
    "Modality",
    "SeriesDescription",
    "SeriesNumber",
    "NumberOfFrames",
]


def _walk(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files of ``paths`` (folders walked recursively, sorted by name); hidden files are skipped."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out: list[str] = []
    for item in items:
        p = os.fspath(item)
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
        else:
            out.append(p)
    return out


def _map(fn: Callable[[Any], Any], items: Sequence[Any], threads: int | None) -> list[Any]:
    """``[fn(x) for x in items]`` on a thread pool (the core releases the GIL while it reads and decodes)."""
    n = threads if threads and threads > 0 else (os.cpu_count() or 1)
    if n == 1 or len(items) < 2:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(n, len(items))) as pool:
        return list(pool.map(fn, items))


def _read_or_none(path: str, skip_bad: bool = False, **kwargs: Any) -> Dataset | None:
    """The data set of ``path``, or ``None`` when it is not a DICOM image file (a DICOMDIR, a stray file).

    With ``skip_bad``, files that fail to parse give ``None`` too.
    """
    skipped: tuple[type[Exception], ...] = (DicomError if skip_bad else InvalidDicomError, IsADirectoryError)
    try:
        ds = dcmread(path, **kwargs)
    except skipped:
        return None
    if ds.file_meta.get("MediaStorageSOPClassUID") == _MEDIA_DIRECTORY:
        return None
    return ds


def list_series(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], threads: int | None = None
) -> list[SeriesInfo]:
    """Group the DICOM files of folders (walked recursively) or of a list of files by series.

    Only the headers are read (no pixel data), on ``threads`` threads. Files that are not DICOM or cannot be
    parsed are skipped (:func:`dicomfast.scan` reports them).

    Parameters
    ----------
    paths : path or iterable of paths
        Folders and/or files.
    threads : int, optional
        Most files read at once (default: the number of cores).

    Returns
    -------
    list of SeriesInfo
        Sorted by patient, study, series number and UID.

    Examples
    --------
    >>> for s in dicomfast.list_series("archive/"):  # doctest: +SKIP
    ...     print(s.series_uid, s.modality, len(s.paths))
    """
    files = _walk(paths)
    headers = _map(
        lambda p: _read_or_none(p, True, stop_before_pixels=True, specific_tags=_HEADER_TAGS), files, threads
    )
    return _group(files, headers)


def _group(files: Sequence[str], headers: Sequence[Dataset | None]) -> list[SeriesInfo]:
    groups: dict[str, list[tuple[str, Dataset]]] = {}
    for path, ds in zip(files, headers, strict=True):
        if ds is None:
            continue
        uid = str(ds.get("SeriesInstanceUID") or "")
        groups.setdefault(uid, []).append((path, ds))
    out = []
    for uid, members in groups.items():
        members.sort(key=lambda m: m[0])
        first = members[0][1]
        number = first.get("SeriesNumber")
        out.append(
            SeriesInfo(
                series_uid=uid,
                paths=tuple(p for p, _ in members),
                modality=_str_or_none(first.get("Modality")),
                description=_str_or_none(first.get("SeriesDescription")),
                series_number=int(number) if number not in (None, "") else None,
                study_uid=_str_or_none(first.get("StudyInstanceUID")),
                patient_id=_str_or_none(first.get("PatientID")),
                frames=sum(num_frames(ds) for _, ds in members),
            )
        )
    out.sort(key=lambda s: (s.patient_id or "", s.study_uid or "", s.series_number or 0, s.series_uid))
    return out


def _str_or_none(v: Any) -> str | None:
    return None if v in (None, "") else str(v)


# --------------------------------------------------------------------------------------------- slices


@dataclass
class _Slice:
    """A slice before sorting: where its pixels are and what its header says."""

    ds: Dataset
    path: str
    frame: int | None
    position: np.ndarray | None
    orientation: np.ndarray | None
    pixel_spacing: tuple[float, float] | None
    size: tuple[int, int]
    slope: float | None
    intercept: float | None
    instance_number: int | None
    lut: bool


def _floats(v: Any, n: int) -> np.ndarray | None:
    if v in (None, ""):
        return None
    vals = v if isinstance(v, list | tuple | np.ndarray) else [v]
    if len(vals) < n:
        return None
    try:
        return np.array([float(x) for x in list(vals)[:n]], dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _number(v: Any) -> float | None:
    if v in (None, ""):
        return None
    try:
        return float(v[0] if isinstance(v, list) else v)
    except (TypeError, ValueError, IndexError):
        return None


def _fg(items: Sequence[Dataset | None], seq: str, keyword: str) -> Any:
    """``keyword`` in the first item of functional group ``seq`` of the first of ``items`` that has it."""
    for item in items:
        if item is None:
            continue
        group = item.get(seq)
        if group:
            v = group[0].get(keyword)
            if v not in (None, ""):
                return v
    return None


def _slices_of(ds: Dataset, path: str) -> list[_Slice]:
    """The slices of one file: one, or one per frame of a multi-frame file."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    n = num_frames(ds)
    number = ds.get("InstanceNumber")
    instance = int(number) if number not in (None, "") else None
    top_pos = _floats(ds.get("ImagePositionPatient"), 3)
    top_ori = _floats(ds.get("ImageOrientationPatient"), 6)
    top_ps = _floats(ds.get("PixelSpacing"), 2)
    top_slope = _number(ds.get("RescaleSlope"))
    top_intercept = _number(ds.get("RescaleIntercept"))
    lut = bool(ds.get("ModalityLUTSequence"))
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    out = []
    if per_frame is not None or shared is not None:
        # Enhanced multi-frame (PS3.3 §C.7.6.16): each frame's Plane Position / Plane Orientation / Pixel
        # Measures / Pixel Value Transformation, per frame or shared.
        for i in range(n):
            item = per_frame[i] if per_frame is not None and i < len(per_frame) else None
            groups = (item, shared)
            pos = _floats(_fg(groups, "PlanePositionSequence", "ImagePositionPatient"), 3)
            ori = _floats(_fg(groups, "PlaneOrientationSequence", "ImageOrientationPatient"), 6)
            ps = _floats(_fg(groups, "PixelMeasuresSequence", "PixelSpacing"), 2)
            slope = _number(_fg(groups, "PixelValueTransformationSequence", "RescaleSlope"))
            intercept = _number(_fg(groups, "PixelValueTransformationSequence", "RescaleIntercept"))
            out.append(
                _Slice(
                    ds,
                    path,
                    i,
                    pos if pos is not None else (top_pos if n == 1 else None),
                    ori if ori is not None else top_ori,
                    _pair(ps if ps is not None else top_ps),
                    (rows, cols),
                    slope if slope is not None else top_slope,
                    intercept if intercept is not None else top_intercept,
                    instance,
                    lut,
                )
            )
        return out
    if n == 1:
        return [
            _Slice(
                ds, path, None, top_pos, top_ori, _pair(top_ps), (rows, cols), top_slope, top_intercept, instance, lut
            )
        ]
    # A multi-frame file without functional groups: frames stacked from Image Position (Patient) along the normal
    # by (0018,0088) Spacing Between Slices (else Slice Thickness), as ITK reads them.
    step = _number(ds.get("SpacingBetweenSlices")) or _number(ds.get("SliceThickness")) or 1.0
    normal = _normal(top_ori) if top_ori is not None else None
    for i in range(n):
        pos = top_pos + i * step * normal if top_pos is not None and normal is not None else None
        out.append(
            _Slice(ds, path, i, pos, top_ori, _pair(top_ps), (rows, cols), top_slope, top_intercept, instance, lut)
        )
    return out


def _triple(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _pair(v: np.ndarray | None) -> tuple[float, float] | None:
    return None if v is None else (float(v[0]), float(v[1]))


def _normal(ori: np.ndarray) -> np.ndarray:
    n = np.cross(ori[:3], ori[3:])
    norm = float(np.linalg.norm(n))
    if norm < 1e-6:
        raise SeriesError(f"(0020,0037) 'Image Orientation (Patient)' {list(ori)} has parallel row and column cosines")
    return n / norm


# --------------------------------------------------------------------------------------------- geometry


@dataclass
class _Geometry:
    order: list[int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    affine: np.ndarray


def _close(a: Sequence[float], b: Sequence[float], tol: float) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _check_same(slices: Sequence[_Slice]) -> None:
    first = slices[0]
    ps0 = first.pixel_spacing
    ori0 = None if first.orientation is None else first.orientation.tolist()
    for s in slices[1:]:
        if s.size != first.size:
            raise SeriesError(
                f"Slices of different sizes: {first.size[0]}x{first.size[1]} in {first.path} and "
                f"{s.size[0]}x{s.size[1]} in {s.path}; pass the files of one stack"
            )
        ps = s.pixel_spacing
        if (ps is None) != (ps0 is None) or (
            ps is not None and ps0 is not None and not _close(ps, ps0, 1e-6 + 1e-4 * max(ps0))
        ):
            raise SeriesError(
                f"Slices with different (0028,0030) 'Pixel Spacing': {ps0} in {first.path} and {ps} in {s.path}"
            )
        ori = None if s.orientation is None else s.orientation.tolist()
        if (ori is None) != (ori0 is None) or (
            ori is not None and ori0 is not None and not _close(ori, ori0, _ORIENTATION_TOL)
        ):
            raise SeriesError(
                f"Slices with different (0020,0037) 'Image Orientation (Patient)': {_fmt(first.orientation)} in "
                f"{_where(first)} and {_fmt(s.orientation)} in {_where(s)}; a series mixing orientations (e.g. "
                "localizers) needs its files split by orientation"
            )


def _fmt(v: np.ndarray | None) -> str:
    return "none" if v is None else "[" + ", ".join(f"{x:g}" for x in v) + "]"


def _where(s: _Slice) -> str:
    return s.path if s.frame is None else f"{s.path} frame {s.frame}"


def _geometry(slices: Sequence[_Slice]) -> _Geometry:
    """Sort ``slices`` and work out the geometry, warning about what looks wrong (see the module docstring)."""
    _check_same(slices)
    first = slices[0]
    ps = first.pixel_spacing or (1.0, 1.0)
    col_step, row_step = float(ps[1]), float(ps[0])
    has_pos = [s.position is not None for s in slices]
    if first.orientation is None or not any(has_pos):
        if len(slices) > 1 or first.orientation is None:
            warnings.warn(
                "No (0020,0032) 'Image Position (Patient)' / (0020,0037) 'Image Orientation (Patient)': slices "
                "sorted by Instance Number, direction set to the identity",
                MissingGeometryWarning,
                stacklevel=3,
            )
        order = sorted(range(len(slices)), key=lambda i: _tiebreak(slices[i]))
        dz = _number(first.ds.get("SpacingBetweenSlices")) or _number(first.ds.get("SliceThickness")) or 1.0
        origin = first.position if first.position is not None else np.zeros(3)
        if first.orientation is not None:
            direction = np.column_stack([first.orientation[:3], first.orientation[3:], _normal(first.orientation)])
        else:
            direction = np.eye(3)
        return _finish(order, (col_step, row_step, dz), origin, direction, direction[:, 2] * dz)
    if not all(has_pos):
        missing = next(s for s in slices if s.position is None)
        raise SeriesError(f"(0020,0032) 'Image Position (Patient)' is missing in {_where(missing)} but not in others")

    row_cos, col_cos = first.orientation[:3], first.orientation[3:]
    normal = _normal(first.orientation)
    direction = np.column_stack([row_cos, col_cos, normal])
    pos = np.array([s.position for s in slices])
    dist = pos @ normal
    order = sorted(range(len(slices)), key=lambda i: (dist[i], *_tiebreak(slices[i])))

    # Duplicates: the same position (within 1 µm).
    kept = [order[0]]
    dropped: list[int] = []
    for i in order[1:]:
        if float(np.linalg.norm(pos[i] - pos[kept[-1]])) < 1e-3:
            if _tiebreak(slices[i]) < _tiebreak(slices[kept[-1]]):
                i, kept[-1] = kept[-1], i
            dropped.append(i)
        else:
            kept.append(i)
    if dropped:
        names = ", ".join(_where(slices[i]) for i in dropped[:3]) + (", ..." if len(dropped) > 3 else "")
        repeats = len(slices) / len(kept)
        hint = (
            f"; every position appears {repeats:g} times: the series looks like {repeats:g} volumes (time points, "
            "echoes, phases) that need splitting before read_series"
            if repeats.is_integer() and repeats > 1 and len(kept) > 1
            else ""
        )
        warnings.warn(
            f"{len(dropped)} slice(s) share a position with another slice and were left out ({names}); "
            f"the first by Instance Number was kept{hint}",
            DuplicateSliceWarning,
            stacklevel=3,
        )
    order = kept
    n = len(order)
    origin = pos[order[0]]
    if n == 1:
        dz = _number(first.ds.get("SpacingBetweenSlices")) or _number(first.ds.get("SliceThickness")) or 1.0
        return _finish(order, (col_step, row_step, dz), origin, direction, normal * dz)

    d = dist[order] - dist[order[0]]
    steps = np.diff(d)
    dz = float(d[-1]) / (n - 1)
    if dz <= 1e-6:
        raise SeriesError("The slices' positions do not advance along their normal: they cannot be stacked")
    tol = 1e-3 * dz + 1e-4
    if float(np.max(np.abs(steps - dz))) > tol:
        usual = float(np.median(steps))
        ratio = steps / usual
        if usual > tol and np.all(np.abs(ratio - np.rint(ratio)) < 0.05) and np.any(ratio > 1.5):
            missing_count = int(np.sum(np.rint(ratio) - 1))
            warnings.warn(
                f"About {missing_count} slice(s) look missing: gaps of {_steps(steps[ratio > 1.5])} mm between slices "
                f"usually {usual:g} mm apart; the affine uses the mean spacing {dz:g} mm, Volume.positions has each "
                "slice's position",
                MissingSliceWarning,
                stacklevel=3,
            )
        else:
            warnings.warn(
                f"Uneven slice spacing: steps from {float(steps.min()):g} to {float(steps.max()):g} mm; the affine "
                f"uses the mean {dz:g} mm, Volume.positions has each slice's position",
                UnevenSpacingWarning,
                stacklevel=3,
            )

    # In-plane offsets of each slice from the first: a line through zero for tilted stacks, zero otherwise.
    rel = pos[order] - origin
    inplane = rel - np.outer(d, normal)
    shear = (inplane.T @ d) / float(d @ d)  # in-plane shift per mm along the normal (least squares)
    residual = float(np.max(np.linalg.norm(inplane - np.outer(d, shear), axis=1)))
    tilt = float(np.linalg.norm(shear))
    if residual > 1e-3 + 1e-3 * dz:
        tilt = 0.0  # no clean line: not a tilt, and the best fit is what the affine gets
        warnings.warn(
            f"The slice positions do not lie on one line (up to {residual:.3g} mm off it); the affine is a best fit",
            InconsistentPositionWarning,
            stacklevel=3,
        )
    if tilt > 1e-4:
        warnings.warn(
            f"Slices are stacked at {math.degrees(math.atan(tilt)):.3g}° to their normal (gantry tilt): the affine is "
            "sheared to match the positions; resample before using direction and spacing alone",
            GantryTiltWarning,
            stacklevel=3,
        )
    elif residual <= 1e-3 + 1e-3 * dz:
        shear = np.zeros(3)
    return _finish(order, (col_step, row_step, dz), origin, direction, (normal + shear) * dz)


def _steps(v: np.ndarray) -> str:
    return ", ".join(f"{x:g}" for x in v[:5]) + (", ..." if len(v) > 5 else "")


def _tiebreak(s: _Slice) -> tuple[int, str, int]:
    return (s.instance_number if s.instance_number is not None else 0, s.path, s.frame or 0)


def _finish(
    order: list[int],
    spacing: tuple[float, float, float],
    origin: np.ndarray,
    direction: np.ndarray,
    slice_step: np.ndarray,
) -> _Geometry:
    affine = np.eye(4)
    affine[:3, 0] = direction[:, 0] * spacing[0]
    affine[:3, 1] = direction[:, 1] * spacing[1]
    affine[:3, 2] = slice_step
    affine[:3, 3] = origin
    return _Geometry(
        order,
        (float(spacing[0]), float(spacing[1]), float(spacing[2])),
        _triple(origin),
        direction,
        affine,
    )


# --------------------------------------------------------------------------------------------- pixels


def _rescaled(s: _Slice) -> bool:
    return s.lut or s.slope is not None or s.intercept is not None


def _store(dst: np.ndarray, arr: np.ndarray, s: _Slice, rescale: bool) -> None:
    """Write slice ``arr`` into ``dst`` (a view into the volume), applying the Modality LUT when asked."""
    if not rescale or not _rescaled(s):
        np.copyto(dst, arr, casting="unsafe")
        return
    if s.lut:
        np.copyto(dst, apply_modality_lut(arr, s.ds), casting="unsafe")
        return
    slope = 1.0 if s.slope is None else s.slope
    intercept = 0.0 if s.intercept is None else s.intercept
    if dst.dtype.kind != "f":
        np.copyto(dst, np.rint(arr * slope + intercept), casting="unsafe")
        return
    kind = dst.dtype.type
    if kind is np.float32 and _native.rescale_into(arr, dst, slope, intercept):
        # 8/16-bit slices into float32: one fused pass in the core, the GIL released, same float32 steps
        return
    if slope == 1.0:  # the usual CT case: one pass, int16 + float32 computed in float32 (exact)
        np.add(arr, kind(intercept), out=dst, casting="unsafe")
        return
    np.multiply(arr, kind(slope), out=dst, casting="unsafe")
    if intercept != 0.0:
        np.add(dst, kind(intercept), out=dst)


def _decode(s: _Slice) -> np.ndarray:
    # One thread per slice: the slices themselves run in parallel, and a fresh pool per call stays fork-safe.
    return pixel_array(s.ds, index=s.frame, threads=1)


# --------------------------------------------------------------------------------------------- read_series


def read_series(
    paths_or_dir: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | SeriesInfo,
    series_uid: str | None = None,
    threads: int | None = None,
    rescale: bool = True,
    dtype: Any = None,
) -> Volume:
    """Read one series into a :class:`Volume`: slices sorted in space, geometry, pixels decoded in parallel.

    Parameters
    ----------
    paths_or_dir : path, iterable of paths or SeriesInfo
        A folder (walked recursively), files, or a :class:`SeriesInfo` from :func:`list_series`. Files that
        are not DICOM are skipped. Enhanced multi-frame files give one slice per frame.
    series_uid : str, optional
        Keep only this (0020,000E) *Series Instance UID*; required when the files hold several series.
    threads : int, optional
        Most files read and decoded at once (default: the number of cores). The core decodes with the GIL
        released, so the slices decode in parallel.
    rescale : bool
        Apply the Modality LUT (PS3.3 §C.11.1: *Rescale Slope* / *Intercept* of each slice or frame, or a
        *Modality LUT Sequence*): CT comes out in Hounsfield units.
    dtype : numpy dtype, optional
        The array's dtype. Default: ``float32`` when ``rescale`` and a slice has a Modality LUT, else the
        stored dtype. An integer dtype with ``rescale`` rounds to the nearest integer.

    Returns
    -------
    Volume
        ``array`` ``(slices, rows, columns[, samples])`` with ``spacing``, ``origin``, ``direction``,
        ``affine`` (LPS) and ``slices``.

    Raises
    ------
    SeriesError
        No image, several series without ``series_uid``, or slices that cannot make one volume.

    Warns
    -----
    SeriesWarning
        Duplicate, missing or unevenly spaced slices, gantry tilt, positions off a line, no geometry (see
        the module docstring).

    Examples
    --------
    >>> vol = dicomfast.read_series("CT_SERIES/")  # doctest: +SKIP
    >>> vol.array.shape, vol.array.dtype, vol.spacing  # doctest: +SKIP
    ((300, 512, 512), dtype('float32'), (0.7, 0.7, 1.25))
    """
    if isinstance(paths_or_dir, SeriesInfo):
        if series_uid is None:
            series_uid = paths_or_dir.series_uid
        paths_or_dir = paths_or_dir.paths
    files = _walk(paths_or_dir)
    datasets = _map(_read_or_none, files, threads)
    members = [(p, ds) for p, ds in zip(files, datasets, strict=True) if ds is not None and "PixelData" in ds]
    if series_uid is not None:
        members = [(p, ds) for p, ds in members if str(ds.get("SeriesInstanceUID") or "") == series_uid]
    if not members:
        which = f" of series {series_uid}" if series_uid is not None else ""
        raise SeriesError(f"No DICOM image{which} in the {len(files)} file(s) given")
    uids = {str(ds.get("SeriesInstanceUID") or "") for _, ds in members}
    if len(uids) > 1:
        found = _group([p for p, _ in members], [ds for _, ds in members])
        listing = "; ".join(f"{s.series_uid} ({s.modality}, {len(s.paths)} files)" for s in found[:10])
        raise SeriesError(f"The files hold {len(uids)} series: {listing}; choose one with series_uid=")

    slices = [s for p, ds in members for s in _slices_of(ds, p)]
    geo = _geometry(slices)
    ordered = [slices[i] for i in geo.order]

    first = _decode(ordered[0])
    want_rescale = rescale and any(_rescaled(s) for s in ordered)
    out_dtype = np.dtype(dtype) if dtype is not None else (np.dtype(np.float32) if want_rescale else first.dtype)
    array = np.empty((len(ordered), *first.shape), dtype=out_dtype)
    _store(array[0], first, ordered[0], rescale)

    def work(k: int) -> None:
        _store(array[k], _decode(ordered[k]), ordered[k], rescale)

    _map(work, range(1, len(ordered)), threads)
    head = ordered[0].ds
    return Volume(
        array=array,
        spacing=geo.spacing,
        origin=geo.origin,
        direction=geo.direction,
        affine=geo.affine,
        slices=[
            SliceInfo(
                path=s.path,
                frame=s.frame,
                position=None if s.position is None else _triple(s.position),
                instance_number=s.instance_number,
                sop_instance_uid=_str_or_none(s.ds.get("SOPInstanceUID")),
                rescale_slope=s.slope,
                rescale_intercept=s.intercept,
            )
            for s in ordered
        ],
        series_uid=_str_or_none(head.get("SeriesInstanceUID")),
        modality=_str_or_none(head.get("Modality")),
        header=head,
    )
