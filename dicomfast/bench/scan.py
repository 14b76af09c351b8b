"""Suite ``scan``: a synthetic archive to one row per file, dicomfast vs a pydicom pool vs a dicomsdl loop.

One archive (:mod:`dicomfast.bench.archive`: copies of real files with new UIDs in nested folders; 20,000
files, about 2,000 with ``--quick``), the same 12 tags for every peer plus the four UIDs of the fixed columns:

- dicomfast: ``dicomfast.scan(root, tags=TAGS, threads=N)``, the whole walk + read + table, on 1 and N threads;
- pydicom: ``dcmread(p, stop_before_pixels=True, specific_tags=...)`` and the values, in a 2-process
  ``multiprocessing`` pool over the walked file list (the walk is not timed);
- dicomsdl: ``open_file(p, load_until=...)`` and the values, one process.

Each peer's values are compared with dicomfast's table, file by file; a difference is a mismatch in the
report. "files per CPU-second" divides by the CPU time the scan used (user + system, the pool's workers for
pydicom): a per-core rate that other processes on a shared machine distort less than wall time.
Peak RSS is measured in a fresh child process for batches consumed and dropped, batches streamed to a
Parquet file and the whole table in memory (and, in the full run, for a million rows: the archive's files
listed 50 times over).
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import dicomfast
from dicomfast.bench.archive import Source, archive, sources
from dicomfast.bench.core import Config, Row, have, in_turn, side_by_side, sustained

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
FULL_FILES = 20_000
QUICK_FILES = 2_000
SDL_LOAD_UNTIL = 0x00280031  # just after (0028,0030) Pixel Spacing, the largest tag wanted

# CPU seconds of the timed runs, per peer (filled by the functions below).
CPU: dict[int | str, list[float]] = {}


def walk(root: Path) -> list[str]:
    """The files under ``root``, depth first by name (dicomfast.scan's order)."""
    out: list[str] = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        out.extend(os.path.join(d, f) for f in sorted(files))
    return out


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _disk_read() -> int | None:
    """Bytes this process has had read from storage (not from the page cache) so far (Linux), else None."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("read_bytes:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


# Bytes read from storage during each dicomfast scan, per thread count: a scan "with a warm page cache"
# reads none (a host that pages out the guest's cold page cache, as this project's VMs' DAMON does, makes
# some of the archive's first pages come from the disk again).
DISK: dict[int, list[int]] = {}


# ------------------------------------------------------------------------------------------------ peers


def df_table(root: Path | Sequence[str], threads: int | None) -> Any:
    """dicomfast: the scan's table (``pyarrow.Table``)."""
    return dicomfast.scan(root, tags=TAGS, threads=threads)


# Wall time and the scan threads' time running and time runnable but waiting for a CPU, per thread count.
SCHED: dict[int, list[tuple[float, float, float]]] = {}


class WorkerTimes:
    """The time the scan's worker threads spent running, and runnable but waiting for a CPU (Linux).

    A sampling thread reads ``/proc/self/task/*/schedstat`` of the threads named ``dicomfast-scan-*`` every
    5 ms (they end with their scan, so their last values are those of the last sample); its own CPU time is
    in ``own_cpu``. On a shared
    machine the waiting time says how much of the wall time went to other processes rather than to the
    scan: threads runnable all the time that still wait for a CPU are slowed by the machine's load, not
    held up by one another.
    """

    def __init__(self) -> None:
        import threading

        self.run = 0.0
        self.wait = 0.0
        #: CPU time of the sampling thread itself (to leave out of the scan's).
        self.own_cpu = 0.0
        self._first: dict[str, tuple[int, int]] = {}
        self._last: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        c0 = time.thread_time()
        try:
            self._poll()
        finally:
            self.own_cpu = time.thread_time() - c0

    def _poll(self) -> None:
        while True:
            try:
                tids = os.listdir("/proc/self/task")
            except OSError:
                return
            for tid in tids:
                try:
                    with open(f"/proc/self/task/{tid}/comm") as f:
                        if not f.read().startswith("dicomfast-scan"):
                            continue
                    with open(f"/proc/self/task/{tid}/schedstat") as f:
                        run, wait = (int(x) for x in f.read().split()[:2])
                except (OSError, ValueError):
                    continue
                self._first.setdefault(tid, (run, wait))
                self._last[tid] = (run, wait)
            if self._stop.wait(0.005):
                return

    def __enter__(self) -> WorkerTimes:
        if os.path.exists("/proc/self/task"):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        # Threads already there when the scan started (a previous pool ending) count only what they did since.
        self.run = sum(r - self._first[t][0] for t, (r, _) in self._last.items()) / 1e9
        self.wait = sum(w - self._first[t][1] for t, (_, w) in self._last.items()) / 1e9


def df_scan(root: Path | Sequence[str], threads: int, sample: bool = False) -> int:
    """dicomfast: scan ``root`` on ``threads`` threads; the number of rows.

    The CPU time is kept in :data:`CPU`. With ``sample``, the wall time and the workers' running and waiting
    times go to :data:`SCHED` (and not to :data:`CPU`): the sampling thread takes CPU time of its own, on
    all cores busy with the scan's threads as much as on an idle one, so timed runs are not sampled.
    """
    d0 = _disk_read()
    c0 = _self_cpu()
    t0 = time.perf_counter()
    if sample:
        with WorkerTimes() as wt:
            t = df_table(root, threads)
        SCHED.setdefault(threads, []).append((time.perf_counter() - t0, wt.run, wt.wait))
    else:
        t = df_table(root, threads)
        CPU.setdefault(threads, []).append(_self_cpu() - c0)
        d1 = _disk_read()
        if d0 is not None and d1 is not None:
            DISK.setdefault(threads, []).append(d1 - d0)
    return int(t.num_rows)


def disk_note(threads: int, repeat: int) -> str:
    """What the last ``repeat`` scans on ``threads`` threads read from storage, as a note (empty if unknown)."""
    runs = DISK.get(threads, [])[-repeat:]
    if not runs:
        return ""
    return (
        f"{threads} thread{'s' if threads > 1 else ''}: {sum(runs) / 1e6:.1f} MB read from storage in "
        f"{len(runs)} timed scans"
    )


def sched_note(threads: int, repeat: int) -> str:
    """How busy the scan threads of the last ``repeat`` runs were, as a note (empty when not measured)."""
    runs = SCHED.get(threads, [])[-repeat:]
    if not runs or not any(r + w for _, r, w in runs):
        return ""
    wall = sum(x[0] for x in runs)
    run = sum(x[1] for x in runs)
    wait = sum(x[2] for x in runs)
    return (
        f"{threads} scan thread{'s' if threads > 1 else ''}: runnable {(run + wait) / (threads * wall):.0%} of the "
        f"wall time, {wait / (run + wait):.0%} of that waiting for a CPU other processes held"
    )


_PD_TAGS: list[Any] = []


def _pd_init() -> None:
    """Initialiser of a pydicom worker: the tags to read."""
    import pydicom

    warnings.simplefilter("ignore")
    _PD_TAGS[:] = [pydicom.datadict.tag_for_keyword(k) for k in ALL]


def _pd_one(path: str) -> tuple[Any, ...]:
    """pydicom: one file's values (path first), or ``(path, error)``."""
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_PD_TAGS)
        return (path, *(_plain(ds.get(k)) for k in ALL))
    except Exception as e:
        return (path, repr(e))


def _plain(v: Any) -> Any:
    """A value pickled cheaply across the pool (pydicom's types as str, float, int, list)."""
    if v is None or (isinstance(v, (str, int, float)) and type(v) in (str, int, float)):
        return v
    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
        return [_plain(x) for x in v]
    if isinstance(v, float):
        return float(v)
    if isinstance(v, int):
        return int(v)
    return str(v)


def _pool_cpu(pool: Any) -> float | None:
    """CPU seconds used so far by a pool's worker processes (None without psutil)."""
    if not have("psutil"):
        return None
    import psutil

    total = 0.0
    for proc in pool._pool:  # the worker processes of a multiprocessing pool
        t = psutil.Process(proc.pid).cpu_times()
        total += t.user + t.system
    return total


def pd_pool(files: list[str], pool: Any) -> list[tuple[Any, ...]]:
    """pydicom: every file's values, through ``pool``."""
    chunk = max(1, min(256, len(files) // 16))  # small archives: still spread over both workers
    return list(pool.map(_pd_one, files, chunksize=chunk))


def pd_loop(files: list[str]) -> list[tuple[Any, ...]]:
    """pydicom: every file's values, in this process."""
    if not _PD_TAGS:
        _pd_init()
    return [_pd_one(p) for p in files]


def pd_context() -> Any:
    """The multiprocessing context of the pydicom pool (fork where the platform has it)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def sdl_values(files: list[str]) -> list[tuple[Any, ...]]:
    """dicomsdl: every file's values (path first), one process (CPU time kept in :data:`CPU`)."""
    import dicomsdl

    c0 = _self_cpu()
    dicomsdl.set_loglevel(dicomsdl.LogLevel.DISABLE)  # its charset warnings would flood stderr
    rows: list[tuple[Any, ...]] = []
    for p in files:
        try:
            ds = dicomsdl.open_file(p, load_until=SDL_LOAD_UNTIL)
            rows.append((p, *(getattr(ds, k, None) for k in ALL)))
        except Exception as e:
            rows.append((p, repr(e)))
    CPU.setdefault("sdl", []).append(_self_cpu() - c0)
    return rows


def sdl_loop(files: list[str]) -> int:
    """dicomsdl: read every file's values; the number of rows."""
    return len(sdl_values(files))


SDL_PROBE = """
import sys, dicomsdl
dicomsdl.set_loglevel(dicomsdl.LogLevel.DISABLE)
keys = sys.argv[1].split(",")
for line in sys.stdin:
    p = line.rstrip("\\n")
    print(p, flush=True)
    try:
        ds = dicomsdl.open_file(p, load_until=int(sys.argv[2]))
        [getattr(ds, k, None) for k in keys]
    except Exception:
        pass
print("\\0done", flush=True)
"""


def sdl_safe(srcs: list[Source], timeout: float = 120) -> tuple[list[Source], list[Source]]:
    """The sources dicomsdl reads without killing its process, probed in one child process.

    The child prints each path before it reads it; when it dies, the last path printed is the culprit, and
    a new child goes on from the next one.

    Returns
    -------
    tuple[list[Source], list[Source]]
        ``(safe, crashed)``.
    """
    todo = list(srcs)
    crashed: list[Source] = []
    while todo:
        try:
            r = subprocess.run(
                [sys.executable, "-c", SDL_PROBE, ",".join(ALL), str(SDL_LOAD_UNTIL)],
                input="".join(f"{s.path}\n" for s in todo),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            out = r.stdout.splitlines()
        except subprocess.TimeoutExpired as e:
            raw = e.stdout or b""
            out = (raw.decode() if isinstance(raw, bytes) else raw).splitlines()
        if "\0done" in out:
            break
        printed = [line for line in out if line]
        if not printed:  # the child died before the first file: dicomsdl itself is broken
            return [], list(srcs)
        k = next(i for i, s in enumerate(todo) if str(s.path) == printed[-1])
        crashed.append(todo[k])
        todo = todo[k + 1 :]
    bad = {id(s) for s in crashed}
    return [s for s in srcs if id(s) not in bad], crashed


# ------------------------------------------------------------------------------------------------ checks


NUMERIC = {
    "SeriesNumber",
    "InstanceNumber",
    "Rows",
    "Columns",
    "PixelSpacing",
    "SliceThickness",
    "ImagePositionPatient",
}


def _norm(key: str, v: Any) -> Any:
    """A value in a form comparable across the peers (their types, padding and raw bytes set aside)."""
    if isinstance(v, (bytes, bytearray)):  # dicomsdl gives raw bytes where it does not know the charset
        v = bytes(v).decode("latin-1")
    if v is None or v == "" or v == []:
        return ""
    if isinstance(v, datetime.date):
        return v.strftime("%Y%m%d")
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        return f"{float(v):.6g}"
    if isinstance(v, (list, tuple)) or type(v).__name__ in ("MultiValue", "ndarray"):
        items = tuple(_norm(key, x) for x in v)
        return items[0] if len(items) == 1 else items
    s = str(v).strip(" \0")
    if "\\" in s:
        return _norm(key, s.split("\\"))
    if key.endswith("Date"):
        s = s.replace(".", "")
        try:  # dicomfast's date column holds null for a value that is no date ("00000000")
            datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8]))
        except ValueError:
            return ""
        return s
    if key == "PatientName":
        return s.rstrip("=^")  # trailing empty components and groups
    if key in NUMERIC:
        try:
            return f"{float(s):.6g}"
        except ValueError:
            return s
    return s


def table_values(table: Any) -> dict[str, tuple[Any, ...]]:
    """Dicomfast's table as ``{path: normalised values}`` (None for a file it could not read)."""
    cols = {k: table.column(k).to_pylist() for k in ("path", "ok", *ALL)}
    out: dict[str, tuple[Any, ...]] = {}
    for i, p in enumerate(cols["path"]):
        out[p] = tuple(_norm(k, cols[k][i]) for k in ALL) if cols["ok"][i] else None  # type: ignore[assignment]
    return out


def compare(ours: dict[str, tuple[Any, ...]], theirs: list[tuple[Any, ...]]) -> tuple[str, str]:
    """How a peer's rows differ from dicomfast's.

    Parameters
    ----------
    ours
        :func:`table_values` of dicomfast's table.
    theirs
        The peer's rows: ``(path, *values)``, or ``(path, error)`` for a file it could not read.

    Returns
    -------
    tuple[str, str]
        ``(mismatch, note)``: the mismatch, e.g. ``"3 of 2,000 files differ (StudyDate 3); StudyDate of
        a/b.dcm: '20010101' here, '' from the peer"`` (the first difference of the tag most often
        different, so a reader can tell whose value is right), "" when the values agree; the note counts
        the files the peer raised an error on, and those where the only difference is an empty value that
        the peer gives as 0 (a convention, not a wrong value).
    """
    bad = 0
    zero = 0
    missing = 0
    refused = 0
    by_tag: dict[str, int] = {}
    example: dict[str, tuple[str, Any, Any]] = {}
    for row in theirs:
        path, values = row[0], row[1:]
        mine = ours.get(path)
        if len(values) != len(ALL) or mine is None:
            if len(values) != len(ALL) and mine is not None:
                refused += 1  # the peer raised an error on a file dicomfast reads
            elif len(values) == len(ALL) and mine is None:
                missing += 1
            continue
        diff = [(k, a, _norm(k, b)) for k, a, b in zip(ALL, mine, values, strict=True) if a != _norm(k, b)]
        real = [(k, a, b) for k, a, b in diff if not (a == "" and b == "0")]
        if real:
            bad += 1
            for k, a, b in real:
                by_tag[k] = by_tag.get(k, 0) + 1
                example.setdefault(k, (path, a, b))
        elif diff:
            zero += 1
    parts = []
    if bad:
        ranked = sorted(by_tag.items(), key=lambda x: -x[1])
        tags = ", ".join(f"{k} {n}" for k, n in ranked[:3])
        tag = ranked[0][0]
        path, a, b = example[tag]
        first = f"{tag} of {path}: {a!r} here, {b!r} from the peer"
        parts.append(f"{bad:,} of {len(theirs):,} files differ ({tags}); {first}")
    if missing:
        parts.append(f"{missing:,} files dicomfast could not read")
    if len(theirs) != len(ours):
        parts.append(f"{len(theirs):,} rows for {len(ours):,} files")
    notes = []
    if refused:
        notes.append(f"{refused:,} files the peer raised an error on")
    if zero:
        notes.append(f"{zero:,} files: an empty IS/DS value given as 0")
    return "; ".join(parts), "; ".join(notes)


# ------------------------------------------------------------------------------------------------ timing


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs, and the last result."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def timed_together(fns: Sequence[Callable[[], Any]], repeat: int, warmup: int = 1) -> list[float]:
    """Median wall time of one call of each of ``fns`` over ``repeat`` runs, timed in turn (``in_turn``).

    Each function is called ``warmup`` times first.
    """
    for f in fns:
        for _ in range(warmup):
            f()

    def one_call(f: Callable[[], Any]) -> float:
        t0 = time.perf_counter()
        f()
        return time.perf_counter() - t0

    return in_turn([partial(one_call, f) for f in fns], repeat)


def conditions() -> str:
    """The machine's state while timing: the cores this process may use and the load average."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average unknown"
    return f"{cores} cores usable, {load}"


def _cpu_median(key: int | str, repeat: int) -> float | None:
    vals = CPU.get(key, [])[-repeat:]
    return statistics.median(vals) if vals else None


RSS_CODE = """
import resource, sys, dicomfast, pyarrow as pa, pyarrow.parquet as pq
from dicomfast.scan import schema
from dicomfast import _native
root, mode, out, times, bs, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[5]), int(sys.argv[6]), \
    int(sys.argv[7])
tags = sys.argv[4].split(",")
# times > 1: the archive's files listed that many times over (a larger archive without the disk space).
entries = _native.list_files([root]) * times if times > 1 else None
batches = dicomfast.scan_batches([root], tags, threads=threads, batch_size=bs, _entries=entries)
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


def peak_rss(root: Path, mode: str, times: int = 1, batch_size: int = 16384, threads: int = 2) -> tuple[int, float]:
    """Rows and peak RSS (MB) of a scan of ``root`` in a fresh process.

    Parameters
    ----------
    root
        The archive.
    mode
        ``"batches"`` (consumed and dropped), ``"parquet"`` (streamed to a file) or ``"table"`` (kept whole).
    times
        List the archive's files this many times over (more rows without more disk).
    batch_size
        Rows per batch.
    threads
        Scan threads.

    Returns
    -------
    tuple[int, float]
        ``(rows, peak RSS in MB)``.
    """
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
                str(threads),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    return int(out[0]), int(out[1]) / 1024


# ------------------------------------------------------------------------------------------------ suite


def archive_files(cfg: Config) -> int:
    """Files of the suite's archive: ``cfg.scan_files``, else 2,000 with ``--quick`` and 20,000 without."""
    n = getattr(cfg, "scan_files", None)
    return int(n) if n else (QUICK_FILES if cfg.quick else FULL_FILES)


def run(cfg: Config) -> list[Row]:
    """Run the suite."""
    warnings.simplefilter("ignore")
    n_files = archive_files(cfg)
    threads = cfg.threads or os.cpu_count() or 1
    srcs = sources(cfg.paths)
    if not srcs:
        return [Row("scan", "archive scan", "(no source file for the archive)", "files/s", None, None, True)]
    crashed: list[Source] = []
    if have("dicomsdl"):
        srcs, crashed = sdl_safe(srcs)
    note_src = f"archive of {len(srcs)} real files copied with new UIDs" + (
        f"; {len(crashed)} source files that crash dicomsdl left out" if crashed else ""
    )
    rows: list[Row] = []
    CPU.clear()
    SCHED.clear()
    DISK.clear()
    with archive(cfg, n_files, srcs) as root:
        files = walk(root)
        n = len(files)
        size = sum(os.path.getsize(p) for p in files)
        note = f"{note_src}; {size / 1e6:,.0f} MB"
        work = f"scan {n:,} files, {len(TAGS)} tags + 4 UIDs"
        reps = cfg.reps
        t1, tn = timed_together([lambda: df_scan(root, 1), lambda: df_scan(root, threads)], reps)
        # One more scan of each, sampled, for how busy the threads were (see df_scan).
        df_scan(root, 1, sample=True)
        df_scan(root, threads, sample=True)
        ours = table_values(df_table(root, threads))
        cpu1 = _cpu_median(1, reps)
        s_threads = f"{threads} thread{'s' if threads > 1 else ''}"

        # pydicom, in a 2-process pool
        if have("pydicom"):
            with pd_context().Pool(2, initializer=_pd_init) as pool:
                pd_cpu: list[float] = []

                def pd_timed() -> list[tuple[Any, ...]]:
                    c0 = _pool_cpu(pool)
                    out = pd_pool(files, pool)
                    c1 = _pool_cpu(pool)
                    if c0 is not None and c1 is not None:
                        pd_cpu.append(c1 - c0)
                    return out

                pd_reps = max(1, reps // 2)
                t_pd, pd_rows = timed(pd_timed, pd_reps)
            mismatch, pd_note = compare(ours, pd_rows)
            rows.append(
                Row(
                    "scan",
                    f"{work}, dicomfast {s_threads}",
                    "pydicom, 2-process pool",
                    "files/s",
                    n / t_pd,
                    n / tn,
                    True,
                    n,
                    note="; ".join(x for x in (note, pd_note) if x),
                    mismatch=mismatch,
                )
            )
            pd_c = statistics.median(pd_cpu[-pd_reps:]) if pd_cpu else None
            if pd_c and cpu1:
                rows.append(
                    Row(
                        "scan",
                        f"{work}: files per CPU-second, dicomfast 1 thread",
                        "pydicom, 2-process pool",
                        "files/CPU-s",
                        n / pd_c,
                        n / cpu1,
                        True,
                        n,
                        note="CPU time of the pool's workers",
                    )
                )
        else:
            rows.append(
                Row(
                    "scan",
                    f"{work}, dicomfast {s_threads}",
                    "pydicom (not installed)",
                    "files/s",
                    None,
                    n / tn,
                    True,
                    n,
                )
            )

        # dicomsdl, one process
        if have("dicomsdl"):
            t_sdl, sdl_rows = timed(lambda: sdl_values(files), max(1, reps // 2))
            mismatch, sdl_note = compare(ours, sdl_rows)
            if crashed:
                sdl_note = "; ".join(
                    x for x in (f"{len(crashed)} source files crash dicomsdl: left out of the archive", sdl_note) if x
                )
            rows.append(
                Row(
                    "scan",
                    f"{work}, dicomfast 1 thread",
                    "dicomsdl loop, 1 process",
                    "files/s",
                    n / t_sdl,
                    n / t1,
                    True,
                    n,
                    note=sdl_note,
                    mismatch=mismatch,
                )
            )
            sdl_c = _cpu_median("sdl", max(1, reps // 2))
            if sdl_c and cpu1:
                rows.append(
                    Row(
                        "scan",
                        f"{work}: files per CPU-second, dicomfast 1 thread",
                        "dicomsdl loop, 1 process",
                        "files/CPU-s",
                        n / sdl_c,
                        n / cpu1,
                        True,
                        n,
                    )
                )
        else:
            rows.append(
                Row("scan", f"{work}, dicomfast 1 thread", "dicomsdl (not installed)", "files/s", None, n / t1, True, n)
            )

        rows.append(
            Row(
                "scan",
                f"{work}, dicomfast {s_threads}",
                "dicomfast 1 thread",
                "files/s",
                n / t1,
                n / tn,
                True,
                n,
                note="; ".join(
                    x
                    for x in (
                        conditions(),
                        sched_note(1, 1),
                        sched_note(threads, 1),
                        disk_note(1, reps),
                        disk_note(threads, reps),
                    )
                    if x
                ),
            )
        )
        cpun = _cpu_median(threads, reps)
        if cpu1 and cpun and threads > 1:
            # CPU time of the whole scan on N threads against 1: what the threads cost beyond the work itself.
            rows.append(
                Row(
                    "scan",
                    f"{work}: files per CPU-second, dicomfast {s_threads}",
                    "dicomfast 1 thread",
                    "files/CPU-s",
                    n / cpu1,
                    n / cpun,
                    True,
                    n,
                    note=f"wall-time speed-up {t1 / tn:.2f}x; {cpu1 / cpun * threads:.2f}x with {s_threads} all busy",
                )
            )
        if threads > 1:
            rows += _ceiling_rows(root, n, threads, max(2, reps), work)
        rows += _rss_rows(root, n, cfg)
    return rows


def _ceiling_rows(root: Path, n: int, threads: int, k: int, work: str) -> list[Row]:
    """The machine's ceiling for the scan: one scan thread in each of ``threads`` processes at once.

    Each process scans the whole archive ``k`` times (sustained, the page cache shared); against it,
    ``threads`` threads in this process, sustained too. Independent processes share nothing but the machine
    (cores, caches, the kernel's locks, the other guests of a VM): what the threads of one scan can hope to
    reach.
    """
    side = side_by_side(lambda: df_table(root, 1), threads, k)
    if side is None:
        return []
    ours = sustained(lambda: df_table(root, threads), k)
    one = sustained(lambda: df_table(root, 1), k)
    return [
        Row(
            "scan",
            f"{work}, dicomfast {threads} threads vs {threads} processes of 1 thread at once",
            f"{threads} processes x 1 thread",
            "files/s",
            n / side,
            n / ours,
            True,
            n,
            note=(
                f"sustained; the {threads} processes together scan {one / side:.2f}x as fast as one thread, "
                f"the {threads} threads {one / ours:.2f}x: the most the machine gives independent jobs"
            ),
        )
    ]


def linked_copies(root: Path, times: int, dest: Path) -> int:
    """Hard-link the files under ``root`` ``times`` times over into ``dest/copy_K/...``.

    A larger archive to walk, without the disk space.

    Returns
    -------
    int
        The number of files linked, 0 when the file system refuses hard links.
    """
    linked = 0
    try:
        for k in range(times):
            for d, _dirs, files in os.walk(root):
                out = dest / f"copy_{k}" / os.path.relpath(d, root)
                out.mkdir(parents=True, exist_ok=True)
                for f in files:
                    os.link(os.path.join(d, f), out / f)
                    linked += 1
    except OSError:
        return 0
    return linked


def _rss_rows(root: Path, n: int, cfg: Config) -> list[Row]:
    """Peak RSS in a child process: batches consumed, batches to Parquet, against the whole table."""
    if not have("pyarrow"):
        return []
    rows = []
    sets = [(1, f"{n:,} files")]
    if not cfg.quick:
        sets.append((5, f"{n * 5:,} files (the {n:,} hard-linked 5 times over, walked)"))
        sets.append((50, f"{n * 50:,} rows (the {n:,} files listed 50 times)"))
    for times, label in sets:
        with tempfile.TemporaryDirectory(prefix="dicomfast-rss-links-", dir=root.parent) as tmp:
            scan_root, listed = root, times
            if times == 5:
                # A walked archive of 5 times the files (hard links); listing the files instead when the file
                # system has no hard links.
                if linked_copies(root, times, Path(tmp)) == n * times:
                    scan_root, listed = Path(tmp), 1
                else:
                    label = f"{n * times:,} rows (the {n:,} files listed {times} times)"
            try:
                _, table_mb = peak_rss(scan_root, "table", listed)
                _, batches_mb = peak_rss(scan_root, "batches", listed)
                _, parquet_mb = peak_rss(scan_root, "parquet", listed) if listed == 1 else (0, None)
            except (subprocess.CalledProcessError, ValueError, IndexError) as e:
                rows.append(Row("scan", f"peak RSS, {label}", "whole table", "MB", None, None, note=f"failed: {e}"))
                continue
        work = f"peak RSS of a scan, {label}, 2 threads (child process)"
        note = "the list of 1,000,000 entries given to the scan is part of this process" if times == 50 else ""
        rows.append(
            Row(
                "scan",
                work + ": 16,384-row batches consumed",
                "whole table in memory",
                "MB",
                table_mb,
                batches_mb,
                note=note,
            )
        )
        if parquet_mb is not None:
            rows.append(Row("scan", work + ": batches to Parquet", "whole table in memory", "MB", table_mb, parquet_mb))
    return rows
