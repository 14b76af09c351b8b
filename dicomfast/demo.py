"""``dicomfast demo``: the main job on an embedded default, end to end.

With no data of the user's, it writes a small synthetic archive with dicomfast itself (a few patients, CT and
MR series in several transfer syntaxes), scans it into a table, decodes every frame, builds the volumes, and
prints a short report with the time of each step, and pydicom's time for the same work when pydicom is
installed. Every value is synthetic.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dicomfast.dataset import DataElement, Dataset
from dicomfast.filewriter import dcmwrite

# (modality, transfer syntax keyword, slices, rows/columns, slice spacing) per series of each patient
SERIES = [
    ("CT", "ExplicitVRLittleEndian", 48, 256, 2.5),
    ("CT", "RLELossless", 48, 256, 2.5),
    ("CT", "JPEG2000Lossless", 32, 256, 3.0),
    ("MR", "JPEGLSLossless", 24, 192, 5.0),
    ("MR", "JPEGLosslessSV1", 24, 192, 5.0),
]
PATIENTS = 3
TAGS = [
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "InstanceNumber",
    "ImagePositionPatient",
    "SliceThickness",
    "Rows",
    "Columns",
    "StudyDate",
]
_ROOT = "2.25.278810649611137458240855164039095964111.9"


def _phantom(n: int, z: float, modality: str, rng: np.random.Generator) -> np.ndarray:
    """A head-like phantom slice: ellipses of different values, with noise (so codecs have work to do)."""
    y, x = np.mgrid[-1 : 1 : n * 1j, -1 : 1 : n * 1j]
    img = np.zeros((n, n), np.float64)
    scale = 1.0 - (z / 150.0) ** 2
    if scale > 0:
        img[(x / (0.85 * scale)) ** 2 + (y / (0.95 * scale)) ** 2 < 1] = 1000 if modality == "CT" else 600
        img[(x / (0.75 * scale)) ** 2 + (y / (0.85 * scale)) ** 2 < 1] = 40 if modality == "CT" else 300
        img[((x - 0.25) / 0.15) ** 2 + ((y + 0.2) / 0.25) ** 2 < scale] = 80 if modality == "CT" else 450
        img[((x + 0.25) / 0.15) ** 2 + ((y + 0.2) / 0.25) ** 2 < scale] = 80 if modality == "CT" else 450
    img += rng.normal(0, 6, img.shape)
    if modality == "CT":
        return np.clip(img + 1024, 0, 4095).astype(np.uint16)  # stored = HU + 1024
    return np.clip(img, 0, 4095).astype(np.uint16)


def make_archive(root: Path, patients: int = PATIENTS, seed: int = 7) -> list[Path]:
    """Write the synthetic archive under ``root``; return the file paths."""
    rng = np.random.default_rng(seed)
    paths: list[Path] = []
    for p in range(1, patients + 1):
        study = f"{_ROOT}.{p}"
        for s, (modality, ts, slices, n, spacing) in enumerate(SERIES, 1):
            series_uid = f"{study}.{s}"
            folder = root / f"patient{p:02d}" / f"series{s:02d}_{modality}_{ts}"
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(slices):
                z = -slices * spacing / 2 + k * spacing
                ds = Dataset()
                ds.SpecificCharacterSet = "ISO_IR 192"
                ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
                ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.4"
                ds.SOPInstanceUID = f"{series_uid}.{k + 1}"
                ds.StudyDate = "20260101"
                ds.StudyTime = "120000"
                ds.Modality = modality
                ds.Manufacturer = "dicomfast demo"
                ds.PatientName = f"Demo^Patient{p}"
                ds.PatientID = f"DEMO{p:03d}"
                ds.StudyInstanceUID = study
                ds.SeriesInstanceUID = series_uid
                ds.SeriesNumber = s
                ds.InstanceNumber = k + 1
                ds.StudyID = str(p)
                ds.SeriesDescription = f"{modality} {ts}"
                ds.FrameOfReferenceUID = f"{study}.0"
                ds.ImagePositionPatient = [-n * 0.45, -n * 0.45, z]
                ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
                ds.SliceThickness = spacing
                ds.PixelSpacing = [0.9, 0.9]
                ds.SamplesPerPixel = 1
                ds.PhotometricInterpretation = "MONOCHROME2"
                ds.Rows = n
                ds.Columns = n
                ds.BitsAllocated = 16
                ds.BitsStored = 12
                ds.HighBit = 11
                ds.PixelRepresentation = 0
                if modality == "CT":
                    ds.RescaleIntercept = -1024
                    ds.RescaleSlope = 1
                    ds.WindowCenter = 40
                    ds.WindowWidth = 400
                ds[0x7FE00010] = DataElement(0x7FE00010, "OW", _phantom(n, z, modality, rng).tobytes())
                ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
                if ts != "ExplicitVRLittleEndian":
                    ds.compress(ts)  # type: ignore[attr-defined]
                path = folder / f"{k + 1:04d}.dcm"
                dcmwrite(path, ds)
                paths.append(path)
    return paths


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run(out: Path | None = None, compare: bool = True) -> int:
    """Run the demo; keep the archive in ``out`` when given. Prints the report; returns the exit code."""
    import dicomfast

    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="dicomfast-demo-")
        root = Path(tmp.name)
    else:
        root = Path(out)
        root.mkdir(parents=True, exist_ok=True)
    try:
        paths, t_write = _timed(lambda: make_archive(root))
        size = sum(p.stat().st_size for p in paths)
        table, t_scan = _timed(lambda: dicomfast.scan([root], tags=TAGS))
        n_ok = sum(1 for v in table.column("ok").to_pylist() if v)

        def decode_all() -> int:
            # Files decode on every core: the core releases the GIL, so threads run in parallel.
            from concurrent.futures import ThreadPoolExecutor

            def one(p: Path) -> int:
                ds = dicomfast.dcmread(p)
                dicomfast.pixel_array(ds, threads=1)
                return int(ds.num_frames)

            with ThreadPoolExecutor() as pool:
                return sum(pool.map(one, paths))

        frames, t_decode = _timed(decode_all)

        def volumes() -> list[Any]:
            return [dicomfast.read_series(s) for s in dicomfast.list_series(root)]

        vols, t_vol = _timed(volumes)
        lines = [
            "dicomfast demo",
            f"  archive   {len(paths)} files, {size / 1e6:.1f} MB in {root}"
            + ("" if out else " (temporary)")
            + f", written in {t_write:.2f} s",
            f"  scan      {table.num_rows} rows x {table.num_columns} columns ({len(TAGS)} tags), {n_ok} ok, "
            f"{t_scan * 1e3:.0f} ms ({len(paths) / t_scan:,.0f} files/s)",
            f"  decode    {frames} frames, {t_decode * 1e3:.0f} ms ({frames / t_decode:,.0f} frames/s)",
            f"  volumes   {len(vols)} series, {t_vol * 1e3:.0f} ms; "
            + ", ".join(f"{v.array.shape[0]}x{v.array.shape[1]}x{v.array.shape[2]}" for v in vols[:5])
            + (" ..." if len(vols) > 5 else ""),
        ]
        by_ts: dict[str, int] = {}
        from dicomfast.uid import UID

        for uid in table.column("TransferSyntaxUID").to_pylist():
            name = UID(uid).keyword or str(uid)
            by_ts[name] = by_ts.get(name, 0) + 1
        lines.append("  syntaxes  " + ", ".join(f"{k}: {v}" for k, v in sorted(by_ts.items())))
        if compare:
            lines.extend(_compare_pydicom(paths, t_scan, t_decode))
        print("\n".join(lines))
        return 0 if n_ok == len(paths) else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


def _compare_pydicom(paths: list[Path], t_scan: float, t_decode: float) -> list[str]:
    try:
        import warnings

        import pydicom
    except ImportError:
        return ["  pydicom   not installed: no comparison"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def scan() -> None:
            for p in paths:
                pydicom.dcmread(p, stop_before_pixels=True, specific_tags=TAGS)

        def decode() -> None:
            for p in paths:
                pydicom.dcmread(p).pixel_array  # noqa: B018

        _, p_scan = _timed(scan)
        try:
            _, p_decode = _timed(decode)
            dec = f"decode {p_decode * 1e3:.0f} ms ({p_decode / t_decode:.1f}x slower)"
        except Exception as e:
            dec = f"decode failed ({type(e).__name__}: {str(e)[:60]})"
    return [f"  pydicom   scan {p_scan * 1e3:.0f} ms ({p_scan / t_scan:.1f}x slower), {dec}"]


def main(argv: list[str] | None = None) -> int:
    """``dicomfast demo [--out DIR] [--no-compare]``."""
    ap = argparse.ArgumentParser(prog="dicomfast demo")
    ap.add_argument("--out", type=Path, default=None, help="keep the synthetic archive in this folder")
    ap.add_argument("--no-compare", action="store_true", help="skip the pydicom comparison")
    args = ap.parse_args(argv)
    return run(args.out, compare=not args.no_compare)


if __name__ == "__main__":
    raise SystemExit(main())
