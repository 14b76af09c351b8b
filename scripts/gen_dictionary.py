"""Generate ``native/src/dictionary/generated.rs`` from the DICOM data dictionary as data.

Inputs: ``../shared/dictionary/attributes.json`` (PS3.6 data elements) and ``sops.json`` (SOP classes).
The command group (0000,xxxx) of PS3.7 §E and the transfer syntaxes of PS3.6 Table A-1 are not in those
files; they are listed below as facts from the standard.

Run: ``python scripts/gen_dictionary.py`` (from the repository root).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "dictionary"
OUT = ROOT / "native" / "src" / "dictionary" / "generated.rs"

# PS3.7 Annex E, Table E.1-1: command fields (group 0000).
COMMAND_ELEMENTS = [
    ("00000000", "UL", "1", "CommandGroupLength", "Command Group Length"),
    ("00000002", "UI", "1", "AffectedSOPClassUID", "Affected SOP Class UID"),
    ("00000003", "UI", "1", "RequestedSOPClassUID", "Requested SOP Class UID"),
    ("00000100", "US", "1", "CommandField", "Command Field"),
    ("00000110", "US", "1", "MessageID", "Message ID"),
    ("00000120", "US", "1", "MessageIDBeingRespondedTo", "Message ID Being Responded To"),
    ("00000600", "AE", "1", "MoveDestination", "Move Destination"),
    ("00000700", "US", "1", "Priority", "Priority"),
    ("00000800", "US", "1", "CommandDataSetType", "Command Data Set Type"),
    ("00000900", "US", "1", "Status", "Status"),
    ("00000901", "AT", "1-n", "OffendingElement", "Offending Element"),
    ("00000902", "LO", "1", "ErrorComment", "Error Comment"),
    ("00000903", "US", "1", "ErrorID", "Error ID"),
    ("00001000", "UI", "1", "AffectedSOPInstanceUID", "Affected SOP Instance UID"),
    ("00001001", "UI", "1", "RequestedSOPInstanceUID", "Requested SOP Instance UID"),
    ("00001002", "US", "1", "EventTypeID", "Event Type ID"),
    ("00001005", "AT", "1-n", "AttributeIdentifierList", "Attribute Identifier List"),
    ("00001008", "US", "1", "ActionTypeID", "Action Type ID"),
    ("00001020", "US", "1", "NumberOfRemainingSuboperations", "Number of Remaining Sub-operations"),
    ("00001021", "US", "1", "NumberOfCompletedSuboperations", "Number of Completed Sub-operations"),
    ("00001022", "US", "1", "NumberOfFailedSuboperations", "Number of Failed Sub-operations"),
    ("00001023", "US", "1", "NumberOfWarningSuboperations", "Number of Warning Sub-operations"),
    ("00001030", "AE", "1", "MoveOriginatorApplicationEntityTitle", "Move Originator Application Entity Title"),
    ("00001031", "US", "1", "MoveOriginatorMessageID", "Move Originator Message ID"),
]

# PS3.6 Table A-1: transfer syntaxes (uid, keyword, name, explicit, big_endian, deflated, encapsulated, retired).
TRANSFER_SYNTAXES = [
    ("1.2.840.10008.1.2", "ImplicitVRLittleEndian", "Implicit VR Little Endian", 0, 0, 0, 0, 0),
    ("1.2.840.10008.1.2.1", "ExplicitVRLittleEndian", "Explicit VR Little Endian", 1, 0, 0, 0, 0),
    (
        "1.2.840.10008.1.2.1.98",
        "EncapsulatedUncompressedExplicitVRLittleEndian",
        "Encapsulated Uncompressed Explicit VR Little Endian",
        1,
        0,
        0,
        1,
        0,
    ),
    ("1.2.840.10008.1.2.1.99", "DeflatedExplicitVRLittleEndian", "Deflated Explicit VR Little Endian", 1, 0, 1, 0, 0),
    ("1.2.840.10008.1.2.2", "ExplicitVRBigEndian", "Explicit VR Big Endian", 1, 1, 0, 0, 1),
    ("1.2.840.10008.1.2.4.50", "JPEGBaseline8Bit", "JPEG Baseline (Process 1)", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.51", "JPEGExtended12Bit", "JPEG Extended (Process 2 & 4)", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.57", "JPEGLossless", "JPEG Lossless, Non-Hierarchical (Process 14)", 1, 0, 0, 1, 0),
    (
        "1.2.840.10008.1.2.4.70",
        "JPEGLosslessSV1",
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        1,
        0,
        0,
        1,
        0,
    ),
    ("1.2.840.10008.1.2.4.80", "JPEGLSLossless", "JPEG-LS Lossless Image Compression", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.81", "JPEGLSNearLossless", "JPEG-LS Lossy (Near-Lossless) Image Compression", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.90", "JPEG2000Lossless", "JPEG 2000 Image Compression (Lossless Only)", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.91", "JPEG2000", "JPEG 2000 Image Compression", 1, 0, 0, 1, 0),
    (
        "1.2.840.10008.1.2.4.92",
        "JPEG2000MCLossless",
        "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
        1,
        0,
        0,
        1,
        0,
    ),
    ("1.2.840.10008.1.2.4.93", "JPEG2000MC", "JPEG 2000 Part 2 Multi-component Image Compression", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.94", "JPIPReferenced", "JPIP Referenced", 1, 0, 0, 0, 0),
    ("1.2.840.10008.1.2.4.95", "JPIPReferencedDeflate", "JPIP Referenced Deflate", 1, 0, 1, 0, 0),
    ("1.2.840.10008.1.2.4.100", "MPEG2MPML", "MPEG2 Main Profile / Main Level", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.101", "MPEG2MPHL", "MPEG2 Main Profile / High Level", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.102", "MPEG4HP41", "MPEG-4 AVC/H.264 High Profile / Level 4.1", 1, 0, 0, 1, 0),
    (
        "1.2.840.10008.1.2.4.103",
        "MPEG4HP41BD",
        "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
        1,
        0,
        0,
        1,
        0,
    ),
    ("1.2.840.10008.1.2.4.104", "MPEG4HP422D", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.105", "MPEG4HP423D", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.106", "MPEG4HP42STEREO", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.107", "HEVCMP51", "HEVC/H.265 Main Profile / Level 5.1", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.108", "HEVCM10P51", "HEVC/H.265 Main 10 Profile / Level 5.1", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.110", "JPEGXLLossless", "JPEG XL Lossless", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.111", "JPEGXLJPEGRecompression", "JPEG XL JPEG Recompression", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.112", "JPEGXL", "JPEG XL", 1, 0, 0, 1, 0),
    (
        "1.2.840.10008.1.2.4.201",
        "HTJ2KLossless",
        "High-Throughput JPEG 2000 Image Compression (Lossless Only)",
        1,
        0,
        0,
        1,
        0,
    ),
    (
        "1.2.840.10008.1.2.4.202",
        "HTJ2KLosslessRPCL",
        "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
        1,
        0,
        0,
        1,
        0,
    ),
    ("1.2.840.10008.1.2.4.203", "HTJ2K", "High-Throughput JPEG 2000 Image Compression", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.4.204", "JPIPHTJ2KReferenced", "JPIP HTJ2K Referenced", 1, 0, 0, 0, 0),
    ("1.2.840.10008.1.2.4.205", "JPIPHTJ2KReferencedDeflate", "JPIP HTJ2K Referenced Deflate", 1, 0, 1, 0, 0),
    ("1.2.840.10008.1.2.5", "RLELossless", "RLE Lossless", 1, 0, 0, 1, 0),
    ("1.2.840.10008.1.2.6.1", "RFC2557MIMEEncapsulation", "RFC 2557 MIME encapsulation", 1, 0, 0, 0, 1),
    ("1.2.840.10008.1.2.6.2", "XMLEncoding", "XML Encoding", 1, 0, 0, 0, 1),
    (
        "1.2.840.10008.1.2.7.1",
        "SMPTEST211020UncompressedProgressiveActiveVideo",
        "SMPTE ST 2110-20 Uncompressed Progressive Active Video",
        1,
        0,
        0,
        0,
        0,
    ),
    (
        "1.2.840.10008.1.2.7.2",
        "SMPTEST211020UncompressedInterlacedActiveVideo",
        "SMPTE ST 2110-20 Uncompressed Interlaced Active Video",
        1,
        0,
        0,
        0,
        0,
    ),
    ("1.2.840.10008.1.2.7.3", "SMPTEST211030PCMDigitalAudio", "SMPTE ST 2110-30 PCM Digital Audio", 1, 0, 0, 0, 0),
    ("1.2.840.10008.1.2.8.1", "DeflatedImageFrameCompression", "Deflated Image Frame Compression", 1, 0, 0, 1, 0),
]

VRS = {
    "AE",
    "AS",
    "AT",
    "CS",
    "DA",
    "DS",
    "DT",
    "FD",
    "FL",
    "IS",
    "LO",
    "LT",
    "OB",
    "OD",
    "OF",
    "OL",
    "OV",
    "OW",
    "PN",
    "SH",
    "SL",
    "SQ",
    "SS",
    "ST",
    "SV",
    "TM",
    "UC",
    "UI",
    "UL",
    "UN",
    "UR",
    "US",
    "UT",
    "UV",
}


def rs_str(s: str) -> str:
    """Quote a string as a Rust literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def first_vr(spec: str) -> str:
    """The VR used when nothing resolves an ambiguous "US or SS" (the first one, as pydicom does)."""
    vr = spec.split(" or ")[0].strip()
    return vr if vr in VRS else "UN"


def sop_keyword(name: str) -> str:
    """A SOP class keyword from its name, the way PS3.6 Table A-1 forms keywords."""
    name = name.replace("&", "And").replace("-", " ").replace("/", " ")
    name = re.sub(r"\(.*?\)", lambda m: m.group(0)[1:-1], name)
    words = re.findall(r"[A-Za-z0-9]+", name)
    out = "".join(w if w.isupper() or not w[0].isalpha() else w[0].upper() + w[1:] for w in words)
    if out and out[0].isdigit():
        out = "_" + out
    return out


def main() -> int:
    """Write the generated Rust table."""
    attrs = json.loads((SHARED / "attributes.json").read_text())
    sops = json.loads((SHARED / "sops.json").read_text())

    exact: dict[int, tuple[str, str, str, str, str, bool]] = {}
    repeaters: list[tuple[int, int, str, str, str, str, str, bool]] = []
    for tag, vr, vm, kw, name in COMMAND_ELEMENTS:
        exact[int(tag, 16)] = (first_vr(vr), vr, vm, kw, name, False)
    for a in attrs:
        tag = a["tag"].strip("()").replace(",", "")
        vr_spec = a["valueRepresentation"] or "UN"
        if vr_spec == "See Note 2":
            vr_spec = "UN"
        retired = a["retired"] == "Y"
        entry = (first_vr(vr_spec), vr_spec, a["valueMultiplicity"], a["keyword"], a["name"], retired)
        if "X" in tag.upper():
            mask = int("".join("0" if c in "xX" else "F" for c in tag), 16)
            value = int("".join("0" if c in "xX" else c for c in tag), 16)
            repeaters.append((mask, value, *entry))
        else:
            exact[int(tag, 16)] = entry

    lines = [
        "//! Automatically generated by scripts/gen_dictionary.py from ../shared/dictionary/*.json: do not edit.",
        "//!",
        "//! PS3.6 data elements (with PS3.7 command elements), repeating groups, transfer syntaxes and SOP classes.",
        "",
        "#![allow(clippy::unreadable_literal)]",
        "",
        "use super::{DictEntry, RepeaterEntry, TransferSyntax, UidEntry};",
        "use super::tag::VR;",
        "",
        "/// Data elements sorted by tag.",
        "pub static ELEMENTS: &[DictEntry] = &[",
    ]
    tags = sorted(exact)
    for t in tags:
        vr, spec, vm, kw, name, ret = exact[t]
        lines.append(
            f"    DictEntry {{ tag: 0x{t:08X}, vr: VR::{vr}, vr_spec: {rs_str(spec)}, vm: {rs_str(vm)}, "
            f"keyword: {rs_str(kw)}, name: {rs_str(name)}, retired: {str(ret).lower()} }},"
        )
    lines.append("];")
    lines.append("")
    # keyword index: indices into ELEMENTS sorted by keyword (only non-empty keywords)
    kw_sorted = sorted((exact[t][3], i) for i, t in enumerate(tags) if exact[t][3])
    lines.append("/// Indices into `ELEMENTS`, sorted by keyword.")
    lines.append("pub static KEYWORD_INDEX: &[u16] = &[")
    chunk = [str(i) for _, i in kw_sorted]
    for k in range(0, len(chunk), 20):
        lines.append("    " + ", ".join(chunk[k : k + 20]) + ",")
    lines.append("];")
    lines.append("")
    lines.append("/// Repeating-group elements (50xx, 60xx, 7Fxx, ...): `tag & mask == value`.")
    lines.append("pub static REPEATERS: &[RepeaterEntry] = &[")
    for mask, value, vr, spec, vm, kw, name, ret in repeaters:
        lines.append(
            f"    RepeaterEntry {{ mask: 0x{mask:08X}, value: 0x{value:08X}, entry: DictEntry {{ tag: 0x{value:08X}, "
            f"vr: VR::{vr}, vr_spec: {rs_str(spec)}, vm: {rs_str(vm)}, keyword: {rs_str(kw)}, name: {rs_str(name)}, "
            f"retired: {str(ret).lower()} }} }},"
        )
    lines.append("];")
    lines.append("")
    lines.append("/// Transfer syntaxes, PS3.6 Table A-1.")
    lines.append("pub static TRANSFER_SYNTAXES: &[TransferSyntax] = &[")
    for uid, kw, name, explicit, be, deflated, encaps, retired in TRANSFER_SYNTAXES:
        lines.append(
            f"    TransferSyntax {{ uid: {rs_str(uid)}, keyword: {rs_str(kw)}, name: {rs_str(name)}, "
            f"explicit_vr: {str(bool(explicit)).lower()}, big_endian: {str(bool(be)).lower()}, "
            f"deflated: {str(bool(deflated)).lower()}, encapsulated: {str(bool(encaps)).lower()}, "
            f"retired: {str(bool(retired)).lower()} }},"
        )
    lines.append("];")
    lines.append("")
    lines.append("/// SOP classes (and transfer syntaxes) by UID, sorted by UID.")
    uids = {}
    for s in sops:
        uids[s["id"]] = (sop_keyword(s["name"]), s["name"], "SOP Class")
    for uid, kw, name, *_ in TRANSFER_SYNTAXES:
        uids[uid] = (kw, name, "Transfer Syntax")
    lines.append("pub static UIDS: &[UidEntry] = &[")
    for uid in sorted(uids):
        kw, name, kind = uids[uid]
        lines.append(
            f"    UidEntry {{ uid: {rs_str(uid)}, keyword: {rs_str(kw)}, name: {rs_str(name)}, kind: {rs_str(kind)} }},"
        )
    lines.append("];")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}: {len(tags)} elements, {len(repeaters)} repeaters, {len(uids)} UIDs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
