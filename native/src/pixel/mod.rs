//! Pixel data: frame layout, encapsulation, native unpacking, colour conversion and codecs.
//!
//! Pure Rust over byte slices (no pyo3): the parser hands over the Pixel Data bytes and the Image Pixel
//! attributes, the Python layer hands over the output buffer.
//!
//! - [`layout`]: [`PixelInfo`] (PS3.3 §C.7.6.3), the output [`Dtype`], frame sizes, validation.
//! - [`encaps`]: Basic / Extended Offset Tables and fragments to frames (PS3.5 §A.4).
//! - [`native`]: uncompressed frames (PS3.5 §8.1.1, §8.2): copies, conversions, zero-copy ranges.
//! - [`colour`]: YBR_FULL / YBR_FULL_422 to RGB as pydicom converts them (PS3.3 §C.7.6.3.1.2).
//! - [`limits`]: how much decoded output the bytes present justify (`dicomfast.set_limits`).
//! - [`lut`]: Modality LUT / rescale and VOI LUT / window as pydicom applies them (PS3.3 §C.11).
//! - [`parallel`]: whether a step may split over rayon threads (not for `threads=1`).
//! - [`codec`]: one module per compressed transfer syntax family and the registry keyed by UID.

pub mod codec;
pub mod colour;
pub mod encaps;
pub mod layout;
pub mod limits;
pub mod lut;
pub mod native;
pub mod parallel;
pub mod upsample;

pub use codec::{DecodeFn, decode_frame, decoder_for, is_encapsulated};
pub use encaps::{Fragment, frame_fragments};
pub use layout::{Dtype, FloatKind, PixelInfo};
pub use native::{decode_native_frame, native_frame_range};
