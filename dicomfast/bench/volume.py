"""Suite ``volume``: a CT series into a float32 HU volume, dicomfast vs pydicom + numpy, SimpleITK, dicomsdl.

The series (300 slices of 512×512 int16, 60 with ``--quick``; Rescale Intercept −1024; a body-like phantom
with noise) is written by dicomfast itself, uncompressed and JPEG 2000 lossless (``Dataset.compress``), in
``Config.workdir`` (kept and reused) or a temporary folder.

Peers, each from the file paths to a sorted ``(slices, 512, 512)`` float32 HU array:

- dicomfast: ``read_series(paths)`` (sorts, checks geometry, decodes slices in parallel with the GIL released);
- pydicom + numpy: ``dcmread`` each file, sort by position along the normal, ``pixel_array * slope +
  intercept`` into a preallocated array (the usual user code);
- SimpleITK: ``GetGDCMSeriesFileNames`` (GDCM's sort) then ``ImageSeriesReader`` with float32 output;
- dicomsdl: ``open_file`` each file, sort, ``pixelData()`` (rescaled float32) into a preallocated array
  (only when a probe in a child process finds that it reads the series without crashing).

Each peer's array is compared with dicomfast's: a difference is a mismatch in the report.
DataLoader (full run only, when torch is installed): every frame once, one frame per item, float32 HU,
``num_workers`` 0 and 2, dicomfast's ``FrameDataset`` vs a Dataset doing ``pydicom.dcmread(path).pixel_array``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np

import dicomfast
from dicomfast.bench.core import Config, Row, have, measure, probe_safe

ROWS = COLS = 512
UNCOMPRESSED = "1.2.840.10008.1.2.1"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
FULL_SLICES = 300
QUICK_SLICES = 60


# --------------------------------------------------------------------------------------------- the series


def phantom(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Slice ``k`` of ``n``: stored values (HU + 1024) of an ellipse body, two 'organs' and a 'spine', plus noise."""
    y, x = np.mgrid[-1 : 1 : ROWS * 1j, -1 : 1 : COLS * 1j]
    z = 2.0 * k / max(n - 1, 1) - 1.0
    hu = np.full((ROWS, COLS), -1000.0)
    body = (x / 0.85) ** 2 + (y / 0.6) ** 2 < 1 - 0.3 * z * z
    hu[body] = 40.0
    hu[((x - 0.3) / 0.25) ** 2 + ((y + 0.1) / 0.2) ** 2 < 1 - z * z] = 60.0
    hu[((x + 0.35) / 0.2) ** 2 + (y / 0.3) ** 2 < 1] = -800.0
    hu[x**2 + ((y - 0.45) / 0.08) ** 2 < 0.01] = 900.0
    hu += rng.normal(0.0, 12.0, hu.shape) * body
    return np.clip(np.rint(hu + 1024.0), 0, 4095).astype(np.int16)


def make_series(folder: Path, slices: int = FULL_SLICES, transfer_syntax: str = UNCOMPRESSED) -> list[Path]:
    """Write (once) a CT series of ``slices`` 512×512 slices in ``transfer_syntax``.

    The file names are in a random order, so a reader has to sort by position. A folder that already holds
    ``slices`` files is reused.

    Parameters
    ----------
    folder
        Where the files go (made when absent).
    slices
        Number of slices.
    transfer_syntax
        Explicit VR Little Endian or a syntax that ``Dataset.compress`` encodes.

    Returns
    -------
    list[Path]
        The files, sorted by name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(folder.glob("*.dcm"))
    if len(paths) == slices:
        return paths
    for p in paths:
        p.unlink()
    rng = np.random.default_rng(0)
    names = rng.permutation(slices)
    series_uid = "1.2.826.0.1.3680043.8.498.4242"
    for k in range(slices):
        ds = dicomfast.Dataset(
            {
                "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
                "SOPInstanceUID": f"{series_uid}.{k + 1}",
                "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.4241",
                "SeriesInstanceUID": series_uid,
                "FrameOfReferenceUID": "1.2.826.0.1.3680043.8.498.4243",
                "Modality": "CT",
                "PatientID": "BENCH",
                "PatientName": "BENCH^CT",
                "InstanceNumber": k + 1,
                "ImagePositionPatient": [-250.0, -250.0, -400.0 + 1.25 * k],
                "ImageOrientationPatient": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                "PixelSpacing": [0.9765625, 0.9765625],
                "SliceThickness": 1.25,
                "Rows": ROWS,
                "Columns": COLS,
                "SamplesPerPixel": 1,
                "PhotometricInterpretation": "MONOCHROME2",
                "BitsAllocated": 16,
                "BitsStored": 16,
                "HighBit": 15,
                "PixelRepresentation": 1,
                "RescaleIntercept": -1024.0,
                "RescaleSlope": 1.0,
                "RescaleType": "HU",
                "PixelData": phantom(k, slices, rng).tobytes(),
            }
        )
        if transfer_syntax != UNCOMPRESSED:
            ds.compress(transfer_syntax)
        dicomfast.dcmwrite(folder / f"CT{int(names[k]):05d}.dcm", ds, transfer_syntax)
    return sorted(folder.glob("*.dcm"))


@contextmanager
def series_sets(cfg: Config, slices: int) -> Iterator[dict[str, list[Path]]]:
    """The uncompressed and JPEG 2000 lossless series, in ``cfg.workdir`` (kept) or a temporary folder.

    Parameters
    ----------
    cfg
        The suite's configuration.
    slices
        Slices per series.

    Yields
    ------
    dict[str, list[Path]]
        ``{"uncompressed": paths, "J2K lossless": paths}``.
    """
    with TemporaryDirectory(prefix="dicomfast-bench-volume-") as tmp:
        base = Path(cfg.workdir) / "volume" if cfg.workdir is not None else Path(tmp)
        yield {
            "uncompressed": make_series(base / f"ct{slices}-uncompressed", slices, UNCOMPRESSED),
            "J2K lossless": make_series(base / f"ct{slices}-j2k", slices, J2K_LOSSLESS),
        }


# --------------------------------------------------------------------------------------------- loaders


def load_dicomfast(paths: list[Path]) -> np.ndarray:
    """dicomfast: ``read_series(paths).array``."""
    return dicomfast.read_series(paths).array


def _order(positions: list[Any], orientation: Any) -> list[int]:
    normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
    d = [float(np.dot(normal, np.asarray(p, float))) for p in positions]
    return sorted(range(len(d)), key=d.__getitem__)


def load_pydicom(paths: list[Path]) -> np.ndarray:
    """With pydicom + numpy: read, sort along the normal, rescale into a preallocated float32 array."""
    import pydicom

    dss = [pydicom.dcmread(p) for p in paths]
    order = _order([ds.ImagePositionPatient for ds in dss], dss[0].ImageOrientationPatient)
    out = np.empty((len(dss), int(dss[0].Rows), int(dss[0].Columns)), np.float32)
    for i, k in enumerate(order):
        ds = dss[k]
        out[i] = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return out


_KEEP: list[Any] = []


def load_simpleitk(paths: list[Path]) -> np.ndarray:
    """SimpleITK: GDCM's sort of the folder, then ``ImageSeriesReader`` with float32 output (a view, no copy)."""
    import SimpleITK as sitk

    folder = str(paths[0].parent)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
    reader.SetOutputPixelType(sitk.sitkFloat32)
    image = reader.Execute()
    _KEEP[:] = [image]  # the view below is only valid while the image lives
    return sitk.GetArrayViewFromImage(image)  # no copy: SimpleITK is not charged for one


def load_dicomsdl(paths: list[Path]) -> np.ndarray:
    """dicomsdl: open each file, sort along the normal, ``pixelData()`` (rescaled float32) into an array."""
    import dicomsdl

    dss = [dicomsdl.open_file(str(p)) for p in paths]
    order = _order([ds.ImagePositionPatient for ds in dss], dss[0].ImageOrientationPatient)
    out = np.empty((len(dss), int(dss[0].Rows), int(dss[0].Columns)), np.float32)
    for i, k in enumerate(order):
        out[i] = dss[k].pixelData()
    return out


# peer name -> (module to import, loader)
PEERS: dict[str, tuple[str, Callable[[list[Path]], np.ndarray]]] = {
    "pydicom": ("pydicom", load_pydicom),
    "SimpleITK": ("SimpleITK", load_simpleitk),
    "dicomsdl": ("dicomsdl", load_dicomsdl),
}
SDL_PROBE = "import sys, dicomsdl; d = dicomsdl.open_file(sys.argv[1]); d.ImagePositionPatient; d.pixelData()"


# --------------------------------------------------------------------------------------------- DataLoader


class PydicomFrames:
    """The usual hand-written Dataset: one file per item, pydicom decode, HU, ``torch.from_numpy``.

    Parameters
    ----------
    paths
        The files, one frame each.
    """

    def __init__(self, paths: list[Path]) -> None:
        self.paths = [str(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Any:
        import pydicom
        import torch

        ds = pydicom.dcmread(self.paths[i])
        arr = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        return torch.from_numpy(arr)


def frames_per_second(dataset: Any, workers: int) -> float:
    """Frames per second of one epoch through a ``DataLoader`` (worker start-up included).

    Parameters
    ----------
    dataset
        A map-style dataset, one frame per item.
    workers
        ``num_workers`` of the loader.

    Returns
    -------
    float
        Frames per second.
    """
    from torch.utils.data import DataLoader

    # batch_size=None: frames one by one, no collate. torch.stack of a 16-frame batch took 30-300 ms on the
    # 2-core benchmark machine (torch's intra-op threads), which would hide both datasets behind it.
    loader = DataLoader(dataset, batch_size=None, num_workers=workers, shuffle=False)
    dataset[0]  # warm-up in this process: imports, codec tables
    t0 = time.perf_counter()  # from here: worker start-up included, as in an epoch
    n = sum(1 for _ in loader)
    return n / (time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------- suite


def _check(ref: np.ndarray, arr: Any) -> str:
    try:
        got = np.asarray(arr)
    except Exception as e:  # an array-like that numpy cannot take
        return f"not an array ({type(e).__name__})"
    if got.shape != ref.shape:
        return f"shape {got.shape}"
    if not np.array_equal(got, ref):
        return f"max|Δ| {float(np.abs(got.astype(np.float64) - ref).max()):.3g} HU"
    return ""


def run(cfg: Config) -> list[Row]:
    """Run the suite."""
    warnings.simplefilter("ignore")
    slices = QUICK_SLICES if cfg.quick else FULL_SLICES
    rows: list[Row] = []
    with series_sets(cfg, slices) as sets:
        for name, paths in sets.items():
            work = f"{name} CT series, {slices} × {ROWS}×{COLS} → float32 HU volume"
            ref = load_dicomfast(paths)
            ours = slices / measure(partial(load_dicomfast, paths), cfg.reps)
            for peer, (module, fn) in PEERS.items():
                if not have(module):
                    rows.append(Row("volume", work, f"{peer} (not installed)", "slices/s", None, ours, True, slices))
                    continue
                if peer == "dicomsdl":
                    _ok, crashed = probe_safe(SDL_PROBE, paths[:1])
                    if crashed:
                        rows.append(
                            Row("volume", work, peer, "slices/s", None, ours, True, slices, note="crashes: left out")
                        )
                        continue
                try:
                    arr = fn(paths)
                except Exception as e:  # a peer that cannot read this syntax: said in the table
                    rows.append(
                        Row(
                            "volume",
                            work,
                            peer,
                            "slices/s",
                            None,
                            ours,
                            True,
                            slices,
                            note=f"fails: {type(e).__name__}",
                        )
                    )
                    continue
                mismatch = _check(ref, arr)
                del arr
                theirs = slices / measure(partial(fn, paths), cfg.reps)
                rows.append(Row("volume", work, peer, "slices/s", theirs, ours, True, slices, mismatch=mismatch))
            _KEEP.clear()
        if not cfg.quick and have("torch") and have("pydicom"):
            rows += _dataloader_rows(sets)
    return rows


def _dataloader_rows(sets: dict[str, list[Path]]) -> list[Row]:
    """DataLoader frames/s, workers 0 and 2: dicomfast's FrameDataset vs a pydicom Dataset."""
    from dicomfast.torch import FrameDataset

    rows = []
    for name, paths in sets.items():
        for workers in (0, 2):
            fd = frames_per_second(FrameDataset(paths, rescale=True), workers)
            fp = frames_per_second(PydicomFrames(paths), workers)
            rows.append(
                Row(
                    "volume",
                    f"{name}: DataLoader epoch, one frame per item, {workers} workers",
                    "pydicom Dataset",
                    "frames/s",
                    fp,
                    fd,
                    True,
                    len(paths),
                    note="dicomfast FrameDataset(rescale=True); worker start-up included",
                )
            )
    return rows
