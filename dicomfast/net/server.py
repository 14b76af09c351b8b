"""A storage SCP: :class:`StorageServer` answers C-ECHO and C-STORE, for any storage SOP class and transfer syntax.

>>> from dicomfast.net import StorageServer
>>> with StorageServer("STORE", 0, directory="incoming") as server:  # doctest: +SKIP
...     print(server.port)  # the ephemeral port picked

Each received object is written as ``preamble + file meta + the data set bytes as received`` (no decoding),
first under a hidden temporary name in the target directory, then renamed to ``<SOPInstanceUID>.dcm`` once the
last fragment has arrived: a transfer that breaks leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dicomfast import uid
from dicomfast.dataset import Dataset, dcmread
from dicomfast.errors import NetworkError
from dicomfast.net import dimse
from dicomfast.net.association import DEFAULT_MAX_PDU, AcceptPolicy, Association, Timeouts, accept, tune_socket

__all__ = ["StorageServer", "StoreEvent", "TempFileSink", "file_meta_bytes", "store_into_directory"]

log = logging.getLogger("dicomfast.net")

Verification = "1.2.840.10008.1.1"
_NON_STORAGE_PREFIXES = ("1.2.840.10008.5.1.4.1.2.", "1.2.840.10008.5.1.4.31", "1.2.840.10008.5.1.4.20.")


def is_storage_class(abstract_syntax: str) -> bool:
    """Whether a SOP class is accepted by the storage server: storage classes and private (non-DICOM) UIDs."""
    if abstract_syntax.startswith("1.2.840.10008.5.1.4.1.1."):
        return True
    if abstract_syntax.startswith(_NON_STORAGE_PREFIXES):
        return False
    info = uid.UID(abstract_syntax).keyword
    return info.endswith("Storage") or not abstract_syntax.startswith("1.2.840.10008.")


# ------------------------------------------------------------------------------------------------ files


def _meta_element(tag: int, vr: bytes, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\0" if vr == b"UI" else b" "
    if vr in (b"OB",):
        return struct.pack("<HH2sHL", 2, tag, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", 2, tag, vr, len(value)) + value


def file_meta_bytes(sop_class: str, sop_instance: str, transfer_syntax: str, source_ae: str = "") -> bytes:
    """The 128-byte preamble, ``DICM`` and the file meta information group (PS3.10 §7.1)."""
    body = b"".join(
        [
            _meta_element(0x0001, b"OB", b"\0\1"),
            _meta_element(0x0002, b"UI", sop_class.encode("ascii")),
            _meta_element(0x0003, b"UI", sop_instance.encode("ascii")),
            _meta_element(0x0010, b"UI", transfer_syntax.encode("ascii")),
            _meta_element(0x0012, b"UI", uid.IMPLEMENTATION_CLASS_UID.encode("ascii")),
            _meta_element(0x0013, b"SH", uid.IMPLEMENTATION_VERSION_NAME.encode("ascii")),
            *([_meta_element(0x0016, b"AE", source_ae.strip().encode("ascii"))] if source_ae.strip() else []),
        ]
    )
    return bytes(128) + b"DICM" + _meta_element(0x0000, b"UL", struct.pack("<L", len(body))) + body


_SAFE = re.compile(r"[^0-9A-Za-z._-]")


def _file_name(sop_instance: str) -> str:
    name = _SAFE.sub("_", sop_instance.strip()) or "unnamed"
    return name[:200] + ".dcm"


class StoreEvent:
    """One received C-STORE: its command, transfer syntax and data set bytes.

    Attributes
    ----------
    command : dict[int, Any]
        The C-STORE-RQ command set (element number to value).
    transfer_syntax : str
        The presentation context's transfer syntax, in which ``data`` is encoded.
    data : bytes
        The data set exactly as received.
    calling_ae, called_ae : str
        The AE titles of the association.
    """

    def __init__(self, command: dict[int, Any], transfer_syntax: str, data: bytes, calling_ae: str, called_ae: str):
        self.command = command
        self.transfer_syntax = transfer_syntax
        self.data = data
        self.calling_ae = calling_ae
        self.called_ae = called_ae
        self._ds: Dataset | None = None

    @property
    def sop_class_uid(self) -> str:
        """(0000,0002) *Affected SOP Class UID*."""
        return str(self.command.get(0x0002, ""))

    @property
    def sop_instance_uid(self) -> str:
        """(0000,1000) *Affected SOP Instance UID*."""
        return str(self.command.get(0x1000, ""))

    @property
    def move_originator_ae(self) -> str | None:
        """(0000,1030) *Move Originator Application Entity Title*, for sub-operations of a C-MOVE."""
        v = self.command.get(0x1030)
        return None if v is None else str(v)

    @property
    def dataset(self) -> Dataset:
        """The data set, decoded (lazily) by the core."""
        if self._ds is None:
            self._ds = dcmread(self.data, transfer_syntax=self.transfer_syntax)
        return self._ds

    def file_bytes(self) -> bytes:
        """The object as a Part 10 file: preamble, file meta, and the data set as received."""
        meta = file_meta_bytes(self.sop_class_uid, self.sop_instance_uid, self.transfer_syntax, self.calling_ae)
        return meta + self.data

    def __repr__(self) -> str:
        return f"<StoreEvent {self.sop_instance_uid} {len(self.data)} bytes in {self.transfer_syntax}>"


class TempFileSink:
    """A file being received: written under a temporary name, renamed by :meth:`commit`, removed by :meth:`discard`."""

    def __init__(self, directory: Path, command: dict[int, Any], transfer_syntax: str, source_ae: str = "") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.final = directory / _file_name(str(command.get(0x1000, "")))
        fd, name = tempfile.mkstemp(prefix=".dicomfast-", suffix=".part", dir=directory)
        self.temp = Path(name)
        self._f = os.fdopen(fd, "wb")
        self.done = False
        self._f.write(
            file_meta_bytes(str(command.get(0x0002, "")), str(command.get(0x1000, "")), transfer_syntax, source_ae)
        )

    def write(self, data: bytes) -> int:
        """Append received data set bytes."""
        return self._f.write(data)

    def commit(self) -> Path:
        """Close and rename to ``<SOPInstanceUID>.dcm`` (replacing an earlier copy); returns the final path."""
        self._f.close()
        os.replace(self.temp, self.final)
        self.done = True
        return self.final

    def discard(self) -> None:
        """Close and delete the temporary file unless it was committed (idempotent)."""
        if not self.done:
            self.done = True
            with contextlib.suppress(OSError):
                self._f.close()
            with contextlib.suppress(OSError):
                self.temp.unlink()


def store_into_directory(directory: str | os.PathLike[str], event: StoreEvent) -> Path:
    """Write a received object to ``directory/<SOPInstanceUID>.dcm`` through a temporary name."""
    sink = TempFileSink(Path(directory), event.command, event.transfer_syntax, event.calling_ae)
    try:
        sink.write(event.data)
        return sink.commit()
    finally:
        sink.discard()


# ----------------------------------------------------------------------------------------------- server


class StorageServer:
    """A C-ECHO and C-STORE SCP on a background thread; one more thread per association.

    Parameters
    ----------
    ae_title : str
        Our AE title.
    port : int
        TCP port; 0 picks a free one (read it back from :attr:`port`).
    directory : str or PathLike, optional
        Where received objects are written as ``<SOPInstanceUID>.dcm``.
    handler : callable, optional
        ``handler(event: StoreEvent) -> int | None`` instead of a directory: returns the C-STORE status
        (``None`` means 0x0000). An exception in the handler answers 0xC211.
    host : str
        Address to listen on (default loopback only).
    tls : ssl.SSLContext, optional
        A server-side TLS context (``ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)`` with a certificate).
    require_called_ae : bool
        Reject associations whose called AE title is not ``ae_title``.
    timeouts : Timeouts, optional
        ACSE timeout for the A-ASSOCIATE-RQ, network timeout for idle associations (then aborted).
    max_pdu : int
        Maximum PDU length announced.
    """

    def __init__(
        self,
        ae_title: str,
        port: int = 0,
        directory: str | os.PathLike[str] | None = None,
        handler: Callable[[StoreEvent], int | None] | None = None,
        *,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
        require_called_ae: bool = False,
        timeouts: Timeouts | None = None,
        max_pdu: int = DEFAULT_MAX_PDU,
    ) -> None:
        if (directory is None) == (handler is None):
            raise ValueError("give StorageServer either directory= or handler=")
        self.ae_title = ae_title
        self.host = host
        self.directory = None if directory is None else Path(directory)
        self.handler = handler
        self.tls = tls
        self.timeouts = timeouts or Timeouts(connect=10.0, acse=30.0, dimse=30.0, network=60.0)
        self.policy = AcceptPolicy(
            ae_title,
            require_called_ae=require_called_ae,
            accept_abstract=lambda a: a == Verification or is_storage_class(a),
            transfer_syntaxes=None,
            max_length=max_pdu,
        )
        self.received = 0
        self.errors: list[BaseException] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind((host, port))
            self._listener.listen(64)
        except BaseException:
            self._listener.close()
            raise
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active: dict[threading.Thread, Association | socket.socket] = {}
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StorageServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def active_associations(self) -> int:
        """How many associations are being served now."""
        with self._lock:
            return len(self._active)

    def start(self) -> StorageServer:
        """Start accepting associations on a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._accept_loop, name=f"dicomfast-scp-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Accept associations on this thread until :meth:`stop` is called (from another thread)."""
        self._accept_loop()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, abort the associations in progress and join every thread."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            active = list(self._active.items())
        for _, conn in active:
            if isinstance(conn, Association):
                conn.abort()
            else:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for t, _ in active:
            t.join(timeout)
        for s in (self._listener, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                s.close()

    def _accept_loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r or self._stop.is_set():
                        return
                    try:
                        conn, _addr = self._listener.accept()
                    except OSError:
                        continue
                    t = threading.Thread(target=self._serve, args=(conn,), name="dicomfast-scp-assoc", daemon=True)
                    with self._lock:
                        self._active[t] = conn
                    t.start()
        finally:
            sel.close()

    def _serve(self, conn: socket.socket) -> None:
        me = threading.current_thread()
        assoc: Association | None = None
        try:
            tune_socket(conn)
            if self.tls is not None:
                conn.settimeout(self.timeouts.acse)
                conn = self.tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._active[me] = conn
            assoc = accept(conn, self.policy, self.timeouts)
            if assoc is None:
                return
            with self._lock:
                self._active[me] = assoc
            if self._stop.is_set():
                assoc.abort()
                return
            self._messages(assoc)
        except (NetworkError, TimeoutError, OSError) as e:
            log.info("association from %s ended: %s", assoc.calling_ae if assoc else "?", e)
        except Exception as e:  # keep serving other associations; the error is recorded
            log.exception("storage server error")
            self.errors.append(e)
            if assoc is not None:
                assoc.abort(2, 0)
        finally:
            if assoc is not None:
                assoc.close()
            else:
                with contextlib.suppress(OSError):
                    conn.close()
            with self._lock:
                self._active.pop(me, None)

    def _messages(self, assoc: Association) -> None:
        sinks: list[TempFileSink] = []
        directory = self.directory

        def sink(context_id: int, command: dict[int, Any]) -> TempFileSink | None:
            if directory is None or command.get(0x0100) != dimse.C_STORE_RQ:
                return None
            s = TempFileSink(directory, command, assoc.contexts[context_id].transfer_syntax, assoc.calling_ae)
            sinks.append(s)
            return s

        try:
            while True:
                msg = assoc.recv_message(self.timeouts.network, sink, allow_release=True)
                if msg is None:
                    return
                cmd = msg.command
                field = msg.command_field
                rsp: dict[int, Any] = {0x0100: field | 0x8000, 0x0120: cmd.get(0x0110, 0)}
                if field == dimse.C_ECHO_RQ:
                    rsp.update({0x0002: cmd.get(0x0002, Verification), 0x0900: 0})
                elif field == dimse.C_STORE_RQ:
                    rsp.update({0x0002: cmd.get(0x0002, ""), 0x1000: cmd.get(0x1000, "")})
                    rsp[0x0900] = self._store(assoc, msg.context_id, cmd, msg)
                    if rsp[0x0900] & 0xF000 in (0xA000, 0xC000):
                        rsp[0x0902] = "storage failed"
                elif field == dimse.C_CANCEL_RQ:
                    continue
                else:
                    rsp[0x0900] = 0x0211  # unrecognised operation (PS3.7 C.4.2)
                assoc.send_message(msg.context_id, rsp)
                for s in sinks:
                    s.discard()
                sinks.clear()
        finally:
            for s in sinks:
                s.discard()

    def _store(self, assoc: Association, context_id: int, cmd: dict[int, Any], msg: Any) -> int:
        sink = msg.extra.get("sink")
        try:
            if isinstance(sink, TempFileSink):
                sink.commit()
                code = 0
            else:
                assert self.handler is not None
                ts = assoc.contexts[context_id].transfer_syntax
                code = self.handler(StoreEvent(cmd, ts, msg.dataset or b"", assoc.calling_ae, assoc.called_ae)) or 0
        except OSError as e:
            log.warning("C-STORE of %s failed: %s", cmd.get(0x1000), e)
            return 0xA700  # out of resources
        except Exception as e:
            log.warning("C-STORE handler failed for %s: %s", cmd.get(0x1000), e)
            return 0xC211
        with self._lock:
            self.received += 1
        return int(code)
