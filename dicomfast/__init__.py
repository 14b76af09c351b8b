"""dicomfast: a fast DICOM toolkit for Python with a Rust core.

>>> import dicomfast
>>> ds = dicomfast.dcmread("image.dcm", stop_before_pixels=True)  # doctest: +SKIP
>>> ds.PatientName, ds.Modality  # doctest: +SKIP
"""

from dicomfast import _native, encaps
from dicomfast.codec import compress, decompress, set_pixel_data, transcode
from dicomfast.dataset import (
    DataElement,
    Dataset,
    FileMetaDataset,
    PersonName,
    PrivateBlock,
    Sequence,
    Tag,
    dcmread,
    dictionary_keyword,
    dictionary_VR,
    keyword_for_tag,
    tag_for_keyword,
)
from dicomfast.errors import (
    DecodeError,
    DicomError,
    InvalidDicomError,
    LimitError,
    ParseError,
    UnsupportedTransferSyntaxError,
)
from dicomfast.filewriter import dcmwrite, encode_dataset
from dicomfast.limits import get_limits, set_limits
from dicomfast.pixels import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi_lut,
    apply_windowing,
    convert_color_space,
    iter_pixels,
    pack_bits,
    pixel_array,
    unpack_bits,
)
from dicomfast.scan import scan, scan_batches, scan_to_parquet
from dicomfast.volume import Volume, list_series, read_series

__version__: str = _native.__version__

__all__ = [
    "DataElement",
    "Dataset",
    "DecodeError",
    "DicomError",
    "FileMetaDataset",
    "InvalidDicomError",
    "LimitError",
    "ParseError",
    "PersonName",
    "PrivateBlock",
    "Sequence",
    "Tag",
    "UnsupportedTransferSyntaxError",
    "Volume",
    "__version__",
    "apply_color_lut",
    "apply_modality_lut",
    "apply_voi_lut",
    "apply_windowing",
    "compress",
    "convert_color_space",
    "dcmread",
    "dcmwrite",
    "decompress",
    "dictionary_VR",
    "dictionary_keyword",
    "encaps",
    "encode_dataset",
    "get_limits",
    "iter_pixels",
    "keyword_for_tag",
    "list_series",
    "pack_bits",
    "pixel_array",
    "read_series",
    "scan",
    "scan_batches",
    "scan_to_parquet",
    "set_limits",
    "set_pixel_data",
    "tag_for_keyword",
    "transcode",
    "unpack_bits",
]
