"""Suite ``net``: dicomfast's network client against pynetdicom and DCMTK, with real peers on 127.0.0.1.

Measures (each only when its peer is installed; otherwise one row says what is missing):

- ``C-ECHO`` round trip over one association to DCMTK ``storescp``: dicomfast (blocking and asyncio),
  dicomfast with TCP_QUICKACK not re-armed (the 44 ms delayed-ACK stall), pynetdicom, and DCMTK ``echoscu``
  (one process and one association per echo);
- N C-STOREs of pydicom's CT_small.dcm (39 KB) over one association to ``storescp`` (1,000; 100 with
  ``--quick``): dicomfast, pynetdicom, DCMTK ``storescu``; and the same client into dicomfast's own
  ``StorageServer`` against ``storescp`` as the server;
- an IMAGE-level C-FIND returning many identifiers (1,000; 200 with ``--quick``) from Orthanc: dicomfast vs
  pynetdicom, runs interleaved, the identifiers compared, and two floors: the peer's own pace (its responses
  read as raw bytes) and Orthanc's CPU time per request. The query (:data:`FIND_QUERY`: SOP Instance UID,
  Patient's Name, Study Instance UID, Instance Number, all of them Orthanc "main DICOM tags") and the peer's
  settings (:data:`ORTHANC_FIND_CONFIG`: answers from the index, ``StorageAccessOnFind`` "Never") are those of
  an archive tuned for queries; the index and the files stay on disk.

Peers listen on 127.0.0.1 on ephemeral ports, write into temporary folders (``storescp`` into tmpfs so the
disk does not hide the network), die with this process (PR_SET_PDEATHSIG) and are always stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dicomfast
from dicomfast import net
from dicomfast.bench.core import Config, Row, have, measure
from dicomfast.net import aio
from dicomfast.net import association as _association

STORESCP = "/usr/bin/storescp"
STORESCU = "/usr/bin/storescu"
ECHOSCU = "/usr/bin/echoscu"
ORTHANC = "/usr/sbin/Orthanc"
CT_SOP = "1.2.840.10008.5.1.4.1.1.2"
FIND_QUERY = {"SOPInstanceUID": "", "PatientName": "", "StudyInstanceUID": "", "InstanceNumber": ""}


try:  # Linux: peers started here get SIGTERM if this process dies without its teardown
    import ctypes

    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except (OSError, ImportError):
    _LIBC = None


def installed(tool: str) -> bool:
    """Whether an executable exists at ``tool``."""
    return os.access(tool, os.X_OK)


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
    """The file that every C-STORE sends: pydicom's CT_small.dcm."""
    from pydicom.data import get_testdata_file

    return Path(str(get_testdata_file("CT_small.dcm")))


def _wait_echo(port: int, aet: str, proc: subprocess.Popen[bytes], limit: float = 60.0) -> None:
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
    """DCMTK storescp on a free port, writing into a tmpfs folder, always stopped.

    Yields
    ------
    tuple[int, Path]
        ``(port, folder)``.
    """
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


ORTHANC_FIND_CONFIG: dict[str, Any] = {
    # answer C-FIND from the index only, as Orthanc's guide to scalability advises for large archives;
    # FIND_QUERY asks only for main DICOM tags, so the answers are the same as with the default "Always"
    "StorageAccessOnFind": "Never",
    "LimitFindResults": 0,
    "LimitFindInstances": 0,
}
"""The C-FIND settings of the bench's Orthanc (index and storage stay on disk, default log level)."""


@contextlib.contextmanager
def orthanc_process(**options: Any) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Orthanc with a fresh database in a temporary folder, always stopped.

    Parameters
    ----------
    **options
        Configuration keys that replace the bench's (e.g. ``StorageAccessOnFind="Always"``).

    Yields
    ------
    tuple[int, subprocess.Popen]
        Its DICOM port (AE title ``ORTHANC``) and its process (for its CPU time).
    """
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
            **ORTHANC_FIND_CONFIG,
            **options,
        }
        Path(d, "orthanc.json").write_text(json.dumps(cfg))
        proc = subprocess.Popen(
            [ORTHANC, f"{d}/orthanc.json", f"--logfile={d}/orthanc.log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"http://127.0.0.1:{http}/system", timeout=1).read()
                    break
                time.sleep(0.05)
            _wait_echo(port, "ORTHANC", proc)
            yield port, proc
        finally:
            _stop(proc)


@contextlib.contextmanager
def orthanc(**options: Any) -> Iterator[int]:
    """As :func:`orthanc_process`, yielding only the DICOM port."""
    with orthanc_process(**options) as (port, _proc):
        yield port


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds used so far by process ``pid`` (all its threads); ``None`` off Linux."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


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
    """Median C-ECHO round trip with the asyncio API, seconds."""

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
    """Median C-ECHO round trip with pynetdicom over one association, seconds."""
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
    """Median time of one DCMTK echoscu run (process start, connect, associate, echo, release), seconds."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([ECHOSCU, "-aec", aet, "127.0.0.1", str(port)], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ------------------------------------------------------------------------------------------------ C-STORE


def store_dicomfast(port: int, n: int, aet: str = "STORESCP") -> float:
    """Seconds for ``n`` C-STOREs of CT_small over one association (file read each time, sent as stored)."""
    path = ct_small()
    ok = 0
    t = time.perf_counter()
    with net.connect("127.0.0.1", port, aet, contexts=net.storage_contexts([path])) as a:
        for _ in range(n):
            ok += a.store(path) == 0
    took = time.perf_counter() - t
    if ok != n:
        raise RuntimeError(f"{n - ok} C-STOREs failed")
    return took


def store_pynetdicom(port: int, n: int) -> float:
    """Seconds for ``n`` C-STOREs of CT_small with pynetdicom over one association (read with pydicom)."""
    import pydicom

    path = ct_small()
    ok = 0
    t = time.perf_counter()
    assoc = _pynetdicom_assoc(port, "STORESCP", [(CT_SOP, [dicomfast.uid.ExplicitVRLittleEndian])])
    try:
        for i in range(n):
            status = assoc.send_c_store(pydicom.dcmread(path))
            if "Status" not in status:  # pynetdicom answers an empty Dataset when the association broke
                state = "aborted" if assoc.is_aborted else "timed out or lost"
                raise RuntimeError(f"pynetdicom's association {state} at C-STORE {i + 1} of {n}")
            ok += status.Status == 0
    finally:
        assoc.release()
    took = time.perf_counter() - t
    if ok != n:
        raise RuntimeError(f"{n - ok} C-STOREs failed")
    return took


def store_storescu(port: int, n: int) -> float:
    """Seconds for DCMTK storescu sending the file ``n`` times over one association (process start included)."""
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
    with tempfile.TemporaryDirectory(prefix="dfbench-ours-", dir=base) as d, net.StorageServer("DFSCP", 0, d) as srv:
        return store_dicomfast(srv.port, n, "DFSCP")


# ------------------------------------------------------------------------------------------------- C-FIND


def load_orthanc(port: int, n: int) -> None:
    """Store ``n`` copies of CT_small with new SOP Instance UIDs (one study, one series) into Orthanc."""
    ds = dicomfast.dcmread(ct_small())
    with net.connect("127.0.0.1", port, "ORTHANC", contexts=[(CT_SOP, [dicomfast.uid.ExplicitVRLittleEndian])]) as a:
        for i in range(n):
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.99.{i + 1}"
            st = a.store(ds)
            if st != 0:
                raise RuntimeError(f"Orthanc refused a C-STORE: status {st:#06x}")


def find_dicomfast(port: int, uids: list[str] | None = None) -> tuple[float, float, int]:
    """One IMAGE-level C-FIND with dicomfast.

    Orthanc matches everything before it sends the first response, so the time from the first response to
    the last is the part the client controls: receiving and decoding the identifiers.

    Parameters
    ----------
    port
        Orthanc's DICOM port.
    uids
        When given, the SOP Instance UIDs found are appended to it.

    Returns
    -------
    tuple[float, float, int]
        ``(total seconds, seconds from the first response to the last, identifiers)``.
    """
    t = time.perf_counter()
    first = None
    n = 0
    with net.connect("127.0.0.1", port, "ORTHANC", contexts=[net.QR_MODELS["S"]["find"]]) as a:
        for _s, ident in a.find(FIND_QUERY, "IMAGE"):
            if first is None:
                first = time.perf_counter()
            if ident is not None:
                n += 1
                if uids is not None:
                    uids.append(str(ident.get("SOPInstanceUID", "")))
        last = time.perf_counter()
    return last - t, last - (first or last), n


def find_pynetdicom(port: int, uids: list[str] | None = None) -> tuple[float, float, int]:
    """As :func:`find_dicomfast`, with pynetdicom."""
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
            if ident is not None:
                n += 1
                if uids is not None:
                    uids.append(str(ident.get("SOPInstanceUID", "")))
        last = time.perf_counter()
    finally:
        assoc.release()
    return last - t, last - (first or last), n


def find_floor(port: int, record: dict[str, Any] | None = None) -> tuple[float, float, int]:
    """The peer's own pace: the same C-FIND, its responses read as raw bytes and not decoded.

    The end is detected by 0.3 s of silence, which is not counted.

    Parameters
    ----------
    port
        Orthanc's DICOM port.
    record
        When given, receives ``bytes`` (the responses as they came), ``context_id`` and
        ``transfer_syntax``: what :func:`replay_peer` needs to answer the same query the same way.

    Returns
    -------
    tuple[float, float, int]
        ``(seconds to the last byte, seconds from the first byte to the last, bytes)``.
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
        if sock is None:
            raise RuntimeError("the association has no socket")
        sock.settimeout(0.3)
        first = last = None
        n = 0
        chunks = []
        with contextlib.suppress(TimeoutError):
            while chunk := sock.recv(1 << 20):
                with contextlib.suppress(OSError, AttributeError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                last = time.perf_counter()
                first = first or last
                n += len(chunk)
                chunks.append(chunk)
    finally:
        a.abort()
    if first is None or last is None:
        raise RuntimeError("no response")
    if record is not None:
        record.update(bytes=b"".join(chunks), context_id=ctx.context_id, transfer_syntax=ctx.transfer_syntax)
    return last - t, last - first, n


def _replay_serve(listener: socket.socket, recorded: dict[str, Any]) -> None:
    """The loop of :func:`replay_peer`'s child process."""
    die_with_parent()
    policy = _association.AcceptPolicy("ORTHANC", transfer_syntaxes=[recorded["transfer_syntax"]])
    while True:
        conn, _ = listener.accept()
        _association.tune_socket(conn)
        with contextlib.suppress(net.NetworkError, OSError):
            assoc = _association.accept(conn, policy, _association.Timeouts())
            while assoc is not None and assoc.sock is not None:
                msg = assoc.recv_message(None, allow_release=True)
                if msg is None:
                    break
                if (msg.command_field, msg.context_id, msg.command.get(0x0110)) != (0x0020, recorded["context_id"], 1):
                    assoc.abort()  # only the recorded exchange can be answered: the first C-FIND-RQ
                    break
                assoc.send_bytes(recorded["bytes"])
        conn.close()


@contextlib.contextmanager
def replay_peer(recorded: dict[str, Any]) -> Iterator[int]:
    """A C-FIND SCP in a child process that answers with responses recorded by :func:`find_floor`.

    It answers the first C-FIND-RQ of each association (message ID 1 on the recorded presentation context,
    as both clients send it) with the recorded bytes in one write, whatever the query: the peer then costs
    nothing, and the time left is the client's.

    Yields
    ------
    int
        Its port on 127.0.0.1.
    """
    import multiprocessing

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    proc = multiprocessing.get_context("fork").Process(target=_replay_serve, args=(listener, recorded), daemon=True)
    proc.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        proc.terminate()
        proc.join(5)
        listener.close()


# ------------------------------------------------------------------------------------------------- suite


def _try(fn: Callable[[], Any]) -> tuple[Any, str]:
    """``(fn(), "")``, or ``(None, why)`` when a peer fails (a cell, not a crash)."""
    try:
        return fn(), ""
    except Exception as e:
        return None, f"fails: {type(e).__name__}: {e}"[:100]


def _peer(name: str, dist: str) -> str:
    return name if have(dist) else f"{name} (not installed)"


def _echo_rows(port: int, cfg: Config) -> list[Row]:
    echoes, slow = (50, 10) if cfg.quick else (200, 20)
    ms = 1e3
    work = "C-ECHO round trip, one association, DCMTK storescp"
    df = echo_dicomfast(port, "STORESCP", echoes) * ms
    rows = []
    if have("pynetdicom"):
        pn, why = _try(lambda: echo_pynetdicom(port, "STORESCP", slow))
        rows.append(Row("net", work, "pynetdicom", "ms", pn and pn * ms, df, items=slow, note=why))
        aio_ms = echo_aio(port, "STORESCP", echoes) * ms
        rows.append(
            Row("net", work + " (asyncio API)", "pynetdicom", "ms", pn and pn * ms, aio_ms, items=slow, note=why)
        )
    else:
        rows.append(Row("net", work, "pynetdicom (not installed)", "ms", None, df, items=echoes))
    nq, why = _try(lambda: echo_dicomfast_no_quickack(port, "STORESCP", slow))
    rows.append(
        Row(
            "net",
            work,
            "dicomfast, TCP_QUICKACK not re-armed",
            "ms",
            nq and nq * ms,
            df,
            items=slow,
            note=why or "the delayed-ACK stall the client avoids",
        )
    )
    if installed(ECHOSCU):
        es, why = _try(lambda: echo_echoscu(port, "STORESCP", 3 if cfg.quick else 5))
        rows.append(
            Row(
                "net",
                work,
                "DCMTK echoscu",
                "ms",
                es and es * ms,
                df,
                note=why or "echoscu: a process and an association per echo",
            )
        )
    return rows


def _store_rows(port: int, cfg: Config) -> list[Row]:
    n = 100 if cfg.quick else 1000
    reps = max(1, cfg.reps // 2)
    work = f"{n:,} C-STOREs of CT_small (39 KB), one association, to DCMTK storescp"
    store_dicomfast(port, 5)  # warm-up: page cache, contexts
    ours = n / measure(lambda: store_dicomfast(port, n), reps, warmup=0)
    rows = []
    if have("pynetdicom") and have("pydicom"):
        store_pynetdicom(port, 5)
        t, why = _try(lambda: measure(lambda: store_pynetdicom(port, n), reps, warmup=0))
        rows.append(Row("net", work, "pynetdicom", "stores/s", t and n / t, ours, True, n, note=why))
    else:
        rows.append(Row("net", work, _peer("pynetdicom", "pynetdicom"), "stores/s", None, ours, True, n))
    if installed(STORESCU):
        t, why = _try(lambda: measure(lambda: store_storescu(port, n), reps, warmup=0))
        rows.append(
            Row(
                "net",
                work,
                "DCMTK storescu",
                "stores/s",
                t and n / t,
                ours,
                True,
                n,
                note=why or "storescu: process start included",
            )
        )
    t, why = _try(lambda: measure(lambda: store_to_our_server(n), reps, warmup=0))
    rows.append(
        Row(
            "net",
            f"{n:,} C-STOREs from dicomfast's client: the server (tmpfs), dicomfast StorageServer",
            "DCMTK storescp",
            "stores/s",
            ours,
            t and n / t,
            True,
            n,
            note=why or "the same client against each server",
        )
    )
    return rows


def _find_rows(port: int, cfg: Config, pid: int | None = None) -> list[Row]:
    """C-FIND rows; ``pid`` is Orthanc's process, whose CPU time per request is reported (the floor)."""
    n = 200 if cfg.quick else 1000
    reps = 5 if cfg.quick else max(15, cfg.reps)
    t0 = time.perf_counter()
    load_orthanc(port, n)
    loaded = time.perf_counter() - t0
    ours_uids: list[str] = []
    find_dicomfast(port, ours_uids)  # warm Orthanc's index; the identifiers to compare with
    recorded: dict[str, Any] = {}
    floor, _why = _try(lambda: find_floor(port, recorded))
    floor_note = f"; peer floor (raw bytes, not decoded) {floor[0] * 1e3:.0f} ms" if floor else ""
    work = f"C-FIND, {len(ours_uids):,} identifiers (IMAGE level) from Orthanc"
    note = f"{n:,} instances stored in {loaded:.1f} s{floor_note}"
    ms = 1e3
    if not (have("pynetdicom") and have("pydicom")):
        alone = [find_dicomfast(port) for _ in range(reps)]
        got, total = alone[0][2], statistics.median(r[0] for r in alone)
        return [Row("net", work, _peer("pynetdicom", "pynetdicom"), "identifiers/s", None, got / total, True, got)]
    their_uids: list[str] = []
    res, why = _try(lambda: find_pynetdicom(port, their_uids))
    if res is None:
        return [Row("net", work, "pynetdicom", "identifiers/s", None, None, True, n, note=why)]
    # interleaved, so that both clients see the same load on a shared machine
    runs: list[tuple[float, float, int]] = []
    pruns: list[tuple[float, float, int]] = []
    cpu: dict[str, float] = {"dicomfast": 0.0, "pynetdicom": 0.0}
    for _ in range(reps):
        for name, fn, out in (("dicomfast", find_dicomfast, runs), ("pynetdicom", find_pynetdicom, pruns)):
            c0 = process_cpu_seconds(pid) if pid else None
            out.append(fn(port))
            c1 = process_cpu_seconds(pid) if pid else None
            if c0 is not None and c1 is not None:
                cpu[name] += c1 - c0
    got = runs[0][2]
    total = statistics.median(r[0] for r in runs)
    stream = statistics.median(r[1] for r in runs)
    p_total = statistics.median(r[0] for r in pruns)
    p_stream = statistics.median(r[1] for r in pruns)
    peer_cpu = cpu["dicomfast"] / reps if pid and cpu["dicomfast"] else None
    if peer_cpu:
        note += f"; Orthanc's CPU per request {peer_cpu * ms:.0f} ms"
    extra = {
        "dicomfast_ms": total * ms,
        "pynetdicom_ms": p_total * ms,
        "dicomfast_first_to_last_ms": stream * ms,
        "pynetdicom_first_to_last_ms": p_stream * ms,
        "peer_floor_ms": floor[0] * ms if floor else None,
        "orthanc_cpu_ms_per_request": peer_cpu * ms if peer_cpu else None,
        "orthanc_config": ORTHANC_FIND_CONFIG,
        "query": {**FIND_QUERY, "QueryRetrieveLevel": "IMAGE"},
        "runs": reps,
    }
    mismatch = ""
    if sorted(ours_uids) != sorted(their_uids):
        mismatch = f"{len(set(ours_uids) ^ set(their_uids))} identifiers differ ({len(their_uids)} vs {len(ours_uids)})"
    rows = [
        Row(
            "net",
            work + ": whole request",
            "pynetdicom",
            "identifiers/s",
            got / p_total,
            got / total,
            True,
            got,
            note=f"{total * ms:.0f} ms vs {p_total * ms:.0f} ms; " + note,
            mismatch=mismatch,
            extra=extra,
        ),
        Row(
            "net",
            work + ": first response to last",
            "pynetdicom",
            "identifiers/s",
            got / p_stream if p_stream else None,
            got / stream if stream else None,
            True,
            got,
            note="receiving and decoding: Orthanc matches everything before its first response",
            mismatch=mismatch,
            extra=extra,
        ),
    ]
    if recorded:
        replayed, why = _try(lambda: _replay_row(recorded, got, reps))
        rows.append(
            replayed or Row("net", "C-FIND replayed", "pynetdicom", "identifiers/s", None, None, True, note=why)
        )
    return rows


def _replay_row(recorded: dict[str, Any], got: int, reps: int) -> Row:
    """The client side alone: Orthanc's recorded responses replayed from memory to each client, interleaved."""
    ms = 1e3
    with replay_peer(recorded) as port:
        ours_uids: list[str] = []
        their_uids: list[str] = []
        find_dicomfast(port, ours_uids)
        find_pynetdicom(port, their_uids)
        runs: list[float] = []
        pruns: list[float] = []
        for _ in range(reps):
            runs.append(find_dicomfast(port)[0])
            pruns.append(find_pynetdicom(port)[0])
    total, p_total = statistics.median(runs), statistics.median(pruns)
    mismatch = ""
    if sorted(ours_uids) != sorted(their_uids) or len(ours_uids) != got:
        mismatch = f"{len(set(ours_uids) ^ set(their_uids))} identifiers differ ({len(their_uids)} vs {len(ours_uids)})"
    return Row(
        "net",
        f"C-FIND, {got:,} identifiers: Orthanc's recorded responses replayed from memory (the client alone)",
        "pynetdicom",
        "identifiers/s",
        got / p_total,
        got / total,
        True,
        got,
        note=f"{total * ms:.1f} ms vs {p_total * ms:.0f} ms, association included; "
        "what the client costs when the peer costs nothing",
        mismatch=mismatch,
        extra={"dicomfast_ms": total * ms, "pynetdicom_ms": p_total * ms, "runs": reps},
    )


def run(cfg: Config) -> list[Row]:
    """Run the suite: rows for the peers that are installed, one row naming each one that is not."""
    warnings.simplefilter("ignore")
    rows: list[Row] = []
    if not have("pydicom"):
        return [
            Row(
                "net",
                "C-ECHO, C-STORE, C-FIND",
                "(pydicom not installed: no CT_small.dcm)",
                "stores/s",
                None,
                None,
                True,
            )
        ]
    if installed(STORESCP):
        try:
            with storescp() as (port, _folder):
                rows += _echo_rows(port, cfg)
                rows += _store_rows(port, cfg)
        except RuntimeError as e:
            rows.append(
                Row("net", "C-ECHO and C-STORE", "DCMTK storescp", "stores/s", None, None, True, note=f"failed: {e}")
            )
    else:
        rows.append(
            Row(
                "net",
                "C-ECHO and C-STORE",
                f"DCMTK storescp (not installed: {STORESCP} absent)",
                "stores/s",
                None,
                None,
                True,
            )
        )
    if installed(ORTHANC):
        try:
            with orthanc_process() as (port, proc):
                rows += _find_rows(port, cfg, proc.pid)
        except RuntimeError as e:
            rows.append(Row("net", "C-FIND", "Orthanc", "identifiers/s", None, None, True, note=f"failed: {e}"))
    else:
        rows.append(
            Row("net", "C-FIND", f"Orthanc (not installed: {ORTHANC} absent)", "identifiers/s", None, None, True)
        )
    return rows
