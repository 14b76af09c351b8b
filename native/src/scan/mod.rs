//! Parallel archive scan: walk directories, read each file's header, and build typed columns.
//!
//! - [`walk`]: the lazy, sorted directory walk (symbolic links, loops, glob patterns, errors as entries).
//! - [`columns`]: column specifications (tags, nested paths, types from the dictionary) and the plain
//!   Arrow-layout buffers they are built in.
//!
//! A [`Scanner`] hands out [`Batch`]es of at most a chunk of files each: the walk gives the next entries,
//! a rayon pool reads and parses them (only the bytes before Pixel Data, and only up to the largest tag
//! wanted), each worker builds the columns of its slice, and the slices are joined in order. Every file
//! gives exactly one row: a file that cannot be read or parsed gets `ok = false` and its `error`, with
//! nulls elsewhere. A panic while reading one file (a bug) is caught and becomes that file's error.

pub mod columns;
pub mod walk;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::dictionary::{Tag, VR};
use crate::error::{Error, Result};
use crate::parse::{self, Body, Dataset, Element, ParsedFile, ReadOptions};
use crate::value::{self, IsItem, Number, Value, charset::Charsets};
pub use columns::{Array, Bitmap, Cell, Column, ColumnData, ColumnSpec, Kind, Values, parse_spec};
pub use walk::{Entry, Glob, WalkOptions, Walker};

/// The fixed columns after `path`, `size`, `ok` and `error`: (name, tag).
pub const FIXED: [(&str, u32); 5] = [
    ("TransferSyntaxUID", 0x0002_0010),
    ("SOPClassUID", 0x0008_0016),
    ("SOPInstanceUID", 0x0008_0018),
    ("StudyInstanceUID", 0x0020_000D),
    ("SeriesInstanceUID", 0x0020_000E),
];

/// Options of a scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Worker threads (default: every core).
    pub threads: Option<usize>,
    /// How directories are walked.
    pub walk: WalkOptions,
    /// Add a `<name>_raw` text column beside each DA, DS and IS column, holding the value as written.
    pub keep_raw: bool,
    /// Read files without the preamble and "DICM" prefix (PS3.10 §7.1), as `dcmread(force=True)` does.
    pub force: bool,
}

/// Where the files of a scan come from.
enum Source {
    /// Walk the paths given.
    Walk(Walker),
    /// A list already walked (e.g. by the client of a cluster): entries as they are.
    Entries(std::vec::IntoIter<Entry>),
}

impl Source {
    fn take(&mut self, n: usize) -> Vec<Entry> {
        match self {
            Source::Walk(w) => w.by_ref().take(n).collect(),
            Source::Entries(it) => it.by_ref().take(n).collect(),
        }
    }
}

/// One column of the output: its specification, or a fixed column computed from the file.
#[derive(Clone, Debug)]
enum Slot {
    Path,
    Size,
    Ok,
    Error,
    /// A tag column; `raw` adds the text as written after it.
    Tag {
        spec: ColumnSpec,
        raw: bool,
    },
}

/// The plan of a scan: the output columns and the read options that cover them.
#[derive(Debug)]
struct Plan {
    slots: Vec<Slot>,
    read: ReadOptions,
}

/// A batch of rows: one column per output column, all of the same length.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The columns, in output order.
    pub columns: Vec<Column>,
    /// Number of rows.
    pub rows: usize,
    /// Number of rows with `ok = false`.
    pub errors: usize,
}

/// The result of reading one file: its size and parse, or the error text.
struct FileOutcome {
    size: Option<u64>,
    parsed: std::result::Result<ParsedFile, String>,
}

/// The error text of a core error, prefixed with the Python exception it maps to.
fn error_text(e: &Error) -> String {
    let kind = match e {
        Error::Io(io) => return walk::io_error_text(io),
        Error::NotDicom { .. } => "InvalidDicomError",
        Error::Parse { .. } => "ParseError",
        Error::Limit { .. } => "LimitError",
        Error::Decode { .. } => "DecodeError",
        Error::UnsupportedTransferSyntax { .. } => "UnsupportedTransferSyntaxError",
        _ => "DicomError",
    };
    format!("{kind}: {e}")
}

/// The message of a caught panic.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("InternalError: reading the file panicked (a dicomfast bug; please report it): {msg}")
}

impl Plan {
    fn new(specs: Vec<ColumnSpec>, keep_raw: bool, force: bool) -> Plan {
        let mut slots = vec![Slot::Path, Slot::Size, Slot::Ok, Slot::Error];
        let mut names: BTreeSet<String> = ["path", "size", "ok", "error"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let fixed = FIXED
            .iter()
            .filter_map(|(name, tag)| parse_spec(&format!("{tag:08X}"), Some(name)).ok());
        for spec in fixed.chain(specs) {
            if !names.insert(spec.name.clone()) {
                continue; // asked twice (or a fixed column asked for): one column
            }
            let raw = keep_raw
                && spec
                    .vr
                    .map_or_else(|| raw_worthy(&spec), |v| matches!(v, VR::DA | VR::DS | VR::IS));
            if raw {
                names.insert(format!("{}_raw", spec.name));
            }
            slots.push(Slot::Tag { spec, raw });
        }
        // Header-only reads (PS3.5 §7.5: everything before (7FE0,0010) Pixel Data), and only up to the largest
        // top-level tag wanted. When a wanted VR is ambiguous, (0028,0103) Pixel Representation and (0028,3002)
        // LUT Descriptor are kept so "US or SS" / "US or OW" values resolve as they do in a full read
        // (PS3.5 §A.1, PS3.3 C.7.6.3).
        let mut wanted: BTreeSet<Tag> = BTreeSet::new();
        for s in &slots {
            if let Slot::Tag { spec, .. } = s
                && !spec.in_meta()
            {
                wanted.insert(spec.root());
                if spec.vr.is_none()
                    && crate::dictionary::lookup(spec.leaf()).is_some_and(|e| e.vr_spec.contains(" or "))
                {
                    wanted.extend([Tag(0x0028, 0x0103), Tag(0x0028, 0x3002)]);
                }
            }
        }
        let read = ReadOptions {
            stop_before_pixels: true,
            specific_tags: Some(wanted.into_iter().collect()),
            force,
            ..ReadOptions::default()
        };
        Plan { slots, read }
    }

    /// The output schema: `(name, arrow type, list)` per column.
    fn schema(&self) -> Vec<(String, Kind, bool)> {
        let mut out = Vec::new();
        for s in &self.slots {
            match s {
                Slot::Path => out.push(("path".to_owned(), Kind::Str, false)),
                Slot::Size => out.push(("size".to_owned(), Kind::Int, false)),
                Slot::Ok => out.push(("ok".to_owned(), Kind::Bool, false)),
                Slot::Error => out.push(("error".to_owned(), Kind::Str, false)),
                Slot::Tag { spec, raw } => {
                    out.push((spec.name.clone(), spec.kind, spec.list));
                    if *raw {
                        out.push((format!("{}_raw", spec.name), Kind::Str, false));
                    }
                }
            }
        }
        out
    }

    fn empty_batch(&self) -> Batch {
        Batch {
            columns: self
                .schema()
                .into_iter()
                .map(|(name, kind, list)| Column {
                    name,
                    data: ColumnData::new(kind, list),
                })
                .collect(),
            rows: 0,
            errors: 0,
        }
    }
}

/// Whether a spec's dictionary VR is one whose text a `*_raw` column keeps (DA, DS, IS).
fn raw_worthy(spec: &ColumnSpec) -> bool {
    crate::dictionary::lookup(spec.leaf()).is_some_and(|e| matches!(e.vr, VR::DA | VR::DS | VR::IS))
}

/// The first read of a file: most headers (everything before Pixel Data) fit in it.
const FIRST_READ: u64 = 8 * 1024;

/// Opens a file for reading without blocking on a FIFO that appeared after the walk (`O_NONBLOCK` has no
/// effect on regular files).
fn open(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(0o4000); // O_NONBLOCK
    }
    o.open(path)
}

/// Reads the header of a file: one open, one `fstat` (the size), one read of the first bytes; the rest of
/// the file only when its header does not fit in them.
fn read_file(path: &std::path::Path, opts: &ReadOptions) -> (Option<u64>, std::result::Result<ParsedFile, String>) {
    use std::io::Read;
    let file = match open(path) {
        Ok(f) => f,
        Err(e) => return (None, Err(walk::io_error_text(&e))),
    };
    let len = match file.metadata() {
        Ok(m) if m.is_dir() => return (None, Err("IsADirectoryError: Is a directory".to_owned())),
        Ok(m) if !m.is_file() => {
            return (
                None,
                Err("OSError: Not a regular file (FIFO, socket or device): not read".to_owned()),
            );
        }
        Ok(m) => m.len(),
        Err(e) => return (None, Err(walk::io_error_text(&e))),
    };
    let first = len.min(FIRST_READ);
    let mut buf = Vec::with_capacity(usize::try_from(first).unwrap_or(0));
    if let Err(e) = (&file).take(first).read_to_end(&mut buf) {
        return (Some(len), Err(walk::io_error_text(&e)));
    }
    drop(file);
    let whole = buf.len() as u64 >= len;
    match parse::parse(Arc::new(buf), opts) {
        // The parse stopped before the end of what was read: the header is complete.
        Ok(p) if whole || p.stopped_early => return (Some(len), Ok(p)),
        // Whether a file is DICOM is decided by its first 132 bytes.
        Err(e @ Error::NotDicom { .. }) => return (Some(len), Err(error_text(&e))),
        Err(e) if whole => return (Some(len), Err(error_text(&e))),
        _ => {}
    }
    // The header runs past the first read: the reader of the core reads on (or maps the file).
    (Some(len), parse::read_path(path, opts).map_err(|e| error_text(&e)))
}

/// Reads one entry: its size and header, or its error (a panic, a bug, is caught and becomes the error).
fn read_entry(entry: &Entry, opts: &ReadOptions) -> FileOutcome {
    if let Some(e) = &entry.error {
        let size = std::fs::symlink_metadata(&entry.path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        return FileOutcome {
            size,
            parsed: Err(e.clone()),
        };
    }
    match catch_unwind(AssertUnwindSafe(|| read_file(&entry.path, opts))) {
        Ok((size, parsed)) => FileOutcome { size, parsed },
        Err(p) => FileOutcome {
            size: None,
            parsed: Err(panic_text(p.as_ref())),
        },
    }
}

/// Finds the element a spec names: the data sets from the innermost outwards, and the element.
fn locate<'a>(pf: &'a ParsedFile, spec: &ColumnSpec) -> Option<(Vec<&'a Dataset>, &'a Element)> {
    let mut ds = if spec.in_meta() { &pf.meta } else { &pf.dataset };
    let mut chain = vec![ds];
    let (last, inner) = spec.path.split_last()?;
    for step in inner {
        let el = ds.get(step.tag)?;
        let Body::Sequence(items) = &el.body else {
            return None;
        };
        ds = &items.get(step.item?)?.dataset;
        chain.push(ds);
    }
    let el = ds.get(last.tag)?;
    chain.reverse();
    Some((chain, el))
}

/// Text of a value as written (padding removed), for `*_raw` columns.
fn raw_text(buf: &[u8], el: &Element) -> Option<String> {
    let b = buf.get(el.value_range())?;
    let s: String = b.iter().map(|&c| char::from(c)).collect();
    let s = s.trim_matches([' ', '\0']);
    (!s.is_empty()).then(|| s.to_owned())
}

/// Decodes the element a spec names and appends it (and its raw text) to the columns.
fn push_value(
    pf: &ParsedFile,
    spec: &ColumnSpec,
    top_charsets: &mut Option<Charsets>,
    col: &mut ColumnData,
    raw: Option<&mut ColumnData>,
) {
    let buf = pf.bytes();
    let Some((chain, el)) = locate(pf, spec) else {
        col.push_null();
        if let Some(r) = raw {
            r.push_null();
        }
        return;
    };
    if let Some(r) = raw {
        match raw_text(buf, el) {
            Some(t) => r.push_cells(&[Cell::Str(&t)]),
            None => r.push_null(),
        }
    }
    let big_endian = !spec.in_meta() && pf.encoding.big_endian;
    if spec.kind == Kind::Bin {
        // Bytes columns hold the value as stored, as pydicom gives OB / OW / UN values.
        match (&el.body, buf.get(el.value_range())) {
            (Body::Sequence(_), _) | (_, None) => col.push_null(),
            (_, Some([])) => col.push_null(),
            (_, Some(b)) => col.push_cells(&[Cell::Bytes(b)]),
        }
        return;
    }
    if !matches!(el.body, Body::Primitive) {
        col.push_null();
        return;
    }
    let vr = match spec.vr {
        Some(v) => v,
        None if el.explicit && el.vr != VR::UN => el.vr,
        None => value::effective_vr(buf, el, &chain, big_endian),
    };
    let needs_charsets = matches!(vr, VR::LO | VR::SH | VR::UC | VR::LT | VR::ST | VR::UT | VR::PN);
    let local;
    let charsets: &Charsets = if !needs_charsets || spec.in_meta() {
        local = Charsets::default();
        &local
    } else if chain.len() == 1 {
        top_charsets.get_or_insert_with(|| value::charsets_for(buf, &chain))
    } else {
        local = value::charsets_for(buf, &chain);
        &local
    };
    let v = value::decode(buf, el, vr, big_endian, charsets);
    push_decoded(col, spec.kind, v, buf);
}

/// Appends a decoded value to a column of `kind`, converting what converts and leaving the rest null.
fn push_decoded(col: &mut ColumnData, kind: Kind, v: Value, buf: &[u8]) {
    let list = matches!(col, ColumnData::List { .. });
    match (kind, v) {
        (_, Value::Empty | Value::EmptyText) => col.push_null(),
        // A value that is only padding is empty, as pydicom gives it ("").
        (Kind::Str, Value::Strs(s) | Value::PersonNames(s)) if s.iter().all(String::is_empty) => col.push_null(),
        (Kind::Str, Value::Strs(s) | Value::PersonNames(s)) => {
            if list || s.len() == 1 {
                let cells: Vec<Cell<'_>> = s.iter().map(|x| Cell::Str(x)).collect();
                col.push_cells(&cells);
            } else {
                // Several values in a single-valued column: kept as written, backslash-separated (PS3.5 §6.4).
                let joined = s.join("\\");
                col.push_cells(&[Cell::Str(&joined)]);
            }
        }
        (Kind::Date, Value::Strs(s)) => {
            let cells: Vec<Cell<'_>> = s
                .iter()
                .map(|x| columns::parse_da(x).map_or(Cell::Null, Cell::Date))
                .collect();
            col.push_cells(&cells);
        }
        (Kind::Int, Value::Is(items)) => {
            let cells: Vec<Cell<'_>> = items
                .iter()
                .map(|i| match i {
                    IsItem::Int(x) => Cell::Int(*x),
                    _ => Cell::Null,
                })
                .collect();
            col.push_cells(&cells);
        }
        (Kind::Int, Value::Ints(x)) => {
            let cells: Vec<Cell<'_>> = x.iter().map(|&v| Cell::Int(v)).collect();
            col.push_cells(&cells);
        }
        (Kind::Int, Value::Tags(x)) => {
            let cells: Vec<Cell<'_>> = x.iter().map(|&v| Cell::Int(i64::from(v))).collect();
            col.push_cells(&cells);
        }
        (Kind::Int, Value::U64s(x)) => {
            let cells: Vec<Cell<'_>> = x
                .iter()
                .map(|&v| i64::try_from(v).map_or(Cell::Null, Cell::Int))
                .collect();
            col.push_cells(&cells);
        }
        (Kind::UInt, Value::U64s(x)) => {
            let cells: Vec<Cell<'_>> = x.iter().map(|&v| Cell::UInt(v)).collect();
            col.push_cells(&cells);
        }
        (Kind::UInt, Value::Ints(x)) => {
            let cells: Vec<Cell<'_>> = x
                .iter()
                .map(|&v| u64::try_from(v).map_or(Cell::Null, Cell::UInt))
                .collect();
            col.push_cells(&cells);
        }
        (Kind::Float, Value::Ds(items)) => {
            let cells: Vec<Cell<'_>> = items
                .iter()
                .map(|n| match n {
                    Number::Num(x) => Cell::Float(*x),
                    Number::Text(_) => Cell::Null,
                })
                .collect();
            col.push_cells(&cells);
        }
        (Kind::Float, Value::Floats(x)) => {
            let cells: Vec<Cell<'_>> = x.iter().map(|&v| Cell::Float(v)).collect();
            col.push_cells(&cells);
        }
        (Kind::Str, Value::Ds(items)) => {
            let texts: Vec<String> = items
                .iter()
                .map(|n| match n {
                    Number::Num(x) => x.to_string(),
                    Number::Text(t) => t.clone(),
                })
                .collect();
            push_decoded(col, kind, Value::Strs(texts), buf);
        }
        (Kind::Str, Value::Is(items)) => {
            let texts: Vec<String> = items
                .iter()
                .map(|n| match n {
                    IsItem::Int(x) => x.to_string(),
                    IsItem::Float(x) => x.to_string(),
                    IsItem::Text(t) => t.clone(),
                })
                .collect();
            push_decoded(col, kind, Value::Strs(texts), buf);
        }
        (Kind::Str, Value::Ints(x)) => {
            push_decoded(col, kind, Value::Strs(x.iter().map(ToString::to_string).collect()), buf);
        }
        (Kind::Str, Value::Floats(x)) => {
            push_decoded(col, kind, Value::Strs(x.iter().map(ToString::to_string).collect()), buf);
        }
        (Kind::Bin, Value::Bytes(r)) => match buf.get(r) {
            Some(b) => col.push_cells(&[Cell::Bytes(b)]),
            None => col.push_null(),
        },
        // A value of another type than the dictionary's (a file that writes another VR): no value.
        _ => col.push_null(),
    }
}

impl Batch {
    /// Appends the row of one file.
    fn push(&mut self, plan: &Plan, entry: &Entry, out: &FileOutcome) {
        let mut cols = self.columns.iter_mut();
        let mut top_charsets: Option<Charsets> = None;
        for slot in &plan.slots {
            let Some(col) = cols.next() else { return };
            match slot {
                Slot::Path => col.data.push_cells(&[Cell::Str(&columns::path_text(&entry.path))]),
                Slot::Size => match out.size.and_then(|s| i64::try_from(s).ok()) {
                    Some(s) => col.data.push_cells(&[Cell::Int(s)]),
                    None => col.data.push_null(),
                },
                Slot::Ok => col.data.push_cells(&[Cell::Bool(out.parsed.is_ok())]),
                Slot::Error => match &out.parsed {
                    Ok(_) => col.data.push_null(),
                    Err(e) => col.data.push_cells(&[Cell::Str(e)]),
                },
                Slot::Tag { spec, raw } => {
                    let raw_col = if *raw { cols.next().map(|c| &mut c.data) } else { None };
                    match &out.parsed {
                        Ok(pf) => push_value(pf, spec, &mut top_charsets, &mut col.data, raw_col),
                        Err(_) => {
                            col.data.push_null();
                            if let Some(r) = raw_col {
                                r.push_null();
                            }
                        }
                    }
                }
            }
        }
        self.rows += 1;
        if out.parsed.is_err() {
            self.errors += 1;
        }
    }

    /// Appends every row of `other` (a batch of the same plan).
    pub fn extend(&mut self, other: Batch) {
        for (a, b) in self.columns.iter_mut().zip(other.columns) {
            a.data.extend(b.data);
        }
        self.rows += other.rows;
        self.errors += other.errors;
    }
}

/// A scan in progress: call [`Scanner::next_chunk`] until it gives `None`.
pub struct Scanner {
    plan: Arc<Plan>,
    source: Source,
    pool: rayon::ThreadPool,
    threads: usize,
    /// The walk has given its last entry.
    done: bool,
    /// Entries walked ahead, for the next chunk.
    ahead: Vec<Entry>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("threads", &self.threads)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    fn build(specs: Vec<ColumnSpec>, source: Source, opts: &ScanOptions) -> Result<Scanner> {
        let threads = opts
            .threads
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("dicomfast-scan-{i}"))
            .build()
            .map_err(|e| Error::Invalid(format!("Cannot start {threads} scan threads: {e}")))?;
        Ok(Scanner {
            plan: Arc::new(Plan::new(specs, opts.keep_raw, opts.force)),
            source,
            pool,
            threads,
            done: false,
            ahead: Vec::new(),
        })
    }

    /// A scan of `paths` (files, or directories to walk).
    ///
    /// # Errors
    /// `Error::Invalid` when the thread pool cannot start.
    pub fn new(paths: Vec<PathBuf>, specs: Vec<ColumnSpec>, opts: &ScanOptions) -> Result<Scanner> {
        let walker = Walker::new(paths, opts.walk.clone());
        Scanner::build(specs, Source::Walk(walker), opts)
    }

    /// A scan of entries already walked (their errors kept), e.g. one partition of a cluster scan.
    ///
    /// # Errors
    /// `Error::Invalid` when the thread pool cannot start.
    pub fn from_entries(entries: Vec<Entry>, specs: Vec<ColumnSpec>, opts: &ScanOptions) -> Result<Scanner> {
        Scanner::build(specs, Source::Entries(entries.into_iter()), opts)
    }

    /// The output columns: `(name, type, list)`.
    #[must_use]
    pub fn schema(&self) -> Vec<(String, Kind, bool)> {
        self.plan.schema()
    }

    /// Number of worker threads.
    #[must_use]
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// An empty batch of this scan's columns.
    #[must_use]
    pub fn empty_batch(&self) -> Batch {
        self.plan.empty_batch()
    }

    /// The rows of the next (at most) `n` files, or `None` when every file has been scanned.
    pub fn next_chunk(&mut self, n: usize) -> Option<Batch> {
        let n = n.max(1);
        if self.done && self.ahead.is_empty() {
            return None;
        }
        // This chunk's entries: those walked ahead during the previous chunk, topped up from the walk.
        let mut entries: Vec<Entry> = if self.ahead.len() > n {
            let rest = self.ahead.split_off(n);
            std::mem::replace(&mut self.ahead, rest)
        } else {
            std::mem::take(&mut self.ahead)
        };
        if entries.len() < n && !self.done {
            let want = n - entries.len();
            entries.extend(self.source.take(want));
            self.done = entries.len() < n;
        }
        if entries.is_empty() {
            return None;
        }
        let plan = Arc::clone(&self.plan);
        // Slices small enough for work stealing to even out slow files, large enough to amortise the joins.
        let piece = (entries.len() / (self.threads * 8)).clamp(16, 1024);
        let Scanner { pool, source, done, .. } = self;
        // The walk of the next chunk runs beside the reads of this one, so it is not a serial step.
        let (parts, ahead): (Vec<Batch>, Vec<Entry>) = pool.install(|| {
            rayon::join(
                || {
                    entries
                        .par_chunks(piece)
                        .map(|slice| {
                            let mut b = plan.empty_batch();
                            for e in slice {
                                let out = read_entry(e, &plan.read);
                                b.push(&plan, e, &out);
                            }
                            b
                        })
                        .collect()
                },
                || if *done { Vec::new() } else { source.take(n) },
            )
        });
        if ahead.len() < n {
            self.done = true;
        }
        self.ahead = ahead;
        let mut parts = parts.into_iter();
        let mut batch = parts.next().unwrap_or_else(|| plan.empty_batch());
        for p in parts {
            batch.extend(p);
        }
        Some(batch)
    }
}

/// Lists the files a scan of `paths` reads, walk errors included, without reading them.
#[must_use]
pub fn list_files(paths: Vec<PathBuf>, opts: WalkOptions) -> Vec<Entry> {
    Walker::new(paths, opts).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_file_whatever_happens() {
        let dir = std::env::temp_dir().join(format!("dicomfast-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("empty.dcm"), b"").expect("write");
        std::fs::write(dir.join("text.dcm"), b"hello, not DICOM at all, but long enough").expect("write");
        let specs = vec![parse_spec("PatientName", None).expect("spec")];
        let opts = ScanOptions {
            threads: Some(2),
            walk: WalkOptions {
                recursive: true,
                ..WalkOptions::default()
            },
            keep_raw: false,
            force: false,
        };
        let mut s = Scanner::new(vec![dir.clone(), dir.join("missing.dcm")], specs, &opts).expect("scanner");
        let b = s.next_chunk(100).expect("a batch");
        assert_eq!((b.rows, b.errors), (3, 3));
        assert!(b.columns.iter().all(|c| c.data.len() == 3));
        assert!(s.next_chunk(100).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
