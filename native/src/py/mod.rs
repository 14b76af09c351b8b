//! Python bindings: the `dicomfast._native` module. The only module of the crate that uses pyo3.
//!
//! - [`errors`]: the exception hierarchy and the one `Error -> PyErr` mapping.
//! - [`dataset`]: the native data set handle and the read functions.

#![allow(unsafe_code)]

pub mod dataset;
pub mod errors;
pub mod pixels;
pub mod pool;
pub mod scan;
pub mod volume;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The extension's Rust allocations go to mimalloc (per-thread heaps; a block freed by another thread goes
/// back to its heap without a lock). With glibc's malloc the two threads of a scan spent most of their
/// waits on its arena locks (a file's path is made by the thread that walks and freed by the thread that
/// reads it; a piece of rows is made by one thread and joined by another): `perf sched` counted half of
/// their context switches in `__lll_lock_wait_private`. Only the Python module uses it: `cargo test` and the
/// fuzz targets (AddressSanitizer) keep the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::dictionary::{self, Tag};

/// `{keyword: tag}` for every keyword of the dictionary.
#[pyfunction]
fn keyword_dict(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for e in dictionary::generated::ELEMENTS {
        if !e.keyword.is_empty() {
            d.set_item(e.keyword, e.tag)?;
        }
    }
    Ok(d)
}

/// `(vr, vm, name, keyword, retired)` of a tag, or None (repeating groups resolved).
#[pyfunction]
fn dictionary_entry(tag: u32) -> Option<(&'static str, &'static str, &'static str, &'static str, bool)> {
    dictionary::lookup(Tag::from_u32(tag)).map(|e| (e.vr_spec, e.vm, e.name, e.keyword, e.retired))
}

/// `(keyword, name, kind)` of a well-known UID, or None.
#[pyfunction]
fn uid_info(uid: &str) -> Option<(&'static str, &'static str, &'static str)> {
    dictionary::uid(uid).map(|u| (u.keyword, u.name, u.kind))
}

/// Every known UID as `(uid, keyword, name, kind)`.
#[pyfunction]
fn uid_table() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    dictionary::generated::UIDS
        .iter()
        .map(|u| (u.uid, u.keyword, u.name, u.kind))
        .collect()
}

/// Every transfer syntax as `(uid, keyword, explicit_vr, big_endian, deflated, encapsulated)`.
#[pyfunction]
fn transfer_syntax_table() -> Vec<(&'static str, &'static str, bool, bool, bool, bool)> {
    dictionary::generated::TRANSFER_SYNTAXES
        .iter()
        .map(|t| {
            (
                t.uid,
                t.keyword,
                t.explicit_vr,
                t.big_endian,
                t.deflated,
                t.encapsulated,
            )
        })
        .collect()
}

/// Encodes text for a VR kind ("PN", "text" for LO/SH/UC, "long" for LT/ST/UT) in the character sets named by
/// the terms of (0008,0005) Specific Character Set.
#[pyfunction]
fn encode_text(text: &str, terms: Vec<String>, kind: &str) -> PyResult<Vec<u8>> {
    use crate::value::charset::{Charsets, TextKind};
    let kind = match kind {
        "PN" => TextKind::PersonName,
        "long" => TextKind::LongText,
        _ => TextKind::Text,
    };
    Charsets::from_terms(&terms)
        .encode(text, kind)
        .map_err(|e| Python::attach(|py| errors::to_py(py, e)))
}

unsafe extern "C" {
    /// mimalloc's option setter (`mimalloc.h`).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_arena_eager_commit` in mimalloc's `mi_option_e` (the fifth since mimalloc 1.7, in 2 and 3 alike;
/// Cargo.toml pins the crates that vendor it).
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Arenas committed on demand, not all at once: on a Linux with transparent huge pages always on (as
    // here), a committed arena is backed by 2 MiB pages wherever it is touched. A 2-thread scan of 20,000
    // files peaked at 114 MB of RSS with eager commit, 56 MB without (glibc's malloc: 55 MB).
    // SAFETY: a plain setter of an option mimalloc reads when it next reserves an arena.
    unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
    errors::register(m)?;
    scan::register(m)?;
    m.add_class::<dataset::PyDataset>()?;
    m.add_function(wrap_pyfunction!(dataset::read_file, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::read_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::register, m)?)?;
    m.add_class::<pixels::PixelBuffer>()?;
    m.add_function(wrap_pyfunction!(pixels::decode_pixels, m)?)?;
    m.add_function(wrap_pyfunction!(pixels::pixel_layout, m)?)?;
    m.add_function(wrap_pyfunction!(pixels::frame_codestreams, m)?)?;
    m.add_function(wrap_pyfunction!(pixels::convert_colour, m)?)?;
    m.add_function(wrap_pyfunction!(pixels::value_codestreams, m)?)?;
    m.add_function(wrap_pyfunction!(pixels::encode_frames, m)?)?;
    m.add_function(wrap_pyfunction!(pixels::get_limits, m)?)?;
    m.add_function(wrap_pyfunction!(pixels::set_limits, m)?)?;
    m.add_function(wrap_pyfunction!(keyword_dict, m)?)?;
    m.add_function(wrap_pyfunction!(encode_text, m)?)?;
    m.add_function(wrap_pyfunction!(dictionary_entry, m)?)?;
    m.add_function(wrap_pyfunction!(uid_info, m)?)?;
    m.add_function(wrap_pyfunction!(uid_table, m)?)?;
    m.add_function(wrap_pyfunction!(transfer_syntax_table, m)?)?;
    m.add_function(wrap_pyfunction!(volume::rescale_into, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // Which library decodes the codecs that have a build-time choice (see native/libjxl-sys/build.rs).
    let decoders = pyo3::types::PyDict::new(m.py());
    decoders.set_item("JPEG XL", crate::pixel::codec::jxl::decoder_name())?;
    m.add("DECODERS", decoders)?;
    Ok(())
}
