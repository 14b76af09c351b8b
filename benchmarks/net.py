"""Network benchmark: dicomfast vs pynetdicom vs DCMTK, side by side in one run, against real peers on 127.0.0.1.

Measures
- ``C-ECHO`` round trip (median of many) against DCMTK storescp and Orthanc, for dicomfast (blocking and asyncio),
  dicomfast with TCP_QUICKACK switched off (to show where the 44 ms stall comes from), pynetdicom, and
  DCMTK echoscu (one association per echo, so its time includes the association);
- ``1,000 C-STOREs`` of pydicom's CT_small.dcm over one association to storescp: dicomfast, pynetdicom, storescu;
- ``C-FIND of 1,000 identifiers`` (IMAGE level) from Orthanc: dicomfast vs pynetdicom.

storescp writes into a tmpfs folder (/dev/shm when present) so that the disk does not hide the network.
Run: ``python -m benchmarks.net [--stores 1000] [--finds 1000] [--echoes 200]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dicomfast
from dicomfast import net
from dicomfast.net import aio
from dicomfast.net import association as _association

warnings.simplefilter("ignore")

STORESCP = "/usr/bin/storescp"
STORESCU = "/usr/bin/storescu"
ECHOSCU = "/usr/bin/echoscu"
ORTHANC = "/usr/sbin/Orthanc"
CT_SOP = "1.2.840.10008.5.1.4.1.1.2"


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
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ct_small() -> Path:
    """pydicom's CT_small.dcm."""
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("CT_small.dcm"))


def _wait_echo(port: int, aet: str, proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{aet} exited with {proc.returncode}")
        try:
            with net.connect("127.0.0.1", port, aet, timeout=1, acse_timeout=2) as a:
                a.echo()
            return
        except (OSError, net.NetworkError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"{aet} not ready after {limit} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def storescp() -> Iterator[tuple[int, Path]]:
    """DCMTK storescp on a free port, writing into a tmpfs folder; yields (port, folder)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="dfbench-scp-", dir=base) as d:
        port = free_port()
        proc = subprocess.Popen(
            [STORESCP, "-aet", "STORESCP", "-od", d, "+xa", "-pm", "-dhl", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        try:
            _wait_echo(port, "STORESCP", proc)
            yield port, Path(d)
        finally:
            _stop(proc)


@contextlib.contextmanager
def orthanc() -> Iterator[int]:
    """Orthanc with a fresh database in a temporary folder; yields its DICOM port."""
    with tempfile.TemporaryDirectory(prefix="dfbench-orthanc-") as d:
        port, http = free_port(), free_port()
        for sub in ("db", "tmp"):
            os.mkdir(os.path.join(d, sub))
        cfg = {
            "Name": "Bench",
            "StorageDirectory": f"{d}/db",
            "IndexDirectory": f"{d}/db",
            "TemporaryDirectory": f"{d}/tmp",
            "Plugins": [],
            "HttpPort": http,
            "RemoteAccessAllowed": False,
            "DicomAet": "ORTHANC",
            "DicomPort": port,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomScpTimeout": 600,
            "MaximumPduLength": 16384,
            "SaveJobs": False,
            "LimitFindResults": 0,
            "LimitFindInstances": 0,
        }
        Path(d, "orthanc.json").write_text(json.dumps(cfg))
        proc = subprocess.Popen(
            [ORTHANC, f"{d}/orthanc.json", f"--logfile={d}/orthanc.log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"http://127.0.0.1:{http}/system", timeout=1).read()
                    break
                time.sleep(0.05)
            _wait_echo(port, "ORTHANC", proc)
            yield port
        finally:
            _stop(proc)


# ------------------------------------------------------------------------------------------------ C-ECHO


def echo_dicomfast(port: int, aet: str, n: int) -> float:
    """Median C-ECHO round trip over one association, seconds."""
    with net.connect("127.0.0.1", port, aet, contexts=[net.Verification]) as a:
        a.echo()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            a.echo()
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def echo_dicomfast_no_quickack(port: int, aet: str, n: int) -> float:
    """As :func:`echo_dicomfast` with TCP_QUICKACK not re-armed: shows the delayed-ACK stall."""
    saved = _association._QUICKACK
    _association._QUICKACK = None
    try:
        return echo_dicomfast(port, aet, n)
    finally:
        _association._QUICKACK = saved


def echo_aio(port: int, aet: str, n: int) -> float:
    """Median C-ECHO round trip with the asyncio API."""

    async def run() -> float:
        async with await aio.connect("127.0.0.1", port, aet, contexts=[net.Verification]) as a:
            await a.echo()
            times = []
            for _ in range(n):
                t = time.perf_counter()
                await a.echo()
                times.append(time.perf_counter() - t)
        return statistics.median(times)

    return asyncio.run(run())


def _pynetdicom_assoc(port: int, aet: str, contexts: list[tuple[str, list[str] | None]]) -> Any:
    import logging

    from pynetdicom import AE

    logging.getLogger("pynetdicom").setLevel(logging.ERROR)
    ae = AE(ae_title="PYNETDICOM")
    for sop, ts in contexts:
        if ts is None:
            ae.add_requested_context(sop)
        else:
            ae.add_requested_context(sop, ts)
    assoc = ae.associate("127.0.0.1", port, ae_title=aet)
    if not assoc.is_established:
        raise RuntimeError("pynetdicom could not associate")
    return assoc


def echo_pynetdicom(port: int, aet: str, n: int) -> float:
    """Median C-ECHO round trip with pynetdicom over one association."""
    assoc = _pynetdicom_assoc(port, aet, [(net.Verification, None)])
    try:
        assoc.send_c_echo()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            assoc.send_c_echo()
            times.append(time.perf_counter() - t)
    finally:
        assoc.release()
    return statistics.median(times)


def echo_echoscu(port: int, aet: str, n: int) -> float:
    """Median time of one DCMTK echoscu run (connect, associate, echo, release, process start)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([ECHOSCU, "-aec", aet, "127.0.0.1", str(port)], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ------------------------------------------------------------------------------------------------ C-STORE


def store_dicomfast(port: int, n: int) -> float:
    """Seconds for ``n`` C-STOREs of CT_small over one association (file read each time, sent as stored)."""
    path = ct_small()
    ok = 0
    t = time.perf_counter()
    with net.connect("127.0.0.1", port, "STORESCP", contexts=net.storage_contexts([path])) as a:
        for _ in range(n):
            ok += a.store(path) == 0
    took = time.perf_counter() - t
    assert ok == n, f"{n - ok} C-STOREs failed"
    return took


def store_pynetdicom(port: int, n: int) -> float:
    """Seconds for ``n`` C-STOREs of CT_small with pynetdicom over one association (read with pydicom)."""
    import pydicom

    path = ct_small()
    ok = 0
    t = time.perf_counter()
    assoc = _pynetdicom_assoc(port, "STORESCP", [(CT_SOP, [dicomfast.uid.ExplicitVRLittleEndian])])
    try:
        for _ in range(n):
            ok += assoc.send_c_store(pydicom.dcmread(path)).Status == 0
    finally:
        assoc.release()
    took = time.perf_counter() - t
    assert ok == n, f"{n - ok} C-STOREs failed"
    return took


def store_storescu(port: int, n: int) -> float:
    """Seconds for DCMTK storescu sending the file ``n`` times over one association."""
    path = ct_small()
    with tempfile.TemporaryDirectory(prefix="dfbench-scu-") as d:
        files = []
        for i in range(n):  # storescu reads a list of files: links to one file
            link = Path(d, f"{i}.dcm")
            os.symlink(path, link)
            files.append(str(link))
        t = time.perf_counter()
        subprocess.run([STORESCU, "-aec", "STORESCP", "127.0.0.1", str(port), *files], check=True, capture_output=True)
        return time.perf_counter() - t


def store_to_our_server(n: int) -> float:
    """Seconds for ``n`` C-STOREs of CT_small from our client to our StorageServer (writing to tmpfs)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    path = ct_small()
    with tempfile.TemporaryDirectory(prefix="dfbench-ours-", dir=base) as d, net.StorageServer("DFSCP", 0, d) as srv:
        t = time.perf_counter()
        with net.connect("127.0.0.1", srv.port, "DFSCP", contexts=net.storage_contexts([path])) as a:
            for _ in range(n):
                assert a.store(path) == 0
        return time.perf_counter() - t


# ------------------------------------------------------------------------------------------------- C-FIND


def load_orthanc(port: int, n: int) -> None:
    """Store ``n`` copies of CT_small with new SOP Instance UIDs (one study, one series)."""
    ds = dicomfast.dcmread(ct_small())
    with net.connect("127.0.0.1", port, "ORTHANC", contexts=[(CT_SOP, [dicomfast.uid.ExplicitVRLittleEndian])]) as a:
        for i in range(n):
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.99.{i + 1}"
            st = a.store(ds)
            assert st == 0, st


FIND_QUERY = {"SOPInstanceUID": "", "PatientName": "", "StudyInstanceUID": "", "InstanceNumber": ""}


def find_dicomfast(port: int) -> tuple[float, float, int]:
    """One IMAGE-level C-FIND: (total seconds, seconds from the first response to the last, identifiers).

    Orthanc matches everything before it sends the first response, so the second figure is the part the
    client controls: receiving and decoding the identifiers.
    """
    t = time.perf_counter()
    first = None
    n = 0
    with net.connect("127.0.0.1", port, "ORTHANC", contexts=[net.QR_MODELS["S"]["find"]]) as a:
        for _s, ident in a.find(FIND_QUERY, "IMAGE"):
            if first is None:
                first = time.perf_counter()
            n += ident is not None
        last = time.perf_counter()
    return last - t, last - (first or last), n


def find_pynetdicom(port: int) -> tuple[float, float, int]:
    """As :func:`find_dicomfast` with pynetdicom."""
    import pydicom

    sop = net.QR_MODELS["S"]["find"]
    t = time.perf_counter()
    first = None
    n = 0
    assoc = _pynetdicom_assoc(port, "ORTHANC", [(sop, None)])
    ds = pydicom.Dataset()
    for k, v in FIND_QUERY.items():
        setattr(ds, k, v)
    ds.QueryRetrieveLevel = "IMAGE"
    try:
        for _s, ident in assoc.send_c_find(ds, sop):
            if first is None:
                first = time.perf_counter()
            n += ident is not None
        last = time.perf_counter()
    finally:
        assoc.release()
    return last - t, last - (first or last), n


def find_floor(port: int) -> tuple[float, float, int]:
    """The peer's own pace: the same C-FIND, its responses read as raw bytes and not decoded.

    Returns (seconds to the last byte, seconds from the first byte to the last, bytes); the end is detected
    by 0.3 s of silence, which is not counted.
    """
    from dicomfast.net import client

    sop = net.QR_MODELS["S"]["find"]
    a = net.connect("127.0.0.1", port, "ORTHANC", contexts=[sop])
    try:
        assoc = a.assoc
        ctx = assoc.context_for(sop)
        ident = client._encode_identifier(client._query(dict(FIND_QUERY), "IMAGE"), ctx.transfer_syntax)
        t = time.perf_counter()
        assoc.send_message(ctx.context_id, {0x0002: sop, 0x0100: 0x0020, 0x0110: 1, 0x0700: 0}, ident)
        sock = assoc.sock
        assert sock is not None
        sock.settimeout(0.3)
        first = last = None
        n = 0
        with contextlib.suppress(TimeoutError):
            while chunk := sock.recv(1 << 20):
                with contextlib.suppress(OSError, AttributeError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                last = time.perf_counter()
                first = first or last
                n += len(chunk)
    finally:
        a.abort()
    assert first is not None
    assert last is not None
    return last - t, last - first, n


# ------------------------------------------------------------------------------------------------- report


def machine() -> str:
    """CPU model, cores, OS, Python, library versions."""
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    dcmtk = subprocess.run([STORESCP, "--version"], capture_output=True, text=True, check=False).stdout.split("\n")
    version = next((line.strip("$ ").replace("dcmtk: ", "DCMTK ") for line in dcmtk if "dcmtk" in line), "DCMTK ?")
    try:
        import pynetdicom

        pnd = pynetdicom.__version__
    except ImportError:
        pnd = "absent"
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"dicomfast {dicomfast.__version__}, pynetdicom {pnd}, {version}, loopback 127.0.0.1, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def _ms(x: float) -> str:
    return f"{x * 1e3:.3f} ms" if x < 1 else f"{x:.2f} s"


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as e:  # a missing peer or tool gives a cell, not a crash
        return f"n/a ({type(e).__name__}: {e})"[:60]


def main(argv: list[str] | None = None) -> int:
    """Run every measure and print the Markdown table."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--stores", type=int, default=1000)
    p.add_argument("--finds", type=int, default=1000)
    p.add_argument("--echoes", type=int, default=200)
    p.add_argument("--slow-echoes", type=int, default=20, help="echoes for the peers that stall 44 ms each")
    args = p.parse_args(argv)
    for tool in (STORESCP, STORESCU, ECHOSCU, ORTHANC):
        if not shutil.which(tool):
            print(f"{tool} is absent: apt-get install -y dcmtk orthanc", file=sys.stderr)
            return 2
    rows: list[tuple[str, ...]] = []

    def ratio(a: Any, b: Any) -> str:
        return f"{b / a:.0f}x" if isinstance(a, float) and isinstance(b, float) and a > 0 else "-"

    with storescp() as (port, _folder):
        aet = "STORESCP"
        df = echo_dicomfast(port, aet, args.echoes)
        da = echo_aio(port, aet, args.echoes)
        nq = _safe(lambda: echo_dicomfast_no_quickack(port, "STORESCP", args.slow_echoes))
        pn = _safe(lambda: echo_pynetdicom(port, "STORESCP", args.slow_echoes))
        es = _safe(lambda: echo_echoscu(port, "STORESCP", 5))
        rows.append(
            (
                "C-ECHO round trip, storescp",
                _ms(df),
                f"asyncio {_ms(da)}; no QUICKACK {_ms(nq) if isinstance(nq, float) else nq}",
                _ms(pn) if isinstance(pn, float) else pn,
                f"echoscu process {_ms(es) if isinstance(es, float) else es}",
                ratio(df, pn),
            )
        )
        n = args.stores
        df = store_dicomfast(port, n)
        pn = _safe(lambda: store_pynetdicom(port, n))
        sc = _safe(lambda: store_storescu(port, n))
        rows.append(
            (
                f"{n:,} C-STOREs (CT_small, 39 KB) to storescp, one association",
                _ms(df),
                "",
                _ms(pn) if isinstance(pn, float) else pn,
                _ms(sc) if isinstance(sc, float) else sc,
                f"{ratio(df, pn)} pynetdicom, {ratio(df, sc)} storescu",
            )
        )
    ours = store_to_our_server(args.stores)
    rows.append(
        (
            f"{args.stores:,} C-STOREs to dicomfast's StorageServer (tmpfs)",
            _ms(ours),
            "client and server in Python",
            "",
            "",
            "",
        )
    )
    with orthanc() as port:
        df = echo_dicomfast(port, "ORTHANC", args.echoes)
        da = echo_aio(port, "ORTHANC", args.echoes)
        nq = _safe(lambda: echo_dicomfast_no_quickack(port, "ORTHANC", args.slow_echoes))
        pn = _safe(lambda: echo_pynetdicom(port, "ORTHANC", args.slow_echoes))
        rows.append(
            (
                "C-ECHO round trip, Orthanc",
                _ms(df),
                f"asyncio {_ms(da)}; no QUICKACK {_ms(nq) if isinstance(nq, float) else nq}",
                _ms(pn) if isinstance(pn, float) else pn,
                "",
                ratio(df, pn),
            )
        )
        t = time.perf_counter()
        load_orthanc(port, args.finds)
        load = time.perf_counter() - t
        find_dicomfast(port)  # warm Orthanc's index
        df_total, df_stream, n1 = find_dicomfast(port)
        floor_total, floor_stream, _ = find_floor(port)
        res = _safe(lambda: find_pynetdicom(port))
        pn_total, pn_stream, n2 = res if isinstance(res, tuple) else (res, res, "?")
        rows.append(
            (
                f"C-FIND, {n1:,} identifiers from Orthanc (IMAGE level): whole request",
                _ms(df_total),
                f"peer floor (raw bytes, no decoding) {_ms(floor_total)}; {args.finds:,} stored in {_ms(load)}",
                _ms(pn_total) if isinstance(pn_total, float) else pn_total,
                f"({n2} identifiers)",
                ratio(df_total, pn_total),
            )
        )
        rows.append(
            (
                "C-FIND, same: first response to last (Orthanc matches before it answers)",
                _ms(df_stream),
                f"{df_stream / max(n1, 1) * 1e6:.0f} us per identifier; peer floor {_ms(floor_stream)}",
                _ms(pn_stream) if isinstance(pn_stream, float) else pn_stream,
                "",
                ratio(df_stream, pn_stream),
            )
        )
    print(f"Machine: {machine()}\n")
    print("| measure | dicomfast | dicomfast (other) | pynetdicom | DCMTK | dicomfast speed-up |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
