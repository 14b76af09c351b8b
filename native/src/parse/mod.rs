//! Reading DICOM files: preamble, file meta information, transfer syntax, and the lazy element index.
//!
//! - [`source`]: byte sources (mmap, owned, borrowed).
//! - [`index`]: the one-pass element index (tags, VRs, offsets, items, fragments).
//!
//! A Part 10 file (PS3.10 §7.1) is a 128-byte preamble, "DICM", the file meta information (group 0002,
//! always explicit VR little endian) and the data set in the transfer syntax the meta names. Files without
//! preamble or without meta are read when `force` is set, guessing the encoding as pydicom does.

pub mod index;
pub mod source;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

pub use index::{Body, Dataset, Element, Fragment, Item, ReadOptions, UNDEFINED, recycle};
pub use source::Bytes;

use crate::dictionary::{self, Tag, VR};
use crate::error::{Error, Result};
use index::Parser;

/// The longest inflated data set accepted from a deflated file, relative to its compressed size.
const MAX_INFLATE_RATIO: usize = 1032; // deflate cannot expand more than ~1032:1

/// How the data set after the file meta is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoding {
    /// The transfer syntax UID (from the meta, or guessed; empty when unknown).
    pub uid: String,
    /// Explicit VR (the first element may still switch it, as pydicom does).
    pub explicit_vr: bool,
    /// Big endian.
    pub big_endian: bool,
    /// The data set was deflated in the file (PS3.5 §A.5).
    pub deflated: bool,
}

/// A parsed file: the buffer, the file meta and the data set index.
pub struct ParsedFile {
    /// The bytes all offsets refer to (for a deflated file: the meta followed by the inflated data set).
    pub buf: Bytes,
    /// The 128-byte preamble, when present.
    pub has_preamble: bool,
    /// File meta information (group 0002); empty when the file has none.
    pub meta: Dataset,
    /// The data set.
    pub dataset: Dataset,
    /// Its encoding.
    pub encoding: Encoding,
    /// Offset where the data set starts.
    pub dataset_offset: usize,
    /// Reading stopped before the end (stop_before_pixels / specific_tags).
    pub stopped_early: bool,
    /// Faults met in lenient mode (empty otherwise), in the order found.
    pub errors: Vec<Error>,
}

impl std::fmt::Debug for ParsedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedFile")
            .field("len", &self.bytes().len())
            .field("encoding", &self.encoding)
            .field("meta_elements", &self.meta.elements.len())
            .field("elements", &self.dataset.elements.len())
            .finish_non_exhaustive()
    }
}

impl ParsedFile {
    /// The whole buffer.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        (*self.buf).as_ref()
    }
}

fn not_dicom(reason: &str) -> Error {
    Error::NotDicom {
        offset: 128,
        reason: reason.to_owned(),
    }
}

/// Parses a whole buffer.
///
/// # Errors
/// `Error::NotDicom` when the buffer is not DICOM (and `force` is off), `Error::Parse` / `Error::Limit` when
/// it is malformed.
pub fn parse(buf: Bytes, opts: &ReadOptions) -> Result<ParsedFile> {
    parse_inner(buf, opts, false).map(|(p, _)| p)
}

/// Reads a file by path: small files into memory, large ones mapped; with `stop_before_pixels` or
/// `specific_tags`, only a growing prefix is read until the wanted elements are indexed.
///
/// # Errors
/// I/O errors, and those of [`parse`].
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<ParsedFile> {
    let mut src = source::FileSource::open(path)?;
    let header_only = opts.stop_before_pixels || opts.specific_tags.is_some();
    if header_only && src.len() > source::HEADER_PREFIX as u64 {
        // Most headers fit in the first read; when one does not, the whole file is read (small files) or
        // mapped (large ones: a header-only parse then touches only the header's pages).
        let buf = src.prefix(source::HEADER_PREFIX)?;
        match parse_inner(buf, opts, true) {
            Ok((p, false)) => return Ok(p),
            Err(e) if !matches!(e, Error::Parse { .. }) => return Err(e),
            _ => {}
        }
    }
    parse(src.whole()?, opts)
}

/// Reads everything from a reader and parses it.
///
/// # Errors
/// I/O errors, and those of [`parse`].
pub fn read_from<R: Read>(mut r: R, opts: &ReadOptions) -> Result<ParsedFile> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    parse(Arc::new(v), opts)
}

/// Parses `buf`; with `partial`, the buffer is a prefix of the file and the second value says whether more
/// bytes are needed to finish.
fn parse_inner(buf: Bytes, opts: &ReadOptions, partial: bool) -> Result<(ParsedFile, bool)> {
    let data: &[u8] = (*buf).as_ref();
    // With its transfer syntax given, the data is a bare data set (PS3.7 §6.3.1: a data set received over the
    // network, or written without the file meta): read from byte 0, whatever bytes 0..4 or 128..132 hold, as
    // they may spell "DICM" by chance (write_roundtrip found data sets starting with (4944,4D43) of length 2
    // whose value spelt a VR, and one starting with (424F,00DD) whose value held "DICM" at byte 128).
    let bare = opts.transfer_syntax.is_some();
    // "DICM" at byte 128 with no group 0002 after it, and a plausible element at byte 0: the bytes
    // "DICM" are data (seen in the wild), and the file has no preamble.
    let has_preamble = !bare
        && data.get(128..132) == Some(b"DICM")
        && !(data.get(132..134) != Some(&[0x02, 0x00])
            && data.get(0..2).is_some_and(|g| {
                // a group number from 0x0001 to 0x00FF, little or big endian (odd ones too: a damaged or private
                // group sorted first, as write_roundtrip found with (0003,0021))
                (g[1] == 0x00 && g[0] != 0) || (g[0] == 0x00 && g[1] != 0)
            }));
    let mut pos = 0usize;
    if has_preamble {
        pos = 132;
    } else if !bare
        && data.get(0..4) == Some(b"DICM")
        && data.get(4..6) == Some(&[0x02, 0x00])
        && data.get(8..10).is_some_and(|v| VR::from_bytes([v[0], v[1]]).is_some())
    {
        // "DICM" and the file meta without the preamble (seen in the wild): a group 0002 tag and an explicit
        // VR (the file meta is always explicit VR little endian, PS3.10 §7.1). Otherwise the bytes "DICM" are
        // the tag (4944,4D43) of a bare data set, as pydicom reads them: write_roundtrip found such a data set
        // read back from byte 4, first without a group 0002 after it, then in implicit VR with a value length
        // of 2 (bytes 02 00 00 00) that looked like one.
        pos = 4;
    } else if !opts.force && opts.transfer_syntax.is_none() {
        if data.len() < 132 {
            return Err(not_dicom(&format!(
                "File is only {} bytes: too short for the 128-byte preamble and 'DICM' prefix of a DICOM file (PS3.10 §7.1); \
                 use force=True to read it as a data set without the preamble",
                data.len()
            )));
        }
        return Err(not_dicom(
            "File is missing DICOM File Meta Information header or the 'DICM' prefix is missing from the header; \
             use force=True to force reading",
        ));
    }
    // File meta: group 0002, explicit VR little endian (PS3.10 §7.1).
    let meta_opts = ReadOptions {
        specific_tags: None,
        stop_before_pixels: false,
        force: opts.force,
        max_depth: opts.max_depth,
        max_elements: opts.max_elements,
        lenient: opts.lenient,
        transfer_syntax: opts.transfer_syntax.clone(),
    };
    let mut errors = Vec::new();
    let (meta, after_meta) = {
        let mut p = Parser::new(data, false, &meta_opts);
        p.partial = partial;
        // A bare data set read with the caller's transfer syntax has no file meta to look for.
        let r = if !bare && data.get(pos..pos + 2) == Some(&[0x02, 0x00]) {
            p.parse_group(pos, 0x0002)?
        } else {
            (Dataset::default(), pos)
        };
        errors.append(&mut p.errors);
        r
    };
    pos = after_meta;
    // Command group elements (0000,xxxx) right after the meta are skipped as pydicom does.
    let ts_uid = meta
        .get(Tag::TRANSFER_SYNTAX_UID)
        .and_then(|e| data.get(e.value_range()))
        .map(|b| {
            String::from_utf8_lossy(b)
                .trim_end_matches(['\0', ' '])
                .trim()
                .to_owned()
        });
    let ts_uid = ts_uid
        .filter(|u| !u.is_empty())
        .or_else(|| opts.transfer_syntax.clone());
    let encoding = match ts_uid {
        Some(uid) if !uid.is_empty() => match dictionary::transfer_syntax(&uid) {
            Some(ts) => Encoding {
                explicit_vr: ts.explicit_vr,
                big_endian: ts.big_endian,
                deflated: ts.deflated,
                uid,
            },
            // Unknown (private) transfer syntax: explicit VR little endian, as pydicom assumes.
            None => Encoding {
                uid,
                explicit_vr: true,
                big_endian: false,
                deflated: false,
            },
        },
        _ => guess_encoding(data.get(pos..).unwrap_or_default()),
    };
    if encoding.deflated {
        let rest = data.get(pos..).unwrap_or_default();
        let mut out = Vec::with_capacity(pos + rest.len() * 4);
        out.extend_from_slice(data.get(..pos).unwrap_or_default());
        let cap = (rest.len().saturating_mul(MAX_INFLATE_RATIO)).max(1 << 20);
        let mut dec = flate2::read::DeflateDecoder::new(rest).take(cap as u64);
        if let Err(e) = dec.read_to_end(&mut out)
            && !(partial && out.len() > pos)
        {
            return Err(Error::parse(
                pos as u64,
                None,
                format!("The deflated data set could not be inflated: {e}"),
            ));
        }
        let inflated: Bytes = Arc::new(out);
        let (ds, stopped, more) = {
            let d: &[u8] = (*inflated).as_ref();
            let mut p = Parser::new(d, false, opts);
            p.partial = partial;
            let (ds, outcome) = p.parse_top(pos, true)?;
            errors.append(&mut p.errors);
            (ds, outcome.stopped_early, outcome.needs_more)
        };
        return Ok((
            ParsedFile {
                buf: inflated,
                has_preamble,
                meta,
                dataset: ds,
                encoding,
                dataset_offset: pos,
                stopped_early: stopped,
                errors,
            },
            more,
        ));
    }
    let mut p = Parser::new(data, encoding.big_endian, opts);
    p.partial = partial;
    // A bare data set read with the caller's transfer syntax (received over the network) is encoded as
    // that syntax says; otherwise the first element may correct the file meta, as pydicom lets it.
    p.trust_syntax = meta.elements.is_empty() && opts.transfer_syntax.is_some();
    let result = p.parse_top(pos, encoding.explicit_vr);
    let (ds, outcome) = match result {
        Ok(r) => r,
        Err(e) => {
            if partial && p.needs_more {
                return Ok((
                    ParsedFile {
                        buf: buf.clone(),
                        has_preamble,
                        meta,
                        dataset: Dataset::default(),
                        encoding,
                        dataset_offset: pos,
                        stopped_early: false,
                        errors: Vec::new(),
                    },
                    true,
                ));
            }
            return Err(e);
        }
    };
    let more = partial && (outcome.needs_more || !outcome.stopped_early);
    errors.append(&mut p.errors);
    Ok((
        ParsedFile {
            buf: buf.clone(),
            has_preamble,
            meta,
            dataset: ds,
            encoding,
            dataset_offset: pos,
            stopped_early: outcome.stopped_early,
            errors,
        },
        more,
    ))
}

/// Guesses the encoding of a data set with no transfer syntax (PS3.5 §10 gives none): explicit VR when the
/// bytes after the first tag spell a VR, big endian when the first group reads implausibly large in little
/// endian — the rules pydicom applies.
fn guess_encoding(data: &[u8]) -> Encoding {
    let explicit = data
        .get(4..6)
        .is_some_and(|v| dictionary::VR::from_bytes([v[0], v[1]]).is_some());
    let group = data.get(0..2).map_or(0, |g| u16::from_le_bytes([g[0], g[1]]));
    let big_endian = explicit && group >= 1024;
    let uid = match (explicit, big_endian) {
        (false, _) => "1.2.840.10008.1.2",
        (true, false) => "1.2.840.10008.1.2.1",
        (true, true) => "1.2.840.10008.1.2.2",
    };
    Encoding {
        uid: uid.to_owned(),
        explicit_vr: explicit,
        big_endian,
        deflated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An explicit VR little endian element: the 12-byte header of PS3.5 §7.1.2 for the VRs that have
    /// one, 8 bytes otherwise.
    fn explicit_le(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&tag.0.to_le_bytes());
        v.extend_from_slice(&tag.1.to_le_bytes());
        v.extend_from_slice(vr);
        if dictionary::VR::spells_long_header(*vr) {
            v.extend_from_slice(&[0, 0]);
            v.extend_from_slice(&u32::try_from(value.len()).expect("test value").to_le_bytes());
        } else {
            let len = u16::try_from(value.len()).expect("short test value");
            v.extend_from_slice(&len.to_le_bytes());
        }
        v.extend_from_slice(value);
        v
    }

    fn file(body: &[u8], ts: &str) -> Vec<u8> {
        let mut v = vec![0u8; 128];
        v.extend_from_slice(b"DICM");
        let mut uid = ts.as_bytes().to_vec();
        if uid.len() % 2 == 1 {
            uid.push(0);
        }
        v.extend(explicit_le((0x0002, 0x0010), b"UI", &uid));
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn explicit_little_endian() {
        let mut body = explicit_le((0x0008, 0x0060), b"CS", b"CT");
        body.extend(explicit_le((0x0010, 0x0010), b"PN", b"DOE^JOHN"));
        let f = parse(Arc::new(file(&body, "1.2.840.10008.1.2.1")), &ReadOptions::default()).expect("parses");
        assert_eq!(f.dataset.elements.len(), 2);
        let pn = f.dataset.get(Tag(0x0010, 0x0010)).expect("PatientName");
        assert_eq!(&f.bytes()[pn.value_range()], b"DOE^JOHN");
        assert_eq!(pn.vr, dictionary::VR::PN);
    }

    #[test]
    fn lying_length_is_an_error() {
        let mut body = explicit_le((0x0008, 0x0060), b"CS", b"CT");
        body.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0, 0, 0, 0xC0]);
        body.extend_from_slice(&[0u8; 100]);
        let err = parse(Arc::new(file(&body, "1.2.840.10008.1.2.1")), &ReadOptions::default()).expect_err("lies");
        assert!(err.to_string().contains("exceeds"), "{err}");
        assert_eq!(err.tag(), Some(Tag::PIXEL_DATA));
    }

    #[test]
    fn specific_tags_step_over_what_is_not_wanted() {
        // (0008,1140) a defined-length sequence whose item is malformed (no (FFFE,E000) item tag), then
        // (0008,0060) before (0008,0020) (out of order), then (0010,0010).
        let mut body = Vec::new();
        body.extend_from_slice(&[0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 8, 0, 0, 0]);
        body.extend_from_slice(&[0x08, 0x00, 0x50, 0x11, 0, 0, 0, 0]);
        body.extend(explicit_le((0x0008, 0x0060), b"CS", b"MR"));
        // (0008,1111) of undefined length: an item of undefined length holding (0008,1115), itself of undefined
        // length with one item of defined length, then an encapsulated-like (0009,1001) OB of undefined length.
        let item = |len: u32| [&[0xFE, 0xFF, 0x00, 0xE0][..], &len.to_le_bytes()].concat();
        let undefined_sq = |g: u8, e: [u8; 2]| [g, 0x00, e[0], e[1], b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        let inner = explicit_le((0x0008, 0x1155), b"UI", b"1.2\0");
        body.extend_from_slice(&undefined_sq(0x08, [0x11, 0x11]));
        body.extend(item(UNDEFINED));
        body.extend_from_slice(&undefined_sq(0x08, [0x15, 0x11]));
        body.extend(item(u32::try_from(inner.len()).expect("short")));
        body.extend(&inner);
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]); // end of (0008,1115)
        body.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]); // end of the item
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]); // end of (0008,1111)
        body.extend_from_slice(&[0x09, 0x00, 0x01, 0x10, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        body.extend(item(4));
        body.extend_from_slice(&[1, 2, 3, 4]);
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        body.extend(explicit_le((0x0008, 0x0020), b"DA", b"20240102"));
        body.extend(explicit_le((0x0010, 0x0010), b"PN", b"DOE^JANE"));
        let buf = file(&body, "1.2.840.10008.1.2.1");
        let err = parse(Arc::new(buf.clone()), &ReadOptions::default()).expect_err("a malformed sequence");
        assert_eq!(err.tag(), Some(Tag(0x0008, 0x1140)), "{err}");
        // As pydicom's reader with specific_tags, the sequence that is not wanted is not looked at.
        let opts = ReadOptions {
            specific_tags: Some(vec![Tag(0x0010, 0x0010), Tag(0x0008, 0x0020)]),
            ..ReadOptions::default()
        };
        let f = parse(Arc::new(buf), &opts).expect("the wanted tags are read");
        let tags: Vec<Tag> = f.dataset.elements.iter().map(|e| e.tag).collect();
        assert_eq!(tags, vec![Tag(0x0008, 0x0020), Tag(0x0010, 0x0010)]);
        // Stepping over the sequences finds the ends the full parse finds.
        let mut fixed = buf_without_bad_sequence(&f);
        let full = parse(Arc::new(std::mem::take(&mut fixed)), &ReadOptions::default()).expect("well formed");
        let sq = full.dataset.get(Tag(0x0008, 0x1111)).expect("the sequence");
        assert!(matches!(&sq.body, Body::Sequence(items) if items.len() == 1));
        assert_eq!(
            full.dataset.get(Tag(0x0008, 0x0020)).map(|e| e.value_offset + 20),
            f.dataset.get(Tag(0x0008, 0x0020)).map(|e| e.value_offset)
        );
        let pn = f.dataset.get(Tag(0x0010, 0x0010)).expect("PatientName");
        assert_eq!(&f.bytes()[pn.value_range()], b"DOE^JANE");
    }

    #[test]
    fn specific_tags_find_what_the_full_parse_finds() {
        // Runs of elements that are not wanted, stepped over in one loop (explicit VR little endian), among
        // what that loop leaves to the element loop: an unknown VR spelt with letters (read as UN, short
        // header), a long-header VR, a wanted tag out of order, a duplicate, an undefined-length sequence.
        let mut body = Vec::new();
        body.extend(explicit_le((0x0008, 0x0005), b"CS", b"ISO_IR 100"));
        body.extend(explicit_le((0x0008, 0x0008), b"CS", b"ORIGINAL"));
        body.extend(explicit_le((0x0008, 0x0016), b"UI", b"1.2\0"));
        body.extend(explicit_le((0x0008, 0x0060), b"CS", b"CT"));
        body.extend(explicit_le((0x0009, 0x0010), b"LO", b"ACME"));
        body.extend(explicit_le((0x0009, 0x1001), b"ZZ", b"abcd"));
        body.extend(explicit_le((0x0009, 0x1002), b"OB", b"\x01\x02\x03\x04\x05\x06"));
        body.extend(explicit_le((0x0008, 0x0020), b"DA", b"20240102"));
        body.extend_from_slice(&[0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        body.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        body.extend(explicit_le((0x0008, 0x1155), b"UI", b"1.3\0"));
        body.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        body.extend(explicit_le((0x0010, 0x0010), b"PN", b"A^B "));
        body.extend(explicit_le((0x0010, 0x0010), b"PN", b"C^D "));
        body.extend(explicit_le((0x0010, 0x0020), b"LO", b"ID"));
        body.extend(explicit_le((0x0010, 0x4000), b"UT", b"a comment "));
        body.extend(explicit_le((0x0018, 0x0050), b"DS", b"1.0 "));
        body.extend(explicit_le((0x0020, 0x000D), b"UI", b"1.4\0"));
        body.extend(explicit_le((0x0028, 0x0010), b"US", &[2, 0]));
        body.extend(explicit_le((0x7FE0, 0x0010), b"OB", &[0, 0, 0, 0]));
        body.extend(explicit_le((0x7FE1, 0x0010), b"LO", b"AFTER "));
        let buf: Bytes = Arc::new(file(&body, "1.2.840.10008.1.2.1"));
        let full = parse(Arc::clone(&buf), &ReadOptions::default()).expect("well formed");
        // Every field of every element (VR, lengths, offsets, body), as the full parse gives them.
        let summary = |ds: &Dataset| -> Vec<String> { ds.elements.iter().map(|e| format!("{e:?}")).collect() };
        assert_eq!(full.meta.elements.len(), 1);
        let sets: [&[(u16, u16)]; 12] = [
            // Wanted tags one after the other (each taken, then the search moves on to the next).
            &[(0x0008, 0x0005), (0x0008, 0x0008), (0x0008, 0x0016)],
            &[(0x0010, 0x0010), (0x0010, 0x0020), (0x0010, 0x4000), (0x0018, 0x0050)],
            &[
                (0x0008, 0x0016),
                (0x0009, 0x1001),
                (0x0009, 0x1002),
                (0x0028, 0x0010),
                (0x7FE0, 0x0010),
            ],
            &[(0x0008, 0x0020), (0x0008, 0x1140), (0x0010, 0x0010)],
            &[(0x0008, 0x0020)],
            &[(0x0010, 0x0010)],
            &[(0x0018, 0x0050), (0x0028, 0x0010)],
            &[(0x0009, 0x1002)],
            &[(0x0008, 0x0060), (0x0020, 0x000D)],
            &[(0x0008, 0x1140), (0x0010, 0x4000)],
            &[(0x0010, 0x0020), (0x7FE1, 0x0010)],
            &[(0x0009, 0x1001), (0x7FE0, 0x0010)],
        ];
        for set in sets {
            let wanted: Vec<Tag> = set.iter().map(|&(g, e)| Tag(g, e)).collect();
            for stop_before_pixels in [false, true] {
                let opts = ReadOptions {
                    specific_tags: Some(wanted.clone()),
                    stop_before_pixels,
                    ..ReadOptions::default()
                };
                let f = parse(Arc::clone(&buf), &opts).expect("the wanted tags are read");
                // Reading stops at the first tag (in file order) past the last one wanted, or at Pixel Data.
                let max = wanted.iter().copied().max().expect("a tag");
                let stop = full
                    .dataset
                    .elements
                    .iter()
                    .filter(|e| e.tag > max || (stop_before_pixels && e.tag.is_pixel_data()))
                    .map(|e| e.value_offset)
                    .min()
                    .unwrap_or(usize::MAX);
                let read = |e: &Element| {
                    e.value_offset < stop && (wanted.contains(&e.tag) || e.tag == Tag::SPECIFIC_CHARACTER_SET)
                };
                let expected: Vec<_> = full
                    .dataset
                    .elements
                    .iter()
                    .filter(|e| read(e))
                    .map(|e| format!("{e:?}"))
                    .collect();
                assert_eq!(summary(&f.dataset), expected, "{wanted:?} {stop_before_pixels}");
                assert_eq!(summary(&f.meta), summary(&full.meta));
            }
        }
    }

    #[test]
    fn recycled_element_lists_start_empty() {
        // A parse on a thread that was given back the lists of a larger parse gives what a fresh parse gives.
        let mut big = Vec::new();
        for e in 0..40u16 {
            big.extend(explicit_le((0x0011, 0x0010 + e), b"LO", b"VALUE "));
        }
        let small = explicit_le((0x0010, 0x0010), b"PN", b"A^B ");
        let (big, small): (Bytes, Bytes) = (
            Arc::new(file(&big, "1.2.840.10008.1.2.1")),
            Arc::new(file(&small, "1.2.840.10008.1.2.1")),
        );
        let opts = ReadOptions::default();
        let fresh = format!(
            "{:?}",
            parse(Arc::clone(&small), &opts).expect("small").dataset.elements
        );
        for _ in 0..3 {
            let b = parse(Arc::clone(&big), &opts).expect("big");
            assert_eq!(b.dataset.elements.len(), 40);
            recycle(b.meta, b.dataset);
            let s = parse(Arc::clone(&small), &opts).expect("small");
            assert_eq!(format!("{:?}", s.dataset.elements), fresh);
            recycle(s.meta, s.dataset);
        }
    }

    /// The bytes of `f` without its first 20 bytes of data set (the malformed sequence of the test above).
    fn buf_without_bad_sequence(f: &ParsedFile) -> Vec<u8> {
        let b = f.bytes();
        [&b[..f.dataset_offset], &b[f.dataset_offset + 20..]].concat()
    }

    #[test]
    fn not_dicom_without_force() {
        let err = parse(Arc::new(vec![0u8; 10]), &ReadOptions::default()).expect_err("not dicom");
        assert!(matches!(err, Error::NotDicom { .. }));
    }

    #[test]
    fn deep_nesting_is_refused() {
        // 100 nested undefined-length sequences of (0008,1140) in explicit VR.
        let mut body = Vec::new();
        for _ in 0..100 {
            body.extend_from_slice(&[0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
            body.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        }
        let err = parse(Arc::new(file(&body, "1.2.840.10008.1.2.1")), &ReadOptions::default()).expect_err("too deep");
        assert!(matches!(err, Error::Limit { limit: "max_depth", .. }), "{err}");
    }
}
