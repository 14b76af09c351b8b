"""Make a synthetic archive for the scan benchmark: copies of real files with new UIDs, in nested folders.

The sources are the files of pydicom's test data, pydicom-data and ``../shared/corpus`` that pydicom reads
(header only), that are not deflated, and that are at most ``--max-size`` bytes. Each copy gets a new Study,
Series and SOP Instance UID (and Media Storage SOP Instance UID), patched in place with UIDs of the same
length so no other byte moves. Layout: ``patient_NNNNN/study_N/series_N/IMNNNNN.dcm``, 100 files a series,
3 series a study, 2 studies a patient.

Run: ``python -m benchmarks.make_archive OUT --files 20000``. The archive is made in a temporary folder by
``benchmarks/scan.py`` and is never committed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from pathlib import Path

import dicomfast

warnings.simplefilter("ignore")

UID_TAGS = {
    "study": [0x0020000D],
    "series": [0x0020000E],
    "sop": [0x00080018],
}
META_SOP = 0x00020003  # (0002,0003) Media Storage SOP Instance UID


class Source:
    """One real file and the byte ranges of its UIDs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = path.read_bytes()
        ds = dicomfast.dcmread(path, stop_before_pixels=True)
        self.spans: dict[str, list[tuple[int, int]]] = {"study": [], "series": [], "sop": []}
        for kind, tags in UID_TAGS.items():
            for tag in tags:
                if tag in ds:
                    _vr, raw, _len, off, _undef = ds._native.raw(tag)
                    n = len(raw.rstrip(b"\0 "))
                    if n >= 12:
                        self.spans[kind].append((off, n))
        meta = ds.file_meta
        if META_SOP in meta:
            _vr, raw, _len, off, _undef = meta._native.raw(META_SOP)
            n = len(raw.rstrip(b"\0 "))
            if n >= 12:
                self.spans["sop"].append((off, n))


def sources(max_size: int) -> list[Source]:
    """The real files the archive copies."""
    import pydicom

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.conftest import all_files

    out = []
    for p in all_files():
        if p.stat().st_size > max_size or p.stat().st_size < 1024:
            continue
        try:
            pds = pydicom.dcmread(p, stop_before_pixels=True)
            ts = pds.file_meta.get("TransferSyntaxUID")
            if ts is None or ts.is_deflated or "SOPInstanceUID" not in pds:
                continue
            src = Source(p)
        except Exception:
            continue
        if src.spans["sop"] and src.spans["study"] and src.spans["series"]:
            out.append(src)
    return out


def new_uid(rng: random.Random, n: int) -> bytes:
    """A UID of exactly ``n`` characters under the 2.25 root (PS3.5 §B.2: a UUID-derived UID)."""
    digits = n - 5
    first = str(rng.randint(1, 9))
    rest = "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))
    return ("2.25." + first + rest).encode()


def make(out: Path, files: int, max_size: int = 1 << 20, seed: int = 5, start: int = 0) -> list[Path]:
    """Write ``files`` copies under ``out`` (numbered from ``start``); returns their paths."""
    rng = random.Random(seed + start)
    srcs = sources(max_size)
    if not srcs:
        raise SystemExit("no source files: install pydicom and pydicom-data")
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--max-size", type=int, default=1 << 20, help="largest source file, bytes")
    ap.add_argument("--start", type=int, default=0, help="number of the first file (to extend an archive)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    paths = make(args.out, args.files, args.max_size, start=args.start)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} files, {size / 1e9:.2f} GB in {args.out} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
