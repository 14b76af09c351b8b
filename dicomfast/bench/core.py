"""Shared parts of the benchmark suites: timing, result rows, peers' versions, the machine, inputs."""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One comparison: the same work done by a peer and by dicomfast, on the same inputs."""

    suite: str
    work: str
    peer: str
    unit: str
    peer_value: float | None
    ours: float | None
    higher_is_better: bool = False
    items: int = 0
    note: str = ""
    mismatch: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """How many times better dicomfast is (>1: dicomfast wins)."""
        if not self.peer_value or not self.ours:
            return None
        return self.ours / self.peer_value if self.higher_is_better else self.peer_value / self.ours

    def to_dict(self) -> dict[str, Any]:
        """The row as plain data (for JSON)."""
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


@dataclass
class Config:
    """What a suite runs on and how hard."""

    paths: list[Path]
    quick: bool = False
    repeat: int = 5
    threads: int | None = None
    workdir: Path | None = None
    scan_files: int | None = None  # files of the scan suite's archive (default: 20,000; 2,000 with quick)

    @property
    def reps(self) -> int:
        """Repeats per measurement (fewer with --quick)."""
        return max(1, min(self.repeat, 2)) if self.quick else self.repeat


def measure(fn: Callable[[], Any], repeat: int, warmup: int = 1, min_time: float = 0.0) -> float:
    """Median wall time of one ``fn()`` call in seconds over ``repeat`` timed runs, after ``warmup`` calls.

    With ``min_time``, a timed run calls ``fn()`` back to back for at least that long (as ``timeit`` does)
    and counts the time per call: the steady state of a loop of calls, not one call after a pause. (After
    5 ms or more of idle, this project's VM takes about 1 ms to get an idle core running again, which a
    lone parallel call of 1 to 2 ms pays in full.)
    """
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    per_call = (time.perf_counter() - t0) / warmup if warmup else 0.0
    inner = min(1000, max(1, math.ceil(min_time / per_call))) if min_time and per_call > 0 else 1
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def in_turn(timers: Sequence[Callable[[], float]], rounds: int) -> list[float]:
    """The median of each timer's results (seconds) over ``rounds`` rounds, the timers run in turn.

    Each round runs every timer once, in the order reversed from the round before (a b, b a, a b, ...), so
    that a machine whose speed drifts while it is measured (a VM that shares its host) slows each alike;
    blocks of runs one after the other would measure their ratio as much as the drift between the blocks.
    """
    times: list[list[float]] = [[] for _ in timers]
    for i in range(rounds):
        for k in range(len(timers)) if i % 2 == 0 else reversed(range(len(timers))):
            times[k].append(timers[k]())
    return [statistics.median(t) for t in times]


def sustained(fn: Callable[[], Any], k: int) -> float:
    """Seconds per call of ``fn`` over ``k`` calls back to back."""
    t0 = time.perf_counter()
    for _ in range(k):
        fn()
    return (time.perf_counter() - t0) / k


def side_by_side(fn: Callable[[], Any], procs: int, k: int) -> float | None:
    """Seconds per call of ``fn`` when ``procs`` forked processes call it ``k`` times each at the same time.

    The throughput of independent single-threaded jobs on every core, sharing nothing but the machine
    (caches, memory bandwidth, the other guests of a VM): what a multi-threaded decode or encode can hope
    to reach. None where processes cannot be forked.
    """
    import multiprocessing as mp

    try:
        ctx = mp.get_context("fork")
    except ValueError:
        return None
    barrier = ctx.Barrier(procs)
    results = ctx.Queue()

    def child() -> None:
        fn()  # warm-up
        barrier.wait()
        results.put(sustained(fn, k))

    workers = [ctx.Process(target=child) for _ in range(procs)]
    for w in workers:
        w.start()
    try:
        per_call = [results.get(timeout=600) for _ in workers]
    finally:
        for w in workers:
            w.join(timeout=60)
    return 1.0 / sum(1.0 / t for t in per_call)


def version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v(dist)
    except PackageNotFoundError:
        return None


def have(module: str) -> bool:
    """Whether a module can be imported."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


PEER_DISTS = [
    "dicomfast",
    "pydicom",
    "pylibjpeg",
    "pylibjpeg-openjpeg",
    "pylibjpeg-rle",
    "pyjpegls",
    "python-gdcm",
    "dicomsdl",
    "imagecodecs",
    "SimpleITK",
    "pynetdicom",
    "numpy",
    "pyarrow",
]


def versions() -> dict[str, str | None]:
    """Versions of dicomfast and of every peer (None when absent)."""
    out = {d: version(d) for d in PEER_DISTS}
    try:
        r = subprocess.run(["dcmdump", "--version"], capture_output=True, text=True, timeout=10, check=False)
        first = (r.stdout + r.stderr).splitlines()
        out["dcmtk"] = first[0].split("v", 1)[-1].split(" ")[0] if first and "dcmtk" in first[0].lower() else None
    except (OSError, subprocess.TimeoutExpired):
        out["dcmtk"] = None
    return out


def probe_safe(code: str, items: Iterable[Path], timeout: float = 60) -> tuple[list[Path], list[Path]]:
    """Run ``code`` (which reads a path from ``sys.argv[1]``) on each item in a child process.

    Returns ``(ok, crashed)``: a peer that kills its process on some files (dicomsdl does) is benchmarked
    only on the files it survives, and the report names how many it could not handle.
    """
    ok, crashed = [], []
    for p in items:
        try:
            r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, timeout=timeout, check=False)
            (ok if r.returncode == 0 else crashed).append(p)
        except subprocess.TimeoutExpired:
            crashed.append(p)
    return ok, crashed


def repo_root() -> Path | None:
    """The repository root when running from a checkout (for ``../shared/corpus``)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "native").is_dir():
            return parent
    return None


def public_files() -> list[Path]:
    """The public inputs: pydicom's test files, pydicom-data and the shared corpus (when present)."""
    out: list[Path] = []
    try:
        import pydicom

        base = Path(pydicom.__file__).parent / "data"
        for sub in ("test_files", "charset_files"):
            out += sorted(p for p in (base / sub).rglob("*") if p.is_file() and p.suffix.lower() in ("", ".dcm"))
    except ImportError:
        pass
    try:
        import data_store

        out += sorted(p for p in (Path(data_store.__file__).parent / "data").rglob("*") if p.is_file())
    except ImportError:
        pass
    root = repo_root()
    if root is not None and (root.parent / "shared" / "corpus").is_dir():
        out += sorted((root.parent / "shared" / "corpus").glob("*.dcm"))
    return out


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files of the given files and folders (recursively)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file())
        elif p.is_file():
            out.append(p)
    return out
