"""The command line: ``dicomfast dump`` and ``python -m dicomfast``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dicomfast import cli

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402


def test_dump_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["dump"]) == 0
    out = capsys.readouterr().out
    assert "(0010,0010) PN [Sample^Patient]" in out
    assert "(0002,0010) UI [1.2.840.10008.1.2.1]" in out
    assert "(fffe,e000) na (Item #1 with 3 elements)" in out
    assert "    (0008,0104) LO [Head]" in out


def test_dump_nested_and_width(capsys: pytest.CaptureFixture[str]) -> None:
    path = get_testdata_file("rtplan.dcm")
    assert cli.main(["dump", "--width", "20", path]) == 0
    out = capsys.readouterr().out
    assert "(300a,00b0) SQ (Sequence with" in out
    assert "BeamSequence" in out
    for line in out.splitlines():
        if line.startswith("(") and "[" in line:
            value = line.split(" ", 2)[2].split(" #")[0].strip()
            assert len(value) <= 20, line


def test_dump_error_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not dicom")
    assert cli.main(["dump", str(bad)]) == 1
    assert "error" in capsys.readouterr().err


def test_python_m_dicomfast() -> None:
    out = subprocess.run([sys.executable, "-m", "dicomfast", "dump"], capture_output=True, text=True, check=True)
    assert "Sample^Patient" in out.stdout


def test_convert_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(get_testdata_file("CT_small.dcm"), src / "a.dcm")
    shutil.copy(get_testdata_file("MR_small.dcm"), src / "sub" / "b.dcm")
    (src / "junk.txt").write_text("not dicom")
    out = tmp_path / "out"
    assert cli.main(["convert", str(src), str(out), "-t", "JPEGLSLossless", "-q"]) == 1
    assert "2 converted, 1 failed" in capsys.readouterr().out
    import dicomfast

    for name, ref in (("a.dcm", "CT_small.dcm"), ("sub/b.dcm", "MR_small.dcm")):
        ds = dicomfast.dcmread(out / name)
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.80"
        assert (ds.pixel_array == dicomfast.dcmread(get_testdata_file(ref)).pixel_array).all()
    assert not (out / "junk.txt").exists()


def test_convert_lossy_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dicomfast

    src = get_testdata_file("MR_small.dcm")
    orig = dicomfast.dcmread(src)
    out = tmp_path / "near.dcm"
    assert cli.main(["convert", src, str(out), "-t", "JPEGLSNearLossless", "--jls-error", "4", "-q"]) == 0
    ds = dicomfast.dcmread(out)
    assert int(abs(ds.pixel_array.astype(int) - orig.pixel_array.astype(int)).max()) == 4
    assert ds.SOPInstanceUID != orig.SOPInstanceUID  # lossy: a new instance by default
    layered = tmp_path / "layers.dcm"
    args = ["convert", src, str(layered), "-t", "JPEG2000", "--j2k-cr", "40,10", "--keep-uid", "-q"]
    assert cli.main(args) == 0
    ds = dicomfast.dcmread(layered)
    assert ds.SOPInstanceUID == orig.SOPInstanceUID
    assert "40:1, 10:1" in ds.DerivationDescription
    capsys.readouterr()
    # a setting the transfer syntax has no use for is refused before any file is written
    assert cli.main(["convert", src, str(tmp_path / "x.dcm"), "-t", "RLELossless", "--jpeg-quality", "80"]) == 2
    assert "jpeg_quality applies to" in capsys.readouterr().err
    assert not (tmp_path / "x.dcm").exists()
