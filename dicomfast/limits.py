"""The resource limits that keep a malformed file or a hostile peer from exhausting dicomfast.

Each limit has a safe default; exceeding one raises a :class:`~dicomfast.DicomError` whose message names the
limit and says how to raise it.

=====================================  ==============  =======================================================
limit                                  default         where it is set
=====================================  ==============  =======================================================
sequence nesting depth                 64              ``dcmread(..., max_depth=N)`` (``LimitError``)
elements in one file (all levels)      50,000,000      ``dcmread(..., max_elements=N)`` (``LimitError``)
element length beyond the bytes        none            not settable: a length that runs past the data is a
present                                                ``ParseError`` (``on_error="collect"`` keeps the bytes
                                                       present)
decoded bytes per compressed byte      10,000          ``set_limits(max_expansion=N)`` (``DecodeError``)
(``max_expansion``)
decoded size accepted whatever the     64 MiB          ``set_limits(unchecked_decoded_bytes=N)``
compressed bytes present                               (``DecodeError``)
(``unchecked_decoded_bytes``)
native frames shorter than the header  none            not settable: every native frame asked for must be
says                                                   present in full (``DecodeError``)
PDU length accepted from a peer        1 MiB           ``net.connect(..., max_pdu=N)``,
                                                       ``net.StorageServer(..., max_pdu=N)`` (``NetworkError``)
=====================================  ==============  =======================================================

Every frame a codec decodes is also checked against the size the header gives for it, before the codec runs
and after (a codec never writes past its frame). The two pixel limits are process-wide:

>>> import dicomfast
>>> dicomfast.get_limits()["max_expansion"]
10000
"""

from __future__ import annotations

from dicomfast import _native

__all__ = ["get_limits", "set_limits"]


def get_limits() -> dict[str, int]:
    """The process-wide pixel decoding limits in force: ``max_expansion`` and ``unchecked_decoded_bytes``."""
    max_expansion, unchecked = _native.get_limits()
    return {"max_expansion": max_expansion, "unchecked_decoded_bytes": unchecked}


def set_limits(*, max_expansion: int | None = None, unchecked_decoded_bytes: int | None = None) -> dict[str, int]:
    """Set the process-wide pixel decoding limits (``None`` keeps one as it is); returns the previous ones.

    Parameters
    ----------
    max_expansion : int, optional
        Most decoded bytes accepted per byte of compressed Pixel Data (at least 1).
    unchecked_decoded_bytes : int, optional
        Decodes of up to this many bytes are accepted whatever the Pixel Data holds.
    """
    for name, v in (("max_expansion", max_expansion), ("unchecked_decoded_bytes", unchecked_decoded_bytes)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise ValueError(f"{name} must be a non-negative int, not {v!r}")
    before = get_limits()
    _native.set_limits(max_expansion, unchecked_decoded_bytes)
    return before
