//! Fuzz the reader (STYLE.md §8): parse arbitrary bytes as a file, with `force` and `lenient` off and on, then
//! decode every value of every element at every level and the frames the pixel attributes describe.
//!
//! Invariants: no panic; a parse that succeeds points only inside the buffer (values, items, fragments);
//! elements of every data set are in ascending tag order; decoding a value never reads outside its element;
//! a frame decodes into exactly the bytes its layout asks for, or fails with a decode error.
#![no_main]

use std::sync::Arc;

use _native::Error;
use _native::dictionary::Tag;
use _native::parse::{self, Body, Dataset, ParsedFile, ReadOptions};
use _native::pixel::{self, FloatKind, PixelInfo, codec, encaps};
use _native::value::{self, IsItem, Value};
use libfuzzer_sys::fuzz_target;

/// Largest decoded size tried per input (the real reader caps relative to the bytes present; the fuzzer
/// caps absolutely so a run stays fast).
const MAX_DECODED: usize = 16 << 20;
/// Frames decoded per input, at most.
const MAX_FRAMES: usize = 4;

fuzz_target!(|data: &[u8]| {
    let buf: parse::Bytes = Arc::new(data.to_vec());
    for (force, lenient) in [(false, false), (true, false), (false, true), (true, true)] {
        let opts = ReadOptions {
            force,
            lenient,
            max_depth: 16,
            max_elements: 100_000,
            ..ReadOptions::default()
        };
        match parse::parse(Arc::clone(&buf), &opts) {
            Ok(p) => touch(&p),
            Err(e) => check_error(&e),
        }
    }
});

/// Errors of a read are the documented kinds, with a message.
fn check_error(e: &Error) {
    assert!(!e.to_string().is_empty());
    match e {
        Error::NotDicom { .. } | Error::Parse { .. } | Error::Limit { .. } | Error::Io(_) => {}
        other => panic!("unexpected error kind from parse: {other:?}"),
    }
}

/// Walks the file: every value of every element, then the pixel data.
fn touch(p: &ParsedFile) {
    let buf = p.bytes();
    let be = p.encoding.big_endian;
    walk(buf, &p.meta, &mut Vec::new(), false);
    walk(buf, &p.dataset, &mut Vec::new(), be);
    for e in &p.errors {
        assert!(!e.to_string().is_empty());
    }
    pixels(p);
}

fn walk<'a>(buf: &[u8], ds: &'a Dataset, ancestors: &mut Vec<&'a Dataset>, be: bool) {
    assert!(
        ds.elements.windows(2).all(|w| w[0].tag < w[1].tag),
        "elements out of order or duplicated"
    );
    ancestors.insert(0, ds);
    let charsets = value::charsets_for(buf, ancestors);
    for el in &ds.elements {
        let r = el.value_range();
        assert!(
            r.start <= r.end && r.end <= buf.len(),
            "value of {} outside the buffer: {r:?}",
            el.tag
        );
        assert!(el.header_offset <= el.value_offset);
        match &el.body {
            Body::Primitive => {
                let vr = value::effective_vr(buf, el, ancestors, be);
                check_value(buf, r, &value::decode(buf, el, vr, be, &charsets));
            }
            Body::Sequence(items) => {
                for item in items {
                    assert!(item.header_offset < buf.len());
                    walk(buf, &item.dataset, ancestors, be);
                }
            }
            Body::Fragments(frags) => {
                for f in frags {
                    let end = f.offset.checked_add(f.len).expect("fragment end overflows");
                    assert!(end <= buf.len(), "fragment outside the buffer");
                }
            }
        }
    }
    ancestors.remove(0);
}

fn check_value(buf: &[u8], range: std::ops::Range<usize>, v: &Value) {
    match v {
        Value::Bytes(r) => assert!(r.start >= range.start && r.end <= range.end && r.end <= buf.len()),
        Value::Strs(s) | Value::PersonNames(s) => assert!(!s.is_empty()),
        Value::Is(items) => {
            for i in items {
                if let IsItem::Float(f) = i {
                    assert!(f.is_finite());
                }
            }
        }
        _ => {}
    }
}

fn first_int(buf: &[u8], ds: &Dataset, tag: Tag, be: bool) -> Option<i64> {
    let el = ds.get(tag)?;
    let vr = value::effective_vr(buf, el, &[ds], be);
    match value::decode(buf, el, vr, be, &value::charset::Charsets::default()) {
        Value::Ints(v) => v.first().copied(),
        Value::Is(v) => match v.first() {
            Some(IsItem::Int(i)) => Some(*i),
            _ => None,
        },
        _ => None,
    }
}

/// The Image Pixel attributes, as `py/pixels.rs` derives them (None when missing or out of range).
fn pixel_info(buf: &[u8], ds: &Dataset, be: bool) -> Option<PixelInfo> {
    let (float_kind, ba_default) = if ds.get(Tag::PIXEL_DATA).is_some() {
        (FloatKind::None, None)
    } else if ds.get(Tag::FLOAT_PIXEL_DATA).is_some() {
        (FloatKind::Float, Some(32))
    } else if ds.get(Tag::DOUBLE_FLOAT_PIXEL_DATA).is_some() {
        (FloatKind::Double, Some(64))
    } else {
        return None;
    };
    let u16_of = |t: u16| first_int(buf, ds, Tag(0x0028, t), be).and_then(|v| u16::try_from(v).ok());
    let bits_allocated = match ba_default {
        Some(b) => b,
        None => u16_of(0x0100)?,
    };
    let bits_stored = u16_of(0x0101).unwrap_or(bits_allocated);
    let photometric = ds
        .get(Tag(0x0028, 0x0004))
        .and_then(|e| buf.get(e.value_range()))
        .map_or_else(
            || "MONOCHROME2".to_owned(),
            |b| String::from_utf8_lossy(b).trim_matches([' ', '\0']).to_owned(),
        );
    let info = PixelInfo {
        rows: u32::try_from(first_int(buf, ds, Tag(0x0028, 0x0010), be)?).ok()?,
        columns: u32::try_from(first_int(buf, ds, Tag(0x0028, 0x0011), be)?).ok()?,
        samples_per_pixel: u16_of(0x0002).unwrap_or(1),
        bits_allocated,
        bits_stored,
        high_bit: u16_of(0x0102).unwrap_or(bits_stored.saturating_sub(1)),
        pixel_representation: u16_of(0x0103).unwrap_or(0),
        planar_configuration: u16_of(0x0006).unwrap_or(0),
        photometric,
        number_of_frames: u32::try_from(first_int(buf, ds, Tag(0x0028, 0x0008), be).unwrap_or(1).max(1)).ok()?,
        float_kind,
    };
    info.validate().ok()?;
    Some(info)
}

fn pixels(p: &ParsedFile) {
    let buf = p.bytes();
    let be = p.encoding.big_endian;
    let ds = &p.dataset;
    let Some(info) = pixel_info(buf, ds, be) else { return };
    let Some(el) = ds
        .get(Tag::PIXEL_DATA)
        .or_else(|| ds.get(Tag::FLOAT_PIXEL_DATA))
        .or_else(|| ds.get(Tag::DOUBLE_FLOAT_PIXEL_DATA))
    else {
        return;
    };
    let Ok(frame_len) = info.frame_len_bytes() else { return };
    if frame_len == 0 || frame_len > MAX_DECODED {
        return;
    }
    let n_frames = info.number_of_frames as usize;
    let which = n_frames.min(MAX_FRAMES);
    let ts = p.encoding.uid.as_str();
    let mut out = vec![0u8; frame_len];
    match &el.body {
        Body::Fragments(frags) => {
            let eot = ds.get(Tag(0x7FE0, 0x0001)).and_then(|e| buf.get(e.value_range()));
            let eot_len = ds.get(Tag(0x7FE0, 0x0002)).and_then(|e| buf.get(e.value_range()));
            let Ok(ranges) = encaps::frame_fragments(buf, frags, eot, eot_len, n_frames, ts) else {
                return;
            };
            for (i, r) in ranges.into_iter().take(which).enumerate() {
                let Ok(data) = encaps::frame_bytes(buf, frags, r, ts, i) else {
                    continue;
                };
                match codec::decode_frame(ts, &data, &info, i, &mut out) {
                    Ok(()) | Err(Error::Decode { .. } | Error::UnsupportedTransferSyntax { .. }) => {}
                    Err(e) => panic!("unexpected error kind from decode_frame: {e:?}"),
                }
                assert_eq!(out.len(), frame_len);
                let _ = codec::jpeg::jpeg_photometric(ts, &data, &info);
            }
        }
        Body::Primitive => {
            let data = buf.get(el.value_range()).unwrap_or_default();
            let be = be && el.vr != _native::dictionary::VR::OB;
            for i in 0..which {
                let _ = pixel::native_frame_range(data.len(), &info, i);
                let _ = pixel::decode_native_frame(data, &info, i, be, &mut out);
                assert_eq!(out.len(), frame_len);
            }
        }
        Body::Sequence(_) => {}
    }
}
