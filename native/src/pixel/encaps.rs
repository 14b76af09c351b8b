//! Encapsulated Pixel Data (PS3.5 §A.4): which fragments make each frame.
//!
//! The caller (the parser) lists the items of the (7FE0,0010) sequence as [`Fragment`]s: the first is the
//! Basic Offset Table, the others are the fragments of the codestreams. [`frame_fragments`] maps each
//! frame to a contiguous range of fragment indices, using in order of preference: the Extended Offset
//! Table (7FE0,0001) (PS3.5 §A.4.1), the Basic Offset Table, one fragment per frame, all fragments for one
//! frame, and finally the codestream markers that start (or end) a frame, as pydicom's
//! `generate_fragmented_frames` does.

use std::ops::Range;

use crate::{Error, Result};

/// The byte range of one item's value in the source buffer (the parser's type: offset of the first value
/// byte, after the 8-byte item header, and the value length).
pub use crate::parse::Fragment;

/// The item header that precedes each fragment: (FFFE,E000) tag and a 4-byte length (PS3.5 §A.4).
const ITEM_HEADER_LEN: u64 = 8;

/// How a codestream of this transfer syntax starts, for finding frame boundaries without an offset table.
fn starts_frame(ts_uid: &str, data: &[u8]) -> Option<bool> {
    Some(match ts_uid {
        // JPEG (ISO 10918-1 §B.2.1) and JPEG-LS (ISO 14495-1 §C.1): SOI FFD8.
        "1.2.840.10008.1.2.4.50"
        | "1.2.840.10008.1.2.4.51"
        | "1.2.840.10008.1.2.4.57"
        | "1.2.840.10008.1.2.4.70"
        | "1.2.840.10008.1.2.4.80"
        | "1.2.840.10008.1.2.4.81" => data.starts_with(&[0xFF, 0xD8]),
        // JPEG 2000 (ISO 15444-1 §A.4): SOC FF4F then SIZ FF51; or a JP2 signature box.
        "1.2.840.10008.1.2.4.90"
        | "1.2.840.10008.1.2.4.91"
        | "1.2.840.10008.1.2.4.201"
        | "1.2.840.10008.1.2.4.202"
        | "1.2.840.10008.1.2.4.203" => {
            data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) || data.starts_with(b"\x00\x00\x00\x0cjP  ")
        }
        // JPEG XL (ISO 18181-1): naked codestream FF0A, or the container signature box.
        "1.2.840.10008.1.2.4.110" | "1.2.840.10008.1.2.4.111" | "1.2.840.10008.1.2.4.112" => {
            data.starts_with(&[0xFF, 0x0A]) || data.starts_with(b"\x00\x00\x00\x0cJXL ")
        }
        _ => return None,
    })
}

/// The little-endian offsets of a Basic (4-byte) or Extended (8-byte) Offset Table.
fn read_offsets(bytes: &[u8], width: usize, what: &str, ts_uid: &str) -> Result<Vec<u64>> {
    if !bytes.len().is_multiple_of(width) {
        return Err(Error::decode(
            ts_uid,
            0,
            format!(
                "The length of the {what} ({}) is not a multiple of {width}",
                bytes.len()
            ),
        ));
    }
    Ok(bytes
        .chunks_exact(width)
        .map(|c| {
            let mut a = [0u8; 8];
            if let Some(dst) = a.get_mut(..width) {
                dst.copy_from_slice(c);
            }
            u64::from_le_bytes(a)
        })
        .collect())
}

/// Groups fragments `1..` by offsets measured from the first byte of the first fragment's item header,
/// as pydicom does: a fragment belongs to frame `i` until the running position reaches offset `i + 1`.
fn group_by_offsets(fragments: &[Fragment], offsets: &[u64], ts_uid: &str) -> Result<Vec<Range<usize>>> {
    if offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err(Error::decode(
            ts_uid,
            0,
            "The offset table values are not in ascending order",
        ));
    }
    let n_frags = fragments.len();
    let mut out = Vec::with_capacity(offsets.len().min(n_frags));
    let mut start = 1usize;
    let mut frame = 0usize;
    let mut pos: u64 = 0;
    for (i, f) in fragments.iter().enumerate().skip(1) {
        if let Some(&next) = offsets.get(frame + 1)
            && pos >= next
            && i > start
        {
            out.push(start..i);
            start = i;
            frame += 1;
        }
        pos = pos.saturating_add(f.len as u64).saturating_add(ITEM_HEADER_LEN);
    }
    if start < n_frags {
        out.push(start..n_frags);
    }
    Ok(out)
}

/// For each frame, the range of indices into `fragments` (so at least 1: index 0 is the Basic Offset
/// Table item) of the fragments that make it.
///
/// - `buf`: the buffer the fragments' offsets point into.
/// - `eot`, `eot_lengths`: the values of (7FE0,0001) Extended Offset Table and (7FE0,0002) Extended Offset
///   Table Lengths, when present (PS3.5 §A.4.1; 64-bit little-endian offsets).
/// - `n_frames`: (0028,0008) Number of Frames.
///
/// ```
/// use _native::pixel::encaps::{frame_fragments, Fragment};
/// // An empty Basic Offset Table and one fragment per frame.
/// let buf = [0xFFu8, 0xD8, 0xFF, 0xD9, 0xFF, 0xD8, 0xFF, 0xD9];
/// let frags = [Fragment { offset: 0, len: 0 }, Fragment { offset: 0, len: 4 }, Fragment { offset: 4, len: 4 }];
/// let frames = frame_fragments(&buf, &frags, None, None, 2, "1.2.840.10008.1.2.4.50").unwrap();
/// assert_eq!(frames, vec![1..2, 2..3]);
/// ```
pub fn frame_fragments(
    buf: &[u8],
    fragments: &[Fragment],
    eot: Option<&[u8]>,
    eot_lengths: Option<&[u8]>,
    n_frames: usize,
    ts_uid: &str,
) -> Result<Vec<Range<usize>>> {
    let value = |f: &Fragment| -> Result<&[u8]> {
        f.offset
            .checked_add(f.len)
            .and_then(|end| buf.get(f.offset..end))
            .ok_or_else(|| {
                Error::decode(
                    ts_uid,
                    0,
                    format!(
                        "A fragment of {} bytes at offset {} runs past the end of the pixel data ({} bytes)",
                        f.len,
                        f.offset,
                        buf.len()
                    ),
                )
            })
    };
    let Some(bot) = fragments.first() else {
        return Err(Error::decode(
            ts_uid,
            0,
            "The encapsulated pixel data has no Basic Offset Table item (PS3.5 §A.4)",
        ));
    };
    let n_frags = fragments.len().saturating_sub(1);
    if n_frags == 0 {
        return Err(Error::decode(ts_uid, 0, "The encapsulated pixel data has no fragments"));
    }

    // Extended Offset Table (PS3.5 §A.4.1): the Basic Offset Table shall then be empty.
    if let Some(eot) = eot.filter(|e| !e.is_empty()) {
        let offsets = read_offsets(eot, 8, "(7FE0,0001) 'Extended Offset Table'", ts_uid)?;
        if let Some(lengths) = eot_lengths {
            let lens = read_offsets(lengths, 8, "(7FE0,0002) 'Extended Offset Table Lengths'", ts_uid)?;
            if lens.len() != offsets.len() {
                return Err(Error::decode(
                    ts_uid,
                    0,
                    format!(
                        "The (7FE0,0001) 'Extended Offset Table' has {} offsets but (7FE0,0002) 'Extended Offset Table Lengths' has {} lengths",
                        offsets.len(),
                        lens.len()
                    ),
                ));
            }
        }
        return group_by_offsets(fragments, &offsets, ts_uid);
    }

    // Basic Offset Table: 32-bit offsets of each frame's first item header.
    let bot_bytes = value(bot)?;
    if !bot_bytes.is_empty() {
        let offsets = read_offsets(bot_bytes, 4, "Basic Offset Table", ts_uid)?;
        return group_by_offsets(fragments, &offsets, ts_uid);
    }

    if n_frags == 1 {
        return Ok(std::iter::once(1..2).collect());
    }
    if n_frags == n_frames {
        return Ok((1..=n_frags).map(|i| i..i + 1).collect());
    }
    if n_frames <= 1 {
        return Ok(std::iter::once(1..n_frags + 1).collect());
    }
    if n_frags < n_frames {
        return Err(Error::decode(
            ts_uid,
            0,
            format!(
                "Unable to find the frame boundaries: there are fewer fragments ({n_frags}) than frames ({n_frames}) and no offset table; the data set may be corrupt or (0028,0008) 'Number of Frames' may be wrong"
            ),
        ));
    }

    // More fragments than frames and no offset table: a fragment that starts a codestream starts a frame.
    let mut by_start = Vec::new();
    if starts_frame(ts_uid, &[]).is_some() {
        let mut start = 1usize;
        for (i, f) in fragments.iter().enumerate().skip(2) {
            if starts_frame(ts_uid, value(f)?) == Some(true) {
                by_start.push(start..i);
                start = i;
            }
        }
        by_start.push(start..n_frags + 1);
        if by_start.len() == n_frames {
            return Ok(by_start);
        }
    }
    // pydicom's rule: a frame ends with the fragment whose last 10 bytes hold an EOI/EOC marker FFD9.
    let mut by_end = Vec::new();
    let mut start = 1usize;
    for (i, f) in fragments.iter().enumerate().skip(1) {
        let v = value(f)?;
        let tail = v.get(v.len().saturating_sub(10)..).unwrap_or_default();
        if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
            by_end.push(start..i + 1);
            start = i + 1;
        }
    }
    if start <= n_frags {
        by_end.push(start..n_frags + 1);
    }
    if by_end.len() == n_frames || by_start.is_empty() {
        return Ok(by_end);
    }
    Ok(by_start)
}

/// The items of an encapsulated Pixel Data value as a data set holds it (PS3.5 §A.4, the value pydicom's
/// `ds.PixelData` gives): the Basic Offset Table item first, then one item per fragment, up to the end of
/// `value` or a Sequence Delimitation Item (FFFE,E0DD). Offsets are into `value`.
///
/// ```
/// use _native::pixel::encaps::{split_items, Fragment};
/// // An empty Basic Offset Table item, then one 4-byte fragment.
/// let value = [0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 0xFF, 0xD8, 0xFF, 0xD9];
/// let items = split_items(&value).unwrap();
/// assert_eq!(items, vec![Fragment { offset: 8, len: 0 }, Fragment { offset: 16, len: 4 }]);
/// ```
///
/// # Errors
/// A [`Error::Parse`] naming the byte offset when anything but an item or the delimiter is found, or an
/// item's length runs past the end of `value`; also when there is no item at all.
pub fn split_items(value: &[u8]) -> Result<Vec<Fragment>> {
    let pixel_data = Some(crate::dictionary::Tag::PIXEL_DATA);
    let mut items = Vec::new();
    let mut p = 0usize;
    while p < value.len() {
        let Some(h) = value.get(p..p + 8) else {
            return Err(Error::parse(
                p as u64,
                pixel_data,
                format!(
                    "{} bytes after the last item: too few for an item header",
                    value.len() - p
                ),
            ));
        };
        let (group, element) = (u16::from_le_bytes([h[0], h[1]]), u16::from_le_bytes([h[2], h[3]]));
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        match (group, element) {
            (0xFFFE, 0xE0DD) => break,
            (0xFFFE, 0xE000) => {}
            _ => {
                return Err(Error::parse(
                    p as u64,
                    pixel_data,
                    format!("Expected an Item (FFFE,E000) in encapsulated data, found ({group:04X},{element:04X})"),
                ));
            }
        }
        let start = p + 8;
        let Some(end) = start.checked_add(len as usize).filter(|&e| e <= value.len()) else {
            return Err(Error::parse(
                p as u64,
                pixel_data,
                format!(
                    "An item length {len} exceeds the {} bytes remaining",
                    value.len() - start
                ),
            ));
        };
        items.push(Fragment {
            offset: start,
            len: len as usize,
        });
        p = end;
    }
    if items.is_empty() {
        return Err(Error::parse(
            0,
            pixel_data,
            "Encapsulated pixel data starts with a Basic Offset Table item (PS3.5 §A.4); this value has no item",
        ));
    }
    Ok(items)
}

/// The number of frames an encapsulated value holds by its own tables, for when the data set does not
/// say: the entries of the Extended Offset Table (8 bytes each), else of the Basic Offset Table (4 bytes
/// each, PS3.5 §A.4), else 1 for a single fragment. `None` when only a frame count could tell (several
/// fragments and no table), as pydicom's `generate_frames` requires one then.
#[must_use]
pub fn frames_by_tables(items: &[Fragment], eot: Option<&[u8]>) -> Option<usize> {
    if let Some(e) = eot.filter(|e| !e.is_empty()) {
        return Some(e.len() / 8);
    }
    match items {
        [bot, ..] if bot.len >= 4 => Some(bot.len / 4),
        [_, _] => Some(1),
        _ => None,
    }
}

/// The bytes of a frame made of several fragments, concatenated; borrowed when it is one fragment.
pub fn frame_bytes<'a>(
    buf: &'a [u8],
    fragments: &[Fragment],
    range: Range<usize>,
    ts_uid: &str,
    frame: usize,
) -> Result<std::borrow::Cow<'a, [u8]>> {
    let frags = fragments
        .get(range)
        .ok_or_else(|| Error::decode(ts_uid, frame, "The fragment range is out of bounds"))?;
    let get = |f: &Fragment| {
        f.offset
            .checked_add(f.len)
            .and_then(|end| buf.get(f.offset..end))
            .ok_or_else(|| Error::decode(ts_uid, frame, "A fragment runs past the end of the pixel data"))
    };
    if let [one] = frags {
        return Ok(std::borrow::Cow::Borrowed(get(one)?));
    }
    let mut out = Vec::new();
    for f in frags {
        out.extend_from_slice(get(f)?);
    }
    Ok(std::borrow::Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &str = "1.2.840.10008.1.2.4.50";

    /// Lays out fragments' values back to back (headers not included in `buf`, offsets are what count).
    fn layout(values: &[&[u8]]) -> (Vec<u8>, Vec<Fragment>) {
        let mut buf = Vec::new();
        let mut frags = Vec::new();
        for v in values {
            frags.push(Fragment {
                offset: buf.len(),
                len: v.len(),
            });
            buf.extend_from_slice(v);
        }
        (buf, frags)
    }

    #[test]
    fn frame_count_from_the_tables() {
        let frag = |len| Fragment { offset: 0, len };
        // Extended Offset Table first, then the Basic Offset Table, then a lone fragment.
        assert_eq!(frames_by_tables(&[frag(8), frag(4)], Some(&[0u8; 24])), Some(3));
        assert_eq!(frames_by_tables(&[frag(8), frag(4), frag(4)], None), Some(2));
        assert_eq!(frames_by_tables(&[frag(0), frag(4)], Some(&[])), Some(1));
        // Several fragments and no table: only a frame count can tell.
        assert_eq!(frames_by_tables(&[frag(0), frag(4), frag(4)], None), None);
        assert_eq!(frames_by_tables(&[frag(0)], None), None);
    }

    #[test]
    fn items_of_a_value_end_at_its_end_or_at_the_delimiter() {
        let item = |len: u32| [&[0xFE, 0xFF, 0x00, 0xE0][..], &len.to_le_bytes()].concat();
        let mut value = [item(4), vec![0, 0, 0, 0], item(2), vec![0xFF, 0xD9]].concat();
        let items = split_items(&value).unwrap();
        assert_eq!(
            items,
            vec![Fragment { offset: 8, len: 4 }, Fragment { offset: 20, len: 2 }]
        );
        value.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0, 1, 2, 3]);
        assert_eq!(split_items(&value).unwrap(), items);
        let err = split_items(&value[..21]).unwrap_err().to_string();
        assert!(err.contains("exceeds") && err.contains("byte 12"), "{err}");
    }

    #[test]
    fn basic_offset_table() {
        // Frame 0 = fragments 1, 2 (4 + 8 and 2 + 8 bytes), frame 1 starts at offset 22.
        let bot = [0u32, 22].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>();
        let (buf, frags) = layout(&[&bot, &[0xFF, 0xD8, 1, 2], &[0xFF, 0xD9], &[0xFF, 0xD8, 0xFF, 0xD9]]);
        let r = frame_fragments(&buf, &frags, None, None, 2, JPEG).unwrap();
        assert_eq!(r, vec![1..3, 3..4]);
    }

    #[test]
    fn extended_offset_table() {
        let eot = [0u64, 10].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>();
        let lens = [2u64, 2].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>();
        let (buf, frags) = layout(&[&[], &[0xFF, 0xD8], &[0xFF, 0xD8]]);
        let r = frame_fragments(&buf, &frags, Some(&eot), Some(&lens), 2, JPEG).unwrap();
        assert_eq!(r, vec![1..2, 2..3]);
        assert!(frame_fragments(&buf, &frags, Some(&eot[..5]), None, 2, JPEG).is_err());
    }

    #[test]
    fn no_table() {
        let (buf, frags) = layout(&[&[], &[0xFF, 0xD8, 0], &[1, 0xFF, 0xD9], &[0xFF, 0xD8], &[0xFF, 0xD9]]);
        assert_eq!(frame_fragments(&buf, &frags, None, None, 1, JPEG).unwrap(), vec![1..5]);
        assert_eq!(
            frame_fragments(&buf, &frags, None, None, 2, JPEG).unwrap(),
            vec![1..3, 3..5]
        );
        assert_eq!(
            frame_fragments(&buf, &frags, None, None, 4, JPEG).unwrap(),
            vec![1..2, 2..3, 3..4, 4..5]
        );
        assert!(frame_fragments(&buf, &frags, None, None, 5, JPEG).is_err());
        // Unknown start marker (RLE): pydicom's EOI rule.
        let r = frame_fragments(&buf, &frags, None, None, 2, "1.2.840.10008.1.2.5").unwrap();
        assert_eq!(r, vec![1..3, 3..5]);
    }

    #[test]
    fn bad_fragments() {
        let frags = [
            Fragment { offset: 0, len: 0 },
            Fragment {
                offset: 4,
                len: usize::MAX,
            },
        ];
        assert!(frame_fragments(&[0; 8], &frags, None, None, 1, JPEG).is_ok());
        assert!(frame_bytes(&[0; 8], &frags, 1..2, JPEG, 0).is_err());
        let frags = [Fragment { offset: 0, len: 3 }, Fragment { offset: 4, len: 2 }];
        assert!(frame_fragments(&[0; 8], &frags, None, None, 1, JPEG).is_err());
    }
}
