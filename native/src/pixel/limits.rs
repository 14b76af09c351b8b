//! Process-wide limits on what a pixel decode may allocate, relative to the bytes the file holds.
//!
//! A header can declare any Rows x Columns x Number of Frames; the decoded size it asks for is accepted
//! only when the Pixel Data bytes present can justify it (DESIGN.md: never allocate what the file does not
//! hold). Compressed data may expand by at most [`Limits::max_expansion`] decoded bytes per compressed
//! byte (no DICOM codec comes near 10,000:1 on real images; a blank frame in JPEG 2000 or RLE reaches a few
//! hundred); native data may be at most 64 times shorter than the decoded frames (8-bit output of 1-bit
//! packed data is 8 times its size, and a little slack beyond that is allowed for odd lengths). Any decode
//! of up to [`Limits::unchecked_decoded_bytes`] is allowed whatever the bytes present, so small frames of
//! small files never trip either check. Both are raised with `dicomfast.set_limits(...)`.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Decoded bytes per stored byte that native (uncompressed) data may justify.
const NATIVE_EXPANSION: usize = 64;

static MAX_EXPANSION: AtomicUsize = AtomicUsize::new(10_000);
static UNCHECKED_DECODED_BYTES: AtomicUsize = AtomicUsize::new(64 << 20);

/// The limits in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most decoded bytes accepted per byte of compressed Pixel Data (fragments), default 10,000.
    pub max_expansion: usize,
    /// Decoded sizes up to this many bytes are accepted whatever the bytes present, default 64 MiB.
    pub unchecked_decoded_bytes: usize,
}

/// The limits in force now.
#[must_use]
pub fn get() -> Limits {
    Limits {
        max_expansion: MAX_EXPANSION.load(Ordering::Relaxed),
        unchecked_decoded_bytes: UNCHECKED_DECODED_BYTES.load(Ordering::Relaxed),
    }
}

/// Sets the limits (for every thread of the process); `None` leaves one as it is.
///
/// # Errors
/// `Error::Invalid` when `max_expansion` is 0.
pub fn set(max_expansion: Option<usize>, unchecked_decoded_bytes: Option<usize>) -> Result<()> {
    if max_expansion == Some(0) {
        return Err(Error::Invalid("max_expansion must be at least 1".to_owned()));
    }
    if let Some(n) = max_expansion {
        MAX_EXPANSION.store(n, Ordering::Relaxed);
    }
    if let Some(n) = unchecked_decoded_bytes {
        UNCHECKED_DECODED_BYTES.store(n, Ordering::Relaxed);
    }
    Ok(())
}

/// Checks that `present` bytes of Pixel Data (compressed fragments when `compressed`) justify `decoded`
/// bytes of output for transfer syntax `ts_uid`.
///
/// # Errors
/// `Error::Decode` that names the limit, its value and how to raise it.
pub fn check_decoded(ts_uid: &str, decoded: usize, present: usize, compressed: bool) -> Result<()> {
    let l = get();
    if decoded <= l.unchecked_decoded_bytes {
        return Ok(());
    }
    let per_byte = if compressed { l.max_expansion } else { NATIVE_EXPANSION };
    if decoded <= present.saturating_mul(per_byte) {
        return Ok(());
    }
    let reason = if compressed {
        format!(
            "The header asks for {decoded} decoded bytes from {present} compressed bytes, more than \
             max_expansion ({per_byte} decoded bytes per compressed byte) allows: refused \
             (raise it with dicomfast.set_limits(max_expansion=N))"
        )
    } else {
        format!(
            "The pixel data ({present} bytes) is far shorter than the {decoded} decoded bytes its header \
             declares: refused above unchecked_decoded_bytes ({} bytes; raise it with \
             dicomfast.set_limits(unchecked_decoded_bytes=N))",
            l.unchecked_decoded_bytes
        )
    };
    Err(Error::decode(ts_uid, 0, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_decodes_always_pass_and_large_ones_need_bytes() {
        // The defaults (no test changes them: they are process-wide).
        assert!(check_decoded("1.2.840.10008.1.2.5", 1 << 20, 1, true).is_ok());
        assert!(check_decoded("1.2.840.10008.1.2.5", 100 << 20, 100 << 10, true).is_ok());
        let e = check_decoded("1.2.840.10008.1.2.5", 100 << 20, 10, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_expansion") && e.contains("set_limits"), "{e}");
        let e = check_decoded("1.2.840.10008.1.2.1", 100 << 20, 1000, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unchecked_decoded_bytes"), "{e}");
        assert!(set(Some(0), None).is_err());
    }
}
