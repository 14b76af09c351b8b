"""The upper layer association (PS3.8): socket, negotiation, P-DATA fragmentation, release and abort.

:class:`Association` owns one TCP (or TLS) socket and is used by both sides: :func:`request` opens one as
the requestor (SCU), :func:`accept` answers an A-ASSOCIATE-RQ as the acceptor (SCP). Messages are sent
with :meth:`Association.send_message` and received with :meth:`Association.recv_message`.

Latency (PS3.8 says nothing about it; Linux does): every socket sets ``TCP_NODELAY``, each PDU leaves in
one write, and ``TCP_QUICKACK`` is re-armed after every receive. Without the last one a peer that writes
its reply in two segments waits about 40 ms for the delayed ACK of the first (Nagle on the peer's side).

Errors: a timeout aborts the association and raises :class:`TimeoutError`; a peer's A-ABORT or a closed
connection raises :class:`~dicomfast.errors.AssociationAbortedError`; an A-ASSOCIATE-RJ raises
:class:`~dicomfast.errors.AssociationRejectedError`; a malformed PDU sends an A-ABORT and raises
:class:`~dicomfast.net.pdu.PDUError`. In every case the socket is closed before the exception leaves.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from dicomfast import uid
from dicomfast.errors import AssociationAbortedError, AssociationRejectedError, NetworkError
from dicomfast.net import dimse, pdu
from dicomfast.net.pdu import (
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AReleaseRP,
    AReleaseRQ,
    PDataTF,
    PDUError,
    PresentationContextAC,
    PresentationContextRQ,
    RoleSelection,
)

__all__ = [
    "DEFAULT_MAX_PDU",
    "AcceptedContext",
    "Association",
    "Message",
    "Timeouts",
    "accept",
    "request",
    "tune_socket",
]

DEFAULT_MAX_PDU = 1 << 20
"""The maximum PDU length this side announces (1 MiB): large PDUs mean fewer writes for big objects."""

_UNLIMITED_SEND = 1 << 22  # PDU size used when the peer announces 0 (no limit)
_QUICKACK = getattr(socket, "TCP_QUICKACK", None) if sys.platform.startswith("linux") else None
_PDU_LENGTH = struct.Struct(">L")


@dataclass
class Timeouts:
    """The four timeouts of an association, in seconds (``None`` waits for ever).

    Attributes
    ----------
    connect : float | None
        TCP connection (and TLS handshake).
    acse : float | None
        Waiting for the answer to an A-ASSOCIATE-RQ or A-RELEASE-RQ.
    dimse : float | None
        Waiting for the first PDU of each DIMSE response.
    network : float | None
        Idle network: the longest pause while the rest of a PDU or message arrives, the longest a write
        may take, and (on the server) the longest silence between messages.
    """

    connect: float | None = 10.0
    acse: float | None = 30.0
    dimse: float | None = 30.0
    network: float | None = 60.0


@dataclass
class AcceptedContext:
    """A presentation context as negotiated.

    ``scu_role`` / ``scp_role`` say which roles the *requestor* may take on it (PS3.7 Annex D.3.3.4).
    """

    context_id: int
    abstract_syntax: str
    transfer_syntax: str
    result: int = 0
    scu_role: bool = True
    scp_role: bool = False

    @property
    def accepted(self) -> bool:
        """Whether the acceptor accepted the context."""
        return self.result == 0


@dataclass
class Message:
    """One DIMSE message: its presentation context, command set and data set bytes (``None`` if absent)."""

    context_id: int
    command: dict[int, Any]
    dataset: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def command_field(self) -> int:
        """(0000,0100) *Command Field*."""
        return int(self.command.get(0x0100, -1))


def tune_socket(sock: socket.socket) -> None:
    """Set TCP_NODELAY and arm TCP_QUICKACK (Linux) on a connected socket."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if _QUICKACK is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


class Sink(Protocol):
    """Where data set fragments go as they arrive: anything with ``write(bytes)``."""

    def write(self, data: bytes, /) -> int:
        """Append received bytes."""
        ...


SinkFactory = Callable[[int, dict[int, Any]], Sink | None]
"""``(context_id, command) -> Sink | None``: called when a command set is complete."""

RELEASED = object()
"""Returned by :meth:`MessageAssembler.feed` when the peer asked to release between messages."""


def pdata_pdus(
    context_id: int, command: dict[int, Any], dataset: bytes | bytearray | memoryview | None, peer_max_length: int
) -> Iterator[bytes]:
    """The P-DATA-TF PDUs of one DIMSE message, each ready for one write.

    The command set is encoded here; (0000,0800) *Command Data Set Type* is set from ``dataset``. PDV
    items are packed greedily into PDUs no longer than ``peer_max_length`` (0: no limit): a short command
    and a short data set travel in one PDU (PS3.8 §9.3.5 allows several PDV items in one P-DATA-TF), and a
    long data set is fragmented (PS3.8 Annex E).
    """
    if dataset is not None:
        command = {**command, 0x0800: 0x0000 if command.get(0x0800, 0) in (0, 0x0101) else command[0x0800]}
    else:
        command = {**command, 0x0800: dimse.NO_DATASET}
    cmd = dimse.encode_command(command)
    limit = peer_max_length or _UNLIMITED_SEND
    parts: list[bytes | memoryview] = []
    room, used = limit, 0
    pieces: list[tuple[int, memoryview]] = [(1, memoryview(cmd))]
    if dataset is not None:
        pieces.append((0, memoryview(dataset).cast("B")))
    for kind, mv in pieces:
        pos, total = 0, len(mv)
        while True:
            if room < 7 and parts:
                yield b"".join([pdu.encode_pdata_header(used), *parts])
                parts, room, used = [], limit, 0
            n = min(total - pos, room - 6)
            if pos + n < total:
                n &= ~1  # fragments other than the last keep an even length (DCMTK refuses odd ones)
            last = pos + n == total
            parts.append(struct.pack(">LBB", n + 2, context_id, kind | (2 if last else 0)))
            parts.append(mv[pos : pos + n])
            room -= 6 + n
            used += 6 + n
            pos += n
            if last:
                break
            yield b"".join([pdu.encode_pdata_header(used), *parts])
            parts, room, used = [], limit, 0
    if parts:
        yield b"".join([pdu.encode_pdata_header(used), *parts])


class MessageAssembler:
    """Reassembles DIMSE messages from PDV fragments (PS3.8 Annex E), with no I/O.

    PDV items that follow a complete message in the same PDU are kept for the next message.
    """

    def __init__(self, contexts: dict[int, AcceptedContext]) -> None:
        self.contexts = contexts
        self.queue: deque[tuple[int, int, bytes]] = deque()
        # the last command set decoded, as (bytes, dict): the pending responses of a C-FIND, C-GET or
        # C-MOVE repeat the same command set, which is then copied rather than decoded again
        self._last_command: tuple[bytes, dict[int, Any]] = (b"", {})
        self.start(None)

    def start(self, sink: SinkFactory | None) -> None:
        """Begin a new message; ``sink`` as in :meth:`Association.recv_message`."""
        self.sink = sink
        self.cmd_parts: list[bytes] = []
        self.data_parts: list[bytes] = []
        self.command: dict[int, Any] | None = None
        self.ctx: int | None = None
        self.out: Sink | None = None

    @property
    def idle(self) -> bool:
        """No fragment of a message has arrived yet."""
        return self.ctx is None and not self.queue

    def feed(self, p: pdu.PDU, allow_release: bool = False) -> object:
        """Take one PDU; return a complete message, :data:`RELEASED`, or ``None`` when more is needed.

        Raises
        ------
        PDUError, DimseError
            For a fragment that breaks PS3.8 Annex E, or an unexpected PDU.
        AssociationAbortedError
            For an A-ABORT.
        """
        if isinstance(p, PDataTF):
            self.queue.extend(p.pdvs)
            return self.next_message()
        if isinstance(p, AAbort):
            raise AssociationAbortedError(pdu.abort_reason_text(p))
        if isinstance(p, AReleaseRQ) and allow_release and self.idle:
            return RELEASED
        raise PDUError(f"unexpected {pdu.PDU_NAMES[_TYPE_OF[type(p)]]} while waiting for a DIMSE message", 2)

    def next_message(self) -> Message | None:
        """Consume queued PDV items; return the message they complete, if any."""
        queue = self.queue
        while queue:
            pctx, control, data = queue.popleft()
            if pctx != self.ctx:  # the first PDV of a message (contexts cannot change inside one)
                if self.ctx is not None:
                    raise PDUError(f"PDV for context {pctx} inside a message on context {self.ctx}")
                c = self.contexts.get(pctx)
                if c is None or not c.accepted:
                    raise PDUError(f"PDV on presentation context {pctx}, which was not accepted")
                self.ctx = pctx
            if control & 1:
                if self.command is not None:
                    raise PDUError("a command fragment after the command set was complete")
                self.cmd_parts.append(data)
                if control & 2:
                    raw = self.cmd_parts[0] if len(self.cmd_parts) == 1 else b"".join(self.cmd_parts)
                    last_raw, last = self._last_command
                    if raw == last_raw:
                        self.command = last.copy()
                    else:
                        self.command = dimse.decode_command(raw)
                        self._last_command = (raw, self.command.copy())
                    if self.command.get(0x0800, dimse.NO_DATASET) == dimse.NO_DATASET:
                        msg = Message(pctx, self.command)
                        self.start(self.sink)
                        return msg
                    if self.sink is not None:
                        self.out = self.sink(pctx, self.command)
            else:
                if self.command is None:
                    raise PDUError("a data set fragment before the command set")
                if self.out is not None:
                    self.out.write(data)
                else:
                    self.data_parts.append(data)
                if control & 2:
                    if self.out is not None:
                        msg = Message(pctx, self.command, None, {"sink": self.out})
                    else:
                        msg = Message(pctx, self.command, b"".join(self.data_parts))
                    self.start(self.sink)
                    return msg
        return None


_TYPE_OF = {
    AAssociateRQ: 1,
    AAssociateAC: 2,
    AAssociateRJ: 3,
    PDataTF: 4,
    AReleaseRQ: 5,
    AReleaseRP: 6,
    AAbort: 7,
}


class Association:
    """One association over one socket, on either side.

    Parameters
    ----------
    sock : socket.socket
        A connected socket (possibly an ``ssl.SSLSocket``); the association owns and closes it.
    timeouts : Timeouts
        The timeouts to enforce.
    max_length : int
        The maximum PDU length this side announced (and enforces on receipt).
    is_requestor : bool
        ``True`` on the SCU side that sent the A-ASSOCIATE-RQ.
    """

    def __init__(self, sock: socket.socket | None, timeouts: Timeouts, max_length: int, is_requestor: bool) -> None:
        self.sock: socket.socket | None = sock
        self.timeouts = timeouts
        self.max_length = max_length
        self.is_requestor = is_requestor
        self.peer_max_length = 16384
        self.contexts: dict[int, AcceptedContext] = {}
        self.called_ae = ""
        self.calling_ae = ""
        self.peer_implementation_class_uid = ""
        self.peer_implementation_version_name = ""
        self.user_identity: pdu.UserIdentity | None = None
        self.user_identity_response: bytes | None = None
        self.is_established = False
        self._buf = bytearray()
        self._message_id = 0
        self.assembler = MessageAssembler(self.contexts)

    # ------------------------------------------------------------------------------------ housekeeping

    def __repr__(self) -> str:
        state = "established" if self.is_established else "closed" if self.sock is None else "opening"
        return f"<Association {self.calling_ae} -> {self.called_ae} {state}>"

    def next_message_id(self) -> int:
        """A fresh (0000,0110) *Message ID*, 1 to 65535."""
        self._message_id = self._message_id % 0xFFFF + 1
        return self._message_id

    def close(self) -> None:
        """Close the socket without any PDU (idempotent)."""
        self.is_established = False
        sock, self.sock = self.sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def abort(self, source: int = 0, reason: int = 0) -> None:
        """Send an A-ABORT (best effort, never blocks long) and close the socket."""
        if self.sock is not None:
            with contextlib.suppress(OSError, ValueError):
                self.sock.settimeout(1.0)
                self.sock.sendall(pdu.encode(AAbort(source, reason)))
        self.close()

    def _fail(self, exc: BaseException, source: int = 0, reason: int = 0, send_abort: bool = True) -> BaseException:
        if send_abort:
            self.abort(source, reason)
        else:
            self.close()
        return exc

    # --------------------------------------------------------------------------------------------- I/O

    def _recv_some(self, timeout: float | None, what: str) -> None:
        """One ``recv`` that waits at most ``timeout`` seconds (``None``: for ever)."""
        sock = self.sock
        if sock is None:
            raise AssociationAbortedError("the association is closed")
        if timeout is not None and timeout <= 0:
            raise self._fail(TimeoutError(f"timed out waiting for {what}"))
        sock.settimeout(timeout)
        try:
            chunk = sock.recv(262144)
        except TimeoutError:
            raise self._fail(TimeoutError(f"timed out waiting for {what}")) from None
        except ssl.SSLError as e:
            raise self._fail(
                AssociationAbortedError(f"TLS error while waiting for {what}: {e}"), send_abort=False
            ) from e
        except OSError as e:
            raise self._fail(
                AssociationAbortedError(f"connection lost while waiting for {what}: {e}"), send_abort=False
            ) from e
        if not chunk:
            raise self._fail(
                AssociationAbortedError(f"the peer closed the connection while we waited for {what}"), send_abort=False
            )
        if _QUICKACK is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        self._buf += chunk

    def _read(self, n: int, what: str) -> bytes:
        """``n`` bytes; each ``recv`` may wait the network (idle) timeout."""
        while len(self._buf) < n:
            self._recv_some(self.timeouts.network, what)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def recv_pdu(self, first_timeout: float | None, what: str = "a PDU") -> pdu.PDU:
        """Receive one PDU: its first byte within ``first_timeout``, then no pause longer than the network timeout.

        Raises
        ------
        TimeoutError, AssociationAbortedError, PDUError
        """
        if not self._buf:
            self._recv_some(first_timeout, what)
        header = self._read(6, what)
        try:
            pdu_type, length = pdu.parse_header(header, self.max_length)
        except PDUError as e:
            raise self._fail(e, 2, e.abort_reason) from None
        body = self._read(length, f"the rest of a {pdu.PDU_NAMES[pdu_type]} ({length} bytes)")
        try:
            return pdu.decode(pdu_type, body)
        except PDUError as e:
            raise self._fail(e, 2, e.abort_reason) from None

    def _pdu_too_long(self) -> bool:
        """Whether the P-DATA-TF PDU at the front of the buffer declares more than this side announced."""
        if len(self._buf) < 6:
            return False
        (length,) = _PDU_LENGTH.unpack_from(self._buf, 2)
        return bool(self.max_length) and length > self.max_length

    def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Write one PDU (or several already joined) in one call, bounded by the network timeout."""
        sock = self.sock
        if sock is None:
            raise AssociationAbortedError("the association is closed")
        sock.settimeout(self.timeouts.network)
        try:
            sock.sendall(data)
        except TimeoutError:
            raise self._fail(TimeoutError("timed out sending a PDU (the peer stopped reading)")) from None
        except OSError as e:
            raise self._fail(AssociationAbortedError(f"connection lost while sending: {e}"), send_abort=False) from e

    def send_pdu(self, p: pdu.PDU) -> None:
        """Encode and send one PDU with one write."""
        self.send_bytes(pdu.encode(p))

    # ------------------------------------------------------------------------------------------ DIMSE

    def send_message(
        self, context_id: int, command: dict[int, Any], dataset: bytes | bytearray | memoryview | None = None
    ) -> None:
        """Send a command set and optional data set, fragmented to the peer's maximum PDU length.

        See :func:`pdata_pdus`: each PDU leaves in one write.
        """
        for data in pdata_pdus(context_id, command, dataset, self.peer_max_length):
            self.send_bytes(data)

    def _take_pdata(self) -> bool:
        """Queue the PDV items of the complete P-DATA-TF PDUs at the front of the receive buffer.

        The fast path of :meth:`recv_message`: PDV items go from the buffer to the assembler's queue with one
        copy each, with no PDU object in between. It stops at the first PDU that is incomplete, is not a
        P-DATA-TF, or is longer than this side announced; :meth:`recv_pdu` then deals with that one.

        Returns
        -------
        bool
            Whether any PDU was taken.
        """
        buf = self._buf
        size = len(buf)
        if size < 6 or buf[0] != pdu.P_DATA_TF:
            return False
        limit = self.max_length
        queue = self.assembler.queue
        pos = 0
        mv = memoryview(buf)
        try:
            while size - pos >= 6 and buf[pos] == pdu.P_DATA_TF:
                (length,) = _PDU_LENGTH.unpack_from(buf, pos + 2)
                end = pos + 6 + length
                if (limit and length > limit) or end > size:
                    break
                pdu.decode_pdvs(mv, pos + 6, end, queue)
                pos = end
        finally:
            mv.release()
        if pos:
            del buf[:pos]
        return pos > 0

    def recv_message(
        self,
        first_timeout: float | None,
        sink: SinkFactory | None = None,
        allow_release: bool = False,
    ) -> Message | None:
        """Receive one complete DIMSE message.

        Parameters
        ----------
        first_timeout : float | None
            How long to wait for its first PDU (the DIMSE timeout on the SCU side, the network timeout on
            the SCP side); the rest must arrive within the network timeout.
        sink : callable, optional
            Called with ``(context_id, command)`` once the command set is complete; a file object it
            returns receives the data set fragments as they arrive (then ``Message.dataset`` is ``None``).
        allow_release : bool
            Answer an A-RELEASE-RQ with an A-RELEASE-RP, close, and return ``None`` (SCP side).

        Raises
        ------
        AssociationAbortedError, TimeoutError, PDUError, DimseError
        """
        asm = self.assembler
        asm.start(sink)
        timeout = first_timeout
        what = "a DIMSE message"
        buf = self._buf
        while True:
            try:
                queued = asm.next_message()
                if queued is not None:
                    return queued
                if self._take_pdata():
                    timeout = self.timeouts.network
                    what = "the rest of a DIMSE message"
                    continue
                if not buf:
                    self._recv_some(timeout, what)
                    continue
                if buf[0] == pdu.P_DATA_TF and not self._pdu_too_long():
                    # the start of a P-DATA-TF: its rest may take the network timeout
                    what = "the rest of a DIMSE message"
                    self._recv_some(self.timeouts.network, what)
                    continue
                p = self.recv_pdu(timeout, what)
                timeout = self.timeouts.network
                what = "the rest of a DIMSE message"
                msg = asm.feed(p, allow_release)
            except (PDUError, dimse.DimseError) as e:
                raise self._fail(e, 2, getattr(e, "abort_reason", 6)) from None
            except AssociationAbortedError:
                self.close()
                raise
            if msg is RELEASED:
                with contextlib.suppress(NetworkError, OSError):
                    self.send_pdu(AReleaseRP())
                self.close()
                return None
            if isinstance(msg, Message):
                return msg

    # ---------------------------------------------------------------------------------------- release

    def release(self) -> None:
        """Send A-RELEASE-RQ, wait for A-RELEASE-RP (ACSE timeout), close. Aborts if the peer does not answer."""
        if self.sock is None:
            return
        if not self.is_established:
            self.abort()
            return
        self.is_established = False
        try:
            self.send_pdu(AReleaseRQ())
            deadline = None if self.timeouts.acse is None else time.monotonic() + self.timeouts.acse
            while True:
                left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
                p = self.recv_pdu(left, "A-RELEASE-RP")
                if isinstance(p, AReleaseRP):
                    break
                if isinstance(p, AReleaseRQ):  # release collision (PS3.8 §7.2.2.1)
                    self.send_pdu(AReleaseRP())
                    continue
                if isinstance(p, AAbort):
                    break
                # P-DATA still in flight is dropped
        except (NetworkError, TimeoutError, OSError):
            pass
        finally:
            self.close()

    # ---------------------------------------------------------------------------------------- context

    def context_for(
        self, abstract_syntax: str, transfer_syntax: str | None = None, scp: bool = False
    ) -> AcceptedContext:
        """The accepted context for ``abstract_syntax`` (and ``transfer_syntax`` if given).

        Raises
        ------
        NetworkError
            When the peer accepted no such context.
        """
        for c in self.contexts.values():
            if c.accepted and c.abstract_syntax == abstract_syntax:
                if transfer_syntax is not None and c.transfer_syntax != transfer_syntax:
                    continue
                if scp and not c.scp_role:
                    continue
                return c
        ts = f" with transfer syntax {transfer_syntax}" if transfer_syntax else ""
        name = uid.UID(abstract_syntax).name
        raise NetworkError(
            f"no accepted presentation context for {name} ({abstract_syntax}){ts}; propose it in connect(contexts=...)"
        )


# ----------------------------------------------------------------------------------------- requestor


def _connect(
    host: str, port: int, timeouts: Timeouts, tls: ssl.SSLContext | None, server_hostname: str | None
) -> socket.socket:
    try:
        sock = socket.create_connection((host, port), timeout=timeouts.connect)
    except TimeoutError:
        raise TimeoutError(f"timed out connecting to {host}:{port} after {timeouts.connect} s") from None
    try:
        tune_socket(sock)
        if tls is not None:
            sock.settimeout(timeouts.connect)
            sock = tls.wrap_socket(sock, server_hostname=server_hostname or host)
    except BaseException:
        sock.close()
        raise
    return sock


def request(
    host: str,
    port: int,
    called_ae: str,
    calling_ae: str,
    contexts: Iterable[tuple[str, list[str]]],
    roles: Iterable[RoleSelection] = (),
    *,
    timeouts: Timeouts | None = None,
    max_length: int = DEFAULT_MAX_PDU,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    user_identity: pdu.UserIdentity | None = None,
) -> Association:
    """Connect and negotiate an association as the requestor.

    Parameters
    ----------
    host, port : str, int
        The peer.
    called_ae, calling_ae : str
        AE titles (1 to 16 characters).
    contexts : iterable of (abstract syntax, [transfer syntaxes])
        Proposed presentation contexts, numbered 1, 3, 5, … in this order (at most 128).
    roles : iterable of RoleSelection
        SCP/SCU role selection items (C-GET needs ``scp_role=True`` for the storage classes).
    timeouts : Timeouts, optional
        Connect / ACSE / DIMSE / network timeouts.
    max_length : int
        The maximum PDU length this side receives.
    tls : ssl.SSLContext, optional
        Wrap the connection in TLS (PS3.15 Annex B.1).
    server_hostname : str, optional
        The name checked against the peer's certificate (default: ``host``).
    user_identity : UserIdentity, optional
        User identity negotiation.

    Returns
    -------
    Association
        Established, with the negotiated contexts.

    Raises
    ------
    ConnectionRefusedError, OSError, ssl.SSLError
        When the connection or TLS handshake fails.
    AssociationRejectedError
        On A-ASSOCIATE-RJ, with the reason.
    AssociationAbortedError, TimeoutError, PDUError
    """
    timeouts = timeouts or Timeouts()
    rq = build_request(called_ae, calling_ae, contexts, roles, max_length, user_identity)
    data = pdu.encode(rq)  # AE title errors surface before connecting
    sock = _connect(host, port, timeouts, tls, server_hostname)
    assoc = Association(sock, timeouts, max_length, is_requestor=True)
    assoc.called_ae, assoc.calling_ae = called_ae, calling_ae
    assoc.send_bytes(data)
    reply = assoc.recv_pdu(timeouts.acse, "A-ASSOCIATE-AC")
    try:
        complete_request(assoc, rq, reply, f"{called_ae} at {host}:{port}")
    except PDUError as e:
        raise assoc._fail(e, 2, e.abort_reason) from None
    except (AssociationRejectedError, AssociationAbortedError):
        if assoc.is_established:
            assoc.release()
        assoc.close()
        raise
    return assoc


def build_request(
    called_ae: str,
    calling_ae: str,
    contexts: Iterable[tuple[str, list[str]]],
    roles: Iterable[RoleSelection],
    max_length: int,
    user_identity: pdu.UserIdentity | None,
) -> AAssociateRQ:
    """The A-ASSOCIATE-RQ for these contexts (numbered 1, 3, 5, …) and roles."""
    proposed = [PresentationContextRQ(2 * i + 1, a, list(t)) for i, (a, t) in enumerate(contexts)]
    if not 0 < len(proposed) <= 128:
        raise ValueError(f"an association needs 1 to 128 presentation contexts, not {len(proposed)}")
    return AAssociateRQ(
        called_ae,
        calling_ae,
        proposed,
        max_length=max_length,
        implementation_class_uid=uid.IMPLEMENTATION_CLASS_UID,
        implementation_version_name=uid.IMPLEMENTATION_VERSION_NAME,
        roles=list(roles),
        user_identity=user_identity,
    )


def complete_request(assoc: Association, rq: AAssociateRQ, reply: pdu.PDU, peer: str) -> None:
    """Apply the acceptor's answer to ``assoc``: negotiated contexts, roles, peer max length.

    Raises
    ------
    AssociationRejectedError
        For an A-ASSOCIATE-RJ (with its reason), or an AC that accepted no context (then ``assoc`` is
        established and the caller releases it).
    AssociationAbortedError
        For an A-ABORT.
    PDUError
        For any other PDU.
    """
    if isinstance(reply, AAssociateRJ):
        raise AssociationRejectedError(pdu.reject_reason_text(reply) + f" ({peer})")
    if isinstance(reply, AAbort):
        raise AssociationAbortedError(pdu.abort_reason_text(reply) + " during association negotiation")
    if not isinstance(reply, AAssociateAC):
        raise PDUError(f"expected A-ASSOCIATE-AC, received {pdu.PDU_NAMES[_TYPE_OF[type(reply)]]}", 2)
    assoc.peer_max_length = reply.max_length
    assoc.peer_implementation_class_uid = reply.implementation_class_uid
    assoc.peer_implementation_version_name = reply.implementation_version_name
    assoc.user_identity_response = reply.user_identity_response
    by_id = {c.context_id: c for c in rq.contexts}
    asked = {r.sop_class_uid: r for r in rq.roles}
    answered = {r.sop_class_uid: r for r in reply.roles}
    for ac in reply.contexts:
        rq_ctx = by_id.get(ac.context_id)
        if rq_ctx is None:
            continue
        scu, scp = True, False
        if rq_ctx.abstract_syntax in asked:
            a = asked[rq_ctx.abstract_syntax]
            b = answered.get(rq_ctx.abstract_syntax)
            # PS3.7 D.3.3.4: a role is granted when proposed and accepted; no answer means the defaults
            scu, scp = (a.scu_role and b.scu_role, a.scp_role and b.scp_role) if b else (True, False)
        assoc.contexts[ac.context_id] = AcceptedContext(
            ac.context_id, rq_ctx.abstract_syntax, ac.transfer_syntax, ac.result, scu, scp
        )
    assoc.is_established = True
    if not any(c.accepted for c in assoc.contexts.values()):
        raise AssociationRejectedError(f"{peer} accepted none of the {len(rq.contexts)} proposed presentation contexts")


# ------------------------------------------------------------------------------------------ acceptor


@dataclass
class AcceptPolicy:
    """What an acceptor answers.

    Attributes
    ----------
    ae_title : str
        This side's AE title.
    require_called_ae : bool
        Reject (source 1, reason 7) an A-ASSOCIATE-RQ whose called AE is not ``ae_title``.
    accept_abstract : callable
        ``(abstract syntax) -> bool``.
    transfer_syntaxes : list[str] | None
        Transfer syntaxes accepted in preference order; ``None`` accepts the first one proposed.
    scp_roles : bool
        Grant the requestor the SCP role when it asks (the storage server does not need it).
    """

    ae_title: str
    require_called_ae: bool = False
    accept_abstract: Callable[[str], bool] = lambda _a: True
    transfer_syntaxes: list[str] | None = None
    scp_roles: bool = False
    max_length: int = DEFAULT_MAX_PDU


def accept(sock: socket.socket, policy: AcceptPolicy, timeouts: Timeouts) -> Association | None:
    """Answer the A-ASSOCIATE-RQ waiting on ``sock`` (acceptor side).

    Returns
    -------
    Association | None
        Established, or ``None`` when the request was rejected (the socket is then closed).
    """
    assoc = Association(sock, timeouts, policy.max_length, is_requestor=False)
    rq = assoc.recv_pdu(timeouts.acse, "A-ASSOCIATE-RQ")
    if not isinstance(rq, AAssociateRQ):
        raise assoc._fail(PDUError(f"expected A-ASSOCIATE-RQ, received {type(rq).__name__}", 2), 2, 2)
    assoc.called_ae, assoc.calling_ae = rq.called_ae, rq.calling_ae
    assoc.peer_max_length = rq.max_length
    assoc.peer_implementation_class_uid = rq.implementation_class_uid
    assoc.peer_implementation_version_name = rq.implementation_version_name
    assoc.user_identity = rq.user_identity

    def reject(source: int, reason: int) -> None:
        with contextlib.suppress(NetworkError, OSError):
            assoc.send_pdu(AAssociateRJ(1, source, reason))
        assoc.close()

    if rq.protocol_version & 1 == 0:
        reject(2, 2)
        return None
    if rq.application_context != pdu.APPLICATION_CONTEXT:
        reject(1, 2)
        return None
    if policy.require_called_ae and rq.called_ae.strip() != policy.ae_title.strip():
        reject(1, 7)
        return None
    answers: list[PresentationContextAC] = []
    wanted = {r.sop_class_uid: r for r in rq.roles}
    granted: list[RoleSelection] = []
    for pc in rq.contexts:
        result, ts_uid = 3, ""
        if policy.accept_abstract(pc.abstract_syntax):
            result = 4
            prefs = policy.transfer_syntaxes
            if prefs is None:
                choice = next((t for t in pc.transfer_syntaxes if t), None)
            else:
                choice = next((t for t in prefs if t in pc.transfer_syntaxes), None)
            if choice is not None:
                result, ts_uid = 0, choice
        shown = ts_uid or (pc.transfer_syntaxes[0] if pc.transfer_syntaxes else "")
        answers.append(PresentationContextAC(pc.context_id, result, shown))
        scu, scp = True, False
        r = wanted.get(pc.abstract_syntax)
        if r is not None:
            scu, scp = r.scu_role, r.scp_role and policy.scp_roles
        assoc.contexts[pc.context_id] = AcceptedContext(pc.context_id, pc.abstract_syntax, ts_uid, result, scu, scp)
    for sop, r in wanted.items():
        granted.append(RoleSelection(sop, r.scu_role, r.scp_role and policy.scp_roles))
    ac = AAssociateAC(
        rq.called_ae,
        rq.calling_ae,
        answers,
        max_length=policy.max_length,
        implementation_class_uid=uid.IMPLEMENTATION_CLASS_UID,
        implementation_version_name=uid.IMPLEMENTATION_VERSION_NAME,
        roles=granted,
    )
    assoc.send_pdu(ac)
    assoc.is_established = True
    return assoc
