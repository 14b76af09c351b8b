"""pack_bits / unpack_bits (1-bit Pixel Data, PS3.5 §8.1.1) against pydicom's, and on real 1-bit files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dicomfast
from tests.conftest import CORPUS

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.pixels import pack_bits as pd_pack_bits  # noqa: E402
from pydicom.pixels import unpack_bits as pd_unpack_bits  # noqa: E402


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (8,), (9,), (3, 5), (2, 13, 11), (4, 64, 64)])
def test_pack_bits_as_pydicom(shape: tuple[int, ...]) -> None:
    arr = np.random.default_rng(sum(shape)).integers(0, 2, size=shape, dtype=np.uint8)
    for pad in (True, False):
        assert dicomfast.pack_bits(arr, pad) == pd_pack_bits(arr, pad)
    assert dicomfast.pack_bits(arr.astype(bool)) == pd_pack_bits(arr)
    assert dicomfast.pack_bits(arr.astype(np.int64)) == pd_pack_bits(arr)


def test_unpack_bits_as_pydicom() -> None:
    src = np.random.default_rng(5).integers(0, 256, 37, dtype=np.uint8).tobytes()
    ours = dicomfast.unpack_bits(src)
    assert isinstance(ours, np.ndarray)
    assert ours.dtype == np.uint8
    assert (ours == pd_unpack_bits(src)).all()
    assert dicomfast.unpack_bits(src, as_array=False) == pd_unpack_bits(src, as_array=False)


REAL_1_BIT = [
    "liver.dcm",  # pydicom's test files
    # ../shared/corpus: frames of 10 x 10 pixels packed across byte boundaries, and a 7 x 512 x 512 SEG
    "highdicom__seg_image_sm_numbers.dcm",
    "highdicom__seg_image_ct_binary.dcm",
    "dcmqi__segmentations_partial_overlaps.dcm",
]


@pytest.mark.parametrize("name", REAL_1_BIT)
def test_bits_of_real_1_bit_files(name: str) -> None:
    path = CORPUS / name if "__" in name else Path(get_testdata_file(name))
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    ds = dicomfast.dcmread(path)
    assert ds.BitsAllocated == 1
    arr = ds.pixel_array
    bits = dicomfast.unpack_bits(ds.PixelData)
    assert (bits[: arr.size] == arr.ravel()).all()
    # Packed again, the Pixel Data value comes back (an odd length gets its pad byte, PS3.5 §7.1.1).
    assert dicomfast.pack_bits(arr) == ds.PixelData


def test_pack_bits_refuses_other_values() -> None:
    with pytest.raises(ValueError, match="binary"):
        dicomfast.pack_bits(np.array([0, 1, 2], dtype=np.uint8))
