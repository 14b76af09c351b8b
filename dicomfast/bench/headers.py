"""Suite ``headers``: header reads (``stop_before_pixels`` + 3 tags) and full reads touching every value.

Peers: pydicom 3 and dicomsdl (on the files it reads without crashing, probed in a child process). Each
peer's values are compared with dicomfast's; a difference is shown in the table.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import dicomfast
from dicomfast.bench.core import Config, Row, have, measure, probe_safe

TAGS = ("PatientName", "StudyInstanceUID", "Modality")


def _readable(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """Files both dicomfast and pydicom (when installed) read by header, and those both read whole."""
    header, whole = [], []
    check_pd = have("pydicom")
    for p in files:
        try:
            df_header([p])
            if check_pd:
                pd_header([p])
        except Exception:
            continue
        header.append(p)
        try:
            df_walk([p])
            if check_pd:
                pd_walk([p])
            whole.append(p)
        except Exception:
            pass
    return header, whole


def df_header(files: list[Path]) -> list[tuple[Any, ...]]:
    """dicomfast: header read + 3 tags."""
    out = []
    for p in files:
        ds = dicomfast.dcmread(p, stop_before_pixels=True)
        out.append((ds.get("PatientName"), ds.get("StudyInstanceUID"), ds.get("Modality")))
    return out


def pd_header(files: list[Path]) -> list[tuple[Any, ...]]:
    """pydicom: header read + 3 tags."""
    import pydicom

    out = []
    for p in files:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        out.append((ds.get("PatientName"), ds.get("StudyInstanceUID"), ds.get("Modality")))
    return out


def sdl_header(files: list[Path]) -> list[tuple[Any, ...]]:
    """dicomsdl: open + 3 tags."""
    import dicomsdl

    out = []
    for p in files:
        ds = dicomsdl.open_file(str(p))
        out.append((ds.PatientName, ds.StudyInstanceUID, ds.Modality))
    return out


def df_walk(files: list[Path]) -> int:
    """dicomfast: full read, every value at every level."""
    n = 0
    for p in files:
        for elem in dicomfast.dcmread(p).iterall():
            elem.value  # noqa: B018
            n += 1
    return n


def pd_walk(files: list[Path]) -> int:
    """pydicom: full read, every value at every level."""
    import pydicom

    n = 0
    for p in files:
        for elem in pydicom.dcmread(p).iterall():
            try:
                elem.value  # noqa: B018
            except Exception:
                continue
            n += 1
    return n


def _norm(v: Any) -> str:
    if v is None or v == "":
        return ""
    return str(v)


def _compare(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> str:
    bad = sum(1 for x, y in zip(a, b, strict=True) if tuple(map(_norm, x)) != tuple(map(_norm, y)))
    return f"{bad} files differ" if bad else ""


def run(cfg: Config) -> list[Row]:
    """Run the suite."""
    files = cfg.paths[:60] if cfg.quick else cfg.paths
    header, whole = _readable(files)
    rows: list[Row] = []
    if not header:
        return rows
    warnings.simplefilter("ignore")
    ours = measure(lambda: df_header(header), cfg.reps) / len(header) * 1e6
    if have("pydicom"):
        theirs = measure(lambda: pd_header(header), cfg.reps) / len(header) * 1e6
        rows.append(
            Row(
                "headers",
                "header read + 3 tags",
                "pydicom",
                "µs/file",
                theirs,
                ours,
                items=len(header),
                mismatch=_compare(df_header(header), pd_header(header)),
            )
        )
    else:
        rows.append(Row("headers", "header read + 3 tags", "pydicom (not installed)", "µs/file", None, ours))
    if have("dicomsdl"):
        code = "import sys, dicomsdl; d = dicomsdl.open_file(sys.argv[1]); d.PatientName; d.Modality"
        safe, crashed = probe_safe(code, header)
        if safe:
            ours_s = measure(lambda: df_header(safe), cfg.reps) / len(safe) * 1e6
            theirs = measure(lambda: sdl_header(safe), cfg.reps) / len(safe) * 1e6
            rows.append(
                Row(
                    "headers",
                    "header read + 3 tags",
                    "dicomsdl",
                    "µs/file",
                    theirs,
                    ours_s,
                    items=len(safe),
                    note=f"{len(crashed)} files crash dicomsdl: left out" if crashed else "",
                    mismatch=_compare(df_header(safe), sdl_header(safe)),
                )
            )
    else:
        rows.append(Row("headers", "header read + 3 tags", "dicomsdl (not installed)", "µs/file", None, ours))
    if whole and have("pydicom"):
        ours_w = measure(lambda: df_walk(whole), max(1, cfg.reps // 2)) / len(whole) * 1e6
        theirs_w = measure(lambda: pd_walk(whole), max(1, cfg.reps // 2)) / len(whole) * 1e6
        rows.append(
            Row("headers", "full read, every value touched", "pydicom", "µs/file", theirs_w, ours_w, items=len(whole))
        )
    return rows
