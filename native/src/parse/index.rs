//! The element index: one pass over the bytes recording each element's tag, VR, offsets and item structure.
//!
//! Nothing is decoded here. Every declared length is checked against the bytes that remain before it is used
//! (PS3.5 §7.1: defined lengths; §7.5: sequences and items, defined or undefined length; §A.4: encapsulated
//! pixel data). Nesting is capped; a malformed structure gives an `Error::Parse` with the byte offset and tag.

use crate::dictionary::{self, Tag, VR};
use crate::error::{Error, Result};
use crate::spare;

/// Undefined length marker, PS3.5 §7.1.
pub const UNDEFINED: u32 = 0xFFFF_FFFF;

/// Limits and switches of one read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Stop before (7FE0,0010) Pixel Data (and Float / Double Float Pixel Data) at the top level.
    pub stop_before_pixels: bool,
    /// Keep only these top-level tags (plus Specific Character Set), and stop after the largest one.
    pub specific_tags: Option<Vec<Tag>>,
    /// Read files without the "DICM" prefix.
    pub force: bool,
    /// Deepest nesting of sequences accepted.
    pub max_depth: usize,
    /// Most elements accepted in one file (all levels).
    pub max_elements: usize,
    /// Lenient reading: a fault is recorded (see `ParsedFile::errors`) and reading goes on around it where the
    /// structure allows (after a defined-length item), or stops there, keeping everything read before.
    pub lenient: bool,
    /// The transfer syntax of a bare data set (no file meta), e.g. one received over the network;
    /// when `None`, it is guessed from the first bytes as pydicom does.
    pub transfer_syntax: Option<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            stop_before_pixels: false,
            specific_tags: None,
            force: false,
            max_depth: 64,
            max_elements: 50_000_000,
            lenient: false,
            transfer_syntax: None,
        }
    }
}

/// A fragment (item) of encapsulated data: the byte range of its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Offset of the value in the buffer.
    pub offset: usize,
    /// Length of the value.
    pub len: usize,
}

/// What an element holds.
#[derive(Clone, Debug)]
pub enum Body {
    /// A value: the bytes `value_offset .. value_offset + value_len`.
    Primitive,
    /// A sequence of items.
    Sequence(Vec<Item>),
    /// Encapsulated data (undefined length, not a sequence): its fragments, the first being the Basic Offset Table.
    Fragments(Vec<Fragment>),
}

/// One data element of the index.
#[derive(Clone, Debug)]
pub struct Element {
    /// The tag.
    pub tag: Tag,
    /// The VR: as written (explicit VR), or from the dictionary (implicit VR; UN when unknown).
    pub vr: VR,
    /// The VR was written in the file (explicit VR element).
    pub explicit: bool,
    /// Offset of the element's header.
    pub header_offset: usize,
    /// Offset of the value.
    pub value_offset: usize,
    /// The length as written (may be `UNDEFINED`).
    pub length: u32,
    /// Number of value bytes (for undefined length: up to the delimiter).
    pub value_len: usize,
    /// Value, items or fragments.
    pub body: Body,
}

impl Element {
    /// The value's byte range.
    #[must_use]
    pub fn value_range(&self) -> std::ops::Range<usize> {
        self.value_offset..self.value_offset + self.value_len
    }
}

/// One item of a sequence.
#[derive(Clone, Debug)]
pub struct Item {
    /// Offset of the item tag.
    pub header_offset: usize,
    /// The item length as written (may be `UNDEFINED`).
    pub length: u32,
    /// The item's data set.
    pub dataset: Dataset,
}

/// A data set: elements in ascending tag order.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Elements sorted by tag (duplicates: the last one read wins, as in pydicom).
    pub elements: Vec<Element>,
    /// The data set is encoded with explicit VR.
    pub explicit_vr: bool,
    /// Byte offset of the first element.
    pub offset: usize,
}

impl Dataset {
    /// The element with `tag`.
    #[must_use]
    pub fn get(&self, tag: Tag) -> Option<&Element> {
        self.elements
            .binary_search_by_key(&tag, |e| e.tag)
            .ok()
            .and_then(|i| self.elements.get(i))
    }

    /// Position of `tag` in `elements`.
    #[must_use]
    pub fn position(&self, tag: Tag) -> Option<usize> {
        self.elements.binary_search_by_key(&tag, |e| e.tag).ok()
    }
}

/// Where a data set ends.
#[derive(Clone, Copy, Debug)]
enum End {
    /// The top level: the end of the buffer (or stop conditions).
    TopLevel,
    /// A defined-length item: exactly at this offset.
    At(usize),
    /// An undefined-length item: at an Item Delimitation Item.
    Delimited,
    /// An undefined-length item in a defined-length sequence: at an Item Delimitation Item, or at the end of
    /// the sequence's value when the delimiter is missing (pydicom reads the sequence's bytes only, so such an
    /// item ends there; the next element starts after the sequence's defined length).
    DelimitedWithin(usize),
}

/// Outcome flags of a parse.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOutcome {
    /// Offset just past the last byte consumed.
    pub end: usize,
    /// The parse stopped early (stop_before_pixels or specific_tags): bytes after `end` were not looked at.
    pub stopped_early: bool,
    /// The parse wanted bytes past the end of the buffer (for prefix reads: read more and parse again).
    pub needs_more: bool,
}

/// The one-pass parser over a buffer.
pub struct Parser<'a> {
    buf: &'a [u8],
    big_endian: bool,
    opts: &'a ReadOptions,
    /// Wanted top-level tags (sorted, for binary search) and the largest of them.
    wanted: Option<(std::borrow::Cow<'a, [Tag]>, Tag)>,
    /// Where the last search of `wanted` ended (see [`Parser::is_wanted`]).
    wanted_at: usize,
    count: usize,
    /// The buffer is only a prefix of the file: running out of bytes means "read more", not "malformed".
    pub partial: bool,
    /// Set when a parse ran out of bytes in a partial buffer.
    pub needs_more: bool,
    /// Set when the top level stopped before the end.
    pub stopped_early: bool,
    /// Faults recorded in lenient mode.
    pub errors: Vec<Error>,
    /// The encoding given is authoritative: the top level is not sniffed for explicit / implicit VR.
    pub trust_syntax: bool,
    /// The first non-zero byte at or after some offset, remembered so that runs of zero elements are
    /// scanned once, not once per element.
    next_nonzero: Option<(usize, usize)>,
    /// Lenient mode met a fault it cannot read around: everything stops.
    abort: bool,
}

/// The tag of the little endian element header starting `h` (at least 4 bytes; PS3.5 §7.1.2).
#[inline]
fn le_tag(h: &[u8]) -> Tag {
    Tag(u16::from_le_bytes([h[0], h[1]]), u16::from_le_bytes([h[2], h[3]]))
}

fn is_vr_letter(b: u8) -> bool {
    (0x41..=0x5A).contains(&b)
}

impl<'a> Parser<'a> {
    /// A parser of `buf` with the given byte order.
    #[must_use]
    pub fn new(buf: &'a [u8], big_endian: bool, opts: &'a ReadOptions) -> Parser<'a> {
        let wanted = opts.specific_tags.as_deref().map(|tags| {
            // A list already sorted, without duplicates and with Specific Character Set (as a scan gives
            // it for every file) is used as it is.
            let set =
                if tags.windows(2).all(|w| w[0] < w[1]) && tags.binary_search(&Tag::SPECIFIC_CHARACTER_SET).is_ok() {
                    std::borrow::Cow::Borrowed(tags)
                } else {
                    let mut set: Vec<Tag> = tags.to_vec();
                    set.push(Tag::SPECIFIC_CHARACTER_SET);
                    set.sort_unstable();
                    set.dedup();
                    std::borrow::Cow::Owned(set)
                };
            let max = set.last().copied().unwrap_or_default();
            (set, max)
        });
        Parser {
            buf,
            big_endian,
            opts,
            wanted,
            wanted_at: 0,
            count: 0,
            partial: false,
            needs_more: false,
            stopped_early: false,
            errors: Vec::new(),
            trust_syntax: false,
            abort: false,
            next_nonzero: None,
        }
    }

    /// Whether every byte of `pos..limit` is zero (trailing padding), in amortised constant time.
    fn zero_from(&mut self, pos: usize, limit: usize) -> bool {
        if let Some((from, nz)) = self.next_nonzero
            && from <= pos
            && pos <= nz
        {
            return nz >= limit;
        }
        let rest = self.buf.get(pos..limit).unwrap_or_default();
        let nz = rest.iter().position(|&b| b != 0).map_or(limit, |i| pos + i);
        self.next_nonzero = Some((pos, nz));
        nz >= limit
    }

    /// In lenient mode, records `e` and says where to resume: `Some(end)` of a defined-length container, or
    /// `None` (and everything stops). In strict mode, gives the error back.
    fn recover(&mut self, e: Error, end: Option<usize>) -> Result<Option<usize>> {
        let fatal = matches!(
            e,
            Error::Limit {
                limit: "max_elements",
                ..
            }
        );
        if !self.opts.lenient || fatal {
            return Err(e);
        }
        self.errors.push(e);
        if end.is_none() {
            self.abort = true;
        }
        Ok(end)
    }

    fn u16_at(&self, pos: usize) -> Option<u16> {
        let b = self.buf.get(pos..pos.checked_add(2)?)?;
        let a = [b[0], b[1]];
        Some(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    fn u32_at(&self, pos: usize) -> Option<u32> {
        let b = self.buf.get(pos..pos.checked_add(4)?)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn tag_at(&self, pos: usize) -> Option<Tag> {
        Some(Tag(self.u16_at(pos)?, self.u16_at(pos.checked_add(2)?)?))
    }

    fn truncated(&mut self, offset: usize, tag: Option<Tag>, what: &str) -> Error {
        if self.partial {
            self.needs_more = true;
        }
        Error::parse(
            offset as u64,
            tag,
            format!("{what}, but the data ends at byte {} (truncated file?)", self.buf.len()),
        )
    }

    /// Whether the data set starting at `pos` looks explicit VR: both VR bytes are upper-case letters
    /// (the test pydicom applies; PS3.5 §7.1.2).
    fn sniff_explicit(&self, pos: usize, assumed_explicit: bool, nested: bool) -> bool {
        if nested && !assumed_explicit {
            return false;
        }
        match self.buf.get(pos + 4..pos + 6) {
            Some(vr) => is_vr_letter(vr[0]) && is_vr_letter(vr[1]),
            None => assumed_explicit,
        }
    }

    /// Parses the top-level data set starting at `pos` (through the end of the buffer).
    ///
    /// # Errors
    /// `Error::Parse` / `Error::Limit` on malformed structure.
    pub fn parse_top(&mut self, pos: usize, explicit: bool) -> Result<(Dataset, ParseOutcome)> {
        let explicit = if self.trust_syntax {
            explicit
        } else {
            self.sniff_explicit(pos, explicit, false)
        };
        let (ds, end) = self.parse_dataset(pos, End::TopLevel, explicit, 0)?;
        Ok((
            ds,
            ParseOutcome {
                end,
                stopped_early: self.stopped_early,
                needs_more: self.needs_more,
            },
        ))
    }

    /// Parses elements of group 0002 (file meta information, PS3.10 §7.1) starting at `pos`.
    ///
    /// # Errors
    /// `Error::Parse` on malformed structure.
    pub fn parse_group(&mut self, pos: usize, group: u16) -> Result<(Dataset, usize)> {
        let explicit = self.sniff_explicit(pos, true, false);
        let mut ds = Dataset {
            // The file meta information usually holds 6 to 10 elements.
            elements: element_list(12),
            explicit_vr: explicit,
            offset: pos,
        };
        let mut p = pos;
        let fast = explicit && !self.big_endian;
        while let Some(tag) = self.tag_at(p) {
            if tag.0 != group || p + 8 > self.buf.len() {
                break;
            }
            if fast && let Some((el, next)) = self.explicit_le_primitive(p, self.buf.len()) {
                ds.elements.push(el);
                p = next;
                continue;
            }
            let (el, next) = self.parse_element(p, tag, explicit, self.buf.len(), 0)?;
            ds.elements.push(el);
            p = next;
        }
        finish(&mut ds);
        Ok((ds, p))
    }

    fn parse_dataset(&mut self, start: usize, end: End, explicit: bool, depth: usize) -> Result<(Dataset, usize)> {
        let mut ds = Dataset {
            elements: Vec::new(),
            explicit_vr: explicit,
            offset: start,
        };
        let mut pos = start;
        if let Err(e) = self.parse_dataset_into(&mut ds, &mut pos, end, explicit, depth) {
            let resume = match end {
                End::At(e) | End::DelimitedWithin(e) => Some(e),
                _ => None,
            };
            if let Some(r) = self.recover(e, resume)? {
                pos = r;
            }
        }
        finish(&mut ds);
        Ok((ds, pos))
    }

    #[allow(clippy::too_many_lines)]
    fn parse_dataset_into(
        &mut self,
        out: &mut Dataset,
        cursor: &mut usize,
        end: End,
        explicit: bool,
        depth: usize,
    ) -> Result<()> {
        let start = *cursor;
        // Top-level data sets usually hold dozens of elements (or the few tags wanted): one allocation
        // instead of several regrowths.
        let capacity = match (&end, &self.wanted) {
            (End::TopLevel, Some((set, _))) => set.len(),
            (End::TopLevel, None) => 96,
            _ => 0,
        };
        let mut ds = Dataset {
            elements: if capacity > 0 {
                element_list(capacity)
            } else {
                Vec::new()
            },
            explicit_vr: explicit,
            offset: start,
        };
        let limit = match end {
            End::At(e) | End::DelimitedWithin(e) => e,
            _ => self.buf.len(),
        };
        let top = matches!(end, End::TopLevel);
        // A top-level data set of explicit VR little endian read with `specific_tags` (a scan): the runs of
        // elements that are not wanted are stepped over by `skip_unwanted_run`, a few instructions each.
        let fast_skip = top && explicit && !self.big_endian && self.wanted.is_some();
        let mut pos = start;
        let result = loop {
            if self.abort {
                break Ok(());
            }
            if fast_skip {
                pos = self.skip_unwanted_run(pos, limit);
                if let Some((el, next)) = self.take_next_wanted(pos, limit) {
                    ds.elements.push(el);
                    pos = next;
                    continue;
                }
            }
            if let End::At(e) | End::DelimitedWithin(e) = end
                && pos >= e
            {
                break Ok(());
            }
            if pos.checked_add(8).is_none_or(|p| p > limit) {
                match end {
                    End::TopLevel => {
                        // Fewer than 8 bytes left: trailing padding or junk, ignored as pydicom does.
                        if self.partial && pos < self.buf.len() + 8 {
                            self.needs_more = pos != self.buf.len();
                        }
                        break Ok(());
                    }
                    End::At(e) | End::DelimitedWithin(e) => {
                        break Err(Error::parse(
                            pos as u64,
                            None,
                            format!(
                                "An element header starts {} bytes before the end of its item at byte {e}",
                                e - pos
                            ),
                        ));
                    }
                    End::Delimited => {
                        break Err(self.truncated(
                            pos,
                            None,
                            "An item of undefined length has no Item Delimitation Item",
                        ));
                    }
                }
            }
            let Some(tag) = self.tag_at(pos) else {
                break Err(self.truncated(pos, None, "Expected an element tag"));
            };
            if tag == Tag::ITEM_DELIMITATION {
                // PS3.5 §7.5.2: end of an undefined-length item (pydicom also stops a defined-length one here).
                pos += 8;
                break Ok(());
            }
            if top {
                if self.opts.stop_before_pixels && tag.is_pixel_data() {
                    self.stopped_early = true;
                    break Ok(());
                }
                // (a stray item tag (FFFE,xxxx) among the elements is not a reason to stop: seen in the wild)
                if let Some((_, max)) = &self.wanted
                    && tag > *max
                    && tag.0 != 0xFFFE
                {
                    self.stopped_early = true;
                    break Ok(());
                }
            }
            if top && tag == Tag(0, 0) && self.zero_from(pos, limit) {
                // Trailing zero padding after the last element (seen in real files): nothing more to read.
                pos = limit;
                break Ok(());
            }
            let wanted = !top || self.is_wanted(tag);
            if !wanted
                && tag.0 != 0xFFFE
                && let Some(next) = self.skip_element(pos, explicit, limit, depth)
            {
                // An element that is not wanted is stepped over, as pydicom's reader does with
                // specific_tags: its value (a sequence's items too) is neither indexed nor looked at.
                pos = next;
                continue;
            }
            let (el, next) = match self.parse_element(pos, tag, explicit, limit, depth) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            pos = next;
            if !wanted {
                continue;
            }
            self.count += 1;
            if self.count > self.opts.max_elements {
                break Err(Error::Limit {
                    offset: el.header_offset as u64,
                    tag: Some(tag),
                    limit: "max_elements",
                    reason: format!("More than {} elements", self.opts.max_elements),
                    how: "raise it with dcmread(..., max_elements=N)",
                });
            }
            if top {
                self.passed_wanted(tag);
            }
            ds.elements.push(el);
        };
        *cursor = pos;
        out.elements = ds.elements;
        result
    }

    /// The element whose header starts at `pos` when it is one that [`Parser::parse_element`] reads as a
    /// plain value with nothing to check but its bounds: an explicit VR little endian header with a known VR
    /// other than SQ and UN, and a defined length whose value ends within `limit` (PS3.5 §7.1.2). `None`
    /// sends every other element to `parse_element`, which gives the same element for these.
    #[inline]
    fn explicit_le_primitive(&self, pos: usize, limit: usize) -> Option<(Element, usize)> {
        let limit = limit.min(self.buf.len());
        let h = self.buf.get(pos..pos.checked_add(12).filter(|&e| e <= limit)?)?;
        let vr = VR::from_bytes([h[4], h[5]])?;
        if matches!(vr, VR::SQ | VR::UN) {
            return None;
        }
        let (length, header_len) = if vr.has_long_header() {
            (u32::from_le_bytes([h[8], h[9], h[10], h[11]]), 12)
        } else {
            (u32::from(u16::from_le_bytes([h[6], h[7]])), 8)
        };
        if length == UNDEFINED {
            return None;
        }
        let value_offset = pos + header_len;
        let end = value_offset.checked_add(length as usize).filter(|&e| e <= limit)?;
        let tag = le_tag(h);
        Some((
            Element {
                tag,
                vr,
                explicit: true,
                header_offset: pos,
                value_offset,
                length,
                value_len: length as usize,
                body: Body::Primitive,
            },
            end,
        ))
    }

    /// The next wanted top-level element, when it starts at `pos` and is a plain value
    /// ([`Parser::explicit_le_primitive`]) the element loop would keep as it is: the tag the search of
    /// `wanted` stands at, below the item tags, not (0000,0000) (padding is looked at by the loop), below
    /// Pixel Data when reading stops there, and within `max_elements`. The search then moves past it, so the
    /// elements up to the next wanted tag are stepped over by [`Parser::skip_unwanted_run`]. Explicit VR
    /// little endian only.
    #[inline]
    fn take_next_wanted(&mut self, pos: usize, limit: usize) -> Option<(Element, usize)> {
        let (set, _) = self.wanted.as_ref()?;
        let want = *set.get(self.wanted_at)?;
        let h = self.buf.get(pos..pos.checked_add(4)?)?;
        let key = le_tag(h).to_u32();
        if key != want.to_u32()
            || key == 0
            || key >= 0xFFFE_0000
            || (self.opts.stop_before_pixels && key >= Tag(0x7FE0, 0x0008).to_u32())
            || self.count >= self.opts.max_elements
        {
            return None;
        }
        let found = self.explicit_le_primitive(pos, limit)?;
        self.count += 1;
        self.wanted_at += 1;
        Some(found)
    }

    /// After a wanted top-level element with `tag` is kept, moves the search of `wanted` past it when it
    /// stands there, as [`Parser::take_next_wanted`] does (the search finds the same tags either way: it
    /// starts over for a tag out of order).
    fn passed_wanted(&mut self, tag: Tag) {
        if let Some((set, _)) = &self.wanted
            && set.get(self.wanted_at) == Some(&tag)
        {
            self.wanted_at += 1;
        }
    }

    /// The offset after the run of top-level elements from `pos` that the element loop would step over one
    /// by one, `pos` itself when the next element needs that loop. Only what [`Parser::is_wanted`] and
    /// [`Parser::skip_element`] agree is not wanted and ends within `limit` is stepped over: a tag strictly
    /// between the last wanted tag passed and the next one (so none out of order, no duplicate, no (0000,0000)
    /// padding), below Pixel Data when reading stops there and below the item tags (FFFE,xxxx), with an
    /// explicit VR and a defined length (PS3.5 §7.1.2: a 12-byte header and a 32-bit length for the VRs
    /// that have one, 8 bytes and 16 bits otherwise, an unknown VR spelt with letters being read as UN).
    /// Explicit VR little endian only.
    #[inline]
    fn skip_unwanted_run(&self, mut pos: usize, limit: usize) -> usize {
        let Some((set, _)) = &self.wanted else {
            return pos;
        };
        let i = self.wanted_at;
        let Some(next) = set.get(i) else {
            return pos;
        };
        let lo = if i > 0 { set[i - 1].to_u32() } else { 0 };
        let mut hi = next.to_u32().min(0xFFFE_0000);
        if self.opts.stop_before_pixels {
            hi = hi.min(Tag(0x7FE0, 0x0008).to_u32());
        }
        let limit = limit.min(self.buf.len());
        while let Some(h) = pos
            .checked_add(12)
            .filter(|&e| e <= limit)
            .and_then(|e| self.buf.get(pos..e))
        {
            let key = le_tag(h).to_u32();
            if key <= lo || key >= hi || !is_vr_letter(h[4]) || !is_vr_letter(h[5]) {
                break;
            }
            let end = if VR::spells_long_header([h[4], h[5]]) {
                let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
                if len == UNDEFINED {
                    break;
                }
                (pos + 12).checked_add(len as usize)
            } else {
                Some(pos + 8 + usize::from(u16::from_le_bytes([h[6], h[7]])))
            };
            match end {
                Some(e) if e <= limit => pos = e,
                _ => break,
            }
        }
        pos
    }

    /// Whether a top-level element is kept: every one without `specific_tags`, else those named (and
    /// Specific Character Set). Tags ascend in a data set (PS3.5 §7.1), so the search goes on from where
    /// the previous one ended; a tag out of order starts it over.
    fn is_wanted(&mut self, tag: Tag) -> bool {
        let Some((set, _)) = &self.wanted else {
            return true;
        };
        let mut i = self.wanted_at;
        if i > 0 && set.get(i - 1).is_some_and(|&t| t >= tag) {
            i = 0;
        }
        while set.get(i).is_some_and(|&t| t < tag) {
            i += 1;
        }
        self.wanted_at = i;
        set.get(i) == Some(&tag)
    }

    /// The offset after the element whose header starts at `pos` (in a data set at `depth`), found without
    /// indexing anything: a value of defined length is jumped over, and one of undefined length (a PS3.5
    /// §7.5.2 sequence, §A.4 encapsulated data) is followed item by item to its Sequence Delimitation Item.
    /// `None` when anything is out of the ordinary (a length running past `limit` or the buffer, a tag
    /// where an item should be, nesting deeper than `max_depth`): the full parse then reads the element and
    /// reports what it finds. Headers are read as [`Parser::parse_element`] reads them (PS3.5 §7.1.2: a
    /// 12-byte header for the VRs with a 32-bit length, 8 bytes otherwise; a VR that is not two letters
    /// means an implicit VR element), and so are sequences, so both find the same end.
    fn skip_element(&self, pos: usize, explicit: bool, limit: usize, depth: usize) -> Option<usize> {
        let (vr, length, header_len) = match self.buf.get(pos + 4..pos + 6) {
            Some(&[a, b]) if explicit && is_vr_letter(a) && is_vr_letter(b) => match VR::from_bytes([a, b]) {
                Some(vr) if vr.has_long_header() => (Some(vr), self.u32_at(pos + 8)?, 12),
                // An unknown VR spelt with letters is read as UN.
                vr => (Some(vr.unwrap_or(VR::UN)), u32::from(self.u16_at(pos + 6)?), 8),
            },
            _ => (None, self.u32_at(pos + 4)?, 8),
        };
        let value = pos + header_len;
        if length != UNDEFINED {
            return value.checked_add(length as usize).filter(|&end| end <= limit);
        }
        // Whether items of undefined length may come: those of a sequence (SQ, or UN read as one) hold a
        // data set; in encapsulated data they are an error the full parse reports.
        let sequence = match vr {
            Some(vr) => matches!(vr, VR::SQ | VR::UN),
            None => {
                let vr = dictionary::implicit_vr(self.tag_at(pos)?);
                vr == VR::SQ || (vr == VR::UN && self.tag_at(value) == Some(Tag::ITEM))
            }
        };
        self.skip_items(value, explicit, sequence, depth + 1)
            .filter(|&end| end <= limit)
    }

    /// The offset after the items starting at `pos` and their Sequence Delimitation Item (see
    /// [`Parser::skip_element`]).
    fn skip_items(&self, pos: usize, explicit: bool, sequence: bool, depth: usize) -> Option<usize> {
        if depth > self.opts.max_depth {
            return None;
        }
        let end = self.buf.len();
        let mut p = pos;
        loop {
            if p.checked_add(8)? > end {
                return None;
            }
            let tag = self.tag_at(p)?;
            if tag == Tag::SEQUENCE_DELIMITATION {
                return Some(p + 8);
            }
            let length = self.u32_at(p + 4)?;
            if tag != Tag::ITEM {
                return None;
            }
            let start = p + 8;
            if length != UNDEFINED {
                p = start.checked_add(length as usize).filter(|&e| e <= end)?;
                continue;
            }
            if !sequence {
                return None;
            }
            // An item of undefined length: its elements, up to its Item Delimitation Item.
            let item_explicit = self.sniff_explicit(start, explicit, true);
            p = start;
            loop {
                if p.checked_add(8)? > end {
                    return None;
                }
                if self.tag_at(p)? == Tag::ITEM_DELIMITATION {
                    p += 8;
                    break;
                }
                p = self.skip_element(p, item_explicit, end, depth)?;
            }
        }
    }

    /// Parses one element whose header starts at `pos`; returns it and the offset after it.
    #[allow(clippy::too_many_lines)]
    fn parse_element(
        &mut self,
        pos: usize,
        tag: Tag,
        explicit: bool,
        limit: usize,
        depth: usize,
    ) -> Result<(Element, usize)> {
        let mut el_explicit = explicit;
        let (mut vr, length, header_len) = if explicit {
            let Some(&[a, b]) = self.buf.get(pos + 4..pos + 6) else {
                return Err(self.truncated(pos, Some(tag), "Expected a VR"));
            };
            match VR::from_bytes([a, b]) {
                Some(vr) if vr.has_long_header() => {
                    let Some(len) = self.u32_at(pos + 8) else {
                        return Err(self.truncated(pos, Some(tag), "Expected a 32-bit value length"));
                    };
                    (vr, len, 12)
                }
                Some(vr) => {
                    let len = u32::from(self.u16_at(pos + 6).unwrap_or(0));
                    (vr, len, 8)
                }
                None if is_vr_letter(a) && is_vr_letter(b) => {
                    // An unknown VR spelt with letters: explicit with a 16-bit length, read as UN.
                    let len = u32::from(self.u16_at(pos + 6).unwrap_or(0));
                    (VR::UN, len, 8)
                }
                None => {
                    // Not a VR at all: this element is implicit VR (pydicom's assume_implicit_vr_switch).
                    el_explicit = false;
                    let len = self.u32_at(pos + 4).unwrap_or(0);
                    (dictionary::implicit_vr(tag), len, 8)
                }
            }
        } else {
            let Some(len) = self.u32_at(pos + 4) else {
                return Err(self.truncated(pos, Some(tag), "Expected a value length"));
            };
            (dictionary::implicit_vr(tag), len, 8)
        };
        let value_offset = pos + header_len;
        if value_offset > limit {
            return Err(self.truncated(pos, Some(tag), "The element header runs past the end of its container"));
        }
        if length == UNDEFINED {
            // PS3.5 §7.1.1 / §6.2.2: undefined length is allowed for SQ, UN (read as an implicit VR sequence)
            // and encapsulated pixel data.
            if vr == VR::UN && (el_explicit || self.tag_at(value_offset) == Some(Tag::ITEM)) {
                vr = VR::SQ;
            }
            if vr == VR::SQ {
                let (items, next) = self.parse_items(value_offset, None, explicit, depth + 1, tag)?;
                let value_len = next.saturating_sub(8).saturating_sub(value_offset);
                return Ok((
                    Element {
                        tag,
                        vr,
                        explicit: el_explicit,
                        header_offset: pos,
                        value_offset,
                        length,
                        value_len,
                        body: Body::Sequence(items),
                    },
                    next,
                ));
            }
            let (frags, next) = self.parse_fragments(value_offset, tag)?;
            let value_len = next.saturating_sub(8).saturating_sub(value_offset);
            return Ok((
                Element {
                    tag,
                    vr,
                    explicit: el_explicit,
                    header_offset: pos,
                    value_offset,
                    length,
                    value_len,
                    body: Body::Fragments(frags),
                },
                next,
            ));
        }
        let mut len = length as usize;
        if self.opts.lenient && !self.partial && value_offset.checked_add(len).is_none_or(|e| e > limit) {
            // Keep what is there of the value, record the fault, and read nothing after it in this container.
            let e = self.truncated(
                pos,
                Some(tag),
                &format!(
                    "The value length {length} exceeds the {} bytes remaining",
                    limit - value_offset
                ),
            );
            self.recover(e, if limit == self.buf.len() { None } else { Some(limit) })?;
            len = limit - value_offset;
        }
        let Some(value_end) = value_offset.checked_add(len).filter(|&e| e <= limit) else {
            return Err(self.truncated(
                pos,
                Some(tag),
                &format!(
                    "The value length {length} exceeds the {} bytes remaining",
                    limit - value_offset
                ),
            ));
        };
        // An explicit UN whose tag the dictionary knows as SQ is read as a sequence (pydicom's
        // replace_un_with_known_vr); its items are implicit VR little endian (PS3.5 §6.2.2).
        let as_sequence = vr == VR::SQ
            || (vr == VR::UN
                && !tag.is_private()
                && len < 0xFFFF
                && dictionary::lookup(tag).is_some_and(|e| e.vr == VR::SQ));
        // An implicit VR element (or an explicit UN) the dictionary calls SQ that does not start with an Item
        // holds something else (seen: a CS string in (0040,A170)): keep its bytes as UN rather than failing.
        let as_sequence = as_sequence
            && !((vr == VR::UN || !el_explicit) && len >= 4 && self.tag_at(value_offset) != Some(Tag::ITEM));
        if !as_sequence && vr == VR::SQ {
            vr = VR::UN;
        }
        let body = if as_sequence {
            vr = VR::SQ;
            let (items, _) = self.parse_items(value_offset, Some(value_end), explicit, depth + 1, tag)?;
            Body::Sequence(items)
        } else {
            Body::Primitive
        };
        Ok((
            Element {
                tag,
                vr,
                explicit: el_explicit,
                header_offset: pos,
                value_offset,
                length,
                value_len: len,
                body,
            },
            value_end,
        ))
    }

    /// Items of a sequence starting at `pos`, up to `end` (defined length) or the Sequence Delimitation Item;
    /// in lenient mode a fault keeps the items read so far.
    fn parse_items(
        &mut self,
        pos: usize,
        end: Option<usize>,
        explicit: bool,
        depth: usize,
        seq: Tag,
    ) -> Result<(Vec<Item>, usize)> {
        let mut items = Vec::new();
        match self.parse_items_into(&mut items, pos, end, explicit, depth, seq) {
            Ok(next) => Ok((items, next)),
            Err(e) => {
                let resume = self.recover(e, end)?;
                Ok((items, resume.unwrap_or(self.buf.len())))
            }
        }
    }

    fn parse_items_into(
        &mut self,
        items: &mut Vec<Item>,
        pos: usize,
        end: Option<usize>,
        explicit: bool,
        depth: usize,
        seq: Tag,
    ) -> Result<usize> {
        if depth > self.opts.max_depth {
            return Err(Error::Limit {
                offset: pos as u64,
                tag: Some(seq),
                limit: "max_depth",
                reason: format!("Sequences nested deeper than {} levels", self.opts.max_depth),
                how: "raise it with dcmread(..., max_depth=N)",
            });
        }
        let mut p = pos;
        loop {
            if self.abort {
                return Ok(p);
            }
            if let Some(e) = end
                && p >= e
            {
                return Ok(p);
            }
            let limit = end.unwrap_or(self.buf.len());
            if p + 8 > limit {
                if end.is_some() {
                    return Err(Error::parse(
                        p as u64,
                        Some(seq),
                        "An item header runs past the end of its sequence",
                    ));
                }
                return Err(self.truncated(
                    p,
                    Some(seq),
                    "A sequence of undefined length has no Sequence Delimitation Item",
                ));
            }
            let tag = self.tag_at(p).unwrap_or_default();
            let length = self.u32_at(p + 4).unwrap_or(0);
            if tag == Tag::SEQUENCE_DELIMITATION {
                return Ok(p + 8);
            }
            if tag != Tag::ITEM {
                return Err(Error::parse(
                    p as u64,
                    Some(seq),
                    format!("Expected an Item (FFFE,E000) in the sequence, found {tag}"),
                ));
            }
            let start = p + 8;
            let item_explicit = self.sniff_explicit(start, explicit, true);
            let (dataset, next) = if length == UNDEFINED {
                let within = end.map_or(End::Delimited, End::DelimitedWithin);
                let (ds, next) = self.parse_dataset(start, within, item_explicit, depth)?;
                (ds, next)
            } else {
                let Some(item_end) = start.checked_add(length as usize).filter(|&e| e <= limit) else {
                    return Err(self.truncated(
                        p,
                        Some(seq),
                        &format!("An item length {length} exceeds the {} bytes remaining", limit - start),
                    ));
                };
                let (ds, next) = self.parse_dataset(start, End::At(item_end), item_explicit, depth)?;
                (ds, next.max(item_end))
            };
            items.push(Item {
                header_offset: p,
                length,
                dataset,
            });
            p = next;
        }
    }

    /// Fragments of encapsulated data (PS3.5 §A.4) starting at `pos`, through the Sequence Delimitation Item.
    fn parse_fragments(&mut self, pos: usize, el: Tag) -> Result<(Vec<Fragment>, usize)> {
        let mut frags = Vec::new();
        match self.parse_fragments_into(&mut frags, pos, el) {
            Ok(next) => Ok((frags, next)),
            Err(e) => {
                self.recover(e, None)?;
                Ok((frags, self.buf.len()))
            }
        }
    }

    fn parse_fragments_into(&mut self, frags: &mut Vec<Fragment>, pos: usize, el: Tag) -> Result<usize> {
        let mut p = pos;
        loop {
            if p + 8 > self.buf.len() {
                return Err(self.truncated(p, Some(el), "Encapsulated data has no Sequence Delimitation Item"));
            }
            let tag = self.tag_at(p).unwrap_or_default();
            let length = self.u32_at(p + 4).unwrap_or(0);
            if tag == Tag::SEQUENCE_DELIMITATION {
                return Ok(p + 8);
            }
            if tag != Tag::ITEM {
                return Err(Error::parse(
                    p as u64,
                    Some(el),
                    format!("Expected an Item (FFFE,E000) in encapsulated data, found {tag}"),
                ));
            }
            let start = p + 8;
            let Some(end) = start.checked_add(length as usize).filter(|&e| e <= self.buf.len()) else {
                return Err(self.truncated(
                    p,
                    Some(el),
                    &format!(
                        "A fragment length {length} exceeds the {} bytes remaining",
                        self.buf.len() - start
                    ),
                ));
            };
            frags.push(Fragment {
                offset: start,
                len: length as usize,
            });
            p = end;
        }
    }
}

/// The longest element lists kept for reuse (longer ones are freed).
const SPARE_LIST_MAX: usize = 256;

thread_local! {
    /// Element lists of top-level data sets given back by [`recycle`] on this thread, for the next parses
    /// (a scan parses thousands of files a second a thread; the list of a header of a dozen wanted elements
    /// is already larger than the allocator's per-thread cache serves).
    static SPARE_LISTS: spare::Spares<Element> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty element list with room for `n`: a spare one of this thread when there is one.
fn element_list(n: usize) -> Vec<Element> {
    let mut v = spare::take(&SPARE_LISTS);
    v.reserve(n);
    v
}

/// Gives the element lists of a parse that is done with (its file meta and top-level data set) back to
/// this thread's spares, for the next parse on the thread.
pub fn recycle(meta: Dataset, dataset: Dataset) {
    for v in [meta.elements, dataset.elements] {
        spare::give(&SPARE_LISTS, v, SPARE_LIST_MAX, 8);
    }
}

/// Sorts the elements by tag if the file had them out of order; of duplicates, the last read wins.
fn finish(ds: &mut Dataset) {
    if ds.elements.windows(2).all(|w| w[0].tag < w[1].tag) {
        return;
    }
    ds.elements.sort_by_key(|e| e.tag); // stable: duplicates keep file order
    let mut out: Vec<Element> = Vec::with_capacity(ds.elements.len());
    for e in ds.elements.drain(..) {
        if out.last().is_some_and(|l| l.tag == e.tag) {
            out.pop();
        }
        out.push(e);
    }
    ds.elements = out;
}
