"""Extract encoded frames of a few reference files and print the Rust table for tests/pixel_codecs.rs.

Each fixture is one frame's codestream (`<name>.frame`) or a whole encapsulated Pixel Data value
(`<name>.pixdata`), and the expected result is pydicom 3's `pixel_array(path, index=i, raw=True)` cast to
the dtype dicomfast gives, hashed with FNV-1a 64. Run: python make_pixel_fixtures.py > table.txt
"""

import os
import sys

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.encaps import generate_frames
from pydicom.pixels import pixel_array

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = "/work/shared/corpus"

FILES = [
    # (name, path or pydicom test file, frame index, whole pixel data?)
    ("mr_small_rle", "MR_small_RLE.dcm", 0, False),
    ("sc_rgb_rle_32bit", "SC_rgb_rle_32bit.dcm", 0, False),
    ("sc_rgb_rle_16bit_2frame", "SC_rgb_rle_16bit_2frame.dcm", 1, False),
    ("sc_rgb_jpeg_dcmtk", "SC_rgb_jpeg_dcmtk.dcm", 0, False),
    ("sc_rgb_dcmtk_ybr422", "SC_rgb_dcmtk_+eb+cy+s2.dcm", 0, False),
    ("sc_jpeg_no_color_transform", "SC_jpeg_no_color_transform.dcm", 0, False),
    ("sc_rgb_jpeg_gdcm_lossless", "SC_rgb_jpeg_gdcm.dcm", 0, False),
    ("ct0012_jpeg_lossless_57", f"{CORPUS}/dicomparser__multi-frame_CT0012.fragmented_no_bot_jpeg_lossless.57.dcm", 1, True),
    ("sc_rgb_small_odd_jpeg", "SC_rgb_small_odd_jpeg.dcm", 0, False),
    ("mr_small_jls_lossless", "MR_small_jpeg_ls_lossless.dcm", 0, False),
    ("sc_rgb_jls_lossy_line", "SC_rgb_jls_lossy_line.dcm", 0, False),
    ("sc_rgb_jls_lossy_sample", "SC_rgb_jls_lossy_sample.dcm", 0, False),
    ("jls_near_lossless_16", "JPEGLSNearLossless_16.dcm", 0, False),
    ("mr_small_j2k_lossless", "MR_small_jp2klossless.dcm", 0, False),
    ("j2k_pixelrep_mismatch", "J2K_pixelrep_mismatch.dcm", 0, False),
    ("gdcm_j2k_text_gbr", "GDCMJ2K_TextGBR.dcm", 0, False),
    ("htj2k_mr3", f"{CORPUS}/dicomhtj2k__htj2k_MR3_JPH.dcm", 0, False),
    ("htj2k_us1_rct", f"{CORPUS}/dicomhtj2k__htj2k_US1_JPH.dcm", 0, False),
]


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def dtype_for(ds) -> np.dtype:
    ba = ds.BitsAllocated
    pr = ds.PixelRepresentation
    kind = "i" if pr else "u"
    return np.dtype(f"<{kind}{max(ba, 8) // 8}")


def main() -> None:
    for name, src, index, whole in FILES:
        path = src if os.path.isabs(src) else get_testdata_file(src)
        ds = pydicom.dcmread(path)
        n = int(getattr(ds, "NumberOfFrames", 1) or 1)
        if whole:
            data = ds.PixelData
            ext = "pixdata"
        else:
            frames = list(generate_frames(ds.PixelData, number_of_frames=n))
            data = frames[index]
            ext = "frame"
        with open(os.path.join(HERE, f"{name}.{ext}"), "wb") as f:
            f.write(data)
        arr = pixel_array(path, index=index, raw=True)
        ref = arr.astype(dtype_for(ds)).tobytes()
        flat = arr.reshape(-1)
        mid = len(flat) // 2
        print(
            f'    Fixture {{ name: "{name}.{ext}", ts: "{ds.file_meta.TransferSyntaxUID}", '
            f"rows: {ds.Rows}, columns: {ds.Columns}, spp: {ds.SamplesPerPixel}, ba: {ds.BitsAllocated}, "
            f"bs: {ds.BitsStored}, pr: {ds.PixelRepresentation}, planar: {getattr(ds, 'PlanarConfiguration', 0)}, "
            f'photometric: "{ds.PhotometricInterpretation}", frames: {n}, index: {index}, '
            f"fnv: 0x{fnv1a64(ref):016x}, first: {int(flat[0])}, middle: {int(flat[mid])} }},"
            f"  // {os.path.basename(path)}, {len(data)} bytes"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
