"""Header-read benchmark: dicomfast vs pydicom 3 vs dicomsdl, side by side in one run on one file list.

Two measures over pydicom's test files + pydicom-data (every file all three peers read):
- ``header``: ``dcmread(path, stop_before_pixels=True)`` then PatientName, StudyInstanceUID, Modality;
- ``walk``: a full read touching every value at every nesting level (dicomfast vs pydicom).

Run: ``python -m benchmarks.headers [--repeat N]``; prints a Markdown table with medians and ratios.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import dicomfast

warnings.simplefilter("ignore")


def file_list() -> list[Path]:
    """pydicom's test files and pydicom-data, the files pydicom reads without force."""
    import pydicom

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.conftest import pydicom_data_files, pydicom_test_files

    out = []
    for p in pydicom_test_files() + pydicom_data_files():
        try:
            pydicom.dcmread(p, stop_before_pixels=True)
            dicomfast.dcmread(p, stop_before_pixels=True)
        except Exception:
            continue
        out.append(p)
    return out


def dicomsdl_safe(files: list[Path]) -> list[Path]:
    """Files dicomsdl reads without killing the process (probed in a child process, one at a time)."""
    code = (
        "import sys, dicomsdl\n"
        "for line in sys.stdin:\n"
        "    p = line.strip()\n"
        "    print('TRY', p, flush=True)\n"
        "    try:\n"
        "        d = dicomsdl.open_file(p)\n"
        "        d.PatientName; d.StudyInstanceUID; d.Modality\n"
        "    except Exception:\n"
        "        pass\n"
        "    print('OK', p, flush=True)\n"
    )
    ok: list[Path] = []
    todo = list(files)
    while todo:
        proc = subprocess.run(
            [sys.executable, "-c", code], input="\n".join(map(str, todo)), capture_output=True, text=True, check=False
        )
        done = [Path(line[3:]) for line in proc.stdout.splitlines() if line.startswith("OK ")]
        ok.extend(done)
        tried = [line[4:] for line in proc.stdout.splitlines() if line.startswith("TRY ")]
        if proc.returncode == 0 or not tried:
            break
        crashed = tried[-1]
        todo = todo[todo.index(Path(crashed)) + 1 :]
    return ok


def _time(fn: Callable[[list[Path]], None], files: list[Path], repeat: int) -> float:
    fn(files)  # warm-up (page cache, imports)
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn(files)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / len(files)


def df_header(files: list[Path]) -> None:
    for p in files:
        ds = dicomfast.dcmread(p, stop_before_pixels=True)
        ds.get("PatientName")
        ds.get("StudyInstanceUID")
        ds.get("Modality")


def pd_header(files: list[Path]) -> None:
    import pydicom

    for p in files:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        ds.get("PatientName")
        ds.get("StudyInstanceUID")
        ds.get("Modality")


def sdl_header(files: list[Path]) -> None:
    import dicomsdl

    for p in files:
        ds = dicomsdl.open_file(str(p))
        ds.PatientName  # noqa: B018
        ds.StudyInstanceUID  # noqa: B018
        ds.Modality  # noqa: B018


def full_read_list(files: list[Path]) -> list[Path]:
    """The files of ``files`` that both dicomfast and pydicom read whole (truncated ones are refused)."""
    import pydicom

    out = []
    for p in files:
        try:
            dicomfast.dcmread(p)
            pydicom.dcmread(p)
        except Exception:
            continue
        out.append(p)
    return out


def df_walk(files: list[Path]) -> None:
    for p in files:
        for elem in dicomfast.dcmread(p).iterall():
            elem.value  # noqa: B018


def pd_walk(files: list[Path]) -> None:
    import pydicom

    for p in files:
        for elem in pydicom.dcmread(p).iterall():
            try:
                elem.value  # noqa: B018
            except Exception:
                continue


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def machine() -> str:
    """CPU model, cores and Python version."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    import pydicom

    files = file_list()
    rows = []
    t_df = _time(df_header, files, args.repeat)
    t_pd = _time(pd_header, files, args.repeat)
    rows.append(("header read + 3 tags", "pydicom", len(files), t_pd, t_df))
    try:
        import dicomsdl  # noqa: F401

        safe = dicomsdl_safe(files)
        t_sdl = _time(sdl_header, safe, args.repeat)
        t_df_s = _time(df_header, safe, args.repeat)
        rows.append(
            (
                f"header read + 3 tags (dicomsdl-safe subset, {len(files) - len(safe)} crash)",
                "dicomsdl " + _version("dicomsdl"),
                len(safe),
                t_sdl,
                t_df_s,
            )
        )
    except ImportError:
        rows.append(("header read + 3 tags", "dicomsdl (not installed)", 0, float("nan"), float("nan")))
    whole = full_read_list(files)
    t_dfw = _time(df_walk, whole, max(1, args.repeat // 2))
    t_pdw = _time(pd_walk, whole, max(1, args.repeat // 2))
    rows.append(("full read, every value touched", "pydicom", len(whole), t_pdw, t_dfw))
    print(f"Machine: {machine()}; pydicom {pydicom.__version__}; dicomfast {dicomfast.__version__}; warm page cache")
    print()
    print("| work | peer | files | peer µs/file | dicomfast µs/file | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for work, peer, n, tp, td in rows:
        print(f"| {work} | {peer} | {n} | {tp * 1e6:.1f} | {td * 1e6:.1f} | {tp / td:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
