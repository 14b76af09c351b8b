"""``dicomfast bench``: the report is produced (tables, JSON, charts); no timing is asserted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dicomfast import cli
from dicomfast.bench import markdown
from dicomfast.bench.core import Row

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402


def test_bench_quick_headers_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm")]
    out = tmp_path / "bench" / "result.json"
    assert cli.main(["bench", *files, "--quick", "--suite", "headers", "--repeat", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "# dicomfast benchmark" in text
    assert "## headers" in text
    assert "| header read + 3 tags | pydicom |" in text
    assert "Machine:" in text
    data = json.loads(out.read_text())
    assert data["info"]["quick"] is True
    assert data["info"]["inputs"] == 4
    rows = [r for r in data["rows"] if r["suite"] == "headers"]
    assert rows
    assert all(r["ours"] and r["ours"] > 0 for r in rows)
    assert {r["peer"] for r in rows} >= {"pydicom"}
    assert out.with_suffix(".md").read_text().startswith("# dicomfast benchmark")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (out.parent / "bench_headers.png").stat().st_size > 1000


def test_markdown_marks_mismatches_and_missing_peers() -> None:
    rows = [
        Row("pixels", "RLE decode, 1 thread", "pydicom", "MPix/s", 100.0, 300.0, True, 2, mismatch="differs"),
        Row("pixels", "RLE decode, 1 thread", "dicomsdl", "MPix/s", None, 300.0, True, 2, note="not installed"),
    ]
    info = {
        "machine": {"cpu": "x", "cores": 2, "memory": "1 GiB", "os": "linux", "python": "3.11"},
        "versions": {"pydicom": "3.0.2", "dicomsdl": None},
        "date": "today",
        "duration_s": 1.0,
        "quick": True,
    }
    text = markdown(rows, info, {"net": "not available (no peers)"})
    assert "3.00×" in text
    assert "MISMATCH differs" in text
    assert "Not installed: dicomsdl" in text
    assert "Not run: not available (no peers)" in text


def test_bench_quick_scan_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A tiny archive (200 copies of 5 real files, in --workdir) keeps this to seconds; no timing is asserted.
    names = ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm", "US1_J2KR.dcm")
    files = [get_testdata_file(n) for n in names]
    out = tmp_path / "bench" / "result.json"
    argv = ["bench", *files, "--quick", "--suite", "scan", "--repeat", "1", "--json", str(out)]
    assert cli.main([*argv, "--scan-files", "200", "--workdir", str(tmp_path / "work")]) == 0
    text = capsys.readouterr().out
    assert "## scan" in text
    assert "| scan 200 files, 12 tags + 4 UIDs, dicomfast " in text
    data = json.loads(out.read_text())
    assert "scan" not in data["skipped"]
    rows = [r for r in data["rows"] if r["suite"] == "scan"]
    peers = {r["peer"] for r in rows}
    assert "pydicom, 2-process pool" in peers
    assert "dicomfast 1 thread" in peers
    assert any(p.startswith("dicomsdl") for p in peers)  # measured, or named as not installed
    files_per_s = [r for r in rows if r["unit"] == "files/s"]
    assert files_per_s
    assert all(r["ours"] > 0 and r["items"] == 200 for r in files_per_s)
    pd_row = next(r for r in files_per_s if r["peer"] == "pydicom, 2-process pool")
    assert pd_row["peer_value"] > 0
    assert pd_row["mismatch"] == ""  # the same 16 values from pydicom as in dicomfast's table
    if os.path.exists("/proc/self/io"):
        # How much of the archive came from storage rather than the page cache, for each thread count.
        vs_one = next(r for r in rows if r["peer"] == "dicomfast 1 thread" and r["unit"] == "files/s")
        assert "1 thread: " in vs_one["note"]
        assert "MB read from storage in" in vs_one["note"]
    if (os.cpu_count() or 1) > 1:
        # The machine's ceiling: one thread in each of as many processes as cores, at once.
        ceiling = [r for r in rows if r["peer"].endswith("processes x 1 thread")]
        assert len(ceiling) == 1
        assert ceiling[0]["peer_value"] > 0
        assert ceiling[0]["ours"] > 0
    rss = [r for r in rows if r["unit"] == "MB"]
    assert rss
    assert all(r["ours"] > 0 and r["peer_value"] > 0 for r in rss)
    # The archive was made in --workdir (and is kept there for the next run).
    assert sum(1 for p in (tmp_path / "work" / "archive-200").rglob("*.dcm")) == 200


def test_timed_together_alternates_the_runs() -> None:
    from dicomfast.bench.scan import timed_together

    calls: list[str] = []
    medians = timed_together([lambda: calls.append("a"), lambda: calls.append("b")], 4, warmup=1)
    # The warm-up runs, then a b, b a, a b, b a: each measured as often, neither always first.
    assert "".join(calls) == "ab" + "abbaabba"
    assert len(medians) == 2
    assert all(m >= 0.0 for m in medians)


def test_side_by_side_runs_one_call_per_process_at_once() -> None:
    from dicomfast.bench.core import side_by_side, sustained

    assert sustained(lambda: None, 3) >= 0.0
    per_call = side_by_side(lambda: sum(range(10_000)), 2, 3)
    # Two processes at once, each timing its own calls: one aggregate time per call.
    assert per_call is not None
    assert per_call > 0.0


def test_pixels_suite_reports_the_machine_ceiling_for_multi_frame_files() -> None:
    import os

    from dicomfast.bench import pixels
    from dicomfast.bench.core import Config

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: no second process to run beside the first")
    # a 10-frame file: the suite times all threads against one thread in each of 2 processes at once
    multi = Path(get_testdata_file("emri_small_jpeg_2k_lossless.dcm"))
    rows = pixels.run(Config([multi], quick=True, repeat=1))
    ceiling = [r for r in rows if "processes of 1 thread at once" in r.work]
    assert len(ceiling) == 1, [r.work for r in rows]
    assert ceiling[0].peer_value > 0
    assert ceiling[0].ours > 0
    assert "as fast as one thread" in ceiling[0].note


def test_bench_quick_write_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A multi-frame input gets the 1-thread vs all-threads rows: best single call and steady state.
    files = [get_testdata_file(n) for n in ("emri_small.dcm", "CT_small.dcm")]
    out = tmp_path / "bench" / "result.json"
    assert cli.main(["bench", *files, "--quick", "--suite", "write", "--repeat", "1", "--json", str(out)]) == 0
    assert "## write" in capsys.readouterr().out
    rows = [r for r in json.loads(out.read_text())["rows"] if r["suite"] == "write"]
    works = {r["work"] for r in rows}
    for codec in ("RLELossless", "JPEGLSLossless", "JPEG2000Lossless"):
        assert f"{codec}: encode multi-frame, all threads vs 1 thread" in works
        steady = [r for r in rows if r["work"] == f"{codec}: encode multi-frame, all threads vs 1 thread, steady state"]
        assert len(steady) == 1
        assert steady[0]["ours"] > 0
        assert steady[0]["peer_value"] > 0


def _record_measures(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Replace the pixels suite's timer with one that records what it times.

    dicomfast's decodes are partials of pixel_array, recorded by their threads= value (1, or None for all
    threads); any other function as "peer".
    """
    import functools

    from dicomfast.bench import pixels

    calls: list[object] = []

    def fake_measure(fn: object, repeat: int, warmup: int = 1, min_time: float = 0.0) -> float:
        calls.append(fn.keywords.get("threads") if isinstance(fn, functools.partial) else "peer")
        return 0.01

    monkeypatch.setattr(pixels, "measure", fake_measure)
    monkeypatch.setattr(pixels, "side_by_side", lambda *a, **k: None)
    return calls


def test_pixels_suite_alternates_one_thread_and_all_threads_on_multi_frame_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The 1-thread and all-threads decodes of a multi-frame file are timed in turn, three rounds, the
    # order reversed each round, so that a machine whose speed drifts weighs on both alike. (imagecodecs
    # has no RLE decoder for DICOM's RLE: it drops out of the rounds.)
    from dicomfast.bench import pixels

    calls = _record_measures(monkeypatch)
    multi = Path(get_testdata_file("emri_small_RLE.dcm"))
    pixels.measure_codecs([multi], 1, 1, codecs=["RLE"])
    ours = [c for c in calls if c != "peer"]
    assert ours == [1, None, None, 1, 1, None]


def test_pixels_suite_alternates_one_thread_and_imagecodecs(monkeypatch: pytest.MonkeyPatch) -> None:
    # dicomfast's 1-thread decode and imagecodecs' (the 1-thread target) are timed in turn, three rounds,
    # before the other peers are timed once each.
    pytest.importorskip("imagecodecs")
    from dicomfast.bench import pixels

    calls = _record_measures(monkeypatch)
    single = Path(get_testdata_file("MR_small_jpeg_ls_lossless.dcm"))
    rows = pixels.measure_codecs([single], 1, 1, codecs=["JPEG-LS"])
    assert calls[:6] == [1, "peer", "peer", 1, 1, "peer"]
    assert calls.count(1) == 3
    assert rows[0]["imagecodecs"] > 0
    assert rows[0]["dicomfast 1T"] > 0


def test_scan_compare_quotes_the_first_difference_of_the_tag_most_often_different() -> None:
    from dicomfast.bench.scan import ALL, _norm, compare

    raw = tuple("x" for _ in ALL)
    base = tuple(_norm(k, "x") for k in ALL)  # dicomfast's values as table_values gives them
    name = ALL.index("PatientName")
    date = ALL.index("StudyDate")
    ours = {f"f{i}.dcm": base for i in range(4)}
    # f1, f2: PatientName differs; f2: StudyDate too; f3: an empty IS given as 0 (a convention, not counted).
    theirs: list[tuple[object, ...]] = [("f0.dcm", *raw)]
    for path, changes in (("f1.dcm", {name: "y"}), ("f2.dcm", {name: "z", date: "20010101"})):
        theirs.append((path, *(changes.get(i, v) for i, v in enumerate(raw))))
    ours["f3.dcm"] = tuple("" if i == ALL.index("SeriesNumber") else v for i, v in enumerate(base))
    theirs.append(("f3.dcm", *(0 if i == ALL.index("SeriesNumber") else v for i, v in enumerate(raw))))
    mismatch, note = compare(ours, theirs)
    assert mismatch == (
        "2 of 4 files differ (PatientName 2, StudyDate 1); PatientName of f1.dcm: 'x' here, 'y' from the peer"
    )
    assert note == "1 files: an empty IS/DS value given as 0"
