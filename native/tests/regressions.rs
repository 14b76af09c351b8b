//! Regression tests from fuzzing (STYLE.md §8): every input a fuzz target or the mutation test found to break an
//! invariant is saved under `tests/data/regressions/` and replayed here.
//!
//! - `saved_inputs_parse_and_decode_without_panic`: each saved input goes through what the `parse` fuzz target
//!   does (strict and lenient, forced or not, every value decoded).
//! - One named test per bug, `#[ignore]`d with the reason while the bug is open; remove the `ignore` with the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use _native::dictionary::Tag;
use _native::parse::{self, Body, Dataset, ParsedFile, ReadOptions};
use _native::value;
use _native::write::{self, Source, Syntax};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regressions")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).expect("saved regression input")
}

/// Parses `data` with `force` (and the transfer syntax of a bare data set, when given).
fn parse_forced(data: Vec<u8>, ts: Option<&str>) -> _native::Result<ParsedFile> {
    let opts = ReadOptions {
        force: true,
        transfer_syntax: ts.map(str::to_owned),
        ..ReadOptions::default()
    };
    parse::parse(Arc::new(data), &opts)
}

/// The data set of `p` (read in `src`) encoded as a bare data set in `dst`.
fn encode_as(p: &ParsedFile, src: Syntax, dst: Syntax) -> Vec<u8> {
    let source = Source {
        buf: p.bytes(),
        syntax: src,
    };
    let mut out = Vec::new();
    write::encode_dataset(&source, &p.dataset, &[], &BTreeMap::new(), dst, &mut out).expect("encodes");
    out
}

fn walk<'a>(buf: &[u8], ds: &'a Dataset, ancestors: &mut Vec<&'a Dataset>, be: bool) -> usize {
    ancestors.insert(0, ds);
    let charsets = value::charsets_for(buf, ancestors);
    let mut n = 0;
    for el in &ds.elements {
        n += 1;
        assert!(
            el.value_range().end <= buf.len(),
            "{}: value outside the buffer",
            el.tag
        );
        match &el.body {
            Body::Primitive => {
                let vr = value::effective_vr(buf, el, ancestors, be);
                let _ = value::decode(buf, el, vr, be, &charsets);
            }
            Body::Sequence(items) => {
                for item in items {
                    n += walk(buf, &item.dataset, ancestors, be);
                }
            }
            Body::Fragments(_) => {}
        }
    }
    ancestors.remove(0);
    n
}

fn touch(p: &ParsedFile) -> usize {
    walk(p.bytes(), &p.dataset, &mut Vec::new(), p.encoding.big_endian)
}

/// Reads the saved input `name`, checks its first element is `first`, writes its data set bare in implicit
/// VR and reads that back with each of `syntaxes` (`None`: guessed): the same first element and as many values.
/// Returns the parsed input and the written bytes.
fn implicit_bare_round_trip(name: &str, first: Tag, syntaxes: &[Option<&str>]) -> (ParsedFile, Vec<u8>) {
    let p = parse_forced(read(name), None).expect("reads");
    assert_eq!(p.dataset.elements.first().map(|e| e.tag), Some(first));
    let n = touch(&p);
    let out = encode_as(&p, Syntax::IMPLICIT_LE, Syntax::IMPLICIT_LE);
    for &ts in syntaxes {
        let back = parse_forced(out.clone(), ts).expect("reads back");
        assert_eq!(back.dataset.elements.first().map(|e| e.tag), Some(first));
        assert_eq!(touch(&back), n);
    }
    (p, out)
}

#[test]
fn saved_inputs_parse_and_decode_without_panic() {
    let mut seen = 0;
    for entry in std::fs::read_dir(data_dir()).expect("tests/data/regressions") {
        let path = entry.expect("dir entry").path();
        let data = std::fs::read(&path).expect("read");
        for (force, lenient) in [(false, false), (true, false), (false, true), (true, true)] {
            let opts = ReadOptions {
                force,
                lenient,
                ..ReadOptions::default()
            };
            if let Ok(p) = parse::parse(Arc::new(data.clone()), &opts) {
                touch(&p);
            }
        }
        seen += 1;
    }
    assert!(seen > 0, "no saved inputs");
}

/// Encodes the data set of `data` (read with `force`) in explicit VR big endian, as a bare data set.
fn to_big_endian(data: Vec<u8>) -> (usize, Vec<u8>) {
    let p = parse_forced(data, None).expect("the input parses");
    let src = Syntax {
        explicit: p.dataset.explicit_vr,
        big_endian: p.encoding.big_endian,
    };
    let be = Syntax {
        explicit: true,
        big_endian: true,
    };
    let out = encode_as(&p, src, be);
    (touch(&p), out)
}

/// Found by `write_roundtrip` on the first seed it tried (a mammography header from the shared corpus, its
/// first 862 bytes): encoded as a bare explicit VR big endian data set, bytes 128..132 happen to be "DICM"
/// (the end of (0008,1010) 'Station Name' "DICMA1"). `parse_inner` then takes the data set for a Part 10 file
/// with a preamble, because its "is byte 0 a plausible element?" check only knows little endian groups
/// (`g[1] == 0x00 && g[0] % 2 == 0`): big endian group 0008 is `00 08`. The read fails ("The value length
/// 272518223 exceeds the 722 bytes remaining ... element (4131,0008) at byte 132").
///
/// Fixed in 11f285d, as proposed:
/// Fix (parse/mod.rs, `parse_inner`): when `opts.transfer_syntax` names the syntax of a bare data set, skip
/// the preamble test; and accept a big endian group at byte 0 as plausible too
/// (`g[0] == 0x00 && g[1] % 2 == 0 && g[1] != 0`).
#[test]
fn bare_dataset_with_dicm_at_byte_128_big_endian() {
    let (n, out) = to_big_endian(read("write_roundtrip_dicm_at_128_big_endian.dcm"));
    assert_eq!(out.get(128..132), Some(&b"DICM"[..]));
    let back = parse_forced(out, Some("1.2.840.10008.1.2.2")).expect("the big endian data set parses");
    assert_eq!(touch(&back), n);
}

/// The same bug without a file: a bare explicit VR big endian data set whose (0008,0080) 'Institution Name'
/// puts "DICM" at byte 128.
#[test]
fn bare_dataset_with_dicm_at_byte_128_synthetic() {
    // (0008,0080) LO, 8-byte header, then 120 bytes of value before "DICM" and 4 more: 128 bytes of value.
    let mut value = vec![b'X'; 120];
    value.extend_from_slice(b"DICMDICM");
    let mut data = vec![0x00, 0x08, 0x00, 0x80, b'L', b'O', 0x00, 0x80];
    data.extend_from_slice(&value);
    assert_eq!(data.get(128..132), Some(&b"DICM"[..]));
    let p = parse_forced(data, Some("1.2.840.10008.1.2.2")).expect("parses");
    assert_eq!(p.dataset.elements.len(), 1);
}

/// Found by `write_roundtrip` (seed: an implicit VR SR file of pydicom-data, cut to 10 kB). In implicit VR,
/// an element of a tag the dictionary types SQ whose value is not a sequence of items — here
/// (0040,A170) 'Purpose of Reference Code Sequence' holding the 10 bytes "NAMED TYPE" — is read as UN bytes.
/// Transcoded to explicit VR it is written as UN, as it should; but reading explicit UN of a known public tag
/// switches to the dictionary VR (pydicom's `replace_un_with_known_vr`) and, for SQ, parses the value as items
/// with no fallback: "Expected an Item (FFFE,E000) in the sequence, found (414E,454D)". So a file dicomfast
/// reads and writes cannot be read back (strict), and lenient reading drops the value.
///
/// Fixed in 11f285d, as proposed:
/// Fix (parse/index.rs): when an explicit UN value of a tag whose dictionary VR is SQ does not parse as items,
/// keep it as a UN primitive, as the implicit VR path does.
#[test]
fn explicit_un_of_a_sequence_tag_that_is_not_items() {
    let p = parse_forced(
        read("explicit_un_of_sequence_tag_not_items.bin"),
        Some("1.2.840.10008.1.2.1"),
    )
    .expect("reads");
    let el = p.dataset.elements.first().expect("one element");
    assert!(matches!(el.body, Body::Primitive));
    assert_eq!(p.bytes().get(el.value_range()), Some(&b"NAMED TYPE"[..]));
}

/// The file the fuzzer found: implicit VR little endian, transcoded to explicit VR little endian, read back.
#[test]
fn explicit_un_of_a_sequence_tag_after_transcoding() {
    let p = parse_forced(read("write_roundtrip_implicit_sq_tag_not_items.dcm"), None).expect("reads");
    assert!(!p.dataset.explicit_vr);
    let n = touch(&p);
    let out = encode_as(&p, Syntax::IMPLICIT_LE, Syntax::EXPLICIT_LE);
    let back = parse_forced(out, Some("1.2.840.10008.1.2.1")).expect("the transcoded data set reads");
    assert_eq!(touch(&back), n);
}

/// Found by `parse` (a timeout, `parse_timeout_zero_padding_scan.dcm`). At the top level, every element with
/// tag (0000,0000) checks whether the rest of the buffer is zero padding (`parse/index.rs`,
/// `parse_dataset_into`: `self.buf.get(pos..limit).is_some_and(|r| r.iter().all(|&b| b == 0))`). A run of
/// zeros ending in one non-zero byte is read as (0000,0000) elements of length 0, 8 bytes each, and each one
/// scans the whole run again: quadratic. Measured through `dcmread(bytes(n) + b"\x01\x00", force=True)`
/// (release build): 100 kB 1.2 s, 200 kB 4 s, 400 kB 17 s; a 4 MB file would take about half an hour.
///
/// Fixed in 11f285d, as proposed:
/// Fix: remember where the zero run ends (the first non-zero byte at or after `pos`, found once) and compare
/// against it, so the check costs O(1) per element and O(n) in all.
#[test]
fn zero_padding_check_is_linear() {
    let mut data = vec![0u8; 400_000];
    data.extend_from_slice(&[1, 0]);
    let opts = ReadOptions {
        force: true,
        lenient: true,
        ..ReadOptions::default()
    };
    let t0 = std::time::Instant::now();
    let _ = parse::parse(Arc::new(data), &opts);
    let secs = t0.elapsed().as_secs_f64();
    assert!(secs < 1.0, "400 kB of zeros took {secs:.1} s to parse");
}

/// Found by `write_roundtrip`: a file whose data set starts with 8 zero bytes, (0000,0000) with VR "\0\0" and
/// length 0, then ordinary explicit VR elements. Read as a Part 10 file (its meta says explicit VR) it reads;
/// written as a bare data set and read with `transfer_syntax` explicit VR little endian, the first-element
/// guess (pydicom's implicit/explicit switch) overrides the syntax the caller named, and (0008,0005) is read
/// as implicit VR: "The value length 676675 exceeds the 20 bytes remaining".
///
/// Fixed in 11f285d, as proposed:
/// Fix (parse/mod.rs): when `transfer_syntax` is given, use it; guess only when it is not (and, for a guess,
/// look past a leading zero element as the Part 10 path does).
#[test]
fn bare_explicit_data_set_starting_with_a_zero_element() {
    let p = parse_forced(
        read("bare_explicit_first_element_zero_vr.bin"),
        Some("1.2.840.10008.1.2.1"),
    )
    .expect("reads");
    assert!(p.dataset.explicit_vr);
    assert_eq!(p.dataset.elements.len(), 3);
}

/// Found by `write_roundtrip` (a data set whose (0062,0002) 'Segment Sequence' items hold a stray
/// (0002,0021) UI element). The encoder writes every group 0002 element little endian
/// (`write/mod.rs`, `put_header`: `let be = syntax.big_endian && tag.0 != 0x0002`, and no swap for group 0002
/// in `encode_element`), which is right for the file meta group only. Inside a big endian data set the
/// reader reads that element big endian: (0200,2100) with a length of 16384, and the file does not read back.
/// The same happens at the top level after a (0000,0000) element (`write_roundtrip_group2_after_group0.dcm`).
///
/// Fixed in 11f285d, as proposed:
/// Fix (write/mod.rs): apply the little endian rule only to the file meta group (the `_meta_bytes` path),
/// not to elements of the data set body; group 0002 elements found in a data set body are written in its
/// byte order (or dropped with a warning, as pydicom refuses them).
#[test]
fn group_0002_inside_an_item_keeps_the_byte_order_of_the_data_set() {
    let data = read("write_roundtrip_group2_nested_big_endian.dcm");
    let (n, out) = to_big_endian(data);
    let back = parse_forced(out, Some("1.2.840.10008.1.2.2")).expect("the big endian data set reads back");
    assert_eq!(touch(&back), n);
}

/// Found by `write_roundtrip`: a data set whose first element is (0200,0013) (a damaged (0002,0013)). Written
/// as a bare explicit VR big endian data set its first bytes are `02 00 00 13`, which the reader takes for a
/// little endian file meta element (0002,1300) although `transfer_syntax` says big endian: "The value length
/// 4096 exceeds the 228 bytes remaining ... element (0002,1300) at byte 0". Same family as the "DICM" at
/// byte 128 bug: for a bare data set whose syntax is given, the preamble / file meta / VR guesses should not
/// run (parse/mod.rs).
#[test]
fn bare_big_endian_data_set_starting_with_group_0200() {
    let (n, out) = to_big_endian(read("write_roundtrip_group_0200_big_endian.dcm"));
    let back = parse_forced(out, Some("1.2.840.10008.1.2.2")).expect("the big endian data set reads back");
    assert_eq!(touch(&back), n);
}

/// Found by replaying `explicit_un_of_sequence_tag_not_items.bin` through `write_roundtrip` after the fix of
/// 11f285d: the explicit UN element of (0040,A170) (an SQ tag) whose value is not items is now read as UN
/// bytes, but `value::effective_vr` still resolves it to SQ (explicit UN of a known tag takes the dictionary
/// VR), so transcoding to big endian writes an "SQ" header with a defined length over the bytes "NAMED TYPE",
/// which does not read back: "Expected an Item (FFFE,E000) in the sequence, found (4E41,4D45)". Python shows
/// the same element as VR 'SQ' with a bytes value.
///
/// Fix (value/mod.rs `effective_vr`, or write/mod.rs `encode_element`): a `Body::Primitive` element never
/// resolves to SQ; keep UN.
#[test]
fn explicit_un_of_a_sequence_tag_transcodes_as_un() {
    let (n, out) = to_big_endian(read("explicit_un_of_sequence_tag_not_items.bin"));
    assert_eq!(out.get(4..6), Some(&b"UN"[..]));
    let back = parse_forced(out, Some("1.2.840.10008.1.2.2")).expect("reads back");
    assert_eq!(touch(&back), n);
}

/// Found by `write_roundtrip` (saved as "untriaged" in the first session): (0008,2112) 'Source Image
/// Sequence' has a defined length of 8, which holds only the header of an item of undefined length; the
/// item's elements follow the sequence. The reader read the item up to a delimiter far past the sequence's
/// end, yet went on after the sequence's 8 bytes, so the same bytes were read twice (inside the item and at
/// the top level), and the same-syntax writer, copying the sequence's 8 bytes, wrote an item with no
/// delimiter: "An item of undefined length has no Item Delimitation Item" on reading back.
///
/// Fix (parse/index.rs, `End::DelimitedWithin`): an undefined-length item of a defined-length sequence ends
/// at its delimiter or at the sequence's end, whichever comes first (pydicom: one empty item, and the elements
/// after it at the top level).
#[test]
fn undefined_length_item_running_past_its_defined_length_sequence() {
    let opts = ReadOptions {
        force: true,
        ..ReadOptions::default()
    };
    let p = parse::parse(
        Arc::new(read("write_roundtrip_undefined_item_past_defined_sequence.dcm")),
        &opts,
    )
    .expect("reads");
    let seq = p
        .dataset
        .elements
        .iter()
        .find(|e| e.tag == Tag(0x0008, 0x2112))
        .expect("(0008,2112)");
    let Body::Sequence(items) = &seq.body else {
        panic!("(0008,2112) is a sequence")
    };
    assert_eq!(items.iter().map(|i| i.dataset.elements.len()).collect::<Vec<_>>(), [0]);
    assert!(p.dataset.elements.iter().any(|e| e.tag == Tag(0x0008, 0x1155)));
    let n = touch(&p);
    let out = encode_as(&p, Syntax::EXPLICIT_LE, Syntax::EXPLICIT_LE);
    let back = parse_forced(out, Some("1.2.840.10008.1.2.1")).expect("reads back");
    assert_eq!(touch(&back), n);
}

/// Found by `write_roundtrip` (this session's background run): (0008,0005) 'Specific Character Set' written
/// with VR SS. Its bytes named a character set in the little endian source, but transcoding to big endian
/// swaps SS words, so the copy named none, and (0008,1090) decoded differently on each side. pydicom raises
/// a TypeError on such a file.
///
/// Fix (value/mod.rs, `charsets_for`): a Specific Character Set with a numeric VR is ignored (the parent's or
/// the default character set applies), on both sides of any transcode.
#[test]
fn specific_character_set_with_a_numeric_vr_is_ignored() {
    let data = read("write_roundtrip_charset_with_numeric_vr.dcm");
    let p = parse_forced(data.clone(), None).expect("reads");
    let (_, out) = to_big_endian(data);
    let back = parse_forced(out, Some("1.2.840.10008.1.2.2")).expect("reads back");
    let model = |p: &ParsedFile| {
        let buf = p.bytes();
        let el = p.dataset.get(Tag(0x0008, 0x1090)).expect("(0008,1090)");
        let cs = value::charsets_for(buf, &[&p.dataset]);
        let vr = value::effective_vr(buf, el, &[&p.dataset], p.encoding.big_endian);
        format!("{:?}", value::decode(buf, el, vr, p.encoding.big_endian, &cs))
    };
    assert_eq!(model(&p), model(&back));
}

/// Found by `write_roundtrip` (this session): the "DICM" at byte 128 case again, with a first element of odd
/// group (0003,0021) (a damaged (0008,0021)): sorted first, it made byte 0 fail the "plausible element" test,
/// which only accepted even groups, so the written bare data set was read as a preamble file and failed.
///
/// Fix (parse/mod.rs, `parse_inner`): any group from 0x0001 to 0x00FF at byte 0 (little or big endian) counts as
/// an element when no file meta group follows the "DICM".
#[test]
fn bare_dataset_with_dicm_at_byte_128_and_an_odd_first_group() {
    let p = parse_forced(read("write_roundtrip_dicm_at_128_odd_first_group.dcm"), None).expect("reads");
    assert_eq!(p.dataset.elements.first().map(|e| e.tag), Some(Tag(0x0003, 0x0021)));
    let n = touch(&p);
    let out = encode_as(&p, Syntax::EXPLICIT_LE, Syntax::EXPLICIT_LE);
    assert_eq!(out.get(128..132), Some(&b"DICM"[..]));
    let back = parse_forced(out, Some("1.2.840.10008.1.2.1")).expect("reads back");
    assert_eq!(touch(&back), n);
}

/// write_roundtrip (this session's campaign): a data set whose first element is (4944,4D43), the bytes
/// "DICM", written as a bare data set, was read back from byte 4 ("DICM" taken for a prefix without the
/// preamble) and failed on a lying length. Fix (parse/mod.rs, `parse_inner`): "DICM" at byte 0 is a prefix only
/// when a group 0002 element follows it.
#[test]
fn bare_dataset_starting_with_the_bytes_dicm_reads_back() {
    let p = parse_forced(read("write_roundtrip_dicm_tag_at_byte_0.dcm"), None).expect("reads");
    assert_eq!(p.dataset.elements.first().map(|e| e.tag), Some(Tag(0x4944, 0x4D43)));
    let n = touch(&p);
    let out = encode_as(&p, Syntax::IMPLICIT_LE, Syntax::IMPLICIT_LE);
    assert_eq!(out.get(0..4), Some(&b"DICM"[..]));
    for ts in [Some("1.2.840.10008.1.2"), None] {
        let back = parse_forced(out.clone(), ts).expect("reads back");
        assert_eq!(back.dataset.elements.first().map(|e| e.tag), Some(Tag(0x4944, 0x4D43)));
        assert_eq!(touch(&back), n);
    }
    // "DICM" followed by the file meta, without the preamble, is still a prefix.
    let mut v = b"DICM".to_vec();
    v.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I', 20, 0]);
    v.extend_from_slice(b"1.2.840.10008.1.2.1\0");
    v.extend_from_slice(&[0x10, 0x00, 0x10, 0x00, b'P', b'N', 4, 0]);
    v.extend_from_slice(b"A^B ");
    let p = parse_forced(v, None).expect("reads");
    assert_eq!(p.meta.elements.len(), 1);
    assert_eq!(p.dataset.elements.first().map(|e| e.tag), Some(Tag(0x0010, 0x0010)));
}

/// write_roundtrip (campaign of 2026-12-03): the same (4944,4D43) first element, in implicit VR with a value
/// length of 2: the bytes after "DICM" are 02 00 00 00, which passed the "group 0002 follows" test above, so the
/// written data set was read from byte 4 and lost its first element. Fix (parse/mod.rs, `parse_inner`): "DICM"
/// at byte 0 is a prefix only when a group 0002 tag and an explicit VR follow it.
#[test]
fn bare_implicit_dataset_starting_with_dicm_and_a_length_of_two_reads_back() {
    let (p, out) = implicit_bare_round_trip(
        "write_roundtrip_dicm_tag_implicit_len_2.dcm",
        Tag(0x4944, 0x4D43),
        &[Some("1.2.840.10008.1.2"), None],
    );
    assert_eq!(p.dataset.elements.first().map(|e| e.value_len), Some(2));
    assert_eq!(out.get(0..8), Some(&b"DICM\x02\0\0\0"[..]));
}

/// decode_jpegls (campaign of 2026-12-03): a 64 x 64 16-bit frame whose LSE segment sets RESET to 6400 (0x1900)
/// made CharLS loop forever: it keeps the run-mode RESET in 8 bits (0), so the run-mode counter wraps to 0 and
/// `get_golomb_code` never ends. Fix (pixel/codec/jpegls.rs, `looping_reset`): such a stream is a DecodeError
/// naming the LSE RESET. The decode runs on a thread so that a regression fails the test instead of hanging it.
#[test]
fn jpegls_reset_that_is_a_multiple_of_256_is_an_error_not_a_hang() {
    use _native::pixel::{PixelInfo, decode_frame};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/codec_regressions/jpegls_lse_reset_6400.jls");
    let stream = std::fs::read(path).expect("saved input");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let info = PixelInfo {
            rows: 64,
            columns: 64,
            samples_per_pixel: 1,
            bits_allocated: 16,
            bits_stored: 16,
            high_bit: 15,
            photometric: "MONOCHROME2".to_owned(),
            number_of_frames: 1,
            ..PixelInfo::default()
        };
        let mut out = vec![0u8; 64 * 64 * 2];
        let r = decode_frame("1.2.840.10008.1.2.4.80", &stream, &info, 0, &mut out);
        tx.send(r.map_err(|e| e.to_string())).ok();
    });
    let r = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the decode ends");
    let e = r.expect_err("a RESET CharLS cannot decode with is refused");
    assert!(e.contains("RESET to 6400"), "{e}");
}

/// write_roundtrip (campaign of 2026-12-03): a data set whose first element is (424F,00DD), 1024 bytes holding
/// "DICM" at byte 128 of the written bare data set: read back with its transfer syntax given, byte 0 (group
/// 0x424F) failed the "plausible element" test, so the bytes before "DICM" were taken for a preamble. Fix
/// (parse/mod.rs, `parse_inner`): with the transfer syntax given (a bare data set: the network, our own
/// encoder), "DICM" at 128 is a preamble only when the file meta follows it.
#[test]
fn bare_dataset_with_dicm_at_byte_128_and_a_high_first_group_reads_back() {
    let (_, out) = implicit_bare_round_trip(
        "write_roundtrip_dicm_at_128_high_first_group.dcm",
        Tag(0x424F, 0x00DD),
        &[Some("1.2.840.10008.1.2")],
    );
    assert_eq!(out.get(128..132), Some(&b"DICM"[..]));
}

/// write_roundtrip (campaign of 2026-12-03, after the fix above): (4944,4D43) of length 2 whose value is "UI":
/// written as a bare implicit data set, its first 10 bytes are "DICM", 02 00 00 00, "UI", the start of a
/// preamble-less Part 10 file. A bare data set is ambiguous by its bytes alone. Fix (parse/mod.rs,
/// `parse_inner`): with the transfer syntax given, the data is a bare data set, read from byte 0 with no
/// prefix or preamble looked for (as `dcmread(transfer_syntax=)` documents).
#[test]
fn bare_dataset_starting_with_dicm_and_a_vr_reads_back_with_its_syntax() {
    let (_, out) = implicit_bare_round_trip(
        "write_roundtrip_dicm_tag_value_spells_a_vr.dcm",
        Tag(0x4944, 0x4D43),
        &[Some("1.2.840.10008.1.2")],
    );
    assert_eq!(out.get(0..10), Some(&b"DICM\x02\0\0\0UI"[..]));
}
