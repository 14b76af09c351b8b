"""A synthetic archive for the ``scan`` suite: copies of real files with new UIDs, in nested folders.

The sources are the given files (by default the public sets: pydicom's test files, pydicom-data and
``../shared/corpus``) that pydicom reads (header only; dicomfast when pydicom is absent), that are not
deflated, that carry Study, Series and SOP Instance UIDs, and that are at most ``max_size`` bytes. Each copy
gets a new Study, Series and SOP Instance UID (and Media Storage SOP Instance UID), patched in place with
UIDs of the same length so that no other byte moves. Layout: ``patient_NNNNN/study_N/series_N/IMNNNNNNN.dcm``,
100 files a series, 3 series a study, 2 studies a patient.

Run ``python -m dicomfast.bench.archive OUT --files 20000`` (or ``python -m benchmarks.make_archive``); the
``scan`` suite makes its archive in ``Config.workdir`` or a temporary folder, and it is never committed.
"""

from __future__ import annotations

import argparse
import random
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

import dicomfast
from dicomfast.bench.core import Config, have, public_files

__all__ = ["Source", "archive", "count_files", "main", "make", "new_uid", "sources"]

UID_TAGS = {
    "study": [0x0020000D],
    "series": [0x0020000E],
    "sop": [0x00080018],
}
META_SOP = 0x00020003  # (0002,0003) Media Storage SOP Instance UID
DEFLATED = "1.2.840.10008.1.2.1.99"
MAX_SIZE = 512 * 1024


class Source:
    """One real file and the byte ranges of its UIDs.

    Parameters
    ----------
    path
        The file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = path.read_bytes()
        ds = dicomfast.dcmread(self.data, stop_before_pixels=True)
        self.spans: dict[str, list[tuple[int, int]]] = {"study": [], "series": [], "sop": []}
        for kind, tags in UID_TAGS.items():
            for tag in tags:
                if tag in ds:
                    self._span(kind, ds._native.raw(tag))
        meta = ds.file_meta
        if META_SOP in meta:
            self._span("sop", meta._native.raw(META_SOP))

    def _span(self, kind: str, raw: tuple[str, bytes, int, int, bool]) -> None:
        _vr, value, _len, off, _undef = raw
        n = len(value.rstrip(b"\0 "))
        if n >= 12:
            self.spans[kind].append((off, n))

    @property
    def usable(self) -> bool:
        """Whether all three UIDs can be replaced."""
        return all(self.spans[k] for k in UID_TAGS)


def _readable(path: Path) -> bool:
    """Whether the peers read the file's header (pydicom when installed), not deflated, with a SOP UID."""
    if have("pydicom"):
        import pydicom

        pds = pydicom.dcmread(path, stop_before_pixels=True)
        ts = pds.file_meta.get("TransferSyntaxUID")
        return ts is not None and not ts.is_deflated and "SOPInstanceUID" in pds
    ds = dicomfast.dcmread(path, stop_before_pixels=True)
    ts = ds.file_meta.get("TransferSyntaxUID")
    return ts is not None and ts != DEFLATED and "SOPInstanceUID" in ds


def sources(paths: Iterable[Path] | None = None, max_size: int = MAX_SIZE, limit: int = 1000) -> list[Source]:
    """The real files the archive copies.

    Parameters
    ----------
    paths
        Candidate files (default: :func:`dicomfast.bench.core.public_files`).
    max_size
        Largest file copied, in bytes (files under 1 KiB are skipped too).
    limit
        Stop after this many sources (a user's own archive may hold millions of candidates).

    Returns
    -------
    list[Source]
        The usable files, in the order given.
    """
    warnings.simplefilter("ignore")
    out = []
    seen: set[Path] = set()
    for p in public_files() if paths is None else paths:
        p = Path(p)
        try:
            size = p.stat().st_size
            if size > max_size or size < 1024 or p.resolve() in seen:
                continue
            seen.add(p.resolve())
            if not _readable(p):
                continue
            src = Source(p)
        except Exception:  # any file a reader refuses is simply not a source
            continue
        if src.usable:
            out.append(src)
            if len(out) >= limit:
                break
    return out


def new_uid(rng: random.Random, n: int) -> bytes:
    """A UID of exactly ``n`` characters under the 2.25 root (PS3.5 §B.2: a UUID-derived UID).

    Parameters
    ----------
    rng
        The random generator.
    n
        The length, at least 7.

    Returns
    -------
    bytes
        The UID, ASCII.
    """
    digits = n - 5
    first = str(rng.randint(1, 9))
    rest = "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))
    return ("2.25." + first + rest).encode()


def make(
    out: Path,
    files: int,
    max_size: int = MAX_SIZE,
    seed: int = 5,
    start: int = 0,
    srcs: list[Source] | None = None,
) -> list[Path]:
    """Write ``files`` copies under ``out``, numbered from ``start``.

    Parameters
    ----------
    out
        The archive's root folder (made when absent).
    files
        How many files to write.
    max_size
        Largest source file, bytes (when ``srcs`` is not given).
    seed
        Seed of the UIDs (with ``start``: the same call makes the same archive).
    start
        Number of the first file (to extend an archive).
    srcs
        The sources (default: :func:`sources` of the public sets).

    Returns
    -------
    list[Path]
        The paths written, in order.
    """
    rng = random.Random(seed + start)
    if srcs is None:
        srcs = sources(None, max_size)
    if not srcs:
        raise RuntimeError("no source files for the archive: install pydicom and pydicom-data, or give files")
    written: list[Path] = []
    uids: dict[tuple[str, int], dict[int, bytes]] = {}
    for i in range(start, start + files):
        src = srcs[i % len(srcs)]
        series = i // 100
        study = series // 3
        patient = study // 2
        buf = bytearray(src.data)
        for kind, key in (("study", study), ("series", series), ("sop", i)):
            cache = uids.setdefault((kind, key), {}) if kind != "sop" else {}
            for off, n in src.spans[kind]:
                uid = cache.get(n)
                if uid is None:
                    uid = cache[n] = new_uid(rng, n)
                buf[off : off + n] = uid
        d = out / f"patient_{patient:05d}" / f"study_{study % 2}" / f"series_{series % 3}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"IM{i:07d}.dcm"
        p.write_bytes(buf)
        written.append(p)
    return written


def count_files(root: Path) -> int:
    """Number of files under ``root`` (recursively)."""
    return sum(1 for p in root.rglob("*") if p.is_file())


@contextmanager
def archive(cfg: Config, files: int, srcs: list[Source] | None = None) -> Iterator[Path]:
    """An archive of ``files`` copies, made from ``cfg.paths``, for as long as the context lasts.

    With ``cfg.workdir`` the archive is ``workdir/archive-<files>`` and is kept (and reused by later runs when
    complete); without it, it lives in a temporary folder removed on exit.

    Parameters
    ----------
    cfg
        The suite's configuration.
    files
        How many files.
    srcs
        The sources (default: :func:`sources` of ``cfg.paths``).

    Yields
    ------
    Path
        The archive's root folder.
    """
    if cfg.workdir is not None:
        root = Path(cfg.workdir) / f"archive-{files}"
        done = Path(cfg.workdir) / f"archive-{files}.done"
        if not (done.exists() and root.is_dir() and count_files(root) == files):
            done.unlink(missing_ok=True)
            make(root, files, srcs=srcs if srcs is not None else sources(cfg.paths))
            done.touch()
        yield root
        return
    with TemporaryDirectory(prefix="dicomfast-bench-archive-") as tmp:
        root = Path(tmp) / "archive"
        make(root, files, srcs=srcs if srcs is not None else sources(cfg.paths))
        yield root


def main(argv: list[str] | None = None) -> int:
    """Make an archive: ``python -m dicomfast.bench.archive OUT [--files N] [--max-size B] [--start I]``."""
    ap = argparse.ArgumentParser(prog="dicomfast.bench.archive", description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--max-size", type=int, default=MAX_SIZE, help="largest source file, bytes")
    ap.add_argument("--start", type=int, default=0, help="number of the first file (to extend an archive)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    paths = make(args.out, args.files, args.max_size, start=args.start)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} files, {size / 1e9:.2f} GB in {args.out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
