"""Archive scan benchmark: dicomfast (1 and 2 threads) vs a pydicom 2-process pool vs a dicomsdl loop.

One run, one synthetic archive (``benchmarks/make_archive.py``: copies of real files with new UIDs in nested
folders, made in a temporary folder), the same 12 tags for every peer plus the UIDs of the fixed columns:

- dicomfast: ``dicomfast.scan(root, tags=TAGS, threads=N)``, the whole walk + read + table;
- pydicom: ``os.walk`` then ``dcmread(p, stop_before_pixels=True, specific_tags=...)`` and the values, in a
  ``multiprocessing.Pool(2)`` (the walk is not timed);
- dicomsdl: ``os.walk`` then ``open_file(p, load_until=...)`` and the values, one process.

Every peer runs once to warm the page cache, then is timed (best of ``--repeat`` runs, as the machine may be
shared; one run for pydicom). "files per CPU-second" divides by the CPU time the scan used (user + system),
a per-core rate that other processes on the machine do not distort.
Peak RSS is measured in a fresh process for batches streamed to a Parquet file, batches consumed and
dropped, and the whole table in memory, at 20k and 100k files, and at 1M rows (the 20k files listed 50
times, which needs no more disk).

Run: ``python -m benchmarks.scan [--files 20000 --big 100000 --repeat 3 --keep DIR]``; prints Markdown tables.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dicomfast

warnings.simplefilter("ignore")

TAGS = [
    "PatientID",
    "PatientName",
    "StudyDate",
    "StudyDescription",
    "Modality",
    "SeriesNumber",
    "InstanceNumber",
    "Rows",
    "Columns",
    "PixelSpacing",
    "SliceThickness",
    "ImagePositionPatient",
]
FIXED = ["SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"]
ALL = TAGS + FIXED


def walk(root: Path) -> list[str]:
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        out.extend(os.path.join(d, f) for f in sorted(files))
    return out


# ------------------------------------------------------------------------------------------------ peers


CPU: dict[int | str, list[float]] = {}


def df_scan(root: Path, threads: int) -> int:
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = dicomfast.scan(root, tags=TAGS, threads=threads)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    CPU.setdefault(threads, []).append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return t.num_rows


_PD_TAGS: list[Any] = []


def _pd_init() -> None:
    import pydicom

    warnings.simplefilter("ignore")
    _PD_TAGS[:] = [pydicom.datadict.tag_for_keyword(k) for k in ALL]


def _pd_one(path: str) -> tuple[Any, ...]:
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_PD_TAGS)
        return (str(ds.file_meta.get("TransferSyntaxUID", "")), *(ds.get(k) for k in ALL))
    except Exception as e:
        return (repr(e),)


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _pool_cpu(pool: Any) -> float:
    """CPU seconds used so far by the pool's worker processes."""
    import psutil

    total = 0.0
    for proc in pool._pool:  # the worker processes of a multiprocessing pool
        t = psutil.Process(proc.pid).cpu_times()
        total += t.user + t.system
    return total


def pd_pool(files: list[str], pool: Any) -> int:
    return len(pool.map(_pd_one, files, chunksize=256))


def sdl_loop(files: list[str]) -> int:
    import dicomsdl

    c0 = _self_cpu()

    dicomsdl.set_loglevel(dicomsdl.LogLevel.DISABLE)  # its charset warnings would flood stderr

    rows = []
    until = 0x00280031  # just after (0028,0030) Pixel Spacing, the largest tag wanted
    for p in files:
        try:
            ds = dicomsdl.open_file(p, load_until=until)
            rows.append(tuple(getattr(ds, k, None) for k in ALL))
        except Exception as e:
            rows.append((repr(e),))
    CPU.setdefault("sdl", []).append(_self_cpu() - c0)
    return len(rows)


def _time(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Best of ``repeat`` timed runs after a warm-up (the best run is the one least disturbed by others)."""
    n = fn()  # warm-up: page cache, imports, pool start
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t0)
    return min(times), n


RSS_CODE = """
import resource, sys, dicomfast, pyarrow as pa, pyarrow.parquet as pq
from dicomfast.scan import schema
from dicomfast import _native
root, mode, out, times, bs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[5]), int(sys.argv[6])
tags = sys.argv[4].split(",")
# times > 1: the archive's files listed that many times over (a larger archive without the disk space).
entries = _native.list_files([root]) * times if times > 1 else None
batches = dicomfast.scan_batches([root], tags, threads=2, batch_size=bs, _entries=entries)
if mode == "parquet":
    n = 0
    with pq.ParquetWriter(out, schema(tags), compression="zstd") as w:
        for b in batches:
            w.write_batch(b)
            n += b.num_rows
elif mode == "batches":
    n = sum(b.num_rows for b in batches)
else:
    n = pa.Table.from_batches(list(batches)).num_rows
# VmHWM is the peak of this process image (ru_maxrss would carry the parent's peak across fork + exec).
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(n, int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss(root: Path, mode: str, times: int = 1, batch_size: int = 16384) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(prefix="dicomfast-rss-") as tmp:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                RSS_CODE,
                str(root),
                mode,
                str(Path(tmp) / "rss.parquet"),
                ",".join(TAGS),
                str(times),
                str(batch_size),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    return int(out[0]), int(out[1]) / 1024


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000, help="files of the archive timed against the peers")
    ap.add_argument("--big", type=int, default=100_000, help="files of the larger archive (dicomfast only; 0: skip)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--times", type=int, default=50, help="RSS row: the small archive listed this many times")
    ap.add_argument("--keep", type=Path, default=None, help="make (or reuse) the archive here instead of a temp dir")
    ap.add_argument("--max-size", type=int, default=512 * 1024, help="largest source file copied, bytes")
    args = ap.parse_args()

    import dicomsdl
    import pydicom

    from benchmarks.make_archive import make

    tmpdir = tempfile.TemporaryDirectory(prefix="dicomfast-scan-bench-")
    base = args.keep or Path(tmpdir.name)
    small, extra = base / "a", base / "b"
    if not small.is_dir():
        t0 = time.perf_counter()
        make(small, args.files, args.max_size)
        print(f"made {args.files} files in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if args.big > args.files and not extra.is_dir():
        t0 = time.perf_counter()
        make(extra, args.big - args.files, args.max_size, start=args.files)
        print(f"made {args.big - args.files} more files in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    files = walk(small)
    size = sum(os.path.getsize(p) for p in files)
    print(f"## Scan benchmark: {len(files):,} files ({size / 1e9:.2f} GB), {len(TAGS)} tags + 4 UIDs, warm cache")
    print()
    print(f"Machine: {machine()}. dicomfast {dicomfast.__version__}, pydicom {pydicom.__version__}, dicomsdl ")
    print(f"{dicomsdl.__version__ if hasattr(dicomsdl, '__version__') else '0.109'}.")
    print(f"Load average at start: {os.getloadavg()[0]:.2f} (other processes share the machine).")
    print()

    results: list[tuple[str, float, int]] = []
    for threads in (1, 2):
        t, n = _time(lambda threads=threads: df_scan(small, threads), args.repeat)
        results.append((f"dicomfast.scan, {threads} thread{'s' if threads > 1 else ''}", t, n))
    t, n = _time(lambda: sdl_loop(files), max(1, args.repeat - 2))
    results.append(("dicomsdl 0.109 loop, 1 process", t, n))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2, initializer=_pd_init) as pool:

        def pd_timed() -> int:
            c0 = _pool_cpu(pool)
            n = pd_pool(files, pool)
            CPU.setdefault("pd", []).append(_pool_cpu(pool) - c0)
            return n

        t, n = _time(pd_timed, 1)
    results.append(("pydicom 3 loop, 2-process pool", t, n))

    by = {name: t for name, t, _ in results}
    pd_t = by["pydicom 3 loop, 2-process pool"]
    sdl_t = by["dicomsdl 0.109 loop, 1 process"]
    one_t = by["dicomfast.scan, 1 thread"]
    keys: dict[str, int | str] = {
        "dicomfast.scan, 1 thread": 1,
        "dicomfast.scan, 2 threads": 2,
        "dicomsdl 0.109 loop, 1 process": "sdl",
        "pydicom 3 loop, 2-process pool": "pd",
    }
    per_cpu = {name: n / min(CPU[keys[name]]) for name, _t, n in results if CPU.get(keys[name])}
    print(
        "| peer | rows | time (s) | files/s | vs pydicom pool | vs dicomsdl | vs 1 thread "
        "| files per CPU-second | per CPU-second vs pydicom | per CPU-second vs dicomsdl |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, t, n in results:
        pc = per_cpu.get(name)
        pd_pc = per_cpu.get("pydicom 3 loop, 2-process pool")
        sdl_pc = per_cpu.get("dicomsdl 0.109 loop, 1 process")
        cpu_cells = f"{pc:,.0f} | {pc / pd_pc:.1f}x | {pc / sdl_pc:.2f}x" if pc and pd_pc and sdl_pc else "- | - | -"
        print(
            f"| {name} | {n:,} | {t:.3f} | {n / t:,.0f} | {pd_t / t:.1f}x | {sdl_t / t:.2f}x | {one_t / t:.2f}x "
            f"| {cpu_cells} |"
        )
    print()

    if args.big > args.files:
        print(f"### {args.big:,} files (dicomfast only)")
        print()
        print("| peer | rows | time (s) | files/s | files/s per core | files per CPU-second |")
        print("|---|---:|---:|---:|---:|---:|")
        CPU.clear()
        for threads in (1, 2):
            t, n = _time(lambda threads=threads: df_scan(base, threads), max(1, args.repeat - 2))
            print(
                f"| dicomfast.scan, {threads} thread{'s' if threads > 1 else ''} | {n:,} | {t:.3f} | "
                f"{n / t:,.0f} | {n / t / threads:,.0f} | {n / min(CPU[threads]):,.0f} |"
            )
        print()

    print("### Peak RSS (fresh process, 2 threads)")
    print()
    print(
        "| files | 4,096-row batches consumed | 16,384-row batches consumed "
        "| 16,384-row batches to Parquet | whole table |"
    )
    print("|---:|---:|---:|---:|---:|")
    roots = [(small, 1, "")]
    if args.big > args.files:
        roots.append((base, 1, ""))
    if args.times > 1:
        roots.append((small, args.times, f" (the {len(files):,} files listed {args.times} times)"))
    for root, times, note in roots:
        cells = []
        rows = 0
        for mode, bs in (("batches", 4096), ("batches", 16384), ("parquet", 16384), ("table", 16384)):
            rows, mb = peak_rss(root, mode, times, bs)
            cells.append(f"{mb:,.0f} MB")
        print(f"| {rows:,}{note} | " + " | ".join(cells) + " |")
    tmpdir.cleanup()


if __name__ == "__main__":
    main()
