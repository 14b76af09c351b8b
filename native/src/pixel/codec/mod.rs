//! Codecs of the encapsulated transfer syntaxes and the registry from transfer syntax UID to decoder.
//!
//! Every decoder has the signature [`DecodeFn`]: it decodes one frame's codestream (its fragments
//! concatenated) straight into `out`, which holds exactly [`PixelInfo::frame_len_bytes`] bytes in the
//! layout of [`PixelInfo::output_dtype`], colour-by-pixel. Dimensions the codestream declares are checked
//! against `info` before any C call, and nothing is allocated from a length the stream claims.
//!
//! - [`rle`]: RLE Lossless (PS3.5 Annex G), our own code.
//! - [`jpeg`]: JPEG baseline, extended, lossless (libjpeg-turbo).
//! - [`jpegls`]: JPEG-LS lossless and near-lossless (CharLS).
//! - [`j2k`]: JPEG 2000 and HTJ2K (OpenJPEG).
//! - [`jxl`]: JPEG XL (libjxl, built by `native/libjxl-sys`, else jxl-oxide; [`libjxl`] holds the FFI).
//! - [`deflate`]: Deflated Image Frame Compression (flate2).

pub mod deflate;
pub mod j2k;
pub mod jpeg;
pub mod jpegls;
pub mod jxl;
#[cfg(dicomfast_libjxl)]
pub mod libjxl;
pub mod rle;

use super::layout::{Dtype, PixelInfo};
use crate::{Error, Result};

/// A frame decoder: `src` is the frame's codestream, `frame` its index (for errors), `out` the output.
pub type DecodeFn = fn(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()>;

/// A frame encoder: `src` is one decoded frame in the layout [`DecodeFn`] produces; returns the codestream.
pub type EncodeFn = fn(src: &[u8], info: &PixelInfo, opts: &EncodeOptions) -> Result<Vec<u8>>;

/// The quality layers of a lossy JPEG 2000 codestream (ISO/IEC 15444-1 §B.8), from the coarsest.
#[derive(Clone, Debug, PartialEq)]
pub enum J2kLayers {
    /// A compression ratio per layer (e.g. `[40, 10]`: the first layer at 40:1, both at 10:1), decreasing.
    Ratios(Vec<f32>),
    /// A peak signal-to-noise ratio in dB per layer, increasing (OpenJPEG's fixed-quality allocation).
    Psnr(Vec<f32>),
}

/// How lossy JPEG codes 3-sample frames of RGB values (PS3.5 §8.2.1): the Photometric Interpretation the
/// data set gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JpegColour {
    /// RGB samples coded as they are (no colour transform, Adobe APP14 transform 0): stays RGB.
    Rgb,
    /// Converted to YCbCr, chroma at full resolution: YBR_FULL.
    YbrFull,
    /// Converted to YCbCr, chroma halved horizontally (4:2:2): YBR_FULL_422, as DCMTK and GDCM write.
    YbrFull422,
}

/// Settings of the lossy encoders; each encoder reads the ones of its transfer syntax.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodeOptions {
    /// JPEG baseline / extended quality, 1 to 100 (libjpeg's scale of quantisation tables).
    pub jpeg_quality: u8,
    /// JPEG baseline / extended: how colour (RGB) frames are coded; frames of other colour spaces are coded
    /// as they are whatever this says.
    pub jpeg_colour: JpegColour,
    /// JPEG-LS NEAR (ISO/IEC 14495-1 §C.2.3): the largest difference allowed per sample, for .4.81.
    pub jls_near: u16,
    /// JPEG 2000 (.4.91) quality layers.
    pub j2k: J2kLayers,
    /// JPEG 2000: code RGB frames through the multiple component transform (ISO/IEC 15444-1 Annex G: RCT
    /// for .4.90, ICT for .4.91); the data set then becomes YBR_RCT or YBR_ICT (PS3.5 §8.2.4).
    pub j2k_mct: bool,
}

/// The most quality layers OpenJPEG codes (`opj_cparameters_t::tcp_rates` has 100 slots).
pub const J2K_MAX_LAYERS: usize = 100;

impl Default for EncodeOptions {
    /// Quality 90 (colour as YBR_FULL_422), NEAR 2, one layer at 10:1, RGB through the colour transform.
    fn default() -> Self {
        EncodeOptions {
            jpeg_quality: 90,
            jpeg_colour: JpegColour::YbrFull422,
            jls_near: 2,
            j2k: J2kLayers::Ratios(vec![10.0]),
            j2k_mct: true,
        }
    }
}

impl EncodeOptions {
    /// Checks the settings against what the codecs accept, naming the one that is out of range.
    ///
    /// # Errors
    /// `Error::Invalid` for a quality outside 1-100, no layers or more than [`J2K_MAX_LAYERS`], ratios that
    /// are not finite, at least 1 and decreasing, or PSNRs that are not finite, positive and increasing.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(Error::Invalid(format!(
                "JPEG quality must be 1 to 100, not {}",
                self.jpeg_quality
            )));
        }
        let (values, what) = match &self.j2k {
            J2kLayers::Ratios(v) => (v, "compression ratios"),
            J2kLayers::Psnr(v) => (v, "PSNR values"),
        };
        if values.is_empty() || values.len() > J2K_MAX_LAYERS {
            return Err(Error::Invalid(format!(
                "JPEG 2000 needs 1 to {J2K_MAX_LAYERS} quality layers, not {}",
                values.len()
            )));
        }
        let ok = match &self.j2k {
            J2kLayers::Ratios(v) => v.iter().all(|r| r.is_finite() && *r >= 1.0) && v.windows(2).all(|w| w[0] > w[1]),
            J2kLayers::Psnr(v) => v.iter().all(|p| p.is_finite() && *p > 0.0) && v.windows(2).all(|w| w[0] < w[1]),
        };
        if !ok {
            let rule = match &self.j2k {
                J2kLayers::Ratios(_) => "each at least 1 and decreasing from the first layer",
                J2kLayers::Psnr(_) => "each above 0 dB and increasing from the first layer",
            };
            return Err(Error::Invalid(format!(
                "JPEG 2000 {what} {values:?}: they must be {rule}"
            )));
        }
        Ok(())
    }
}

/// RLE Lossless.
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
/// JPEG Baseline (Process 1).
pub const JPEG_BASELINE_8BIT: &str = "1.2.840.10008.1.2.4.50";
/// JPEG Extended (Process 2 & 4).
pub const JPEG_EXTENDED_12BIT: &str = "1.2.840.10008.1.2.4.51";
/// JPEG Lossless, Non-Hierarchical (Process 14).
pub const JPEG_LOSSLESS: &str = "1.2.840.10008.1.2.4.57";
/// JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1).
pub const JPEG_LOSSLESS_SV1: &str = "1.2.840.10008.1.2.4.70";
/// JPEG-LS Lossless.
pub const JPEG_LS_LOSSLESS: &str = "1.2.840.10008.1.2.4.80";
/// JPEG-LS Lossy (Near-Lossless).
pub const JPEG_LS_NEAR_LOSSLESS: &str = "1.2.840.10008.1.2.4.81";
/// JPEG 2000 (Lossless Only).
pub const JPEG_2000_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
/// JPEG 2000.
pub const JPEG_2000: &str = "1.2.840.10008.1.2.4.91";
/// High-Throughput JPEG 2000 (Lossless Only).
pub const HTJ2K_LOSSLESS: &str = "1.2.840.10008.1.2.4.201";
/// High-Throughput JPEG 2000 with RPCL Options (Lossless Only).
pub const HTJ2K_LOSSLESS_RPCL: &str = "1.2.840.10008.1.2.4.202";
/// High-Throughput JPEG 2000.
pub const HTJ2K: &str = "1.2.840.10008.1.2.4.203";
/// JPEG XL Lossless.
pub const JPEG_XL_LOSSLESS: &str = "1.2.840.10008.1.2.4.110";
/// JPEG XL JPEG Recompression.
pub const JPEG_XL_JPEG_RECOMPRESSION: &str = "1.2.840.10008.1.2.4.111";
/// JPEG XL.
pub const JPEG_XL: &str = "1.2.840.10008.1.2.4.112";
/// Deflated Image Frame Compression.
pub const DEFLATED_IMAGE_FRAME: &str = "1.2.840.10008.1.2.8.1";

/// The name of a transfer syntax this module knows, for messages.
#[must_use]
pub fn ts_name(ts_uid: &str) -> &'static str {
    match ts_uid {
        RLE_LOSSLESS => "RLE Lossless",
        JPEG_BASELINE_8BIT => "JPEG Baseline (Process 1)",
        JPEG_EXTENDED_12BIT => "JPEG Extended (Process 2 & 4)",
        JPEG_LOSSLESS => "JPEG Lossless, Non-Hierarchical (Process 14)",
        JPEG_LOSSLESS_SV1 => "JPEG Lossless, Non-Hierarchical, First-Order Prediction",
        JPEG_LS_LOSSLESS => "JPEG-LS Lossless",
        JPEG_LS_NEAR_LOSSLESS => "JPEG-LS Lossy (Near-Lossless)",
        JPEG_2000_LOSSLESS => "JPEG 2000 Image Compression (Lossless Only)",
        JPEG_2000 => "JPEG 2000 Image Compression",
        HTJ2K_LOSSLESS => "High-Throughput JPEG 2000 (Lossless Only)",
        HTJ2K_LOSSLESS_RPCL => "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)",
        HTJ2K => "High-Throughput JPEG 2000",
        JPEG_XL_LOSSLESS => "JPEG XL Lossless",
        JPEG_XL_JPEG_RECOMPRESSION => "JPEG XL JPEG Recompression",
        JPEG_XL => "JPEG XL",
        DEFLATED_IMAGE_FRAME => "Deflated Image Frame Compression",
        "1.2.840.10008.1.2" => "Implicit VR Little Endian",
        "1.2.840.10008.1.2.1" => "Explicit VR Little Endian",
        "1.2.840.10008.1.2.1.99" => "Deflated Explicit VR Little Endian",
        "1.2.840.10008.1.2.2" => "Explicit VR Big Endian",
        _ => "unknown",
    }
}

/// The decoder of a transfer syntax, or `None` when it has none (native syntaxes included).
///
/// ```
/// use _native::pixel::codec::decoder_for;
/// assert!(decoder_for("1.2.840.10008.1.2.5").is_some());
/// assert!(decoder_for("1.2.840.10008.1.2.1").is_none());
/// ```
#[must_use]
pub fn decoder_for(ts_uid: &str) -> Option<DecodeFn> {
    Some(match ts_uid {
        RLE_LOSSLESS => rle::decode_rle_lossless,
        JPEG_BASELINE_8BIT => jpeg::decode_jpeg,
        JPEG_EXTENDED_12BIT => jpeg::decode_jpeg_extended,
        JPEG_LOSSLESS => jpeg::decode_jpeg_lossless,
        JPEG_LOSSLESS_SV1 => jpeg::decode_jpeg_lossless_sv1,
        JPEG_LS_LOSSLESS | JPEG_LS_NEAR_LOSSLESS => jpegls::decode_jpegls,
        JPEG_2000_LOSSLESS => j2k::decode_jpeg_2000_lossless,
        JPEG_2000 => j2k::decode_j2k,
        HTJ2K_LOSSLESS => j2k::decode_htj2k_lossless,
        HTJ2K_LOSSLESS_RPCL => j2k::decode_htj2k_lossless_rpcl,
        HTJ2K => j2k::decode_htj2k,
        JPEG_XL_LOSSLESS => jxl::decode_jxl_lossless,
        JPEG_XL_JPEG_RECOMPRESSION => jxl::decode_jxl_jpeg_recompression,
        JPEG_XL => jxl::decode_jxl,
        DEFLATED_IMAGE_FRAME => deflate::decode_deflated_frame,
        _ => return None,
    })
}

/// The encoder of a transfer syntax with default settings, or `None`: JPEG quality 90, lossless
/// predictor 1, JPEG-LS NEAR 2 for .4.81, JPEG 2000 lossy at 10:1. The codec modules' `encode_*`
/// functions take the settings explicitly.
#[must_use]
pub fn encoder_for(ts_uid: &str) -> Option<EncodeFn> {
    Some(match ts_uid {
        RLE_LOSSLESS => rle::encode_rle,
        DEFLATED_IMAGE_FRAME => deflate::encode_deflated_frame,
        JPEG_BASELINE_8BIT => jpeg::encode_jpeg_baseline,
        JPEG_EXTENDED_12BIT => jpeg::encode_jpeg_extended,
        JPEG_LOSSLESS_SV1 | JPEG_LOSSLESS => jpeg::encode_jpeg_lossless_sv1,
        JPEG_LS_LOSSLESS => jpegls::encode_jpegls_lossless,
        JPEG_LS_NEAR_LOSSLESS => jpegls::encode_jpegls_near_lossless,
        JPEG_2000_LOSSLESS => j2k::encode_j2k_lossless,
        JPEG_2000 => j2k::encode_j2k_lossy,
        _ => return None,
    })
}

/// True when Pixel Data of this transfer syntax is encapsulated (PS3.5 §A.4): a sequence of fragments.
#[must_use]
pub fn is_encapsulated(ts_uid: &str) -> bool {
    ts_uid.starts_with("1.2.840.10008.1.2.4.") || ts_uid == RLE_LOSSLESS || ts_uid == DEFLATED_IMAGE_FRAME
}

/// Decodes one frame of an encapsulated transfer syntax into `out`.
pub fn decode_frame(ts_uid: &str, src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    let Some(f) = decoder_for(ts_uid) else {
        return Err(Error::UnsupportedTransferSyntax {
            ts_uid: ts_uid.to_owned(),
            name: ts_name(ts_uid).to_owned(),
            reason: if is_encapsulated(ts_uid) {
                "no decoder is available for this compressed transfer syntax".to_owned()
            } else {
                "it is not an encapsulated transfer syntax; use the native decoder".to_owned()
            },
        });
    };
    f(src, info, frame, out)
}

/// The Photometric Interpretation of the samples a decoder writes for this frame, before any colour
/// conversion: the data set's, except where the codec or the layout changes it. Native and deflated
/// YBR_FULL_422 is expanded to YBR_FULL; JPEG and JPEG-LS follow the codestream's markers (pydicom's
/// `_conform_jpg_colorspace`); JPEG 2000 YBR_RCT / YBR_ICT come out RGB; JPEG XL colour without JPEG
/// reconstruction data comes out RGB. Pass the result to [`super::colour::converts_to_rgb`] to mimic
/// pydicom's default `as_rgb=True`.
///
/// ```
/// use _native::pixel::{PixelInfo, codec::output_photometric};
/// let info = PixelInfo { rows: 1, columns: 2, samples_per_pixel: 3,
///                        photometric: "YBR_FULL_422".to_owned(), ..PixelInfo::default() };
/// assert_eq!(output_photometric("1.2.840.10008.1.2.1", &[], &info), "YBR_FULL");
/// ```
#[must_use]
pub fn output_photometric(ts_uid: &str, src: &[u8], info: &PixelInfo) -> String {
    let pi = info.photometric.as_str();
    let changed = match ts_uid {
        JPEG_BASELINE_8BIT
        | JPEG_EXTENDED_12BIT
        | JPEG_LOSSLESS
        | JPEG_LOSSLESS_SV1
        | JPEG_LS_LOSSLESS
        | JPEG_LS_NEAR_LOSSLESS => jpeg::jpeg_photometric(ts_uid, src, info),
        JPEG_2000_LOSSLESS | JPEG_2000 | HTJ2K_LOSSLESS | HTJ2K_LOSSLESS_RPCL | HTJ2K => j2k::j2k_photometric(info),
        JPEG_XL_LOSSLESS | JPEG_XL_JPEG_RECOMPRESSION | JPEG_XL => jxl::jxl_photometric(src, info),
        RLE_LOSSLESS => None,
        _ => (pi == "YBR_FULL_422" && info.samples_per_pixel == 3).then_some("YBR_FULL"),
    };
    changed.unwrap_or(pi).to_owned()
}

/// Checks `info` and that `out` holds exactly one decoded frame.
pub(crate) fn check_output(ts_uid: &str, frame: usize, info: &PixelInfo, out: &[u8]) -> Result<()> {
    info.validate()
        .map_err(|e| Error::decode(ts_uid, frame, e.to_string()))?;
    let need = info.frame_len_bytes()?;
    if out.len() != need {
        return Err(Error::decode(
            ts_uid,
            frame,
            format!("The output buffer has {} bytes, a frame needs {need}", out.len()),
        ));
    }
    Ok(())
}

/// Writes integer samples into `out` as little-endian elements of `dtype` (two's complement truncation).
pub(crate) fn store_samples<I: Iterator<Item = i64>>(out: &mut [u8], dtype: Dtype, samples: I) {
    let size = dtype.itemsize();
    for (d, v) in out.chunks_exact_mut(size).zip(samples) {
        let b = v.to_le_bytes();
        d.copy_from_slice(b.get(..size).unwrap_or(&b));
    }
}

/// Sign-extends (signed) or masks (unsigned) the low `bits` of every element: how pydicom makes a sample
/// of `bits` precision fit the Pixel Representation after a codec that does not carry signedness.
pub(crate) fn fit_precision(out: &mut [u8], dtype: Dtype, bits: u16) {
    super::layout::correct_unused_bits(out, dtype, bits);
}
