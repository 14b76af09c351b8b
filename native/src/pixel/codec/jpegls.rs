//! JPEG-LS (ISO/IEC 14495-1) through CharLS: Lossless 1.2.840.10008.1.2.4.80 and Near-Lossless .4.81,
//! 2 to 16 bits, 1 to 4 components, all interleave modes.
//!
//! CharLS writes 1 byte per sample up to 8 bits and 2 above, colour-by-plane for interleave mode none and
//! colour-by-pixel otherwise; the output is always colour-by-pixel (pydicom's decoders return JPEG-LS
//! that way whatever Planar Configuration says). JPEG-LS carries no signedness: with Pixel
//! Representation 1, samples are sign-extended from the stream's precision, as pydicom's
//! `_apply_sign_correction` does.
//!
//! Encoding: one-component lossless frames go through our own coder ([`lossless`]), which writes the same
//! bytes as CharLS at the same speed for every precision (CharLS has fast code for 8, 12 and 16 bits only,
//! and DICOM needs the precision to be Bits Stored, PS3.5 §8.2.3); colour and near-lossless use CharLS.

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

/// The RESET of a preset coding parameters segment (LSE, ISO/IEC 14495-1 §C.2.4.1.1: FF F8, Ls, ID 1, MAXVAL,
/// T1, T2, T3, RESET, each 16-bit big endian) that CharLS 2.4.5 cannot decode with: it truncates RESET to 8 bits
/// for the run-mode contexts (`reset_threshold_` in scan.h), so a multiple of 256 is never reached by the
/// counter, which wraps to 0, and `get_golomb_code` then loops forever (decode_jpegls found it). Other RESET
/// values above 255 decode as pyjpegls (the same CharLS) decodes them. In the scan data a 0xFF byte is followed
/// by a byte below 0x80 (§A.1), so every FF F8 in the stream is a marker.
fn looping_reset(src: &[u8]) -> Option<u16> {
    src.windows(15).find_map(|w| {
        let be = |i: usize| u16::from_be_bytes([w[i], w[i + 1]]);
        let reset = be(13);
        (w[0] == 0xFF && w[1] == 0xF8 && be(2) >= 13 && w[4] == 1 && reset >= 256 && reset % 256 == 0).then_some(reset)
    })
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

    if let Some(reset) = looping_reset(src) {
        return Err(fail(format!(
            "The JPEG-LS preset coding parameters (LSE marker FFF8) set RESET to {reset}: CharLS keeps the run-mode \
             context counter in 8 bits, and with a RESET of a multiple of 256 the counter wraps to 0 and the \
             decoder never ends (ISO/IEC 14495-1 §C.2.4.1.2 allows RESET up to MAXVAL; encoders use 64)"
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
/// sample-interleaved for colour: one component lossless with our own coder ([`lossless`]), the rest with
/// CharLS ([`encode_jpegls_charls`]).
pub fn encode_jpegls(src: &[u8], info: &PixelInfo, near: i32) -> Result<Vec<u8>> {
    if near == 0 && info.samples_per_pixel == 1 {
        check_output(JPEG_LS_LOSSLESS, 0, info, src).map_err(|e| Error::Invalid(e.to_string()))?;
        let bits = info.bits_stored;
        if (2..=16).contains(&bits) && info.bits_allocated <= 16 {
            let input = charls_input(src, info.bits_allocated, bits);
            let (rows, cols, _) = info.frame_shape();
            if let Some(out) = lossless::encode(&input, rows, cols, u32::from(bits)) {
                return Ok(out);
            }
        }
    }
    encode_jpegls_charls(src, info, near)
}

/// [`encode_jpegls`] through CharLS for every frame.
pub fn encode_jpegls_charls(src: &[u8], info: &PixelInfo, near: i32) -> Result<Vec<u8>> {
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
pub fn encode_jpegls_lossless(src: &[u8], info: &PixelInfo, _opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    encode_jpegls(src, info, 0)
}

/// [`encode_jpegls`] with the options' NEAR, for the encoder registry (.4.81). NEAR may be at most
/// min(255, MAXVAL / 2) for the frame's precision (ISO/IEC 14495-1 §C.2.4.1.1).
pub fn encode_jpegls_near_lossless(src: &[u8], info: &PixelInfo, opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    let bits = info.bits_stored.clamp(2, 16);
    let limit = ((1u32 << bits) - 1) / 2;
    let limit = limit.min(255);
    if u32::from(opts.jls_near) > limit {
        return Err(Error::Invalid(format!(
            "JPEG-LS NEAR must be 0 to {limit} for (0028,0101) 'Bits Stored' {bits} (min(255, MAXVAL / 2), \
             ISO/IEC 14495-1 C.2.4.1.1), not {}",
            opts.jls_near
        )));
    }
    encode_jpegls(src, info, i32::from(opts.jls_near))
}

/// Lossless JPEG-LS coding of one component (ISO/IEC 14495-1 Annex A with NEAR = 0 and the default coding
/// parameters of §C.2.4.1.1), our own code: the scan CharLS would write, at any precision 2 to 16 with the
/// same speed (CharLS has specialised lossless code for precisions 8, 12 and 16 only).
pub mod lossless {
    use std::sync::OnceLock;

    /// J[RUNindex], the run-length order table (ISO 14495-1 §A.7.1.1).
    const J: [u32; 32] = [
        0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ];
    /// RESET (§C.2.4.1.1 default).
    const RESET: i32 = 64;

    /// BASIC_T1, BASIC_T2, BASIC_T3 (§C.2.4.1.1.1).
    const BASIC_T: [i32; 3] = [3, 7, 21];

    /// The default thresholds T1, T2, T3 for MAXVAL with NEAR = 0 (§C.2.4.1.1.1).
    fn thresholds(maxval: i32) -> (i32, i32, i32) {
        let clamp = |i: i32, j: i32| if i > maxval || i < j { j } else { i };
        let [b1, b2, b3] = BASIC_T;
        if maxval >= 128 {
            let factor = (maxval.min(4095) + 128) / 256;
            let t1 = clamp(factor * (b1 - 2) + 2, 1);
            let t2 = clamp(factor * (b2 - 3) + 3, t1);
            (t1, t2, clamp(factor * (b3 - 4) + 4, t2))
        } else {
            let factor = 256 / (maxval + 1);
            let t1 = clamp((b1 / factor).max(2), 1);
            let t2 = clamp((b2 / factor).max(3), t1);
            (t1, t2, clamp((b3 / factor).max(4), t2))
        }
    }

    /// Gradient quantisation (§A.3.3) as a table over -RANGE+1 ..= RANGE-1 (index d + RANGE), one per
    /// precision, made on first use.
    fn quantiser(p: u32) -> &'static [i8] {
        static TABLES: [OnceLock<Vec<i8>>; 17] = [const { OnceLock::new() }; 17];
        TABLES[p as usize].get_or_init(|| {
            let range = 1i32 << p;
            let (t1, t2, t3) = thresholds(range - 1);
            (-range..range)
                .map(|d| match d {
                    _ if d <= -t3 => -4,
                    _ if d <= -t2 => -3,
                    _ if d <= -t1 => -2,
                    _ if d < 0 => -1,
                    0 => 0,
                    _ if d < t1 => 1,
                    _ if d < t2 => 2,
                    _ if d < t3 => 3,
                    _ => 4,
                })
                .collect()
        })
    }

    /// The Golomb parameter k: the least k >= 0 with N << k >= A (§A.5.1 for the regular contexts, §A.7.2
    /// with TEMP for run interruption), from the positions of the leading bits (A >= 1, N >= 1).
    #[inline(always)]
    fn golomb_k(n: i32, a: i32) -> u32 {
        if n >= a {
            return 0;
        }
        let k = n.leading_zeros() - a.leading_zeros();
        if (n << k) < a { k + 1 } else { k }
    }

    /// Bits, most significant first, into bytes; after an FF byte the next byte carries 7 bits behind a
    /// 0 bit (§A.1 marker-avoidance bit stuffing).
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
        ff: bool,
    }

    impl Bits {
        #[inline(always)]
        fn put(&mut self, v: u32, len: u32) {
            self.acc = (self.acc << len) | u64::from(v);
            self.n += len;
            if self.n >= 32 {
                self.drain();
            }
        }

        #[inline(always)]
        fn zeros(&mut self, mut len: u32) {
            while len > 24 {
                self.put(0, 24);
                len -= 24;
            }
            self.put(0, len);
        }

        fn drain(&mut self) {
            // Four bytes at a time while none of them is FF (no stuffing to do).
            while !self.ff && self.n >= 32 {
                let word = ((self.acc >> (self.n - 32)) as u32).to_be_bytes();
                if word.contains(&0xFF) {
                    break;
                }
                self.out.extend_from_slice(&word);
                self.n -= 32;
            }
            loop {
                let w = if self.ff { 7 } else { 8 };
                if self.n < w {
                    return;
                }
                self.n -= w;
                let b = ((self.acc >> self.n) & ((1 << w) - 1)) as u8;
                self.out.push(b);
                self.ff = b == 0xFF;
            }
        }

        /// Pads the last byte with 0 bits; a final FF gets a 0 byte after it, so no marker is formed.
        fn finish(mut self) -> Vec<u8> {
            self.drain();
            if self.n > 0 {
                let w = if self.ff { 7 } else { 8 };
                self.acc <<= w - self.n;
                self.n = w;
                self.drain();
            }
            if self.ff {
                self.out.push(0);
            }
            self.out
        }

        /// Limited-length Golomb code of `v` with parameter `k` (§A.5.3): `limit` is LIMIT (regular mode) or
        /// LIMIT - J[RUNindex] - 1 (run interruption).
        #[inline(always)]
        fn golomb(&mut self, v: u32, k: u32, limit: u32, qbpp: u32) {
            let high = v >> k;
            if high < limit - qbpp - 1 {
                if high + 1 + k <= 32 {
                    self.put((1 << k) | (v & ((1 << k) - 1)), high + 1 + k);
                } else {
                    self.zeros(high);
                    self.put((1 << k) | (v & ((1 << k) - 1)), 1 + k);
                }
            } else {
                self.zeros(limit - qbpp - 1);
                self.put(1, 1);
                self.put((v - 1) & ((1 << qbpp) - 1), qbpp);
            }
        }
    }

    /// Codes `rows` lines of `cols` samples of precision `p` (2 to 16; `line(y, out)` reads line `y`) as
    /// the entropy-coded segment of a lossless scan (§A.8: lines in order, regular and run modes).
    fn scan(rows: usize, cols: usize, p: u32, line: &dyn Fn(usize, &mut [i32])) -> Vec<u8> {
        let range = 1i32 << p;
        let maxval = range - 1;
        let qbpp = p;
        let limit = 2 * (p.max(2) + p.max(8));
        let q = quantiser(p);
        let shift = 32 - p;
        // Context variables A, B, C, N of the 365 regular contexts (index |Q|, §A.3.4) and of the two run
        // interruption contexts (A, N, Nn; §A.7.2).
        let a0 = ((range + 32) >> 6).max(2);
        // [A, B, C, N] of each regular context side by side (one cache line holds four contexts).
        let mut ctx = [[a0, 0, 0, 1]; 365];
        let mut ri_a = [a0; 2];
        let mut ri_n = [1i32; 2];
        let mut ri_nn = [0i32; 2];
        let mut run_index = 0usize;
        let mut bits = Bits {
            out: Vec::with_capacity(rows * cols * (p as usize).div_ceil(8) / 2 + 64),
            acc: 0,
            n: 0,
            ff: false,
        };
        // Line buffers with one border sample each side: index x + 1 holds sample x.
        let mut prev = vec![0i32; cols + 2];
        let mut cur = vec![0i32; cols + 2];
        let qd = |d: i32| i32::from(q.get((d + range) as usize).copied().unwrap_or(0));
        for y in 0..rows {
            line(y, &mut cur[1..=cols]);
            // §A.2.1: Ra of the first sample is Rb, Rd of the last is Rb; Rc of the first is the Ra the
            // previous line's first sample had (kept in prev[0]).
            cur[0] = prev[1];
            prev[cols + 1] = prev[cols];
            let mut i = 1;
            while i <= cols {
                let ra = cur[i - 1];
                let rb = prev[i];
                let rc = prev[i - 1];
                let rd = prev[i + 1];
                let qs = 81 * qd(rd - rb) + 9 * qd(rb - rc) + qd(rc - ra);
                if qs == 0 {
                    // Run mode (§A.7): samples equal to Ra, then the sample that interrupts the run.
                    let start = i;
                    while i <= cols && cur[i] == ra {
                        i += 1;
                    }
                    let mut cnt = (i - start) as u32;
                    while cnt >= 1 << J[run_index] {
                        bits.put(1, 1);
                        cnt -= 1 << J[run_index];
                        if run_index < 31 {
                            run_index += 1;
                        }
                    }
                    if i > cols {
                        if cnt > 0 {
                            bits.put(1, 1);
                        }
                        break;
                    }
                    bits.put(cnt, J[run_index] + 1);
                    let ix = cur[i];
                    let rb = prev[i];
                    let ritype = usize::from(ra == rb);
                    let px = if ritype == 1 { ra } else { rb };
                    let mut err = ix - px;
                    if ritype == 0 && ra > rb {
                        err = -err;
                    }
                    err = (err << shift) >> shift;
                    let temp = if ritype == 0 { ri_a[0] } else { ri_a[1] + (ri_n[1] >> 1) };
                    let n = ri_n[ritype];
                    let k = golomb_k(n, temp);
                    let nn = ri_nn[ritype];
                    let map = (k == 0 && err > 0 && 2 * nn < n) || (err < 0 && (2 * nn >= n || k != 0));
                    let em = 2 * err.abs() - ritype as i32 - i32::from(map);
                    bits.golomb(em as u32, k, limit - J[run_index] - 1, qbpp);
                    if err < 0 {
                        ri_nn[ritype] += 1;
                    }
                    ri_a[ritype] += (em + 1 - ritype as i32) >> 1;
                    if ri_n[ritype] == RESET {
                        ri_a[ritype] >>= 1;
                        ri_n[ritype] >>= 1;
                        ri_nn[ritype] >>= 1;
                    }
                    ri_n[ritype] += 1;
                    run_index = run_index.saturating_sub(1);
                    i += 1;
                    continue;
                }
                // Regular mode (§A.4 - A.6).
                let ix = cur[i];
                let negative = qs < 0;
                let [a, b, c, n] = ctx[qs.unsigned_abs() as usize];
                let px = if rc >= ra.max(rb) {
                    ra.min(rb)
                } else if rc <= ra.min(rb) {
                    ra.max(rb)
                } else {
                    ra + rb - rc
                };
                let px = (if negative { px - c } else { px + c }).clamp(0, maxval);
                let mut err = ix - px;
                if negative {
                    err = -err;
                }
                err = (err << shift) >> shift;
                let k = golomb_k(n, a);
                let e = if k == 0 && 2 * b <= -n { -err - 1 } else { err };
                let merr = if e >= 0 { 2 * e } else { -2 * e - 1 };
                bits.golomb(merr as u32, k, limit, qbpp);
                let (mut a, mut b, mut n) = (a + err.abs(), b + err, n);
                if n == RESET {
                    a >>= 1;
                    b >>= 1;
                    n >>= 1;
                }
                n += 1;
                let mut c = c;
                if b + n <= 0 {
                    b += n;
                    if b <= -n {
                        b = -n + 1;
                    }
                    if c > -128 {
                        c -= 1;
                    }
                } else if b > 0 {
                    b -= n;
                    if b > 0 {
                        b = 0;
                    }
                    if c < 127 {
                        c += 1;
                    }
                }
                ctx[qs.unsigned_abs() as usize] = [a, b, c, n];
                i += 1;
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        bits.finish()
    }

    /// A complete JPEG-LS interchange-format stream (SOI, SOF55, SOS, scan, EOI; ISO 14495-1 §C.2) for one
    /// component of precision `p`, lossless, from `samples` (1 byte each up to 8 bits, 2 native-endian
    /// above, each < 2^p). `None` when the frame does not fit a SOF55 without an LSE marker segment.
    #[must_use]
    pub fn encode(samples: &[u8], rows: usize, cols: usize, p: u32) -> Option<Vec<u8>> {
        if !(2..=16).contains(&p) || rows == 0 || cols == 0 || rows > 65535 || cols > 65535 {
            return None;
        }
        let wide = p > 8;
        if samples.len() != rows * cols * if wide { 2 } else { 1 } {
            return None;
        }
        let read = |y: usize, out: &mut [i32]| {
            if wide {
                let row = samples.get(y * cols * 2..(y + 1) * cols * 2).unwrap_or_default();
                for (d, s) in out.iter_mut().zip(row.chunks_exact(2)) {
                    *d = i32::from(u16::from_ne_bytes([s[0], s[1]]));
                }
            } else {
                let row = samples.get(y * cols..(y + 1) * cols).unwrap_or_default();
                for (d, s) in out.iter_mut().zip(row) {
                    *d = i32::from(*s);
                }
            }
        };
        let data = scan(rows, cols, p, &read);
        let mut out = Vec::with_capacity(data.len() + 32);
        out.extend_from_slice(&[0xFF, 0xD8]);
        // SOF55: Lf 11, P, Y, X, Nf 1, C1 1, H1/V1 1/1, Tq1 0.
        out.extend_from_slice(&[0xFF, 0xF7, 0, 11, p as u8]);
        out.extend_from_slice(&(rows as u16).to_be_bytes());
        out.extend_from_slice(&(cols as u16).to_be_bytes());
        out.extend_from_slice(&[1, 1, 0x11, 0]);
        if p > 12 {
            // LSE preset coding parameters (§C.2.4.1.1, ID 1) with the default values: above 12 bits the
            // defaults are computed from min(MAXVAL, 4095), which some decoders get wrong; CharLS writes
            // them out too, and so the streams stay the same bytes.
            let (t1, t2, t3) = thresholds((1 << p) - 1);
            out.extend_from_slice(&[0xFF, 0xF8, 0, 13, 1]);
            for v in [(1i32 << p) - 1, t1, t2, t3, RESET] {
                out.extend_from_slice(&(v as u16).to_be_bytes());
            }
        }
        // SOS: Ls 8, Ns 1, Cs1 1, Tm1 0, NEAR 0, ILV 0, Al/Ah 0.
        out.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0, 0]);
        out.extend_from_slice(&data);
        out.extend_from_slice(&[0xFF, 0xD9]);
        Some(out)
    }
}
