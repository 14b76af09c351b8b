//! The scan binding: a `Scanner` handing out batches of Arrow buffers, and the walk on its own.
//!
//! Each call to `Scanner.next_batch` works in chunks: the GIL is released for a chunk (walk, reads,
//! parsing and column building on the scan's rayon pool), then `check_signals` runs so Ctrl-C stops the
//! scan between chunks; the pieces of all its chunks are joined once, in parallel, at the end. Buffers move into numpy arrays without a copy; `dicomfast/scan.py` wraps them in
//! `pyarrow.Array.from_buffers`.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use super::errors::to_py;
use crate::scan::{self, Array, Bitmap, ColumnData, ColumnSpec, Entry, Glob, ScanOptions, Values, WalkOptions};

/// A scan in progress.
#[pyclass(name = "Scanner", module = "dicomfast._native", frozen)]
pub struct PyScanner {
    inner: Mutex<scan::Scanner>,
    batch_size: usize,
    chunk_size: usize,
}

fn walk_options(recursive: bool, follow_symlinks: bool, pattern: Option<&str>) -> WalkOptions {
    WalkOptions {
        recursive,
        follow_symlinks,
        pattern: pattern.map(Glob::new),
    }
}

fn specs(py: Python<'_>, tags: Vec<(Option<String>, String)>) -> PyResult<Vec<ColumnSpec>> {
    tags.iter()
        .map(|(name, spec)| scan::parse_spec(spec, name.as_deref()).map_err(|e| to_py(py, e)))
        .collect()
}

/// A validity bitmap as a numpy `uint8` array, or None when every slot is valid.
fn validity<'py>(py: Python<'py>, b: Bitmap) -> Option<Bound<'py, PyAny>> {
    (b.zeros > 0).then(|| b.bytes.into_pyarray(py).into_any())
}

/// `(type, length, null_count, validity, [buffers])` of a flat array.
fn array_to_py<'py>(py: Python<'py>, a: Array) -> PyResult<Bound<'py, PyTuple>> {
    let len = a.validity.len;
    let nulls = a.validity.zeros;
    let kind = a.kind.arrow_name();
    let valid = validity(py, a.validity);
    let bufs: Vec<Bound<'py, PyAny>> = match a.values {
        Values::Var { offsets, data } => vec![offsets.into_pyarray(py).into_any(), data.into_pyarray(py).into_any()],
        Values::Int(v) => vec![v.into_pyarray(py).into_any()],
        Values::UInt(v) => vec![v.into_pyarray(py).into_any()],
        Values::Float(v) => vec![v.into_pyarray(py).into_any()],
        Values::Date(v) => vec![v.into_pyarray(py).into_any()],
        Values::Bool(v) => vec![v.bytes.into_pyarray(py).into_any()],
    };
    (kind, len, nulls, valid, PyList::new(py, bufs)?, py.None()).into_pyobject(py)
}

/// A column as `(type, length, null_count, validity, [buffers], child)`; `child` is the items of a list.
fn column_to_py<'py>(py: Python<'py>, c: ColumnData) -> PyResult<Bound<'py, PyTuple>> {
    match c {
        ColumnData::Flat(a) => array_to_py(py, a),
        ColumnData::List {
            validity: v,
            offsets,
            items,
        } => {
            let len = v.len;
            let nulls = v.zeros;
            let child = array_to_py(py, items)?;
            let bufs = PyList::new(py, [offsets.into_pyarray(py).into_any()])?;
            ("list", len, nulls, validity(py, v), bufs, child).into_pyobject(py)
        }
    }
}

#[pymethods]
impl PyScanner {
    /// A scan of `paths` (walked unless `entries` gives the files and their walk errors).
    #[new]
    #[pyo3(signature = (paths, tags, threads=None, recursive=true, follow_symlinks=false, pattern=None,
                        keep_raw=false, batch_size=65536, chunk_size=4096, entries=None, force=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        tags: Vec<(Option<String>, String)>,
        threads: Option<usize>,
        recursive: bool,
        follow_symlinks: bool,
        pattern: Option<&str>,
        keep_raw: bool,
        batch_size: usize,
        chunk_size: usize,
        entries: Option<Vec<(PathBuf, Option<String>)>>,
        force: bool,
    ) -> PyResult<Self> {
        let specs = specs(py, tags)?;
        let opts = ScanOptions {
            threads,
            walk: walk_options(recursive, follow_symlinks, pattern),
            keep_raw,
            force,
        };
        let scanner = match entries {
            Some(list) => {
                let entries = list.into_iter().map(|(path, error)| Entry::new(path, error)).collect();
                scan::Scanner::from_entries(entries, specs, &opts)
            }
            None => scan::Scanner::new(paths, specs, &opts),
        }
        .map_err(|e| to_py(py, e))?;
        Ok(PyScanner {
            inner: Mutex::new(scanner),
            batch_size: batch_size.max(1),
            chunk_size: chunk_size.max(1),
        })
    }

    /// The output columns as `(name, type, list)`.
    fn schema(&self) -> Vec<(String, &'static str, bool)> {
        let s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        s.schema().into_iter().map(|(n, k, l)| (n, k.arrow_name(), l)).collect()
    }

    /// Number of worker threads.
    #[getter]
    fn threads(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).threads()
    }

    /// The next batch as `(rows, errors, [(name, column)])`, or None at the end. Ctrl-C is honoured between
    /// chunks of `chunk_size` files.
    fn next_batch<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        // The pieces of each chunk are appended to the batch as soon as the chunk is read (see
        // `Scanner::concat_onto`).
        let mut acc: Option<scan::Batch> = None;
        let mut rows = 0;
        while rows < self.batch_size {
            let want = self.chunk_size.min(self.batch_size - rows);
            let (grown, more) = py.detach(|| {
                let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
                match s.next_parts(want) {
                    Some(parts) => {
                        let first = acc.is_none();
                        let mut b = s.concat_onto(acc.take(), parts);
                        // A first chunk that came back full: more are likely to follow, up to the batch's
                        // size. Room for them now (pages are only touched as rows are written) saves the
                        // copies and page faults of growing the columns chunk after chunk.
                        if first && b.rows == want && self.batch_size > b.rows {
                            b.reserve_rows(self.batch_size - b.rows);
                        }
                        (Some(b), true)
                    }
                    None => (acc.take(), false),
                }
            });
            acc = grown;
            py.check_signals()?;
            if !more {
                break;
            }
            rows = acc.as_ref().map_or(0, |b| b.rows);
        }
        let Some(batch) = acc else { return Ok(None) };
        let cols = PyList::empty(py);
        for c in batch.columns {
            cols.append((c.name, column_to_py(py, c.data)?))?;
        }
        Ok(Some((batch.rows, batch.errors, cols).into_pyobject(py)?))
    }

    /// An empty batch of this scan's columns, in the form of `next_batch`.
    fn empty_batch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let batch = self.inner.lock().unwrap_or_else(PoisonError::into_inner).empty_batch();
        let cols = PyList::empty(py);
        for c in batch.columns {
            cols.append((c.name, column_to_py(py, c.data)?))?;
        }
        (0usize, 0usize, cols).into_pyobject(py)
    }
}

/// The files a scan of `paths` reads, as `(path, walk_error)`, walked with the GIL released.
#[pyfunction]
#[pyo3(signature = (paths, recursive=true, follow_symlinks=false, pattern=None))]
pub fn list_files(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    recursive: bool,
    follow_symlinks: bool,
    pattern: Option<&str>,
) -> Vec<(PathBuf, Option<String>)> {
    let opts = walk_options(recursive, follow_symlinks, pattern);
    py.detach(|| scan::list_files(paths, opts))
        .into_iter()
        .map(|e| (e.path, e.error))
        .collect()
}

/// Registers the scan class and functions.
///
/// # Errors
/// When the module cannot take them.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyScanner>()?;
    m.add_function(wrap_pyfunction!(list_files, m)?)?;
    Ok(())
}
