"""StorageServer: fed by our client, by DCMTK storescu / echoscu and by pynetdicom."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dicomfast import net
from dicomfast.net.client import file_uids
from tests.net.conftest import need, sample
from tests.net.test_faults import big_file

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("no_leaks")]

STORESCU = "/usr/bin/storescu"
ECHOSCU = "/usr/bin/echoscu"


def data_set(path: Path) -> bytes:
    raw = path.read_bytes()
    return raw[file_uids(raw)[3] :]


def test_files_are_written_as_received(tmp_path: Path) -> None:
    files = [sample(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm")]
    out = tmp_path / "in"
    with net.StorageServer("DFSCP", 0, directory=out) as server:
        with net.connect("127.0.0.1", server.port, "DFSCP", contexts=net.storage_contexts(files)) as a:
            for f in files:
                assert a.store(f) == 0
        assert server.received == len(files)
    for f in files:
        inst = file_uids(f.read_bytes())[1]
        got = out / f"{inst}.dcm"
        assert data_set(got) == data_set(f)  # the data set bytes exactly as sent
        assert file_uids(got.read_bytes())[2] == file_uids(f.read_bytes())[2]
    assert sorted(p.suffix for p in out.iterdir()) == [".dcm"] * len(files)


def test_large_file_from_a_memory_map(tmp_path: Path) -> None:
    src = tmp_path / "big.dcm"
    src.write_bytes(big_file(24 << 20))  # above the 16 MiB threshold: sent from a read-only mmap
    with net.StorageServer("DFSCP", 0, directory=tmp_path / "in") as server:
        with net.connect("127.0.0.1", server.port, "DFSCP") as a:
            assert a.store(src) == 0
    assert data_set(tmp_path / "in" / "1.2.3.4.5.6.dcm") == data_set(src)


def test_handler_status_and_errors() -> None:
    seen: list[str] = []

    def handler(event: net.StoreEvent) -> int | None:
        seen.append(event.dataset.PatientID)
        if event.dataset.PatientID == "4MR1":
            return 0xA700  # out of resources
        if event.sop_class_uid == "1.2.840.10008.5.1.4.1.1.481.5":
            raise RuntimeError("no RT plans here")
        return None

    with net.StorageServer("DFSCP", 0, handler=handler) as server:
        with net.connect("127.0.0.1", server.port, "DFSCP") as a:
            assert a.store(sample("CT_small.dcm")) == 0
            failed = a.store(sample("MR_small.dcm"))
            assert failed == 0xA700
            assert failed.category == "Failure"
            assert a.store(sample("rtplan.dcm")) == 0xC211
            assert a.echo() == 0
    assert seen == ["1CT1", "4MR1", "id00001"]


def test_query_contexts_are_refused(tmp_path: Path) -> None:
    with net.StorageServer("DFSCP", 0, directory=tmp_path) as server:
        with net.connect("127.0.0.1", server.port, "DFSCP") as a:
            accepted = {s for s, _ in a.accepted_contexts}
            assert net.Verification in accepted
            assert "1.2.840.10008.5.1.4.1.1.2" in accepted
            assert not accepted & {u for m in net.QR_MODELS.values() for u in m.values()}


def test_dcmtk_clients(tmp_path: Path) -> None:
    need(STORESCU, "dcmtk")
    files = [sample("CT_small.dcm"), sample("MR_small.dcm")]
    with net.StorageServer("DFSCP", 0, directory=tmp_path) as server:
        echo = subprocess.run(
            [ECHOSCU, "-aec", "DFSCP", "127.0.0.1", str(server.port)], capture_output=True, timeout=30, check=False
        )
        assert echo.returncode == 0, echo.stderr
        store = subprocess.run(
            [STORESCU, "-aec", "DFSCP", "127.0.0.1", str(server.port), *map(str, files)],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert store.returncode == 0, store.stderr
    import pydicom

    for f in files:
        ref = pydicom.dcmread(f)
        got = pydicom.dcmread(tmp_path / f"{ref.SOPInstanceUID}.dcm")
        ref.pop(0xFFFCFFFC, None)
        got.pop(0xFFFCFFFC, None)
        assert got == ref


def test_pynetdicom_client(tmp_path: Path) -> None:
    pynetdicom = pytest.importorskip("pynetdicom")
    import pydicom

    with net.StorageServer("DFSCP", 0, directory=tmp_path) as server:
        ae = pynetdicom.AE(ae_title="PYNETDICOM")
        ae.add_requested_context(net.Verification)
        ae.add_requested_context("1.2.840.10008.5.1.4.1.1.4")
        assoc = ae.associate("127.0.0.1", server.port, ae_title="DFSCP")
        assert assoc.is_established
        try:
            assert assoc.send_c_echo().Status == 0
            ds = pydicom.dcmread(sample("MR_small.dcm"))
            assert assoc.send_c_store(ds).Status == 0
        finally:
            assoc.release()
        ae.shutdown()
    assert pydicom.dcmread(tmp_path / f"{ds.SOPInstanceUID}.dcm").PatientID == "4MR1"
