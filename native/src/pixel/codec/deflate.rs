//! Deflated Image Frame Compression (1.2.840.10008.1.2.8.1, PS3.5 §8.2.16): each frame is its native
//! little-endian encoding compressed with raw deflate (RFC 1951, no zlib header).
//!
//! The inflated bytes are bounded by the native frame length `info` justifies; the native layout is then
//! decoded as for uncompressed data.

use std::io::Write;

use flate2::{Decompress, FlushDecompress, Status};

use super::{DEFLATED_IMAGE_FRAME, check_output};
use crate::pixel::layout::PixelInfo;
use crate::pixel::native::decode_native_frame;
use crate::{Error, Result};

/// Inflates exactly `dst.len()` bytes of `src` into `dst`.
fn inflate_into(src: &[u8], dst: &mut [u8], frame: usize) -> Result<()> {
    let mut d = Decompress::new(false);
    let status = d
        .decompress(src, dst, FlushDecompress::Finish)
        .map_err(|e| Error::decode(DEFLATED_IMAGE_FRAME, frame, format!("Invalid deflate stream: {e}")))?;
    let got = usize::try_from(d.total_out()).unwrap_or(usize::MAX);
    if got < dst.len() {
        return Err(Error::decode(
            DEFLATED_IMAGE_FRAME,
            frame,
            format!(
                "The deflate stream ended after {got} bytes, the frame needs {} ({status:?})",
                dst.len()
            ),
        ));
    }
    // A stream longer than the frame is accepted (the extra bytes are not needed), as pydicom does.
    let _ = matches!(status, Status::StreamEnd);
    Ok(())
}

/// Decodes one deflated frame into `out`.
pub fn decode_deflated_frame(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    check_output(DEFLATED_IMAGE_FRAME, frame, info, out)?;
    let stored = info.stored_frame_len_bytes()?;
    let direct = info.bits_allocated >= 8
        && stored == out.len()
        && (info.samples_per_pixel == 1 || info.planar_configuration == 0)
        && !info.has_unused_bits();
    if direct {
        return inflate_into(src, out, frame);
    }
    let mut tmp = vec![0u8; stored];
    inflate_into(src, &mut tmp, frame)?;
    let one = PixelInfo {
        number_of_frames: 1,
        ..info.clone()
    };
    decode_native_frame(&tmp, &one, 0, false, out).map_err(|e| match e {
        Error::Decode { reason, .. } => Error::decode(DEFLATED_IMAGE_FRAME, frame, reason),
        other => other,
    })
}

/// Encodes one frame (native little-endian layout, colour-by-pixel) with raw deflate.
/// The frame must be in a layout that is also its native encoding: Bits Allocated 8 or more, one sample or
/// Planar Configuration 0, not YBR_FULL_422.
pub fn encode_deflated_frame(src: &[u8], info: &PixelInfo, _opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    check_output(DEFLATED_IMAGE_FRAME, 0, info, src).map_err(|e| Error::Invalid(e.to_string()))?;
    if info.bits_allocated < 8
        || (info.samples_per_pixel > 1 && info.planar_configuration == 1)
        || info.photometric == "YBR_FULL_422"
    {
        return Err(Error::Invalid(
            "Deflated Image Frame encoding needs (0028,0100) 'Bits Allocated' of 8 or more, (0028,0006) 'Planar Configuration' 0 and no YBR_FULL_422 subsampling; convert the frame first".to_owned(),
        ));
    }
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(src)?;
    Ok(enc.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncated() {
        let info = PixelInfo {
            rows: 4,
            columns: 4,
            bits_allocated: 16,
            bits_stored: 16,
            high_bit: 15,
            ..PixelInfo::default()
        };
        let src: Vec<u8> = (0..32u8).collect();
        let enc = encode_deflated_frame(&src, &info, &super::super::EncodeOptions::default()).unwrap();
        let mut out = vec![0u8; 32];
        decode_deflated_frame(&enc, &info, 0, &mut out).unwrap();
        assert_eq!(out, src);
        assert!(decode_deflated_frame(&enc[..enc.len() / 2], &info, 0, &mut out).is_err());
        assert!(decode_deflated_frame(&[0xFF; 8], &info, 0, &mut out).is_err());
    }
}
