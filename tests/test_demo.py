"""``dicomfast demo``: the README's main job runs end to end and reports every step."""

from __future__ import annotations

from pathlib import Path

import pytest

import dicomfast
from dicomfast import cli
from dicomfast.demo import SERIES, make_archive


def test_demo_runs_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "archive"
    assert cli.main(["demo", "--out", str(out), "--no-compare"]) == 0
    text = capsys.readouterr().out
    n = 3 * sum(s[2] for s in SERIES)
    assert f"archive   {n} files" in text
    assert f"scan      {n} rows" in text
    assert f"{n} ok" in text
    assert "volumes   15 series" in text
    for ts in ("RLELossless", "JPEG2000Lossless", "JPEGLSLossless", "JPEGLosslessSV1", "ExplicitVRLittleEndian"):
        assert ts in text
    files = sorted(out.rglob("*.dcm"))
    assert len(files) == n


def test_archive_is_valid_and_lossless(tmp_path: Path) -> None:
    paths = make_archive(tmp_path, patients=1)
    by_series: dict[str, list[Path]] = {}
    for p in paths:
        by_series.setdefault(p.parent.name, []).append(p)
    first = [dicomfast.dcmread(v[0]) for v in by_series.values()]
    # The same phantom slice generator feeds every series: lossless codecs must give back the stored values.
    for ds in first:
        arr = ds.pixel_array
        assert arr.dtype.kind == "u"
        assert arr.shape == (int(ds.Rows), int(ds.Columns))
        assert ds.file_meta.TransferSyntaxUID in {
            "1.2.840.10008.1.2.1",
            "1.2.840.10008.1.2.5",
            "1.2.840.10008.1.2.4.90",
            "1.2.840.10008.1.2.4.80",
            "1.2.840.10008.1.2.4.70",
        }
    pydicom = pytest.importorskip("pydicom")
    for v in by_series.values():
        ref = pydicom.dcmread(v[3])
        ours = dicomfast.dcmread(v[3])
        assert (ref.pixel_array == ours.pixel_array).all()
        assert ref.ImagePositionPatient == ours.ImagePositionPatient
