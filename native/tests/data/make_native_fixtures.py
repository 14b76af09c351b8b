"""Write native Pixel Data values of a few pydicom test files and print the Rust table for
tests/pixel_native.rs: expected = FNV-1a 64 of pydicom 3's `pixel_array(path, index=i, raw=True)`.

Run: python make_native_fixtures.py > table.txt
"""

import os

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.pixels import pixel_array

from make_pixel_fixtures import dtype_for, fnv1a64

HERE = os.path.dirname(os.path.abspath(__file__))

FILES = [
    ("explvr_bigend_rgb_planar", "ExplVR_BigEnd.dcm", 0),
    ("mr_small_bigendian", "MR_small_bigendian.dcm", 0),
    ("sc_rgb_small_odd", "SC_rgb_small_odd.dcm", 0),
    ("sc_rgb_small_odd_big_endian", "SC_rgb_small_odd_big_endian.dcm", 0),
    ("sc_ybr_full_422_uncompressed", "SC_ybr_full_422_uncompressed.dcm", 0),
    ("liver_expb_1frame", "liver_expb_1frame.dcm", 0),
    ("rtdose_expb", "rtdose_expb.dcm", 7),
    ("rtdose", "rtdose.dcm", 14),
    ("ct_small", "CT_small.dcm", 0),
]


def main() -> None:
    for name, src, index in FILES:
        path = get_testdata_file(src)
        ds = pydicom.dcmread(path)
        n = int(getattr(ds, "NumberOfFrames", 1) or 1)
        data = ds.PixelData
        with open(os.path.join(HERE, f"{name}.native"), "wb") as f:
            f.write(data)
        arr = pixel_array(path, index=index, raw=True)
        ref = arr.astype(dtype_for(ds)).tobytes()
        be = not ds.file_meta.TransferSyntaxUID.is_little_endian
        if ds.BitsAllocated == 8 and ds["PixelData"].VR == "OB":
            be = False
        flat = arr.reshape(-1)
        print(
            f'    Native {{ name: "{name}.native", big_endian: {str(be).lower()}, '
            f"rows: {ds.Rows}, columns: {ds.Columns}, spp: {ds.SamplesPerPixel}, ba: {ds.BitsAllocated}, "
            f"bs: {ds.BitsStored}, pr: {ds.PixelRepresentation}, planar: {getattr(ds, 'PlanarConfiguration', 0)}, "
            f'photometric: "{ds.PhotometricInterpretation}", frames: {n}, index: {index}, '
            f"fnv: 0x{fnv1a64(ref):016x}, first: {int(flat[0])}, middle: {int(flat[len(flat) // 2])} }},"
            f"  // {src}"
        )


if __name__ == "__main__":
    main()
