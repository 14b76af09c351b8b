"""The ``dicomfast`` command line: ``dump`` and ``index`` (and more as the toolkit grows)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence as Seq
from pathlib import Path

from dicomfast.dataset import DataElement, Dataset, dcmread
from dicomfast.errors import DicomError

SAMPLE = Path(__file__).with_name("data") / "sample_ct.dcm"


def _value_text(elem: DataElement, width: int) -> str:
    v = elem.value
    if elem.VR == "SQ":
        return f"(Sequence with {len(v)} item{'s' if len(v) != 1 else ''})"
    if v is None or v == "":
        return "(no value available)"
    if isinstance(v, bytes):
        shown = " ".join(f"{b:02x}" for b in v[:16])
        text = f"{shown}{'...' if len(v) > 16 else ''} ({len(v)} bytes)"
    elif isinstance(v, list):
        text = "[" + "\\".join(str(x) for x in v) + "]"
    elif isinstance(v, int) and elem.VR == "AT":
        text = f"({v >> 16:04x},{v & 0xFFFF:04x})"
    else:
        text = f"[{v}]"
    if len(text) > width:
        text = text[: max(width - 3, 1)] + "..."
    return text


def _dump(ds: Dataset, out: list[str], width: int, depth: int = 0) -> None:
    pad = "  " * depth
    for elem in ds:
        kw = elem.keyword or ("PrivateCreator" if elem.tag.is_private_creator else "Unknown")
        tag = f"({elem.tag.group:04x},{elem.tag.element:04x})"
        out.append(f"{pad}{tag} {elem.VR} {_value_text(elem, width):<{max(width // 2, 10)}} # {elem.VM:>2} {kw}")
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                out.append(f"{pad}  (fffe,e000) na (Item #{i + 1} with {len(item)} elements)")
                _dump(item, out, width, depth + 2)


def cmd_dump(args: argparse.Namespace) -> int:
    """Print every element of each file, like DCMTK's dcmdump."""
    status = 0
    files = args.files or [str(SAMPLE)]
    for path in files:
        try:
            ds = dcmread(path, stop_before_pixels=args.stop_before_pixels, force=args.force)
        except (DicomError, OSError) as e:
            print(f"{path}: error: {e}", file=sys.stderr)
            status = 1
            continue
        lines: list[str] = [f"# {path}"]
        meta = ds.file_meta
        if len(meta):
            lines.append("# File meta information")
            _dump(meta, lines, args.width)
            lines.append("# Data set")
        _dump(ds, lines, args.width)
        sys.stdout.write("\n".join(lines) + "\n")
    return status


def cmd_index(args: argparse.Namespace) -> int:
    """Scan files and directories into a Parquet index, with a progress line on stderr and a summary."""
    import time

    from dicomfast.scan import scan_to_parquet

    tags = [t.strip() for group in args.tags or [] for t in group.split(",") if t.strip()]
    start = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(files: int, errors: int) -> None:
        rate = files / max(time.perf_counter() - start, 1e-9)
        line = f"{files:,} files, {rate:,.0f} files/s, {errors:,} errors"
        print(f"\r{line}" if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    try:
        files, errors = scan_to_parquet(
            args.paths,
            args.output,
            tags,
            threads=args.threads,
            recursive=not args.no_recursive,
            follow_symlinks=args.follow_symlinks,
            pattern=args.pattern,
            keep_raw=args.keep_raw,
            batch_size=args.batch_size,
            progress=progress,
        )
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (DicomError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    took = time.perf_counter() - start
    if tty:
        print(file=sys.stderr)
    print(
        f"Indexed {files:,} files ({errors:,} errors) in {took:.2f} s, {files / max(took, 1e-9):,.0f} files/s "
        f"-> {args.output}",
        file=sys.stderr,
    )
    return 0


def _progress(done: int, total: int, errors: int, start: float, label: str) -> None:
    import time

    rate = done / max(time.perf_counter() - start, 1e-9)
    bar = "#" * int(30 * done / max(total, 1))
    sys.stderr.write(f"\r{label} [{bar:<30}] {done}/{total} {rate:.0f} files/s, {errors} errors")
    sys.stderr.flush()


def cmd_convert(args: argparse.Namespace) -> int:
    """Transcode one file, or every file of a folder, to another transfer syntax."""
    import time

    from dicomfast.codec import transcode

    src, dst = Path(args.input), Path(args.output)
    if src.is_dir():
        pairs = [(p, dst / p.relative_to(src)) for p in sorted(src.rglob("*")) if p.is_file()]
    else:
        pairs = [(src, dst / src.name if dst.is_dir() else dst)]
    errors = 0
    start = time.perf_counter()
    for i, (a, b) in enumerate(pairs, 1):
        b.parent.mkdir(parents=True, exist_ok=True)
        try:
            transcode(a, b, args.transfer_syntax, threads=args.threads)
        except (DicomError, OSError) as e:
            errors += 1
            sys.stderr.write(f"\n{a}: error: {e}\n")
        if not args.quiet:
            _progress(i, len(pairs), errors, start, "convert")
    if not args.quiet:
        sys.stderr.write("\n")
    print(f"{len(pairs) - errors} converted, {errors} failed")
    return 1 if errors else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command line."""
    p = argparse.ArgumentParser(prog="dicomfast", description="A fast DICOM toolkit.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="print the elements of DICOM files (like dcmdump)")
    d.add_argument("files", nargs="*", help="files to dump (default: the bundled sample)")
    d.add_argument("-w", "--width", type=int, default=64, help="cut values to this many characters")
    d.add_argument("--stop-before-pixels", action="store_true", help="do not read pixel data")
    d.add_argument("-f", "--force", action="store_true", help="read files without the DICM prefix")
    d.set_defaults(func=cmd_dump)
    c = sub.add_parser("convert", help="transcode a file or a folder to another transfer syntax")
    c.add_argument("input", help="a DICOM file or a folder")
    c.add_argument("output", help="the output file or folder")
    c.add_argument("-t", "--transfer-syntax", required=True, help="UID or keyword, e.g. RLELossless, JPEG2000Lossless")
    c.add_argument("--threads", type=int, default=None, help="threads for frame encoding (default: all cores)")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_convert)
    i = sub.add_parser("index", help="scan files and directories into a Parquet index, one row per file")
    i.add_argument("paths", nargs="+", help="files and directories to scan")
    i.add_argument("-o", "--output", required=True, help="the Parquet file to write")
    i.add_argument(
        "--tags",
        nargs="+",
        action="extend",
        help="tags to index: keywords, numbers or Seq[0].Keyword (or comma-separated)",
    )
    i.add_argument("--threads", type=int, default=None, help="worker threads (default: every core)")
    i.add_argument("--pattern", default=None, help="glob on file names found in directories, e.g. '*.dcm'")
    i.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links to directories")
    i.add_argument("--no-recursive", action="store_true", help="do not descend into sub-directories")
    i.add_argument("--keep-raw", action="store_true", help="add *_raw text columns beside DA, DS and IS columns")
    i.add_argument("--batch-size", type=int, default=65536, help="rows per Parquet row group")
    i.set_defaults(func=cmd_index)
    return p


def main(argv: Seq[str] | None = None) -> int:
    """Entry point of ``dicomfast``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return 0
