"""Write dicomfast/data/sample_ct.dcm, the small synthetic CT that ``dicomfast dump`` shows by default.

Made once at development time with pydicom (a test dependency, never a runtime one); the output is committed.
Every value is synthetic. Run: ``python scripts/make_sample.py``.
"""

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

OUT = Path(__file__).resolve().parent.parent / "dicomfast" / "data" / "sample_ct.dcm"


def main() -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = "2.25.278810649611137458240855164039095964111.1.1.1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "2.25.278810649611137458240855164039095964111"
    meta.ImplementationVersionName = "DICOMFAST_010"
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = "20260101"
    ds.Modality = "CT"
    ds.Manufacturer = "dicomfast"
    ds.PatientName = "Sample^Patient"
    ds.PatientID = "DF0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = "2.25.278810649611137458240855164039095964111.1"
    ds.SeriesInstanceUID = "2.25.278810649611137458240855164039095964111.1.1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.ImagePositionPatient = [-32.0, -32.0, 0.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceThickness = 1.0
    item = pydicom.Dataset()
    item.CodeValue = "T-D1100"
    item.CodingSchemeDesignator = "SRT"
    item.CodeMeaning = "Head"
    ds.AnatomicRegionSequence = Sequence([item])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 64
    ds.Columns = 64
    ds.PixelSpacing = [1.0, 1.0]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    y, x = np.mgrid[-32:32, -32:32]
    img = np.where(x * x + y * y < 28 * 28, 1064, 24).astype(np.uint16)
    img[(x * x + y * y) < 8 * 8] = 2024
    ds.PixelData = img.tobytes()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(OUT, enforce_file_format=True)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
