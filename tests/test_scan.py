"""Archive scan: every value equals dcmread's, one row per file whatever happens, Parquet, Dask, CLI."""

from __future__ import annotations

import datetime
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import dicomfast
from dicomfast import _native, cli
from dicomfast.scan import schema

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import all_files, file_id  # noqa: E402

SAMPLE = Path(dicomfast.__file__).with_name("data") / "sample_ct.dcm"

# Tags covering every column type: text of several VRs (PN, LO with character sets, CS, UI, TM, DT), IS, DS,
# US, "US or SS", AT, FL / FD, DA, multi-valued (lists), binary, nested paths two levels deep, and a private
# creator.
TAGS = [
    "PatientName",
    "PatientID",
    "InstitutionName",
    "StudyDescription",
    "Modality",
    "StudyDate",
    "ContentDate",
    "StudyTime",
    "AcquisitionDateTime",
    "SpecificCharacterSet",
    "InstanceNumber",
    "NumberOfFrames",
    "SliceThickness",
    "PixelSpacing",
    "ImagePositionPatient",
    "WindowCenter",
    "ImageType",
    "Rows",
    "BitsAllocated",
    "SmallestImagePixelValue",
    "RedPaletteColorLookupTableDescriptor",
    "FrameIncrementPointer",
    "RecommendedDisplayFrameRateInFloat",
    "ImagedVolumeWidth",
    "PatientAge",
    "0x00091010",
    "0x00290010",
    "ReferencedImageSequence[0].ReferencedSOPInstanceUID",
    "SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing",
    "SourceImageSequence[0].ReferencedSOPClassUID",
    "MediaStorageSOPInstanceUID",
]
FIXED = ["TransferSyntaxUID", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"]


def _parse_da(s: str) -> datetime.date | None:
    s = s.strip(" \0")
    try:
        if len(s) == 8 and s.isdigit():
            return datetime.date(int(s[:4]), int(s[4:6]), int(s[6:]))
        if len(s) == 10 and s[4] == s[7] == ".":
            return datetime.date(int(s[:4]), int(s[5:7]), int(s[8:]))
    except ValueError:
        return None
    return None


def _item(v: Any, t: Any) -> Any:
    """One value as the column of type ``t`` holds it (None where it does not fit)."""
    if v is None:
        return None
    if pa.types.is_large_string(t):
        return str(v)  # "" kept: an empty item of a list
    if v == "":
        return None
    if pa.types.is_date32(t):
        return _parse_da(v) if isinstance(v, str) else None
    if pa.types.is_int64(t):
        return int(v) if isinstance(v, int) else None
    if pa.types.is_float64(t):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return v


def expected(ds: Any, name: str, t: Any) -> Any:
    """What the column ``name`` of type ``t`` must hold for a data set read by dcmread."""
    *steps, leaf = name.split(".")
    node = ds
    for step in steps:
        kw, idx = step[:-1].split("[")
        seq = node.get(kw) if kw in node else None
        if not seq or len(seq) <= int(idx):
            return None
        node = seq[int(idx)]
    if leaf.startswith("0x"):
        leaf_tag: Any = int(leaf, 16)
    elif leaf.startswith("("):
        leaf_tag = int(leaf.strip("()").replace(",", ""), 16)
    else:
        leaf_tag = leaf
    if leaf_tag == "MediaStorageSOPInstanceUID" or leaf_tag == "TransferSyntaxUID":
        node = ds.file_meta
    if leaf_tag not in node:
        return None
    v = node[leaf_tag].value
    multi = isinstance(v, (list, tuple)) or type(v).__name__ == "ndarray"
    if pa.types.is_large_binary(t):
        return v if isinstance(v, bytes) and v else (None if v in (None, b"", "") else "<not bytes>")
    if pa.types.is_list(t):
        items = list(v) if multi else [v]
        if not items or all(x is None or x == "" for x in items):
            return None
        return [_item(x, t.value_type) for x in items]
    if multi:
        if not v or all(x == "" for x in v):
            return None
        return "\\".join(str(x) for x in v) if pa.types.is_large_string(t) else None
    return None if v == "" else _item(v, t)


def _wanted_top(ds_names: list[str]) -> list[int]:
    out = []
    for n in ds_names:
        first = n.split(".")[0].split("[")[0]
        tag = int(first, 16) if first.startswith("0x") else dicomfast.tag_for_keyword(first)
        if tag is not None and tag >> 16 != 2:
            out.append(tag)
    return [*out, 0x00280103, 0x00283002]


FILES = all_files()

# Files whose scan differs from dcmread(stop_before_pixels=True), and why.
# Files whose scan is known to differ from dcmread, with the reason (none at present; fodicom__GH364.dcm,
# with a stray top-level (FFFE,E000) item, is the regression test of the parser's specific_tags stop).
KNOWN: dict[str, str] = {}


def _param(p: Path) -> Any:
    fid = file_id(p)
    marks = [pytest.mark.xfail(reason=KNOWN[fid], strict=True)] if fid in KNOWN else []
    return pytest.param(p, id=fid, marks=marks)


@pytest.fixture(scope="module")
def table() -> Any:
    if not FILES:
        pytest.skip("no test corpus")
    return dicomfast.scan([str(p) for p in FILES], tags=TAGS, threads=2)


def test_rows_equal_files(table: Any) -> None:
    assert table.num_rows == len(FILES)
    assert table.column("path").to_pylist() == [str(p) for p in FILES]
    sizes = table.column("size").to_pylist()
    assert sizes == [p.stat().st_size for p in FILES]
    ok = table.column("ok").to_pylist()
    errors = table.column("error").to_pylist()
    assert all((e is None) == o for o, e in zip(ok, errors, strict=True))
    assert sum(ok) > 0.9 * len(FILES)


def test_schema_types(table: Any) -> None:
    s = table.schema
    assert s.names[:9] == ["path", "size", "ok", "error", *FIXED]
    assert s.field("StudyDate").type == pa.date32()
    assert s.field("InstanceNumber").type == pa.int64()
    assert s.field("Rows").type == pa.int64()
    assert s.field("SliceThickness").type == pa.float64()
    assert s.field("RecommendedDisplayFrameRateInFloat").type == pa.float64()
    assert s.field("PixelSpacing").type == pa.list_(pa.float64())
    assert s.field("ImageType").type == pa.list_(pa.large_string())
    assert s.field("StudyTime").type == pa.large_string()
    assert s.field("AcquisitionDateTime").type == pa.large_string()
    assert s.field("(0009,1010)").type == pa.large_binary()
    assert s.field("(0029,0010)").type == pa.large_string()
    assert s.field("FrameIncrementPointer").type == pa.list_(pa.int64())
    assert schema(TAGS) == s


@pytest.mark.parametrize("path", [_param(p) for p in FILES])
def test_values_equal_dcmread(table: Any, path: Path) -> None:
    row = FILES.index(path)
    got = {name: table.column(name)[row].as_py() for name in table.schema.names}
    try:
        ds = dicomfast.dcmread(path, stop_before_pixels=True)
    except (dicomfast.DicomError, OSError) as e:
        raised = type(e).__name__
        if not got["ok"]:
            # The row names the exception dcmread raises.
            assert got["error"].split(":")[0] == raised, (got["error"], raised)
            return
        # The scan reads only up to the tags it wants and steps over the elements it does not want: a fault
        # after them or inside one of those (DICOMDIR-nooffset's directory records) does not stop it.
        ds = dicomfast.dcmread(path, stop_before_pixels=True, specific_tags=_wanted_top(TAGS + FIXED))
    assert got["ok"], got["error"]
    for field in table.schema:
        if field.name in ("path", "size", "ok", "error"):
            continue
        col = field.name
        spec = col
        if col.startswith("(") and len(col) == 11:
            spec = "0x" + col.strip("()").replace(",", "")
        want = expected(ds, spec, field.type)
        if want == "<not bytes>":
            # A binary column holds the value bytes; dcmread decoded them (a VR written in the file).
            assert got[col] is not None
            continue
        assert got[col] == want, (col, got[col], want)


def test_batches_are_bounded_and_equal(table: Any) -> None:
    files = [str(p) for p in FILES]
    batches = list(dicomfast.scan_batches(files, tags=TAGS, threads=1, batch_size=37))
    assert all(b.num_rows <= 37 for b in batches)
    assert sum(b.num_rows for b in batches) == len(files)
    assert pa.Table.from_batches(batches).equals(table)


def _fault_tree(tmp: Path) -> tuple[Path, list[str]]:
    """A directory with every fault case; returns it and the names expected to fail."""
    root = tmp / "archive"
    (root / "a" / "b").mkdir(parents=True)
    good = SAMPLE.read_bytes()
    (root / "a" / "good.dcm").write_bytes(good)
    (root / "a" / "b" / "good2.dcm").write_bytes(good)
    (root / "a" / "empty.dcm").write_bytes(b"")
    (root / "a" / "notes.txt").write_text("not DICOM at all " * 20)
    (root / "a" / "short.dcm").write_bytes(b"DICM\x08\x00\x20\x00DA\x08\x002020")
    (root / "a" / "truncated.dcm").write_bytes(good[:300])
    os.symlink(root / "nowhere.dcm", root / "a" / "broken.dcm")
    os.symlink(root / "a", root / "a" / "b" / "loop")
    os.mkfifo(root / "a" / "fifo.dcm")
    locked = root / "a" / "locked.dcm"
    locked.write_bytes(good)
    locked.chmod(0)
    return root, ["empty.dcm", "notes.txt", "short.dcm", "truncated.dcm", "broken.dcm", "loop", "fifo.dcm"]


def test_fault_cases(tmp_path: Path) -> None:
    root, failing = _fault_tree(tmp_path)
    t = dicomfast.scan(root, tags=["PatientName"], follow_symlinks=True)
    rows = {
        Path(p).name: (ok, err)
        for p, ok, err in zip(t["path"].to_pylist(), t["ok"].to_pylist(), t["error"].to_pylist(), strict=True)
    }
    assert t.num_rows == 10
    assert sorted(rows) == sorted(["good.dcm", "good2.dcm", "locked.dcm", *failing])
    for name in failing:
        assert rows[name][0] is False, name
    assert rows["good.dcm"] == (True, None)
    assert rows["good2.dcm"] == (True, None)
    assert rows["empty.dcm"][1].startswith("InvalidDicomError: File is only 0 bytes")
    assert rows["notes.txt"][1].startswith("InvalidDicomError")
    assert rows["broken.dcm"][1].startswith("FileNotFoundError: Broken symbolic link")
    assert "Directory loop" in rows["loop"][1]
    assert "Not a regular file" in rows["fifo.dcm"][1]
    if os.geteuid() == 0:
        assert rows["locked.dcm"] == (True, None)  # root reads files whatever their mode
    else:
        assert rows["locked.dcm"][1].startswith("PermissionError")
    # Not following links: the loop is not walked and gives no row; the broken link still does.
    t2 = dicomfast.scan(root, tags=["PatientName"])
    assert t2.num_rows == 9
    # A pattern filters names found in directories; a file named explicitly is always scanned.
    t3 = dicomfast.scan([root, root / "a" / "notes.txt"], pattern="good*.dcm")
    assert [Path(p).name for p in t3["path"].to_pylist()] == ["good2.dcm", "good.dcm", "notes.txt"]
    # Not recursive: only the top level of each directory.
    assert dicomfast.scan(root / "a", recursive=False).num_rows == 8


def test_missing_and_vanishing_files(tmp_path: Path) -> None:
    f = tmp_path / "x.dcm"
    shutil.copy(SAMPLE, f)
    entries = _native.list_files([str(tmp_path)])
    f.unlink()  # the file vanishes between the walk and the read
    t = pa.Table.from_batches(list(dicomfast.scan_batches([], _entries=entries)))
    assert t.num_rows == 1
    assert t["error"][0].as_py().startswith("FileNotFoundError")
    t = dicomfast.scan([tmp_path / "never-there.dcm", tmp_path / "nor-this"])
    assert t.num_rows == 2
    assert not any(t["ok"].to_pylist())
    assert dicomfast.scan([]).num_rows == 0
    assert dicomfast.scan([]).schema == schema()


def test_tag_specs() -> None:
    t = dicomfast.scan(
        SAMPLE,
        tags={"name": "PatientName", "rows": 0x00280010, "cols": "(0028,0011)", "sop": "0008,0016"},
        keep_raw=True,
    )
    assert t.schema.names[-4:] == ["name", "rows", "cols", "sop"]
    ds = dicomfast.dcmread(SAMPLE)
    assert t["name"][0].as_py() == str(ds.PatientName)
    assert t["rows"][0].as_py() == ds.Rows
    assert t["sop"][0].as_py() == ds.SOPClassUID
    with pytest.raises(dicomfast.DicomError, match="neither a DICOM keyword nor a tag number"):
        dicomfast.scan(SAMPLE, tags=["NoSuchKeyword"])
    with pytest.raises(dicomfast.DicomError, match="is a sequence"):
        dicomfast.scan(SAMPLE, tags=["ReferencedImageSequence"])
    with pytest.raises(dicomfast.DicomError, match=r"say which item"):
        dicomfast.scan(SAMPLE, tags=["ReferencedImageSequence.ReferencedSOPInstanceUID"])
    raw = dicomfast.scan(SAMPLE, tags=["StudyDate", "SliceThickness"], keep_raw=True)
    assert raw.schema.names[-4:] == ["StudyDate", "StudyDate_raw", "SliceThickness", "SliceThickness_raw"]
    assert raw["StudyDate_raw"][0].as_py() == ds.StudyDate


def test_threads_give_the_same_table(table: Any) -> None:
    one = dicomfast.scan([str(p) for p in FILES], tags=TAGS, threads=1)
    assert one.equals(table)


def test_parquet_round_trip(tmp_path: Path, table: Any) -> None:
    out = tmp_path / "index.parquet"
    seen: list[tuple[int, int]] = []
    files, errors = dicomfast.scan_to_parquet(
        [str(p) for p in FILES], out, tags=TAGS, batch_size=100, progress=lambda f, e: seen.append((f, e))
    )
    assert files == len(FILES)
    assert errors == table["ok"].to_pylist().count(False)
    assert seen[-1] == (files, errors)
    assert pq.read_table(out).equals(table)


def test_cli_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = _fault_tree(tmp_path)
    out = tmp_path / "index.parquet"
    rc = cli.main(["index", str(root), "-o", str(out), "--tags", "PatientName,Rows", "StudyDate", "--threads", "2"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "9 files" in err
    assert "errors" in err
    t = pq.read_table(out)
    assert t.num_rows == 9
    assert t.schema.names[-3:] == ["PatientName", "Rows", "StudyDate"]


@pytest.mark.slow
def test_dask_local_cluster(tmp_path: Path) -> None:
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    from dicomfast import dask as dfdask

    files = [str(p) for p in FILES[:60]] + [str(tmp_path / "missing.dcm")]
    tags = ["PatientName", "StudyDate", "PixelSpacing", "Rows", "InstanceNumber"]
    local = dicomfast.scan(files, tags=tags)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        ddf = dfdask.scan(files, tags=tags, files_per_partition=16)
        assert isinstance(ddf, dd.DataFrame)
        assert ddf.npartitions == 4
        got = ddf.compute()
        ddf.to_parquet(tmp_path / "pq")
    back = pa.Table.from_pandas(got, preserve_index=False)
    assert back.num_rows == local.num_rows
    assert back.cast(local.schema).equals(local)
    assert pq.read_table(tmp_path / "pq").num_rows == local.num_rows


def test_ctrl_c_stops_between_chunks() -> None:
    import signal
    import time

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    entries = [(str(SAMPLE), None)] * 400_000
    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in dicomfast.scan_batches([], batch_size=400_000, threads=2, _entries=entries):
                pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    # The whole scan takes seconds; the interrupt is honoured at the next chunk of 4096 files.
    assert time.perf_counter() - t0 < 2.0


def test_force_reads_files_without_preamble(corpus_dir: Path) -> None:
    path = corpus_dir / "fodicom__CR-MONO1-10-chest.dcm"
    if not path.exists():
        pytest.skip("corpus file absent")
    t = dicomfast.scan(path, tags=["PatientName", "Rows"])
    assert t["error"][0].as_py().startswith("InvalidDicomError")
    t = dicomfast.scan(path, tags=["PatientName", "Rows"], force=True)
    ds = dicomfast.dcmread(path, force=True, stop_before_pixels=True)
    assert t["ok"][0].as_py()
    assert t["Rows"][0].as_py() == ds.Rows
    assert t["PatientName"][0].as_py() == expected(ds, "PatientName", pa.large_string())


def _explicit(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    """One element in explicit VR little endian (PS3.5 §7.1.2)."""
    head = group.to_bytes(2, "little") + elem.to_bytes(2, "little") + vr
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT"):
        return head + b"\0\0" + len(value).to_bytes(4, "little") + value
    return head + len(value).to_bytes(2, "little") + value


def _part10(body: bytes) -> bytes:
    """A Part 10 file (PS3.10 §7.1) in explicit VR little endian around ``body``."""
    meta = _explicit(0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1\0")
    return b"\0" * 128 + b"DICM" + meta + body


@pytest.mark.parametrize("pad", [0, 3_000, 5_000, 20_000, 100_000, 300_000])
def test_headers_past_the_first_read(tmp_path: Path, pad: int) -> None:
    # The wanted tags come after `pad` bytes of a private value and two sequences that are not wanted (one
    # of defined length holding no item tag, one of undefined length with an item of undefined length):
    # the scan reads on past its first page (growing the read, or through the core's reader) and steps
    # over what it does not want, as dcmread with specific_tags does.
    bad_seq = _explicit(0x0008, 0x1140, b"SQ", _explicit(0x0008, 0x1150, b"UI", b"1.2\0"))
    item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + _explicit(0x0008, 0x1155, b"UI", b"1.2.3\0")
    item += b"\xfe\xff\x0d\xe0\0\0\0\0"
    undef_seq = b"\x08\x00\x15\x11SQ\0\0\xff\xff\xff\xff" + item + b"\xfe\xff\xdd\xe0\0\0\0\0"
    body = (
        _explicit(0x0008, 0x0060, b"CS", b"MR")
        + bad_seq
        + undef_seq
        + _explicit(0x0009, 0x0010, b"LO", b"ACME")
        + _explicit(0x0009, 0x1001, b"OB", bytes(range(256)) * (pad // 256) + b"\0" * (pad % 256))
        + _explicit(0x0010, 0x0010, b"PN", b"DOE^JANE")
        + _explicit(0x0020, 0x0013, b"IS", b"7 ")
        + _explicit(0x0028, 0x0030, b"DS", b"0.5\\0.25")
        + _explicit(0x7FE0, 0x0010, b"OB", b"\0" * 64)
    )
    path = tmp_path / "big-header.dcm"
    path.write_bytes(_part10(body))
    tags = ["Modality", "PatientName", "InstanceNumber", "PixelSpacing"]
    t = dicomfast.scan(path, tags=tags, threads=1)
    assert t["ok"].to_pylist() == [True], t["error"].to_pylist()
    assert t["size"].to_pylist() == [path.stat().st_size]
    got = {k: t[k][0].as_py() for k in tags}
    assert got == {"Modality": "MR", "PatientName": "DOE^JANE", "InstanceNumber": 7, "PixelSpacing": [0.5, 0.25]}
    ds = dicomfast.dcmread(path, stop_before_pixels=True, specific_tags=_wanted_top(tags))
    assert str(ds.PatientName) == "DOE^JANE"
    assert ds.InstanceNumber == 7
