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
    // The matrix pydicom uses, as float32 (PS3.3 §C.7.6.3.1.2).
    let cb_g: f32 = -0.114 * 1.772 / 0.587;
    let cr_g: f32 = -0.299 * 1.402 / 0.587;
    let cb_b: f32 = 1.772;
    let cr_r: f32 = 1.402;
    // floor(x + 0.5) clipped to 0..=255, as pydicom does: a saturating `as u8` of x + 0.5 gives exactly
    // that (it truncates toward zero, which is floor for x + 0.5 >= 0, and saturates below 0 and above
    // 255) without a call to floorf.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let clamp = |v: f32| -> u8 { (v + 0.5) as u8 };
    // The products of each chroma value with its coefficients, computed once: the same float32 values as
    // multiplying per pixel, so the sums below round exactly as before.
    let mut cr_r_t = [0f32; 256];
    let mut cb_g_t = [0f32; 256];
    let mut cr_g_t = [0f32; 256];
    let mut cb_b_t = [0f32; 256];
    for v in 0..256u16 {
        let c = f32::from(v) - 128.0;
        let i = usize::from(v);
        cr_r_t[i] = c * cr_r;
        cb_g_t[i] = c * cb_g;
        cr_g_t[i] = c * cr_g;
        cb_b_t[i] = c * cb_b;
    }
    for px in data.chunks_exact_mut(3) {
        let y = f32::from(px[0]);
        let (cb, cr) = (usize::from(px[1]), usize::from(px[2]));
        // Row-by-column products summed in the order numpy's matmul does for a 3x3 (the zero terms add
        // nothing: y * 1.0 + 0.0 is y).
        let r = y + cr_r_t[cr];
        let g = (y + cb_g_t[cb]) + cr_g_t[cr];
        let b = y + cb_b_t[cb];
        px[0] = clamp(r);
        px[1] = clamp(g);
        px[2] = clamp(b);
    }
    Ok(())
}

/// Converts interleaved 8-bit RGB triplets to YBR_FULL in place (pydicom's `_convert_RGB_to_YBR_FULL`).
pub fn rgb_to_ybr_full_u8(data: &mut [u8]) -> Result<()> {
    if !data.len().is_multiple_of(3) {
        return Err(Error::Invalid(format!(
            "An RGB frame must hold whole triplets of samples, not {} bytes",
            data.len()
        )));
    }
    let m: [[f32; 3]; 3] = [
        [0.299, -0.299 / 1.772, 0.701 / 1.402],
        [0.587, -0.587 / 1.772, -0.587 / 1.402],
        [0.114, 0.886 / 1.772, -0.114 / 1.402],
    ];
    for px in data.chunks_exact_mut(3) {
        let (r, g, b) = (f32::from(px[0]), f32::from(px[1]), f32::from(px[2]));
        let mut o = [0u8; 3];
        for (k, add) in [0.5f32, 128.5, 128.5].iter().enumerate() {
            let v = r * m[0][k] + g * m[1][k] + b * m[2][k] + add;
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
