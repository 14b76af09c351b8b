"""Malformed input: truncations, lying lengths, huge declared lengths, deep nesting.

Every case must end in a ``DicomError`` (or a clean read), never a crash, a hang or an allocation larger
than the file. Memory is checked in a child process through its peak RSS.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import dicomfast

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

SAMPLES = [
    "CT_small.dcm",
    "rtplan.dcm",
    "MR_small_bigendian.dcm",
    "image_dfl.dcm",
    "emri_small_RLE.dcm",
    "SC_rgb_jpeg.dcm",
]


def _read_all(data: bytes) -> None:
    ds = dicomfast.dcmread(data, force=True)
    for elem in ds.iterall():
        _ = elem.value


@pytest.mark.parametrize("name", SAMPLES)
def test_truncated_every_997th_byte(name: str) -> None:
    data = Path(get_testdata_file(name)).read_bytes()
    outcomes = {"read": 0, "refused": 0}
    for cut in range(0, len(data), 997):
        try:
            _read_all(data[:cut])
            outcomes["read"] += 1
        except dicomfast.DicomError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0


def _explicit(tag: int, vr: bytes, value: bytes, long: bool = False) -> bytes:
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr
    if long:
        return head + b"\0\0" + struct.pack("<I", len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def _part10(body: bytes, ts: bytes = b"1.2.840.10008.1.2.1\0") -> bytes:
    return b"\0" * 128 + b"DICM" + _explicit(0x00020010, b"UI", ts) + body


@pytest.mark.parametrize("declared", [8, 1000, 0x7FFFFFFF, 0xFFFFFFFE])
def test_lying_lengths(declared: int) -> None:
    body = _explicit(0x00100010, b"PN", b"DOE^J ")
    short = struct.pack("<HH", 0x0010, 0x0020) + b"LO" + struct.pack("<H", min(declared, 0xFFFF)) + b"ab"
    long = struct.pack("<HH", 0x0010, 0x4000) + b"UT\0\0" + struct.pack("<I", declared) + b"ab"
    with pytest.raises(dicomfast.ParseError, match=r"exceeds the 2 bytes remaining.*\(0010,0020\) at byte 174"):
        dicomfast.dcmread(_part10(body + short))
    with pytest.raises(dicomfast.ParseError, match=rf"length {declared} exceeds.*\(0010,4000\) at byte 174"):
        dicomfast.dcmread(_part10(body + long))


def test_lying_item_length() -> None:
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 5000) + _explicit(0x00080100, b"SH", b"CODE")
    seq = struct.pack("<HH", 0x0008, 0x1032) + b"SQ\0\0" + struct.pack("<I", len(item)) + item
    with pytest.raises(dicomfast.ParseError, match="item length 5000"):
        dicomfast.dcmread(_part10(seq))


def test_undefined_length_sequence_without_delimiter() -> None:
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + _explicit(0x00080100, b"SH", b"CODE")
    seq = struct.pack("<HH", 0x0008, 0x1032) + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF) + item
    with pytest.raises(dicomfast.ParseError, match="Item Delimitation"):
        dicomfast.dcmread(_part10(seq))


def test_deep_nesting_is_refused_with_a_limit() -> None:
    body = b""
    for _ in range(200):
        body += struct.pack("<HH", 0x0008, 0x1140) + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF)
        body += struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    with pytest.raises(dicomfast.errors.LimitError, match="max_depth"):
        dicomfast.dcmread(_part10(body))
    # raising the limit lets it through to the next fault (the missing delimiters)
    with pytest.raises(dicomfast.ParseError, match="Delimitation"):
        dicomfast.dcmread(_part10(body), max_depth=500)


def test_not_dicom() -> None:
    with pytest.raises(dicomfast.InvalidDicomError, match="force=True"):
        dicomfast.dcmread(b"hello world" * 20)
    with pytest.raises(dicomfast.InvalidDicomError, match="too short"):
        dicomfast.dcmread(b"")
    with pytest.raises(FileNotFoundError):
        dicomfast.dcmread("/nonexistent/file.dcm")


def _child_peak_rss_mb(code: str) -> float:
    script = textwrap.dedent(
        """
        import resource, sys
        import dicomfast
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        {code}
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) / 1024)
        """
    ).format(code=textwrap.indent(textwrap.dedent(code), "").strip())
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def test_3gib_declared_length_in_100kb_file(tmp_path: Path) -> None:
    body = _explicit(0x00100010, b"PN", b"DOE^J ")
    body += struct.pack("<HH", 0x7FE0, 0x0010) + b"OB\0\0" + struct.pack("<I", 0xC0000000) + b"\0" * 100_000
    path = tmp_path / "lying.dcm"
    path.write_bytes(_part10(body))
    with pytest.raises(dicomfast.ParseError, match="3221225472 exceeds"):
        dicomfast.dcmread(path)
    grew = _child_peak_rss_mb(
        f"""
        try:
            dicomfast.dcmread({str(path)!r})
        except dicomfast.DicomError:
            pass
        """
    )
    assert grew < 20, f"peak RSS grew by {grew:.1f} MB reading a 100 kB file"


def test_header_read_of_1gb_file_costs_no_more_than_a_small_one(tmp_path: Path) -> None:
    # A 1 GiB multi-frame file (sparse on disk): reading with stop_before_pixels touches only the header.
    frames, rows, cols = 4096, 256, 512
    nbytes = frames * rows * cols * 2
    body = _explicit(0x00080060, b"CS", b"MR")
    body += _explicit(0x00280008, b"IS", str(frames).encode().ljust(4))
    body += _explicit(0x00280010, b"US", struct.pack("<H", rows))
    body += _explicit(0x00280011, b"US", struct.pack("<H", cols))
    body += _explicit(0x00280100, b"US", struct.pack("<H", 16))
    body += struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\0\0" + struct.pack("<I", nbytes)
    path = tmp_path / "big.dcm"
    with path.open("wb") as f:
        f.write(_part10(body))
        f.truncate(f.tell() + nbytes)
    assert path.stat().st_size > 2**30
    ds = dicomfast.dcmread(path, stop_before_pixels=True)
    assert ds.NumberOfFrames == frames
    grew = _child_peak_rss_mb(
        f"""
        ds = dicomfast.dcmread({str(path)!r}, stop_before_pixels=True)
        assert ds.Rows == {rows}
        """
    )
    assert grew < 10, f"peak RSS grew by {grew:.1f} MB"
