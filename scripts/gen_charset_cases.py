"""Print the Rust test table of `native/src/value/charset.rs` from pydicom 3.0.2.

For every file of pydicom's ``charset_files`` (and a few values built from the examples of PS3.5 Annexes H to K
and from single-byte names), the raw bytes of each text element (PN, SH, LO, UC, LT, ST, UT), the Specific
Character Set terms in force for its data set (inherited by sequence items, PS3.5 §7.5.3) and the value pydicom
gives after ``ds.decode()`` (``str`` of each value, multiple values joined with a backslash).

Usage: ``python scripts/gen_charset_cases.py > /tmp/cases.rs`` and paste the output between the
``BEGIN GENERATED`` / ``END GENERATED`` markers of the test module.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pydicom
from pydicom.charset import convert_encodings
from pydicom.data import get_charset_files
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.values import convert_PN, convert_single_string, convert_text

TEXT_VRS = {
    "PN": "PersonName",
    "SH": "Text",
    "LO": "Text",
    "UC": "Text",
    "LT": "LongText",
    "ST": "LongText",
    "UT": "LongText",
}


def rust_bytes(raw: bytes) -> str:
    out = []
    for b in raw:
        if b == 0x22:
            out.append('\\"')
        elif b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return 'b"' + "".join(out) + '"'


def rust_str(text: str) -> str:
    out = []
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c.isprintable() and c != "\ufffd":
            out.append(c)
        else:
            out.append(f"\\u{{{ord(c):x}}}")
    return '"' + "".join(out) + '"'


def as_text(value: object) -> str:
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value)


def terms_of(ds: Dataset, inherited: list[str]) -> list[str]:
    if "SpecificCharacterSet" not in ds:
        return inherited
    value = ds.SpecificCharacterSet
    if isinstance(value, str):
        return [value]
    return list(value)


def walk(name: str, ds: Dataset, inherited: list[str], rows: list[str]) -> None:
    terms = terms_of(ds, inherited)
    for tag in list(ds.keys()):
        raw_elem = ds.get_item(tag)
        raw = raw_elem.value if isinstance(raw_elem, RawDataElement) else None
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value:
                walk(name, item, terms, rows)
            continue
        if elem.VR not in TEXT_VRS:
            continue
        if not raw:
            continue
        rows.append(row(f"{name} {elem.tag}", terms, TEXT_VRS[elem.VR], raw, as_text(elem.value)))


def row(source: str, terms: list[str], kind: str, raw: bytes, expected: str) -> str:
    charset = ", ".join(rust_str(t) for t in terms)
    return (
        f"    Case {{ source: {rust_str(source)}, charset: &[{charset}], kind: TextKind::{kind},\n"
        f"        raw: {rust_bytes(raw)},\n        expected: {rust_str(expected)} }},"
    )


def decoded(raw: bytes, terms: list[str], kind: str) -> str:
    """pydicom's reading of one value, as in `pydicom.values`."""
    encodings = convert_encodings(terms)
    if kind == "PersonName":
        return as_text(convert_PN(raw, encodings))
    if kind == "Text":
        return as_text(convert_text(raw, encodings))
    return convert_single_string(raw, encodings)


# Values from the examples of PS3.5 Annexes H-K and single-byte names (character sets the files lack).
# The bytes follow the examples' layout; pydicom decodes them to give the expected text.
ANNEX = [
    (
        "PS3.5 I.2 LT (Korean, ISO 2022 IR 149)",
        ["", "ISO 2022 IR 149"],
        "LongText",
        b"The 1st line includes \x1b$)C\xc7\xd1\xb1\xdb.\r\nThe 2nd line includes \x1b$)C\xc7\xd1\xb1\xdb, too.\r\n"
        b"The 3rd line.",
    ),
    (
        "PS3.5 J.3 LT (GB18030)",
        ["GB18030"],
        "LongText",
        b"The first line includes\xd6\xd0\xce\xc4.\r\nThe second line includes\xd6\xd0\xce\xc4, too.\r\n"
        b"The third line.",
    ),
    (
        "PS3.5 J.2 LT (UTF-8)",
        ["ISO_IR 192"],
        "LongText",
        "The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.".encode(),
    ),
    ("GBK backslash trail byte", ["GBK"], "Text", "乗\\乗".encode("gbk")),
    ("GB18030 backslash trail byte", ["GB18030"], "Text", "乗\\乗".encode("gb18030")),
    (
        "ISO_IR 13 Shift_JIS backslash trail byte (pydicom decodes IR 13 as shift_jis)",
        ["ISO_IR 13"],
        "Text",
        "ソ\\ｱ".encode("shift_jis"),
    ),
    ("ISO 2022 IR 13", ["ISO 2022 IR 13"], "PersonName", b"\x1b\x29\x49\xd4\xcf\xc0\xde\x5e\x1b\x29\x49\xc0\xdb\xb3"),
    (
        "ISO 2022 IR 100",
        ["ISO 2022 IR 100"],
        "PersonName",
        b"\x1b\x2d\x41\x42\x75\x63\x5e\x1b\x2d\x41\x4a\xe9\x72\xf4\x6d\x65",
    ),
    ("ISO 2022 IR 101", ["ISO 2022 IR 101"], "PersonName", b"\x1b\x2d\x42\x57\x61\xb3\xea\x73\x61"),
    ("ISO 2022 IR 109", ["ISO 2022 IR 109"], "PersonName", b"\x1b\x2d\x43\x61\x6e\x74\x61\xfd\x6e\x6f\x6d\x6f"),
    ("ISO 2022 IR 110", ["ISO 2022 IR 110"], "PersonName", b"\x1b\x2d\x44\x76\xe0\x72\x64\x73"),
    (
        "ISO 2022 IR 127",
        ["ISO 2022 IR 127"],
        "PersonName",
        b"\x1b\x2d\x47\xe2\xc8\xc7\xe6\xea\x5e\x1b\x2d\x47\xe4\xe6\xd2\xc7\xd1",
    ),
    ("ISO 2022 IR 126", ["ISO 2022 IR 126"], "PersonName", b"\x1b\x2d\x46\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2"),
    (
        "ISO 2022 IR 138",
        ["ISO 2022 IR 138"],
        "PersonName",
        b"\x1b\x2d\x48\xf9\xf8\xe5\xef\x5e\x1b\x2d\x48\xe3\xe1\xe5\xf8\xe4",
    ),
    ("ISO 2022 IR 144", ["ISO 2022 IR 144"], "PersonName", b"\x1b\x2d\x4c\xbb\xee\xda\x63\x65\xdc\xd1\x79\x70\xd3"),
    ("ISO 2022 IR 148", ["ISO 2022 IR 148"], "PersonName", b"\x1b\x2d\x4d\xc7\x61\x76\x75\xfe\x6f\xf0\x6c\x75"),
    ("ISO 2022 IR 166", ["ISO 2022 IR 166"], "PersonName", b"\x1b\x2d\x54\xb9\xd2\xc1\xca\xa1\xd8\xc5"),
    ("ISO_IR 148", ["ISO_IR 148"], "Text", "Çavuşoğlu İ ı Ğ Ş".encode("iso8859_9")),
    ("ISO_IR 166", ["ISO_IR 166"], "Text", "นามสกุล ฿".encode("tis_620")),
    ("ISO_IR 101", ["ISO_IR 101"], "Text", "Wałęsa Łódź".encode("iso8859_2")),
    ("ISO_IR 109", ["ISO_IR 109"], "Text", "antaŭnomo ĉ ĝ".encode("iso8859_3")),
    ("ISO_IR 110", ["ISO_IR 110"], "Text", "vārds ķ".encode("iso8859_4")),
    ("default repertoire, bytes >= 0x80 read as Latin-1", [""], "Text", b"Buc^J\xe9r\xf4me\\\x80\x9f\xff"),
    ("ISO IR 100 (misspelt)", ["ISO IR 100"], "Text", b"R\xf6ntgen"),
    (
        "ISO_2022-IR 100 (misspelt)",
        ["ISO_2022-IR 100", "ISO 2022 IR 126"],
        "PersonName",
        b"Dionysios=\x1b\x2d\x46\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2",
    ),
    ("Python codec name", ["latin_1"], "Text", b"R\xf6ntgen"),
    ("unknown term", ["UNSUPPORTED"], "Text", b"R\xf6ntgen"),
    (
        "multi-valued PN, three charsets",
        ["ISO 2022 IR 100", "ISO 2022 IR 126", "ISO 2022 IR 144"],
        "PersonName",
        b"Buc^J\xe9r\xf4me\\\x1b\x2d\x46\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2\\\x1b\x2d\x4c"
        b"\xbb\xee\xda\x63\x65\xdc\xd1\x79\x70\xd3",
    ),
    ("UTF-8 ignores code extensions", ["ISO_IR 192", "ISO 2022 IR 100"], "PersonName", b"Buc^J\xc3\xa9r\xc3\xb4me"),
    ("invalid UTF-8", ["ISO_IR 192"], "PersonName", b"\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2"),
    ("ISO 2022 IR 159 (JIS X 0212)", ["", "ISO 2022 IR 159"], "PersonName", b"Test=\x1b$(D\x30\x21\x30\x22\x1b(B"),
    (
        "ISO 2022 IR 87 in LT, escape per line",
        ["", "ISO 2022 IR 87"],
        "LongText",
        b"\x1b$B;3ED\x1b(B\r\n\x1b$BB@O:\x1b(B",
    ),
]


def main() -> None:
    warnings.simplefilter("ignore")
    rows: list[str] = []
    for path in sorted(get_charset_files("*.dcm")):
        ds = pydicom.dcmread(path)
        walk(Path(path).name, ds, [""], rows)
    for source, terms, kind, raw in ANNEX:
        rows.append(row(source, terms, kind, raw, decoded(raw, terms, kind)))
    sys.stdout.write(
        f"// Automatically generated by scripts/gen_charset_cases.py from pydicom {pydicom.__version__}; do not edit.\n"
    )
    sys.stdout.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
