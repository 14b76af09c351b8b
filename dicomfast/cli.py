"""The ``dicomfast`` command line: ``dump`` and ``index`` (and more as the toolkit grows)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from collections.abc import Sequence as Seq
from pathlib import Path
from typing import Any

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
            force=args.force,
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


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark suites (see :mod:`dicomfast.bench`)."""
    from dicomfast.bench import main as bench_main

    return bench_main(args.bench_args)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo (see :mod:`dicomfast.demo`)."""
    from dicomfast.demo import run

    return run(Path(args.out) if args.out else None, compare=not args.no_compare)


def cmd_convert(args: argparse.Namespace) -> int:
    """Transcode one file, or every file of a folder, to another transfer syntax."""
    import time

    from dicomfast.codec import _check_options, _resolve_ts, transcode

    def floats(text: str | None) -> list[float] | None:
        return None if text is None else [float(x) for x in text.split(",") if x.strip()]

    options: dict[str, object] = {}
    try:
        for key, value in (
            ("jpeg_quality", args.jpeg_quality),
            ("jpeg_photometric", args.jpeg_photometric),
            ("jls_error", args.jls_error),
            ("j2k_cr", floats(args.j2k_cr)),
            ("j2k_psnr", floats(args.j2k_psnr)),
            ("generate_instance_uid", args.new_uid),
        ):
            if value is not None:
                options[key] = value
        ts = _resolve_ts(args.transfer_syntax)
        _check_options(
            ts,
            args.jpeg_quality,
            args.jls_error,
            options.get("j2k_cr"),
            options.get("j2k_psnr"),
            args.jpeg_photometric,
        )
    except (ValueError, DicomError) as e:
        sys.stderr.write(f"dicomfast convert: {e}\n")
        return 2
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
            transcode(a, b, ts, threads=args.threads, **options)
        except (DicomError, OSError, ValueError) as e:
            errors += 1
            sys.stderr.write(f"\n{a}: error: {e}\n")
        if not args.quiet:
            _progress(i, len(pairs), errors, start, "convert")
    if not args.quiet:
        sys.stderr.write("\n")
    print(f"{len(pairs) - errors} converted, {errors} failed")
    return 1 if errors else 0


# ------------------------------------------------------------------------------------ network commands
# Exit codes of echo / find / store / get / move: 0 success, 1 the peer answered a failure (or some
# sub-operations failed), 2 usage or local error, 3 network error (refused, rejected, aborted, timed out).


def _net_connect(args: argparse.Namespace, contexts: object = None) -> object:
    import ssl

    from dicomfast import net

    tls = None
    if args.tls or args.tls_ca:
        tls = ssl.create_default_context(cafile=args.tls_ca) if args.tls_ca else ssl.create_default_context()
    return net.connect(
        args.host,
        args.port,
        args.aec,
        args.aet,
        timeout=args.timeout,
        acse_timeout=args.timeout,
        dimse_timeout=args.dimse_timeout,
        network_timeout=args.dimse_timeout,
        tls=tls,
        contexts=contexts,  # type: ignore[arg-type]
    )


def _net_run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from dicomfast import net

    try:
        return func(args)
    except (net.AssociationRejectedError, net.AssociationAbortedError, TimeoutError, ConnectionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except net.NetworkError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2 if not isinstance(e, net.PDUError) else 3
    except (OSError, DicomError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _net_keys(args: argparse.Namespace) -> dict[str, str]:
    keys: dict[str, str] = {}
    for kv in args.key or []:
        k, _, v = kv.partition("=")
        keys[k.strip()] = v
    return keys


def _net_bar(done: int, total: int | None, label: str) -> None:
    if not sys.stderr.isatty():
        return
    if total:
        bar = "#" * int(30 * done / max(total, 1))
        sys.stderr.write(f"\r{label} [{bar:<30}] {done}/{total}")
    else:
        sys.stderr.write(f"\r{label} {done}")
    sys.stderr.flush()


def cmd_echo(args: argparse.Namespace) -> int:
    """C-ECHO a peer; prints the round-trip time."""
    import time

    def run(args: argparse.Namespace) -> int:
        with _net_connect(args, ["1.2.840.10008.1.1"]) as a:  # type: ignore[attr-defined]
            times, status = [], 0
            for _ in range(max(args.count, 1)):
                t = time.perf_counter()
                status = int(a.echo())
                times.append(time.perf_counter() - t)
        best = min(times) * 1e3
        print(f"C-ECHO {args.aec}@{args.host}:{args.port}: status 0x{status:04X}, {best:.3f} ms (best of {len(times)})")
        return 0 if status == 0 else 1

    return _net_run(run, args)


def cmd_find(args: argparse.Namespace) -> int:
    """C-FIND: prints each identifier (Keyword=value lines, or DICOM JSON with --json)."""

    def run(args: argparse.Namespace) -> int:
        final = 0
        n = 0
        with _net_connect(args) as a:  # type: ignore[attr-defined]
            for status, ident in a.find(_net_keys(args), args.level, args.model):
                if ident is not None:
                    n += 1
                    if args.json:
                        print(ident.to_json())
                    else:
                        print(f"# match {n}")
                        for elem in ident:
                            print(f"{elem.keyword or elem.tag}={'' if elem.value is None else elem.value}")
                elif not status.is_pending:
                    final = int(status)
        print(f"{n} matches, final status 0x{final:04X}", file=sys.stderr)
        return 0 if final == 0 else 1

    return _net_run(run, args)


def cmd_store(args: argparse.Namespace) -> int:
    """C-STORE files and folders (recursively) over one association."""

    def run(args: argparse.Namespace) -> int:
        from dicomfast import net

        files: list[Path] = []
        for p in map(Path, args.paths):
            files.extend(sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p])
        if not files:
            print("error: no files to send", file=sys.stderr)
            return 2
        from dicomfast.net.client import file_classes

        # one association per group of files whose presentation contexts fit in 128 (PS3.8 §9.3.2.2)
        groups: list[tuple[list[Path], dict[tuple[str, str], None]]] = [([], {})]
        for f in files:
            pair = file_classes(f)
            group, pairs = groups[-1]
            if pair[0] and group and len(net.storage_contexts([*pairs, pair])) > 127:
                groups.append(([], {}))
                group, pairs = groups[-1]
            group.append(f)
            if pair[0]:
                pairs[pair] = None
        failed = done = 0
        for group, pairs in groups:
            contexts = [net.Verification, *net.storage_contexts(pairs)]
            with _net_connect(args, contexts) as a:  # type: ignore[attr-defined]
                for f in group:
                    try:
                        st = a.store(f)
                    except net.NetworkError as e:
                        if not a.is_established:
                            raise
                        print(f"\n{f}: {e}", file=sys.stderr)
                        failed += 1
                    else:
                        if st != 0 and st.category != "Warning":
                            print(f"\n{f}: status 0x{int(st):04X}", file=sys.stderr)
                            failed += 1
                    done += 1
                    _net_bar(done, len(files), "store")
        print(f"\n{len(files) - failed} stored, {failed} failed", file=sys.stderr)
        return 1 if failed else 0

    return _net_run(run, args)


def _retrieve_report(r: object) -> int:
    from dicomfast.net import RetrieveResult

    assert isinstance(r, RetrieveResult)
    print(
        f"\nstatus 0x{int(r.status):04X}: {r.completed} completed, {r.failed} failed, {r.warning} warning",
        file=sys.stderr,
    )
    return 0 if r.status == 0 else 1


def cmd_get(args: argparse.Namespace) -> int:
    """C-GET into a folder."""

    def run(args: argparse.Namespace) -> int:
        with _net_connect(args) as a:  # type: ignore[attr-defined]
            r = a.get(
                _net_keys(args),
                args.level,
                args.model,
                directory=args.output,
                progress=lambda p: _net_bar(p.completed + p.failed, p.completed + p.failed + p.remaining, "get"),
            )
        return _retrieve_report(r)

    return _net_run(run, args)


def cmd_move(args: argparse.Namespace) -> int:
    """C-MOVE to a destination AE title the peer knows."""

    def run(args: argparse.Namespace) -> int:
        with _net_connect(args) as a:  # type: ignore[attr-defined]
            r = a.move(
                _net_keys(args),
                args.dest,
                args.level,
                args.model,
                progress=lambda p: _net_bar(p.completed + p.failed, p.completed + p.failed + p.remaining, "move"),
            )
        return _retrieve_report(r)

    return _net_run(run, args)


def _add_net_commands(sub: Any) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("host", help="the peer's address")
        p.add_argument("port", type=int, help="the peer's port")
        p.add_argument("--aet", default="DICOMFAST", help="our AE title (default DICOMFAST)")
        p.add_argument("--aec", default="ANY-SCP", help="the peer's AE title (default ANY-SCP)")
        p.add_argument("--timeout", type=float, default=10.0, help="connect and association timeout, seconds")
        p.add_argument("--dimse-timeout", type=float, default=60.0, help="timeout of each response, seconds")
        p.add_argument("--tls", action="store_true", help="use TLS, verifying the peer with the system CAs")
        p.add_argument("--tls-ca", default=None, help="use TLS, verifying the peer with this CA file")

    def query(p: argparse.ArgumentParser) -> None:
        p.add_argument("-k", "--key", action="append", help="Keyword=value to match (empty: return key)")
        p.add_argument("-L", "--level", default="STUDY", help="PATIENT, STUDY, SERIES or IMAGE (default STUDY)")
        g = p.add_mutually_exclusive_group()
        g.add_argument("-P", dest="model", action="store_const", const="P", help="Patient Root model")
        g.add_argument("-S", dest="model", action="store_const", const="S", help="Study Root model (default)")
        p.set_defaults(model="S")

    e = sub.add_parser("echo", help="C-ECHO a DICOM peer (exit 0 when it answers success)")
    common(e)
    e.add_argument("-n", "--count", type=int, default=1, help="how many C-ECHOs (prints the best time)")
    e.set_defaults(func=cmd_echo)
    f = sub.add_parser("find", help="C-FIND: query a PACS")
    common(f)
    query(f)
    f.add_argument("--json", action="store_true", help="print each match as DICOM JSON")
    f.set_defaults(func=cmd_find)
    s = sub.add_parser("store", help="C-STORE files and folders to a peer")
    common(s)
    s.add_argument("paths", nargs="+", help="files or folders")
    s.set_defaults(func=cmd_store)
    g = sub.add_parser("get", help="C-GET matching instances into a folder")
    common(g)
    query(g)
    g.add_argument("-o", "--output", default=".", help="the folder to write into (default: .)")
    g.set_defaults(func=cmd_get)
    m = sub.add_parser("move", help="C-MOVE matching instances to another AE")
    common(m)
    query(m)
    m.add_argument("--dest", required=True, help="the destination AE title (known to the peer)")
    m.set_defaults(func=cmd_move)


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
    b = sub.add_parser("bench", help="measure dicomfast against its peers (tables, JSON, charts)", add_help=False)
    b.add_argument("bench_args", nargs=argparse.REMAINDER)
    b.set_defaults(func=cmd_bench)
    m = sub.add_parser("demo", help="write a synthetic archive, scan it, decode it, build volumes, report times")
    m.add_argument("--out", default=None, help="keep the synthetic archive in this folder")
    m.add_argument("--no-compare", action="store_true", help="skip the comparison with pydicom")
    m.set_defaults(func=cmd_demo)
    c = sub.add_parser("convert", help="transcode a file or a folder to another transfer syntax")
    c.add_argument("input", help="a DICOM file or a folder")
    c.add_argument("output", help="the output file or folder")
    c.add_argument("-t", "--transfer-syntax", required=True, help="UID or keyword, e.g. RLELossless, JPEG2000Lossless")
    c.add_argument("--threads", type=int, default=None, help="threads for frame encoding (default: all cores)")
    c.add_argument("--jpeg-quality", type=int, default=None, help="JPEG baseline / extended quality 1-100 (90)")
    c.add_argument(
        "--jpeg-photometric",
        choices=["YBR_FULL_422", "YBR_FULL", "RGB"],
        default=None,
        help="lossy JPEG of RGB data: YCbCr 4:2:2 (default), 4:4:4, or RGB as is",
    )
    c.add_argument("--jls-error", type=int, default=None, help="JPEG-LS near-lossless NEAR (2; 0 is lossless)")
    c.add_argument("--j2k-cr", default=None, help="JPEG 2000 compression ratio per layer, decreasing (10, or 40,10)")
    c.add_argument("--j2k-psnr", default=None, help="JPEG 2000 PSNR in dB per layer, increasing (e.g. 40,50)")
    uid = c.add_mutually_exclusive_group()
    uid.add_argument(
        "--new-uid", dest="new_uid", action="store_const", const=True, help="new SOP Instance UIDs (default: if lossy)"
    )
    uid.add_argument("--keep-uid", dest="new_uid", action="store_const", const=False, help="keep SOP Instance UIDs")
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
    i.add_argument("-f", "--force", action="store_true", help="read files without the DICM prefix")
    i.add_argument("--batch-size", type=int, default=16384, help="rows per Parquet row group (and progress update)")
    i.set_defaults(func=cmd_index)
    _add_net_commands(sub)
    return p


def main(argv: Seq[str] | None = None) -> int:
    """Entry point of ``dicomfast``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # The bench command has its own parser (dicomfast.bench.main): hand it the rest untouched.
        from dicomfast.bench import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return 0
