"""Resource limits (issue 9, point 2): each one refuses with a DicomError that names it and says how to raise
it, and raising it lets the same input through that limit."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

import dicomfast
from dicomfast.net import pdu

pydicom_data = pytest.importorskip("pydicom.data", reason="pydicom's test files are the inputs")


def _data(name: str) -> str:
    return str(pydicom_data.get_testdata_file(name))


CT = "CT_small.dcm"  # Explicit VR LE, 128 x 128 x 16-bit (32 KiB of Pixel Data)
RLE = "MR_small_RLE.dcm"  # RLE Lossless, 64 x 64 x 16-bit, one fragment of a few KiB


@pytest.fixture
def restore_limits() -> Iterator[None]:
    before = dicomfast.get_limits()
    yield
    dicomfast.set_limits(**before)


def _grown(name: str, rows: int, columns: int) -> bytes:
    """The file with Rows / Columns set far beyond what its Pixel Data holds."""
    ds = dicomfast.dcmread(_data(name))
    ds.Rows = rows
    ds.Columns = columns
    out = io.BytesIO()
    dicomfast.dcmwrite(out, ds)
    return out.getvalue()


def test_max_elements_refuses_and_names_how_to_raise_it() -> None:
    path = _data(CT)
    n = sum(1 for _ in dicomfast.dcmread(path).iterall())
    for on_error in ("raise", "collect"):
        with pytest.raises(dicomfast.LimitError, match=r"max_elements.*dcmread\(\.\.\., max_elements=N\)"):
            dicomfast.dcmread(path, max_elements=10, on_error=on_error)
    ds = dicomfast.dcmread(path, max_elements=n)
    assert sum(1 for _ in ds.iterall()) == n


def test_max_elements_survives_pickling() -> None:
    import pickle

    ds = dicomfast.dcmread(_data(CT), max_elements=1_000)
    again = pickle.loads(pickle.dumps(ds))
    assert again.PatientName == ds.PatientName


def test_max_depth_names_how_to_raise_it() -> None:
    # Five nested undefined-length sequences in a bare Implicit VR LE data set.
    seq = b""
    for _ in range(5):
        item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + seq + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
        seq = b"\x08\x00\x40\x11\xff\xff\xff\xff" + item + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    ts = "1.2.840.10008.1.2"
    with pytest.raises(dicomfast.LimitError, match=r"max_depth.*dcmread\(\.\.\., max_depth=N\)"):
        dicomfast.dcmread(seq, force=True, transfer_syntax=ts, max_depth=3)
    assert len(dicomfast.dcmread(seq, force=True, transfer_syntax=ts, max_depth=5)) == 1


def test_compressed_expansion_limit(restore_limits: None) -> None:
    data = _grown(RLE, 8000, 8000)  # 128 MB of 16-bit output from a few KiB of RLE
    ds = dicomfast.dcmread(data)
    with pytest.raises(dicomfast.DecodeError, match=r"max_expansion.*set_limits\(max_expansion=N\)"):
        _ = ds.pixel_array
    with pytest.raises(dicomfast.DecodeError, match="max_expansion"):
        ds.frame(0)
    before = dicomfast.set_limits(max_expansion=1_000_000)
    assert before["max_expansion"] == 10_000
    # Past the limit, the RLE decoder itself finds the segments too short for the frame.
    with pytest.raises(dicomfast.DecodeError) as e:
        _ = dicomfast.dcmread(data).pixel_array
    assert "max_expansion" not in str(e.value)


def test_native_frames_must_be_present_whatever_the_limits(restore_limits: None) -> None:
    data = _grown(CT, 8000, 8000)  # 128 MB declared, 32 KiB present
    dicomfast.set_limits(unchecked_decoded_bytes=1 << 40)
    for f in (lambda ds: ds.pixel_array, lambda ds: ds.frame(0)):
        with pytest.raises(dicomfast.DecodeError, match="insufficient pixel data to contain frame 1"):
            f(dicomfast.dcmread(data))


def test_small_files_are_never_refused(restore_limits: None) -> None:
    dicomfast.set_limits(max_expansion=1, unchecked_decoded_bytes=0)
    with pytest.raises(dicomfast.DecodeError, match="max_expansion"):
        _ = dicomfast.dcmread(_data(RLE)).pixel_array
    dicomfast.set_limits(max_expansion=10_000, unchecked_decoded_bytes=64 << 20)
    assert dicomfast.dcmread(_data(RLE)).pixel_array.shape == (64, 64)


def test_set_limits_checks_its_arguments(restore_limits: None) -> None:
    with pytest.raises(ValueError, match="max_expansion"):
        dicomfast.set_limits(max_expansion=0)
    with pytest.raises(ValueError, match="unchecked_decoded_bytes"):
        dicomfast.set_limits(unchecked_decoded_bytes=-1)
    assert dicomfast.get_limits() == {"max_expansion": 10_000, "unchecked_decoded_bytes": 64 << 20}


def test_pdu_limit_names_how_to_raise_it() -> None:
    with pytest.raises(pdu.PDUError, match=r"limit max_pdu: raise it with net\.connect\(\.\.\., max_pdu=N\)"):
        pdu.parse_header(b"\x04\x00\x00\x01\x00\x00", 16384)
