//! Columns of a scan: what each requested tag becomes, and the plain buffers Arrow arrays are made of.
//!
//! A column is built as Arrow's columnar layout describes it (a validity bitmap, least significant bit
//! first; a values buffer; 64-bit offsets for variable-length values; 32-bit offsets for lists), so the
//! binding can hand the buffers to pyarrow without copying or converting them. No Arrow crate is used.
//!
//! Column types follow the data dictionary (PS3.6): IS, US, UL, SS, SL, SV, AT → int64; UV → uint64;
//! DS, FL, FD → float64; DA → date32; OB, OW, OD, OF, OL, OV, UN and unknown private tags → binary (the raw
//! value bytes); every other VR (TM and DT included) → text. A value multiplicity other than "1" makes a
//! list column.

use std::path::Path;

use crate::dictionary::{self, Tag, VR};
use crate::error::{Error, Result};

/// The type of a column's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text (Arrow `large_string`).
    Str,
    /// Raw bytes (Arrow `large_binary`).
    Bin,
    /// Signed 64-bit integers.
    Int,
    /// Unsigned 64-bit integers (UV).
    UInt,
    /// 64-bit floats.
    Float,
    /// Days since 1970-01-01 (Arrow `date32`).
    Date,
    /// Booleans (bit-packed).
    Bool,
}

impl Kind {
    /// The Arrow type name the binding maps to a pyarrow type.
    #[must_use]
    pub fn arrow_name(self) -> &'static str {
        match self {
            Kind::Str => "large_string",
            Kind::Bin => "large_binary",
            Kind::Int => "int64",
            Kind::UInt => "uint64",
            Kind::Float => "float64",
            Kind::Date => "date32",
            Kind::Bool => "bool",
        }
    }

    /// The column type of a VR.
    #[must_use]
    pub fn of_vr(vr: VR) -> Kind {
        match vr {
            VR::IS | VR::US | VR::UL | VR::SS | VR::SL | VR::SV | VR::AT => Kind::Int,
            VR::UV => Kind::UInt,
            VR::DS | VR::FL | VR::FD => Kind::Float,
            VR::DA => Kind::Date,
            VR::OB | VR::OW | VR::OD | VR::OF | VR::OL | VR::OV | VR::UN | VR::SQ => Kind::Bin,
            _ => Kind::Str,
        }
    }
}

/// One step of a tag path: a tag, and for a sequence the item taken from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The tag.
    pub tag: Tag,
    /// The item index (every step but the last is a sequence item).
    pub item: Option<usize>,
}

/// What one column holds: a tag (or a path into sequences) and how its values are typed.
#[derive(Clone, Debug)]
pub struct ColumnSpec {
    /// The column name.
    pub name: String,
    /// The steps from the top-level data set (or the file meta, for group 0002) to the element.
    pub path: Vec<Step>,
    /// The VR given by the caller (`"Tag:VR"`), overriding the one read.
    pub vr: Option<VR>,
    /// The column type.
    pub kind: Kind,
    /// A list column (value multiplicity other than 1).
    pub list: bool,
}

impl ColumnSpec {
    /// The tag of the element the column reads.
    #[must_use]
    pub fn leaf(&self) -> Tag {
        self.path.last().map_or(Tag::default(), |s| s.tag)
    }

    /// The tag looked up in the top-level data set.
    #[must_use]
    pub fn root(&self) -> Tag {
        self.path.first().map_or(Tag::default(), |s| s.tag)
    }

    /// The element is in the file meta information (group 0002, PS3.10 §7.1).
    #[must_use]
    pub fn in_meta(&self) -> bool {
        self.root().0 == 0x0002
    }
}

fn bad(spec: &str, why: &str) -> Error {
    Error::Invalid(format!("Cannot scan the tag '{spec}': {why}"))
}

/// Parses one tag reference: a keyword, `0xggggeeee` / `ggggeeee`, `(gggg,eeee)` or `gggg,eeee`.
fn parse_tag(s: &str, spec: &str) -> Result<Tag> {
    let s = s.trim();
    if let Some(t) = dictionary::tag_for_keyword(s) {
        return Ok(t);
    }
    let hex = s.trim_start_matches('(').trim_end_matches(')');
    let hex = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X")).unwrap_or(hex);
    let digits: String = hex.chars().filter(|c| *c != ',').collect();
    if digits.len() == 8
        && digits.chars().all(|c| c.is_ascii_hexdigit())
        && let Ok(v) = u32::from_str_radix(&digits, 16)
    {
        return Ok(Tag::from_u32(v));
    }
    Err(bad(
        spec,
        &format!("'{s}' is neither a DICOM keyword nor a tag number such as 0x00100010 or (0010,0010)"),
    ))
}

/// The name of a tag in a column name: its keyword, else `(gggg,eeee)`.
fn tag_name(t: Tag) -> String {
    dictionary::keyword_for_tag(t).map_or_else(|| t.to_string(), str::to_owned)
}

/// Parses a column specification: `"PatientName"`, `"0x00091001:DS"`,
/// `"ReferencedImageSequence[0].ReferencedSOPInstanceUID"`; `name` names the column (default: the
/// specification with keywords where the dictionary has them).
///
/// # Errors
/// `Error::Invalid` naming what is wrong with the specification.
pub fn parse_spec(spec: &str, name: Option<&str>) -> Result<ColumnSpec> {
    let (body, vr) = match spec.rsplit_once(':') {
        Some((b, v)) if v.len() == 2 => {
            let vb = v.as_bytes();
            let vr = VR::from_bytes([vb[0].to_ascii_uppercase(), vb[1].to_ascii_uppercase()])
                .ok_or_else(|| bad(spec, &format!("'{v}' is not a VR")))?;
            (b, Some(vr))
        }
        _ => (spec, None),
    };
    let mut path = Vec::new();
    let segments: Vec<&str> = body.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let (tag_part, item) = match seg.split_once('[') {
            Some((t, rest)) => {
                let idx = rest
                    .strip_suffix(']')
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .ok_or_else(|| bad(spec, &format!("'{seg}' must index an item as Sequence[0]")))?;
                (t, Some(idx))
            }
            None => (*seg, None),
        };
        if last && item.is_some() {
            return Err(bad(
                spec,
                "the last step names an element, not an item; add the element, e.g. Seq[0].Keyword",
            ));
        }
        if !last && item.is_none() {
            return Err(bad(
                spec,
                &format!("'{seg}' is followed by more steps: say which item, e.g. {seg}[0]"),
            ));
        }
        path.push(Step {
            tag: parse_tag(tag_part, spec)?,
            item,
        });
    }
    let leaf = path.last().map_or(Tag::default(), |s| s.tag);
    if path.len() > 1 && path.first().is_some_and(|s| s.tag.0 == 0x0002) {
        return Err(bad(spec, "the file meta information (group 0002) holds no sequences"));
    }
    let entry = dictionary::lookup(leaf);
    let (kind, list) = match (vr, entry) {
        (Some(v), e) => (Kind::of_vr(v), e.is_some_and(|e| e.vm != "1")),
        (None, Some(e)) => {
            if e.vr == VR::SQ {
                return Err(bad(
                    spec,
                    &format!(
                        "{} is a sequence: name an element inside one of its items, e.g. {}[0].Keyword",
                        leaf, e.keyword
                    ),
                ));
            }
            // Ambiguous VRs: "US or SS" are integers either way; those that may be OB/OW are bytes.
            let kind = if e.vr_spec.contains("OB") || e.vr_spec.contains("OW") {
                Kind::Bin
            } else {
                Kind::of_vr(e.vr)
            };
            (kind, e.vm != "1" && kind != Kind::Bin)
        }
        // Private creators are LO (PS3.5 §7.8.1); other unknown tags keep their raw bytes.
        (None, None) if leaf.is_private_creator() => (Kind::Str, false),
        (None, None) => (Kind::Bin, false),
    };
    let default_name = || {
        path.iter()
            .map(|s| match s.item {
                Some(i) => format!("{}[{i}]", tag_name(s.tag)),
                None => tag_name(s.tag),
            })
            .collect::<Vec<_>>()
            .join(".")
    };
    Ok(ColumnSpec {
        name: name.map_or_else(default_name, str::to_owned),
        path,
        vr,
        kind,
        list,
    })
}

/// A validity (or boolean) bitmap, least significant bit first (Arrow's layout).
#[derive(Clone, Debug, Default)]
pub struct Bitmap {
    /// The bits.
    pub bytes: Vec<u8>,
    /// Number of bits.
    pub len: usize,
    /// Number of zero bits.
    pub zeros: usize,
}

impl Bitmap {
    /// Appends one bit.
    pub fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit {
            if let Some(b) = self.bytes.last_mut() {
                *b |= 1 << (self.len % 8);
            }
        } else {
            self.zeros += 1;
        }
        self.len += 1;
    }

    /// Bit `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> bool {
        self.bytes.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// Appends all bits of `other`.
    pub fn extend(&mut self, other: &Bitmap) {
        if self.len.is_multiple_of(8) {
            self.bytes.extend_from_slice(&other.bytes);
            self.len += other.len;
            self.zeros += other.zeros;
            return;
        }
        // Not byte-aligned: each byte of `other` straddles two of ours. Bits past `len` are zero in both
        // bitmaps, so or-ing whole bytes is exact; the extra byte at the end, if any, is dropped.
        let shift = self.len % 8;
        for &b in &other.bytes {
            if let Some(last) = self.bytes.last_mut() {
                *last |= b << shift;
            }
            self.bytes.push(b >> (8 - shift));
        }
        self.len += other.len;
        self.zeros += other.zeros;
        self.bytes.truncate(self.len.div_ceil(8));
    }

    /// Reserves room for the bits of `others`.
    fn reserve_for<'a>(&mut self, others: impl Iterator<Item = &'a Bitmap>) {
        let bits: usize = others.map(|b| b.len).sum();
        self.bytes
            .reserve((self.len + bits).div_ceil(8).saturating_sub(self.bytes.len()) + 1);
    }
}

/// The values of a flat Arrow array.
#[derive(Clone, Debug)]
pub enum Values {
    /// Text or bytes: 64-bit offsets (one more than the length) into `data`.
    Var {
        /// Offsets, starting at 0.
        offsets: Vec<i64>,
        /// The concatenated values.
        data: Vec<u8>,
    },
    /// int64.
    Int(Vec<i64>),
    /// uint64.
    UInt(Vec<u64>),
    /// float64.
    Float(Vec<f64>),
    /// date32.
    Date(Vec<i32>),
    /// bool, bit-packed.
    Bool(Bitmap),
}

/// A flat Arrow array: validity and values.
#[derive(Clone, Debug)]
pub struct Array {
    /// The type.
    pub kind: Kind,
    /// Validity (1 = a value).
    pub validity: Bitmap,
    /// The values (a null slot holds a zero value).
    pub values: Values,
}

/// One value to append to an array.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// Text.
    Str(&'a str),
    /// Bytes.
    Bytes(&'a [u8]),
    /// An integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float.
    Float(f64),
    /// A date (days since the epoch).
    Date(i32),
    /// A boolean.
    Bool(bool),
}

impl Array {
    /// An empty array of `kind`.
    #[must_use]
    pub fn new(kind: Kind) -> Array {
        let values = match kind {
            Kind::Str | Kind::Bin => Values::Var {
                offsets: vec![0],
                data: Vec::new(),
            },
            Kind::Int => Values::Int(Vec::new()),
            Kind::UInt => Values::UInt(Vec::new()),
            Kind::Float => Values::Float(Vec::new()),
            Kind::Date => Values::Date(Vec::new()),
            Kind::Bool => Values::Bool(Bitmap::default()),
        };
        Array {
            kind,
            validity: Bitmap::default(),
            values,
        }
    }

    /// An empty array of `kind` with room for `n` slots (and `bytes` bytes of text or binary values).
    #[must_use]
    pub fn with_capacity(kind: Kind, n: usize, bytes: usize) -> Array {
        let mut a = Array::new(kind);
        a.validity.bytes.reserve(n.div_ceil(8));
        match &mut a.values {
            Values::Var { offsets, data } => {
                offsets.reserve(n);
                data.reserve(bytes);
            }
            Values::Int(v) => v.reserve(n),
            Values::UInt(v) => v.reserve(n),
            Values::Float(v) => v.reserve(n),
            Values::Date(v) => v.reserve(n),
            Values::Bool(v) => v.bytes.reserve(n.div_ceil(8)),
        }
        a
    }

    /// Number of slots.
    #[must_use]
    pub fn len(&self) -> usize {
        self.validity.len
    }

    /// Whether the array has no slot.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.validity.len == 0
    }

    /// Appends a cell; a cell of the wrong type for the array is appended as null.
    pub fn push(&mut self, cell: &Cell<'_>) {
        let ok = match (&mut self.values, cell) {
            (Values::Var { offsets, data }, Cell::Str(s)) => {
                data.extend_from_slice(s.as_bytes());
                offsets.push(i64::try_from(data.len()).unwrap_or(i64::MAX));
                true
            }
            (Values::Var { offsets, data }, Cell::Bytes(b)) => {
                data.extend_from_slice(b);
                offsets.push(i64::try_from(data.len()).unwrap_or(i64::MAX));
                true
            }
            (Values::Var { offsets, data }, _) => {
                offsets.push(i64::try_from(data.len()).unwrap_or(i64::MAX));
                false
            }
            (Values::Int(v), Cell::Int(x)) => {
                v.push(*x);
                true
            }
            (Values::Int(v), _) => {
                v.push(0);
                false
            }
            (Values::UInt(v), Cell::UInt(x)) => {
                v.push(*x);
                true
            }
            (Values::UInt(v), _) => {
                v.push(0);
                false
            }
            (Values::Float(v), Cell::Float(x)) => {
                v.push(*x);
                true
            }
            (Values::Float(v), _) => {
                v.push(0.0);
                false
            }
            (Values::Date(v), Cell::Date(x)) => {
                v.push(*x);
                true
            }
            (Values::Date(v), _) => {
                v.push(0);
                false
            }
            (Values::Bool(v), Cell::Bool(x)) => {
                v.push(*x);
                true
            }
            (Values::Bool(v), _) => {
                v.push(false);
                false
            }
        };
        self.validity.push(ok);
    }

    /// Reserves room for the slots of `others` (of the same kind).
    fn reserve_for<'a>(&mut self, others: impl Iterator<Item = &'a Array> + Clone) {
        self.validity.reserve_for(others.clone().map(|a| &a.validity));
        let slots: usize = others.clone().map(Array::len).sum();
        match &mut self.values {
            Values::Var { offsets, data } => {
                offsets.reserve(slots);
                data.reserve(
                    others
                        .map(|a| match &a.values {
                            Values::Var { data, .. } => data.len(),
                            _ => 0,
                        })
                        .sum(),
                );
            }
            Values::Int(v) => v.reserve(slots),
            Values::UInt(v) => v.reserve(slots),
            Values::Float(v) => v.reserve(slots),
            Values::Date(v) => v.reserve(slots),
            Values::Bool(v) => v.reserve_for(others.map(|a| match &a.values {
                Values::Bool(b) => b,
                _ => &a.validity,
            })),
        }
    }

    /// Reserves room for `more` slots like the ones held (text and binary values by their mean length).
    pub fn reserve_slots(&mut self, more: usize) {
        let len = self.len().max(1);
        self.validity.bytes.reserve(more.div_ceil(8) + 1);
        match &mut self.values {
            Values::Var { offsets, data } => {
                offsets.reserve(more);
                data.reserve((data.len() / len + 1).saturating_mul(more));
            }
            Values::Int(v) => v.reserve(more),
            Values::UInt(v) => v.reserve(more),
            Values::Float(v) => v.reserve(more),
            Values::Date(v) => v.reserve(more),
            Values::Bool(v) => v.bytes.reserve(more.div_ceil(8) + 1),
        }
    }

    /// Appends every slot of `other` (of the same kind).
    pub fn extend(&mut self, other: Array) {
        self.validity.extend(&other.validity);
        match (&mut self.values, other.values) {
            (Values::Var { offsets, data }, Values::Var { offsets: o2, data: d2 }) => {
                let base = offsets.last().copied().unwrap_or(0);
                offsets.extend(o2.iter().skip(1).map(|o| o + base));
                data.extend_from_slice(&d2);
            }
            (Values::Int(a), Values::Int(b)) => a.extend_from_slice(&b),
            (Values::UInt(a), Values::UInt(b)) => a.extend_from_slice(&b),
            (Values::Float(a), Values::Float(b)) => a.extend_from_slice(&b),
            (Values::Date(a), Values::Date(b)) => a.extend_from_slice(&b),
            (Values::Bool(a), Values::Bool(b)) => a.extend(&b),
            _ => {}
        }
    }
}

/// A column: flat, or a list of flat items.
#[derive(Clone, Debug)]
pub enum ColumnData {
    /// One value per row.
    Flat(Array),
    /// A list per row: validity, 32-bit offsets into `items`.
    List {
        /// Validity of the lists.
        validity: Bitmap,
        /// Offsets into `items`, one more than the rows.
        offsets: Vec<i32>,
        /// The items.
        items: Array,
    },
}

impl ColumnData {
    /// An empty column.
    #[must_use]
    pub fn new(kind: Kind, list: bool) -> ColumnData {
        if list {
            ColumnData::List {
                validity: Bitmap::default(),
                offsets: vec![0],
                items: Array::new(kind),
            }
        } else {
            ColumnData::Flat(Array::new(kind))
        }
    }

    /// An empty column with room for `rows` rows (of `bytes` bytes of text or binary values in all).
    #[must_use]
    pub fn with_capacity(kind: Kind, list: bool, rows: usize, bytes: usize) -> ColumnData {
        if list {
            let mut offsets = Vec::with_capacity(rows + 1);
            offsets.push(0);
            let mut validity = Bitmap::default();
            validity.bytes.reserve(rows.div_ceil(8));
            ColumnData::List {
                validity,
                offsets,
                items: Array::with_capacity(kind, rows * 3, bytes),
            }
        } else {
            ColumnData::Flat(Array::with_capacity(kind, rows, bytes))
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Flat(a) => a.len(),
            ColumnData::List { validity, .. } => validity.len,
        }
    }

    /// Whether the column has no row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a null row.
    pub fn push_null(&mut self) {
        match self {
            ColumnData::Flat(a) => a.push(&Cell::Null),
            ColumnData::List {
                validity,
                offsets,
                items,
            } => {
                validity.push(false);
                offsets.push(i32::try_from(items.len()).unwrap_or(i32::MAX));
            }
        }
    }

    /// Appends a row of `cells`: a list column takes them all, a flat one the only one (null otherwise).
    pub fn push_cells(&mut self, cells: &[Cell<'_>]) {
        self.push_iter(cells.iter().copied());
    }

    /// Appends a row of the cells `cells` gives, as [`ColumnData::push_cells`] appends them once collected.
    pub fn push_iter<'a>(&mut self, mut cells: impl Iterator<Item = Cell<'a>>) {
        match self {
            ColumnData::Flat(a) => match (cells.next(), cells.next()) {
                (Some(one), None) => a.push(&one),
                _ => a.push(&Cell::Null),
            },
            ColumnData::List {
                validity,
                offsets,
                items,
            } => {
                for c in cells {
                    items.push(&c);
                }
                validity.push(true);
                offsets.push(i32::try_from(items.len()).unwrap_or(i32::MAX));
            }
        }
    }

    /// Reserves room for the rows of `others` (same shape), so that extending by them copies each once.
    pub fn reserve_for(&mut self, others: &[ColumnData]) {
        match self {
            ColumnData::Flat(a) => a.reserve_for(others.iter().filter_map(|o| match o {
                ColumnData::Flat(b) => Some(b),
                ColumnData::List { .. } => None,
            })),
            ColumnData::List {
                validity,
                offsets,
                items,
            } => {
                let lists = others.iter().filter_map(|o| match o {
                    ColumnData::List { validity, items, .. } => Some((validity, items)),
                    ColumnData::Flat(_) => None,
                });
                validity.reserve_for(lists.clone().map(|(v, _)| v));
                offsets.reserve(lists.clone().map(|(v, _)| v.len).sum());
                items.reserve_for(lists.map(|(_, i)| i));
            }
        }
    }

    /// Reserves room for `more` rows like the ones held (list lengths and values by their means), so that
    /// a column grown chunk by chunk up to that many rows is never moved by a reallocation (each move
    /// copies what was written and touches the new pages, a page fault each).
    pub fn reserve_rows(&mut self, more: usize) {
        match self {
            ColumnData::Flat(a) => a.reserve_slots(more),
            ColumnData::List {
                validity,
                offsets,
                items,
            } => {
                let per_row = items.len() / validity.len.max(1) + 1;
                validity.bytes.reserve(more.div_ceil(8) + 1);
                offsets.reserve(more);
                items.reserve_slots(per_row.saturating_mul(more));
            }
        }
    }

    /// Appends every row of `other` (same shape).
    pub fn extend(&mut self, other: ColumnData) {
        match (self, other) {
            (ColumnData::Flat(a), ColumnData::Flat(b)) => a.extend(b),
            (
                ColumnData::List {
                    validity,
                    offsets,
                    items,
                },
                ColumnData::List {
                    validity: v2,
                    offsets: o2,
                    items: i2,
                },
            ) => {
                validity.extend(&v2);
                let base = offsets.last().copied().unwrap_or(0);
                offsets.extend(o2.iter().skip(1).map(|o| o + base));
                items.extend(i2);
            }
            _ => {}
        }
    }
}

/// A named column of a batch.
#[derive(Clone, Debug)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its data.
    pub data: ColumnData,
}

/// Days from 1970-01-01 to a proleptic Gregorian date (the civil-calendar day count).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A DA value (PS3.5 §6.2: `YYYYMMDD`; the ACR-NEMA `YYYY.MM.DD` form is also read, as pydicom reads it)
/// as days since 1970-01-01; `None` when it is not a valid date.
#[must_use]
pub fn parse_da(s: &str) -> Option<i32> {
    let s = s.trim_matches([' ', '\0']);
    let b = s.as_bytes();
    let (y, m, d) = match b.len() {
        8 => (s.get(0..4)?, s.get(4..6)?, s.get(6..8)?),
        10 if b.get(4) == Some(&b'.') && b.get(7) == Some(&b'.') => (s.get(0..4)?, s.get(5..7)?, s.get(8..10)?),
        _ => return None,
    };
    let num = |t: &str| -> Option<i64> {
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (num(y)?, num(m)?, num(d)?);
    if !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d > dim || y < 1 {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d)).ok()
}

/// Text of a path for the `path` column (lossy for names that are not UTF-8).
#[must_use]
pub fn path_text(p: &Path) -> std::borrow::Cow<'_, str> {
    // `to_str` validates with the standard library's fast UTF-8 check; the lossy conversion walks the
    // bytes chunk by chunk, about six times the instructions for a path that is valid (nearly all).
    match p.to_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => p.to_string_lossy(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_da("19700101"), Some(0));
        assert_eq!(parse_da("20000301"), Some(11_017));
        assert_eq!(parse_da("1999.12.31"), Some(10_956));
        assert_eq!(parse_da("20230230"), None);
        assert_eq!(parse_da("2023"), None);
        assert_eq!(parse_da("2024-01-01"), None);
        assert_eq!(parse_da("20240229"), Some(19_782));
    }

    #[test]
    fn specs() {
        let s = parse_spec("ReferencedImageSequence[0].ReferencedSOPInstanceUID", None).expect("nested");
        assert_eq!(s.path.len(), 2);
        assert_eq!(s.kind, Kind::Str);
        let s = parse_spec("0x00280030", None).expect("number");
        assert_eq!(s.name, "PixelSpacing");
        assert!(s.list);
        assert_eq!(s.kind, Kind::Float);
        let s = parse_spec("(0019,100C):IS", Some("b")).expect("private");
        assert_eq!((s.kind, s.name.as_str()), (Kind::Int, "b"));
        assert_eq!(parse_spec("(0009,1001)", None).expect("private").kind, Kind::Bin);
        assert!(parse_spec("ReferencedImageSequence", None).is_err());
        assert!(parse_spec("ReferencedImageSequence.ReferencedSOPInstanceUID", None).is_err());
        assert!(parse_spec("NoSuchKeyword", None).is_err());
    }

    #[test]
    fn unaligned_bitmaps_join_bit_for_bit() {
        for (n, m) in [(1, 1), (3, 13), (7, 9), (9, 16), (13, 30), (17, 1)] {
            let bits = |k: usize, salt: usize| (0..k).map(move |i| !(i * 7 + salt).is_multiple_of(3));
            let mut a = Bitmap::default();
            bits(n, 1).for_each(|b| a.push(b));
            let mut b = Bitmap::default();
            bits(m, 2).for_each(|x| b.push(x));
            let mut want = Bitmap::default();
            bits(n, 1).chain(bits(m, 2)).for_each(|x| want.push(x));
            a.extend(&b);
            assert_eq!((a.len, a.zeros), (want.len, want.zeros), "{n} + {m}");
            assert_eq!(a.bytes, want.bytes, "{n} + {m}");
        }
    }

    #[test]
    fn bitmaps_and_lists() {
        let mut a = ColumnData::new(Kind::Int, true);
        a.push_cells(&[Cell::Int(1), Cell::Null]);
        a.push_null();
        let mut b = ColumnData::new(Kind::Int, true);
        b.push_cells(&[Cell::Int(3)]);
        a.extend(b);
        let ColumnData::List {
            validity,
            offsets,
            items,
        } = a
        else {
            panic!("list")
        };
        assert_eq!(offsets, vec![0, 2, 2, 3]);
        assert_eq!((validity.len, validity.zeros), (3, 1));
        assert_eq!((items.validity.len, items.validity.zeros), (3, 1));
        assert!(items.validity.get(2));
    }
}
