"""``dicomfast bench``: dicomfast against its peers, side by side in one run, as tables, JSON and charts.

Suites: ``headers`` (header reads, full reads), ``pixels`` (per codec, 1 thread and all threads), ``write``
(uncompressed writes, encoders), ``scan`` (a synthetic archive, 1 and N threads), ``volume`` (series to HU
volume), ``net`` (C-STORE and C-FIND against local DCMTK / Orthanc, when installed). Every peer runs on the same
inputs in turn, after a warm-up, and the report gives medians and ratios; each peer's output is checked
against dicomfast's, so a fast wrong answer shows as a mismatch, not a win. A peer that is not installed is
named in the report.

Run ``dicomfast bench [PATH...] [--suite S ...] [--quick] [--json OUT] [--workdir DIR]``: without paths, the
public sets (pydicom's test files, pydicom-data and, from a checkout, ``../shared/corpus``). Generated inputs (the
scan archive, the CT series) go to a temporary folder, or to ``--workdir`` where later runs reuse them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from dicomfast.bench.core import Config, Row, expand, machine, public_files, versions

__all__ = ["SUITES", "Config", "Row", "main", "run_suites"]

SUITES = ["headers", "pixels", "write", "scan", "volume", "net"]


def run_suites(suites: list[str], cfg: Config, log: Any = sys.stderr) -> tuple[list[Row], dict[str, str]]:
    """Run the suites; return the rows and, per suite, why it did not run (if it did not)."""
    rows: list[Row] = []
    skipped: dict[str, str] = {}
    for name in suites:
        t0 = time.perf_counter()
        log.write(f"[bench] {name} ...\n")
        log.flush()
        try:
            mod = importlib.import_module(f"dicomfast.bench.{name}")
        except ImportError as e:
            skipped[name] = f"not available ({e})"
            continue
        try:
            got = mod.run(cfg)
        except Exception as e:
            skipped[name] = f"failed: {type(e).__name__}: {e}"
            continue
        rows += got
        log.write(f"[bench] {name}: {len(got)} rows in {time.perf_counter() - t0:.0f} s\n")
    return rows, skipped


def _fmt(v: float | None) -> str:
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def markdown(rows: list[Row], info: dict[str, Any], skipped: dict[str, str]) -> str:
    """The report: the machine, the versions, then one table per suite."""
    m = info["machine"]
    lines = [
        "# dicomfast benchmark",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}. "
        f"Run {info['date']}, {info['duration_s']:.0f} s{' (--quick)' if info['quick'] else ''}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v) + ".",
        "Not installed: " + (", ".join(k for k, v in info["versions"].items() if not v) or "none") + ".",
        "",
    ]
    for suite in SUITES:
        srows = [r for r in rows if r.suite == suite]
        if suite in skipped:
            lines += [f"## {suite}", "", f"Not run: {skipped[suite]}", ""]
            continue
        if not srows:
            continue
        lines += [
            f"## {suite}",
            "",
            "| work | peer | unit | peer | dicomfast | ratio | note |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        for r in srows:
            ratio = r.ratio
            note = "; ".join(x for x in (f"MISMATCH {r.mismatch}" if r.mismatch else "", r.note) if x)
            better = "higher is better" if r.higher_is_better else "lower is better"
            lines.append(
                f"| {r.work} | {r.peer} | {r.unit} ({better}) | {_fmt(r.peer_value)} | {_fmt(r.ours)} | "
                f"{(f'{ratio:.2f}×' if ratio else '–')} | {note} |"
            )
        lines.append("")
    return "\n".join(lines)


def charts(rows: list[Row], out_dir: Path) -> list[Path]:
    """One PNG per suite: log-scale bars of throughput (or time) per peer (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    for suite in SUITES:
        srows = [r for r in rows if r.suite == suite and r.ours and r.peer_value]
        if not srows:
            continue
        labels = [f"{r.work}\nvs {r.peer}" for r in srows]
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(srows) + 1.5))
        y = range(len(srows))
        ax.barh([i + 0.2 for i in y], [r.ours for r in srows], height=0.4, label="dicomfast", color="#1f77b4")
        ax.barh([i - 0.2 for i in y], [r.peer_value for r in srows], height=0.4, label="peer", color="#ff7f0e")
        ax.set_yticks(list(y))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xscale("log")
        units = sorted({f"{r.unit} ({'higher' if r.higher_is_better else 'lower'} is better)" for r in srows})
        ax.set_xlabel(", ".join(units))
        ax.set_title(f"dicomfast bench: {suite}")
        ax.legend(loc="lower right")
        fig.tight_layout()
        path = out_dir / f"bench_{suite}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``dicomfast bench``."""
    ap = argparse.ArgumentParser(prog="dicomfast bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, help="files or folders to measure on (default: public sets)")
    ap.add_argument("--suite", action="append", choices=SUITES, help="suite(s) to run (default: all)")
    ap.add_argument("--quick", action="store_true", help="fewer files and repeats (a few minutes in all)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median reported)")
    ap.add_argument("--json", type=Path, default=None, help="write the results here (charts and .md beside it)")
    ap.add_argument("--workdir", type=Path, default=None, help="keep generated inputs here and reuse them")
    ap.add_argument("--scan-files", type=int, default=None, help=argparse.SUPPRESS)  # tests: a tiny archive
    args = ap.parse_args(argv)
    paths = expand(args.paths) if args.paths else public_files()
    cfg = Config(paths=paths, quick=args.quick, repeat=args.repeat, workdir=args.workdir, scan_files=args.scan_files)
    t0 = time.perf_counter()
    rows, skipped = run_suites(args.suite or SUITES, cfg)
    info = {
        "machine": machine(),
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "duration_s": time.perf_counter() - t0,
        "quick": args.quick,
        "inputs": len(paths),
    }
    report = markdown(rows, info, skipped)
    print(report)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"info": info, "skipped": skipped, "rows": [r.to_dict() for r in rows]}, indent=1)
        )
        args.json.with_suffix(".md").write_text(report + "\n")
        for p in charts(rows, args.json.parent):
            print(f"chart: {p}", file=sys.stderr)
    return 0
