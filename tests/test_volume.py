"""Series to volumes: geometry on writer-built series, problems reported, enhanced multi-frame, SimpleITK oracle."""

from __future__ import annotations

import math
import random
import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomfast
from dicomfast import Dataset, _native
from dicomfast.volume import (
    DuplicateSliceWarning,
    GantryTiltWarning,
    InconsistentPositionWarning,
    MissingGeometryWarning,
    MissingSliceWarning,
    SeriesError,
    SeriesInfo,
    SeriesWarning,
    UnevenSpacingWarning,
    Volume,
    list_series,
    read_series,
)
from tests.conftest import CORPUS

ROWS, COLS = 6, 5
CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def _pixels(k: int, rows: int = ROWS, cols: int = COLS) -> np.ndarray:
    """Slice ``k``'s stored values: unique per slice so the order can be checked."""
    return (np.arange(rows * cols, dtype=np.int16).reshape(rows, cols) + 100 * k).astype(np.int16)


def _image(uid: str, k: int, pos: np.ndarray, iop: list[float], **extra: object) -> Dataset:
    elems: dict[str, object] = {
        "SOPClassUID": CT,
        "SOPInstanceUID": f"{uid}.{k + 1}",
        "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.1",
        "SeriesInstanceUID": uid,
        "Modality": "CT",
        "PatientID": "P1",
        "SeriesNumber": 1,
        "InstanceNumber": k + 1,
        "ImagePositionPatient": [float(x) for x in pos],
        "ImageOrientationPatient": [float(x) for x in iop],
        "PixelSpacing": [0.75, 0.5],  # row spacing, column spacing
        "SliceThickness": 99.0,  # deliberately wrong: spacing must come from the positions
        "Rows": ROWS,
        "Columns": COLS,
        "SamplesPerPixel": 1,
        "PhotometricInterpretation": "MONOCHROME2",
        "BitsAllocated": 16,
        "BitsStored": 16,
        "HighBit": 15,
        "PixelRepresentation": 1,
        "RescaleSlope": 1.0,
        "RescaleIntercept": -1024.0,
        "PixelData": _pixels(k).tobytes(),
    }
    elems.update(extra)
    return Dataset(elems)


def _write_series(
    folder: Path,
    iop: list[float],
    origin: list[float],
    step: np.ndarray,
    n: int = 5,
    uid: str = "1.2.826.0.1.3680043.8.498.10",
    shuffle: bool = True,
    skip: tuple[int, ...] = (),
    offsets: dict[int, float] | None = None,
) -> list[np.ndarray]:
    """Write slices ``origin + k * step`` (k not in ``skip``) with shuffled file names; return the positions."""
    folder.mkdir(parents=True, exist_ok=True)
    ks = [k for k in range(n) if k not in skip]
    names = list(range(len(ks)))
    if shuffle:
        random.Random(7).shuffle(names)
    positions = []
    for k, name in zip(ks, names, strict=True):
        pos = np.asarray(origin, dtype=np.float64) + k * step
        if offsets and k in offsets:
            pos = pos + offsets[k] * _unit(np.cross(iop[:3], iop[3:]))
        positions.append(pos)
        dicomfast.dcmwrite(folder / f"IM{name:04d}.dcm", _image(uid, k, pos, iop))
    return positions


def _normal(iop: list[float]) -> np.ndarray:
    return _unit(list(np.cross(iop[:3], iop[3:])))


_C, _S = math.cos(math.radians(30)), math.sin(math.radians(30))
_ROW = _unit([_C, _S, 0.2])
_A = np.array([0.1, -0.3, 1.0])
_COL = _unit(list(_A - (_A @ _ROW) * _ROW))  # orthogonal to the row cosine
OBLIQUE_IOP = [*_ROW.tolist(), *_COL.tolist()]

GEOMETRY = {
    # name: (IOP, origin, spacing along the normal)
    "axial": ([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], [-120.5, -80.25, 30.0], 2.5),
    "sagittal": ([0.0, 1.0, 0.0, 0.0, 0.0, -1.0], [10.0, -100.0, 90.0], 1.25),
    "coronal": ([1.0, 0.0, 0.0, 0.0, 0.0, -1.0], [-100.0, 5.0, 90.0], 3.0),
    "oblique": (OBLIQUE_IOP, [12.5, -7.25, 40.125], 0.8),
    "descending": ([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 100.0], -2.0),
}


@pytest.mark.parametrize("name", sorted(GEOMETRY))
def test_geometry_is_exact(tmp_path: Path, name: str) -> None:
    iop, origin, dz = GEOMETRY[name]
    normal = _normal(iop)
    positions = _write_series(tmp_path, iop, origin, normal * dz)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeriesWarning)
        vol = read_series(tmp_path)
    # Slice 0 is the one furthest along -normal (ITK's order).
    expected = sorted(range(len(positions)), key=lambda k: float(positions[k] @ normal))
    assert vol.array.shape == (5, ROWS, COLS)
    assert vol.array.dtype == np.float32
    for i, k in enumerate(expected):
        np.testing.assert_array_equal(vol.array[i], _pixels(k).astype(np.float32) - 1024)
        np.testing.assert_allclose(vol.slices[i].position, positions[k], atol=1e-9)
    assert vol.spacing == pytest.approx((0.5, 0.75, abs(dz)), abs=1e-9)
    np.testing.assert_allclose(vol.origin, positions[expected[0]], atol=1e-9)
    direction = np.column_stack([iop[:3], iop[3:], normal])
    np.testing.assert_allclose(vol.direction, direction, atol=1e-9)
    affine = np.eye(4)
    affine[:3, :3] = direction * np.array([0.5, 0.75, abs(dz)])
    affine[:3, 3] = positions[expected[0]]
    np.testing.assert_allclose(vol.affine, affine, atol=1e-9)
    # Every voxel centre: affine @ [i, j, k, 1] = IPP_k + i * col_spacing * row_cos + j * row_spacing * col_cos.
    for i, k in enumerate(expected):
        for r, c in ((0, 0), (ROWS - 1, 0), (2, COLS - 1)):
            lps = positions[k] + c * 0.5 * np.asarray(iop[:3]) + r * 0.75 * np.asarray(iop[3:])
            np.testing.assert_allclose(vol.affine @ [c, r, i, 1], [*lps, 1.0], atol=1e-9)
    ras = vol.to_ras()
    np.testing.assert_allclose(ras[:2], -vol.affine[:2], atol=0)
    np.testing.assert_allclose(ras[2:], vol.affine[2:], atol=0)


def test_gantry_tilt_shears_the_affine(tmp_path: Path) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    tilt = math.radians(15)
    dz = 2.0
    # Tilted CT: the same orientation on every slice, positions shifted along y as they advance in z.
    step = np.array([0.0, dz * math.tan(tilt), dz])
    positions = _write_series(tmp_path, iop, [-50.0, -60.0, 10.0], step)
    with pytest.warns(GantryTiltWarning, match="15°"):
        vol = read_series(tmp_path)
    assert vol.spacing == pytest.approx((0.5, 0.75, dz), abs=1e-9)
    np.testing.assert_allclose(vol.direction, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(vol.affine[:3, 2], step, atol=1e-9)
    for k, pos in enumerate(positions):
        np.testing.assert_allclose(vol.affine @ [0, 0, k, 1], [*pos, 1.0], atol=1e-9)
        np.testing.assert_array_equal(vol.array[k], _pixels(k) - 1024)


@pytest.mark.parametrize(
    ("case", "warning", "match", "slices"),
    [
        ("missing", MissingSliceWarning, "About 2 slice", 6),
        ("uneven", UnevenSpacingWarning, "Uneven slice spacing", 8),
        ("off_line", InconsistentPositionWarning, "do not lie on one line", 8),
    ],
)
def test_spacing_problems_warn(tmp_path: Path, case: str, warning: type[Warning], match: str, slices: int) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    if case == "missing":
        positions = _write_series(tmp_path, iop, [0.0, 0.0, 0.0], np.array([0, 0, 1.5]), n=8, skip=(3, 4))
    elif case == "uneven":
        positions = _write_series(tmp_path, iop, [0.0, 0.0, 0.0], np.array([0, 0, 1.5]), n=8, offsets={5: 0.4})
    else:
        positions = _write_series(tmp_path, iop, [0.0, 0.0, 0.0], np.array([0, 0, 1.5]), n=8)
        ds = dicomfast.dcmread(tmp_path / "IM0000.dcm")
        moved = Dataset({e.keyword: e.value for e in ds if e.keyword})
        moved.ImagePositionPatient = [float(ds.ImagePositionPatient[0]) + 3.0, *ds.ImagePositionPatient[1:]]
        dicomfast.dcmwrite(tmp_path / "IM0000.dcm", moved)
    with pytest.warns(warning, match=match):
        vol = read_series(tmp_path)
    assert vol.array.shape[0] == slices
    z = np.array(sorted(float(p[2]) for p in positions))
    np.testing.assert_allclose(vol.positions[:, 2], z, atol=1e-9)
    assert vol.spacing[2] == pytest.approx((z[-1] - z[0]) / (len(z) - 1))


def test_missing_slice_is_an_uneven_spacing_warning() -> None:
    assert issubclass(MissingSliceWarning, UnevenSpacingWarning)
    assert issubclass(UnevenSpacingWarning, SeriesWarning)
    assert issubclass(SeriesWarning, UserWarning)
    assert issubclass(SeriesError, dicomfast.DicomError)


def test_duplicates_keep_the_first(tmp_path: Path) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    _write_series(tmp_path, iop, [0.0, 0.0, 0.0], np.array([0, 0, 2.0]), n=4, shuffle=False)
    # The same position again, as instance 9 (a second acquisition at that position).
    dicomfast.dcmwrite(
        tmp_path / "dup.dcm", _image("1.2.826.0.1.3680043.8.498.10", 8, np.array([0, 0, 4.0]), iop, InstanceNumber=9)
    )
    with pytest.warns(DuplicateSliceWarning, match="1 slice"):
        vol = read_series(tmp_path)
    assert vol.array.shape[0] == 4
    assert [s.instance_number for s in vol.slices] == [1, 2, 3, 4]
    np.testing.assert_array_equal(vol.array[2], _pixels(2) - 1024)


def test_duplicate_warning_can_be_an_error(tmp_path: Path) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    _write_series(tmp_path, iop, [0.0, 0.0, 0.0], np.array([0, 0, 2.0]), n=3, shuffle=False)
    dicomfast.dcmwrite(tmp_path / "copy.dcm", dicomfast.dcmread(tmp_path / "IM0001.dcm"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateSliceWarning)
        with pytest.raises(DuplicateSliceWarning):
            read_series(tmp_path)


def _rewrite(path: Path, **changes: object) -> None:
    ds = dicomfast.dcmread(path)
    new = Dataset({e.keyword: e.value for e in ds if e.keyword})
    for k, v in changes.items():
        if v is None:
            delattr(new, k)
        else:
            setattr(new, k, v)
    dicomfast.dcmwrite(path, new)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"ImageOrientationPatient": [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]}, "different \\(0020,0037\\)"),
        ({"PixelSpacing": [0.9, 0.9]}, "different \\(0028,0030\\)"),
        ({"ImagePositionPatient": None}, "missing in"),
    ],
)
def test_inconsistent_series_raise(tmp_path: Path, change: dict[str, object], match: str) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    _write_series(tmp_path, iop, [0.0, 0.0, 0.0], np.array([0, 0, 2.0]), n=3)
    _rewrite(tmp_path / "IM0001.dcm", **change)
    with pytest.raises(SeriesError, match=match):
        read_series(tmp_path)


def test_different_sizes_raise(tmp_path: Path) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    _write_series(tmp_path, iop, [0.0, 0.0, 0.0], np.array([0, 0, 2.0]), n=2)
    big = _image("1.2.826.0.1.3680043.8.498.10", 5, np.array([0, 0, 9.0]), iop, Rows=COLS, Columns=ROWS)
    dicomfast.dcmwrite(tmp_path / "big.dcm", big)
    with pytest.raises(SeriesError, match="different sizes"):
        read_series(tmp_path)


def test_no_geometry_sorts_by_instance_number(tmp_path: Path) -> None:
    for k in (2, 0, 1):
        ds = _image("1.2.3.4", k, np.zeros(3), [1, 0, 0, 0, 1, 0])
        del ds.ImagePositionPatient
        del ds.ImageOrientationPatient
        dicomfast.dcmwrite(tmp_path / f"f{k}.dcm", ds)
    with pytest.warns(MissingGeometryWarning):
        vol = read_series(tmp_path)
    for k in range(3):
        np.testing.assert_array_equal(vol.array[k], _pixels(k) - 1024)
    np.testing.assert_allclose(vol.direction, np.eye(3))


# --------------------------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("rescale", "dtype", "expected_dtype", "offset"),
    [
        (True, None, np.float32, -1024),
        (False, None, np.int16, 0),
        (True, np.float64, np.float64, -1024),
        (True, np.int16, np.int16, -1024),
        (False, np.float32, np.float32, 0),
    ],
)
def test_rescale_and_dtype(tmp_path: Path, rescale: bool, dtype: object, expected_dtype: object, offset: int) -> None:
    _write_series(tmp_path, [1, 0, 0, 0, 1, 0], [0.0, 0.0, 0.0], np.array([0, 0, 1.0]), n=3)
    vol = read_series(tmp_path, rescale=rescale, dtype=dtype, threads=2)
    assert vol.array.dtype == expected_dtype
    for k in range(3):
        np.testing.assert_array_equal(vol.array[k], _pixels(k).astype(np.float64) + offset)


def test_per_slice_rescale_and_non_integral_slope(tmp_path: Path) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    for k in range(3):
        ds = _image("1.2.3.5", k, np.array([0, 0, float(k)]), iop, RescaleSlope=0.5 + k, RescaleIntercept=-10.0 * k)
        dicomfast.dcmwrite(tmp_path / f"{k}.dcm", ds)
    vol = read_series(tmp_path, threads=1)
    for k in range(3):
        ref = dicomfast.apply_modality_lut(_pixels(k), dicomfast.dcmread(tmp_path / f"{k}.dcm"))
        np.testing.assert_allclose(vol.array[k], ref, rtol=1e-6)
        assert vol.slices[k].rescale_slope == 0.5 + k


def test_no_rescale_tags_keep_stored_dtype(tmp_path: Path) -> None:
    for k in range(2):
        ds = _image("1.2.3.6", k, np.array([0, 0, float(k)]), [1, 0, 0, 0, 1, 0])
        del ds.RescaleSlope
        del ds.RescaleIntercept
        dicomfast.dcmwrite(tmp_path / f"{k}.dcm", ds)
    vol = read_series(tmp_path)
    assert vol.array.dtype == np.int16


def test_several_series(tmp_path: Path) -> None:
    iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    _write_series(tmp_path / "a", iop, [0.0, 0.0, 0.0], np.array([0, 0, 1.0]), n=3, uid="1.2.3.100")
    _write_series(tmp_path / "b", iop, [0.0, 0.0, 0.0], np.array([0, 0, 2.0]), n=4, uid="1.2.3.200")
    (tmp_path / "notes.txt").write_text("not DICOM")
    found = list_series(tmp_path)
    assert [s.series_uid for s in found] == ["1.2.3.100", "1.2.3.200"]
    assert [len(s.paths) for s in found] == [3, 4]
    assert [s.frames for s in found] == [3, 4]
    assert found[0].modality == "CT"
    assert found[0].patient_id == "P1"
    assert found[0].series_number == 1
    with pytest.raises(SeriesError, match="hold 2 series"):
        read_series(tmp_path)
    vol = read_series(tmp_path, series_uid="1.2.3.200")
    assert vol.array.shape[0] == 4
    assert vol.spacing[2] == pytest.approx(2.0)
    assert read_series(found[0]).series_uid == "1.2.3.100"
    with pytest.raises(SeriesError, match=r"No DICOM image of series 9\.9"):
        read_series(tmp_path, series_uid="9.9")


def test_volume_api(tmp_path: Path) -> None:
    _write_series(tmp_path, [1, 0, 0, 0, 1, 0], [0.0, 0.0, 0.0], np.array([0, 0, 1.0]), n=3, shuffle=False)
    vol = read_series([str(p) for p in sorted(tmp_path.iterdir())])
    assert isinstance(vol, Volume)
    assert vol.paths == [str(tmp_path / f"IM{k:04d}.dcm") for k in range(3)]
    assert vol.shape == (3, ROWS, COLS)
    assert np.asarray(vol) is vol.array
    assert vol.header is not None
    assert vol.header.InstanceNumber == 1
    assert vol.modality == "CT"
    assert "shape=(3, 6, 5)" in repr(vol)
    assert isinstance(SeriesInfo("1", ("a",)).paths, tuple)


# --------------------------------------------------------------------------------------------- enhanced multi-frame


def _enhanced(path: Path, positions: list[np.ndarray], iop: list[float], slopes: list[float], shared_iop: bool) -> None:
    per_frame = []
    for k, pos in enumerate(positions):
        item: dict[str, object] = {
            "PlanePositionSequence": [Dataset({"ImagePositionPatient": [float(x) for x in pos]})],
            "PixelValueTransformationSequence": [
                Dataset({"RescaleSlope": slopes[k], "RescaleIntercept": -1000.0, "RescaleType": "HU"})
            ],
        }
        if not shared_iop:
            item["PlaneOrientationSequence"] = [Dataset({"ImageOrientationPatient": iop})]
        per_frame.append(Dataset(item))
    shared: dict[str, object] = {
        "PixelMeasuresSequence": [Dataset({"PixelSpacing": [0.75, 0.5], "SliceThickness": 1.0})]
    }
    if shared_iop:
        shared["PlaneOrientationSequence"] = [Dataset({"ImageOrientationPatient": iop})]
    frames = np.stack([_pixels(k) for k in range(len(positions))])
    ds = Dataset(
        {
            "SOPClassUID": ENHANCED_CT,
            "SOPInstanceUID": "1.2.3.7.1",
            "SeriesInstanceUID": "1.2.3.7",
            "Modality": "CT",
            "NumberOfFrames": len(positions),
            "Rows": ROWS,
            "Columns": COLS,
            "SamplesPerPixel": 1,
            "PhotometricInterpretation": "MONOCHROME2",
            "BitsAllocated": 16,
            "BitsStored": 16,
            "HighBit": 15,
            "PixelRepresentation": 1,
            "SharedFunctionalGroupsSequence": [Dataset(shared)],
            "PerFrameFunctionalGroupsSequence": per_frame,
            "PixelData": frames.tobytes(),
        }
    )
    dicomfast.dcmwrite(path, ds)


@pytest.mark.parametrize("shared_iop", [True, False])
def test_enhanced_multiframe(tmp_path: Path, shared_iop: bool) -> None:
    iop = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]  # sagittal: normal along -x... (row y, column -z)
    normal = _normal(iop)
    order = [3, 0, 4, 1, 2]  # frames stored out of spatial order
    positions = [np.array([5.0, -20.0, 40.0]) + k * 1.5 * normal for k in order]
    slopes = [1.0 + 0.25 * k for k in order]
    _enhanced(tmp_path / "mf.dcm", positions, iop, slopes, shared_iop)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeriesWarning)
        vol = read_series(tmp_path / "mf.dcm")
    assert vol.array.shape == (5, ROWS, COLS)
    assert vol.spacing == pytest.approx((0.5, 0.75, 1.5))
    np.testing.assert_allclose(vol.origin, [5.0, -20.0, 40.0], atol=1e-9)
    np.testing.assert_allclose(vol.direction, np.column_stack([iop[:3], iop[3:], normal]), atol=1e-12)
    for i in range(5):
        frame = order.index(i)
        assert vol.slices[i].frame == frame
        np.testing.assert_allclose(vol.array[i], _pixels(frame) * (1.0 + 0.25 * i) - 1000.0, rtol=1e-6)


def test_enhanced_from_corpus_matches_functional_groups() -> None:
    path = CORPUS / "dcmqaxa30__5_anat-T1w_acq-tfl_0001.dcm"
    if not path.exists():
        pytest.skip("the shared corpus is not here")
    vol = read_series(path)
    ds = dicomfast.dcmread(path)
    pf = ds.PerFrameFunctionalGroupsSequence
    pos = np.array([pf[i].PlanePositionSequence[0].ImagePositionPatient for i in range(ds.num_frames)], dtype=float)
    assert vol.array.shape[0] == ds.num_frames
    np.testing.assert_allclose(vol.positions, pos[[s.frame for s in vol.slices]])
    frames = ds.pixel_array
    for i, s in enumerate(vol.slices[:5]):
        np.testing.assert_array_equal(vol.array[i], frames[s.frame].astype(vol.array.dtype))


# --------------------------------------------------------------------------------------------- SimpleITK oracle


def _is_stack(paths: tuple[str, ...]) -> bool:
    """Several single-frame images at distinct positions with one orientation and size: a real series.

    The corpora also hold one image saved in several transfer syntaxes under one series UID; those are left out.
    """
    try:
        heads = [dicomfast.dcmread(p, stop_before_pixels=True) for p in paths]
    except dicomfast.DicomError:
        return False
    if len(heads) < 2 or any(
        h.get("ImagePositionPatient") is None or h.get("ImageOrientationPatient") is None or h.get("NumberOfFrames")
        for h in heads
    ):
        return False
    orientations = {tuple(round(float(x), 4) for x in h.ImageOrientationPatient) for h in heads}
    sizes = {(h.Rows, h.Columns) for h in heads}
    positions = {tuple(round(float(x), 3) for x in h.ImagePositionPatient) for h in heads}
    return len(orientations) == 1 and len(sizes) == 1 and len(positions) == len(heads)


def _corpus_series() -> list[tuple[str, list[Path]]]:
    """Real series: files of the shared corpus and of pydicom's DICOMDIR test tree that make a stack."""
    roots = [CORPUS] if CORPUS.is_dir() else []
    try:
        import pydicom

        roots.append(Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests")
    except ImportError:
        pass
    found = []
    for root in roots:
        for s in list_series(root):
            if s.modality in ("CT", "MR", "PT", "NM") and _is_stack(s.paths):
                found.append((f"{root.name}:{s.series_uid}", [Path(p) for p in s.paths]))
    return sorted(found)


def _slow_in_simpleitk(paths: list[Path]) -> bool:
    """GDCM takes seconds on Explicit VR Big Endian files: those series run with the slow tests."""
    return any(
        dicomfast.dcmread(p, stop_before_pixels=True).file_meta.get("TransferSyntaxUID") == "1.2.840.10008.1.2.2"
        for p in paths
    )


REAL_SERIES = _corpus_series()


@pytest.mark.parametrize(
    ("name", "paths"),
    [pytest.param(n, p, id=n, marks=[pytest.mark.slow] if _slow_in_simpleitk(p) else []) for n, p in REAL_SERIES],
)
def test_matches_simpleitk(tmp_path: Path, name: str, paths: list[Path]) -> None:
    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK is the oracle for real series (pip install SimpleITK)")
    for p in paths:  # a folder of its own, so that GDCM sorts the series as it does for users
        (tmp_path / p.name).symlink_to(p)
    uid = name.split(":", 1)[1]
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(tmp_path), uid))
    reader.SetOutputPixelType(sitk.sitkFloat32)
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    img = reader.Execute()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeriesWarning)
        vol = read_series(paths)
    ref = sitk.GetArrayFromImage(img)
    assert vol.array.shape == ref.shape
    np.testing.assert_allclose(vol.array, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(vol.direction, np.array(img.GetDirection()).reshape(3, 3), atol=1e-4)
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.spacing, img.GetSpacing(), rtol=1e-4)


def test_real_series_were_found() -> None:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not here")
    assert REAL_SERIES, "expected at least one multi-file series in the corpora"


ENHANCED_FILES = [
    "dcmqaxa30__5_anat-T1w_acq-tfl_0001.dcm",  # sagittal, 96 frames stored in descending order
    "dcmqaenh__XA10_6_1.dcm",
    "dcmqi__23x38x3_multiframe_mf.dcm",  # Legacy Converted Enhanced CT
]


@pytest.mark.parametrize("name", ENHANCED_FILES)
def test_enhanced_matches_simpleitk(name: str) -> None:
    """Same voxels at the same LPS positions as SimpleITK.

    SimpleITK keeps an enhanced file's frames in stored order (its slice axis then runs against the normal);
    dicomfast sorts them along the normal, so the slice axis may be reversed between the two.
    """
    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK is the oracle for real series (pip install SimpleITK)")
    path = CORPUS / name
    if not path.exists():
        pytest.skip("the shared corpus is not here")
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    img = sitk.ReadImage(str(path), sitk.sitkFloat32)
    ref = sitk.GetArrayFromImage(img)
    vol = read_series(path)
    n = vol.array.shape[0]
    assert vol.array.shape == ref.shape
    flipped = not np.allclose(vol.origin, img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.array, ref[::-1] if flipped else ref, rtol=1e-4, atol=1e-4)
    assert vol.spacing == pytest.approx(img.GetSpacing(), rel=1e-4)
    for i, j, k in ((0, 0, 0), (1, 2, n // 2), (ref.shape[2] - 1, ref.shape[1] - 1, n - 1)):
        ours = vol.affine @ [i, j, (n - 1 - k) if flipped else k, 1]
        np.testing.assert_allclose(ours[:3], img.TransformIndexToPhysicalPoint((i, j, k)), atol=1e-4)


@pytest.mark.parametrize("dtype", ["int16", "uint16", "int8", "uint8"])
@pytest.mark.parametrize(
    ("slope", "intercept"), [(1.0, -1024.0), (1.0, 0.0), (0.5, 0.0), (1.7, -1024.3), (3.3e-4, 7.1)]
)
def test_native_rescale_equals_numpy(dtype: str, slope: float, intercept: float) -> None:
    # The core's fused rescale into the float32 volume must give numpy's float32 ufunc results bit for bit.
    info = np.iinfo(dtype)
    src = np.random.default_rng(3).integers(info.min, info.max, 70_001, endpoint=True).astype(dtype)
    ref = np.empty(src.shape, np.float32)
    f = np.float32
    if slope == 1.0:
        np.add(src, f(intercept), out=ref, casting="unsafe")
    else:
        np.multiply(src, f(slope), out=ref, casting="unsafe")
        if intercept != 0.0:
            np.add(ref, f(intercept), out=ref)
    ours = np.full(src.shape, np.nan, np.float32)
    assert _native.rescale_into(src, ours, slope, intercept)
    assert ref.tobytes() == ours.tobytes()
    # strided or other dtypes: refused, numpy does it
    assert not _native.rescale_into(src[::2], np.empty(35_001, np.float32), slope, intercept)
    assert not _native.rescale_into(src.astype(np.int32), ours, slope, intercept)
