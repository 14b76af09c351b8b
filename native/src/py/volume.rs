//! Volume assembly helpers for `dicomfast.volume`: slices rescaled into the volume array without a temporary,
//! with the GIL released (PS3.3 §C.11.1.1.2).

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::errors::to_py;
use crate::pixel::lut::{self, SmallSample};

fn rescale_typed<T: SmallSample + numpy::Element>(
    py: Python<'_>,
    src: &Bound<'_, PyArrayDyn<T>>,
    dst: &Bound<'_, PyArrayDyn<f32>>,
    slope: f32,
    intercept: f32,
) -> PyResult<bool> {
    let src = src.try_readonly()?;
    let mut dst = dst.try_readwrite()?;
    let (Ok(s), Ok(d)) = (src.as_slice(), dst.as_slice_mut()) else {
        return Ok(false); // not C-contiguous: numpy's ufuncs handle strides
    };
    py.detach(|| lut::rescale_to_f32(s, slope, intercept, d))
        .map_err(|e| to_py(py, e))?;
    Ok(true)
}

/// `dst[...] = src * slope + intercept` in float32, exactly as numpy's `multiply` / `add` ufuncs compute it,
/// for 8- and 16-bit integer `src` and a float32 `dst` of the same size. Returns False (and writes nothing)
/// for other dtypes or arrays that are not C-contiguous, so the caller falls back to numpy.
#[pyfunction]
pub fn rescale_into(
    py: Python<'_>,
    src: &Bound<'_, PyAny>,
    dst: &Bound<'_, PyAny>,
    slope: f32,
    intercept: f32,
) -> PyResult<bool> {
    let Ok(dst) = dst.cast::<PyArrayDyn<f32>>() else {
        return Ok(false);
    };
    if let Ok(a) = src.cast::<PyArrayDyn<i16>>() {
        check_size(a.len(), dst.len())?;
        rescale_typed(py, a, dst, slope, intercept)
    } else if let Ok(a) = src.cast::<PyArrayDyn<u16>>() {
        check_size(a.len(), dst.len())?;
        rescale_typed(py, a, dst, slope, intercept)
    } else if let Ok(a) = src.cast::<PyArrayDyn<u8>>() {
        check_size(a.len(), dst.len())?;
        rescale_typed(py, a, dst, slope, intercept)
    } else if let Ok(a) = src.cast::<PyArrayDyn<i8>>() {
        check_size(a.len(), dst.len())?;
        rescale_typed(py, a, dst, slope, intercept)
    } else {
        Ok(false)
    }
}

fn check_size(src: usize, dst: usize) -> PyResult<()> {
    if src == dst {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "rescale_into: the slice holds {src} values, the destination {dst}"
        )))
    }
}
