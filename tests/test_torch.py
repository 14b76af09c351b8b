"""PyTorch datasets: every frame exactly once through a 2-worker DataLoader, equal to ``ds.pixel_array``."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dicomfast
from dicomfast import Dataset

torch = pytest.importorskip("torch", reason="PyTorch is an optional extra (pip install 'dicomfast[torch]')")

from dicomfast.torch import FrameDataset, VolumeDataset  # noqa: E402

ROWS, COLS = 8, 6
RLE = "1.2.840.10008.1.2.5"


def _image(uid: str, k: int, frames: int = 1) -> Dataset:
    values = (np.arange(frames * ROWS * COLS, dtype=np.uint16) + 1000 * k).reshape(frames, ROWS, COLS)
    elems: dict[str, object] = {
        "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
        "SOPInstanceUID": f"{uid}.{k + 1}",
        "SeriesInstanceUID": uid,
        "Modality": "CT",
        "InstanceNumber": k + 1,
        "ImagePositionPatient": [0.0, 0.0, 2.0 * k],
        "ImageOrientationPatient": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        "PixelSpacing": [0.5, 0.5],
        "Rows": ROWS,
        "Columns": COLS,
        "SamplesPerPixel": 1,
        "PhotometricInterpretation": "MONOCHROME2",
        "BitsAllocated": 16,
        "BitsStored": 16,
        "HighBit": 15,
        "PixelRepresentation": 0,
        "RescaleSlope": 2.0,
        "RescaleIntercept": -1024.0,
        "PixelData": values.tobytes(),
    }
    if frames > 1:
        elems["NumberOfFrames"] = frames
    return Dataset(elems)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two series: 4 single-frame files (one RLE compressed) and 2 multi-frame files of 3 frames."""
    root = tmp_path_factory.mktemp("archive")
    (root / "a").mkdir()
    (root / "b").mkdir()
    for k in range(4):
        ds = _image("1.2.3.1", k)
        if k == 2 and hasattr(ds, "compress"):
            ds.compress(RLE)
        dicomfast.dcmwrite(root / "a" / f"{k}.dcm", ds)
    for k in range(2):
        ds = _image("1.2.3.2", 10 + k, frames=3)
        ds.ImagePositionPatient = [0.0, 0.0, 3.0 * k]  # frames 1 mm apart: the two files make one even stack
        ds.SpacingBetweenSlices = 1.0
        if k == 1 and hasattr(ds, "compress"):
            ds.compress(RLE)
        dicomfast.dcmwrite(root / "b" / f"{k}.dcm", ds)
    return root


def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.dcm"))


def _expected(root: Path) -> dict[tuple[str, int], np.ndarray]:
    out = {}
    for p in _files(root):
        ds = dicomfast.dcmread(p)
        arr = ds.pixel_array
        frames = arr if ds.num_frames > 1 else arr[None]
        for i, f in enumerate(frames):
            out[(str(p), i)] = np.array(f)
    return out


def test_frame_dataset_items(archive: Path) -> None:
    ds = FrameDataset(archive, with_meta=True)
    expected = _expected(archive)
    assert len(ds) == len(expected) == 10
    seen = set()
    for i in range(len(ds)):
        tensor, meta = ds[i]
        key = (meta["path"], meta["frame"])
        seen.add(key)
        assert isinstance(tensor, torch.Tensor)
        np.testing.assert_array_equal(tensor.numpy(), expected[key])
    assert seen == set(expected)
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]
    assert ds.locate(-1) == (str(_files(archive)[-1]), 2)


def test_dataloader_two_workers_yields_every_frame_once(archive: Path) -> None:
    from torch.utils.data import DataLoader

    ds = FrameDataset(archive, with_meta=True)
    # _expected decodes in this process first, on the core's global thread pool: forked workers must not hang.
    loader = DataLoader(ds, batch_size=3, num_workers=2, shuffle=True, generator=torch.Generator().manual_seed(0))
    expected = _expected(archive)
    seen: list[tuple[str, int]] = []
    for batch, meta in loader:
        for tensor, path, frame in zip(batch, meta["path"], meta["frame"].tolist(), strict=True):
            seen.append((path, frame))
            np.testing.assert_array_equal(tensor.numpy(), expected[(path, frame)])
    assert sorted(seen) == sorted(expected)


def test_rescale_dtype_and_transform(archive: Path) -> None:
    ds = FrameDataset(_files(archive), rescale=True, transform=lambda t: t[None])
    first = dicomfast.dcmread(_files(archive)[0])
    item = ds[0]
    assert item.dtype == torch.float32
    assert tuple(item.shape) == (1, ROWS, COLS)
    np.testing.assert_array_equal(item[0].numpy(), first.pixel_array * 2.0 - 1024.0)
    as_float = FrameDataset(_files(archive), dtype=np.float64)
    assert as_float[0].dtype == torch.float64


def test_tensors_are_writable_and_not_views_of_the_file(archive: Path) -> None:
    ds = FrameDataset(_files(archive))
    for i in range(len(ds)):
        arr = ds[i].numpy()
        assert arr.flags.writeable
        arr[...] = 0  # would raise on a read-only view of the file
    assert ds[0].numpy().any(), "the file's pixels must not have changed"


def test_table_source(archive: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    paths = [str(p) for p in _files(archive)]
    frames = [dicomfast.dcmread(p, stop_before_pixels=True).num_frames for p in paths]
    table = pa.table({"path": paths, "NumberOfFrames": frames, "label": list(range(len(paths)))})
    ds = FrameDataset(table, columns=["label"])
    assert len(ds) == 10
    _, meta = ds[len(ds) - 1]
    assert meta["label"] == len(paths) - 1
    assert meta["frame"] == 2
    with pytest.raises(ValueError, match="'path' column"):
        FrameDataset(pa.table({"x": [1]}))


def test_scan_table_source(archive: Path) -> None:
    pytest.importorskip("pyarrow")
    table = dicomfast.scan(str(archive), tags=["NumberOfFrames", "SeriesInstanceUID"])
    assert len(FrameDataset(table)) == 10
    assert len(VolumeDataset(table)) == 2


def test_pickles_cheaply(archive: Path) -> None:
    ds = FrameDataset(archive)
    data = pickle.dumps(ds)
    assert len(data) < 2000  # paths and frame counts only: no pixel buffers
    again = pickle.loads(data)
    np.testing.assert_array_equal(again[5].numpy(), ds[5].numpy())
    vols = VolumeDataset(archive)
    assert len(pickle.dumps(vols)) < 2000


def test_volume_dataset(archive: Path) -> None:
    ds = VolumeDataset(archive, with_meta=True)
    assert len(ds) == 2
    tensor, meta = ds[0]
    vol = dicomfast.read_series(archive / "a")
    assert tensor.dtype == torch.float32
    np.testing.assert_array_equal(tensor.numpy(), vol.array)
    np.testing.assert_allclose(meta["affine"].numpy(), vol.affine)
    assert meta["series_uid"] == "1.2.3.1"
    assert tuple(meta["spacing"].tolist()) == vol.spacing
    by_folder = VolumeDataset([archive / "a"], transform=lambda t: t.mean())
    assert float(by_folder[0]) == pytest.approx(float(vol.array.mean()))


def test_volume_dataloader_two_workers(archive: Path) -> None:
    from torch.utils.data import DataLoader

    series = dicomfast.list_series(archive)
    loader = DataLoader(VolumeDataset(series), batch_size=None, num_workers=2)
    shapes = sorted(tuple(t.shape) for t in loader)
    assert shapes == [(4, ROWS, COLS), (6, ROWS, COLS)]


def test_import_dicomfast_does_not_import_torch() -> None:
    code = "import sys, dicomfast; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
