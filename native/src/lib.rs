//! dicomfast's compiled core: DICOM parsing, values, pixel decoding and scanning, with Python bindings.
//!
//! - [`error`]: the one `Error` enum and `Result`.
//! - [`dictionary`]: `Tag`, `VR`, the generated data dictionary and UID tables.
//! - [`parse`]: byte sources, preamble and file meta, transfer syntaxes, the lazy element index.
//! - [`value`]: typed decoding of a value's bytes (text with character sets, numbers, DS/IS, AT).
//! - [`pixel`]: frame layout, encapsulation, native unpacking and codecs.
//! - [`write`]: the data set encoder (any uncompressed transfer syntax, verbatim copies when unchanged).
//! - [`spare`]: per-thread spares of emptied vectors (read buffers, element lists).
//! - [`team`]: a parallel loop in which the calling thread works too (short multi-frame calls).
//! - `py` (feature `python`): the only module that uses pyo3.

pub mod dictionary;
pub mod error;
pub mod parse;
pub mod pixel;
pub mod scan;
pub mod spare;
pub mod team;
pub mod value;
pub mod write;

#[cfg(feature = "python")]
mod py;

pub use error::{Error, Result};
