//! Typed decoding of element values, following pydicom's conventions so results compare.
//!
//! - [`charset`]: Specific Character Set decoding and encoding (PS3.5 §6.1).
//!
//! Text VRs are split on backslash (PS3.5 §6.4) except LT, ST, UT, UR; padding is removed as pydicom
//! removes it; DS and IS are parsed into numbers (kept as text when they are not numbers); binary VRs are
//! read in the data set's byte order.

pub mod charset;

use crate::dictionary::{self, Tag, VR};
use crate::parse::{Body, Dataset, Element};
use charset::{Charsets, TextKind};

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Zero-length value of a text VR (pydicom gives "").
    EmptyText,
    /// Zero-length value of any other VR (pydicom gives None).
    Empty,
    /// Text values (one or more).
    Strs(Vec<String>),
    /// Person names (one or more), each the full `family^given=ideographic=phonetic` string.
    PersonNames(Vec<String>),
    /// Decimal strings: a number, or the text when it is not one.
    Ds(Vec<Number<f64>>),
    /// Integer strings: a number, or the text when it is not one.
    Is(Vec<IsItem>),
    /// Signed or unsigned integers up to 32 bits and SV.
    Ints(Vec<i64>),
    /// UV.
    U64s(Vec<u64>),
    /// FL, FD.
    Floats(Vec<f64>),
    /// AT: tags as `0xggggeeee`.
    Tags(Vec<u32>),
    /// OB, OW, OD, OF, OL, OV, UN (and numbers whose length is not a multiple of their size).
    Bytes(std::ops::Range<usize>),
}

/// A DS or IS item: the number, or the text that is not one.
#[derive(Clone, Debug, PartialEq)]
pub enum Number<T> {
    /// A number.
    Num(T),
    /// Text that does not parse (kept so nothing is lost).
    Text(String),
}

/// An IS item: an integer, a float written where an integer belongs, or text that is neither.
#[derive(Clone, Debug, PartialEq)]
pub enum IsItem {
    /// An integer.
    Int(i64),
    /// A number with a fraction (invalid IS, kept as pydicom keeps it).
    Float(f64),
    /// Not a number.
    Text(String),
}

/// Latin-1 decoding of the default repertoire, as pydicom's `default_encoding` ("iso8859").
fn latin1(b: &[u8]) -> String {
    if b.is_ascii() {
        // SAFETY-free fast path: ASCII is valid UTF-8.
        return String::from_utf8_lossy(b).into_owned();
    }
    b.iter().map(|&c| char::from(c)).collect()
}

fn split_backslash(s: &str) -> Vec<String> {
    s.split('\\').map(str::to_owned).collect()
}

/// Decodes the value of `el` (a primitive element) from `buf`.
///
/// `vr` is the effective VR (see [`effective_vr`]); `charsets` those in force for the data set.
#[must_use]
pub fn decode(buf: &[u8], el: &Element, vr: VR, big_endian: bool, charsets: &Charsets) -> Value {
    let bytes = buf.get(el.value_range()).unwrap_or_default();
    if bytes.is_empty() {
        return if vr.is_text() && !matches!(vr, VR::DS | VR::IS) {
            Value::EmptyText
        } else {
            Value::Empty
        };
    }
    match vr {
        VR::AE => {
            // PS3.5 §6.2: leading and trailing spaces are not significant.
            Value::Strs(latin1(bytes).split('\\').map(|s| s.trim().to_owned()).collect())
        }
        VR::AS | VR::CS | VR::DA | VR::DT | VR::TM => {
            Value::Strs(split_backslash(latin1(bytes).trim_end_matches([' ', '\0'])))
        }
        VR::UI => Value::Strs(split_backslash(latin1(bytes).trim_end_matches(['\0', ' ']))),
        VR::UR => Value::Strs(vec![latin1(bytes).trim_end().to_owned()]),
        VR::DS => {
            let s = latin1(bytes);
            Value::Ds(
                s.trim()
                    .split('\\')
                    .map(|t| match t.trim_matches([' ', '\0']).parse::<f64>() {
                        Ok(v) if !t.trim_matches([' ', '\0']).is_empty() => Number::Num(v),
                        _ => Number::Text(t.to_owned()),
                    })
                    .collect(),
            )
        }
        VR::IS => {
            let s = latin1(bytes);
            Value::Is(
                s.trim_end_matches([' ', '\0'])
                    .split('\\')
                    .map(|t| match parse_is(t) {
                        Some(v) => IsItem::Int(v),
                        None => match t.trim_matches([' ', '\0']).parse::<f64>() {
                            // pydicom keeps a non-integral IS as a float (its ISfloat).
                            Ok(f) if f.is_finite() => IsItem::Float(f),
                            _ => IsItem::Text(t.to_owned()),
                        },
                    })
                    .collect(),
            )
        }
        VR::LO | VR::SH | VR::UC => {
            let s = charsets.decode(bytes, TextKind::Text);
            Value::Strs(
                s.split('\\')
                    .map(|v| v.trim_end_matches(['\0', ' ']).to_owned())
                    .collect(),
            )
        }
        VR::LT | VR::ST | VR::UT => {
            let s = charsets.decode(bytes, TextKind::LongText);
            Value::Strs(vec![s.trim_end_matches(['\0', ' ']).to_owned()])
        }
        VR::PN => {
            let end = bytes.iter().rposition(|&b| b != 0 && b != b' ').map_or(0, |p| p + 1);
            let s = charsets.decode(bytes.get(..end).unwrap_or_default(), TextKind::PersonName);
            Value::PersonNames(s.split('\\').map(|n| n.trim_end_matches('=').to_owned()).collect())
        }
        VR::US | VR::SS | VR::UL | VR::SL | VR::SV => {
            let size = vr.number_size();
            if !bytes.len().is_multiple_of(size) {
                return Value::Bytes(el.value_range());
            }
            Value::Ints(bytes.chunks_exact(size).map(|c| read_int(c, vr, big_endian)).collect())
        }
        VR::UV => {
            if !bytes.len().is_multiple_of(8) {
                return Value::Bytes(el.value_range());
            }
            Value::U64s(
                bytes
                    .chunks_exact(8)
                    .map(|c| {
                        let a: [u8; 8] = c.try_into().unwrap_or_default();
                        if big_endian {
                            u64::from_be_bytes(a)
                        } else {
                            u64::from_le_bytes(a)
                        }
                    })
                    .collect(),
            )
        }
        VR::FL | VR::FD => {
            let size = vr.number_size();
            if !bytes.len().is_multiple_of(size) {
                return Value::Bytes(el.value_range());
            }
            Value::Floats(bytes.chunks_exact(size).map(|c| read_float(c, big_endian)).collect())
        }
        VR::AT => {
            // pydicom drops a trailing partial tag.
            let n = bytes.len() / 4 * 4;
            Value::Tags(
                bytes
                    .get(..n)
                    .unwrap_or_default()
                    .chunks_exact(4)
                    .map(|c| {
                        let (g, e) = if big_endian {
                            (u16::from_be_bytes([c[0], c[1]]), u16::from_be_bytes([c[2], c[3]]))
                        } else {
                            (u16::from_le_bytes([c[0], c[1]]), u16::from_le_bytes([c[2], c[3]]))
                        };
                        Tag(g, e).to_u32()
                    })
                    .collect(),
            )
        }
        VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN | VR::SQ => Value::Bytes(el.value_range()),
    }
}

/// Parses an IS item as pydicom's `IS` does: an integer, or a float that is a whole number (" 12 ", "1.0");
/// `None` for anything else (empty, a fraction, not a number).
pub(crate) fn parse_is(t: &str) -> Option<i64> {
    let t = t.trim_matches([' ', '\0']);
    if t.is_empty() {
        return None;
    }
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    let f = t.parse::<f64>().ok()?;
    #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

fn read_int(c: &[u8], vr: VR, be: bool) -> i64 {
    macro_rules! rd {
        ($t:ty, $n:expr) => {{
            let a: [u8; $n] = c.try_into().unwrap_or_default();
            i64::from(if be {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            })
        }};
    }
    match vr {
        VR::US => rd!(u16, 2),
        VR::SS => rd!(i16, 2),
        VR::UL => rd!(u32, 4),
        VR::SL => rd!(i32, 4),
        _ => {
            let a: [u8; 8] = c.try_into().unwrap_or_default();
            if be {
                i64::from_be_bytes(a)
            } else {
                i64::from_le_bytes(a)
            }
        }
    }
}

fn read_float(c: &[u8], be: bool) -> f64 {
    if c.len() == 4 {
        let a: [u8; 4] = c.try_into().unwrap_or_default();
        f64::from(if be {
            f32::from_be_bytes(a)
        } else {
            f32::from_le_bytes(a)
        })
    } else {
        let a: [u8; 8] = c.try_into().unwrap_or_default();
        if be {
            f64::from_be_bytes(a)
        } else {
            f64::from_le_bytes(a)
        }
    }
}

/// The first value of a US element of `ds`, if present.
fn us_value(buf: &[u8], ds: &Dataset, tag: Tag, big_endian: bool) -> Option<u16> {
    let el = ds.get(tag)?;
    let b = buf.get(el.value_offset..el.value_offset + 2.min(el.value_len))?;
    let a: [u8; 2] = b.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    })
}

/// The VR to decode `el` with. Implicit VR elements whose dictionary VR is ambiguous ("US or SS", "OB or OW",
/// "US or OW") are resolved from their data set and its ancestors (innermost first), as pydicom resolves them
/// (PS3.5 §A.1 and the Pixel Representation rules of PS3.3 C.7.6.3).
#[must_use]
pub fn effective_vr(buf: &[u8], el: &Element, ancestors: &[&Dataset], big_endian: bool) -> VR {
    if el.tag.is_private() {
        // A private creator written as UN is LO (PS3.5 §7.8.1), as pydicom reads it.
        return if el.vr == VR::UN && el.tag.is_private_creator() {
            VR::LO
        } else {
            el.vr
        };
    }
    let Some(entry) = dictionary::lookup(el.tag) else {
        return el.vr;
    };
    if el.explicit {
        // An explicit UN of a known public tag is read with the dictionary VR (pydicom's
        // replace_un_with_known_vr, applied to values shorter than 64 KiB).
        if el.vr != VR::UN || el.value_len >= 0xFFFF || entry.vr == VR::UN {
            return el.vr;
        }
        if entry.vr == VR::SQ && !matches!(el.body, Body::Sequence(_)) {
            return VR::UN; // its bytes are not items: keep them as UN
        }
        if !entry.vr_spec.contains(" or ") {
            return entry.vr;
        }
    }
    if !entry.vr_spec.contains(" or ") {
        return el.vr;
    }
    let Some(ds) = ancestors.first() else {
        return el.vr;
    };
    if el.tag == Tag::PIXEL_DATA {
        return if matches!(el.body, Body::Fragments(_)) {
            VR::OB
        } else {
            VR::OW
        };
    }
    match entry.vr_spec {
        "US or SS" => {
            let pr = ancestors
                .iter()
                .find_map(|d| us_value(buf, d, Tag(0x0028, 0x0103), big_endian));
            let pr = pr.unwrap_or_else(|| {
                let has_pr = ds.get(Tag(0x0028, 0x0103)).is_some();
                u16::from(has_pr || ds.get(Tag::PIXEL_DATA).is_some())
            });
            if pr == 0 { VR::US } else { VR::SS }
        }
        "US or OW" => {
            if us_value(buf, ds, Tag(0x0028, 0x3002), big_endian) == Some(1) {
                VR::US
            } else {
                VR::OW
            }
        }
        _ => VR::OW,
    }
}

/// The character sets in force for a data set: its own (0008,0005), else the nearest ancestor's
/// (PS3.5 §6.1.2.5.1: a sequence item inherits the set of its parent unless it has its own).
#[must_use]
pub fn charsets_for(buf: &[u8], ancestors: &[&Dataset]) -> Charsets {
    for ds in ancestors {
        if let Some(el) = ds.get(Tag::SPECIFIC_CHARACTER_SET) {
            if !(el.vr.is_text() || el.vr == VR::UN) {
                // Written with a numeric VR (a damaged file; pydicom raises a TypeError on it): its bytes are
                // words, which a byte-order change swaps, so they name no character set; as if absent.
                continue;
            }
            let raw = latin1(buf.get(el.value_range()).unwrap_or_default());
            // Terms as pydicom sees them: trailing padding of the whole value removed, terms kept as written.
            let terms: Vec<&str> = raw.trim_end_matches([' ', '\0']).split('\\').collect();
            return Charsets::from_terms(&terms);
        }
    }
    Charsets::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_parsing_follows_pydicom() {
        assert_eq!(parse_is(" 12 "), Some(12));
        assert_eq!(parse_is("1.0"), Some(1));
        assert_eq!(parse_is("1.5"), None);
        assert_eq!(parse_is(""), None);
    }
}
