"""Property tests (issue 9, Hardening): random valid data sets and frames round-trip.

- Data sets with elements of every VR (public tags with the VR from the dictionary, private ones with their VR
  given), nested sequences, and a Specific Character Set with text drawn from its repertoire, written with
  ``dcmwrite`` / ``encode_dataset`` in every uncompressed transfer syntax and read back: same elements, same
  values. Read back, then transcoded by the core (``encode_dataset`` of an unmodified data set in another
  syntax): same again.
- Random frames (1-3 frames, 1 or 3 samples, 8 or 16 bits, signed or not) through every lossless codec with
  an encoder: ``ds.compress(ts)`` then ``ds.pixel_array`` gives the frames back bit for bit, also after a
  write and a read.

The number of examples is bounded for CI; ``DICOMFAST_HYPOTHESIS_SCALE=10`` runs ten times as many.
"""

from __future__ import annotations

import io
import os
import string
from typing import Any

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import dicomfast  # noqa: E402
from dicomfast import DataElement, Dataset  # noqa: E402

SCALE = int(os.environ.get("DICOMFAST_HYPOTHESIS_SCALE", "1"))
COMMON = settings(
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    derandomize=bool(os.environ.get("CI")),  # CI: the same examples on every run
    # No "explain" phase: it imports typing helpers that warn (DeprecationWarning is an error here).
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
SYNTAXES = [IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE]

# Public tags with one VR in both dictionaries, a few per VR, away from the groups the reader interprets
# (0002 file meta, 0028 image pixel, 7FE0 pixel data, (0008,0005) charset).
_EXCLUDED_GROUPS = {0x0000, 0x0002, 0x0028, 0x7FE0, 0xFFFE}


def _public_tags() -> dict[str, list[int]]:
    pydicom_dd = pytest.importorskip("pydicom.datadict")
    out: dict[str, list[int]] = {}
    for tag, (vr, _vm, _name, retired, _kw) in sorted(pydicom_dd.DicomDictionary.items()):
        group = tag >> 16
        if retired or " or " in vr or group in _EXCLUDED_GROUPS or group & 1 or tag == 0x00080005:
            continue
        try:
            if dicomfast.dictionary_VR(tag) != vr:
                continue
        except KeyError:
            continue
        if len(out.setdefault(vr, [])) < 4:
            out[vr].append(tag)
    return out


PUBLIC = _public_tags()
BINARY_UNIT = {"OB": 2, "UN": 2, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
INT_RANGE = {
    "US": (0, 2**16 - 1),
    "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "UV": (0, 2**64 - 1),
    "SV": (-(2**63), 2**63 - 1),
}
SINGLE_TEXT = {"LT", "ST", "UT", "UR"}
CHARSET_TEXT = {"LO", "SH", "UC", "LT", "ST", "UT", "PN"}

# Specific Character Set terms and the Python codec of their repertoire (PS3.3 §C.12.1.1.2).
CHARSETS: list[tuple[str | None, str]] = [
    (None, "latin-1"),
    ("ISO_IR 100", "latin-1"),
    ("ISO_IR 101", "iso8859_2"),
    ("ISO_IR 144", "iso8859_5"),
    ("ISO_IR 126", "iso8859_7"),
    ("ISO_IR 127", "iso8859_6"),
    ("ISO_IR 138", "iso8859_8"),
    ("ISO_IR 148", "iso8859_9"),
    ("ISO_IR 192", "utf-8"),
    ("GB18030", "gb18030"),
    ("GBK", "gbk"),
]
_CANDIDATES = [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xA0, 0x600)] + list("中文字符日本語한국어")


def _alphabet(codec: str, forbidden: str) -> str:
    out = []
    for c in _CANDIDATES:
        if c in forbidden or c == "\\":
            continue
        try:
            c.encode(codec)
        except UnicodeEncodeError:
            continue
        out.append(c)
    return "".join(out)


def _no_pad(s: str) -> bool:
    return bool(s) and s[-1] not in " \0" and s[0] != " "


def text_items(vr: str, codec: str) -> st.SearchStrategy[list[str]]:
    """1-3 values of a text VR, valid for the writer's checks and free of the padding the reader strips."""
    ascii_ = string.ascii_letters + string.digits
    if vr == "AE":
        one = st.text(ascii_ + " ._-", min_size=1, max_size=16).filter(_no_pad)
    elif vr == "AS":
        one = st.from_regex(r"\A[0-9]{3}[DWMY]\Z")
    elif vr == "CS":
        one = st.text(string.ascii_uppercase + string.digits + "_ ", min_size=1, max_size=16).filter(_no_pad)
    elif vr == "DA":
        one = st.from_regex(r"\A[0-9]{8}\Z")
    elif vr == "DT":
        one = st.from_regex(r"\A[0-9]{8,14}\Z")
    elif vr == "TM":
        one = st.from_regex(r"\A[0-9]{6}(\.[0-9]{1,6})?\Z")
    elif vr == "UI":
        one = st.from_regex(r"\A[1-9][0-9]{0,8}(\.[1-9][0-9]{0,8}){1,5}\Z")
    elif vr == "UR":
        one = st.text(ascii_ + ":/.?=&-_", min_size=1, max_size=100).filter(_no_pad)
    elif vr == "PN":
        comp = st.text(_alphabet(codec, "^="), min_size=1, max_size=10).filter(_no_pad)
        one = st.builds(lambda parts: "^".join(parts), st.lists(comp, min_size=1, max_size=3))
    else:
        limit = {"SH": 16, "LO": 64}.get(vr, 200)
        alphabet = _alphabet(codec, "") if vr in CHARSET_TEXT else ascii_ + " "
        one = st.text(alphabet, min_size=1, max_size=limit).filter(_no_pad)
    return st.lists(one, min_size=1, max_size=1 if vr in SINGLE_TEXT else 3)


def values(vr: str, codec: str) -> st.SearchStrategy[Any]:
    """A valid value for ``vr`` as one would set it (lists for several values, bytes for binary VRs)."""
    if vr in INT_RANGE:
        lo, hi = INT_RANGE[vr]
        return st.lists(st.integers(lo, hi), min_size=1, max_size=4)
    if vr == "FL":
        return st.lists(st.floats(width=32, allow_nan=False), min_size=1, max_size=4)
    if vr == "FD":
        return st.lists(st.floats(allow_nan=False), min_size=1, max_size=4)
    if vr == "AT":
        return st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3)
    if vr in BINARY_UNIT:
        unit = BINARY_UNIT[vr]
        return st.integers(1, 24).flatmap(lambda n: st.binary(min_size=n * unit, max_size=n * unit))
    if vr == "DS":
        return st.lists(st.from_regex(r"\A-?[0-9]{1,6}(\.[0-9]{1,6})?\Z"), min_size=1, max_size=3)
    if vr == "IS":
        return st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=3)
    return text_items(vr, codec)


def _swap(b: bytes, unit: int) -> bytes:
    return b"".join(b[i : i + unit][::-1] for i in range(0, len(b), unit))


def expected(vr: str, value: Any, swapped: bool = False) -> list[Any]:
    """What reading gives back for a value set as :func:`values` draws it, as a list.

    ``swapped``: the data set was transcoded to the other byte order, which swaps the words of OW, OF, OL, OD
    and OV values (PS3.5 §7.3) so they keep their numbers: the bytes read are swapped.
    """
    if isinstance(value, str):
        value = [value]
    if vr in BINARY_UNIT:
        b = bytes(value)
        return [_swap(b, BINARY_UNIT[vr]) if swapped and vr not in ("OB", "UN") else b]
    if vr == "DS":
        return [float(v) for v in value]
    if vr == "FL":
        return [float(np.float32(v)) for v in value]
    return [v for v in value]


def normalise(vr: str, value: Any) -> list[Any]:
    if vr in BINARY_UNIT:
        return [bytes(value)]
    if isinstance(value, np.ndarray):
        value = value.tolist()
    items = list(value) if isinstance(value, list | tuple) else [value]
    if vr == "PN":
        return [str(v) for v in items]
    if vr in ("DS", "FL", "FD"):
        return [float(v) for v in items]
    if vr in INT_RANGE or vr in ("IS", "AT"):
        return [int(v) for v in items]
    return items


@st.composite
def datasets(draw: st.DrawFn, codec: str, private: bool, depth: int = 0) -> Dataset:
    """A data set of 1-12 elements of random VRs (and up to 2 sequences of up to 3 items while depth < 3)."""
    ds = Dataset()
    vrs = sorted(PUBLIC)
    for vr in draw(st.lists(st.sampled_from([v for v in vrs if v != "SQ"]), min_size=1, max_size=12)):
        tag = draw(st.sampled_from(PUBLIC[vr]))
        ds[tag] = DataElement(tag, vr, draw(values(vr, codec)))
    if private:
        ds[0x00090010] = DataElement(0x00090010, "LO", "DICOMFAST PROPERTIES")
        for i, vr in enumerate(draw(st.lists(st.sampled_from(sorted(set(vrs) - {"SQ"})), max_size=6))):
            tag = 0x00091000 + i
            ds[tag] = DataElement(tag, vr, draw(values(vr, codec)))
    if depth < 3:
        for tag in draw(st.lists(st.sampled_from(PUBLIC["SQ"]), max_size=2, unique=True)):
            n = draw(st.integers(0, 3))
            items = [draw(datasets(codec, private, depth + 1)) for _ in range(n)]
            ds[tag] = DataElement(tag, "SQ", items)
    return ds


@st.composite
def charset_datasets(draw: st.DrawFn, private: bool) -> Dataset:
    term, codec = draw(st.sampled_from(CHARSETS))
    ds = draw(datasets(codec, private))
    if term is not None:
        ds.SpecificCharacterSet = term
    return ds


def assert_same(written: Dataset, read: Dataset, path: str = "", swapped: bool = False) -> None:
    want = sorted(int(e.tag) for e in written)
    got = sorted(int(e.tag) for e in read)
    assert got == want, f"{path}: elements differ"
    for elem in written:
        tag = int(elem.tag)
        back = read[tag]
        where = f"{path}{dicomfast.Tag(tag)} {elem.VR}"
        if elem.VR == "SQ":
            items = list(elem.value)
            assert len(back.value) == len(items), f"{where}: item count"
            for k, (a, b) in enumerate(zip(items, back.value, strict=True)):
                assert_same(a, b, f"{where}[{k}].", swapped)
            continue
        if tag == 0x00080005:
            continue
        assert normalise(elem.VR, back.value) == expected(elem.VR, elem.value, swapped), where


@settings(COMMON, max_examples=40 * SCALE)
@given(ds=charset_datasets(private=False), ts=st.sampled_from(SYNTAXES))
def test_public_datasets_round_trip_through_dcmwrite_and_dcmread(ds: Dataset, ts: str) -> None:
    buf = io.BytesIO()
    dicomfast.dcmwrite(buf, ds, ts)
    back = dicomfast.dcmread(buf.getvalue())
    assert str(back.file_meta.TransferSyntaxUID) == ts
    assert_same(ds, back)
    # Unchanged, in the same syntax: the core copies the bytes as read.
    assert dicomfast.encode_dataset(back, ts) == dicomfast.encode_dataset(ds, ts)


@settings(COMMON, max_examples=40 * SCALE)
@given(
    ds=charset_datasets(private=True),
    ts=st.sampled_from([EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE]),
    other=st.sampled_from([EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE]),
)
def test_private_datasets_round_trip_and_transcode_in_explicit_vr(ds: Dataset, ts: str, other: str) -> None:
    data = dicomfast.encode_dataset(ds, ts)
    back = dicomfast.dcmread(data, force=True, transfer_syntax=ts)
    assert_same(ds, back)
    # The core re-encodes an unmodified data set in another syntax (headers rebuilt, numbers swapped).
    again = dicomfast.dcmread(dicomfast.encode_dataset(back, other), force=True, transfer_syntax=other)
    assert_same(ds, again, swapped=(ts == EXPLICIT_BE) != (other == EXPLICIT_BE))


@settings(COMMON, max_examples=30 * SCALE)
@given(ds=charset_datasets(private=False), other=st.sampled_from(SYNTAXES))
def test_implicit_vr_transcodes_to_every_syntax(ds: Dataset, other: str) -> None:
    back = dicomfast.dcmread(dicomfast.encode_dataset(ds, IMPLICIT_LE), force=True, transfer_syntax=IMPLICIT_LE)
    again = dicomfast.dcmread(dicomfast.encode_dataset(back, other), force=True, transfer_syntax=other)
    assert_same(ds, again, swapped=other == EXPLICIT_BE)


# ------------------------------------------------------------------------------------------- pixel data

# Codecs whose encoder refuses signed samples (none of the lossless ones since JPEG Lossless codes the two's
# complement pattern within Bits Stored, PS3.5 §8.2.1).
UNSIGNED_ONLY: set[str] = set()

LOSSLESS = {
    "RLELossless": "1.2.840.10008.1.2.5",
    "DeflatedImageFrameCompression": "1.2.840.10008.1.2.8.1",
    "JPEGLosslessSV1": "1.2.840.10008.1.2.4.70",
    "JPEGLossless": "1.2.840.10008.1.2.4.57",
    "JPEGLSLossless": "1.2.840.10008.1.2.4.80",
    "JPEG2000Lossless": "1.2.840.10008.1.2.4.90",
}


@st.composite
def images(draw: st.DrawFn, allow_signed: bool = True) -> tuple[Dataset, np.ndarray]:
    rows, cols = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    frames = draw(st.integers(1, 3))
    spp = draw(st.sampled_from([1, 3]))
    bits = draw(st.sampled_from([8, 16]))
    stored = draw(st.integers(2 if bits == 8 else 9, bits))
    signed = allow_signed and spp == 1 and draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    pattern = draw(st.sampled_from(["noise", "zeros", "extremes", "ramp"]))
    dtype = np.dtype(f"{'i' if signed else 'u'}{bits // 8}")
    lo, hi = (-(1 << (stored - 1)), (1 << (stored - 1)) - 1) if signed else (0, (1 << stored) - 1)
    shape = (frames, rows, cols) + ((spp,) if spp > 1 else ())
    rng = np.random.default_rng(seed)
    if pattern == "noise":
        arr = rng.integers(lo, hi, size=shape, endpoint=True)
    elif pattern == "zeros":
        arr = np.zeros(shape, dtype=np.int64)
    elif pattern == "extremes":
        arr = rng.choice(np.array([lo, hi]), size=shape)
    else:
        arr = (np.arange(int(np.prod(shape))) % (hi - lo + 1) + lo).reshape(shape)
    arr = arr.astype(dtype)
    ds = Dataset()
    ds.file_meta = dicomfast.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = EXPLICIT_LE
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = "RGB" if spp == 3 else "MONOCHROME2"
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, stored, stored - 1
    ds.PixelRepresentation = int(signed)
    if frames > 1:
        ds.NumberOfFrames = frames
    ds[0x7FE00010] = DataElement(0x7FE00010, "OB" if bits == 8 else "OW", arr.tobytes())
    return ds, arr if frames > 1 else arr[0]


@pytest.mark.parametrize("ts", list(LOSSLESS.values()), ids=list(LOSSLESS))
def test_random_frames_round_trip_through_lossless_codecs(ts: str) -> None:
    @settings(COMMON, max_examples=25 * SCALE)
    @given(image=images(allow_signed=ts not in UNSIGNED_ONLY))
    def check(image: tuple[Dataset, np.ndarray]) -> None:
        ds, arr = image
        np.testing.assert_array_equal(ds.pixel_array, arr)
        ds.compress(ts)
        assert str(ds.file_meta.TransferSyntaxUID) == ts
        got = ds.pixel_array
        assert got.dtype == arr.dtype
        assert got.shape == arr.shape
        np.testing.assert_array_equal(got, arr)
        buf = io.BytesIO()
        dicomfast.dcmwrite(buf, ds)
        back = dicomfast.dcmread(buf.getvalue())
        assert str(back.file_meta.TransferSyntaxUID) == ts
        np.testing.assert_array_equal(back.pixel_array, arr)

    check()
