"""The Dataset API: access by keyword, tag and pair; iteration; file meta; sequences; sources; JSON; pydicom."""

from __future__ import annotations

import copy
import io
import pickle
from pathlib import Path

import numpy as np
import pytest

import dicomfast
from dicomfast import DataElement, Dataset, PersonName, Sequence, Tag

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

CT = Path(get_testdata_file("CT_small.dcm"))
MR_BE = Path(get_testdata_file("MR_small_bigendian.dcm"))
NESTED = Path(get_testdata_file("rtplan.dcm"))
DEFLATED = Path(get_testdata_file("image_dfl.dcm"))
NO_PREAMBLE = Path(get_testdata_file("ExplVR_LitEndNoMeta.dcm"))


def test_keyword_tag_and_pair_access() -> None:
    ds = dicomfast.dcmread(CT)
    assert ds.PatientName == "CompressedSamples^CT1"
    assert isinstance(ds.PatientName, PersonName)
    assert ds.PatientName.family_name == "CompressedSamples"
    assert ds.PatientName.given_name == "CT1"
    assert ds.Rows == 128
    assert ds.PixelSpacing == [0.661468, 0.661468]
    assert ds.ImageType == ["ORIGINAL", "PRIMARY", "AXIAL"]
    elem = ds[0x00100010]
    assert isinstance(elem, DataElement)
    assert elem.tag == 0x00100010
    assert elem.VR == "PN"
    assert elem.keyword == "PatientName"
    assert elem.name == "Patient's Name"
    assert elem.VM == 1
    assert ds[0x0010, 0x0010].value == ds["PatientName"].value == ds.PatientName
    assert ds[Tag("PatientName")].value == ds.PatientName


def test_missing_keyword_and_tag() -> None:
    ds = dicomfast.dcmread(CT)
    with pytest.raises(AttributeError):
        _ = ds.PatientMotherBirthName
    with pytest.raises(KeyError):
        _ = ds[0x00101060]
    with pytest.raises(AttributeError):
        _ = ds.NotAKeywordAtAll
    assert ds.get("PatientMotherBirthName") is None
    assert ds.get("PatientMotherBirthName", "x") == "x"
    assert ds.get(0x00101060) is None
    assert "PatientName" in ds
    assert 0x00100010 in ds
    assert (0x0010, 0x0010) in ds
    assert "PatientMotherBirthName" not in ds


def test_iteration_is_in_tag_order_and_len_matches() -> None:
    ds = dicomfast.dcmread(CT)
    tags = [int(e.tag) for e in ds]
    assert tags == sorted(tags)
    assert len(ds) == len(tags)
    ref = pydicom.dcmread(CT)
    assert tags == [int(t) for t in ref.keys()]


def test_file_meta() -> None:
    ds = dicomfast.dcmread(CT)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert ds.preamble is not None
    assert len(ds.preamble) == 128
    assert ds.original_transfer_syntax == "1.2.840.10008.1.2.1"


def test_sequences_nested() -> None:
    ds = dicomfast.dcmread(NESTED)
    ref = pydicom.dcmread(NESTED)
    seq = ds.BeamSequence
    assert isinstance(seq, Sequence)
    assert len(seq) == len(ref.BeamSequence)
    item = seq[0]
    assert isinstance(item, Dataset)
    assert item.BeamName == ref.BeamSequence[0].BeamName
    cps = item.ControlPointSequence
    assert cps[0].NominalBeamEnergy == ref.BeamSequence[0].ControlPointSequence[0].NominalBeamEnergy
    all_elems = list(ds.iterall())
    assert len(all_elems) == len(list(ref.iterall()))


def test_big_endian_and_deflated() -> None:
    for p in (MR_BE, DEFLATED):
        ds = dicomfast.dcmread(p)
        ref = pydicom.dcmread(p)
        assert ds.Rows == ref.Rows
        assert ds.Columns == ref.Columns
        assert ds.SOPInstanceUID == ref.SOPInstanceUID
    assert not dicomfast.dcmread(MR_BE).is_little_endian


def test_sources_bytes_memoryview_fileobj() -> None:
    data = CT.read_bytes()
    for src in (data, bytearray(data), memoryview(data), io.BytesIO(data), str(CT), CT):
        ds = dicomfast.dcmread(src)
        assert ds.PatientID == "1CT1"


def test_force_needed_without_preamble() -> None:
    with pytest.raises(dicomfast.InvalidDicomError, match="force=True"):
        dicomfast.dcmread(NO_PREAMBLE)
    ds = dicomfast.dcmread(NO_PREAMBLE, force=True)
    assert "PatientName" in ds or len(ds) > 0


def test_stop_before_pixels_and_specific_tags() -> None:
    ds = dicomfast.dcmread(CT, stop_before_pixels=True)
    assert "PixelData" not in ds
    assert ds.Rows == 128
    ds = dicomfast.dcmread(CT, specific_tags=["PatientName", 0x00280010])
    assert sorted(int(t) for t in ds.keys()) == [0x00080005, 0x00100010, 0x00280010]
    assert ds.Rows == 128


def test_stop_before_pixels_matches_full_read_on_large_header(tmp_path: Path) -> None:
    # A header far bigger than the first prefix read (16 KiB): the prefix must grow until it is complete.
    data = CT.read_bytes()
    i = data.index(b"\x10\x00\x10\x00PN")
    big = b"\x09\x00\xff\x10OB\x00\x00" + (100_000).to_bytes(4, "little") + b"\x5a" * 100_000
    path = tmp_path / "big_header.dcm"
    path.write_bytes(data[:i] + big + data[i:])
    full = dicomfast.dcmread(path)
    part = dicomfast.dcmread(path, stop_before_pixels=True)
    assert [int(e.tag) for e in part] == [int(e.tag) for e in full if e.tag < 0x7FE00010]
    assert part[0x000910FF].value == b"\x5a" * 100_000
    assert part.Rows == 128


def test_modify_keeps_untouched_elements() -> None:
    ds = dicomfast.dcmread(CT)
    n = len(ds)
    ds.PatientName = "DUPONT^JEAN"
    assert ds.PatientName == "DUPONT^JEAN"
    assert isinstance(ds.PatientName, PersonName)
    del ds.PatientID
    assert "PatientID" not in ds
    assert len(ds) == n - 1
    ds.PatientID = "X1"
    assert len(ds) == n
    assert ds.Rows == 128
    ds[0x00091001] = DataElement(0x00091001, "LO", "private value")
    assert ds[0x00091001].value == "private value"


def test_new_dataset() -> None:
    ds = Dataset({"PatientName": "A^B", "Rows": 2})
    ds.Modality = "CT"
    assert len(ds) == 3
    assert [e.keyword for e in ds] == ["Modality", "PatientName", "Rows"]
    with pytest.raises(AttributeError, match="not a DICOM keyword"):
        ds.NotAKeyword = 1


def test_json_round_trip() -> None:
    ds = dicomfast.dcmread(NESTED)
    text = ds.to_json()
    back = Dataset.from_json(text)
    assert back.to_json_dict() == ds.to_json_dict()
    assert back.BeamSequence[0].BeamName == ds.BeamSequence[0].BeamName
    ref = pydicom.dcmread(NESTED).to_json_dict()
    ours = ds.to_json_dict()
    assert set(ref) == set(ours)
    assert ref["300A00B0"]["Value"][0]["300A00C2"] == ours["300A00B0"]["Value"][0]["300A00C2"]


def test_json_bulk_data() -> None:
    ds = dicomfast.dcmread(CT)
    out = ds.to_json_dict(bulk_data_threshold=16, bulk_data_element_handler=lambda e: f"bulk/{int(e.tag):08X}")
    assert out["7FE00010"] == {"vr": "OW", "BulkDataURI": "bulk/7FE00010"}
    back = Dataset.from_json(out, lambda tag, vr, uri: b"\0\0")
    assert back.PixelData == b"\0\0"


def test_pydicom_round_trip() -> None:
    ds = dicomfast.dcmread(NESTED)
    pds = ds.to_pydicom()
    assert pds.BeamSequence[0].BeamName == ds.BeamSequence[0].BeamName
    back = Dataset.from_pydicom(pydicom.dcmread(NESTED))
    assert back.to_json_dict() == ds.to_json_dict()


def test_repr_and_str() -> None:
    ds = dicomfast.dcmread(CT)
    text = str(ds)
    assert "(0010,0010) Patient's Name" in text
    assert "PN: 'CompressedSamples^CT1'" in text
    assert repr(ds[0x00100010]).startswith("(0010,0010)")


def test_pickle() -> None:
    ds = dicomfast.dcmread(CT, stop_before_pixels=True)
    back = pickle.loads(pickle.dumps(ds))
    assert back.PatientName == ds.PatientName
    new = Dataset({"PatientName": "A^B"})
    assert pickle.loads(pickle.dumps(new)).PatientName == "A^B"


def test_tag() -> None:
    t = Tag(0x0010, 0x0010)
    assert t == Tag("PatientName") == Tag((0x0010, 0x0010)) == 0x00100010
    assert str(t) == "(0010,0010)"
    assert t.group == 0x0010
    assert t.element == 0x0010
    assert Tag(0x00091001).is_private
    assert dicomfast.dictionary_VR(0x00280106) == "US or SS"
    assert dicomfast.keyword_for_tag(0x60023000) == "OverlayData"


def test_errors_carry_offset_and_tag() -> None:
    data = bytearray(CT.read_bytes())
    # Make (0010,0010)'s 16-bit length lie: 0xFFF0 bytes, far more than remain in the file.
    i = bytes(data).index(b"\x10\x00\x10\x00PN")
    data[i + 6 : i + 8] = (0xFFF0).to_bytes(2, "little")
    with pytest.raises(dicomfast.ParseError, match=r"\(0010,0010\)") as info:
        dicomfast.dcmread(bytes(data[: i + 400]))
    assert info.value.tag == 0x00100010
    assert info.value.offset == i
    assert isinstance(info.value, dicomfast.DicomError)


def _written(ds: dicomfast.Dataset) -> bytes:
    buf = io.BytesIO()
    dicomfast.dcmwrite(buf, ds)
    return buf.getvalue()


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_copies_keep_file_meta_and_nested_changes(how: str) -> None:
    # Regression: a changed data set was pickled (and deep-copied) through JSON, which dropped the file meta
    # (a JPEG 2000 file was then written as native pixel data and could not be decoded) and the changes made
    # inside sequence items (a re-read of the source).
    def again(ds: dicomfast.Dataset) -> dicomfast.Dataset:
        return pickle.loads(pickle.dumps(ds)) if how == "pickle" else copy.deepcopy(ds)

    j2k = dicomfast.dcmread(get_testdata_file("JPEG2000.dcm"))
    j2k.PatientName = "A^B"
    back = dicomfast.dcmread(_written(again(j2k)))
    assert back.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.91"
    assert back.PatientName == "A^B"
    np.testing.assert_array_equal(back.pixel_array, j2k.pixel_array)
    plan = dicomfast.dcmread(get_testdata_file("rtplan.dcm"))
    plan.BeamSequence[0].BeamName = "Renamed"
    del plan.PatientID
    copied = again(plan)
    assert copied.BeamSequence[0].BeamName == "Renamed"
    assert "PatientID" not in copied
    if how == "deepcopy":
        assert _written(copied) == _written(plan)  # the native index is shared: the same bytes
    else:
        # a changed sequence item comes back as its elements: the same data set, with its nested sequences
        # written at defined length instead of the undefined length read
        ref = pydicom.dcmread(io.BytesIO(_written(plan)))
        assert pydicom.dcmread(io.BytesIO(_written(copied))) == ref
    # the copy is independent of the original, nested items included
    copied.BeamSequence[0].BeamName = "Other"
    copied.PatientName = "C^D"
    assert plan.BeamSequence[0].BeamName == "Renamed"
    assert plan.PatientName != "C^D"
    # new data sets and the items of read ones copy too
    new = dicomfast.Dataset({"PatientName": "N^M", "Rows": 4})
    new.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2"
    assert again(new) == new
    assert again(new).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    item = again(plan.BeamSequence[0])
    assert item.BeamName == "Renamed"
    assert item == plan.BeamSequence[0]


def test_unchanged_read_pickles_as_its_source() -> None:
    # An unchanged data set read from a file pickles as the path (a DataLoader worker re-opens it).
    ds = dicomfast.dcmread(CT)
    assert len(pickle.dumps(ds)) < 1000
    ds.PatientName  # noqa: B018 - values read (and cached) are not changes
    assert len(pickle.dumps(ds)) < 1000


def test_shallow_copy_shares_values() -> None:
    plan = dicomfast.dcmread(get_testdata_file("rtplan.dcm"))
    plan.BeamSequence  # noqa: B018 - values decoded before a shallow copy are shared with it
    for c in (copy.copy(plan), plan.copy()):
        c.PatientName = "X^Y"
        assert plan.PatientName != "X^Y"
        assert c.BeamSequence is plan.BeamSequence
        assert c.file_meta.TransferSyntaxUID == plan.file_meta.TransferSyntaxUID


def test_dict_like_helpers() -> None:
    ds = dicomfast.dcmread(CT)
    pid = ds.PatientID
    assert ds.pop("PatientID").value == pid
    assert "PatientID" not in ds
    assert ds.pop("PatientID", None) is None
    with pytest.raises(KeyError):
        ds.pop(0x00100020)
    assert ds.setdefault("PatientID", "NEW").value == "NEW"
    assert ds.setdefault("PatientID", "OTHER").value == "NEW"
    ds.update({"PatientName": "U^V", 0x00080050: "ACC1"}, StudyID="S9")
    assert (ds.PatientName, ds.AccessionNumber, ds.StudyID) == ("U^V", "ACC1", "S9")
    assert ds.data_element("PatientName").value == "U^V"
    assert ds.data_element("ReferringPhysicianTelephoneNumbers") is None
    group = ds.group_dataset(0x0028)
    assert group.Rows == ds.Rows
    assert all(t >> 16 == 0x0028 for t in group.keys())
    back = dicomfast.dcmread(_written(ds))
    assert (back.PatientID, back.PatientName, back.StudyID) == ("NEW", "U^V", "S9")
    group.clear()
    assert len(group) == 0


def test_remove_private_tags_as_pydicom_does() -> None:
    for name in ("CT_small.dcm", "MR-SIEMENS-DICOM-WithOverlays.dcm", "rtplan.dcm"):
        path = get_testdata_file(name)
        ours = dicomfast.dcmread(path)
        ref = pydicom.dcmread(path)
        had = sum(1 for e in ours.iterall() if e.tag.is_private)
        ours.remove_private_tags()
        ref.remove_private_tags()
        assert not [e.tag for e in ours.iterall() if e.tag.is_private]
        back = pydicom.dcmread(io.BytesIO(_written(ours)))
        assert [int(e.tag) for e in back.iterall()] == [int(e.tag) for e in ref.iterall()], name
        assert had == 0 or len(back) < len(pydicom.dcmread(path)), name


def test_private_blocks_as_pydicom_finds_them() -> None:
    ds = dicomfast.dcmread(CT, defer_size="1 KB")  # pydicom's argument, accepted: everything is lazy already
    ref = pydicom.dcmread(CT)
    groups = sorted({e.tag >> 16 for e in ds if e.tag.is_private})
    assert groups
    for g in groups:
        assert ds.private_creators(g) == ref.private_creators(g)
        for creator in ds.private_creators(g):
            ours, theirs = ds.private_block(g, creator), ref.private_block(g, creator)
            assert ours.block_start == theirs.block_start
            for offset in range(0x100):
                if offset in theirs:
                    assert ours[offset].value == theirs[offset].value, (hex(g), creator, offset)
                    assert ds.get_private_item(g, offset, creator).tag == theirs.get_tag(offset)
    with pytest.raises(KeyError, match="not found"):
        ds.private_block(0x0019, "NOBODY")
    with pytest.raises(ValueError, match="odd group"):
        ds.private_block(0x0010, "ACME")


def test_new_private_block_is_written() -> None:
    ds = dicomfast.dcmread(CT)
    block = ds.private_block(0x0019, "ACME 1.0", create=True)
    assert block.block_start == 0x1100  # GEMS_ACQU_01 holds (0019,0010): the next free slot
    block.add_new(0x01, "LO", "hello")
    block.add_new(0x02, "US", 7)
    assert ds[0x00191101].value == "hello"
    assert ds.private_block(0x0019, "ACME 1.0").block_start == 0x1100
    ds.add_new(0x00331010, "LO", "raw")  # a private element added by tag (no creator check, as pydicom)
    ds.add(DataElement(0x00100020, "LO", "ID-7"))
    buf = io.BytesIO()
    dicomfast.dcmwrite(buf, ds)
    back = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    ref_block = back.private_block(0x0019, "ACME 1.0")
    assert ref_block[0x01].value == "hello"
    assert ref_block[0x02].value == 7
    assert back.PatientID == "ID-7"
    del block[0x02]
    assert 0x02 not in block
    with pytest.raises(ValueError, match="0x00 to 0xFF"):
        block.add_new(0x100, "LO", "x")


def test_elements_taken_from_another_data_set_are_copies() -> None:
    a = dicomfast.dcmread(CT)
    b = dicomfast.Dataset()
    b[0x00100010] = a[0x00100010]
    group = a.group_dataset(0x0010)
    b[0x00100010].value = "B^B"
    group[0x00100010].value = "G^G"
    assert a.PatientName == "CompressedSamples^CT1"
    assert (b.PatientName, group.PatientName) == ("B^B", "G^G")
    a["PatientName"].value = "A^A"
    assert (a.PatientName, b.PatientName, group.PatientName) == ("A^A", "B^B", "G^G")
