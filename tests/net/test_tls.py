"""TLS (PS3.15 Annex B.1): echo and store to peers with a self-signed certificate; a refused handshake."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dicomfast import net
from tests.net.conftest import STORESCP, die_with_parent, free_port, need, sample, stop

pytestmark = pytest.mark.network


SUBJECT = ["-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost and its key (made with the openssl command)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is absent (apt-get install -y openssl)")
    d = tmp_path_factory.mktemp("tls")
    key, cert = d / "key.pem", d / "cert.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, cert


def client_context(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture
def tls_server(certificate: tuple[Path, Path], tmp_path: Path) -> Iterator[net.StorageServer]:
    key, cert = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    with net.StorageServer("TLSSCP", 0, directory=tmp_path, tls=ctx) as server:
        yield server


@pytest.mark.usefixtures("no_leaks")
def test_echo_and_store_over_tls_to_our_server(tls_server: net.StorageServer, certificate: tuple[Path, Path]) -> None:
    with net.connect("127.0.0.1", tls_server.port, "TLSSCP", tls=client_context(certificate[1])) as a:
        assert isinstance(a.assoc.sock, ssl.SSLSocket)
        assert a.echo() == 0
        assert a.store(sample("CT_small.dcm")) == 0
    assert tls_server.directory is not None
    assert len(list(tls_server.directory.glob("*.dcm"))) == 1


@pytest.mark.usefixtures("no_leaks")
def test_untrusted_certificate_is_refused(tls_server: net.StorageServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        net.connect("127.0.0.1", tls_server.port, "TLSSCP", tls=ssl.create_default_context(), timeout=5)


@pytest.mark.usefixtures("no_leaks")
def test_plain_client_to_tls_server_fails_cleanly(tls_server: net.StorageServer) -> None:
    with pytest.raises((net.AssociationAbortedError, TimeoutError, net.PDUError)):
        net.connect("127.0.0.1", tls_server.port, "TLSSCP", timeout=2, acse_timeout=2)


def test_echo_and_store_over_tls_to_dcmtk(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    need(STORESCP, "dcmtk")
    key, cert = certificate
    port = free_port()
    log = tmp_path / "storescp.log"
    with log.open("wb") as f:
        proc = subprocess.Popen(
            [STORESCP, "+tls", str(key), str(cert), "-ic", "-aet", "TLSSCP", "-od", str(tmp_path), "-pm", str(port)],
            stdout=f,
            stderr=f,
            preexec_fn=die_with_parent,
        )
    try:
        if "unknown option" in log.read_text() or proc.poll() is not None:
            pytest.skip(f"this storescp has no TLS support: {log.read_text()[-300:]}")
        ctx = client_context(cert)
        _wait_tls(port, ctx, proc, log)
        with net.connect("127.0.0.1", port, "TLSSCP", tls=ctx) as a:
            assert a.echo() == 0
            assert a.store(sample("CT_small.dcm")) == 0
        with pytest.raises(ssl.SSLCertVerificationError):
            net.connect("127.0.0.1", port, "TLSSCP", tls=ssl.create_default_context(), timeout=5)
    finally:
        stop(proc)
    assert list(tmp_path.glob("CT.*"))


def _wait_tls(port: int, ctx: ssl.SSLContext, proc: subprocess.Popen[bytes], log: Path) -> None:
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            with net.connect("127.0.0.1", port, "TLSSCP", tls=ctx, timeout=1, acse_timeout=2) as a:
                a.echo()
            return
        except (OSError, net.NetworkError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError("storescp +tls not ready")
