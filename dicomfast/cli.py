"""The ``dicomfast`` command line: ``dump`` (and more as the toolkit grows)."""

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
    return p


def main(argv: Seq[str] | None = None) -> int:
    """Entry point of ``dicomfast``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return 0
