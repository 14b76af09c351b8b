"""The echo / find / store / get / move commands and their exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

import dicomfast
from dicomfast import net
from dicomfast.cli import main
from tests.net.conftest import Peer, free_port, sample

pytestmark = pytest.mark.network


def test_echo(storescp: Peer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["echo", "127.0.0.1", str(storescp.port), "--aec", "STORESCP", "-n", "5"]) == 0
    assert "status 0x0000" in capsys.readouterr().out


def test_echo_refused_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["echo", "127.0.0.1", str(free_port()), "--timeout", "2"]) == 3
    assert "error:" in capsys.readouterr().err


def test_rejected_exits_3(dcmqrscp: Peer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["echo", "127.0.0.1", str(dcmqrscp.port), "--aec", "NOT-QRSCP"]) == 3
    assert "called AE title not recognised" in capsys.readouterr().err


def test_store_find_get_move(
    orthanc: Peer,
    orthanc_loaded: dict[str, Path],
    move_server: net.StorageServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ct = dicomfast.dcmread(sample("CT_small.dcm"), stop_before_pixels=True)
    base = ["127.0.0.1", str(orthanc.port), "--aec", "ORTHANC"]
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (folder / name).write_bytes(sample(name).read_bytes())
    assert main(["store", *base, str(folder)]) == 0
    assert "2 stored, 0 failed" in capsys.readouterr().err

    assert (
        main(["find", *base, "-P", "-L", "PATIENT", "-k", "PatientName=CompressedSamples^CT1", "-k", "PatientID="]) == 0
    )
    out = capsys.readouterr()
    assert "PatientID=1CT1" in out.out
    assert "1 matches" in out.err

    assert main(["find", *base, "-k", "PatientID=1CT1", "-k", "StudyInstanceUID=", "--json"]) == 0
    assert ct.StudyInstanceUID in capsys.readouterr().out

    out_dir = tmp_path / "got"
    assert main(["get", *base, "-L", "IMAGE", "-k", f"SOPInstanceUID={ct.SOPInstanceUID}", "-o", str(out_dir)]) == 0
    assert (out_dir / f"{ct.SOPInstanceUID}.dcm").is_file()

    assert main(["move", *base, "-L", "IMAGE", "-k", f"SOPInstanceUID={ct.SOPInstanceUID}", "--dest", "DFSTORE"]) == 0
    assert "1 completed" in capsys.readouterr().err
    assert main(["move", *base, "-L", "PATIENT", "-P", "-k", "PatientID=1CT1", "--dest", "NOSUCHAE"]) == 1


def test_store_unacceptable_file_exits_1(storescp: Peer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notdicom.dcm"
    bad.write_bytes(b"hello")
    assert main(["store", "127.0.0.1", str(storescp.port), str(bad), str(sample("CT_small.dcm"))]) == 1
    assert "1 stored, 1 failed" in capsys.readouterr().err


def test_store_more_classes_than_one_association_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """140 SOP classes need 141 presentation contexts: the files are sent over two associations."""
    import struct

    from dicomfast.net.server import file_meta_bytes

    src = tmp_path / "src"
    src.mkdir()
    for i in range(140):
        sop, inst = f"1.2.826.0.1.3680043.8.498.7.{i}", f"1.2.826.0.1.3680043.8.498.8.{i}"
        body = b"".join(
            struct.pack("<HH2sH", 8, el, b"UI", len(v)) + v
            for el, v in (
                (0x16, sop.encode().ljust(len(sop) + len(sop) % 2, b"\0")),
                (0x18, inst.encode().ljust(len(inst) + len(inst) % 2, b"\0")),
            )
        )
        (src / f"{i}.dcm").write_bytes(file_meta_bytes(sop, inst, "1.2.840.10008.1.2.1") + body)
    with net.StorageServer("DFSCP", 0, directory=tmp_path / "in") as server:
        assert main(["store", "127.0.0.1", str(server.port), "--aec", "DFSCP", str(src)]) == 0
        assert server.received == 140
    assert "140 stored, 0 failed" in capsys.readouterr().err
