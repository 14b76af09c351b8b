"""Exceptions raised by dicomfast.

Every error raised for bad DICOM data derives from :class:`DicomError`; parse errors carry ``.offset``
(byte offset) and ``.tag`` (``0xggggeeee``) where known. I/O errors are the built-in ``OSError`` family and
timeouts are ``TimeoutError``.
"""

from dicomfast._native import (
    DecodeError,
    DicomError,
    InvalidDicomError,
    InvalidValueError,
    LimitError,
    ParseError,
    UnsupportedTransferSyntaxError,
)


class DicomWarning(UserWarning):
    """A fault met while reading with ``on_error="warn"``: the data set holds what could be read around it."""


class NetworkError(DicomError):
    """A DICOM network operation failed."""


class AssociationRejectedError(NetworkError):
    """The peer rejected the association (A-ASSOCIATE-RJ)."""


class AssociationAbortedError(NetworkError):
    """The association was aborted (A-ABORT / A-P-ABORT)."""


__all__ = [
    "AssociationAbortedError",
    "AssociationRejectedError",
    "DecodeError",
    "DicomError",
    "DicomWarning",
    "InvalidDicomError",
    "InvalidValueError",
    "LimitError",
    "NetworkError",
    "ParseError",
    "UnsupportedTransferSyntaxError",
]
