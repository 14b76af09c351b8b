//! The directory walk of a scan: every file given or found becomes one [`Entry`], in a stable order.
//!
//! The walk is lazy (an explicit stack of directory listings, each sorted by name), so a ten-million-file
//! archive is walked in memory bounded by its largest directory. Nothing is dropped: a directory that cannot
//! be listed, a broken symbolic link, a directory loop (when links are followed) or a special file (FIFO,
//! socket, device: opening one could block) becomes an entry carrying its error, so the scan gives it a row.

use std::ffi::OsStr;
use std::fs::{self, FileType};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How a walk descends and which file names it keeps.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Descend into sub-directories (the directories given are always listed).
    pub recursive: bool,
    /// Follow symbolic links to directories (links to files are always read); loops are detected.
    pub follow_symlinks: bool,
    /// Keep only the files found in directories whose name matches this glob (`*`, `?`, `[a-z]`, `[!0-9]`);
    /// files named explicitly are always kept.
    pub pattern: Option<Glob>,
}

/// One file to scan, or one thing that could not be walked (with its error).
#[derive(Clone, Debug)]
pub struct Entry {
    /// The path as given or as found under a given directory.
    pub path: PathBuf,
    /// Why the walk could not hand this path to the reader (the row's error), `None` for a file to read.
    pub error: Option<String>,
    /// The directory the file was found in, open, when the walk could keep it open: the reader opens the
    /// file relative to it (`openat`), resolving one path component instead of the whole path.
    pub dir: Option<Arc<DirHandle>>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.path == other.path && self.error == other.error
    }
}

impl Eq for Entry {}

impl Entry {
    /// An entry for `path`, with the error that keeps it from being read, if any.
    #[must_use]
    pub fn new(path: PathBuf, error: Option<String>) -> Entry {
        Entry { path, error, dir: None }
    }

    fn file(path: PathBuf) -> Entry {
        Entry::new(path, None)
    }

    fn failed(path: PathBuf, error: String) -> Entry {
        Entry::new(path, Some(error))
    }
}

/// Directories held open at once by a walk's entries (all walks of the process together): beyond this,
/// files are opened by their whole path, so a scan of many small directories never runs out of descriptors.
const MAX_DIR_HANDLES: usize = 64;

static LIVE_DIR_HANDLES: AtomicUsize = AtomicUsize::new(0);

/// An open directory, shared by the entries of the files listed in it.
#[derive(Debug)]
pub struct DirHandle(fs::File);

impl DirHandle {
    /// Opens `dir` when fewer than [`MAX_DIR_HANDLES`] are open; `None` otherwise or when it cannot be opened.
    fn open(dir: &std::path::Path) -> Option<Arc<DirHandle>> {
        if LIVE_DIR_HANDLES.fetch_add(1, Ordering::Relaxed) >= MAX_DIR_HANDLES {
            LIVE_DIR_HANDLES.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        match fs::File::open(dir) {
            Ok(f) => Some(Arc::new(DirHandle(f))),
            Err(_) => {
                LIVE_DIR_HANDLES.fetch_sub(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// The directory's descriptor.
    #[cfg(unix)]
    #[must_use]
    pub fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }
}

impl Drop for DirHandle {
    fn drop(&mut self) {
        LIVE_DIR_HANDLES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Deepest directory nesting walked: a guard against loops the link check cannot see (bind mounts).
const MAX_WALK_DEPTH: usize = 512;

/// An identity of a directory (device, inode) to detect loops through symbolic links.
type DirId = (u64, u64);

#[cfg(unix)]
fn dir_id(meta: &fs::Metadata) -> Option<DirId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn dir_id(_meta: &fs::Metadata) -> Option<DirId> {
    None
}

/// The name of an I/O error kind as Python names its exception (`FileNotFoundError`, ...).
#[must_use]
pub fn io_error_text(e: &io::Error) -> String {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => "FileNotFoundError",
        io::ErrorKind::PermissionDenied => "PermissionError",
        io::ErrorKind::IsADirectory => "IsADirectoryError",
        io::ErrorKind::NotADirectory => "NotADirectoryError",
        io::ErrorKind::TimedOut => "TimeoutError",
        _ => "OSError",
    };
    format!("{kind}: {e}")
}

/// One directory being listed: its remaining entries (sorted by name) and its identity.
struct Frame {
    entries: std::vec::IntoIter<(PathBuf, Option<FileType>)>,
    id: Option<DirId>,
    /// The directory, opened when its first file is kept (none for a directory of directories).
    handle: std::cell::OnceCell<Option<Arc<DirHandle>>>,
}

/// The lazy walk over the paths given: files as they are, directories listed depth first, by name.
pub struct Walker {
    roots: std::vec::IntoIter<PathBuf>,
    stack: Vec<Frame>,
    opts: WalkOptions,
}

impl Walker {
    /// A walk over `paths` (files or directories), in the order given.
    #[must_use]
    pub fn new(paths: Vec<PathBuf>, opts: WalkOptions) -> Walker {
        Walker {
            roots: paths.into_iter(),
            stack: Vec::new(),
            opts,
        }
    }

    /// Lists `dir` and pushes it on the stack; an entry with the error when it cannot be listed.
    fn push_dir(&mut self, dir: PathBuf, id: Option<DirId>) -> Option<Entry> {
        if self.stack.len() >= MAX_WALK_DEPTH {
            return Some(Entry::failed(
                dir,
                format!("OSError: Directories nested deeper than {MAX_WALK_DEPTH} levels (a file system loop?)"),
            ));
        }
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => return Some(Entry::failed(dir, io_error_text(&e))),
        };
        let mut entries: Vec<(PathBuf, Option<FileType>)> = Vec::new();
        let mut failure = None;
        // Each path is the directory's, a separator and the name, made in one allocation of its final size
        // (`DirEntry::path` copies the directory's path and grows it by the name: a second allocation that
        // cost more than the rest of the walk of the file).
        let prefix = {
            let mut p = dir.as_os_str().to_os_string();
            if !p.is_empty() && !p.as_encoded_bytes().ends_with(b"/") {
                p.push("/");
            }
            p
        };
        for de in rd {
            match de {
                Ok(de) => {
                    let name = de.file_name();
                    let mut path = std::ffi::OsString::with_capacity(prefix.len() + name.len());
                    path.push(&prefix);
                    path.push(&name);
                    entries.push((PathBuf::from(path), de.file_type().ok()));
                }
                Err(e) => {
                    // An entry that cannot be read ends the listing (the OS gives no more): reported once.
                    failure = Some(Entry::failed(dir.clone(), io_error_text(&e)));
                    break;
                }
            }
        }
        // One directory: ordering by name orders the paths. Every path starts with the same prefix, so the
        // names are compared as the bytes after it (cheaper than comparing components).
        let skip = prefix.len();
        entries.sort_unstable_by(|a, b| {
            let (a, b) = (a.0.as_os_str().as_encoded_bytes(), b.0.as_os_str().as_encoded_bytes());
            a.get(skip..).cmp(&b.get(skip..))
        });
        self.stack.push(Frame {
            entries: entries.into_iter(),
            id,
            handle: std::cell::OnceCell::new(),
        });
        failure
    }

    /// Whether a directory with `id` is already being listed (a symbolic link back to an ancestor).
    fn is_ancestor(&self, id: Option<DirId>) -> bool {
        id.is_some() && self.stack.iter().any(|f| f.id == id)
    }

    /// Handles a path given by the caller.
    fn root(&mut self, path: PathBuf) -> Option<Entry> {
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                let id = if self.opts.follow_symlinks { dir_id(&meta) } else { None };
                self.push_dir(path, id)
            }
            Ok(meta) if meta.is_file() => Some(Entry::file(path)),
            Ok(_) => Some(special(path)),
            Err(e) => Some(missing(path, &e)),
        }
    }

    /// Handles an entry found in a directory; `None` when it is skipped (a directory not descended into,
    /// a name the pattern rejects, or a directory pushed on the stack).
    fn found(&mut self, path: PathBuf, ft: Option<FileType>) -> Option<Entry> {
        let ft = match ft {
            Some(ft) => ft,
            // The type was not given by the listing: ask the file system (without following links).
            None => match fs::symlink_metadata(&path) {
                Ok(m) => m.file_type(),
                Err(e) => return Some(Entry::failed(path, io_error_text(&e))),
            },
        };
        if ft.is_dir() {
            if !self.opts.recursive {
                return None;
            }
            let id = if self.opts.follow_symlinks {
                fs::metadata(&path).ok().as_ref().and_then(dir_id)
            } else {
                None
            };
            return self.push_dir(path, id);
        }
        if ft.is_symlink() {
            return match fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    if !(self.opts.recursive && self.opts.follow_symlinks) {
                        return None;
                    }
                    let id = dir_id(&meta);
                    if self.is_ancestor(id) {
                        return Some(Entry::failed(
                            path,
                            "OSError: Directory loop: the symbolic link points to a directory being walked".to_owned(),
                        ));
                    }
                    self.push_dir(path, id)
                }
                Ok(meta) if meta.is_file() => self.keep(path),
                Ok(_) => self.keep(path).map(|e| special(e.path)),
                Err(e) => self.keep(path).map(|entry| missing(entry.path, &e)),
            };
        }
        if ft.is_file() {
            return self.keep(path);
        }
        self.keep(path).map(|e| special(e.path))
    }

    /// The entry of a file found in a directory, when its name matches the pattern.
    fn keep(&self, path: PathBuf) -> Option<Entry> {
        match &self.opts.pattern {
            Some(g) if !g.matches(path.file_name().unwrap_or_default()) => None,
            _ => Some(Entry {
                dir: self
                    .stack
                    .last()
                    .and_then(|f| f.handle.get_or_init(|| path.parent().and_then(DirHandle::open)).clone()),
                ..Entry::file(path)
            }),
        }
    }
}

/// The entry of something that is neither a file nor a directory (opening a FIFO could block for ever).
fn special(path: PathBuf) -> Entry {
    Entry::failed(
        path,
        "OSError: Not a regular file (FIFO, socket or device): not read".to_owned(),
    )
}

/// The entry of a path that cannot be stat'ed: a broken symbolic link says so.
fn missing(path: PathBuf, e: &io::Error) -> Entry {
    if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Entry::failed(
            path,
            "FileNotFoundError: Broken symbolic link (its target does not exist)".to_owned(),
        );
    }
    Entry::failed(path, io_error_text(e))
}

impl Iterator for Walker {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            if let Some(top) = self.stack.last_mut() {
                match top.entries.next() {
                    Some((path, ft)) => {
                        if let Some(e) = self.found(path, ft) {
                            return Some(e);
                        }
                    }
                    None => {
                        self.stack.pop();
                    }
                }
                continue;
            }
            let path = self.roots.next()?;
            if let Some(e) = self.root(path) {
                return Some(e);
            }
        }
    }
}

/// A glob over file names: `*` (any run), `?` (one character), `[abc]`, `[a-z]` and `[!abc]` (classes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob(Vec<Token>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Char(char),
    Any,
    Star,
    Class { negated: bool, ranges: Vec<(char, char)> },
}

impl Glob {
    /// Compiles a pattern; an unclosed `[` is taken literally.
    #[must_use]
    pub fn new(pattern: &str) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            match c {
                '*' => {
                    if out.last() != Some(&Token::Star) {
                        out.push(Token::Star);
                    }
                }
                '?' => out.push(Token::Any),
                '[' => match class(&chars, i) {
                    Some((tok, next)) => {
                        out.push(tok);
                        i = next;
                    }
                    None => out.push(Token::Char('[')),
                },
                c => out.push(Token::Char(c)),
            }
        }
        Glob(out)
    }

    /// Whether a file name matches (names that are not UTF-8 are compared lossily).
    #[must_use]
    pub fn matches(&self, name: &OsStr) -> bool {
        let name: Vec<char> = name.to_string_lossy().chars().collect();
        let toks = &self.0;
        // Iterative matching with one backtrack point at the last star: linear in practice.
        let (mut t, mut n) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            let c = name.get(n).copied().unwrap_or_default();
            match toks.get(t) {
                Some(Token::Star) => {
                    star = Some((t, n));
                    t += 1;
                    continue;
                }
                Some(Token::Any) => {
                    t += 1;
                    n += 1;
                    continue;
                }
                Some(Token::Char(x)) if *x == c => {
                    t += 1;
                    n += 1;
                    continue;
                }
                Some(Token::Class { negated, ranges }) if ranges.iter().any(|&(a, b)| a <= c && c <= b) != *negated => {
                    t += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((st, sn)) => {
                    t = st + 1;
                    n = sn + 1;
                    star = Some((st, sn + 1));
                }
                None => return false,
            }
        }
        toks.get(t..).is_some_and(|rest| rest.iter().all(|k| *k == Token::Star))
    }
}

/// Parses a character class after its `[`; `None` when it is not closed.
fn class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start;
    let negated = matches!(chars.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
            let e = *chars.get(i + 2)?;
            ranges.push((c, e));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        Glob::new(p).matches(OsStr::new(n))
    }

    #[test]
    fn globs() {
        assert!(m("*.dcm", "a.dcm"));
        assert!(!m("*.dcm", "a.dcm.bak"));
        assert!(m("IM?_*", "IM1_0001"));
        assert!(m("[a-c]*", "b.x"));
        assert!(!m("[!a-c]*", "b.x"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYbc"));
        assert!(m("[", "["));
        assert!(m("[]]", "]"));
    }

    /// Entries hold their directory open for `openat`, but never more than MAX_DIR_HANDLES directories at once:
    /// the rest are opened by path, and every file is still read (tests/test_scan.py checks the values).
    #[test]
    fn directory_handles_are_capped() {
        let dir = std::env::temp_dir().join(format!("dicomfast-walk-handles-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let n = MAX_DIR_HANDLES + 36;
        for i in 0..n {
            fs::create_dir_all(dir.join(format!("d{i:03}"))).expect("mkdir");
            fs::write(dir.join(format!("d{i:03}/f.dcm")), b"x").expect("write");
        }
        let opts = WalkOptions {
            recursive: true,
            ..WalkOptions::default()
        };
        let got: Vec<Entry> = Walker::new(vec![dir.clone()], opts).collect();
        assert_eq!(got.len(), n);
        let held = got.iter().filter(|e| e.dir.is_some()).count();
        // (other tests' walks may hold a few handles meanwhile)
        assert!(held > 0 && held <= MAX_DIR_HANDLES, "{held} directories held open");
        assert!(LIVE_DIR_HANDLES.load(Ordering::Relaxed) <= MAX_DIR_HANDLES);
        for e in &got {
            if let Some(d) = &e.dir {
                // The handle is the file's own directory.
                let listed: Vec<_> = fs::read_dir(format!("/proc/self/fd/{}", d.fd()))
                    .expect("list through the handle")
                    .map(|x| x.expect("entry").file_name())
                    .collect();
                assert_eq!(listed, vec![std::ffi::OsString::from("f.dcm")]);
            }
        }
        drop(got);
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn walk_is_sorted_and_keeps_errors() {
        let dir = std::env::temp_dir().join(format!("dicomfast-walk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("b/c")).expect("mkdir");
        fs::write(dir.join("b/c/2.dcm"), b"x").expect("write");
        fs::write(dir.join("a.dcm"), b"x").expect("write");
        fs::write(dir.join("b/1.txt"), b"x").expect("write");
        let missing = dir.join("nope");
        let opts = WalkOptions {
            recursive: true,
            follow_symlinks: false,
            pattern: Some(Glob::new("*.dcm")),
        };
        let got: Vec<Entry> = Walker::new(vec![dir.clone(), missing.clone()], opts).collect();
        let paths: Vec<PathBuf> = got.iter().map(|e| e.path.clone()).collect();
        assert_eq!(paths, vec![dir.join("a.dcm"), dir.join("b/c/2.dcm"), missing]);
        assert!(
            got.last()
                .and_then(|e| e.error.as_deref())
                .is_some_and(|e| e.starts_with("FileNotFoundError"))
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
