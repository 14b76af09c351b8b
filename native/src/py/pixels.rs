//! Pixel data to numpy: frames decoded in parallel with the GIL released, native frames as zero-copy views.

use std::ffi::CString;
use std::ops::Range;
use std::os::raw::{c_int, c_void};
use std::sync::Arc;

use numpy::{Element as NpElement, IntoPyArray, PyArrayDescr, PyArrayMethods};
use pyo3::exceptions::{PyBufferError, PyIndexError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use super::dataset::PyDataset;
use super::errors::to_py;
use crate::dictionary::Tag;
use crate::error::Error;
use crate::parse::{Body, Dataset, Element, ParsedFile};
use crate::pixel::{self, Dtype, FloatKind, PixelInfo, codec, colour, encaps, layout, limits};
use crate::value::{self, IsItem, Value};

/// A read-only buffer over part of a parsed file (the base of zero-copy numpy views).
#[pyclass(module = "dicomfast._native", frozen)]
pub struct PixelBuffer {
    root: Arc<ParsedFile>,
    range: Range<usize>,
}

#[pymethods]
impl PixelBuffer {
    // SAFETY: the buffer protocol exposes `range` of the parsed file's bytes, which live as long as `root`,
    // which this object owns; the view is read-only (PyBUF_WRITABLE requests are refused).
    #[allow(unsafe_code)]
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("View is null"));
        }
        if (flags & ffi::PyBUF_WRITABLE) == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("Pixel data views are read-only"));
        }
        let this = slf.get();
        let bytes = this.root.bytes().get(this.range.clone()).unwrap_or_default();
        // SAFETY: `view` is a valid pointer supplied by the interpreter; every field is initialised here and
        // `obj` holds a strong reference that keeps `bytes` alive until release.
        unsafe {
            (*view).obj = slf.clone().into_any().into_ptr();
            (*view).buf = bytes.as_ptr().cast::<c_void>().cast_mut();
            (*view).len = isize::try_from(bytes.len()).unwrap_or(isize::MAX);
            (*view).readonly = 1;
            (*view).itemsize = 1;
            (*view).format = if (flags & ffi::PyBUF_FORMAT) == ffi::PyBUF_FORMAT {
                CString::new("B").map_or(std::ptr::null_mut(), CString::into_raw)
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = 1;
            (*view).shape = if (flags & ffi::PyBUF_ND) == ffi::PyBUF_ND {
                &raw mut (*view).len
            } else {
                std::ptr::null_mut()
            };
            (*view).strides = if (flags & ffi::PyBUF_STRIDES) == ffi::PyBUF_STRIDES {
                &raw mut (*view).itemsize
            } else {
                std::ptr::null_mut()
            };
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = std::ptr::null_mut();
        }
        Ok(())
    }

    // SAFETY: frees the format string allocated in `__getbuffer__`.
    #[allow(unsafe_code)]
    unsafe fn __releasebuffer__(&self, view: *mut ffi::Py_buffer) {
        // SAFETY: `format` is null or was made by `CString::into_raw` above.
        unsafe {
            if !(*view).format.is_null() {
                drop(CString::from_raw((*view).format));
            }
        }
    }
}

fn first_int(buf: &[u8], ds: &Dataset, chain: &[&Dataset], tag: Tag, be: bool) -> Option<i64> {
    let el = ds.get(tag)?;
    let vr = value::effective_vr(buf, el, chain, be);
    match value::decode(buf, el, vr, be, &value::charset::Charsets::default()) {
        Value::Ints(v) => v.first().copied(),
        Value::Is(v) => match v.first() {
            Some(IsItem::Int(i)) => Some(*i),
            _ => None,
        },
        _ => None,
    }
}

fn text(buf: &[u8], ds: &Dataset, tag: Tag) -> Option<String> {
    let el = ds.get(tag)?;
    let b = buf.get(el.value_range())?;
    Some(String::from_utf8_lossy(b).trim_matches([' ', '\0']).to_owned())
}

/// The Image Pixel attributes of a data set and its pixel element.
fn pixel_info<'a>(buf: &[u8], chain: &[&'a Dataset], be: bool) -> crate::Result<(PixelInfo, &'a Element)> {
    let ds = chain
        .first()
        .copied()
        .ok_or_else(|| Error::Invalid("no data set".to_owned()))?;
    let (el, float_kind) = if let Some(e) = ds.get(Tag::PIXEL_DATA) {
        (e, FloatKind::None)
    } else if let Some(e) = ds.get(Tag::FLOAT_PIXEL_DATA) {
        (e, FloatKind::Float)
    } else if let Some(e) = ds.get(Tag::DOUBLE_FLOAT_PIXEL_DATA) {
        (e, FloatKind::Double)
    } else {
        return Err(Error::Invalid(
            "The data set has no (7FE0,0010) 'Pixel Data', (7FE0,0008) 'Float Pixel Data' or (7FE0,0009) \
             'Double Float Pixel Data' element"
                .to_owned(),
        ));
    };
    let need = |tag: Tag, name: &str| -> crate::Result<i64> {
        first_int(buf, ds, chain, tag, be)
            .ok_or_else(|| Error::Invalid(format!("The data set has pixel data but no {tag} '{name}' value")))
    };
    let to_u16 = |v: i64, tag: Tag, name: &str| -> crate::Result<u16> {
        u16::try_from(v).map_err(|_| Error::Invalid(format!("The {tag} '{name}' value {v} is out of range")))
    };
    let rows = need(Tag(0x0028, 0x0010), "Rows")?;
    let cols = need(Tag(0x0028, 0x0011), "Columns")?;
    let bits_allocated = match float_kind {
        FloatKind::Float => 32,
        FloatKind::Double => 64,
        FloatKind::None => to_u16(
            need(Tag(0x0028, 0x0100), "Bits Allocated")?,
            Tag(0x0028, 0x0100),
            "Bits Allocated",
        )?,
    };
    let bits_stored = first_int(buf, ds, chain, Tag(0x0028, 0x0101), be)
        .map_or(Ok(bits_allocated), |v| to_u16(v, Tag(0x0028, 0x0101), "Bits Stored"))?;
    let high_bit = first_int(buf, ds, chain, Tag(0x0028, 0x0102), be)
        .map_or(Ok(bits_stored.saturating_sub(1)), |v| {
            to_u16(v, Tag(0x0028, 0x0102), "High Bit")
        })?;
    let frames = first_int(buf, ds, chain, Tag(0x0028, 0x0008), be).unwrap_or(1).max(1);
    let info = PixelInfo {
        rows: u32::try_from(rows).map_err(|_| Error::Invalid(format!("(0028,0010) 'Rows' {rows} is out of range")))?,
        columns: u32::try_from(cols)
            .map_err(|_| Error::Invalid(format!("(0028,0011) 'Columns' {cols} is out of range")))?,
        samples_per_pixel: first_int(buf, ds, chain, Tag(0x0028, 0x0002), be)
            .map_or(Ok(1), |v| to_u16(v, Tag(0x0028, 0x0002), "Samples per Pixel"))?,
        bits_allocated,
        bits_stored,
        high_bit,
        pixel_representation: first_int(buf, ds, chain, Tag(0x0028, 0x0103), be)
            .map_or(Ok(0), |v| to_u16(v, Tag(0x0028, 0x0103), "Pixel Representation"))?,
        planar_configuration: first_int(buf, ds, chain, Tag(0x0028, 0x0006), be)
            .map_or(Ok(0), |v| to_u16(v, Tag(0x0028, 0x0006), "Planar Configuration"))?,
        photometric: text(buf, ds, Tag(0x0028, 0x0004)).unwrap_or_else(|| "MONOCHROME2".to_owned()),
        number_of_frames: u32::try_from(frames)
            .map_err(|_| Error::Invalid(format!("(0028,0008) 'Number of Frames' {frames} is out of range")))?,
        float_kind,
    };
    info.validate()?;
    Ok((info, el))
}

/// Runs `f` over the frames `which` and their `frame_len`-byte slots of `out`: on `threads` threads, the
/// calling thread one of them, when there are several frames and parallel steps are allowed; on this thread
/// otherwise (one frame needs no hand-off to a pool thread; the codec still splits the frame itself where it
/// can).
fn for_each_frame<F>(
    out: &mut [u8],
    frame_len: usize,
    which: &[usize],
    threads: Option<usize>,
    f: F,
) -> crate::Result<()>
where
    F: Fn((&mut [u8], &usize)) -> crate::Result<()> + Sync + Send,
{
    if which.len() > 1 && pixel::parallel::allowed() {
        let slots: Vec<std::sync::Mutex<&mut [u8]>> = out.chunks_mut(frame_len).map(std::sync::Mutex::new).collect();
        super::pool::try_for_each(threads, which.len(), |k| {
            let mut slot = slots[k].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f((&mut slot, &which[k]))
        })?
    } else {
        out.chunks_mut(frame_len).zip(which.iter()).try_for_each(f)
    }
}

/// For each of the `n_frames` frames of the encapsulated Pixel Data fragments `frags` of `ds` (a data set
/// of `root`), the range of them that make it (PS3.5 §A.4: by the Extended Offset Table (7FE0,0001) /
/// (7FE0,0002) of `ds` when present, else the Basic Offset Table, else the codestream markers).
fn fragments_of_frames(
    root: &ParsedFile,
    ds: &Dataset,
    frags: &[encaps::Fragment],
    n_frames: usize,
) -> crate::Result<Vec<Range<usize>>> {
    let buf = root.bytes();
    let value_of = |tag: Tag| ds.get(tag).and_then(|e| buf.get(e.value_range()));
    let (eot, eot_len) = (value_of(Tag(0x7FE0, 0x0001)), value_of(Tag(0x7FE0, 0x0002)));
    encaps::frame_fragments(buf, frags, eot, eot_len, n_frames, &root.encoding.uid)
}

/// The codestreams of `ranges` (all of them, or the one of frame `index`) as Python bytes.
fn codestreams<'py>(
    py: Python<'py>,
    buf: &[u8],
    frags: &[encaps::Fragment],
    ranges: &[Range<usize>],
    index: Option<usize>,
    ts: &str,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let n = ranges.len();
    let which: Vec<usize> = match index {
        Some(i) if i >= n => {
            return Err(PyIndexError::new_err(format!(
                "Frame index {i} is out of range: the pixel data holds {n} frame(s)"
            )));
        }
        Some(i) => vec![i],
        None => (0..n).collect(),
    };
    which
        .into_iter()
        .map(|i| {
            let data = encaps::frame_bytes(buf, frags, ranges[i].clone(), ts, i).map_err(|e| to_py(py, e))?;
            Ok(PyBytes::new(py, &data))
        })
        .collect()
}

/// The codestream of each frame of a data set's encapsulated pixel data (or of frame `index` alone), found
/// as for decoding ([`fragments_of_frames`], (0028,0008) Number of Frames giving the count) and copied out
/// of the file's buffer without decoding: for a decoder of the caller's own (a GPU one, say).
#[pyfunction]
#[pyo3(signature = (ds, index=None))]
pub fn frame_codestreams<'py>(
    py: Python<'py>,
    ds: PyRef<'py, PyDataset>,
    index: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let root = ds.root.clone();
    let chain = ds.chain();
    let be = !ds.meta && root.encoding.big_endian;
    let buf = root.bytes();
    let top = chain
        .first()
        .copied()
        .ok_or_else(|| PyValueError::new_err("no data set"))?;
    let Some(el) = top.get(Tag::PIXEL_DATA) else {
        return Err(PyValueError::new_err(
            "The data set has no (7FE0,0010) 'Pixel Data' element",
        ));
    };
    let Body::Fragments(frags) = &el.body else {
        return Err(PyValueError::new_err(format!(
            "(7FE0,0010) 'Pixel Data' is not encapsulated: the transfer syntax {} stores frames uncompressed",
            root.encoding.uid
        )));
    };
    let n_frames = first_int(buf, top, &chain, Tag(0x0028, 0x0008), be).unwrap_or(1).max(1);
    let n_frames = usize::try_from(n_frames).unwrap_or(usize::MAX);
    let ranges = fragments_of_frames(&root, top, frags, n_frames).map_err(|e| to_py(py, e))?;
    codestreams(py, buf, frags, &ranges, index, &root.encoding.uid)
}

/// The codestream of each frame of an encapsulated Pixel Data value as a data set holds it (`value`: the
/// Basic Offset Table item, then the fragment items, as pydicom's `ds.PixelData` gives it), or of frame
/// `index` alone. `number_of_frames` (0028,0008) is needed only when `value` has several fragments and
/// no offset table; `eot` / `eot_lengths` are the values of (7FE0,0001) / (7FE0,0002) when the data set has
/// them; `ts_uid` says which codestream markers start a frame when only they can tell (PS3.5 §A.4).
#[pyfunction]
#[pyo3(signature = (value, ts_uid, number_of_frames=None, eot=None, eot_lengths=None, index=None))]
pub fn value_codestreams<'py>(
    py: Python<'py>,
    value: &[u8],
    ts_uid: &str,
    number_of_frames: Option<usize>,
    eot: Option<&[u8]>,
    eot_lengths: Option<&[u8]>,
    index: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let items = encaps::split_items(value).map_err(|e| to_py(py, e))?;
    let n_frames = match number_of_frames.or_else(|| encaps::frames_by_tables(&items, eot)) {
        Some(n) if n > 0 => n,
        _ => {
            // pydicom's generate_frames raises ValueError here too: a caller's omission, not bad data.
            return Err(PyValueError::new_err(
                "Unable to determine the frame boundaries of the encapsulated pixel data: it has several \
                 fragments and no Basic or Extended Offset Table; give number_of_frames",
            ));
        }
    };
    let ranges =
        encaps::frame_fragments(value, &items, eot, eot_lengths, n_frames, ts_uid).map_err(|e| to_py(py, e))?;
    codestreams(py, value, &items, &ranges, index, ts_uid)
}

/// Converts 8-bit colour-by-pixel samples in place between RGB and YBR_FULL (PS3.3 §C.7.6.3.1.2): to RGB
/// when `to_rgb`, else from RGB, with the GIL released; the integers pydicom's `convert_color_space` gives.
#[pyfunction]
pub fn convert_colour(py: Python<'_>, mut arr: numpy::PyReadwriteArrayDyn<'_, u8>, to_rgb: bool) -> PyResult<()> {
    let data = arr
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("the array must be C-contiguous"))?;
    py.detach(|| {
        if to_rgb {
            colour::ybr_full_to_rgb_u8(data)
        } else {
            colour::rgb_to_ybr_full_u8(data)
        }
    })
    .map_err(|e| to_py(py, e))
}

/// Decodes frames `which` into `out` (one frame after another), in parallel.
fn decode_into(
    root: &ParsedFile,
    el: &Element,
    info: &PixelInfo,
    which: &[usize],
    raw: bool,
    threads: Option<usize>,
    out: &mut [u8],
) -> crate::Result<()> {
    let buf = root.bytes();
    let ts = root.encoding.uid.as_str();
    let frame_len = info.frame_len_bytes()?;
    let n_frames = info.number_of_frames as usize;
    // (decode_native_frame already clears or sign-extends the unused high bits, as pydicom does)
    let post = |i: usize, frame: &mut [u8], _native: bool, photometric: &str| -> crate::Result<()> {
        if !raw && colour::converts_to_rgb(photometric, info.samples_per_pixel, info.bits_allocated) {
            // Large frames convert in parallel slices (whole pixels each): the conversion is per pixel.
            const SLICE: usize = 3 * 64 * 1024;
            let convert = |part: &mut [u8]| colour::ybr_full_to_rgb_u8(part);
            let r = if frame.len() > 2 * SLICE && frame.len().is_multiple_of(3) && pixel::parallel::allowed() {
                frame.par_chunks_mut(SLICE).try_for_each(convert)
            } else {
                convert(frame)
            };
            r.map_err(|e| match e {
                Error::Invalid(r) => Error::decode(ts, i, r),
                other => other,
            })?;
        }
        Ok(())
    };
    match &el.body {
        Body::Fragments(frags) => {
            let present: usize = frags.iter().map(|f| f.len).sum();
            limits::check_decoded(ts, frame_len.saturating_mul(which.len()), present, true)?;
            if codec::decoder_for(ts).is_none() {
                return Err(Error::UnsupportedTransferSyntax {
                    ts_uid: ts.to_owned(),
                    name: codec::ts_name(ts).to_owned(),
                    reason: "no decoder for this transfer syntax".to_owned(),
                });
            }
            let ranges = fragments_of_frames(root, &root.dataset, frags, n_frames)?;
            let one = |(chunk, &i): (&mut [u8], &usize)| -> crate::Result<()> {
                let r = ranges
                    .get(i)
                    .cloned()
                    .ok_or_else(|| Error::decode(ts, i, format!("Frame {i} has no fragments")))?;
                let data = encaps::frame_bytes(buf, frags, r, ts, i)?;
                // A JPEG codestream may say its colour space differs from the data set's (JFIF, Adobe, 'RGB'
                // component IDs): the components are what the codestream says, as pydicom resolves it.
                let pi = codec::jpeg::jpeg_photometric(ts, &data, info).unwrap_or(info.photometric.as_str());
                // JPEG converts while it decodes (4:4:4 frames in the pass that interleaves the planes).
                let converted = if codec::jpeg::is_jpeg(ts) {
                    let to_rgb = !raw && colour::converts_to_rgb(pi, info.samples_per_pixel, info.bits_allocated);
                    codec::jpeg::decode_jpeg_colour(ts, &data, info, i, chunk, to_rgb)?
                } else {
                    codec::decode_frame(ts, &data, info, i, chunk)?;
                    false
                };
                if converted { Ok(()) } else { post(i, chunk, false, pi) }
            };
            for_each_frame(out, frame_len, which, threads, one)
        }
        Body::Primitive => {
            let data = buf.get(el.value_range()).unwrap_or_default();
            let stored = info.stored_frame_len_bytes()?;
            let need = if info.bits_allocated == 1 {
                (info.stored_frame_bits()?.saturating_mul(n_frames)).div_ceil(8)
            } else {
                stored.saturating_mul(n_frames)
            };
            if data.len() < need {
                return Err(Error::decode(
                    ts,
                    0,
                    format!(
                        "The pixel data holds {} bytes but {n_frames} frame(s) of {} x {} x {} samples at {} bits \
                         need {need}",
                        data.len(),
                        info.rows,
                        info.columns,
                        info.samples_per_pixel,
                        info.bits_allocated
                    ),
                ));
            }
            let be = root.encoding.big_endian && el.vr != crate::dictionary::VR::OB;
            for_each_frame(out, frame_len, which, threads, |(chunk, &i)| {
                pixel::decode_native_frame(data, info, i, be, chunk)?;
                post(i, chunk, true, &info.photometric)
            })
        }
        Body::Sequence(_) => Err(Error::decode(ts, 0, "The pixel data element holds a sequence")),
    }
}

fn dtype_descr<'py>(py: Python<'py>, d: Dtype) -> Bound<'py, PyArrayDescr> {
    match d {
        Dtype::U8 => u8::get_dtype(py),
        Dtype::I8 => i8::get_dtype(py),
        Dtype::U16 => u16::get_dtype(py),
        Dtype::I16 => i16::get_dtype(py),
        Dtype::U32 => u32::get_dtype(py),
        Dtype::I32 => i32::get_dtype(py),
        Dtype::U64 => u64::get_dtype(py),
        Dtype::I64 => i64::get_dtype(py),
        Dtype::F32 => f32::get_dtype(py),
        Dtype::F64 => f64::get_dtype(py),
    }
}

fn shape(info: &PixelInfo, frames: Option<usize>) -> Vec<usize> {
    let (r, c, s) = info.frame_shape();
    let mut out = Vec::with_capacity(4);
    if let Some(n) = frames {
        out.push(n);
    }
    out.extend([r, c]);
    if s > 1 {
        out.push(s);
    }
    out
}

/// A typed buffer of `n` bytes whose memory numpy can take over without a copy.
///
/// `zeroed: false` leaves the memory as malloc gives it (no memset, no fresh page faults: a reused block
/// of a few MB costs more to clear than an RLE or JPEG frame costs to decode); only for outputs the decoders
/// overwrite entirely or fail (every codec either writes the whole frame or returns an error, in which case
/// the array is dropped unseen).
fn typed_vec<'py>(py: Python<'py>, d: Dtype, n_bytes: usize, zeroed: bool) -> (Bound<'py, PyAny>, *mut u8) {
    macro_rules! mk {
        ($t:ty) => {{
            let len = n_bytes / std::mem::size_of::<$t>();
            let arr = if zeroed {
                vec![<$t>::default(); len].into_pyarray(py)
            } else {
                // SAFETY: plain numbers have no invalid bit patterns; the caller writes every element
                // before the array is returned (see above).
                unsafe { numpy::PyArray1::<$t>::new(py, [len], false) }
            };
            // The array was just created: C-contiguous, owned by numpy and not yet shared.
            let ptr = arr.data().cast::<u8>();
            (arr.into_any(), ptr)
        }};
    }
    match d {
        Dtype::U8 => mk!(u8),
        Dtype::I8 => mk!(i8),
        Dtype::U16 => mk!(u16),
        Dtype::I16 => mk!(i16),
        Dtype::U32 => mk!(u32),
        Dtype::I32 => mk!(i32),
        Dtype::U64 => mk!(u64),
        Dtype::I64 => mk!(i64),
        Dtype::F32 => mk!(f32),
        Dtype::F64 => mk!(f64),
    }
}

/// `(rows, columns, samples, frames, bits_allocated, dtype str, photometric, transfer syntax)`.
type Layout = (u32, u32, u16, u32, u16, String, String, String);

/// The pixel layout of a data set (see [`Layout`]).
#[pyfunction]
pub fn pixel_layout(py: Python<'_>, ds: PyRef<'_, PyDataset>) -> PyResult<Layout> {
    let chain = ds.chain();
    let be = !ds.meta && ds.root.encoding.big_endian;
    let (info, _) = pixel_info(ds.root.bytes(), &chain, be).map_err(|e| to_py(py, e))?;
    Ok((
        info.rows,
        info.columns,
        info.samples_per_pixel,
        info.number_of_frames,
        info.bits_allocated,
        dtype_descr(py, info.output_dtype()).str()?.to_string(),
        info.photometric.clone(),
        ds.root.encoding.uid.clone(),
    ))
}

/// Decodes all frames (`index=None`) or one frame of a data set's pixel data into a numpy array.
///
/// Native little-endian frames that need no conversion are returned as read-only views over the file's
/// buffer; everything else is decoded with the GIL released, frames in parallel on `threads` threads.
#[pyfunction]
#[pyo3(signature = (ds, index=None, threads=None, raw=false, copy=false))]
pub fn decode_pixels<'py>(
    py: Python<'py>,
    ds: PyRef<'py, PyDataset>,
    index: Option<usize>,
    threads: Option<usize>,
    raw: bool,
    copy: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let root = ds.root.clone();
    let chain = ds.chain();
    let be = !ds.meta && root.encoding.big_endian;
    let buf = root.bytes();
    let (info, el) = pixel_info(buf, &chain, be).map_err(|e| to_py(py, e))?;
    let n = info.number_of_frames as usize;
    if let Some(i) = index
        && i >= n
    {
        return Err(PyIndexError::new_err(format!(
            "Frame index {i} is out of range: the data set has {n} frame(s)"
        )));
    }
    let which: Vec<usize> = index.map_or_else(|| (0..n).collect(), |i| vec![i]);
    let frames_dim = if index.is_none() && n > 1 { Some(n) } else { None };
    let dtype = info.output_dtype();
    let np = py.import("numpy")?;

    // Zero copy: little-endian native frames with nothing to convert, viewed where they lie.
    if !copy && matches!(el.body, Body::Primitive) && !be {
        let needs_fix = info.has_unused_bits()
            || colour::converts_to_rgb(&info.photometric, info.samples_per_pixel, info.bits_allocated);
        let first = pixel::native_frame_range(el.value_len, &info, which.first().copied().unwrap_or(0))
            .map_err(|e| to_py(py, e))?;
        let last = pixel::native_frame_range(el.value_len, &info, which.last().copied().unwrap_or(0))
            .map_err(|e| to_py(py, e))?;
        let clean = !info.has_unused_bits()
            || first.as_ref().zip(last.as_ref()).is_some_and(|(a, b)| {
                buf.get(el.value_offset + a.start..el.value_offset + b.end)
                    .is_some_and(|f| layout::unused_bits_are_clean(f, dtype, info.bits_stored))
            });
        if let (Some(a), Some(b)) = (first, last)
            && (!needs_fix
                || (clean && !colour::converts_to_rgb(&info.photometric, info.samples_per_pixel, info.bits_allocated)))
        {
            let start = el.value_offset + a.start;
            let end = el.value_offset + b.end;
            if start.is_multiple_of(dtype.itemsize()) {
                let holder = Bound::new(
                    py,
                    PixelBuffer {
                        root: root.clone(),
                        range: start..end,
                    },
                )?;
                let arr = np.call_method1("frombuffer", (holder, dtype_descr(py, dtype)))?;
                return arr.call_method1("reshape", (shape(&info, frames_dim),));
            }
        }
    }

    let frame_len = info.frame_len_bytes().map_err(|e| to_py(py, e))?;
    let total = frame_len
        .checked_mul(which.len())
        .ok_or_else(|| PyValueError::new_err("pixel data size overflows"))?;
    let (present, compressed) = match &el.body {
        Body::Fragments(f) => (f.iter().map(|f| f.len).sum(), true),
        _ => (el.value_len, false),
    };
    limits::check_decoded(&root.encoding.uid, total, present, compressed).map_err(|e| to_py(py, e))?;
    let (arr, ptr) = typed_vec(py, dtype, total, !matches!(el.body, Body::Fragments(_)));
    let ptr_addr = ptr as usize;
    // Small work decodes on this thread: a pool thread's wake-up would cost more than it saves.
    let cost = pixel::parallel::Cost::of(&root.encoding.uid, compressed, info.bits_allocated);
    let threads = if pixel::parallel::worth_splitting(total, cost) {
        threads
    } else {
        Some(1)
    };
    let result = py.detach(|| {
        // SAFETY: `ptr` points to the `total` bytes of the numpy array created above, which nothing else
        // touches until this function returns (the GIL is not needed for the write).
        #[allow(unsafe_code)]
        let out = unsafe { std::slice::from_raw_parts_mut(ptr_addr as *mut u8, total) };
        if which.len() > 1 {
            // Frames spread over the threads, this one among them.
            decode_into(&root, el, &info, &which, raw, threads, out)
        } else {
            // One frame: the codec splits it over the pool's threads where it can.
            super::pool::run(threads, || decode_into(&root, el, &info, &which, raw, threads, out))?
        }
    });
    result.map_err(|e| to_py(py, e))?;
    arr.call_method1("reshape", (shape(&info, frames_dim),))
}

/// Encodes frames (native little-endian, colour-by-pixel, one after another in `data`) with the encoder of
/// `ts_uid`, in parallel with the GIL released; returns one codestream per frame. The lossy settings
/// (`jpeg_quality`, `jpeg_colour`, `jls_near`, at most one of `j2k_ratios` / `j2k_psnr`, `use_mct`) default to
/// quality 90 with RGB coded as YBR_FULL_422, NEAR 2, one layer at 10:1 and JPEG 2000 colour transforms
/// ([`codec::EncodeOptions::default`]).
#[pyfunction]
#[pyo3(signature = (data, rows, columns, samples_per_pixel, bits_allocated, bits_stored, pixel_representation, photometric, frames, ts_uid, threads=None, jpeg_quality=None, jls_near=None, j2k_ratios=None, j2k_psnr=None, jpeg_colour=None, use_mct=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode_frames(
    py: Python<'_>,
    data: pyo3::pybacked::PyBackedBytes,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    photometric: String,
    frames: u32,
    ts_uid: String,
    threads: Option<usize>,
    jpeg_quality: Option<u8>,
    jls_near: Option<u16>,
    j2k_ratios: Option<Vec<f32>>,
    j2k_psnr: Option<Vec<f32>>,
    jpeg_colour: Option<String>,
    use_mct: Option<bool>,
) -> PyResult<Vec<pyo3::Py<pyo3::types::PyBytes>>> {
    let mut opts = codec::EncodeOptions::default();
    if let Some(m) = use_mct {
        opts.j2k_mct = m;
    }
    if let Some(c) = jpeg_colour {
        opts.jpeg_colour = match c.as_str() {
            "RGB" => codec::JpegColour::Rgb,
            "YBR_FULL" => codec::JpegColour::YbrFull,
            "YBR_FULL_422" => codec::JpegColour::YbrFull422,
            other => {
                return Err(to_py(
                    py,
                    Error::Invalid(format!(
                        "JPEG colour {other:?}: it must be YBR_FULL_422, YBR_FULL or RGB (PS3.5 8.2.1)"
                    )),
                ));
            }
        };
    }
    if let Some(q) = jpeg_quality {
        opts.jpeg_quality = q;
    }
    if let Some(n) = jls_near {
        opts.jls_near = n;
    }
    match (j2k_ratios, j2k_psnr) {
        (Some(_), Some(_)) => {
            return Err(to_py(
                py,
                Error::Invalid("JPEG 2000 layers are given by compression ratios or by PSNR, not both".to_owned()),
            ));
        }
        (Some(r), None) => opts.j2k = codec::J2kLayers::Ratios(r),
        (None, Some(p)) => opts.j2k = codec::J2kLayers::Psnr(p),
        (None, None) => {}
    }
    opts.validate().map_err(|e| to_py(py, e))?;
    let info = PixelInfo {
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        high_bit: bits_stored.saturating_sub(1),
        pixel_representation,
        planar_configuration: 0,
        photometric,
        number_of_frames: frames,
        float_kind: FloatKind::None,
    };
    let Some(encode) = codec::encoder_for(&ts_uid) else {
        return Err(to_py(
            py,
            Error::UnsupportedTransferSyntax {
                ts_uid: ts_uid.clone(),
                name: codec::ts_name(&ts_uid).to_owned(),
                reason: "no encoder for this transfer syntax".to_owned(),
            },
        ));
    };
    let result = py.detach(|| -> crate::Result<Vec<Vec<u8>>> {
        info.validate()?;
        let frame_len = info.frame_len_bytes()?;
        let n = frames as usize;
        if data.len() != frame_len.saturating_mul(n) {
            return Err(Error::Invalid(format!(
                "{} bytes of pixel data given for {n} frame(s) of {frame_len} bytes",
                data.len()
            )));
        }
        // Frames are independent codestreams (PS3.5 §A.4: one frame per fragment sequence item), encoded
        // on the threads (this one among them; with one thread, this one alone, and the codecs start no
        // threads of their own) and kept in frame order.
        let slots: Vec<std::sync::OnceLock<Vec<u8>>> = (0..n).map(|_| std::sync::OnceLock::new()).collect();
        super::pool::try_for_each(threads, n, |i| {
            let frame = &data[i * frame_len..(i + 1) * frame_len];
            let _ = slots[i].set(encode(frame, &info, &opts)?);
            Ok::<(), Error>(())
        })??;
        Ok(slots.into_iter().map(|s| s.into_inner().unwrap_or_default()).collect())
    });
    let frames = result.map_err(|e| to_py(py, e))?;
    codestreams_to_bytes(py, &frames, threads)
}

/// One `bytes` object per codestream. The objects are allocated with the GIL held, uninitialised, and
/// filled by the pool with the GIL released: copying every codestream from the calling thread would be
/// the one part of a multi-frame encode that does not run in parallel.
fn codestreams_to_bytes(
    py: Python<'_>,
    frames: &[Vec<u8>],
    threads: Option<usize>,
) -> PyResult<Vec<pyo3::Py<pyo3::types::PyBytes>>> {
    let mut out = Vec::with_capacity(frames.len());
    let mut dst: Vec<usize> = Vec::with_capacity(frames.len());
    for f in frames {
        let len = ffi::Py_ssize_t::try_from(f.len()).map_err(|_| PyValueError::new_err("codestream too large"))?;
        // SAFETY: a null source asks CPython for an uninitialised bytes object of `len` bytes; it is
        // owned here (a new reference) and reachable by nothing else until filled below.
        #[allow(unsafe_code)]
        let obj = unsafe {
            let p = ffi::PyBytes_FromStringAndSize(std::ptr::null(), len);
            Bound::from_owned_ptr_or_err(py, p)?.cast_into_unchecked::<pyo3::types::PyBytes>()
        };
        // SAFETY: `obj` is a bytes object; its buffer of `len` bytes lives as long as `obj`, kept in `out`.
        #[allow(unsafe_code)]
        dst.push(unsafe { ffi::PyBytes_AsString(obj.as_ptr()) } as usize);
        out.push(obj.unbind());
    }
    let fill = |(f, &p): (&Vec<u8>, &usize)| {
        // SAFETY: `p` is the start of a distinct buffer of `f.len()` bytes (allocated above, not yet
        // shared with any Python code), written by this task alone.
        #[allow(unsafe_code)]
        unsafe {
            std::ptr::copy_nonoverlapping(f.as_ptr(), p as *mut u8, f.len());
        }
    };
    if threads == Some(1) || frames.len() < 2 {
        frames.iter().zip(&dst).for_each(fill);
    } else {
        py.detach(|| super::pool::for_each(threads, frames.len(), |i| fill((&frames[i], &dst[i]))))
            .map_err(|e| to_py(py, e))?;
    }
    Ok(out)
}

/// The pixel decoding limits in force: `(max_expansion, unchecked_decoded_bytes)` (see `pixel::limits`).
#[pyfunction]
pub fn get_limits() -> (usize, usize) {
    let l = limits::get();
    (l.max_expansion, l.unchecked_decoded_bytes)
}

/// Sets the pixel decoding limits for the whole process; `None` keeps one as it is.
#[pyfunction]
#[pyo3(signature = (max_expansion=None, unchecked_decoded_bytes=None))]
pub fn set_limits(
    py: Python<'_>,
    max_expansion: Option<usize>,
    unchecked_decoded_bytes: Option<usize>,
) -> PyResult<()> {
    limits::set(max_expansion, unchecked_decoded_bytes).map_err(|e| match e {
        Error::Invalid(m) => PyValueError::new_err(m),
        other => to_py(py, other),
    })
}
