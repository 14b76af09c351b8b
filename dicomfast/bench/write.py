"""Suite ``write``: uncompressed writes, and encoders in MPix/s, against pydicom and imagecodecs.

Uncompressed: read, set a tag, write, vs pydicom. Encoders (RLE, JPEG-LS, JPEG 2000 lossless) vs pydicom's
(pylibjpeg-rle, pyjpegls, pylibjpeg-openjpeg) and imagecodecs, on one thread and on all threads for
multi-frame data.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import dicomfast
from dicomfast.bench.core import Config, Row, have, measure

ENCODERS = {
    "RLELossless": ("1.2.840.10008.1.2.5", "rle"),
    "JPEGLSLossless": ("1.2.840.10008.1.2.4.80", "jpegls"),
    "JPEG2000Lossless": ("1.2.840.10008.1.2.4.90", "jpeg2k"),
}


def _inputs(paths: list[Path], quick: bool, limit: int | None = None) -> list[tuple[Path, bytes]]:
    """Uncompressed unsigned 8/16-bit files, largest first (``limit`` of them)."""
    found = []
    for p in paths:
        try:
            data = p.read_bytes()
            ds = dicomfast.dcmread(data)
            if ds.original_transfer_syntax not in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2"):
                continue
            if int(ds.get("BitsAllocated") or 0) not in (8, 16) or 0x7FE00010 not in ds:
                continue
            if int(ds.get("PixelRepresentation") or 0) != 0:
                continue
            ds.pixel_array  # noqa: B018 - decodable
        except (dicomfast.DicomError, OSError, ValueError, AttributeError, TypeError):
            continue
        found.append((len(data), p, data))
    found.sort(key=lambda x: -x[0])
    return [(p, d) for _, p, d in found[:limit]]


def _mpix(ds: dicomfast.Dataset) -> float:
    return ds.num_frames * int(ds.Rows) * int(ds.Columns) / 1e6


def _write_rows(items: list[tuple[Path, bytes]], reps: int) -> list[Row]:
    import pydicom

    kept, dropped = [], 0
    for p, d in items:
        try:
            pydicom.dcmread(io.BytesIO(d)).save_as(io.BytesIO())
            dicomfast.dcmwrite(io.BytesIO(), dicomfast.dcmread(d))
            kept.append((p, d))
        except Exception:
            dropped += 1
    items = kept
    mb = sum(len(d) for _, d in items) / 1e6
    n = len(items)

    def ours() -> None:
        for _, d in items:
            ds = dicomfast.dcmread(d)
            ds.PatientName = "ANONYMOUS"
            dicomfast.dcmwrite(io.BytesIO(), ds)

    def theirs() -> None:
        for _, d in items:
            ds = pydicom.dcmread(io.BytesIO(d))
            ds.PatientName = "ANONYMOUS"
            ds.save_as(io.BytesIO())

    t_ours = measure(ours, reps)
    t_theirs = measure(theirs, reps)
    note = f"{mb:.0f} MB in all" + (f"; {dropped} files pydicom cannot write left out" if dropped else "")
    return [
        Row(
            "write",
            "read, set PatientName, write (uncompressed)",
            "pydicom",
            "files/s",
            n / t_theirs,
            n / t_ours,
            True,
            n,
            note=note,
        )
    ]


def _pydicom_encode(data: bytes, ts: str) -> Any:
    import pydicom

    def run() -> None:
        ds = pydicom.dcmread(io.BytesIO(data))
        ds.compress(ts)

    return run


def _imagecodecs_encode(arr: np.ndarray, codec: str) -> Any:
    import imagecodecs

    frames = arr if (arr.ndim >= 3 and arr.shape[-1] not in (3,)) or arr.ndim == 4 else [arr]
    if codec == "rle":
        return None  # imagecodecs has no DICOM RLE encoder
    fn = {"jpegls": imagecodecs.jpegls_encode, "jpeg2k": lambda a: imagecodecs.jpeg2k_encode(a, level=0)}[codec]
    return lambda: [fn(np.ascontiguousarray(f)) for f in frames]


def run(cfg: Config) -> list[Row]:
    """Run the suite."""
    warnings.simplefilter("ignore")
    everything = _inputs(cfg.paths, cfg.quick)
    items = everything[: 3 if cfg.quick else 8]
    rows: list[Row] = []
    if not items:
        return rows
    if have("pydicom"):
        rows += _write_rows(everything[:40] if cfg.quick else everything, cfg.reps)
    for name, (ts, codec) in ENCODERS.items():
        mpix = 0.0
        t1 = tall = 0.0
        t_pd = t_ic = 0.0
        pd_ok = ic_ok = True
        multi = 0.0
        t1_multi = tall_multi = 0.0
        for _, data in items:
            src = dicomfast.dcmread(data)
            arr = src.pixel_array
            n = _mpix(src)
            mpix += n

            def enc(threads: int | None, data: bytes = data, name: str = name) -> None:
                dicomfast.dcmread(data).compress(name, threads=threads)

            a = measure(lambda: enc(1), cfg.reps)
            b = measure(lambda: enc(None), cfg.reps)
            t1 += a
            tall += b
            if src.num_frames > 1:
                multi += n
                t1_multi += a
                tall_multi += b
            if have("pydicom") and pd_ok:
                try:
                    t_pd += measure(_pydicom_encode(data, ts), cfg.reps)
                except Exception:
                    pd_ok = False
            if have("imagecodecs") and ic_ok:
                fn = _imagecodecs_encode(arr, codec)
                if fn is None:
                    ic_ok = False
                else:
                    try:
                        t_ic += measure(fn, cfg.reps)
                    except Exception:
                        ic_ok = False
        one = mpix / t1 if t1 else None
        rows.append(
            Row(
                "write",
                f"{name} encode, 1 thread",
                "pydicom",
                "MPix/s",
                mpix / t_pd if pd_ok and t_pd else None,
                one,
                True,
                len(items),
                note="" if pd_ok else "encoder missing or refused",
            )
        )
        rows.append(
            Row(
                "write",
                f"{name} encode, 1 thread",
                "imagecodecs",
                "MPix/s",
                mpix / t_ic if ic_ok and t_ic else None,
                one,
                True,
                len(items),
                note="" if ic_ok else "no encoder in imagecodecs",
            )
        )
        if multi:
            rows.append(
                Row(
                    "write",
                    f"{name} encode multi-frame, all threads",
                    "dicomfast 1 thread",
                    "MPix/s",
                    multi / t1_multi,
                    multi / tall_multi,
                    True,
                )
            )
    return rows
