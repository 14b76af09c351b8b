//! The one mapping from core errors to Python exceptions (STYLE.md §3).

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyOSError, PyPermissionError, PyTimeoutError};
use pyo3::prelude::*;

use crate::error::Error;

create_exception!(
    dicomfast.errors,
    DicomError,
    PyException,
    "Base class of every error raised for bad DICOM data."
);
create_exception!(
    dicomfast.errors,
    InvalidDicomError,
    DicomError,
    "The data is not DICOM (no 'DICM' prefix); pass force=True to read it anyway."
);
create_exception!(
    dicomfast.errors,
    ParseError,
    DicomError,
    "The data set structure is malformed."
);
create_exception!(
    dicomfast.errors,
    LimitError,
    ParseError,
    "A configured resource limit was exceeded."
);
create_exception!(
    dicomfast.errors,
    DecodeError,
    DicomError,
    "Pixel data could not be decoded."
);
create_exception!(
    dicomfast.errors,
    UnsupportedTransferSyntaxError,
    DecodeError,
    "No decoder or encoder exists for the transfer syntax."
);
create_exception!(
    dicomfast.errors,
    ValueError_,
    DicomError,
    "A value does not fit its VR."
);

/// Converts a core error into the matching Python exception, with `.offset` and `.tag` set where known.
pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let offset = e.offset();
    let tag = e.tag().map(crate::dictionary::Tag::to_u32);
    let msg = e.to_string();
    let err = match e {
        Error::Io(io) => {
            return match io.kind() {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(io.to_string()),
                std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(io.to_string()),
                std::io::ErrorKind::TimedOut => PyTimeoutError::new_err(io.to_string()),
                _ => PyOSError::new_err(io.to_string()),
            };
        }
        Error::NotDicom { .. } => InvalidDicomError::new_err(msg),
        Error::Parse { .. } => ParseError::new_err(msg),
        Error::Limit { .. } => LimitError::new_err(msg),
        Error::Decode { .. } => DecodeError::new_err(msg),
        Error::UnsupportedTransferSyntax { .. } => UnsupportedTransferSyntaxError::new_err(msg),
        Error::Value { .. } | Error::Invalid(_) => ValueError_::new_err(msg),
    };
    let value = err.value(py);
    let _ = value.setattr("offset", offset);
    let _ = value.setattr("tag", tag);
    err
}

/// Registers the exception classes in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DicomError", py.get_type::<DicomError>())?;
    m.add("InvalidDicomError", py.get_type::<InvalidDicomError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("LimitError", py.get_type::<LimitError>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add(
        "UnsupportedTransferSyntaxError",
        py.get_type::<UnsupportedTransferSyntaxError>(),
    )?;
    m.add("InvalidValueError", py.get_type::<ValueError_>())?;
    Ok(())
}
