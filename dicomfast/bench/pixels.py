"""Pixel decoding benchmark: MPix/s per codec, dicomfast (1 thread, all threads) vs its peers, side by side.

Peers (each when installed): pydicom 3 with its plugins (pylibjpeg-openjpeg, pylibjpeg-rle, pyjpegls, pillow),
pydicom through python-gdcm, dicomsdl (files it crashes on are probed in a child process and left out), and
imagecodecs (the raw C libraries on the frame bytes: the floor for a codec). Every peer's array is compared
with dicomfast's (equal, or within the lossy tolerance) and a mismatch is marked in the table.

Inputs: the given files, by default the real files of pydicom's test files, pydicom-data and
``../shared/corpus`` (NEMA WG04 samples), grouped by transfer syntax.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import dicomfast
from dicomfast.bench.core import Config, Row, in_turn, measure, side_by_side, sustained

CODECS = {
    "native": ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"],
    "RLE": ["1.2.840.10008.1.2.5"],
    "JPEG 8-bit": ["1.2.840.10008.1.2.4.50"],
    "JPEG 12-bit": ["1.2.840.10008.1.2.4.51"],
    "JPEG lossless": ["1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"],
    "JPEG-LS": ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"],
    "J2K lossless": ["1.2.840.10008.1.2.4.90"],
    "J2K lossy": ["1.2.840.10008.1.2.4.91"],
    "HTJ2K": ["1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"],
    "JPEG XL": ["1.2.840.10008.1.2.4.110", "1.2.840.10008.1.2.4.111", "1.2.840.10008.1.2.4.112"],
    "deflate": ["1.2.840.10008.1.2.8.1"],
}
LOSSY = {"JPEG 8-bit", "JPEG 12-bit", "J2K lossy", "JPEG XL"}


def select_files(
    paths: list[Path], max_files: int, max_mpix: float | None = None
) -> dict[str, list[tuple[Path, bytes]]]:
    """The decodable files of each codec group (largest first), as (path, bytes).

    Headers are read first (transfer syntax and size); only the candidates are decoded, largest first, until
    ``max_files`` of a group decode.
    """
    candidates: dict[str, list[tuple[int, Path]]] = {k: [] for k in CODECS}
    for p in paths:
        try:
            ds = dicomfast.dcmread(p, force=True, stop_before_pixels=True)
            ts = ds.original_transfer_syntax
            size = int(ds.get("Rows") or 0) * int(ds.get("Columns") or 0) * ds.num_frames
        except (dicomfast.DicomError, OSError, ValueError, TypeError):
            continue
        if size <= 0 or (max_mpix is not None and size > max_mpix * 1e6):
            continue
        for name, uids in CODECS.items():
            if ts in uids:
                candidates[name].append((size, p))
    groups: dict[str, list[tuple[int, Path, bytes]]] = {k: [] for k in CODECS}
    for name, items in candidates.items():
        for size, p in sorted(items, key=lambda x: -x[0]):
            if len(groups[name]) >= max_files:
                break
            try:
                data = p.read_bytes()
                ds = dicomfast.dcmread(data, force=True)
                if 0x7FE00010 not in ds:
                    continue
                ds.pixel_array  # noqa: B018 - decodable
            except (dicomfast.DicomError, OSError, ValueError):
                continue
            groups[name].append((size, p, data))
    if not groups["deflate"]:
        # No real file uses Deflated Image Frame Compression: compress the largest native ones.
        for _, p, data in groups["native"][:max_files]:
            ds = dicomfast.dcmread(data)
            if int(ds.BitsAllocated) in (8, 16):
                try:
                    ds.compress("DeflatedImageFrameCompression")
                except (dicomfast.DicomError, ValueError):
                    continue  # a layout the encoder takes only once converted (planar, YBR_FULL_422)
                buf = io.BytesIO()
                dicomfast.dcmwrite(buf, ds)
                groups["deflate"].append((ds.pixel_array.size, p.with_suffix(".deflated.dcm"), buf.getvalue()))
    return {k: [(p, d) for _, p, d in v] for k, v in groups.items()}


def _check(ref: np.ndarray, other: Any, lossy: bool) -> str:
    try:
        other = np.asarray(other)
        if other.shape != ref.shape:
            other = other.reshape(ref.shape)
    except Exception:
        return "shape"
    if lossy:
        diff = np.abs(ref.astype(np.float64) - other.astype(np.float64))
        return "" if diff.max() <= 2 or diff.mean() < 0.5 else f"max|Δ| {diff.max():.0f}"
    return "" if np.array_equal(ref, other) else "differs"


def _pydicom_decode(data: bytes, plugin: str | None) -> Callable[[], np.ndarray]:
    import pydicom

    pds = pydicom.dcmread(io.BytesIO(data), force=True)
    if plugin:
        pds.pixel_array_options(decoding_plugin=plugin)

    def run() -> np.ndarray:
        pds._pixel_array = None
        pds._pixel_id = {}
        return pds.pixel_array

    return run


def _imagecodecs_decode(data: bytes, codec: str) -> Callable[[], list[np.ndarray]] | None:
    try:
        import imagecodecs
        import pydicom
        from pydicom.encaps import generate_frames
    except ImportError:
        return None
    fn = {
        "RLE": getattr(imagecodecs, "dicomrle_decode", None),
        "JPEG 8-bit": imagecodecs.jpeg8_decode,
        "JPEG 12-bit": imagecodecs.jpeg8_decode,
        "JPEG lossless": imagecodecs.ljpeg_decode,
        "JPEG-LS": imagecodecs.jpegls_decode,
        "J2K lossless": imagecodecs.jpeg2k_decode,
        "J2K lossy": imagecodecs.jpeg2k_decode,
        "HTJ2K": imagecodecs.htj2k_decode if imagecodecs.HTJ2K.available else imagecodecs.jpeg2k_decode,
        "JPEG XL": imagecodecs.jpegxl_decode,
    }.get(codec)
    if fn is None:
        return None
    pds = pydicom.dcmread(io.BytesIO(data), force=True)
    n = int(pds.get("NumberOfFrames") or 1)
    frames = list(generate_frames(pds.PixelData, number_of_frames=n))
    if codec == "RLE":
        dtype = np.dtype(f"<u{int(pds.BitsAllocated) // 8}")
        spp = int(pds.get("SamplesPerPixel") or 1)

        def run_rle() -> list[np.ndarray]:
            return [fn(f, dtype).reshape(int(pds.Rows), int(pds.Columns), spp) for f in frames]

        return run_rle
    return lambda: [fn(f) for f in frames]


def _pylibjpeg_rle_decode(data: bytes) -> Callable[[], list[np.ndarray]] | None:
    """pylibjpeg-rle's frame decoder on the frame bytes (the decoder pydicom's RLE plugin calls)."""
    try:
        import pydicom
        from pydicom.encaps import generate_frames
        from rle.utils import decode_frame
    except ImportError:
        return None
    pds = pydicom.dcmread(io.BytesIO(data), force=True)
    n = int(pds.get("NumberOfFrames") or 1)
    frames = list(generate_frames(pds.PixelData, number_of_frames=n))
    rows, cols = int(pds.Rows), int(pds.Columns)
    spp, bits = int(pds.get("SamplesPerPixel") or 1), int(pds.BitsAllocated)
    # decode_frame gives the samples as planes of little-endian words: (samples, rows, columns)
    dtype = np.dtype(f"<{'i' if int(pds.get('PixelRepresentation') or 0) else 'u'}{bits // 8}")

    def run() -> list[np.ndarray]:
        out = []
        for f in frames:
            a = np.frombuffer(decode_frame(f, rows * cols, bits, "<"), dtype).reshape(spp, rows, cols)
            # the same colour-by-pixel layout as pydicom's (and our) arrays
            out.append(np.ascontiguousarray(a.transpose(1, 2, 0)) if spp > 1 else a[0])
        return out

    return run


def timed_in_turn(fns: dict[str, Callable[[], Any] | None], repeat: int, rounds: int = 3) -> dict[str, float]:
    """Seconds per call of each of ``fns`` (steady state, as ``measure``), timed in turn (``in_turn``).

    A function that is None or fails its first call is left out (the caller times and records it alone);
    with fewer than two left, nothing is timed and the result is empty.
    """
    ok: dict[str, Callable[[], Any]] = {}
    for name, fn in fns.items():
        if fn is None:
            continue
        try:
            fn()
        except Exception:  # recorded where the caller calls it again
            continue
        ok[name] = fn
    if len(ok) < 2:
        return {}
    timers = [partial(measure, f, repeat, min_time=0.02) for f in ok.values()]
    return dict(zip(ok, in_turn(timers, rounds), strict=True))


def dicomsdl_ok(items: list[tuple[Path, bytes]]) -> set[Path]:
    """The files dicomsdl decodes without killing the process (probed in a child process each)."""
    ok = set()
    for p, data in items:
        code = "import sys, dicomsdl; d = dicomsdl.open_memory(sys.stdin.buffer.read()); d.pixelData()"
        r = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=False, timeout=60)
        if r.returncode == 0:
            ok.add(p)
    return ok


def measure_codecs(
    paths: list[Path], repeat: int, max_files: int, codecs: list[str] | None = None, max_mpix: float | None = None
) -> list[dict[str, Any]]:
    """Measure every codec group; return one dict per group (MPix/s per peer, statuses)."""
    warnings.simplefilter("ignore")
    groups = select_files(paths, max_files, max_mpix)
    rows = []
    try:
        import dicomsdl
    except ImportError:
        dicomsdl = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    for codec, items in groups.items():
        if codecs is not None and codec not in codecs:
            continue
        if not items:
            rows.append({"codec": codec, "files": 0})
            continue
        mpix = mpix_mf = 0.0
        times: dict[str, float] = {}
        status: dict[str, str] = {}
        sdl_files = dicomsdl_ok(items) if dicomsdl is not None else set()
        for p, data in items:
            ds = dicomfast.dcmread(data, force=True)
            ref = ds.pixel_array
            mpix += ds.num_frames * int(ds.Rows) * int(ds.Columns) / 1e6
            one_thread = partial(dicomfast.pixel_array, ds, threads=1)
            all_threads = partial(dicomfast.pixel_array, ds)
            peers: dict[str, Callable[[], Any] | None] = {
                "dicomfast 1T": one_thread,
                "dicomfast": all_threads,
                "pydicom": _pydicom_decode(data, None),
                "gdcm": _pydicom_decode(data, "gdcm"),
                "dicomsdl": (lambda data=data: dicomsdl.open_memory(data).pixelData()) if p in sdl_files else None,
                "imagecodecs": _imagecodecs_decode(data, codec) if codec != "native" else None,
                "pylibjpeg-rle": _pylibjpeg_rle_decode(data) if codec == "RLE" else None,
            }
            # dicomfast on 1 thread, on all threads (multi-frame files, whose frames decode in parallel) and
            # imagecodecs (the C libraries: the 1-thread target) timed in turn: this VM's speed drifts
            # between minutes by more than the ratios measured, so each ratio comes from the same minutes.
            together = ["dicomfast 1T", *(["dicomfast"] if ds.num_frames > 1 else []), "imagecodecs"]
            paired = timed_in_turn({k: peers[k] for k in together}, repeat)
            per_file: dict[str, float] = {}
            for name, fn in peers.items():
                if fn is None or (name in status and status[name].startswith("fails")):
                    continue
                try:
                    out = fn()
                except Exception as e:  # a peer that cannot decode a file: recorded, not fatal
                    status[name] = f"fails ({type(e).__name__})"
                    continue
                if name != "imagecodecs":
                    bad = _check(ref, out, codec in LOSSY)
                    if bad:
                        status[name] = f"mismatch: {bad}"
                # steady state: a loop of decodes, as a loader runs them (see measure)
                t = paired[name] if name in paired else measure(fn, repeat, min_time=0.02)
                per_file[name] = t
                times[name] = times.get(name, 0.0) + t
                if ds.num_frames > 1 and name.startswith("dicomfast"):
                    # the thread scaling target is for multi-frame files (frames decode in parallel)
                    times[f"{name} multi-frame"] = times.get(f"{name} multi-frame", 0.0) + t
                    if name == "dicomfast":
                        mpix_mf += ds.num_frames * int(ds.Rows) * int(ds.Columns) / 1e6
            if ds.num_frames > 1 and cores > 1 and "dicomfast 1T" in per_file and "dicomfast" in per_file:
                # The machine's ceiling for this file: one thread in each of `cores` processes at once,
                # against all threads in this process, both sustained (about half a second of calls each).
                calls = max(3, int(0.5 / max(per_file["dicomfast 1T"], 1e-6)))
                side = side_by_side(one_thread, cores, calls)
                if side is not None:
                    k_all, k_side = "dicomfast sustained multi-frame", "dicomfast 1T x cores multi-frame"
                    times[k_all] = times.get(k_all, 0.0) + sustained(all_threads, calls)
                    times[k_side] = times.get(k_side, 0.0) + side
            if dicomsdl is not None and p not in sdl_files:
                status.setdefault("dicomsdl", "crashes on some files: left out")
        row: dict[str, Any] = {"codec": codec, "files": len(items), "mpix": mpix, "cores": cores}
        for name, t in times.items():
            m = mpix_mf if name.endswith("multi-frame") else mpix
            row[name] = m / t if t > 0 else float("nan")
        row["status"] = status
        rows.append(row)
    return rows


def run(cfg: Config) -> list[Row]:
    """Run the suite: per codec, dicomfast on one thread against each peer, and all threads against one."""
    # --quick: one file of each codec, of at most 2 MPix in all
    raw = measure_codecs(cfg.paths, cfg.reps, 1 if cfg.quick else 6, max_mpix=2.0 if cfg.quick else None)
    rows: list[Row] = []
    for r in raw:
        codec = r["codec"]
        if not r.get("files"):
            rows.append(Row("pixels", f"{codec} decode", "(no input file)", "MPix/s", None, None, True))
            continue
        one = r.get("dicomfast 1T")
        for peer in ("pydicom", "gdcm", "dicomsdl", "imagecodecs", "pylibjpeg-rle"):
            if peer == "pylibjpeg-rle" and codec != "RLE":
                continue
            status = r["status"].get(peer, "")
            rows.append(
                Row(
                    "pixels",
                    f"{codec} decode, 1 thread",
                    peer,
                    "MPix/s",
                    r.get(peer),
                    one,
                    True,
                    r["files"],
                    note=status if not status.startswith("mismatch") else "",
                    mismatch=status if status.startswith("mismatch") else "",
                )
            )
        rows.append(
            Row(
                "pixels",
                f"{codec} decode, all threads",
                "dicomfast 1 thread",
                "MPix/s",
                one,
                r.get("dicomfast"),
                True,
                r["files"],
            )
        )
        if r.get("dicomfast multi-frame"):
            rows.append(
                Row(
                    "pixels",
                    f"{codec} decode, multi-frame files, all threads",
                    "dicomfast 1 thread",
                    "MPix/s",
                    r.get("dicomfast 1T multi-frame"),
                    r.get("dicomfast multi-frame"),
                    True,
                    r["files"],
                )
            )
        if r.get("dicomfast 1T x cores multi-frame"):
            ceiling = r["dicomfast 1T x cores multi-frame"] / r["dicomfast 1T multi-frame"]
            rows.append(
                Row(
                    "pixels",
                    f"{codec} decode, multi-frame files, all threads vs {r['cores']} processes of 1 thread at once",
                    f"{r['cores']} processes x 1 thread",
                    "MPix/s",
                    r["dicomfast 1T x cores multi-frame"],
                    r.get("dicomfast sustained multi-frame"),
                    True,
                    r["files"],
                    note=(
                        f"sustained; the {r['cores']} processes together decode {ceiling:.2f}x as fast as one "
                        "thread: the most the machine gives independent jobs"
                    ),
                )
            )
    return rows
