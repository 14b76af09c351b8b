"""Suite ``write``: uncompressed writes, and encoders in MPix/s, against pydicom and imagecodecs.

Uncompressed: read, set a tag, write, vs pydicom. Encoders (RLE, JPEG-LS, JPEG 2000 lossless) vs pydicom's
(pylibjpeg-rle, pyjpegls, pylibjpeg-openjpeg) and imagecodecs, on one thread and on all threads for
multi-frame data.
"""

from __future__ import annotations

import io
import os
import statistics
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import dicomfast
from dicomfast.bench.core import Config, Row, have, measure, side_by_side, sustained

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


def _frames(arr: np.ndarray, n: int) -> list[np.ndarray]:
    """The frames of a pixel array, each C-contiguous."""
    if n > 1:
        return [np.ascontiguousarray(f) for f in arr]
    return [np.ascontiguousarray(arr)]


def _imagecodecs_encode(frames: list[np.ndarray], codec: str) -> Any:
    """The frames through imagecodecs, one after another (it has no frame-parallel encoder), or None."""
    import imagecodecs

    if codec == "rle":
        return None  # imagecodecs has no DICOM RLE encoder
    fn = {"jpegls": imagecodecs.jpegls_encode, "jpeg2k": lambda a: imagecodecs.jpeg2k_encode(a, level=0)}[codec]
    return lambda: [fn(f) for f in frames]


def _native_encode(src: dicomfast.Dataset, arr: np.ndarray, ts: str, threads: int | None) -> Any:
    """The same frames through dicomfast's encoder, from the same in-memory array (codestreams only)."""
    from dicomfast import _native

    data = np.ascontiguousarray(arr).tobytes()
    args = (
        int(src.Rows),
        int(src.Columns),
        int(src.get("SamplesPerPixel") or 1),
        int(src.BitsAllocated),
        int(src.get("BitsStored") or src.BitsAllocated),
        int(src.get("PixelRepresentation") or 0),
        str(src.get("PhotometricInterpretation") or "MONOCHROME2"),
        src.num_frames,
        ts,
        threads,
    )
    return lambda: _native.encode_frames(data, *args)


def _paired(fns: dict[str, Any], reps: int) -> dict[str, float]:
    """Best (least) seconds of each function over rounds in which every function runs once in turn.

    Alternating makes a machine whose load changes during the run weigh on every peer alike; the best of
    the rounds is the run least disturbed by other processes (a shared machine's medians move with its load).
    """
    import gc
    import time

    times: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():
        f()  # warm-up
    for _ in range(max(reps, 3)):
        for k, f in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: min(v) for k, v in times.items()}


def run(cfg: Config) -> list[Row]:
    """Run the suite.

    Per encoder: the whole job (read, decode, encode, encapsulate) against pydicom's ``Dataset.compress``;
    the codestreams alone from the same in-memory array against imagecodecs, one thread each; and, on the
    multi-frame inputs, dicomfast on one thread and on all threads (frames spread over the threads) next to
    imagecodecs (frame after frame). Every measurement of one input alternates between the peers.
    """
    warnings.simplefilter("ignore")
    everything = _inputs(cfg.paths, cfg.quick)
    items = everything[: 3 if cfg.quick else 8]
    rows: list[Row] = []
    if not items:
        return rows
    if have("pydicom"):
        rows += _write_rows(everything[:40] if cfg.quick else everything, cfg.reps)
    threads = cfg.threads
    cores = threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    for name, (ts, codec) in ENCODERS.items():
        tot: dict[str, float] = {}
        mpix = multi = same = sides = 0.0
        pd_ok = have("pydicom")
        ic_ok = have("imagecodecs") and codec != "rle"
        n_multi = 0
        for _, data in items:
            src = dicomfast.dcmread(data)
            arr = src.pixel_array
            n = _mpix(src)
            frames = _frames(arr, src.num_frames)

            def full(threads: int | None, data: bytes = data, name: str = name) -> None:
                dicomfast.dcmread(data).compress(name, threads=threads)

            fns: dict[str, Any] = {
                "full1": lambda full=full: full(1),
                "core1": _native_encode(src, arr, ts, 1),
            }
            if pd_ok:
                fns["pydicom"] = _pydicom_encode(data, ts)
            if ic_ok:
                fns["imagecodecs"] = _imagecodecs_encode(frames, codec)
            if src.num_frames > 1:
                fns["coreN"] = _native_encode(src, arr, ts, threads)
            try:
                t = _paired(fns, cfg.reps)
            except Exception:
                # A peer refused this input: measure ours alone and drop the peer from this encoder's rows.
                if pd_ok and "pydicom" in fns:
                    try:
                        fns["pydicom"]()
                    except Exception:
                        pd_ok = False
                        del fns["pydicom"]
                if ic_ok and "imagecodecs" in fns:
                    try:
                        fns["imagecodecs"]()
                    except Exception:
                        ic_ok = False
                        del fns["imagecodecs"]
                t = _paired(fns, cfg.reps)
            mpix += n
            for k in ("full1", "core1", "pydicom", "imagecodecs"):
                if k in t:
                    tot[k] = tot.get(k, 0.0) + t[k]
            # CharLS has specialised lossless code for precisions 8, 12 and 16 only; imagecodecs codes uint16
            # at 16, we at Bits Stored: inputs whose Bits Stored is 8, 12 or 16 take the same path in both.
            if codec == "jpegls" and int(src.get("BitsStored") or 0) in (8, 12, 16):
                same += n
                for k in ("core1", "imagecodecs"):
                    if k in t:
                        tot[k + "_same"] = tot.get(k + "_same", 0.0) + t[k]
            if "coreN" in t:
                multi += n
                n_multi += 1
                for k in ("core1", "coreN", "imagecodecs"):
                    if k in t:
                        tot[k + "_multi"] = tot.get(k + "_multi", 0.0) + t[k]
                # Steady state, as the pixels suite times decodes: calls back to back for 20 ms a timed run,
                # 1 thread and all threads alternated (a single call after other work pays for waking an
                # idle core: about 1 ms on this project's VM, a fifth of a 5 ms RLE encode).
                steady: dict[str, list[float]] = {"core1": [], "coreN": []}
                for _ in range(3):
                    for k in steady:
                        steady[k].append(measure(fns[k], max(cfg.reps, 3), min_time=0.02))
                for k, v in steady.items():
                    tot[k + "_steady"] = tot.get(k + "_steady", 0.0) + statistics.median(v)
                # Sustained rates (calls back to back, about half a second each): all threads in this
                # process against one thread in each of `cores` processes at once.
                calls = max(3, int(0.5 / max(t["core1"], 1e-6)))
                side = side_by_side(fns["core1"], cores, calls) if cores > 1 else None
                if side is not None:
                    sides += n
                    tot["susN_side"] = tot.get("susN_side", 0.0) + sustained(fns["coreN"], calls)
                    tot["susP_side"] = tot.get("susP_side", 0.0) + side
        total = {"multi": multi, "same": same, "side": sides, "steady": multi}
        rate = {k: total.get(k.rpartition("_")[2], mpix) / v for k, v in tot.items() if v}
        rows.append(
            Row(
                "write",
                f"{name}: read, decode, encode, encapsulate; 1 thread",
                "pydicom",
                "MPix/s",
                rate.get("pydicom") if pd_ok else None,
                rate.get("full1"),
                True,
                len(items),
                note="" if pd_ok else "encoder missing or refused",
            )
        )
        rows.append(
            Row(
                "write",
                f"{name}: encode frames from an array, 1 thread",
                "imagecodecs",
                "MPix/s",
                rate.get("imagecodecs") if ic_ok else None,
                rate.get("core1"),
                True,
                len(items),
                note=(
                    "imagecodecs codes JPEG-LS at its dtype's full precision (16 bits for uint16), we at "
                    "(0028,0101) Bits Stored"
                    if codec == "jpegls" and ic_ok
                    else ""
                    if ic_ok
                    else "no encoder in imagecodecs"
                ),
            )
        )
        if ic_ok and "imagecodecs_same" in rate:
            rows.append(
                Row(
                    "write",
                    f"{name}: encode frames from an array, 1 thread, Bits Stored 8/12/16 only",
                    "imagecodecs",
                    "MPix/s",
                    rate.get("imagecodecs_same"),
                    rate.get("core1_same"),
                    True,
                    note="the inputs where both code at the same precision",
                )
            )
        if multi:
            rows.append(
                Row(
                    "write",
                    f"{name}: encode multi-frame, all threads vs 1 thread",
                    "dicomfast 1 thread",
                    "MPix/s",
                    rate.get("core1_multi"),
                    rate.get("coreN_multi"),
                    True,
                    n_multi,
                )
            )
            rows.append(
                Row(
                    "write",
                    f"{name}: encode multi-frame, all threads vs 1 thread, steady state",
                    "dicomfast 1 thread",
                    "MPix/s",
                    rate.get("core1_steady"),
                    rate.get("coreN_steady"),
                    True,
                    n_multi,
                    note="calls back to back (the row above: the best single call after other work)",
                )
            )
            if "susN_side" in rate:
                rows.append(
                    Row(
                        "write",
                        f"{name}: encode multi-frame, all threads vs {cores} processes of 1 thread at once (sustained)",
                        f"{cores} processes x 1 thread",
                        "MPix/s",
                        rate.get("susP_side"),
                        rate.get("susN_side"),
                        True,
                        n_multi,
                        note="what the cores give to independent jobs: the ceiling of a parallel encode",
                    )
                )
            if ic_ok and "imagecodecs_multi" in rate:
                rows.append(
                    Row(
                        "write",
                        f"{name}: encode multi-frame, all threads",
                        "imagecodecs (frame after frame)",
                        "MPix/s",
                        rate.get("imagecodecs_multi"),
                        rate.get("coreN_multi"),
                        True,
                        n_multi,
                    )
                )
    return rows
