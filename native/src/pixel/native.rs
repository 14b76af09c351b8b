//! Native (uncompressed) Pixel Data (PS3.5 §8.1.1, §8.2): frame `i` copied or converted into the
//! decoded layout: little endian, colour-by-pixel, one sample per element, Bits Allocated 1 unpacked to
//! 0/1 bytes, native YBR_FULL_422 expanded to YBR_FULL, unused high bits corrected as pydicom does.
//!
//! [`native_frame_range`] tells when a frame can instead be viewed in place (zero copy).

use std::ops::Range;

use super::layout::{PixelInfo, correct_unused_bits};
use crate::{Error, Result};

/// The transfer syntax reported in errors for native data (the exact UID is the caller's).
const NATIVE_TS: &str = "native";

fn short(index: usize, need: usize, have: usize) -> Error {
    Error::decode(
        NATIVE_TS,
        index,
        format!(
            "There is insufficient pixel data to contain frame {}: {need} bytes are needed but only {have} remain",
            index.saturating_add(1)
        ),
    )
}

/// Copies (or converts) frame `index` of native pixel data `data` into `out`
/// (`out.len() == info.frame_len_bytes()`).
///
/// `big_endian` is for Explicit VR Big Endian (retired): multi-byte samples are swapped; for Bits
/// Allocated 8 it means the value was written as OW, so byte pairs are swapped (pass `false` for OB).
/// For Bits Allocated 1 the bits of frame `index` may start mid-byte: frames are not padded (PS3.5 §8.1.1)
/// and bits are packed least significant first.
///
/// ```
/// use _native::pixel::{layout::PixelInfo, native::decode_native_frame};
/// let info = PixelInfo { rows: 1, columns: 3, bits_allocated: 1, bits_stored: 1, high_bit: 0,
///                        number_of_frames: 2, ..PixelInfo::default() };
/// let mut out = [0u8; 3];
/// decode_native_frame(&[0b0010_1101], &info, 1, false, &mut out).unwrap();
/// assert_eq!(out, [1, 0, 1]);
/// ```
pub fn decode_native_frame(
    data: &[u8],
    info: &PixelInfo,
    index: usize,
    big_endian: bool,
    out: &mut [u8],
) -> Result<()> {
    info.validate()?;
    let frame_len = info.frame_len_bytes()?;
    if out.len() != frame_len {
        return Err(Error::decode(
            NATIVE_TS,
            index,
            format!("The output buffer has {} bytes, a frame needs {frame_len}", out.len()),
        ));
    }
    let ba = usize::from(info.bits_allocated);
    if ba == 1 {
        return unpack_bits(data, info, index, out);
    }
    let stored = info.stored_frame_len_bytes()?;
    let start = index
        .checked_mul(stored)
        .ok_or_else(|| short(index, usize::MAX, data.len()))?;
    let end = start
        .checked_add(stored)
        .ok_or_else(|| short(index, usize::MAX, data.len()))?;
    let size = ba / 8;
    let spp = usize::from(info.samples_per_pixel);
    let ybr422 = info.photometric == "YBR_FULL_422" && spp == 3;

    // One intermediate when the layout changes; otherwise straight into `out`.
    let needs_reorder = ybr422 || (spp > 1 && info.planar_configuration == 1);
    let mut tmp = Vec::new();
    let dst: &mut [u8] = if needs_reorder {
        tmp = vec![0u8; stored];
        &mut tmp
    } else {
        &mut *out
    };

    if big_endian && size == 1 {
        // 8-bit data written as OW in big endian: each pair of bytes is swapped, and the padding byte of
        // an odd-length value sits before the last byte (pydicom's `be_swap_ow`).
        for (i, d) in dst.iter_mut().enumerate() {
            let pos = start + i;
            let src = pos ^ 1;
            *d = *data.get(src).ok_or_else(|| short(index, end + 1, data.len()))?;
        }
    } else {
        let src = data.get(start..end).ok_or_else(|| short(index, end, data.len()))?;
        if big_endian && size > 1 {
            for (d, s) in dst.chunks_exact_mut(size).zip(src.chunks_exact(size)) {
                for (k, b) in d.iter_mut().enumerate() {
                    *b = s.get(size - 1 - k).copied().unwrap_or(0);
                }
            }
        } else {
            dst.copy_from_slice(src);
        }
    }

    if needs_reorder {
        let npix = info.rows as usize * info.columns as usize;
        if ybr422 {
            // PS3.3 §C.7.6.3.1.2: Y1 Y2 Cb Cr per two pixels -> Y1 Cb Cr Y2 Cb Cr.
            expand_ybr422(&tmp, out, size, npix);
        } else {
            // Planar Configuration 1 (PS3.3 §C.7.6.3.1.3): RRR..GGG..BBB.. -> RGBRGB..
            let plane = npix * size;
            for s in 0..spp {
                let src_plane = tmp.get(s * plane..(s + 1) * plane).unwrap_or_default();
                for (p, v) in src_plane.chunks_exact(size).enumerate() {
                    let o = (p * spp + s) * size;
                    if let Some(d) = out.get_mut(o..o + size) {
                        d.copy_from_slice(v);
                    }
                }
            }
        }
    }
    if info.has_unused_bits() {
        correct_unused_bits(out, info.output_dtype(), info.bits_stored);
    }
    Ok(())
}

/// Y1 Y2 Cb Cr groups (each `size` bytes) to Y1 Cb Cr Y2 Cb Cr.
fn expand_ybr422(src: &[u8], out: &mut [u8], size: usize, npix: usize) {
    let group_in = 4 * size;
    let group_out = 6 * size;
    for (g, (i, o)) in src
        .chunks_exact(group_in)
        .zip(out.chunks_exact_mut(group_out))
        .enumerate()
    {
        if 2 * g >= npix {
            break;
        }
        let (y1, rest) = i.split_at(size);
        let (y2, rest) = rest.split_at(size);
        let (cb, cr) = rest.split_at(size);
        for (k, part) in [y1, cb, cr, y2, cb, cr].iter().enumerate() {
            if let Some(d) = o.get_mut(k * size..(k + 1) * size) {
                d.copy_from_slice(part);
            }
        }
    }
}

/// Bits Allocated 1: frame `index` starts at bit `index * samples` (PS3.5 §8.1.1, least significant bit
/// first) and each bit becomes one byte 0 or 1.
fn unpack_bits(data: &[u8], info: &PixelInfo, index: usize, out: &mut [u8]) -> Result<()> {
    let n = info.frame_samples()?;
    let bit_start = index
        .checked_mul(n)
        .ok_or_else(|| short(index, usize::MAX, data.len()))?;
    let bit_end = bit_start
        .checked_add(n)
        .ok_or_else(|| short(index, usize::MAX, data.len()))?;
    let byte_end = bit_end.div_ceil(8);
    if byte_end > data.len() {
        return Err(short(index, byte_end, data.len()));
    }
    let spp = usize::from(info.samples_per_pixel);
    let planar = spp > 1 && info.planar_configuration == 1;
    let npix = n / spp.max(1);
    for (i, o) in out.iter_mut().enumerate().take(n) {
        // Source sample for output position i (colour-by-pixel), taking planar order into account.
        let src_i = if planar { (i % spp) * npix + i / spp } else { i };
        let bit = bit_start + src_i;
        let byte = data.get(bit / 8).copied().unwrap_or(0);
        *o = (byte >> (bit % 8)) & 1;
    }
    Ok(())
}

/// The byte range of frame `index` in `data` when it can be viewed in place as the decoded array: little
/// endian, Bits Allocated 8/16/32/64, colour-by-pixel (or one sample), not YBR_FULL_422; `None` when a copy
/// is needed. Errors when the data is too short for the frame.
///
/// The view holds the stored values: when Bits Stored < Bits Allocated pydicom also clears or sign-extends
/// the unused high bits; [`super::layout::unused_bits_are_clean`] tells whether the view already equals that.
pub fn native_frame_range(data_len: usize, info: &PixelInfo, index: usize) -> Result<Option<Range<usize>>> {
    info.validate()?;
    let stored = info.stored_frame_len_bytes()?;
    let start = index
        .checked_mul(stored)
        .ok_or_else(|| short(index, usize::MAX, data_len))?;
    let end = start
        .checked_add(stored)
        .ok_or_else(|| short(index, usize::MAX, data_len))?;
    if info.bits_allocated == 1 {
        let n = info.frame_samples()?;
        let bit_end = index
            .checked_add(1)
            .and_then(|k| k.checked_mul(n))
            .ok_or_else(|| short(index, usize::MAX, data_len))?;
        if bit_end.div_ceil(8) > data_len {
            return Err(short(index, bit_end.div_ceil(8), data_len));
        }
        return Ok(None);
    }
    if end > data_len {
        return Err(short(index, end, data_len));
    }
    let spp = info.samples_per_pixel;
    if (spp > 1 && info.planar_configuration == 1) || (info.photometric == "YBR_FULL_422" && spp == 3) {
        return Ok(None);
    }
    Ok(Some(start..end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(ba: u16, spp: u16, planar: u16, frames: u32) -> PixelInfo {
        PixelInfo {
            rows: 1,
            columns: 3,
            samples_per_pixel: spp,
            bits_allocated: ba,
            bits_stored: ba,
            high_bit: ba - 1,
            planar_configuration: planar,
            number_of_frames: frames,
            ..PixelInfo::default()
        }
    }

    #[test]
    fn planar_to_interleaved_and_big_endian() {
        let i = info(16, 3, 1, 1);
        // R R R G G G B B B, big endian.
        let data: Vec<u8> = (1u16..=9).flat_map(|v| v.to_be_bytes()).collect();
        let mut out = vec![0; 18];
        decode_native_frame(&data, &i, 0, true, &mut out).unwrap();
        let vals: Vec<u16> = out.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(vals, [1, 4, 7, 2, 5, 8, 3, 6, 9]);
        assert_eq!(native_frame_range(18, &i, 0).unwrap(), None);
        assert_eq!(native_frame_range(36, &info(16, 3, 0, 2), 1).unwrap(), Some(18..36));
        assert!(native_frame_range(35, &info(16, 3, 0, 2), 1).is_err());
    }

    #[test]
    fn be_ow_8bit_odd() {
        // 1 x 3 x 1 8-bit frames, 2 frames in OW big endian: bytes 0..6 swapped pairwise.
        let i = info(8, 1, 0, 2);
        let data = [2u8, 1, 4, 3, 6, 5];
        let mut out = [0u8; 3];
        decode_native_frame(&data, &i, 0, true, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
        decode_native_frame(&data, &i, 1, true, &mut out).unwrap();
        assert_eq!(out, [4, 5, 6]);
    }

    #[test]
    fn bits_mid_byte_and_short() {
        let i = PixelInfo {
            rows: 1,
            columns: 5,
            ..info(1, 1, 0, 2)
        };
        let data = [0b1110_0000u8, 0b0000_0011];
        let mut out = [9u8; 5];
        decode_native_frame(&data, &i, 1, false, &mut out).unwrap();
        assert_eq!(out, [1, 1, 1, 1, 1]);
        assert!(decode_native_frame(&data[..1], &i, 1, false, &mut out).is_err());
        assert!(decode_native_frame(&data, &i, usize::MAX, false, &mut out).is_err());
    }

    #[test]
    fn ybr_422_expands() {
        let mut i = info(8, 3, 0, 1);
        i.columns = 2;
        i.photometric = "YBR_FULL_422".to_owned();
        let mut out = [0u8; 6];
        decode_native_frame(&[10, 20, 1, 2], &i, 0, false, &mut out).unwrap();
        assert_eq!(out, [10, 1, 2, 20, 1, 2]);
    }

    #[test]
    fn unused_bits_corrected() {
        let mut i = info(16, 1, 0, 1);
        i.columns = 1;
        i.bits_stored = 12;
        i.pixel_representation = 1;
        let mut out = [0u8; 2];
        decode_native_frame(&0x0FFFu16.to_le_bytes(), &i, 0, false, &mut out).unwrap();
        assert_eq!(i16::from_le_bytes(out), -1);
    }
}
