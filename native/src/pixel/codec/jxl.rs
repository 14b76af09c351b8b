//! JPEG XL (ISO/IEC 18181): 1.2.840.10008.1.2.4.110 (lossless), .4.111 (JPEG recompression) and .4.112,
//! through libjxl, which the `dicomfast-libjxl-sys` crate builds and links ([`super::libjxl`], about 3x
//! faster), else (built with `DICOMFAST_NO_LIBJXL=1`) through jxl-oxide (pure Rust, [`decode_oxide`], also the cross-check in tests).
//!
//! The image header's dimensions, bit depth and channel count are checked against `info` before any pixel
//! is decoded, and the decoder's allocations are capped from the frame `info` describes. Integer samples
//! come back exactly: libjxl's full-range words and jxl-oxide's normalised floats are scaled back to the
//! stream's bit depth, which is exact up to 16 bits. JPEG XL has no signedness, so with Pixel
//! Representation 1 samples are sign-extended from the stream's bit depth, as for JPEG-LS.
//!
//! Colour: a stream with JPEG bitstream reconstruction data (the `jbrd` box, normal for .4.111) is turned
//! back into its original JPEG and decoded by [`super::jpeg`], so the samples are the stored JPEG's
//! components (YBR as the data set says) exactly as for .4.50. Other colour streams are rendered as RGB;
//! [`jxl_photometric`] says so.

use std::io::Write;

use jxl_oxide::{AllocTracker, JpegReconstructionStatus, JxlImage};

use super::{JPEG_XL, JPEG_XL_JPEG_RECOMPRESSION, check_output, fit_precision, store_samples};
use crate::pixel::layout::PixelInfo;
use crate::{Error, Result};

/// True when this build decodes through libjxl (else jxl-oxide alone).
pub const WITH_LIBJXL: bool = cfg!(dicomfast_libjxl);

/// The library that decodes JPEG XL in this build, with its version: "libjxl 0.12.0" or "jxl-oxide".
pub fn decoder_name() -> String {
    #[cfg(dicomfast_libjxl)]
    return format!("libjxl {}", super::libjxl::version());
    #[cfg(not(dicomfast_libjxl))]
    return "jxl-oxide".to_owned();
}

/// Decodes a JPEG XL frame into `out` (through its original JPEG when the stream can rebuild it).
pub fn decode_jxl(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode(src, info, frame, out, true)
}

/// Decodes a JPEG XL frame into `out` with jxl-oxide's renderer only (colour streams come out RGB).
pub fn decode_jxl_rendered(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode(src, info, frame, out, false)
}

/// Decoder entry for .4.110 (errors name it).
pub fn decode_jxl_lossless(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_ts(super::JPEG_XL_LOSSLESS, src, info, frame, out, true)
}

/// Decoder entry for .4.111 (errors name it).
pub fn decode_jxl_jpeg_recompression(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_ts(JPEG_XL_JPEG_RECOMPRESSION, src, info, frame, out, true)
}

fn decode(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8], reconstruct: bool) -> Result<()> {
    decode_ts(JPEG_XL, src, info, frame, out, reconstruct)
}

fn decode_ts(ts: &str, src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8], reconstruct: bool) -> Result<()> {
    check_output(ts, frame, info, out)?;
    let fail = |r: String| Error::decode(ts, frame, r);
    if !(src.starts_with(&[0xFF, 0x0A]) || src.starts_with(b"\x00\x00\x00\x0cJXL \r\n\x87\n")) {
        return Err(fail(
            "Not a JPEG XL codestream: no FF0A signature or JXL container box".to_owned(),
        ));
    }
    #[cfg(dicomfast_libjxl)]
    {
        decode_libjxl(ts, src, info, frame, out, reconstruct)
    }
    #[cfg(not(dicomfast_libjxl))]
    {
        decode_oxide(ts, src, info, frame, out, reconstruct)
    }
}

/// The first check of every decoder: the image header against the data set (dimensions, integer bits
/// that fit Bits Allocated).
fn check_header(info: &PixelInfo, columns: u32, rows: u32, bits: Option<u32>) -> std::result::Result<u32, String> {
    let (r, c, _) = info.frame_shape();
    if columns as usize != c || rows as usize != r {
        return Err(format!(
            "The JPEG XL image is {columns} x {rows} but (0028,0011) 'Columns' and (0028,0010) 'Rows' say {c} x {r}"
        ));
    }
    let Some(bits) = bits else {
        return Err("Float JPEG XL samples are not supported for integer pixel data".to_owned());
    };
    if bits == 0 || bits > 16 || bits > u32::from(info.bits_allocated) {
        return Err(format!(
            "The JPEG XL bit depth {bits} does not fit (0028,0100) 'Bits Allocated' {}",
            info.bits_allocated
        ));
    }
    Ok(bits)
}

/// The most bytes a rebuilt JPEG may take: more than any JPEG of the frame needs.
fn jpeg_limit(src: &[u8], info: &PixelInfo) -> usize {
    let (rows, cols, spp) = info.frame_shape();
    src.len()
        .saturating_mul(4)
        .saturating_add(rows * cols * spp)
        .saturating_add(1 << 20)
}

/// Room for the decoder's working grids (several f32 planes per channel), with a floor for small images.
fn memory_limit(info: &PixelInfo) -> usize {
    let (rows, cols, spp) = info.frame_shape();
    (rows * cols * spp).saturating_mul(64).max(64 << 20)
}

/// Decodes through libjxl: a recompressed JPEG is rebuilt and decoded by [`super::jpeg`]; other streams are
/// rendered straight into `out` (8-bit samples as they are, others through 16-bit words).
#[cfg(dicomfast_libjxl)]
fn decode_libjxl(
    ts: &str,
    src: &[u8],
    info: &PixelInfo,
    frame: usize,
    out: &mut [u8],
    reconstruct: bool,
) -> Result<()> {
    use super::libjxl::{Decoded, Header, Request, decode};
    let fail = |r: String| Error::decode(ts, frame, r);
    let (_, _, spp) = info.frame_shape();
    let dtype = info.output_dtype();
    let check = |h: &Header| -> std::result::Result<(), String> {
        check_header(info, h.columns, h.rows, (h.bits != 0).then_some(h.bits))?;
        if h.color_channels as usize != spp {
            return Err(format!(
                "The JPEG XL image has {} colour channels, (0028,0002) 'Samples per Pixel' says {spp}",
                h.color_channels
            ));
        }
        Ok(())
    };
    let samples = u32::try_from(spp).map_err(|_| fail("too many samples per pixel".to_owned()))?;
    let word = dtype.itemsize();
    let mut wide = vec![0u8; if word <= 2 { 0 } else { out.len() / word * 2 }];
    let run = |rebuild_jpeg: bool, target: &mut [u8]| {
        let req = Request {
            src,
            rebuild_jpeg,
            jpeg_limit: jpeg_limit(src, info),
            memory_limit: memory_limit(info),
            samples,
            out_is_u8: word == 1,
        };
        decode(req, &check, target)
    };
    let decoded = match run(reconstruct, if word <= 2 { &mut *out } else { &mut wide }) {
        Ok(Decoded::Jpeg(jpeg)) => return super::jpeg::decode_jpeg_ts(ts, &jpeg, info, frame, out),
        // As with jxl-oxide: a stream whose JPEG cannot be rebuilt is rendered.
        Err(_) if reconstruct && has_jpeg_reconstruction(src) => {
            run(false, if word <= 2 { &mut *out } else { &mut wide })
        }
        other => other,
    }
    .map_err(|e| fail(format!("Invalid JPEG XL codestream: {e}")))?;
    let Decoded::Pixels { bits } = decoded else {
        return Err(fail("libjxl rebuilt a JPEG when pixels were asked for".to_owned()));
    };
    // libjxl scales integer samples to the full range of the output type: scale them back to `bits`,
    // exactly (the rounding error of round(v * 65535 / max) is below half a step of `max`).
    let full = if word == 1 { 255u32 } else { 65535 };
    let max = (1u32 << bits) - 1;
    let back = |v: u32| (v * max + full / 2) / full;
    if word == 1 {
        if max != full {
            out.iter_mut().for_each(|v| *v = back(u32::from(*v)) as u8);
        }
    } else {
        let words: &mut [u8] = if word == 2 { &mut *out } else { &mut wide };
        if max != full {
            for w in words.chunks_exact_mut(2) {
                let v = back(u32::from(u16::from_le_bytes([w[0], w[1]]))) as u16;
                w.copy_from_slice(&v.to_le_bytes());
            }
        }
        if word > 2 {
            let samples = wide
                .chunks_exact(2)
                .map(|w| i64::from(u16::from_le_bytes([w[0], w[1]])));
            store_samples(out, dtype, samples);
        }
    }
    if info.pixel_representation == 1 {
        fit_precision(out, dtype, bits as u16);
    }
    Ok(())
}

/// Decodes through jxl-oxide (the fallback when libjxl is not built in, and a cross-check in tests).
pub fn decode_oxide(
    ts: &str,
    src: &[u8],
    info: &PixelInfo,
    frame: usize,
    out: &mut [u8],
    reconstruct: bool,
) -> Result<()> {
    check_output(ts, frame, info, out)?;
    let fail = |r: String| Error::decode(ts, frame, r);
    let (rows, cols, spp) = info.frame_shape();
    let n = rows * cols * spp;
    let limit = memory_limit(info);
    let image = JxlImage::builder()
        .alloc_tracker(AllocTracker::with_limit(limit))
        .read(src)
        .map_err(|e| fail(format!("Invalid JPEG XL codestream: {e}")))?;
    let bits = match image.image_header().metadata.bit_depth {
        jxl_oxide::image::BitDepth::IntegerSample { bits_per_sample } => Some(bits_per_sample),
        jxl_oxide::image::BitDepth::FloatSample { .. } => None,
    };
    let bits = check_header(info, image.width(), image.height(), bits).map_err(fail)?;
    if reconstruct && image.jpeg_reconstruction_status() == JpegReconstructionStatus::Available {
        let mut jpeg = Bounded {
            buf: Vec::new(),
            limit: jpeg_limit(src, info),
        };
        if image.reconstruct_jpeg(&mut jpeg).is_ok() {
            let fixed = fix_com_markers(jpeg.buf);
            return super::jpeg::decode_jpeg_ts(ts, &fixed, info, frame, out);
        }
    }
    if image.num_loaded_keyframes() == 0 {
        return Err(fail("The JPEG XL codestream has no complete frame".to_owned()));
    }
    let render = image
        .render_frame(0)
        .map_err(|e| fail(format!("JPEG XL decoding failed: {e}")))?;
    let mut stream = render.stream_no_alpha();
    if stream.channels() as usize != spp || stream.width() as usize != cols || stream.height() as usize != rows {
        return Err(fail(format!(
            "The JPEG XL frame has {} channels of {} x {}, expected {spp} of {cols} x {rows}",
            stream.channels(),
            stream.width(),
            stream.height()
        )));
    }
    let mut buf = vec![0f32; n];
    let written = stream.write_to_buffer(&mut buf);
    if written != n {
        return Err(fail(format!("jxl-oxide wrote {written} samples, expected {n}")));
    }
    let max = f32::from(u16::try_from((1u32 << bits) - 1).unwrap_or(u16::MAX));
    let dtype = info.output_dtype();
    store_samples(
        out,
        dtype,
        buf.iter().map(|&v| (v * max).round().clamp(0.0, max) as i64),
    );
    if info.pixel_representation == 1 {
        fit_precision(out, dtype, bits as u16);
    }
    Ok(())
}

/// A `Vec` writer that refuses to grow past `limit` bytes.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
}

impl Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len().saturating_add(data.len()) > self.limit {
            return Err(std::io::Error::other(
                "the reconstructed JPEG exceeds the size the frame justifies",
            ));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// True when a JPEG XL container holds a `jbrd` (JPEG bitstream reconstruction) box (ISO 18181-2 §9).
#[must_use]
pub fn has_jpeg_reconstruction(src: &[u8]) -> bool {
    if !src.starts_with(b"\x00\x00\x00\x0cJXL \r\n\x87\n") {
        return false;
    }
    let mut pos = 0usize;
    while let Some(h) = src.get(pos..pos + 8) {
        let len = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        if &h[4..8] == b"jbrd" {
            return true;
        }
        let (len, header) = match len {
            0 => return false,
            1 => match src.get(pos + 8..pos + 16) {
                Some(b) => (u64::from_be_bytes(b.try_into().unwrap_or([0; 8])), 16),
                None => return false,
            },
            l => (l, 8),
        };
        if len < header {
            return false;
        }
        let Some(next) = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)) else {
            return false;
        };
        pos = next;
    }
    false
}

/// The Photometric Interpretation of the decoded samples when it differs from the data set's: colour
/// streams without JPEG reconstruction data are rendered as RGB.
#[must_use]
pub fn jxl_photometric(src: &[u8], info: &PixelInfo) -> Option<&'static str> {
    (info.samples_per_pixel == 3 && info.photometric != "RGB" && !has_jpeg_reconstruction(src)).then_some("RGB")
}

/// jxl-jbr 0.2 writes each COM segment as FF FE followed by its stored data, which already starts with the
/// marker byte FE, so the segment reads FF FE FE Lh Ll ... (libjxl stores the marker byte with the data).
/// Drops the extra FE of each COM before the first scan (ISO 10918-1 §B.2.4.5 segment layout).
fn fix_com_markers(mut v: Vec<u8>) -> Vec<u8> {
    let mut pos = 2usize;
    while let (Some(&ff), Some(&m)) = (v.get(pos), v.get(pos + 1)) {
        if ff != 0xFF || m == 0xDA {
            break;
        }
        if m == 0xFE && v.get(pos + 2) == Some(&0xFE) {
            v.remove(pos + 2);
        }
        let Some(len) = v
            .get(pos + 2..pos + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            break;
        };
        pos += 2 + len;
    }
    v
}
