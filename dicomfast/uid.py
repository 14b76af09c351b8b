"""Well-known UIDs: transfer syntaxes and SOP classes, as constants named by keyword.

``dicomfast.uid.ExplicitVRLittleEndian == "1.2.840.10008.1.2.1"``; ``UID(value).name`` and ``.keyword``
look a UID up in the generated table (PS3.6 Table A-1).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable

from dicomfast import _native


class UID(str):
    """A UID string with its dictionary name, keyword and transfer syntax properties."""

    __slots__ = ()

    @property
    def name(self) -> str:
        """The UID's name, or the UID itself when unknown."""
        info = _native.uid_info(self)
        return info[1] if info else str(self)

    @property
    def keyword(self) -> str:
        """The UID's keyword, or ``""`` when unknown."""
        info = _native.uid_info(self)
        return info[0] if info else ""

    @property
    def is_transfer_syntax(self) -> bool:
        """Whether this is a known transfer syntax."""
        return str(self) in _TS

    @property
    def is_implicit_VR(self) -> bool:
        """Implicit VR encoding."""
        return not _TS[str(self)][1]

    @property
    def is_little_endian(self) -> bool:
        """Little endian byte order."""
        return not _TS[str(self)][2]

    @property
    def is_deflated(self) -> bool:
        """Deflated data set."""
        return _TS[str(self)][3]

    @property
    def is_encapsulated(self) -> bool:
        """Encapsulated (compressed) pixel data."""
        return _TS[str(self)][4]

    @property
    def is_compressed(self) -> bool:
        """Alias of :attr:`is_encapsulated`."""
        return self.is_encapsulated


_TS: dict[str, tuple[str, bool, bool, bool, bool]] = {
    uid: (kw, explicit, big, deflated, encaps)
    for uid, kw, explicit, big, deflated, encaps in _native.transfer_syntax_table()
}

TRANSFER_SYNTAXES: list[UID] = [UID(u) for u in _TS]

_g = globals()
for _uid, _kw, _name, _kind in _native.uid_table():
    if _kw and _kw.isidentifier():
        _g[_kw] = UID(_uid)

_PREFIX = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*\.")


def generate_uid(prefix: str | None = None, entropy_srcs: Iterable[str] | None = None) -> UID:
    """Make a new UID, at most 64 characters.

    By default ``2.25.`` and a UUID as a decimal integer (PS3.5 §B.2, ISO/IEC 9834-8); with ``prefix`` (an
    organisation's root ending with ``"."``), the prefix and decimal digits.

    With ``entropy_srcs`` the UID is the same for the same strings (a SHA-512 hash of them instead of a
    random UUID): a re-run of an anonymisation or a conversion gives the same UIDs.
    """
    if entropy_srcs is None:
        # A random UUID, or (after a prefix) 256 random bits: more digits than a UID has room for.
        number = uuid.uuid4().int if prefix is None else int.from_bytes(os.urandom(32), "big")
    else:
        digest = hashlib.sha512("".join(str(s) for s in entropy_srcs).encode("utf-8")).digest()
        number = int.from_bytes(digest[:16], "big") if prefix is None else int.from_bytes(digest, "big")
    if prefix is None:
        # A UUID-derived UID: the 128-bit number, as PS3.5 §B.2 sets it out (version bits of a hash kept).
        if entropy_srcs is not None:
            number = (number & ~(0xF << 76) & ~(0x3 << 62)) | (0x5 << 76) | (0x2 << 62)
        return UID(f"2.25.{number}")
    if len(prefix) > 62 or not _PREFIX.fullmatch(prefix):
        raise ValueError(
            f"UID prefix {prefix!r}: it must be numbers without leading zeros joined by '.', end with '.', "
            "and leave room for digits (62 characters at most)"
        )
    digits = str(number)[: 64 - len(prefix)]
    return UID(prefix + digits)


PYDICOM_IMPLEMENTATION_UID = UID("1.2.826.0.1.3680043.8.498.1")
IMPLEMENTATION_CLASS_UID = UID("2.25.278810649611137458240855164039095964111")
IMPLEMENTATION_VERSION_NAME = "DICOMFAST_010"

ImplicitVRLittleEndian = UID("1.2.840.10008.1.2")
ExplicitVRLittleEndian = UID("1.2.840.10008.1.2.1")
ExplicitVRBigEndian = UID("1.2.840.10008.1.2.2")
DeflatedExplicitVRLittleEndian = UID("1.2.840.10008.1.2.1.99")
RLELossless = UID("1.2.840.10008.1.2.5")
JPEGBaseline8Bit = UID("1.2.840.10008.1.2.4.50")
JPEGExtended12Bit = UID("1.2.840.10008.1.2.4.51")
JPEGLossless = UID("1.2.840.10008.1.2.4.57")
JPEGLosslessSV1 = UID("1.2.840.10008.1.2.4.70")
JPEGLSLossless = UID("1.2.840.10008.1.2.4.80")
JPEGLSNearLossless = UID("1.2.840.10008.1.2.4.81")
JPEG2000Lossless = UID("1.2.840.10008.1.2.4.90")
JPEG2000 = UID("1.2.840.10008.1.2.4.91")
HTJ2KLossless = UID("1.2.840.10008.1.2.4.201")
HTJ2KLosslessRPCL = UID("1.2.840.10008.1.2.4.202")
HTJ2K = UID("1.2.840.10008.1.2.4.203")
JPEGXLLossless = UID("1.2.840.10008.1.2.4.110")
JPEGXLJPEGRecompression = UID("1.2.840.10008.1.2.4.111")
JPEGXL = UID("1.2.840.10008.1.2.4.112")
DeflatedImageFrameCompression = UID("1.2.840.10008.1.2.8.1")
