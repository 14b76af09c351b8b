//! Grayscale pixel transforms of PS3.3 §C.11: the Modality LUT or rescale (§C.11.1) and the VOI LUT or
//! window (§C.11.2), with the arithmetic of pydicom 3's `apply_modality_lut`, `apply_voi_lut` and
//! `apply_windowing`, so results compare equal.
//!
//! Inputs are decoded frames (little-endian samples of a [`Dtype`]); outputs are `f64` (rescale, window)
//! or `u16` (LUT lookups), as pydicom returns them.

use super::layout::Dtype;
use crate::{Error, Result};

/// Reads sample `i` of a little-endian frame as `f64`.
fn sample(frame: &[u8], dtype: Dtype, i: usize) -> f64 {
    let s = dtype.itemsize();
    let Some(b) = frame.get(i * s..i * s + s) else {
        return 0.0;
    };
    let mut a = [0u8; 8];
    if let Some(d) = a.get_mut(..s) {
        d.copy_from_slice(b);
    }
    let u = u64::from_le_bytes(a);
    match dtype {
        Dtype::U8 | Dtype::U16 | Dtype::U32 | Dtype::U64 => u as f64,
        Dtype::I8 => f64::from(u as u8 as i8),
        Dtype::I16 => f64::from(u as u16 as i16),
        Dtype::I32 => f64::from(u as u32 as i32),
        Dtype::I64 => u as i64 as f64,
        Dtype::F32 => f64::from(f32::from_bits(u as u32)),
        Dtype::F64 => f64::from_bits(u),
    }
}

fn check_len(frame: &[u8], dtype: Dtype, out_len: usize) -> Result<usize> {
    let n = frame.len() / dtype.itemsize();
    if n != out_len || !frame.len().is_multiple_of(dtype.itemsize()) {
        return Err(Error::Invalid(format!(
            "The output holds {out_len} values but the frame holds {} bytes of {}",
            frame.len(),
            dtype.numpy_str()
        )));
    }
    Ok(n)
}

/// Rescale (PS3.3 §C.11.1.1.2): `out = value * (0028,1053) 'Rescale Slope' + (0028,1052) 'Rescale Intercept'`.
///
/// ```
/// use _native::pixel::{layout::Dtype, lut::rescale};
/// let frame = 1000i16.to_le_bytes();
/// let mut out = [0.0];
/// rescale(&frame, Dtype::I16, 1.0, -1024.0, &mut out).unwrap();
/// assert_eq!(out, [-24.0]);
/// ```
pub fn rescale(frame: &[u8], dtype: Dtype, slope: f64, intercept: f64, out: &mut [f64]) -> Result<()> {
    let n = check_len(frame, dtype, out.len())?;
    for (i, o) in out.iter_mut().enumerate().take(n) {
        *o = sample(frame, dtype, i) * slope + intercept;
    }
    Ok(())
}

/// Samples that convert to `f32` exactly (8 and 16 bits): the inputs of [`rescale_to_f32`].
pub trait SmallSample: Copy + Send + Sync {
    /// The value as `f32` (exact).
    fn to_f32(self) -> f32;
}

macro_rules! small_sample {
    ($($t:ty),*) => {$(
        impl SmallSample for $t {
            #[inline(always)]
            fn to_f32(self) -> f32 {
                f32::from(self)
            }
        }
    )*};
}
small_sample!(u8, i8, u16, i16);

/// Rescale into `float32` (PS3.3 §C.11.1.1.2) as numpy computes it for a volume: `np.add(x, intercept)` when the
/// slope is 1, else `np.multiply(x, slope)` then `np.add(., intercept)` unless the intercept is 0, every step
/// in float32 (8- and 16-bit samples convert to float32 exactly), so the results are identical.
///
/// ```
/// use _native::pixel::lut::rescale_to_f32;
/// let mut out = [0f32; 2];
/// rescale_to_f32(&[1000i16, -2000], 1.0, -1024.0, &mut out).unwrap();
/// assert_eq!(out, [-24.0, -3024.0]);
/// ```
pub fn rescale_to_f32<T: SmallSample>(src: &[T], slope: f32, intercept: f32, out: &mut [f32]) -> Result<()> {
    if src.len() != out.len() {
        return Err(Error::Invalid(format!(
            "The output holds {} values but the frame holds {}",
            out.len(),
            src.len()
        )));
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { rescale_avx2(src, slope, intercept, out) };
        return Ok(());
    }
    rescale_f32_loop(src, slope, intercept, out);
    Ok(())
}

/// [`rescale_f32_loop`] compiled for AVX2 (eight samples per instruction).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn rescale_avx2<T: SmallSample>(src: &[T], slope: f32, intercept: f32, out: &mut [f32]) {
    rescale_f32_loop(src, slope, intercept, out);
}

#[inline(always)]
fn rescale_f32_loop<T: SmallSample>(src: &[T], slope: f32, intercept: f32, out: &mut [f32]) {
    // Three loops, one per numpy sequence, each simple enough to vectorise (no FMA: Rust never fuses a
    // product and a sum on its own, and numpy's two ufuncs round twice).
    let pairs = out.iter_mut().zip(src);
    if slope == 1.0 {
        for (o, &x) in pairs {
            *o = x.to_f32() + intercept;
        }
    } else if intercept == 0.0 {
        for (o, &x) in pairs {
            *o = x.to_f32() * slope;
        }
    } else {
        for (o, &x) in pairs {
            *o = x.to_f32() * slope + intercept;
        }
    }
}

/// A lookup table from (0028,3002) 'LUT Descriptor' and (0028,3006) 'LUT Data' (PS3.3 §C.11.1.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lut {
    /// First stored pixel value mapped (descriptor value 2; may be negative).
    pub first_map: i64,
    /// The entries (descriptor value 1 entries; 0 in the descriptor means 65536).
    pub data: Vec<u16>,
}

/// Maps each sample through `lut` (pydicom's `apply_modality_lut` / `apply_voi_lut` with a LUT): values
/// below the first mapped value take entry 0, values past the last entry take the last.
pub fn apply_lut(frame: &[u8], dtype: Dtype, lut: &Lut, out: &mut [u16]) -> Result<()> {
    let n = check_len(frame, dtype, out.len())?;
    let Some(last) = lut.data.len().checked_sub(1) else {
        return Err(Error::Invalid("The (0028,3006) 'LUT Data' is empty".to_owned()));
    };
    for (i, o) in out.iter_mut().enumerate().take(n) {
        let v = sample(frame, dtype, i);
        let idx = (v - lut.first_map as f64).clamp(0.0, last as f64) as usize;
        *o = lut.data.get(idx).copied().unwrap_or(0);
    }
    Ok(())
}

/// (0028,1056) 'VOI LUT Function' (PS3.3 §C.11.2.1.3).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VoiFunction {
    /// LINEAR (the default).
    Linear,
    /// LINEAR_EXACT.
    LinearExact,
    /// SIGMOID.
    Sigmoid,
}

impl VoiFunction {
    /// Parses the attribute's value (case-insensitive); an empty value is LINEAR.
    pub fn parse(value: &str) -> Result<Self> {
        match value.trim().to_ascii_uppercase().as_str() {
            "" | "LINEAR" => Ok(Self::Linear),
            "LINEAR_EXACT" => Ok(Self::LinearExact),
            "SIGMOID" => Ok(Self::Sigmoid),
            other => Err(Error::Invalid(format!(
                "Unsupported (0028,1056) VOI LUT Function value '{other}'"
            ))),
        }
    }
}

/// The output range of a window, as pydicom computes it: the stored range of Bits Stored (signed or
/// not), or `0..2^bits - 1` of a Modality LUT's entries, mapped through the rescale when there is one.
#[must_use]
pub fn window_output_range(
    bits_stored: u16,
    pixel_representation: u16,
    modality_lut_bits: Option<u16>,
    rescale: Option<(f64, f64)>,
) -> (f64, f64) {
    let (mut lo, mut hi) = match modality_lut_bits {
        Some(b) => (0.0, 2f64.powi(i32::from(b)) - 1.0),
        None if pixel_representation == 0 => (0.0, 2f64.powi(i32::from(bits_stored)) - 1.0),
        None => {
            let half = 2f64.powi(i32::from(bits_stored) - 1);
            (-half, half - 1.0)
        }
    };
    if let Some((slope, intercept)) = rescale {
        lo = lo * slope + intercept;
        hi = hi * slope + intercept;
    }
    (lo, hi)
}

/// Applies a window (PS3.3 §C.11.2.1.2) in place, with pydicom's `apply_windowing` arithmetic:
/// (0028,1050) 'Window Center', (0028,1051) 'Window Width', output range `y_min..=y_max`.
///
/// ```
/// use _native::pixel::lut::{VoiFunction, window};
/// let mut v = [0.0, 40.0, 1000.0];
/// window(&mut v, 40.0, 400.0, VoiFunction::Linear, 0.0, 255.0).unwrap();
/// assert_eq!(v[0], 102.25563909774435);
/// assert_eq!(v[2], 255.0);
/// ```
pub fn window(values: &mut [f64], center: f64, width: f64, func: VoiFunction, y_min: f64, y_max: f64) -> Result<()> {
    let y_range = y_max - y_min;
    match func {
        VoiFunction::Linear | VoiFunction::LinearExact => {
            let (c, w) = if func == VoiFunction::Linear {
                if width < 1.0 {
                    return Err(Error::Invalid(
                        "The (0028,1051) Window Width must be greater than or equal to 1 for a 'LINEAR' windowing operation"
                            .to_owned(),
                    ));
                }
                (center - 0.5, width - 1.0)
            } else {
                if width <= 0.0 {
                    return Err(Error::Invalid(
                        "The (0028,1051) Window Width must be greater than 0 for a 'LINEAR_EXACT' windowing operation"
                            .to_owned(),
                    ));
                }
                (center, width)
            };
            let (low, high) = (c - w / 2.0, c + w / 2.0);
            for v in values.iter_mut() {
                *v = if *v <= low {
                    y_min
                } else if *v > high {
                    y_max
                } else {
                    ((*v - c) / w + 0.5) * y_range + y_min
                };
            }
        }
        VoiFunction::Sigmoid => {
            if width <= 0.0 {
                return Err(Error::Invalid(
                    "The (0028,1051) Window Width must be greater than 0 for a 'SIGMOID' windowing operation"
                        .to_owned(),
                ));
            }
            for v in values.iter_mut() {
                *v = y_range / (1.0 + (-4.0 * (*v - center) / width).exp()) + y_min;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_clips_both_ends() {
        let lut = Lut {
            first_map: -2,
            data: vec![10, 20, 30],
        };
        let frame: Vec<u8> = [-5i16, -2, -1, 0, 9].iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut out = [0u16; 5];
        apply_lut(&frame, Dtype::I16, &lut, &mut out).unwrap();
        assert_eq!(out, [10, 10, 20, 30, 30]);
        assert!(
            apply_lut(
                &frame,
                Dtype::I16,
                &Lut {
                    first_map: 0,
                    data: vec![]
                },
                &mut out
            )
            .is_err()
        );
    }

    #[test]
    fn windows() {
        assert_eq!(
            window_output_range(12, 1, None, Some((1.0, -1024.0))),
            (-3072.0, 1023.0)
        );
        let mut v = [100.0, 50.0, 0.0];
        window(&mut v, 50.0, 100.0, VoiFunction::LinearExact, 0.0, 255.0).unwrap();
        assert_eq!(v, [255.0, 127.5, 0.0]);
        let mut s = [50.0];
        window(&mut s, 50.0, 100.0, VoiFunction::Sigmoid, 0.0, 255.0).unwrap();
        assert_eq!(s, [127.5]);
        assert!(window(&mut s, 50.0, 0.5, VoiFunction::Linear, 0.0, 255.0).is_err());
        assert!(VoiFunction::parse("bogus").is_err());
    }
}
