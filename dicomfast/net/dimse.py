"""DIMSE command sets (PS3.7 §9.3, §6.3 and Annex E): group 0000, always Implicit VR Little Endian.

A command set is held as a plain ``dict`` from tag (``0x0000eeee``) to value; :func:`encode_command` writes
it with its (0000,0000) *Command Group Length* first and :func:`decode_command` reads it back. Only the
elements of PS3.7 Annex E are known; an unknown group 0000 element is kept as raw ``bytes``.
"""

from __future__ import annotations

import struct
from typing import Any

from dicomfast.errors import NetworkError

__all__ = [
    "C_CANCEL_RQ",
    "C_ECHO_RQ",
    "C_ECHO_RSP",
    "C_FIND_RQ",
    "C_FIND_RSP",
    "C_GET_RQ",
    "C_GET_RSP",
    "C_MOVE_RQ",
    "C_MOVE_RSP",
    "C_STORE_RQ",
    "C_STORE_RSP",
    "NO_DATASET",
    "DimseError",
    "Status",
    "decode_command",
    "encode_command",
]

C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_GET_RQ, C_GET_RSP = 0x0010, 0x8010
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
C_MOVE_RQ, C_MOVE_RSP = 0x0021, 0x8021
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
C_CANCEL_RQ = 0x0FFF
COMMAND_NAMES = {
    C_STORE_RQ: "C-STORE-RQ",
    C_STORE_RSP: "C-STORE-RSP",
    C_GET_RQ: "C-GET-RQ",
    C_GET_RSP: "C-GET-RSP",
    C_FIND_RQ: "C-FIND-RQ",
    C_FIND_RSP: "C-FIND-RSP",
    C_MOVE_RQ: "C-MOVE-RQ",
    C_MOVE_RSP: "C-MOVE-RSP",
    C_ECHO_RQ: "C-ECHO-RQ",
    C_ECHO_RSP: "C-ECHO-RSP",
    C_CANCEL_RQ: "C-CANCEL-RQ",
}

NO_DATASET = 0x0101
"""(0000,0800) *Command Data Set Type* value meaning "no data set follows"."""

# PS3.7 Annex E: element -> (keyword, VR)
COMMAND_ELEMENTS: dict[int, tuple[str, str]] = {
    0x0000: ("CommandGroupLength", "UL"),
    0x0002: ("AffectedSOPClassUID", "UI"),
    0x0003: ("RequestedSOPClassUID", "UI"),
    0x0100: ("CommandField", "US"),
    0x0110: ("MessageID", "US"),
    0x0120: ("MessageIDBeingRespondedTo", "US"),
    0x0600: ("MoveDestination", "AE"),
    0x0700: ("Priority", "US"),
    0x0800: ("CommandDataSetType", "US"),
    0x0900: ("Status", "US"),
    0x0901: ("OffendingElement", "AT"),
    0x0902: ("ErrorComment", "LO"),
    0x0903: ("ErrorID", "US"),
    0x1000: ("AffectedSOPInstanceUID", "UI"),
    0x1001: ("RequestedSOPInstanceUID", "UI"),
    0x1002: ("EventTypeID", "US"),
    0x1005: ("AttributeIdentifierList", "AT"),
    0x1008: ("ActionTypeID", "US"),
    0x1020: ("NumberOfRemainingSuboperations", "US"),
    0x1021: ("NumberOfCompletedSuboperations", "US"),
    0x1022: ("NumberOfFailedSuboperations", "US"),
    0x1023: ("NumberOfWarningSuboperations", "US"),
    0x1030: ("MoveOriginatorApplicationEntityTitle", "AE"),
    0x1031: ("MoveOriginatorMessageID", "US"),
}
TAGS: dict[str, int] = {kw: el for el, (kw, _) in COMMAND_ELEMENTS.items()}


class DimseError(NetworkError):
    """A DIMSE message that cannot be decoded or does not fit the exchange in progress."""


def _value_bytes(vr: str, value: Any) -> bytes:
    if vr == "US":
        return struct.pack("<H", value)
    if vr == "UL":
        return struct.pack("<L", value)
    if vr == "AT":
        vals = value if isinstance(value, list | tuple) else [value]
        return b"".join(struct.pack("<HH", v >> 16, v & 0xFFFF) for v in vals)
    if isinstance(value, bytes):
        raw = value
    else:
        raw = str(value).encode("ascii")
    if len(raw) % 2:
        raw += b"\0" if vr == "UI" else b" "
    return raw


def encode_command(command: dict[int, Any]) -> bytes:
    """Encode a command set in Implicit VR Little Endian, with its group length first.

    Parameters
    ----------
    command : dict[int, Any]
        Element number (or full tag ``0x0000eeee``) to value; (0000,0000) is computed and any value given
        for it is ignored.

    Returns
    -------
    bytes
        The command set, ready to be split into command PDVs.
    """
    body = []
    for tag in sorted(command):
        el = tag & 0xFFFF
        if el == 0 or command[tag] is None:
            continue
        vr = COMMAND_ELEMENTS.get(el, ("", "OB"))[1]
        raw = _value_bytes(vr, command[tag])
        body.append(struct.pack("<HHL", 0, el, len(raw)) + raw)
    data = b"".join(body)
    return struct.pack("<HHLL", 0, 0, 4, len(data)) + data


def decode_command(data: bytes) -> dict[int, Any]:
    """Decode a command set received in command PDVs.

    Raises
    ------
    DimseError
        When an element is not in group 0000 or its length runs past the end.
    """
    out: dict[int, Any] = {}
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 8:
            raise DimseError(f"command set: {end - pos} trailing bytes cannot hold an element header")
        group, el, n = struct.unpack_from("<HHL", data, pos)
        pos += 8
        if group != 0:
            raise DimseError(f"command set: element ({group:04x},{el:04x}) is not in group 0000")
        if n > end - pos:
            raise DimseError(f"command set: (0000,{el:04x}) declares {n} bytes but {end - pos} remain")
        raw = data[pos : pos + n]
        pos += n
        vr = COMMAND_ELEMENTS.get(el, ("", "OB"))[1]
        value: Any
        if vr == "US":
            if n != 2:
                raise DimseError(f"command set: (0000,{el:04x}) US value has {n} bytes")
            value = struct.unpack("<H", raw)[0]
        elif vr == "UL":
            if n != 4:
                raise DimseError(f"command set: (0000,{el:04x}) UL value has {n} bytes")
            value = struct.unpack("<L", raw)[0]
        elif vr == "AT":
            vals = [(g << 16) | e for g, e in struct.iter_unpack("<HH", raw[: n - n % 4])]
            value = vals[0] if len(vals) == 1 else vals
        elif vr == "OB":
            value = bytes(raw)
        else:
            value = raw.decode("ascii", "replace").rstrip("\0 ").lstrip(" ")
        out[el] = value
    return out


def command_name(command: dict[int, Any]) -> str:
    """The message name (``"C-FIND-RSP"``) of a decoded command set."""
    field = command.get(0x0100)
    if not isinstance(field, int):
        return "no command field"
    return COMMAND_NAMES.get(field, f"command 0x{field:04x}")


# ---------------------------------------------------------------------------------------------- status


class Status(int):
    """A DIMSE status (0000,0900) with the other elements of its response.

    Compares equal to the status code. ``status.Status``, ``status.ErrorComment``,
    ``status.NumberOfCompletedSuboperations`` and the other Annex E keywords read the response's command
    set as pynetdicom's status ``Dataset`` does; a missing one raises ``AttributeError``.
    """

    command: dict[int, Any]

    def __new__(cls, code: int, command: dict[int, Any] | None = None) -> Status:
        """Wrap ``code`` and the response command set it came in."""
        self = super().__new__(cls, code)
        self.command = command if command is not None else {0x0900: code}
        return self

    def __getattr__(self, name: str) -> Any:
        if name == "command":
            raise AttributeError(name)
        el = TAGS.get(name)
        if el is None or el not in self.command:
            raise AttributeError(name)
        return self.command[el]

    def __contains__(self, keyword: str) -> bool:
        return TAGS.get(keyword, -1) in self.command

    @property
    def category(self) -> str:
        """``"Success"``, ``"Pending"``, ``"Cancel"``, ``"Warning"`` or ``"Failure"`` (PS3.7 Annex C)."""
        c = int(self)
        if c == 0x0000:
            return "Success"
        if c in (0xFF00, 0xFF01):
            return "Pending"
        if c == 0xFE00:
            return "Cancel"
        if c in (0x0001, 0x0107, 0x0116) or 0xB000 <= c <= 0xBFFF:
            return "Warning"
        return "Failure"

    @property
    def is_pending(self) -> bool:
        """Pending (0xFF00 or 0xFF01): more responses follow."""
        return self in (0xFF00, 0xFF01)

    @property
    def is_success(self) -> bool:
        """Success (0x0000)."""
        return int(self) == 0

    def __repr__(self) -> str:
        comment = self.command.get(0x0902)
        return f"Status(0x{int(self):04X} {self.category}{', ' + repr(comment) if comment else ''})"
