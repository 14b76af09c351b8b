//! The native data set handle: a shared parsed file plus the path to one data set in it.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::errors::to_py;
use crate::dictionary::{Tag, VR};
use crate::parse::{self, Body, Dataset, Element, ParsedFile, ReadOptions};
use crate::value::{self, IsItem, Number, Value, charset::Charsets};
use crate::write;

/// Python callables registered by `dicomfast.dataset` at import: they wrap native handles.
pub struct Factories {
    /// `Dataset._from_native(handle)`.
    pub dataset: Py<PyAny>,
    /// `Sequence(list)`.
    pub sequence: Py<PyAny>,
    /// `PersonName(str)`.
    pub person_name: Py<PyAny>,
}

pub static FACTORIES: PyOnceLock<Factories> = PyOnceLock::new();

/// Registers the wrappers used to build sequences and person names.
#[pyfunction]
pub fn register(py: Python<'_>, dataset: Py<PyAny>, sequence: Py<PyAny>, person_name: Py<PyAny>) {
    let _ = FACTORIES.set(
        py,
        Factories {
            dataset,
            sequence,
            person_name,
        },
    );
}

/// Keeps a caller's `bytes` alive as the buffer of a parsed file.
struct PyBuf(PyBackedBytes);

impl AsRef<[u8]> for PyBuf {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// One data set of a parsed file.
#[pyclass(name = "Dataset", module = "dicomfast._native", frozen)]
pub struct PyDataset {
    pub(crate) root: Arc<ParsedFile>,
    /// `(element index, item index)` steps from the top-level data set.
    pub(crate) path: Vec<(u32, u32)>,
    /// This is the file meta information, not the data set.
    pub(crate) meta: bool,
    charsets: OnceLock<Charsets>,
}

impl PyDataset {
    pub(crate) fn new(root: Arc<ParsedFile>, path: Vec<(u32, u32)>, meta: bool) -> Self {
        PyDataset {
            root,
            path,
            meta,
            charsets: OnceLock::new(),
        }
    }

    /// This data set and its ancestors, innermost first.
    pub(crate) fn chain(&self) -> Vec<&Dataset> {
        let mut out: Vec<&Dataset> = Vec::with_capacity(self.path.len() + 1);
        let mut ds = if self.meta { &self.root.meta } else { &self.root.dataset };
        out.push(ds);
        for &(e, i) in &self.path {
            let next = ds.elements.get(e as usize).and_then(|el| match &el.body {
                Body::Sequence(items) => items.get(i as usize).map(|it| &it.dataset),
                _ => None,
            });
            match next {
                Some(n) => {
                    ds = n;
                    out.push(ds);
                }
                None => break,
            }
        }
        out.reverse();
        out
    }

    pub(crate) fn node(&self) -> &Dataset {
        let mut ds = if self.meta { &self.root.meta } else { &self.root.dataset };
        for &(e, i) in &self.path {
            if let Some(Body::Sequence(items)) = ds.elements.get(e as usize).map(|el| &el.body)
                && let Some(it) = items.get(i as usize)
            {
                ds = &it.dataset;
            }
        }
        ds
    }

    fn big_endian(&self) -> bool {
        !self.meta && self.root.encoding.big_endian
    }

    fn charsets(&self) -> &Charsets {
        self.charsets.get_or_init(|| {
            if self.meta {
                return Charsets::default();
            }
            value::charsets_for(self.root.bytes(), &self.chain())
        })
    }

    fn element(&self, tag: u32) -> PyResult<(usize, &Element)> {
        let ds = self.node();
        let t = Tag::from_u32(tag);
        match ds.position(t) {
            Some(i) => Ok((i, &ds.elements[i])),
            None => Err(PyKeyError::new_err(format!("{t}"))),
        }
    }

    fn vr_of(&self, el: &Element) -> VR {
        if el.explicit && el.vr != VR::UN {
            return el.vr;
        }
        value::effective_vr(self.root.bytes(), el, &self.chain(), self.big_endian())
    }

    fn to_python<'py>(&self, py: Python<'py>, idx: usize, el: &Element) -> PyResult<Bound<'py, PyAny>> {
        self.to_python_as(py, idx, el, self.vr_of(el))
    }

    /// Like `to_python`, with the VR already resolved (so a loop over elements resolves the chain once).
    fn to_python_as<'py>(&self, py: Python<'py>, idx: usize, el: &Element, vr: VR) -> PyResult<Bound<'py, PyAny>> {
        match &el.body {
            Body::Sequence(items) => {
                let f = FACTORIES
                    .get(py)
                    .ok_or_else(|| PyTypeError::new_err("dicomfast.dataset is not imported"))?;
                let list = PyList::empty(py);
                let idx = u32::try_from(idx).unwrap_or(u32::MAX);
                for i in 0..items.len() {
                    let mut path = self.path.clone();
                    path.push((idx, u32::try_from(i).unwrap_or(u32::MAX)));
                    let h = Bound::new(py, PyDataset::new(self.root.clone(), path, self.meta))?;
                    list.append(f.dataset.bind(py).call1((h,))?)?;
                }
                return f.sequence.bind(py).call1((list,));
            }
            Body::Fragments(_) => {
                // Encapsulated data: the raw bytes of the items, as pydicom gives them.
                let b = self.root.bytes().get(el.value_range()).unwrap_or_default();
                return Ok(PyBytes::new(py, b).into_any());
            }
            Body::Primitive => {}
        }
        let buf = self.root.bytes();
        let v = value::decode(buf, el, vr, self.big_endian(), self.charsets());
        value_to_py(py, buf, v)
    }
}

fn one_or_list<'py, T, I>(py: Python<'py>, items: I) -> PyResult<Bound<'py, PyAny>>
where
    T: IntoPyObject<'py>,
    I: ExactSizeIterator<Item = T>,
{
    let mut items = items;
    if items.len() == 1
        && let Some(x) = items.next()
    {
        return x.into_bound_py_any(py);
    }
    Ok(PyList::new(py, items)?.into_any())
}

fn number_to_py<'py, T: IntoPyObject<'py>>(py: Python<'py>, n: Number<T>) -> PyResult<Bound<'py, PyAny>> {
    match n {
        Number::Num(v) => v.into_bound_py_any(py),
        Number::Text(s) => s.into_bound_py_any(py),
    }
}

/// Converts a decoded value to its Python form (pydicom's conventions).
pub fn value_to_py<'py>(py: Python<'py>, buf: &[u8], v: Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Empty => py.None().into_bound(py),
        Value::EmptyText => "".into_bound_py_any(py)?,
        Value::Strs(s) => one_or_list(py, s.into_iter())?,
        Value::PersonNames(names) => {
            let f = FACTORIES
                .get(py)
                .ok_or_else(|| PyTypeError::new_err("dicomfast.dataset is not imported"))?;
            let cls = f.person_name.bind(py);
            let objs = names
                .into_iter()
                .map(|n| cls.call1((n,)))
                .collect::<PyResult<Vec<_>>>()?;
            one_or_list(py, objs.into_iter())?
        }
        Value::Ds(items) => {
            let objs = items
                .into_iter()
                .map(|n| number_to_py(py, n))
                .collect::<PyResult<Vec<_>>>()?;
            one_or_list(py, objs.into_iter())?
        }
        Value::Is(items) => {
            let objs = items
                .into_iter()
                .map(|n| match n {
                    IsItem::Int(v) => v.into_bound_py_any(py),
                    IsItem::Float(v) => v.into_bound_py_any(py),
                    IsItem::Text(v) => v.into_bound_py_any(py),
                })
                .collect::<PyResult<Vec<_>>>()?;
            one_or_list(py, objs.into_iter())?
        }
        Value::Ints(v) => one_or_list(py, v.into_iter())?,
        Value::U64s(v) => one_or_list(py, v.into_iter())?,
        Value::Floats(v) => one_or_list(py, v.into_iter())?,
        Value::Tags(v) => one_or_list(py, v.into_iter())?,
        Value::Bytes(r) => PyBytes::new(py, buf.get(r).unwrap_or_default()).into_any(),
    })
}

#[pymethods]
impl PyDataset {
    /// The tags of this data set, in ascending order.
    fn tags(&self) -> Vec<u32> {
        self.node().elements.iter().map(|e| e.tag.to_u32()).collect()
    }

    /// `(tag, vr)` of every element, in tag order.
    fn elements(&self) -> Vec<(u32, &'static str)> {
        self.node()
            .elements
            .iter()
            .map(|e| (e.tag.to_u32(), self.vr_of(e).as_str()))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.node().elements.len()
    }

    fn __contains__(&self, tag: u32) -> bool {
        self.node().position(Tag::from_u32(tag)).is_some()
    }

    /// The decoded value of `tag` (KeyError when absent).
    fn value<'py>(&self, py: Python<'py>, tag: u32) -> PyResult<Bound<'py, PyAny>> {
        let (i, el) = self.element(tag)?;
        self.to_python(py, i, el)
    }

    /// The decoded value of `tag`, or `default` when the data set has no such element (no exception raised).
    fn get<'py>(&self, py: Python<'py>, tag: u32, default: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.node();
        match ds.position(Tag::from_u32(tag)) {
            Some(i) => self.to_python(py, i, &ds.elements[i]),
            None => Ok(default),
        }
    }

    /// Number of items of a sequence element (0 for other elements).
    fn item_count(&self, tag: u32) -> PyResult<usize> {
        let (_, el) = self.element(tag)?;
        Ok(match &el.body {
            Body::Sequence(items) => items.len(),
            _ => 0,
        })
    }

    /// `(tag, vr, value)` of every element, in tag order (one call for a whole iteration).
    fn all_items<'py>(&self, py: Python<'py>) -> PyResult<Vec<(u32, &'static str, Bound<'py, PyAny>)>> {
        let chain = self.chain();
        let ds = chain.first().copied().unwrap_or_else(|| self.node());
        let buf = self.root.bytes();
        let be = self.big_endian();
        let mut out = Vec::with_capacity(ds.elements.len());
        for (i, el) in ds.elements.iter().enumerate() {
            let vr = if el.explicit && el.vr != VR::UN {
                el.vr
            } else {
                value::effective_vr(buf, el, &chain, be)
            };
            out.push((el.tag.to_u32(), vr.as_str(), self.to_python_as(py, i, el, vr)?));
        }
        Ok(out)
    }

    /// `(vr, value)` of `tag`.
    fn item<'py>(&self, py: Python<'py>, tag: u32) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
        let (i, el) = self.element(tag)?;
        Ok((self.vr_of(el).as_str(), self.to_python(py, i, el)?))
    }

    /// The VR of `tag`.
    fn vr(&self, tag: u32) -> PyResult<&'static str> {
        let (_, el) = self.element(tag)?;
        Ok(self.vr_of(el).as_str())
    }

    /// `(vr, raw value bytes, declared length, value offset, undefined_length)` of `tag`.
    fn raw<'py>(&self, py: Python<'py>, tag: u32) -> PyResult<Bound<'py, PyTuple>> {
        let (_, el) = self.element(tag)?;
        let b = self.root.bytes().get(el.value_range()).unwrap_or_default();
        (
            self.vr_of(el).as_str(),
            PyBytes::new(py, b),
            el.length,
            el.value_offset,
            el.length == parse::UNDEFINED,
        )
            .into_pyobject(py)
    }

    /// Encodes this data set with `overrides` (`{tag: (vr, bytes, undefined_length)}`, values already encoded
    /// in the target byte order) and `deleted` tags, in the given encoding. The GIL is released.
    #[pyo3(signature = (overrides, deleted, explicit, big_endian))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        overrides: std::collections::HashMap<u32, (String, Vec<u8>, bool)>,
        deleted: Vec<u32>,
        explicit: bool,
        big_endian: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut ov = std::collections::BTreeMap::new();
        for t in deleted {
            ov.insert(Tag::from_u32(t), write::Override::Delete);
        }
        for (t, (vr, bytes, undefined)) in overrides {
            let vr = VR::parse(&vr).ok_or_else(|| PyTypeError::new_err(format!("unknown VR {vr:?}")))?;
            ov.insert(Tag::from_u32(t), write::Override::Value { vr, bytes, undefined });
        }
        let chain = self.chain();
        let (ds, ancestors) = chain.split_first().ok_or_else(|| PyTypeError::new_err("no data set"))?;
        let src = write::Source {
            buf: self.root.bytes(),
            syntax: write::Syntax {
                explicit: if self.meta { true } else { self.root.dataset.explicit_vr },
                big_endian: self.big_endian(),
            },
        };
        let dst = write::Syntax { explicit, big_endian };
        let out = py
            .detach(|| {
                let mut out = Vec::with_capacity(self.root.bytes().len());
                write::encode_dataset(&src, ds, ancestors, &ov, dst, &mut out).map(|()| out)
            })
            .map_err(|e| to_py(py, e))?;
        Ok(PyBytes::new(py, &out))
    }

    /// The file meta information data set.
    fn file_meta(&self) -> PyDataset {
        PyDataset::new(self.root.clone(), Vec::new(), true)
    }

    /// Whether the file has file meta information.
    #[getter]
    fn has_meta(&self) -> bool {
        !self.root.meta.elements.is_empty()
    }

    /// The transfer syntax UID the data set was read with.
    #[getter]
    fn transfer_syntax(&self) -> &str {
        &self.root.encoding.uid
    }

    /// Whether this data set is encoded with implicit VR.
    #[getter]
    fn is_implicit_vr(&self) -> bool {
        !self.node().explicit_vr
    }

    /// Whether the data set is little endian.
    #[getter]
    fn is_little_endian(&self) -> bool {
        !self.big_endian()
    }

    /// Faults met while reading leniently: `(tag or None, byte offset or None, message)`.
    fn read_errors(&self) -> Vec<(Option<u32>, Option<u64>, String)> {
        self.root
            .errors
            .iter()
            .map(|e| (e.tag().map(Tag::to_u32), e.offset(), e.to_string()))
            .collect()
    }

    /// Byte offset where the data set starts (after preamble and file meta).
    #[getter]
    fn dataset_offset(&self) -> usize {
        self.root.dataset_offset
    }

    /// Whether the file meta information was encoded with explicit VR (PS3.10 §7.1 requires it).
    #[getter]
    fn meta_explicit(&self) -> bool {
        self.root.meta.explicit_vr
    }

    /// Whether the file has the 128-byte preamble.
    #[getter]
    fn has_preamble(&self) -> bool {
        self.root.has_preamble
    }

    /// The 128-byte preamble, if any.
    fn preamble<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        if self.root.has_preamble {
            self.root.bytes().get(..128).map(|b| PyBytes::new(py, b))
        } else {
            None
        }
    }

    /// Whether reading stopped early (stop_before_pixels / specific_tags).
    #[getter]
    fn stopped_early(&self) -> bool {
        self.root.stopped_early
    }

    /// Nesting depth (0 for the top level).
    #[getter]
    fn depth(&self) -> usize {
        self.path.len()
    }

    /// Byte offsets of the fragments of an encapsulated element: list of `(offset, length)`.
    fn fragments(&self, tag: u32) -> PyResult<Vec<(usize, usize)>> {
        let (_, el) = self.element(tag)?;
        match &el.body {
            Body::Fragments(f) => Ok(f.iter().map(|f| (f.offset, f.len)).collect()),
            _ => Ok(Vec::new()),
        }
    }
}

fn options(
    lenient: bool,
    stop_before_pixels: bool,
    specific_tags: Option<Vec<u32>>,
    force: bool,
    max_depth: Option<usize>,
    max_elements: Option<usize>,
    transfer_syntax: Option<String>,
) -> ReadOptions {
    let mut o = ReadOptions {
        lenient,
        stop_before_pixels,
        transfer_syntax,
        specific_tags: specific_tags.map(|t| t.into_iter().map(Tag::from_u32).collect()),
        force,
        ..ReadOptions::default()
    };
    if let Some(d) = max_depth {
        o.max_depth = d;
    }
    if let Some(n) = max_elements {
        o.max_elements = n;
    }
    o
}

/// Reads a file by path, with the GIL released.
#[pyfunction]
#[pyo3(signature = (path, stop_before_pixels=false, specific_tags=None, force=false, max_depth=None, transfer_syntax=None, lenient=false, max_elements=None))]
#[allow(clippy::too_many_arguments)] // mirrors dcmread's keyword arguments
pub fn read_file(
    py: Python<'_>,
    path: PathBuf,
    stop_before_pixels: bool,
    specific_tags: Option<Vec<u32>>,
    force: bool,
    max_depth: Option<usize>,
    transfer_syntax: Option<String>,
    lenient: bool,
    max_elements: Option<usize>,
) -> PyResult<PyDataset> {
    let opts = options(
        lenient,
        stop_before_pixels,
        specific_tags,
        force,
        max_depth,
        max_elements,
        transfer_syntax,
    );
    let parsed = py.detach(|| parse::read_path(&path, &opts)).map_err(|e| to_py(py, e))?;
    Ok(PyDataset::new(Arc::new(parsed), Vec::new(), false))
}

/// Reads a data set from `bytes` (kept alive, not copied), with the GIL released.
#[pyfunction]
#[pyo3(signature = (data, stop_before_pixels=false, specific_tags=None, force=false, max_depth=None, transfer_syntax=None, lenient=false, max_elements=None))]
#[allow(clippy::too_many_arguments)] // mirrors dcmread's keyword arguments
pub fn read_bytes(
    py: Python<'_>,
    data: PyBackedBytes,
    stop_before_pixels: bool,
    specific_tags: Option<Vec<u32>>,
    force: bool,
    max_depth: Option<usize>,
    transfer_syntax: Option<String>,
    lenient: bool,
    max_elements: Option<usize>,
) -> PyResult<PyDataset> {
    let opts = options(
        lenient,
        stop_before_pixels,
        specific_tags,
        force,
        max_depth,
        max_elements,
        transfer_syntax,
    );
    let buf: parse::Bytes = Arc::new(PyBuf(data));
    let parsed = py.detach(|| parse::parse(buf, &opts)).map_err(|e| to_py(py, e))?;
    Ok(PyDataset::new(Arc::new(parsed), Vec::new(), false))
}
