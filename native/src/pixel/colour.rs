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

/// pshufb masks that gather one channel of 16 interleaved triplets (48 bytes in three 16-byte registers):
/// `[channel][register]`, byte j of the result takes byte 3j + channel of the 48 (0x80: none from here).
const GATHER: [[[u8; 16]; 3]; 3] = {
    let mut m = [[[0x80u8; 16]; 3]; 3];
    let mut c = 0;
    while c < 3 {
        let mut j = 0;
        while j < 16 {
            let at = 3 * j + c;
            m[c][at / 16][j] = (at % 16) as u8;
            j += 1;
        }
        c += 1;
    }
    m
};

/// The inverse: `[register][channel]`, byte k of output register r takes byte (16r + k) / 3 of the channel
/// (16r + k) % 3 names.
const SCATTER: [[[u8; 16]; 3]; 3] = {
    let mut m = [[[0x80u8; 16]; 3]; 3];
    let mut r = 0;
    while r < 3 {
        let mut k = 0;
        while k < 16 {
            let at = 16 * r + k;
            m[r][at % 3][k] = (at / 3) as u8;
            k += 1;
        }
        r += 1;
    }
    m
};

/// Interleaves three planes of `n` samples (Y, Cb, Cr or R, G, B) into `out` (3n bytes, colour-by-pixel),
/// converting YBR_FULL to RGB on the way when `to_rgb` (the same values as [`ybr_full_to_rgb_u8`] on the
/// interleaved triplets). A decoder that yields planes (JPEG 4:4:4 raw data) needs no separate pass.
///
/// ```
/// use _native::pixel::colour::interleave_planes_u8;
/// let mut out = [0u8; 3];
/// interleave_planes_u8([&[76], &[85], &[255]], &mut out, true).unwrap();
/// assert_eq!(out, [254, 0, 0]);
/// ```
pub fn interleave_planes_u8(planes: [&[u8]; 3], out: &mut [u8], to_rgb: bool) -> Result<()> {
    let n = planes[0].len();
    if planes[1].len() != n || planes[2].len() != n || out.len() != 3 * n {
        return Err(Error::Invalid(format!(
            "Planes of {}, {} and {} samples do not fill {} bytes of triplets",
            n,
            planes[1].len(),
            planes[2].len(),
            out.len()
        )));
    }
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the function is compiled for (checked just above); the lengths
        // were checked above.
        done = unsafe { planes_avx2(planes, out, to_rgb) };
    }
    let tail = out.get_mut(3 * done..).unwrap_or_default();
    for (i, px) in tail.chunks_exact_mut(3).enumerate() {
        for (c, plane) in planes.iter().enumerate() {
            px[c] = plane[done + i];
        }
    }
    if to_rgb {
        ybr_to_rgb_blocks(tail);
    }
    Ok(())
}

/// The three AVX2 + FMA steps of the kernels below, 16 pixels at a time.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{GATHER, SCATTER};

    #[inline]
    #[target_feature(enable = "avx2")]
    fn mask(m: &[u8; 16]) -> __m128i {
        // SAFETY: reads 16 bytes from a 16-byte array.
        unsafe { _mm_loadu_si128(m.as_ptr().cast()) }
    }

    /// The Y, Cb and Cr (or any three channels) of 16 interleaved triplets at `p` (48 bytes).
    ///
    /// # Safety
    /// `p` points to 48 readable bytes; the CPU has AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn gather(p: *const u8) -> [__m128i; 3] {
        // SAFETY: three unaligned 16-byte loads inside the 48 bytes the caller vouches for.
        let v = unsafe {
            [
                _mm_loadu_si128(p.cast()),
                _mm_loadu_si128(p.add(16).cast()),
                _mm_loadu_si128(p.add(32).cast()),
            ]
        };
        std::array::from_fn(|c| {
            _mm_or_si128(
                _mm_or_si128(
                    _mm_shuffle_epi8(v[0], mask(&GATHER[c][0])),
                    _mm_shuffle_epi8(v[1], mask(&GATHER[c][1])),
                ),
                _mm_shuffle_epi8(v[2], mask(&GATHER[c][2])),
            )
        })
    }

    /// Stores three channels of 16 pixels at `p` as 16 interleaved triplets (48 bytes).
    ///
    /// # Safety
    /// `p` points to 48 writable bytes; the CPU has AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn scatter(p: *mut u8, ch: [__m128i; 3]) {
        for (r, m) in SCATTER.iter().enumerate() {
            let out = _mm_or_si128(
                _mm_or_si128(
                    _mm_shuffle_epi8(ch[0], mask(&m[0])),
                    _mm_shuffle_epi8(ch[1], mask(&m[1])),
                ),
                _mm_shuffle_epi8(ch[2], mask(&m[2])),
            );
            // SAFETY: a 16-byte store inside the 48 bytes the caller vouches for.
            unsafe { _mm_storeu_si128(p.add(16 * r).cast(), out) };
        }
    }

    /// [`super::ybr_to_rgb_blocks`] for 16 pixels: the same fused multiply-adds and additions in the same
    /// order in 8-lane floats, so every value is bit-identical to the scalar code.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn ybr16(ybr: [__m128i; 3]) -> [__m128i; 3] {
        #[allow(clippy::cast_possible_truncation)]
        let (cb_g, cr_g) = ((-0.114f64 * 1.772 / 0.587) as f32, (-0.299f64 * 1.402 / 0.587) as f32);
        let (k_cr_r, k_cb_b) = (_mm256_set1_ps(1.402), _mm256_set1_ps(1.772));
        let (k_cb_g, k_cr_g) = (_mm256_set1_ps(cb_g), _mm256_set1_ps(cr_g));
        let (half, bias) = (_mm256_set1_ps(0.5), _mm256_set1_ps(128.0));
        // 16 bytes -> two vectors of 8 floats
        let widen = |v: __m128i| {
            (
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)),
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128::<8>(v))),
            )
        };
        // The scalar `round` for two vectors of 8 -> 16 bytes: v + 0.5 truncated, clamped by the saturating
        // packs (|v| < 600, so the integers never overflow). Truncation takes (-1, 0) to 0, as the scalar
        // clamp does, and the packs take the rest below 0 to 0 and above 255 to 255.
        let narrow = |lo: __m256, hi: __m256| {
            let q = |v: __m256| _mm256_cvttps_epi32(_mm256_add_ps(v, half));
            let words = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi32(q(lo), q(hi)));
            _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256::<1>(words))
        };
        let (y0, y1) = widen(ybr[0]);
        let (b0, b1) = widen(ybr[1]);
        let (r0, r1) = widen(ybr[2]);
        let (b0, b1, r0, r1) = (
            _mm256_sub_ps(b0, bias),
            _mm256_sub_ps(b1, bias),
            _mm256_sub_ps(r0, bias),
            _mm256_sub_ps(r1, bias),
        );
        [
            narrow(_mm256_fmadd_ps(r0, k_cr_r, y0), _mm256_fmadd_ps(r1, k_cr_r, y1)),
            narrow(
                _mm256_fmadd_ps(r0, k_cr_g, _mm256_fmadd_ps(b0, k_cb_g, y0)),
                _mm256_fmadd_ps(r1, k_cr_g, _mm256_fmadd_ps(b1, k_cb_g, y1)),
            ),
            narrow(_mm256_fmadd_ps(b0, k_cb_b, y0), _mm256_fmadd_ps(b1, k_cb_b, y1)),
        ]
    }
}

/// [`ybr_to_rgb_blocks`] with AVX2 + FMA intrinsics, 16 pixels per step: triplets de-interleaved with
/// byte shuffles, converted by [`avx2::ybr16`], interleaved back. The last pixels (fewer than 16) go
/// through the scalar code.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn ybr_to_rgb_avx2(data: &mut [u8]) {
    let mut chunks = data.chunks_exact_mut(48);
    for chunk in &mut chunks {
        let p = chunk.as_mut_ptr();
        // SAFETY: `p` points to a 48-byte chunk; the CPU has AVX2 and FMA (this function's target features,
        // checked by the caller).
        unsafe { avx2::scatter(p, avx2::ybr16(avx2::gather(p))) };
    }
    ybr_to_rgb_blocks(chunks.into_remainder());
}

/// [`interleave_planes_u8`] in 16-pixel steps, the last (partial) step through a zero-padded block;
/// returns how many pixels it wrote (all of them).
///
/// # Safety
/// The CPU has AVX2 and FMA; the planes hold `n` samples each and `out` 3n bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn planes_avx2(planes: [&[u8]; 3], out: &mut [u8], to_rgb: bool) -> usize {
    use std::arch::x86_64::_mm_loadu_si128;
    let len = planes[0].len();
    let n = len / 16 * 16;
    let step = |ch: [std::arch::x86_64::__m128i; 3], dst: *mut u8| {
        // SAFETY: `dst` points to 48 writable bytes (the callers below).
        unsafe { avx2::scatter(dst, if to_rgb { avx2::ybr16(ch) } else { ch }) };
    };
    for i in (0..n).step_by(16) {
        // SAFETY: i + 16 <= n, within each plane, and 3i + 48 <= 3n, within `out` (the caller's lengths).
        unsafe {
            step(
                [0, 1, 2].map(|c| _mm_loadu_si128(planes[c].as_ptr().add(i).cast())),
                out.as_mut_ptr().add(3 * i),
            )
        };
    }
    if n < len {
        // The tail (short rows end in one) in the same vector code: a scalar tail would call a software
        // fused multiply-add for every sample.
        let rest = len - n;
        let mut block = [[0u8; 16]; 3];
        for (b, plane) in block.iter_mut().zip(planes) {
            b[..rest].copy_from_slice(&plane[n..]);
        }
        let mut tmp = [0u8; 48];
        // SAFETY: 16-byte loads from 16-byte arrays; `tmp` holds 48 bytes.
        unsafe { step(block.map(|b| _mm_loadu_si128(b.as_ptr().cast())), tmp.as_mut_ptr()) };
        out[3 * n..].copy_from_slice(&tmp[..3 * rest]);
    }
    len
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

    /// The AVX2 kernel gives the scalar code's bytes for every triplet, and for lengths that leave a
    /// remainder of every size.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn simd_equals_scalar_for_every_triplet() {
        if !(std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")) {
            return;
        }
        let all: Vec<u8> = (0..1u32 << 24)
            .flat_map(|v| [(v >> 16) as u8, (v >> 8) as u8, v as u8])
            .collect();
        for len in [all.len(), 3, 45, 48, 51, 93, 96, 3 * 1001] {
            let (mut simd, mut scalar) = (all[..len].to_vec(), all[..len].to_vec());
            // SAFETY: the features were detected above.
            unsafe { ybr_to_rgb_avx2(&mut simd) };
            ybr_to_rgb_blocks(&mut scalar);
            assert!(simd == scalar, "{len} bytes differ");
        }
    }

    /// The planar kernel gives the interleaved conversion's bytes (with and without the conversion), for
    /// lengths that leave every remainder.
    #[test]
    fn planes_equal_interleaved() {
        let all: Vec<u8> = (0..1u32 << 24)
            .flat_map(|v| [(v >> 16) as u8, (v >> 8) as u8, v as u8])
            .collect();
        for len in [all.len(), 3, 45, 48, 51, 93, 96, 3 * 1001] {
            let src = &all[..len];
            let planes: Vec<Vec<u8>> = (0..3)
                .map(|c| src.iter().skip(c).step_by(3).copied().collect())
                .collect();
            let planes = [planes[0].as_slice(), planes[1].as_slice(), planes[2].as_slice()];
            let mut out = vec![0u8; len];
            interleave_planes_u8(planes, &mut out, false).unwrap();
            assert!(out == src, "{len} bytes: interleave differs");
            let mut want = src.to_vec();
            ybr_full_to_rgb_u8(&mut want).unwrap();
            interleave_planes_u8(planes, &mut out, true).unwrap();
            assert!(out == want, "{len} bytes: conversion differs");
        }
        assert!(interleave_planes_u8([&[1], &[2], &[]], &mut [0u8; 3], false).is_err());
    }

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
