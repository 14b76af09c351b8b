"""The DICOM network client and storage server (PS3.7 DIMSE-C over the PS3.8 upper layer).

>>> from dicomfast import net
>>> with net.connect("127.0.0.1", 11112, called_ae="ORTHANC") as assoc:  # doctest: +SKIP
...     assoc.echo()
...     results = list(assoc.find({"PatientName": "A*", "StudyInstanceUID": ""}, level="STUDY"))

Blocking API: :func:`connect` returns a :class:`ClientAssociation` with ``echo``, ``store``, ``find``, ``get``,
``move``, ``release`` and ``abort``; :class:`StorageServer` answers C-ECHO and C-STORE. The asyncio API with the
same verbs is :mod:`dicomfast.net.aio`. Data sets are encoded and decoded by the core.
"""

from dicomfast.errors import AssociationAbortedError, AssociationRejectedError, NetworkError
from dicomfast.net.association import Timeouts
from dicomfast.net.client import (
    DEFAULT_CONTEXTS,
    QR_MODELS,
    STORAGE_CLASSES,
    UNCOMPRESSED,
    ClientAssociation,
    RetrieveResult,
    Verification,
    connect,
    storage_contexts,
)
from dicomfast.net.dimse import DimseError, Status
from dicomfast.net.pdu import PDUError, RoleSelection
from dicomfast.net.server import StorageServer, StoreEvent, store_into_directory

__all__ = [
    "DEFAULT_CONTEXTS",
    "QR_MODELS",
    "STORAGE_CLASSES",
    "UNCOMPRESSED",
    "AssociationAbortedError",
    "AssociationRejectedError",
    "ClientAssociation",
    "DimseError",
    "NetworkError",
    "PDUError",
    "RetrieveResult",
    "RoleSelection",
    "Status",
    "StorageServer",
    "StoreEvent",
    "Timeouts",
    "Verification",
    "connect",
    "storage_contexts",
    "store_into_directory",
]
