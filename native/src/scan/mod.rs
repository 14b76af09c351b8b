//! Parallel archive scan: walk directories, read each file's header, and build typed columns.
//!
//! - [`walk`]: the lazy, sorted directory walk (symbolic links, loops, glob patterns, errors as entries).
//! - [`columns`]: column specifications (tags, nested paths, types from the dictionary) and the plain
//!   Arrow-layout buffers they are built in.
//!
//! A [`Scanner`] hands out [`Batch`]es of at most a chunk of files each. One worker of a rayon pool walks,
//! handing each piece of 64 files to the pool as soon as it has walked it; the workers read and parse the
//! pieces (only the bytes before Pixel Data, and only up to the largest tag wanted: usually one read of
//! one page, with the elements not wanted stepped over) and build the columns of each piece; the pieces are
//! joined in walk order, column by column in parallel. Every file gives exactly one row: a file that
//! cannot be read or parsed gets `ok = false` and its `error`, with nulls elsewhere. A panic while reading
//! one file (a bug) is caught and becomes that file's error.

pub mod columns;
pub mod walk;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::dictionary::{Tag, VR};
use crate::error::{Error, Result};
use crate::parse::{self, Body, Bytes, Dataset, Element, ParsedFile, ReadOptions};
use crate::spare;
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
    /// The output columns: `(name, arrow type, list)` (see [`Plan::schema`]), made once.
    columns: Vec<(String, Kind, bool)>,
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
        // The parser keeps (0008,0005) Specific Character Set whatever is asked; naming it here gives it a
        // sorted list it uses as it is, file after file.
        wanted.insert(Tag::SPECIFIC_CHARACTER_SET);
        let read = ReadOptions {
            stop_before_pixels: true,
            specific_tags: Some(wanted.into_iter().collect()),
            force,
            ..ReadOptions::default()
        };
        let columns = Plan::columns(&slots);
        Plan { slots, read, columns }
    }

    /// The output schema: `(name, arrow type, list)` per column.
    fn schema(&self) -> Vec<(String, Kind, bool)> {
        self.columns.clone()
    }

    fn columns(slots: &[Slot]) -> Vec<(String, Kind, bool)> {
        let mut out = Vec::new();
        for s in slots {
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
        self.batch_with_capacity(0)
    }

    /// An empty batch with room for `rows` rows (text columns: for values of a UID's length, about).
    fn batch_with_capacity(&self, rows: usize) -> Batch {
        Batch {
            columns: self
                .columns
                .iter()
                .map(|(name, kind, list)| Column {
                    name: name.clone(),
                    data: ColumnData::with_capacity(*kind, *list, rows, if *kind == Kind::Str { rows * 64 } else { 0 }),
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

/// The first read of a file: one page. The headers of most files reach the tags a scan wants within it
/// (typically before (0028,0030) Pixel Spacing, a few KiB in), and copying less from the page cache is the
/// cheaper read.
const FIRST_READ: usize = 4 * 1024;

/// The most read by growing the first read on the same descriptor; a header larger than this is left to
/// the reader of the core (which maps large files).
const MAX_GROWN_READ: usize = 256 * 1024;

/// Opens a file for reading without blocking on a FIFO that appeared after the walk (`O_NONBLOCK` has no
/// effect on regular files).
fn open(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    o.open(path)
}

/// Opens the file of `entry` as [`open`] does, relative to the directory it was found in when the walk kept
/// that open: `openat` resolves the file name alone, where `open` walks every component of the path again
/// (a quarter of a scan's time in the kernel is spent opening files).
fn open_entry(entry: &Entry) -> std::io::Result<std::fs::File> {
    #[cfg(target_os = "linux")]
    if let Some(dir) = &entry.dir {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        // The walk made the path as the directory's path joined with the name found in it: the name is what
        // follows the last separator (cheaper than taking the path apart into components).
        let bytes = entry.path.as_os_str().as_bytes();
        let name = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
        // NAME_MAX is 255: the name and its NUL fit on the stack.
        let mut c = [0u8; 256];
        if !name.is_empty() && name.len() < c.len() && !contains_byte(name, 0) {
            c[..name.len()].copy_from_slice(name);
            // SAFETY: `c` is NUL-terminated and outlives the call; `dir.fd()` is an open directory held by
            // the entry's Arc for the duration of the call.
            let fd = unsafe {
                libc::openat(
                    dir.fd(),
                    c.as_ptr().cast(),
                    libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `fd` was just opened and is owned by nothing else.
            return Ok(unsafe { std::fs::File::from_raw_fd(fd) });
        }
    }
    open(&entry.path)
}

/// The largest read buffer kept for reuse.
const SPARE_MAX: usize = 64 * 1024;

thread_local! {
    /// Read buffers each worker keeps for its next files: once warm, reading a header allocates no buffer
    /// (an allocation of a page or more is one of the slow paths of the allocator).
    static SPARE_BUFFERS: spare::Spares<u8> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty buffer with room for `n` bytes: a spare one of this thread when there is one.
fn spare_buffer(n: usize) -> Vec<u8> {
    let mut v = spare::take(&SPARE_BUFFERS);
    v.reserve_exact(n);
    v
}

/// The bytes of a read, going back to the spare buffers of the thread that drops them (with the parse
/// that holds them).
struct Pooled(Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        spare::give(&SPARE_BUFFERS, std::mem::take(&mut self.0), SPARE_MAX, 4);
    }
}

/// One positional read of up to `n` bytes of `file` at the offset `buf.len()`, appended to `buf` (into its
/// spare room: nothing is zeroed first); the number of bytes read.
fn pread_into(file: &std::fs::File, buf: &mut Vec<u8>, n: usize) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    buf.reserve_exact(n);
    let at = buf.len();
    let offset = libc::off_t::try_from(at).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    loop {
        let spare = buf.spare_capacity_mut();
        let n = n.min(spare.len());
        // SAFETY: the kernel writes at most `n` bytes at `spare`, which has room for `n`; `file` is open.
        let got = unsafe { libc::pread(file.as_raw_fd(), spare.as_mut_ptr().cast(), n, offset) };
        match usize::try_from(got) {
            Ok(got) => {
                // SAFETY: the first `got` bytes of the spare room were written by the read just made.
                unsafe { buf.set_len(at + got) };
                return Ok(got);
            }
            Err(_) => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Appends up to `n` more bytes of `file` to `buf`, read from the offset `buf.len()` (positional reads: the
/// size may have been taken by seeking to the end); fewer only at the end of the file.
fn read_more(file: &std::fs::File, buf: &mut Vec<u8>, n: usize) -> std::io::Result<()> {
    let end = buf.len() + n;
    while buf.len() < end {
        if pread_into(file, buf, end - buf.len())? == 0 {
            break;
        }
    }
    Ok(())
}

/// The size of a file and its first bytes (up to [`FIRST_READ`]), or the error text (and the size when
/// known).
///
/// A file the walk found in a directory was a regular file then (its type came with the listing), so
/// its size is not asked for with `fstat` (a third of the cost of opening it): the first page is read, and
/// the size is where the end is (`lseek`, one cheap call). Anything else (a file named by the caller, one
/// that cannot be read or sought in, or one whose size and first read disagree, as a device would) is
/// checked with `fstat`, and only a regular file is read.
fn first_read(entry: &Entry, file: &std::fs::File) -> std::result::Result<(u64, Vec<u8>), (Option<u64>, String)> {
    use std::os::fd::AsRawFd;
    if entry.dir.is_some() {
        // One read (a short one is not taken for the end of the file: the size says where that is, and the
        // caller reads on up to it).
        // (A read that fails, as on something the file was replaced by since the walk, a directory or a FIFO,
        // is looked at by the check below, which says what it is.)
        let mut buf = spare_buffer(FIRST_READ);
        if pread_into(file, &mut buf, FIRST_READ).is_ok() {
            // SAFETY: `file` is an open descriptor for the duration of the call; lseek reads no memory.
            let end = unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_END) };
            if let Ok(end) = u64::try_from(end)
                && end >= buf.len() as u64
            {
                return Ok((end, buf));
            }
        }
    }
    let len = match file.metadata() {
        Ok(m) if m.is_dir() => return Err((None, "IsADirectoryError: Is a directory".to_owned())),
        Ok(m) if !m.is_file() => {
            return Err((
                None,
                "OSError: Not a regular file (FIFO, socket or device): not read".to_owned(),
            ));
        }
        Ok(m) => m.len(),
        Err(e) => return Err((None, walk::io_error_text(&e))),
    };
    let want = usize::try_from(len).unwrap_or(usize::MAX).min(FIRST_READ);
    let mut buf = spare_buffer(want);
    match read_more(file, &mut buf, want) {
        Ok(()) => Ok((len, buf)),
        Err(e) => Err((Some(len), walk::io_error_text(&e))),
    }
}

/// Reads the header of a file: one open, one read of the first page (and the size: see [`first_read`]);
/// when the header runs past what was read, more is read from the same descriptor (four times as much each
/// time), and only a header larger than [`MAX_GROWN_READ`] goes to the reader of the core.
fn read_file(entry: &Entry, opts: &ReadOptions) -> (Option<u64>, std::result::Result<ParsedFile, String>) {
    let path = entry.path.as_path();
    let file = match open_entry(entry) {
        Ok(f) => f,
        Err(e) => return (None, Err(walk::io_error_text(&e))),
    };
    let (len, mut buf) = match first_read(entry, &file) {
        Ok(r) => r,
        Err((len, e)) => return (len, Err(e)),
    };
    let size = usize::try_from(len).unwrap_or(usize::MAX);
    let mut want = size.min(FIRST_READ);
    loop {
        // (The first page is in `buf` already; a file that shrank since its size was taken reads short.)
        let more = want.saturating_sub(buf.len());
        if let Err(e) = read_more(&file, &mut buf, more) {
            return (Some(len), Err(walk::io_error_text(&e)));
        }
        // A file that shrank since its size was taken ends here.
        let whole = buf.len() >= size || buf.len() < want;
        let bytes: Bytes = Arc::new(Pooled(std::mem::take(&mut buf)));
        match parse::parse(Arc::clone(&bytes), opts) {
            // The parse stopped before the end of what was read: the header is complete.
            Ok(p) if whole || p.stopped_early => return (Some(len), Ok(p)),
            // Whether a file is DICOM is decided by its first 132 bytes.
            Err(e @ Error::NotDicom { .. }) => return (Some(len), Err(error_text(&e))),
            Err(e) if whole => return (Some(len), Err(error_text(&e))),
            _ => {}
        }
        if want >= MAX_GROWN_READ {
            break;
        }
        // The header runs past what was read: read on from where the descriptor is.
        want = size.min(want * 4);
        buf = spare_buffer(want);
        buf.extend_from_slice((*bytes).as_ref());
    }
    drop(file);
    // A header larger still: the reader of the core reads on (or maps the file).
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
    match catch_unwind(AssertUnwindSafe(|| read_file(entry, opts))) {
        Ok((size, parsed)) => FileOutcome { size, parsed },
        Err(p) => FileOutcome {
            size: None,
            parsed: Err(panic_text(p.as_ref())),
        },
    }
}

/// The data sets around an element, from the innermost outwards.
enum Chain<'a> {
    /// A top-level element (or one of the file meta): its data set alone, with no allocation.
    Top([&'a Dataset; 1]),
    /// An element inside sequence items.
    Nested(Vec<&'a Dataset>),
}

impl<'a> Chain<'a> {
    fn as_slice(&self) -> &[&'a Dataset] {
        match self {
            Chain::Top(one) => one,
            Chain::Nested(v) => v,
        }
    }
}

/// Finds the element a spec names: the data sets from the innermost outwards, and the element.
fn locate<'a>(pf: &'a ParsedFile, spec: &ColumnSpec) -> Option<(Chain<'a>, &'a Element)> {
    let mut ds = if spec.in_meta() { &pf.meta } else { &pf.dataset };
    let (last, inner) = spec.path.split_last()?;
    if inner.is_empty() {
        return Some((Chain::Top([ds]), ds.get(last.tag)?));
    }
    let mut chain = vec![ds];
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
    Some((Chain::Nested(chain), el))
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
    let chain = chain.as_slice();
    let vr = match spec.vr {
        Some(v) => v,
        None if el.explicit && el.vr != VR::UN => el.vr,
        None => value::effective_vr(buf, el, chain, big_endian),
    };
    if push_plain(
        col,
        spec.kind,
        vr,
        buf.get(el.value_range()).unwrap_or_default(),
        big_endian,
    ) {
        return;
    }
    let needs_charsets = matches!(vr, VR::LO | VR::SH | VR::UC | VR::LT | VR::ST | VR::UT | VR::PN);
    let local;
    let charsets: &Charsets = if !needs_charsets || spec.in_meta() {
        local = Charsets::default();
        &local
    } else if chain.len() == 1 {
        top_charsets.get_or_insert_with(|| value::charsets_for(buf, chain))
    } else {
        local = value::charsets_for(buf, chain);
        &local
    };
    let v = value::decode(buf, el, vr, big_endian, charsets);
    push_decoded(col, spec.kind, v, buf);
}

/// Appends the cells of a text value split at backslashes (PS3.5 §6.4) to a column of `kind`, as
/// [`push_decoded`] appends `Value::Strs` of the same parts.
fn push_parts<'a>(col: &mut ColumnData, kind: Kind, text: &'a str, parts: impl Iterator<Item = &'a str> + Clone) {
    match kind {
        // Every part is empty when the text is only separators (a first byte that is not one ends the look).
        Kind::Str if text.bytes().all(|b| b == b'\\') => col.push_null(),
        // One value, or several kept as written (backslash-separated) in a single-valued column.
        Kind::Str if matches!(col, ColumnData::Flat(_)) => col.push_cells(&[Cell::Str(text)]),
        Kind::Str => col.push_iter(parts.map(Cell::Str)),
        Kind::Date => col.push_iter(parts.map(|x| columns::parse_da(x).map_or(Cell::Null, Cell::Date))),
        _ => col.push_null(),
    }
}

/// Eight copies of a byte in a word.
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// The high bit of each byte of `x ^ splat(b)` that is zero (among others: a borrow can also mark a byte above
/// a zero one), and no high bit when no byte of `x` is `b`.
fn zero_bytes(x: u64, b: u8) -> u64 {
    let y = x ^ splat(b);
    y.wrapping_sub(splat(1)) & !y & splat(0x80)
}

/// The words of `bytes`, eight bytes each (the last bytes, fewer than eight, are the iterator's remainder).
fn words(bytes: &[u8]) -> std::slice::ChunksExact<'_, u8> {
    bytes.chunks_exact(8)
}

/// One word of [`words`].
fn word(w: &[u8]) -> u64 {
    u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
}

/// Whether `bytes` holds `b`, eight bytes a step: the values a header scan meets are a few dozen bytes,
/// where the general search's setup costs more than the search.
fn contains_byte(bytes: &[u8], b: u8) -> bool {
    let mut ws = words(bytes);
    if ws.any(|w| zero_bytes(word(w), b) != 0) {
        return true;
    }
    ws.remainder().contains(&b)
}

/// `bytes` as text when they are ASCII without ESC (so every character set reads them as they are,
/// PS3.5 §6.1.2.5), checked in one pass eight bytes a step.
fn ascii_text(bytes: &[u8]) -> Option<&str> {
    let mut ws = words(bytes);
    let bad = ws
        .by_ref()
        .fold(0u64, |bad, w| bad | word(w) | zero_bytes(word(w), 0x1B));
    if bad & splat(0x80) != 0 || ws.remainder().iter().any(|&c| c >= 0x80 || c == 0x1B) {
        return None;
    }
    // SAFETY: every byte is below 0x80 (checked above), and ASCII is valid UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// The common cases of [`push_value`] without building a [`Value`]: binary integers into an int column, and
/// ASCII text (without ESC, so every character set reads it as ASCII, PS3.5 §6.1.2.5) of the VRs a header
/// scan meets most. Gives exactly the cells `value::decode` + [`push_decoded`] give; `false` when the value is
/// not one of these cases (it then takes that path).
fn push_plain(col: &mut ColumnData, kind: Kind, vr: VR, bytes: &[u8], big_endian: bool) -> bool {
    if bytes.is_empty() {
        return false;
    }
    if matches!(vr, VR::US | VR::SS | VR::UL | VR::SL | VR::SV) {
        let size = vr.number_size();
        if kind != Kind::Int || size == 0 || !bytes.len().is_multiple_of(size) {
            return false;
        }
        let cells = bytes.chunks_exact(size).map(|c| {
            macro_rules! int {
                ($t:ty, $n:expr) => {{
                    let a: [u8; $n] = c.try_into().unwrap_or_default();
                    i64::from(if big_endian {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    })
                }};
            }
            Cell::Int(match vr {
                VR::US => int!(u16, 2),
                VR::SS => int!(i16, 2),
                VR::UL => int!(u32, 4),
                VR::SL => int!(i32, 4),
                _ => int!(i64, 8),
            })
        });
        col.push_iter(cells);
        return true;
    }
    // ASCII is UTF-8: one pass over the bytes checks both (ESC, 0x1B, is ASCII too).
    let Some(s) = ascii_text(bytes) else {
        return false;
    };
    match vr {
        VR::AS | VR::CS | VR::DA | VR::DT | VR::TM | VR::UI => {
            let t = s.trim_end_matches([' ', '\0']);
            push_parts(col, kind, t, t.split('\\'));
        }
        VR::LO | VR::SH | VR::UC => {
            if contains_byte(bytes, b'\\') {
                // Each value is trimmed on its own: the joined text differs from the value as written.
                return false;
            }
            let t = s.trim_end_matches(['\0', ' ']);
            push_parts(col, kind, t, std::iter::once(t));
        }
        VR::PN => {
            let end = s.trim_end_matches(['\0', ' ']);
            if kind != Kind::Str {
                col.push_null();
            } else if !contains_byte(end.as_bytes(), b'\\') {
                let t = end.trim_end_matches('=');
                push_parts(col, kind, t, std::iter::once(t));
            } else {
                return false;
            }
        }
        VR::IS if kind == Kind::Int => {
            let t = s.trim_end_matches([' ', '\0']);
            col.push_iter(t.split('\\').map(|x| value::parse_is(x).map_or(Cell::Null, Cell::Int)));
        }
        VR::DS if kind == Kind::Float => {
            let cells = s.trim().split('\\').map(|t| {
                let n = t.trim_matches([' ', '\0']);
                match n.parse::<f64>() {
                    Ok(v) if !n.is_empty() => Cell::Float(v),
                    _ => Cell::Null,
                }
            });
            col.push_iter(cells);
        }
        _ => return false,
    }
    true
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

    /// Reserves room for `more` rows like the ones held (see [`ColumnData::reserve_rows`]).
    pub fn reserve_rows(&mut self, more: usize) {
        for c in &mut self.columns {
            c.data.reserve_rows(more);
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

/// Files read by one task of the pool: small enough that the two (or more) workers stay busy to the end of
/// a chunk, large enough that spawning, the task's own columns and the final join cost little.
const PIECE: usize = 64;

/// A scan in progress: call [`Scanner::next_chunk`] (or [`Scanner::next_parts`] and [`Scanner::concat`])
/// until it gives `None`.
pub struct Scanner {
    plan: Arc<Plan>,
    source: Source,
    pool: rayon::ThreadPool,
    threads: usize,
    /// The walk has given its last entry.
    done: bool,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("threads", &self.threads)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Reads the files of one piece into a batch of their rows.
fn read_piece(plan: &Plan, entries: &[Entry]) -> Batch {
    let mut b = plan.batch_with_capacity(entries.len());
    for e in entries {
        let out = read_entry(e, &plan.read);
        b.push(plan, e, &out);
        if let Ok(pf) = out.parsed {
            parse::recycle(pf.meta, pf.dataset);
        }
    }
    b
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
        let parts = self.next_parts(n)?;
        Some(self.concat(parts))
    }

    /// The rows of the next (at most) `n` files as pieces in walk order (join them with
    /// [`Scanner::concat`]), or `None` when every file has been scanned.
    ///
    /// The walk and the reads overlap: one worker walks, handing each piece of [`PIECE`] files to the pool
    /// as soon as it is walked, and the other workers read them meanwhile; the walker joins them when the
    /// chunk is walked. There is no barrier but the end of the chunk, and no piece is larger than
    /// [`PIECE`] files, so the workers finish within a piece of each other.
    pub fn next_parts(&mut self, n: usize) -> Option<Vec<Batch>> {
        let n = n.max(1);
        if self.done {
            return None;
        }
        let Scanner {
            pool,
            source,
            plan,
            done,
            ..
        } = self;
        let plan: &Plan = plan;
        let out: std::sync::Mutex<Vec<(usize, Batch)>> = std::sync::Mutex::new(Vec::new());
        pool.install(|| {
            rayon::scope(|s| {
                let mut taken = 0;
                let mut index = 0;
                while taken < n {
                    let want = PIECE.min(n - taken);
                    let entries = source.take(want);
                    taken += entries.len();
                    if entries.len() < want {
                        *done = true;
                    }
                    if !entries.is_empty() {
                        let out = &out;
                        s.spawn(move |_| {
                            let b = read_piece(plan, &entries);
                            out.lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push((index, b));
                        });
                        index += 1;
                    }
                    if *done {
                        break;
                    }
                }
            });
        });
        let mut parts = out.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        if parts.is_empty() {
            return None;
        }
        parts.sort_unstable_by_key(|(i, _)| *i);
        Some(parts.into_iter().map(|(_, b)| b).collect())
    }

    /// Joins pieces (of this scan, in order) into one batch, the columns joined in parallel on the pool.
    #[must_use]
    pub fn concat(&self, parts: Vec<Batch>) -> Batch {
        self.concat_onto(None, parts)
    }

    /// Appends pieces (of this scan, in order) to `base` (rows of this scan before them), the columns
    /// joined in parallel on the pool. A batch built chunk by chunk this way frees the pieces of each chunk
    /// before the next is read, so the next chunk's pieces reuse their memory: a batch joined once at its
    /// end holds every piece until then, and the allocator hands the pieces fresh pages, each one a page
    /// fault (a tenth of a scan's time in the kernel went to them).
    #[must_use]
    pub fn concat_onto(&self, base: Option<Batch>, parts: Vec<Batch>) -> Batch {
        let parts: Vec<Batch> = base.into_iter().chain(parts).collect();
        if parts.len() <= 1 {
            return parts.into_iter().next().unwrap_or_else(|| self.plan.empty_batch());
        }
        let rows = parts.iter().map(|b| b.rows).sum();
        let errors = parts.iter().map(|b| b.errors).sum();
        let width = parts.first().map_or(0, |b| b.columns.len());
        // Column-major: for each output column, its pieces in order.
        let mut by_column: Vec<Vec<Column>> = (0..width).map(|_| Vec::with_capacity(parts.len())).collect();
        for b in parts {
            for (slot, c) in by_column.iter_mut().zip(b.columns) {
                slot.push(c);
            }
        }
        let columns = self.pool.install(|| {
            by_column
                .into_par_iter()
                .map(|pieces| {
                    let mut pieces = pieces.into_iter();
                    let mut first = pieces.next().unwrap_or_else(|| Column {
                        name: String::new(),
                        data: ColumnData::new(Kind::Str, false),
                    });
                    let rest: Vec<ColumnData> = pieces.map(|c| c.data).collect();
                    first.data.reserve_for(&rest);
                    for d in rest {
                        first.data.extend(d);
                    }
                    first
                })
                .collect()
        });
        Batch { columns, rows, errors }
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

    /// The column `push_plain` builds for a value, and the one `value::decode` + `push_decoded` build.
    fn both_ways(vr: VR, kind: Kind, list: bool, bytes: &[u8], big_endian: bool) -> Option<(String, String)> {
        let el = Element {
            tag: Tag(0x0011, 0x0011),
            vr,
            explicit: true,
            header_offset: 0,
            value_offset: 0,
            length: u32::try_from(bytes.len()).unwrap_or(0),
            value_len: bytes.len(),
            body: Body::Primitive,
        };
        let mut plain = ColumnData::new(kind, list);
        if !push_plain(&mut plain, kind, vr, bytes, big_endian) {
            return None;
        }
        let mut decoded = ColumnData::new(kind, list);
        let v = value::decode(bytes, &el, vr, big_endian, &Charsets::default());
        push_decoded(&mut decoded, kind, v, bytes);
        Some((format!("{plain:?}"), format!("{decoded:?}")))
    }

    #[test]
    fn plain_values_are_decoded_as_dcmread_decodes_them() {
        let texts: [&[u8]; 14] = [
            b"12",
            b" 12 ",
            b"1.0",
            b"1.5",
            b"x",
            b"  ",
            b"\0\0",
            b"1\\2",
            b"1\\ ",
            b"20240229",
            b"2024.02.29 ",
            b"DOE^JANE^^=",
            b"A \\B ",
            b" -0.5e3\\1e400\\nan ",
        ];
        let text_vrs = [
            VR::AS,
            VR::CS,
            VR::DA,
            VR::DT,
            VR::TM,
            VR::UI,
            VR::LO,
            VR::SH,
            VR::UC,
            VR::PN,
            VR::IS,
            VR::DS,
        ];
        let kinds = [Kind::Str, Kind::Int, Kind::Float, Kind::Date];
        let mut checked = 0;
        for bytes in texts {
            for vr in text_vrs {
                for kind in kinds {
                    for list in [false, true] {
                        if let Some((plain, decoded)) = both_ways(vr, kind, list, bytes, false) {
                            assert_eq!(plain, decoded, "{vr:?} {kind:?} list={list} {bytes:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        for bytes in [
            &[1u8, 0][..],
            &[0xFF, 0xFE],
            &[1, 0, 0, 0, 2, 0, 0, 0],
            &[0x80, 0, 0, 0, 0, 0, 0, 0x80],
        ] {
            for vr in [VR::US, VR::SS, VR::UL, VR::SL, VR::SV] {
                for (list, big_endian) in [(false, false), (true, false), (false, true), (true, true)] {
                    if let Some((plain, decoded)) = both_ways(vr, Kind::Int, list, bytes, big_endian) {
                        assert_eq!(plain, decoded, "{vr:?} list={list} be={big_endian} {bytes:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 300, "{checked}");
        // Text that is not ASCII, or holds ESC, takes the character-set path.
        assert!(both_ways(VR::LO, Kind::Str, false, "É".as_bytes(), false).is_none());
        assert!(both_ways(VR::PN, Kind::Str, false, b"\x1b$B", false).is_none());
    }

    #[test]
    fn word_searches_agree_with_the_byte_ones() {
        // Every length to 40 (whole words and remainders), each byte value at each position.
        let mut checked = 0;
        for len in 0..40usize {
            for at in 0..len.max(1) {
                for v in [0u8, b' ', b'\\', 0x1B, 0x1C, 0x1A, 0x5B, 0x7F, 0x80, 0x9B, 0xDC, 0xFF] {
                    let mut b: Vec<u8> = (0..len).map(|i| b'0' + u8::try_from(i % 10).unwrap_or(0)).collect();
                    if let Some(x) = b.get_mut(at) {
                        *x = v;
                    }
                    for needle in [b'\\', 0x1B, 0] {
                        assert_eq!(contains_byte(&b, needle), b.contains(&needle), "{b:?} {needle}");
                    }
                    let expect = (b.is_ascii() && !b.contains(&0x1B))
                        .then(|| std::str::from_utf8(&b).ok())
                        .flatten();
                    assert_eq!(ascii_text(&b), expect, "{b:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 9000, "{checked}");
    }

    #[test]
    fn walked_files_that_change_before_they_are_read() {
        // The walk lists regular files, which are read without fstat (first_read); one replaced by a
        // directory, a FIFO, a larger or an empty file before it is read still gets its row, its error or its
        // size as it is then, and never blocks.
        let dir = std::env::temp_dir().join(format!("dicomfast-scan-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dicomfast/data/sample_ct.dcm");
        let sample = std::fs::read(sample).expect("sample");
        for name in ["a_dir.dcm", "b_fifo.dcm", "c_grown.dcm", "d_empty.dcm"] {
            std::fs::write(dir.join(name), &sample[..200]).expect("write");
        }
        let walk = WalkOptions {
            recursive: true,
            ..WalkOptions::default()
        };
        let entries: Vec<Entry> = Walker::new(vec![dir.clone()], walk).collect();
        assert_eq!(entries.len(), 4);
        assert!(entries.iter().all(|e| e.error.is_none() && e.dir.is_some()));
        std::fs::remove_file(dir.join("a_dir.dcm")).expect("rm");
        std::fs::create_dir(dir.join("a_dir.dcm")).expect("mkdir");
        std::fs::remove_file(dir.join("b_fifo.dcm")).expect("rm");
        let fifo = std::ffi::CString::new(dir.join("b_fifo.dcm").into_os_string().into_encoded_bytes()).expect("c");
        // SAFETY: a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::fs::write(dir.join("c_grown.dcm"), &sample).expect("write");
        std::fs::write(dir.join("d_empty.dcm"), b"").expect("write");
        let plan = Plan::new(vec![parse_spec("Rows", None).expect("spec")], false, false);
        let out: Vec<FileOutcome> = entries.iter().map(|e| read_entry(e, &plan.read)).collect();
        let err = |o: &FileOutcome| o.parsed.as_ref().err().cloned().unwrap_or_default();
        assert!(err(&out[0]).starts_with("IsADirectoryError"), "{}", err(&out[0]));
        assert!(err(&out[1]).contains("Not a regular file"), "{}", err(&out[1]));
        assert_eq!(out[2].size, Some(sample.len() as u64));
        let grown = out[2].parsed.as_ref().expect("the whole file, read as it is now");
        assert!(grown.dataset.get(Tag(0x0028, 0x0010)).is_some());
        assert_eq!(out[3].size, Some(0));
        assert!(err(&out[3]).starts_with("InvalidDicomError"), "{}", err(&out[3]));
        let _ = std::fs::remove_dir_all(&dir);
    }

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
