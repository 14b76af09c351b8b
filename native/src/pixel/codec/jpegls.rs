//! JPEG-LS (ISO/IEC 14495-1) through CharLS: Lossless 1.2.840.10008.1.2.4.80 and Near-Lossless .4.81,
//! 2 to 16 bits, 1 to 4 components, all interleave modes.
//!
//! CharLS writes 1 byte per sample up to 8 bits and 2 above, colour-by-plane for interleave mode none and
//! colour-by-pixel otherwise; the output is always colour-by-pixel (pydicom's decoders return JPEG-LS
//! that way whatever Planar Configuration says). JPEG-LS carries no signedness: with Pixel
//! Representation 1, samples are sign-extended from the stream's precision, as pydicom's
//! `_apply_sign_correction` does.

use std::borrow::Cow;
use std::ffi::{CStr, c_void};

use charls_sys as cl;

use super::jpeg::parse_header;
use super::{JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS, check_output, fit_precision, store_samples};
use crate::pixel::layout::PixelInfo;
use crate::{Error, Result};

/// An owned CharLS decoder.
struct Decoder(*mut cl::charls_jpegls_decoder);

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: self.0 came from charls_jpegls_decoder_create and is destroyed once.
        unsafe { cl::charls_jpegls_decoder_destroy(self.0) }
    }
}

/// An owned CharLS encoder.
struct Encoder(*mut cl::charls_jpegls_encoder);

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: self.0 came from charls_jpegls_encoder_create and is destroyed once.
        unsafe { cl::charls_jpegls_encoder_destroy(self.0) }
    }
}

fn message(code: cl::charls_jpegls_errc) -> String {
    // SAFETY: charls_get_error_message returns a static NUL-terminated string for any code.
    unsafe {
        let p = cl::charls_get_error_message(code);
        if p.is_null() {
            format!("CharLS error {code}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// Decodes a JPEG-LS frame into `out`.
pub fn decode_jpegls(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    let ts = if parse_header(src).is_some_and(|h| h.ls_near > 0) {
        JPEG_LS_NEAR_LOSSLESS
    } else {
        JPEG_LS_LOSSLESS
    };
    check_output(ts, frame, info, out)?;
    let fail = |r: String| Error::decode(ts, frame, r);
    let h = parse_header(src)
        .ok_or_else(|| fail("Not a JPEG-LS codestream: no SOI, SOF55 and SOS markers found".to_owned()))?;
    if h.sof != 0xF7 {
        return Err(fail(format!(
            "The codestream's frame marker is FF{:02X}, not JPEG-LS SOF55 (FFF7)",
            h.sof
        )));
    }
    let (rows, cols, spp) = info.frame_shape();
    if usize::from(h.rows) != rows || usize::from(h.columns) != cols || h.component_ids.len() != spp {
        return Err(fail(format!(
            "The JPEG-LS frame is {} x {} x {} but (0028,0010) 'Rows', (0028,0011) 'Columns' and (0028,0002) 'Samples per Pixel' say {rows} x {cols} x {spp}",
            h.rows,
            h.columns,
            h.component_ids.len()
        )));
    }
    let p = h.precision;
    if !(2..=16).contains(&p) || u16::from(p) > info.bits_allocated {
        return Err(fail(format!(
            "The JPEG-LS sample precision {p} does not fit (0028,0100) 'Bits Allocated' {}",
            info.bits_allocated
        )));
    }

    // CharLS keeps decoding a stream that ends without a marker as if zero bits followed, which takes
    // seconds for a small truncated frame; an EOI marker after the data makes it stop at the end.
    let tail = src.get(src.len().saturating_sub(4)..).unwrap_or_default();
    let padded;
    let src: &[u8] = if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        src
    } else {
        padded = [src, &[0xFF, 0xD9]].concat();
        &padded
    };
    let width = if p <= 8 { 1 } else { 2 };
    let n = rows * cols * spp;
    let need = n * width;
    let planar = spp > 1 && h.ls_ilv == 0;
    let dtype = info.output_dtype();
    let direct = !planar && width == dtype.itemsize() && cfg!(target_endian = "little");
    let mut tmp = Vec::new();
    let dst: &mut [u8] = if direct {
        &mut *out
    } else {
        tmp = vec![0u8; need];
        &mut tmp
    };
    if let Err(first) = charls_decode(src, (rows, cols, spp, p), dst) {
        // Some encoders (the DICOM WG04 JLSL samples among them) put 0x00 bytes between the scan data and
        // EOI, which CharLS 2.3+ rejects (team-charls/charls#365); the bytes carry no data, so retry
        // without them.
        let eoi = src.windows(2).rposition(|w| w == [0xFF, 0xD9]).unwrap_or(src.len());
        let body = src.get(..eoi).unwrap_or(src);
        let trimmed = body.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        if trimmed == body.len() {
            return Err(fail(first));
        }
        let retry = [body.get(..trimmed).unwrap_or_default(), &[0xFF, 0xD9]].concat();
        charls_decode(&retry, (rows, cols, spp, p), dst).map_err(|_| fail(first))?;
    }
    if !direct {
        let npix = rows * cols;
        let sample = |i: usize| -> i64 {
            // Output position i (pixel i / spp, component i % spp) from the planar or interleaved source.
            let j = if planar { (i % spp) * npix + i / spp } else { i };
            if width == 1 {
                i64::from(tmp.get(j).copied().unwrap_or(0))
            } else {
                let b = tmp.get(2 * j..2 * j + 2).unwrap_or(&[0, 0]);
                i64::from(u16::from_ne_bytes([b[0], b[1]]))
            }
        };
        store_samples(out, dtype, (0..n).map(sample));
    }
    if info.pixel_representation == 1 {
        fit_precision(out, dtype, u16::from(p));
    }
    Ok(())
}

/// Runs CharLS on `src` into `dst` (exactly the frame's bytes), checking its header against the frame
/// `(rows, columns, samples, precision)` first.
fn charls_decode(src: &[u8], frame: (usize, usize, usize, u8), dst: &mut [u8]) -> std::result::Result<(), String> {
    let (rows, cols, spp, p) = frame;
    let need = dst.len();
    // SAFETY: charls_jpegls_decoder_create has no preconditions; NULL is checked.
    let dec = Decoder(unsafe { cl::charls_jpegls_decoder_create() });
    if dec.0.is_null() {
        return Err("CharLS could not create a decoder".to_owned());
    }
    // SAFETY: dec.0 is live; `src` outlives every call below that reads it.
    let rc = unsafe { cl::charls_jpegls_decoder_set_source_buffer(dec.0, src.as_ptr().cast::<c_void>(), src.len()) };
    if rc != 0 {
        return Err(message(rc));
    }
    // SAFETY: dec.0 is live with a source set.
    let rc = unsafe { cl::charls_jpegls_decoder_read_header(dec.0) };
    if rc != 0 {
        return Err(format!("Invalid JPEG-LS header: {}", message(rc)));
    }
    let mut fi = cl::charls_frame_info {
        width: 0,
        height: 0,
        bits_per_sample: 0,
        component_count: 0,
    };
    // SAFETY: dec.0 is live and has read the header; `fi` is a valid out-pointer.
    let rc = unsafe { cl::charls_jpegls_decoder_get_frame_info(dec.0, &mut fi) };
    if rc != 0 {
        return Err(message(rc));
    }
    if fi.width as usize != cols
        || fi.height as usize != rows
        || usize::try_from(fi.component_count).ok() != Some(spp)
        || fi.bits_per_sample != i32::from(p)
    {
        return Err(format!(
            "CharLS reads the frame as {} x {} x {} at {} bits, expected {cols} x {rows} x {spp} at {p} bits",
            fi.width, fi.height, fi.component_count, fi.bits_per_sample
        ));
    }
    let mut size = 0usize;
    // SAFETY: dec.0 is live; `size` is a valid out-pointer.
    let rc = unsafe { cl::charls_jpegls_decoder_get_destination_size(dec.0, 0, &mut size) };
    if rc != 0 || size != need {
        return Err(format!(
            "CharLS needs {size} bytes for a frame of {need} bytes ({})",
            message(rc)
        ));
    }
    // SAFETY: `dst` holds exactly `need` bytes, the size CharLS computed for this header (checked);
    // stride 0 means tightly packed.
    let rc = unsafe { cl::charls_jpegls_decoder_decode_to_buffer(dec.0, dst.as_mut_ptr().cast::<c_void>(), need, 0) };
    if rc != 0 {
        return Err(format!("CharLS: {}", message(rc)));
    }
    Ok(())
}

/// Encodes one frame (colour-by-pixel, little endian) as JPEG-LS with the given NEAR (0 = lossless),
/// sample-interleaved for colour.
pub fn encode_jpegls(src: &[u8], info: &PixelInfo, near: i32) -> Result<Vec<u8>> {
    check_output(JPEG_LS_LOSSLESS, 0, info, src).map_err(|e| Error::Invalid(e.to_string()))?;
    let spp = usize::from(info.samples_per_pixel);
    let bits = info.bits_stored;
    if !(2..=16).contains(&bits) || info.bits_allocated > 16 {
        return Err(Error::Invalid(format!(
            "JPEG-LS needs (0028,0101) 'Bits Stored' 2 to 16, not {bits}"
        )));
    }
    let bad = |rc: cl::charls_jpegls_errc| Error::Invalid(format!("CharLS: {}", message(rc)));
    let input = charls_input(src, info.bits_allocated, bits);
    // SAFETY: no preconditions; NULL is checked.
    let enc = Encoder(unsafe { cl::charls_jpegls_encoder_create() });
    if enc.0.is_null() {
        return Err(Error::Invalid("CharLS could not create an encoder".to_owned()));
    }
    let fi = cl::charls_frame_info {
        width: info.columns,
        height: info.rows,
        bits_per_sample: i32::from(bits),
        component_count: i32::from(info.samples_per_pixel),
    };
    // SAFETY: enc.0 is live; `fi` is read during the call only.
    let rc = unsafe { cl::charls_jpegls_encoder_set_frame_info(enc.0, &fi) };
    if rc != 0 {
        return Err(bad(rc));
    }
    // SAFETY: enc.0 is live.
    let rc = unsafe { cl::charls_jpegls_encoder_set_near_lossless(enc.0, near) };
    if rc != 0 {
        return Err(bad(rc));
    }
    if spp > 1 {
        // SAFETY: enc.0 is live.
        let rc = unsafe { cl::charls_jpegls_encoder_set_interleave_mode(enc.0, cl::charls_interleave_mode_sample) };
        if rc != 0 {
            return Err(bad(rc));
        }
    }
    let mut size = 0usize;
    // SAFETY: enc.0 is live; `size` is a valid out-pointer.
    let rc = unsafe { cl::charls_jpegls_encoder_get_estimated_destination_size(enc.0, &mut size) };
    if rc != 0 {
        return Err(bad(rc));
    }
    // The estimate is about the raw frame's size; it is not zeroed first (CharLS writes the bytes it
    // reports, and only those are kept).
    let mut dst: Vec<u8> = Vec::with_capacity(size);
    // SAFETY: `dst` has room for `size` bytes for the encoder's lifetime; CharLS only writes there.
    let rc =
        unsafe { cl::charls_jpegls_encoder_set_destination_buffer(enc.0, dst.as_mut_ptr().cast::<c_void>(), size) };
    if rc != 0 {
        return Err(bad(rc));
    }
    // SAFETY: `input` holds width x height x components samples of the width CharLS expects; stride 0.
    let rc =
        unsafe { cl::charls_jpegls_encoder_encode_from_buffer(enc.0, input.as_ptr().cast::<c_void>(), input.len(), 0) };
    if rc != 0 {
        return Err(bad(rc));
    }
    let mut written = 0usize;
    // SAFETY: enc.0 is live; `written` is a valid out-pointer.
    let rc = unsafe { cl::charls_jpegls_encoder_get_bytes_written(enc.0, &mut written) };
    if rc != 0 {
        return Err(bad(rc));
    }
    if written > size {
        return Err(Error::Invalid(format!(
            "CharLS reports {written} bytes written into a buffer of {size}"
        )));
    }
    // SAFETY: CharLS initialised the first `written` bytes (<= capacity, checked) of `dst`.
    unsafe { dst.set_len(written) };
    Ok(dst)
}

/// The samples of a frame as CharLS reads them: 1 byte each up to 8 bits, 2 (native endian) above, holding
/// only the low `bits` bits. JPEG-LS has no sign (ISO 14495-1 §3.1 sample precision P): signed data is
/// encoded as its two's complement pattern within Bits Stored, and the decoder sign-extends it again.
///
/// The frame is borrowed as it is when it already has that form (the usual unsigned case: the decoders
/// clear the bits above Bits Stored, PS3.5 §8.1.1), else copied once.
fn charls_input(src: &[u8], bits_allocated: u16, bits: u16) -> Cow<'_, [u8]> {
    let wide = bits > 8;
    match (bits_allocated, wide) {
        (8, _) => {
            let mask = (0xFFu16 >> (8 - bits.min(8))) as u8;
            if src.iter().fold(0u8, |a, &b| a | b) & !mask == 0 {
                Cow::Borrowed(src)
            } else {
                Cow::Owned(src.iter().map(|&b| b & mask).collect())
            }
        }
        (16, true) => {
            let mask = (0xFFFF_u32 >> (16 - bits)) as u16;
            let high = src
                .chunks_exact(2)
                .fold(0u16, |a, c| a | u16::from_le_bytes([c[0], c[1]]));
            let aligned = (src.as_ptr() as usize).is_multiple_of(2);
            if high & !mask == 0 && aligned && cfg!(target_endian = "little") {
                Cow::Borrowed(src)
            } else {
                let mut v = vec![0u8; src.len()];
                for (d, c) in v.chunks_exact_mut(2).zip(src.chunks_exact(2)) {
                    d.copy_from_slice(&(u16::from_le_bytes([c[0], c[1]]) & mask).to_ne_bytes());
                }
                Cow::Owned(v)
            }
        }
        _ => {
            // 2 to 8 bits in 16-bit (or wider) samples: the low byte of each, masked.
            let item = usize::from(bits_allocated / 8).max(1);
            let mask = (0xFFu16 >> (8 - bits.min(8))) as u8;
            Cow::Owned(src.chunks_exact(item).map(|c| c[0] & mask).collect())
        }
    }
}

/// [`encode_jpegls`] with NEAR 0, for the encoder registry.
pub fn encode_jpegls_lossless(src: &[u8], info: &PixelInfo) -> Result<Vec<u8>> {
    encode_jpegls(src, info, 0)
}

/// [`encode_jpegls`] with NEAR 2, for the encoder registry (.4.81).
pub fn encode_jpegls_near_lossless(src: &[u8], info: &PixelInfo) -> Result<Vec<u8>> {
    encode_jpegls(src, info, 2)
}
