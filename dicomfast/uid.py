"""Well-known UIDs: transfer syntaxes and SOP classes, as constants named by keyword.

``dicomfast.uid.ExplicitVRLittleEndian == "1.2.840.10008.1.2.1"``; ``UID(value).name`` and ``.keyword``
look a UID up in the generated table (PS3.6 Table A-1).
"""

from __future__ import annotations

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
