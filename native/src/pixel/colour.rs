//! Colour space conversion of decoded frames: YBR_FULL and YBR_FULL_422 to RGB (and back), with the
//! coefficients of PS3.3 §C.7.6.3.1.2 / ITU-T T.871 §7 and the same float32 arithmetic and rounding as
//! pydicom 3's `convert_color_space`, so results compare equal.
//!
//! Whether to convert is the caller's choice: pydicom converts by default (`as_rgb=True`); `raw=True`
//! keeps the stored values. pydicom converts only 8-bit data; so do we.

use crate::{Error, Result};

/// Converts interleaved 8-bit YBR_FULL triplets to RGB in place (YBR_FULL_422 frames decode to full
/// YBR first, so they use the same transform).
///
/// ```
/// use _native::pixel::colour::ybr_full_to_rgb_u8;
/// let mut px = [76u8, 85, 255];
/// ybr_full_to_rgb_u8(&mut px).unwrap();
/// assert_eq!(px, [254, 0, 0]);
/// ```
pub fn ybr_full_to_rgb_u8(data: &mut [u8]) -> Result<()> {
    if !data.len().is_multiple_of(3) {
        return Err(Error::Invalid(format!(
            "A YBR_FULL frame must hold whole triplets of samples, not {} bytes",
            data.len()
        )));
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the function is compiled for (checked just above).
        unsafe { ybr_to_rgb_avx2(data) };
        return Ok(());
    }
    ybr_to_rgb_blocks(data);
    Ok(())
}

/// [`ybr_to_rgb_blocks`] compiled for AVX2 + FMA: eight pixels per instruction, fused multiply-adds in hardware.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn ybr_to_rgb_avx2(data: &mut [u8]) {
    ybr_to_rgb_blocks(data);
}

/// pydicom multiplies the (N, 3) float32 array by the 3x3 matrix with `np.matmul`, which numpy hands to BLAS
/// (`sgemm`); OpenBLAS's kernels for every CPU with FMA (x86-64 since 2013) accumulate
/// `y * 1 + cb * m[1][k] + cr * m[2][k]` with fused multiply-adds, one rounding each. Separate products and
/// sums differ from it in 42 of the 2^24 triplets (tests/pixels/test_colour.py checks all of them), so the
/// sums here are `mul_add`s in the same order. Then floor(x + 0.5) clipped to 0..=255, which
/// `(x + 0.5).clamp(0, 255)` truncated gives for x + 0.5 >= 0.
#[inline(always)]
fn ybr_to_rgb_blocks(data: &mut [u8]) {
    // The matrix pydicom uses (PS3.3 §C.7.6.3.1.2): computed in double precision, then stored as float32
    // (numpy's `asarray(..., dtype=float32)`); computed in f32 the two quotients differ in the last bit.
    #[allow(clippy::cast_possible_truncation)]
    let (cb_g, cr_g) = ((-0.114f64 * 1.772 / 0.587) as f32, (-0.299f64 * 1.402 / 0.587) as f32);
    let cb_b: f32 = 1.772;
    let cr_r: f32 = 1.402;
    // Blocks of pixels: de-interleaved into float lanes, converted with straight-line arithmetic the compiler
    // vectorises, interleaved back.
    const BLOCK: usize = 64;
    let mut y = [0f32; BLOCK];
    let mut cb = [0f32; BLOCK];
    let mut cr = [0f32; BLOCK];
    let mut rgb = [[0u8; BLOCK]; 3];
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let round = |v: f32| -> u8 {
        let c = (v + 0.5).clamp(0.0, 255.0);
        // SAFETY: `c` is finite and within 0..=255 (clamped; the inputs are small integers and constants),
        // so the conversion cannot overflow. Unlike `as`, it vectorises (cvttps2dq).
        unsafe { c.to_int_unchecked::<i32>() as u8 }
    };
    for chunk in data.chunks_mut(BLOCK * 3) {
        for (i, px) in chunk.chunks_exact(3).enumerate() {
            y[i] = f32::from(px[0]);
            cb[i] = f32::from(px[1]) - 128.0;
            cr[i] = f32::from(px[2]) - 128.0;
        }
        for i in 0..BLOCK {
            // The zero terms of the matrix add nothing (a fused 0 * x + y is y).
            rgb[0][i] = round(cr[i].mul_add(cr_r, y[i]));
            rgb[1][i] = round(cr[i].mul_add(cr_g, cb[i].mul_add(cb_g, y[i])));
            rgb[2][i] = round(cb[i].mul_add(cb_b, y[i]));
        }
        for (i, px) in chunk.chunks_exact_mut(3).enumerate() {
            px[0] = rgb[0][i];
            px[1] = rgb[1][i];
            px[2] = rgb[2][i];
        }
    }
}

/// Converts interleaved 8-bit RGB triplets to YBR_FULL in place (pydicom's `_convert_RGB_to_YBR_FULL`).
pub fn rgb_to_ybr_full_u8(data: &mut [u8]) -> Result<()> {
    if !data.len().is_multiple_of(3) {
        return Err(Error::Invalid(format!(
            "An RGB frame must hold whole triplets of samples, not {} bytes",
            data.len()
        )));
    }
    // pydicom's matrix, computed in double precision and stored as float32, summed as BLAS does (see
    // `ybr_to_rgb_blocks`): the first product, then fused multiply-adds.
    #[allow(clippy::cast_possible_truncation)]
    let m: [[f32; 3]; 3] = [
        [0.299, (-0.299f64 / 1.772) as f32, (0.701f64 / 1.402) as f32],
        [0.587, (-0.587f64 / 1.772) as f32, (-0.587f64 / 1.402) as f32],
        [0.114, (0.886f64 / 1.772) as f32, (-0.114f64 / 1.402) as f32],
    ];
    for px in data.chunks_exact_mut(3) {
        let (r, g, b) = (f32::from(px[0]), f32::from(px[1]), f32::from(px[2]));
        let mut o = [0u8; 3];
        for (k, add) in [0.5f32, 128.5, 128.5].iter().enumerate() {
            let v = b.mul_add(m[2][k], g.mul_add(m[1][k], r * m[0][k])) + add;
            o[k] = v.floor().clamp(0.0, 255.0) as u8;
        }
        px.copy_from_slice(&o);
    }
    Ok(())
}

/// True when pydicom would convert a decoded frame with this Photometric Interpretation to RGB
/// (its default `as_rgb=True`), given 3 samples of 8 bits.
#[must_use]
pub fn converts_to_rgb(photometric: &str, samples_per_pixel: u16, bits_allocated: u16) -> bool {
    samples_per_pixel == 3 && bits_allocated == 8 && matches!(photometric, "YBR_FULL" | "YBR_FULL_422")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_close() {
        let mut px = [200u8, 30, 90, 0, 0, 0, 255, 255, 255];
        let orig = px;
        rgb_to_ybr_full_u8(&mut px).unwrap();
        ybr_full_to_rgb_u8(&mut px).unwrap();
        for (a, b) in px.iter().zip(orig.iter()) {
            assert!((i16::from(*a) - i16::from(*b)).abs() <= 1);
        }
        assert!(ybr_full_to_rgb_u8(&mut [0u8; 4]).is_err());
    }
}
