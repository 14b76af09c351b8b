"""The asyncio API: the same services as :func:`dicomfast.net.connect`, on an event loop.

>>> from dicomfast.net import aio
>>> async def main():  # doctest: +SKIP
...     async with await aio.connect("127.0.0.1", 11112, called_ae="ORTHANC") as assoc:
...         await assoc.echo()
...         async for status, identifier in assoc.find({"PatientName": "*", "StudyInstanceUID": ""}, "STUDY"):
...             print(identifier.PatientName)

The services are the flows of :mod:`dicomfast.net.client` (written once), driven here by an
:class:`asyncio.Protocol` that sets ``TCP_NODELAY`` and re-arms ``TCP_QUICKACK`` in ``data_received``, right
after the event loop's ``recv``. Timeouts behave as in the blocking API: each one aborts the association and
raises :class:`TimeoutError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from dicomfast.dataset import Dataset
from dicomfast.errors import AssociationAbortedError, AssociationRejectedError, NetworkError
from dicomfast.net import association as al
from dicomfast.net import client, dimse, pdu
from dicomfast.net.association import RELEASED, Association, Message, Timeouts
from dicomfast.net.dimse import Status
from dicomfast.net.pdu import AAbort, AReleaseRP, AReleaseRQ, PDUError, RoleSelection, UserIdentity
from dicomfast.net.server import StoreEvent

__all__ = ["AsyncClientAssociation", "connect"]


class _Protocol(asyncio.Protocol):
    """Buffers received bytes, re-arms TCP_QUICKACK after each receive, and tracks write flow control."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.error: BaseException | None = None
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._sock: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._sock = transport.get_extra_info("socket")
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._quickack()

    def _quickack(self) -> None:
        if al._QUICKACK is not None and self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.IPPROTO_TCP, al._QUICKACK, 1)

    def _wake(self) -> None:
        w, self._data_waiter = self._data_waiter, None
        if w is not None and not w.done():
            w.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._quickack()
        self.buf += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()
        w, self._drain_waiter = self._drain_waiter, None
        if w is not None and not w.done():
            w.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        w, self._drain_waiter = self._drain_waiter, None
        if w is not None and not w.done():
            w.set_result(None)

    def data_waiter(self) -> asyncio.Future[None]:
        """A future set by the next receive, EOF or loss.

        Created here, synchronously: a coroutine handed to ``asyncio.wait_for`` runs one loop turn later on
        Python 3.11, and bytes arriving in that turn would find no waiter and be noticed only at the timeout.
        """
        self._data_waiter = asyncio.get_running_loop().create_future()
        return self._data_waiter

    def drain_waiter(self) -> asyncio.Future[None] | None:
        """A future set when writing may go on, or ``None`` when it may go on now (created synchronously)."""
        if not self._paused or self.closed:
            return None
        self._drain_waiter = asyncio.get_running_loop().create_future()
        return self._drain_waiter


class AsyncClientAssociation:
    """A requestor's association on asyncio; obtain one with :func:`connect`.

    The verbs mirror :class:`~dicomfast.net.ClientAssociation`: ``await echo()``, ``await store(src)``,
    ``async for status, identifier in find(query, level)``, ``await get(...)``, ``await move(...)``,
    ``await release()``, ``abort()``.
    """

    def __init__(self, state: Association, proto: _Protocol) -> None:
        self.assoc = state
        self._proto = proto
        self._open_find: AsyncGenerator[Any, None] | None = None

    async def __aenter__(self) -> AsyncClientAssociation:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            await self.release()
        else:
            self.abort()

    @property
    def is_established(self) -> bool:
        """Whether the association is up."""
        return self.assoc.is_established

    @property
    def accepted_contexts(self) -> list[tuple[str, str]]:
        """``(abstract syntax, transfer syntax)`` of every accepted presentation context."""
        return [(c.abstract_syntax, c.transfer_syntax) for c in self.assoc.contexts.values() if c.accepted]

    # ------------------------------------------------------------------------------------------- I/O

    def _close(self) -> None:
        self.assoc.is_established = False
        t = self._proto.transport
        if t is not None and not t.is_closing():
            t.abort()

    def abort(self, source: int = 0, reason: int = 0) -> None:
        """Send an A-ABORT and close the connection."""
        t = self._proto.transport
        if t is not None and not t.is_closing():
            with contextlib.suppress(Exception):
                t.write(pdu.encode(AAbort(source, reason)))
            t.close()
        self.assoc.is_established = False

    def _fail(self, exc: BaseException, source: int = 0, reason: int = 0, send_abort: bool = True) -> BaseException:
        if send_abort:
            self.abort(source, reason)
        else:
            self._close()
        return exc

    async def _read(self, n: int, timeout: float | None, what: str, consume: bool = True) -> bytes:
        """``n`` bytes, each wait for more data bounded by ``timeout`` seconds."""
        proto = self._proto
        while len(proto.buf) < n:
            if proto.closed:
                raise self._fail(
                    AssociationAbortedError(f"the peer closed the connection while we waited for {what}"),
                    send_abort=False,
                )
            if timeout is not None and timeout <= 0:
                raise self._fail(TimeoutError(f"timed out waiting for {what}"))
            try:
                await asyncio.wait_for(proto.data_waiter(), timeout)
            except asyncio.TimeoutError:
                raise self._fail(TimeoutError(f"timed out waiting for {what}")) from None
        if not consume:
            return b""
        out = bytes(proto.buf[:n])
        del proto.buf[:n]
        return out

    async def recv_pdu(self, first_timeout: float | None, what: str = "a PDU") -> pdu.PDU:
        """Receive one PDU (first byte within ``first_timeout``, then no pause longer than the network timeout)."""
        await self._read(1, first_timeout, what, consume=False)
        net = self.assoc.timeouts.network
        header = await self._read(6, net, what)
        try:
            pdu_type, length = pdu.parse_header(header, self.assoc.max_length)
            body = await self._read(length, net, f"the rest of a {pdu.PDU_NAMES[pdu_type]}")
            return pdu.decode(pdu_type, body)
        except PDUError as e:
            raise self._fail(e, 2, e.abort_reason) from None

    async def _send(self, data: bytes) -> None:
        t = self._proto.transport
        if t is None or t.is_closing():
            raise AssociationAbortedError("the association is closed")
        t.write(data)
        waiter = self._proto.drain_waiter()
        if waiter is None:
            return
        try:
            await asyncio.wait_for(waiter, self.assoc.timeouts.network)
        except asyncio.TimeoutError:
            raise self._fail(TimeoutError("timed out sending a PDU (the peer stopped reading)")) from None

    async def send_message(self, context_id: int, command: dict[int, Any], dataset: Any = None) -> None:
        """Send one DIMSE message (one write per PDU)."""
        for data in al.pdata_pdus(context_id, command, dataset, self.assoc.peer_max_length):
            await self._send(data)

    async def recv_message(self, first_timeout: float | None, sink: Any = None) -> Message:
        """Receive one complete DIMSE message."""
        asm = self.assoc.assembler
        asm.start(sink)
        timeout, what = first_timeout, "a DIMSE message"
        while True:
            try:
                msg = asm.next_message()
                if msg is not None:
                    return msg
                p = await self.recv_pdu(timeout, what)
                timeout, what = self.assoc.timeouts.network, "the rest of a DIMSE message"
                got = asm.feed(p)
            except (PDUError, dimse.DimseError) as e:
                raise self._fail(e, 2, getattr(e, "abort_reason", 6)) from None
            except AssociationAbortedError:
                self._close()
                raise
            if got is not None and got is not RELEASED:
                return got  # type: ignore[return-value]

    # ---------------------------------------------------------------------------------------- driver

    async def _drive(self, flow: client.Flow, cleanup: bool = True) -> AsyncGenerator[Any, None]:
        if cleanup:
            await self._finish_open_find()
        if not self.assoc.is_established:
            raise NetworkError("the association is not established (released or aborted)")
        value: Any = None
        throw: BaseException | None = None
        stopping = in_progress = False
        try:
            while True:
                try:
                    action = flow.throw(throw) if throw is not None else flow.send(value)
                except StopIteration as stop:
                    if stop.value is not None:
                        yield ("result", stop.value)
                    return
                throw, value = None, None
                kind = action[0]
                if kind == "send":
                    in_progress = True
                    await self.send_message(action[1], action[2], action[3])
                elif kind == "recv":
                    value = await self.recv_message(action[1], action[2])
                elif kind == "call":
                    r = action[1](action[2])
                    if isinstance(r, Awaitable):
                        await r
                elif kind == "emit" and not stopping:
                    try:
                        yield ("emit", action[1])
                    except GeneratorExit:
                        stopping, throw = True, client._Cancel()
        except dimse.DimseError:
            self.abort(2, 6)
            raise
        except BaseException:
            if in_progress and self.assoc.is_established:
                self.abort()
            raise

    async def _run(self, flow: client.Flow) -> Any:
        result = None
        async for kind, value in self._drive(flow):
            if kind == "result":
                result = value
        return result

    # -------------------------------------------------------------------------------------- services

    async def echo(self) -> Status:
        """C-ECHO; returns the status."""
        return await self._run(client.echo_flow(self.assoc))  # type: ignore[no-any-return]

    async def store(self, src: str | os.PathLike[str] | bytes | Dataset, priority: int = 0) -> Status:
        """C-STORE one file, Part 10 bytes or Dataset; returns the status."""
        return await self._run(client.store_flow(self.assoc, src, priority))  # type: ignore[no-any-return]

    async def store_many(
        self,
        sources: Iterable[str | os.PathLike[str] | bytes | Dataset],
        progress: Callable[[int, Status], Any] | None = None,
    ) -> list[Status]:
        """C-STORE each source in turn over this association; ``progress(i, status)`` after each."""
        out = []
        for i, src in enumerate(sources):
            st = await self.store(src)
            out.append(st)
            if progress is not None:
                r = progress(i, st)
                if isinstance(r, Awaitable):
                    await r
        return out

    async def find(
        self, query: Dataset | dict[str, Any], level: str | None = None, model: str = "S", priority: int = 0
    ) -> AsyncIterator[tuple[Status, Dataset | None]]:
        """C-FIND: ``async for status, identifier in assoc.find(...)``; breaking out sends C-CANCEL."""
        await self._finish_open_find()
        gen = self._drive(client.find_flow(self.assoc, query, level, model, priority), cleanup=False)
        self._open_find = gen
        try:
            async for kind, value in gen:
                if kind == "emit":
                    yield value
        finally:
            self._open_find = None
            await gen.aclose()

    async def _finish_open_find(self) -> None:
        """Cancel a C-FIND whose loop was left early: ``break`` does not close an async generator at once."""
        gen, self._open_find = self._open_find, None
        if gen is not None:
            await gen.aclose()

    async def get(
        self,
        query: Dataset | dict[str, Any],
        level: str | None = None,
        model: str = "S",
        *,
        directory: str | os.PathLike[str] | None = None,
        handler: Callable[[StoreEvent], int | None] | None = None,
        progress: Callable[[client.RetrieveResult], Any] | None = None,
        priority: int = 0,
    ) -> client.RetrieveResult:
        """C-GET into ``directory`` or ``handler`` (see :meth:`dicomfast.net.ClientAssociation.get`)."""
        flow = client.get_flow(self.assoc, query, level, model, priority, directory, handler, progress)
        return await self._run(flow)  # type: ignore[no-any-return]

    async def move(
        self,
        query: Dataset | dict[str, Any],
        destination: str,
        level: str | None = None,
        model: str = "S",
        *,
        progress: Callable[[client.RetrieveResult], Any] | None = None,
        priority: int = 0,
    ) -> client.RetrieveResult:
        """C-MOVE to ``destination``; returns the sub-operation counts."""
        flow = client.move_flow(self.assoc, query, destination, level, model, priority, progress)
        return await self._run(flow)  # type: ignore[no-any-return]

    async def release(self) -> None:
        """A-RELEASE (aborts when the peer does not answer within the ACSE timeout)."""
        if not self.assoc.is_established:
            self._close()
            return
        self.assoc.is_established = False
        try:
            await self._send(pdu.encode(AReleaseRQ()))
            acse = self.assoc.timeouts.acse
            deadline = None if acse is None else time.monotonic() + acse
            while True:
                left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
                p = await self.recv_pdu(left, "A-RELEASE-RP")
                if isinstance(p, AReleaseRP | AAbort):
                    break
                if isinstance(p, AReleaseRQ):
                    await self._send(pdu.encode(AReleaseRP()))
        except (NetworkError, TimeoutError, OSError):
            pass
        finally:
            t = self._proto.transport
            if t is not None:
                t.close()


async def connect(
    host: str,
    port: int,
    called_ae: str = "ANY-SCP",
    calling_ae: str = "DICOMFAST",
    *,
    timeout: float | None = 10.0,
    acse_timeout: float | None = 30.0,
    dimse_timeout: float | None = 30.0,
    network_timeout: float | None = 60.0,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    contexts: Iterable[client.ContextSpec] | None = None,
    roles: Iterable[RoleSelection] | None = None,
    max_pdu: int = al.DEFAULT_MAX_PDU,
    username: str | None = None,
    password: str | None = None,
) -> AsyncClientAssociation:
    """Open an association on the running event loop; the parameters are those of :func:`dicomfast.net.connect`.

    Raises
    ------
    ConnectionRefusedError, OSError, ssl.SSLError, TimeoutError, AssociationRejectedError, AssociationAbortedError
    """
    ctx = client._contexts(contexts)
    ident = None
    if username is not None:
        ident = UserIdentity(2 if password is not None else 1, username.encode(), (password or "").encode())
    rq = al.build_request(
        called_ae, calling_ae, ctx, client._roles(ctx) if roles is None else list(roles), max_pdu, ident
    )
    data = pdu.encode(rq)
    loop = asyncio.get_running_loop()
    try:
        _, proto = await asyncio.wait_for(
            loop.create_connection(
                _Protocol, host, port, ssl=tls, server_hostname=(server_hostname or host) if tls else None
            ),
            timeout,
        )
    except asyncio.TimeoutError:
        raise TimeoutError(f"timed out connecting to {host}:{port} after {timeout} s") from None
    state = Association(None, Timeouts(timeout, acse_timeout, dimse_timeout, network_timeout), max_pdu, True)
    state.called_ae, state.calling_ae = called_ae, calling_ae
    a = AsyncClientAssociation(state, proto)
    try:
        await a._send(data)
        reply = await a.recv_pdu(acse_timeout, "A-ASSOCIATE-AC")
        al.complete_request(state, rq, reply, f"{called_ae} at {host}:{port}")
    except PDUError as e:
        raise a._fail(e, 2, e.abort_reason) from None
    except (AssociationRejectedError, AssociationAbortedError):
        if state.is_established:
            await a.release()
        a._close()
        raise
    except BaseException:
        a._close()
        raise
    return a
