//! Data set encoder: writes an indexed data set back to bytes in any uncompressed transfer syntax.
//!
//! Elements that were read and not changed are copied verbatim when the target encoding equals the source
//! encoding (so an unchanged file round-trips byte for byte); otherwise their headers are rebuilt (PS3.5
//! §7.1.2 explicit, §7.1.3 implicit) and numeric values byte-swapped for a change of byte order (PS3.5
//! §7.3). Elements set by the caller arrive already encoded as `Override`s and are merged in tag order.

use std::collections::BTreeMap;

use crate::dictionary::{Tag, VR};
use crate::error::{Error, Result};
use crate::parse::{Body, Dataset, Element, UNDEFINED};
use crate::value;

/// How a data set is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syntax {
    /// Explicit VR.
    pub explicit: bool,
    /// Big endian.
    pub big_endian: bool,
}

impl Syntax {
    /// Implicit VR little endian, PS3.5 §A.1.
    pub const IMPLICIT_LE: Syntax = Syntax {
        explicit: false,
        big_endian: false,
    };
    /// Explicit VR little endian, PS3.5 §A.2.
    pub const EXPLICIT_LE: Syntax = Syntax {
        explicit: true,
        big_endian: false,
    };
}

/// A caller's change to one element.
#[derive(Clone, Debug)]
pub enum Override {
    /// Set the element to an encoded value (already padded to even length, in the target byte order).
    Value {
        /// Its VR.
        vr: VR,
        /// The value bytes; for SQ the encoded items (each with its item header).
        bytes: Vec<u8>,
        /// Write the length as undefined (SQ, and encapsulated pixel data whose bytes end with the
        /// Sequence Delimitation Item).
        undefined: bool,
    },
    /// Remove the element.
    Delete,
}

/// The source of the data being re-encoded.
pub struct Source<'a> {
    /// The whole buffer the index points into.
    pub buf: &'a [u8],
    /// How the source data set is encoded.
    pub syntax: Syntax,
}

fn put_u16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put_u32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// Writes an element header (PS3.5 §7.1.2 / §7.1.3).
///
/// # Errors
/// A value too long for a 16-bit length field of an explicit VR header.
pub fn put_header(out: &mut Vec<u8>, tag: Tag, vr: VR, len: u32, syntax: Syntax) -> Result<()> {
    // (the file meta is encoded on its own, always explicit VR little endian; a group 0002 element met
    // inside a data set follows the data set's encoding like any other)
    let be = syntax.big_endian;
    put_u16(out, tag.0, be);
    put_u16(out, tag.1, be);
    if syntax.explicit {
        out.extend_from_slice(vr.as_str().as_bytes());
        if vr.has_long_header() {
            out.extend_from_slice(&[0, 0]);
            put_u32(out, len, be);
        } else {
            let Ok(short) = u16::try_from(len) else {
                return Err(Error::Value {
                    tag: Some(tag),
                    reason: format!(
                        "is {len} bytes long: too long for the 16-bit length of VR {vr} in explicit VR (PS3.5 §7.1.2)"
                    ),
                });
            };
            put_u16(out, short, be);
        }
    } else {
        put_u32(out, len, be);
    }
    Ok(())
}

/// Swaps each `size`-byte word of `b` in place (byte order change, PS3.5 §7.3).
fn swap_words(b: &mut [u8], size: usize) {
    if size > 1 {
        for w in b.chunks_exact_mut(size) {
            w.reverse();
        }
    }
}

/// Size of the words to swap for a VR when the byte order changes.
fn swap_size(vr: VR) -> usize {
    match vr {
        VR::AT => 2, // a pair of 16-bit numbers
        VR::OB | VR::UN => 1,
        _ => vr.number_size(),
    }
}

/// Encodes `ds` (with `overrides` merged in tag order) into `out`.
///
/// `ancestors` are the data set's parents, innermost first (for ambiguous VR resolution).
///
/// # Errors
/// A value that cannot be written in the target syntax.
pub fn encode_dataset(
    src: &Source<'_>,
    ds: &Dataset,
    ancestors: &[&Dataset],
    overrides: &BTreeMap<Tag, Override>,
    dst: Syntax,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut chain: Vec<&Dataset> = Vec::with_capacity(ancestors.len() + 1);
    chain.push(ds);
    chain.extend_from_slice(ancestors);
    let mut ov = overrides.iter().peekable();
    for el in &ds.elements {
        while let Some(&(&t, o)) = ov.peek() {
            if t >= el.tag {
                break;
            }
            write_override(t, o, dst, out)?;
            ov.next();
        }
        if let Some(&(&t, o)) = ov.peek()
            && t == el.tag
        {
            write_override(t, o, dst, out)?;
            ov.next();
            continue;
        }
        encode_element(src, el, &chain, dst, out)?;
    }
    for (&t, o) in ov {
        write_override(t, o, dst, out)?;
    }
    Ok(())
}

fn write_override(tag: Tag, o: &Override, dst: Syntax, out: &mut Vec<u8>) -> Result<()> {
    let Override::Value { vr, bytes, undefined } = o else {
        return Ok(());
    };
    let len = if *undefined {
        UNDEFINED
    } else {
        u32::try_from(bytes.len()).map_err(|_| Error::Value {
            tag: Some(tag),
            reason: "is 4 GiB or longer: too long for a DICOM value".to_owned(),
        })?
    };
    put_header(out, tag, *vr, len, dst)?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// End offset of an element in the source (after its delimiter for undefined lengths).
fn element_end(el: &Element) -> usize {
    let end = el.value_offset + el.value_len;
    if el.length == UNDEFINED { end + 8 } else { end }
}

fn encode_element(src: &Source<'_>, el: &Element, chain: &[&Dataset], dst: Syntax, out: &mut Vec<u8>) -> Result<()> {
    if src.syntax == dst {
        // Unchanged and in the same encoding: the bytes as read (headers, padding, nested items, and the
        // odd element a writer encoded differently from the rest).
        out.extend_from_slice(src.buf.get(el.header_offset..element_end(el)).unwrap_or_default());
        return Ok(());
    }
    let vr = value::effective_vr(src.buf, el, chain, src.syntax.big_endian);
    match &el.body {
        Body::Primitive => {
            let bytes = src.buf.get(el.value_range()).unwrap_or_default();
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            // An explicit VR header cannot hold a 16-bit-length VR longer than 64 KiB: write it as UN.
            let vr = if dst.explicit && !vr.has_long_header() && len > 0xFFFF {
                VR::UN
            } else {
                vr
            };
            put_header(out, el.tag, vr, len, dst)?;
            let start = out.len();
            out.extend_from_slice(bytes);
            if src.syntax.big_endian != dst.big_endian
                && let Some(slice) = out.get_mut(start..)
            {
                swap_words(slice, swap_size(vr));
            }
        }
        Body::Sequence(items) => {
            let undefined = el.length == UNDEFINED;
            put_header(out, el.tag, VR::SQ, if undefined { UNDEFINED } else { 0 }, dst)?;
            let start = out.len();
            for item in items {
                let item_undefined = item.length == UNDEFINED;
                put_u16(out, 0xFFFE, dst.big_endian);
                put_u16(out, 0xE000, dst.big_endian);
                let len_at = out.len();
                put_u32(out, if item_undefined { UNDEFINED } else { 0 }, dst.big_endian);
                let body = out.len();
                encode_dataset(src, &item.dataset, chain, &BTreeMap::new(), dst, out)?;
                if item_undefined {
                    put_u16(out, 0xFFFE, dst.big_endian);
                    put_u16(out, 0xE00D, dst.big_endian);
                    put_u32(out, 0, dst.big_endian);
                } else {
                    let n = out.len() - body;
                    patch_len(out, len_at, n, dst.big_endian, el.tag)?;
                }
            }
            if undefined {
                put_u16(out, 0xFFFE, dst.big_endian);
                put_u16(out, 0xE0DD, dst.big_endian);
                put_u32(out, 0, dst.big_endian);
            } else {
                // The SQ length field is the last 4 bytes of its header (PS3.5 §7.1.2, §7.1.3).
                let n = out.len() - start;
                patch_len(out, start - 4, n, dst.big_endian, el.tag)?;
            }
        }
        Body::Fragments(_) => {
            // Encapsulated data (PS3.5 §A.4) is always little endian explicit VR: copy the items as read.
            put_header(out, el.tag, if vr == VR::OW { VR::OW } else { VR::OB }, UNDEFINED, dst)?;
            let end = element_end(el);
            out.extend_from_slice(src.buf.get(el.value_offset..end).unwrap_or_default());
        }
    }
    Ok(())
}

fn patch_len(out: &mut [u8], at: usize, len: usize, be: bool, tag: Tag) -> Result<()> {
    let len = u32::try_from(len).map_err(|_| Error::Value {
        tag: Some(tag),
        reason: "encodes to 4 GiB or more: too long for a defined length".to_owned(),
    })?;
    let b = if be { len.to_be_bytes() } else { len.to_le_bytes() };
    if let Some(dst) = out.get_mut(at..at + 4) {
        dst.copy_from_slice(&b);
    }
    Ok(())
}

/// Compresses an encoded data set with raw deflate (PS3.5 §A.5).
///
/// # Errors
/// I/O errors of the compressor (none expected in memory).
pub fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc =
        flate2::write::DeflateEncoder::new(Vec::with_capacity(data.len() / 2), flate2::Compression::default());
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{self, ReadOptions};
    use std::sync::Arc;

    fn explicit(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&tag.0.to_le_bytes());
        v.extend_from_slice(&tag.1.to_le_bytes());
        v.extend_from_slice(vr);
        v.extend_from_slice(&u16::try_from(value.len()).unwrap_or(0).to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    #[test]
    fn same_syntax_is_verbatim_and_implicit_round_trips() {
        let mut body = explicit((0x0008, 0x0060), b"CS", b"CT");
        body.extend(explicit((0x0028, 0x0010), b"US", &[0x00, 0x02]));
        let mut file = vec![0u8; 128];
        file.extend_from_slice(b"DICM");
        file.extend(explicit((0x0002, 0x0010), b"UI", b"1.2.840.10008.1.2.1\0"));
        let start = file.len();
        file.extend_from_slice(&body);
        let parsed = parse::parse(Arc::new(file.clone()), &ReadOptions::default()).expect("parses");
        let src = Source {
            buf: parsed.bytes(),
            syntax: Syntax::EXPLICIT_LE,
        };
        let mut out = Vec::new();
        encode_dataset(
            &src,
            &parsed.dataset,
            &[],
            &BTreeMap::new(),
            Syntax::EXPLICIT_LE,
            &mut out,
        )
        .expect("encodes");
        assert_eq!(out, file[start..]);
        let mut imp = Vec::new();
        encode_dataset(
            &src,
            &parsed.dataset,
            &[],
            &BTreeMap::new(),
            Syntax::IMPLICIT_LE,
            &mut imp,
        )
        .expect("encodes");
        assert_eq!(&imp[..8], &[0x08, 0x00, 0x60, 0x00, 2, 0, 0, 0]);
        let mut be = Vec::new();
        let big = Syntax {
            explicit: true,
            big_endian: true,
        };
        encode_dataset(&src, &parsed.dataset, &[], &BTreeMap::new(), big, &mut be).expect("encodes");
        assert_eq!(&be[be.len() - 2..], &[0x02, 0x00], "US value swapped");
    }
}
