//! Byte sources: a memory-mapped file, an owned buffer, or bytes borrowed from the caller.
//!
//! Everything the parser indexes is an offset into one contiguous buffer shared through an `Arc`, so
//! values and frames can be views over it without copies.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use crate::Result;

/// A shared, immutable byte buffer (an mmap, a `Vec<u8>`, or a caller's buffer kept alive by the binding).
pub type Bytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Files up to this size are read into memory; larger ones are memory-mapped.
pub const MMAP_THRESHOLD: u64 = 256 * 1024;

/// The first read of a file when only the header is wanted (`stop_before_pixels`).
pub const HEADER_PREFIX: usize = 16 * 1024;

/// A memory map behind `AsRef<[u8]>`.
struct MappedFile(Mmap);

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// An open file that can hand out its whole content or growing prefixes of it.
pub struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    /// Opens `path`.
    ///
    /// # Errors
    /// The I/O error of the open or stat call.
    pub fn open(path: &Path) -> Result<FileSource> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }

    /// The file's size in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole file: read into memory when small, memory-mapped when large.
    ///
    /// # Errors
    /// The I/O error of the read or map.
    pub fn whole(&mut self) -> Result<Bytes> {
        if self.len > MMAP_THRESHOLD {
            // SAFETY: the map is read-only; a file truncated by another process while mapped can raise SIGBUS,
            // the documented hazard of mapping files, accepted as every mmap-based reader does.
            #[allow(unsafe_code)]
            let map = unsafe { Mmap::map(&self.file)? };
            return Ok(Arc::new(MappedFile(map)));
        }
        self.prefix(usize::try_from(self.len).unwrap_or(usize::MAX))
    }

    /// The first `n` bytes (fewer at the end of the file), read into memory.
    ///
    /// # Errors
    /// The I/O error of the read.
    pub fn prefix(&mut self, n: usize) -> Result<Bytes> {
        use std::io::{Seek, SeekFrom};
        let n = n.min(usize::try_from(self.len).unwrap_or(usize::MAX));
        let mut buf = Vec::with_capacity(n);
        self.file.seek(SeekFrom::Start(0))?;
        (&self.file).take(n as u64).read_to_end(&mut buf)?;
        Ok(Arc::new(buf))
    }
}
