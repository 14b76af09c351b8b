"""Fixtures for the network tests: real peers (DCMTK storescp / dcmqrscp, Orthanc) and scripted fake peers.

Every peer listens on 127.0.0.1 (DCMTK and Orthanc bind 0.0.0.0: they have no bind option) on a free
ephemeral port, is polled for readiness in a bounded loop, and is stopped at teardown. A missing binary
skips the tests that need it with a message saying what to install.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dicomfast import net
from dicomfast.net.client import file_uids

STORESCP = "/usr/bin/storescp"
DCMQRSCP = "/usr/bin/dcmqrscp"
ECHOSCU = "/usr/bin/echoscu"
ORTHANC = "/usr/sbin/Orthanc"
HERE = Path(__file__).resolve().parent
CORPUS_MANIFEST = HERE.parent.parent.parent / "shared" / "corpus" / "MANIFEST.tsv"


try:  # Linux: peers started here get SIGTERM if this process dies without its teardown
    import ctypes

    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except (OSError, ImportError):
    _LIBC = None


def die_with_parent() -> None:
    """``preexec_fn``: ask the kernel to send SIGTERM to the child when its parent dies (PR_SET_PDEATHSIG)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need(path: str, package: str) -> None:
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is absent: install Debian's {package} (apt-get install -y {package})")


def wait_echo(port: int, aet: str, proc: subprocess.Popen[bytes], log: Path, limit: float = 15.0) -> None:
    """Poll with C-ECHO until the peer answers (bounded)."""
    deadline = time.monotonic() + limit
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"peer exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with net.connect("127.0.0.1", port, aet, "PROBE", timeout=1, acse_timeout=2, dimse_timeout=2) as a:
                a.echo()
            return
        except (OSError, net.NetworkError, TimeoutError) as e:
            last = e
            time.sleep(0.05)
    raise RuntimeError(f"peer on port {port} not ready after {limit} s: {last}")


def stop(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM, wait (bounded), then SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def sample(name: str) -> Path:
    pydicom_data = pytest.importorskip("pydicom.data")
    return Path(pydicom_data.get_testdata_file(name))


# ----------------------------------------------------------------------------------------- real peers


class Peer:
    def __init__(self, port: int, aet: str, directory: Path, proc: subprocess.Popen[bytes], log: Path):
        self.port, self.aet, self.directory, self.proc, self.log = port, aet, directory, proc, log

    def connect(self, **kw: object) -> net.ClientAssociation:
        return net.connect("127.0.0.1", self.port, self.aet, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def storescp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """DCMTK storescp accepting every transfer syntax and SOP class (``+xa -pm``)."""
    need(STORESCP, "dcmtk")
    work = tmp_path_factory.mktemp("storescp")
    out = work / "in"
    out.mkdir()
    port = free_port()
    log = work / "storescp.log"
    with log.open("wb") as f:
        proc = subprocess.Popen(
            [STORESCP, "-aet", "STORESCP", "-od", str(out), "+xa", "-pm", "-dhl", str(port)],
            stdout=f,
            stderr=f,
            preexec_fn=die_with_parent,
        )
    try:
        wait_echo(port, "STORESCP", proc, log)
        yield Peer(port, "STORESCP", out, proc, log)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def move_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[net.StorageServer]:
    """Our StorageServer, as C-MOVE destination ``DFSTORE`` of dcmqrscp and Orthanc."""
    d = tmp_path_factory.mktemp("dfstore")
    with net.StorageServer("DFSTORE", 0, directory=d) as server:
        yield server


def dcmqrscp_profile() -> str:
    """A DCMTK association profile: Q/R in, our storage classes out with any transfer syntax and the SCP role."""
    ts = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"]
    qr = [net.Verification, *[u for m in net.QR_MODELS.values() for u in m.values()]]
    lines = ["[[TransferSyntaxes]]", "[Uncompressed]"]
    lines += [f"TransferSyntax{i + 1} = {t}" for i, t in enumerate(ts)]
    lines += ["[[PresentationContexts]]", "[QRIn]"]
    ctx = [*qr, *net.STORAGE_CLASSES]
    lines += [f"PresentationContext{i + 1} = {u}\\Uncompressed" for i, u in enumerate(ctx)]
    lines += ["[QROut]"]
    lines += [f"PresentationContext{i + 1} = {u}\\Uncompressed" for i, u in enumerate(net.STORAGE_CLASSES)]
    lines += ["[[SCPSCURoleSelection]]", "[QRRoles]"]
    lines += [f"Role{i + 1} = {u}\\SCP" for i, u in enumerate(net.STORAGE_CLASSES)]
    lines += ["[[Profiles]]", "[QRIn]", "PresentationContexts = QRIn", "SCPSCURoleSelection = QRRoles"]
    lines += ["[QROut]", "PresentationContexts = QROut"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def dcmqrscp(tmp_path_factory: pytest.TempPathFactory, move_server: net.StorageServer) -> Iterator[Peer]:
    """DCMTK dcmqrscp (fork mode) with AE ``QRSCP``; move destinations DFSTORE (our server) and STORESCP."""
    need(DCMQRSCP, "dcmtk")
    work = tmp_path_factory.mktemp("dcmqrscp")
    (work / "db" / "QRSCP").mkdir(parents=True)
    port = free_port()
    (work / "dcmqrscp.cfg").write_text(
        f"""NetworkTCPPort  = {port}
MaxPDUSize      = 16384
MaxAssociations = 16

HostTable BEGIN
dfstore  = (DFSTORE, 127.0.0.1, {move_server.port})
nowhere  = (NOWHERE, 127.0.0.1, {free_port()})
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
QRSCP   {work / "db" / "QRSCP"}   RW  (200, 1024mb)  ANY
AETable END
"""
    )
    profile = work / "assoc.cfg"
    profile.write_text(dcmqrscp_profile())
    log = work / "dcmqrscp.log"
    with log.open("wb") as f:
        proc = subprocess.Popen(
            [DCMQRSCP, "-c", str(work / "dcmqrscp.cfg"), "-dhl", "-xf", str(profile), "QRIn", "QROut"],
            stdout=f,
            stderr=f,
            cwd=work,
            preexec_fn=die_with_parent,
        )
    try:
        wait_echo(port, "QRSCP", proc, log)
        yield Peer(port, "QRSCP", work / "db" / "QRSCP", proc, log)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory, move_server: net.StorageServer) -> Iterator[Peer]:
    """Orthanc with a fresh database, every DicomAlwaysAllow* flag set, DFSTORE as a modality."""
    need(ORTHANC, "orthanc")
    work = tmp_path_factory.mktemp("orthanc")
    (work / "db").mkdir()
    (work / "tmp").mkdir()
    port, http = free_port(), free_port()
    cfg = {
        "Name": "TestOrthanc",
        "StorageDirectory": str(work / "db"),
        "IndexDirectory": str(work / "db"),
        "TemporaryDirectory": str(work / "tmp"),
        "Plugins": [],
        "LuaScripts": [],
        "HttpServerEnabled": True,
        "HttpPort": http,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "SslEnabled": False,
        "DicomServerEnabled": True,
        "DicomAet": "ORTHANC",
        "DicomPort": port,
        "DicomCheckCalledAet": False,
        "DicomCheckModalityHost": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowGet": True,
        "DicomAlwaysAllowMove": True,
        "UnknownSopClassAccepted": False,
        "DicomScpTimeout": 120,
        "DicomScuTimeout": 10,
        "MaximumPduLength": 16384,
        "DicomModalities": {"dfstore": ["DFSTORE", "127.0.0.1", move_server.port]},
        "DicomModalitiesInDatabase": False,
        "SynchronousCMove": True,
        "SaveJobs": False,
        "OverwriteInstances": True,
        "StorageCompression": False,
        "LimitFindResults": 0,
        "LimitFindInstances": 0,
    }
    (work / "orthanc.json").write_text(json.dumps(cfg, indent=1))
    log = work / "orthanc.log"
    with (work / "stdout.log").open("wb") as f:
        proc = subprocess.Popen(
            [ORTHANC, str(work / "orthanc.json"), f"--logfile={log}"], stdout=f, stderr=f, preexec_fn=die_with_parent
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {proc.returncode}: {(work / 'stdout.log').read_text()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http}/system", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        wait_echo(port, "ORTHANC", proc, log)
        peer = Peer(port, "ORTHANC", work / "db", proc, log)
        peer.http = http  # type: ignore[attr-defined]
        yield peer
    finally:
        stop(proc)


def orthanc_rest(peer: Peer, method: str, path: str, body: object = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{peer.http}{path}", data=data, method=method)  # type: ignore[attr-defined]
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


# ------------------------------------------------------------------------------------------ test data

SAMPLES = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm"]
# corpus files that no peer accepts as they are (checked with pynetdicom too), with the reason
UNSTORABLE = {
    "fodicom__GH364.dcm": "SOP Instance UID longer than 64 characters",
    "weasis__img_jpeg2000-multiframe-multifragments.dcm": "SOP Instance UID longer than 64 characters",
    "highdicom__dx_image.dcm": "odd-length data set: DCMTK refuses the last fragment",
    "orthanc__2021-02-19-MalaterreCP246.dcm": "every element written as UN: Orthanc answers 0xC000",
}


def same_elements(a: Path, b: Path) -> bool:
    """pydicom finds the same elements in both files, Data Set Trailing Padding aside."""
    import pydicom

    x, y = pydicom.dcmread(a), pydicom.dcmread(b)
    x.pop(0xFFFCFFFC, None)
    y.pop(0xFFFCFFFC, None)
    return bool(x == y)


def data_set_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return raw[file_uids(raw)[3] :]


def corpus_for_peers(limit_bytes: int = 600_000) -> list[Path]:
    """Small corpus files that pydicom decodes, that have a Part 10 header and SOP UIDs in their data set."""
    if not CORPUS_MANIFEST.is_file():
        return []
    with CORPUS_MANIFEST.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        p = CORPUS_MANIFEST.parent / r["file"]
        if r["file"] in UNSTORABLE or r["pydicom_decodes"] != "yes" or "truncat" in r["notes"]:
            continue
        if not p.is_file() or p.stat().st_size > limit_bytes:
            continue
        sop, inst, _ts, offset = file_uids(p.read_bytes())
        if offset > 0 and sop and inst:
            out.append(p)
    return out


def chunks_by_contexts(files: list[Path], limit: int = 120) -> list[list[Path]]:
    """Split files into groups whose storage contexts fit one association."""
    out: list[list[Path]] = [[]]
    for f in files:
        out[-1].append(f)
        if len(net.storage_contexts(out[-1])) > limit:
            out[-1].pop()
            out.append([f])
    return [c for c in out if c]


NOT_ACCEPTED: list[str] = []
TRANSCODED: set[str] = set()


@pytest.fixture(scope="session")
def orthanc_loaded(orthanc: Peer) -> dict[str, Path]:
    """Orthanc holding pydicom's samples and the small corpus files: SOP Instance UID -> file."""
    files = corpus_for_peers() + [sample(n) for n in SAMPLES]  # samples last: the corpus holds copies of them
    stored: dict[str, Path] = {}
    for chunk in chunks_by_contexts(files):
        with orthanc.connect(contexts=net.storage_contexts(chunk)) as a:
            accepted = {(s, t) for s, t in a.accepted_contexts}
            for f in chunk:
                sop, inst, ts, _ = file_uids(f.read_bytes())
                if (sop, ts) not in accepted and not any(s == sop for s, _t in accepted):
                    NOT_ACCEPTED.append(f.name)  # a SOP class Orthanc does not accept
                    continue
                status = a.store(f)
                assert status == 0, f"{f.name}: {status!r}"
                stored[inst] = f
                if (sop, ts) in accepted:
                    TRANSCODED.discard(inst)
                else:
                    TRANSCODED.add(inst)  # e.g. HTJ2K, which Orthanc refuses: decompressed through the core
    return stored


# ------------------------------------------------------------------------------------------ fake peers


class FakePeer:
    """A scripted peer: ``script(conn)`` runs on a thread for the first connection, then the socket closes."""

    def __init__(self, script: Callable[[socket.socket], None], accept: bool = True) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.script = script
        self.error: BaseException | None = None
        self.conn: socket.socket | None = None
        self.thread: threading.Thread | None = None
        if accept:
            self.thread = threading.Thread(target=self._run, name="fake-peer", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.conn = conn
        conn.settimeout(10)
        try:
            self.script(conn)
        except OSError:
            pass
        except BaseException as e:
            self.error = e
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()
        if self.thread is not None:
            self.thread.join(15)
            assert not self.thread.is_alive(), "fake peer thread did not end"


def recv_pdu(conn: socket.socket) -> tuple[int, bytes]:
    """Read one PDU from a fake peer's connection: (type, body)."""

    def exact(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    head = exact(6)
    n = int.from_bytes(head[2:6], "big")
    return head[0], exact(n)


@pytest.fixture
def fake_peer() -> Iterator[Callable[..., FakePeer]]:
    peers: list[FakePeer] = []

    def make(script: Callable[[socket.socket], None], accept: bool = True) -> FakePeer:
        p = FakePeer(script, accept)
        peers.append(p)
        return p

    yield make
    for p in peers:
        p.close()


def open_sockets() -> int:
    """How many sockets this process holds (Linux /proc), or -1 elsewhere."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return -1
    n = 0
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd).startswith("socket:"):
                n += 1
    return n


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail when a test leaves a thread or a socket behind."""
    threads = set(threading.enumerate())
    sockets = open_sockets()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
        if not extra and open_sockets() <= sockets:
            break
        time.sleep(0.02)
    extra = [t.name for t in threading.enumerate() if t not in threads and t.is_alive()]
    assert not extra, f"threads left behind: {extra}"
    assert open_sockets() <= sockets, f"sockets left behind: {open_sockets() - sockets}"


def has_binary(path: str) -> bool:
    return os.access(path, os.X_OK) and shutil.which(path) is not None
