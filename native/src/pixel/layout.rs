//! Frame layout: the Image Pixel attributes (PS3.3 §C.7.6.3) that describe a frame, the numpy dtype a
//! decoded frame gets, and the byte sizes of one frame as stored and as decoded.
//!
//! The dtype rules follow pydicom 3 so arrays compare equal: Bits Allocated 1 gives `u8` holding 0/1,
//! 8/16/32/64 give unsigned or signed integers by Pixel Representation, and Float / Double Float Pixel
//! Data (7FE0,0008) / (7FE0,0009) give `f4` / `f8`.

use crate::{Error, Result};

/// Which pixel data element holds the values.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum FloatKind {
    /// (7FE0,0010) Pixel Data: integers.
    #[default]
    None,
    /// (7FE0,0008) Float Pixel Data: 32-bit IEEE floats.
    Float,
    /// (7FE0,0009) Double Float Pixel Data: 64-bit IEEE floats.
    Double,
}

/// The element type of a decoded frame, as numpy names it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `uint8`
    U8,
    /// `int8`
    I8,
    /// `uint16`
    U16,
    /// `int16`
    I16,
    /// `uint32`
    U32,
    /// `int32`
    I32,
    /// `uint64`
    U64,
    /// `int64`
    I64,
    /// `float32`
    F32,
    /// `float64`
    F64,
}

impl Dtype {
    /// Bytes of one element.
    ///
    /// ```
    /// use _native::pixel::layout::Dtype;
    /// assert_eq!(Dtype::I16.itemsize(), 2);
    /// ```
    #[must_use]
    pub const fn itemsize(self) -> usize {
        match self {
            Dtype::U8 | Dtype::I8 => 1,
            Dtype::U16 | Dtype::I16 => 2,
            Dtype::U32 | Dtype::I32 | Dtype::F32 => 4,
            Dtype::U64 | Dtype::I64 | Dtype::F64 => 8,
        }
    }

    /// The numpy array-interface type string, little endian (`"<u2"`); one-byte types have `"|"`.
    ///
    /// ```
    /// use _native::pixel::layout::Dtype;
    /// assert_eq!(Dtype::U16.numpy_str(), "<u2");
    /// ```
    #[must_use]
    pub const fn numpy_str(self) -> &'static str {
        match self {
            Dtype::U8 => "|u1",
            Dtype::I8 => "|i1",
            Dtype::U16 => "<u2",
            Dtype::I16 => "<i2",
            Dtype::U32 => "<u4",
            Dtype::I32 => "<i4",
            Dtype::U64 => "<u8",
            Dtype::I64 => "<i8",
            Dtype::F32 => "<f4",
            Dtype::F64 => "<f8",
        }
    }

    /// True for the signed integer types.
    #[must_use]
    pub const fn is_signed_int(self) -> bool {
        matches!(self, Dtype::I8 | Dtype::I16 | Dtype::I32 | Dtype::I64)
    }

    /// True for `f4` and `f8`.
    #[must_use]
    pub const fn is_float(self) -> bool {
        matches!(self, Dtype::F32 | Dtype::F64)
    }
}

/// The Image Pixel attributes of a data set (PS3.3 §C.7.6.3) that fix the layout of its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PixelInfo {
    /// (0028,0010) Rows.
    pub rows: u32,
    /// (0028,0011) Columns.
    pub columns: u32,
    /// (0028,0002) Samples per Pixel.
    pub samples_per_pixel: u16,
    /// (0028,0100) Bits Allocated.
    pub bits_allocated: u16,
    /// (0028,0101) Bits Stored.
    pub bits_stored: u16,
    /// (0028,0102) High Bit.
    pub high_bit: u16,
    /// (0028,0103) Pixel Representation: 0 unsigned, 1 two's complement.
    pub pixel_representation: u16,
    /// (0028,0006) Planar Configuration: 0 colour-by-pixel, 1 colour-by-plane.
    pub planar_configuration: u16,
    /// (0028,0004) Photometric Interpretation, e.g. "MONOCHROME2", "RGB", "YBR_FULL_422".
    pub photometric: String,
    /// (0028,0008) Number of Frames (1 when absent).
    pub number_of_frames: u32,
    /// Which pixel data element holds the values.
    pub float_kind: FloatKind,
}

impl Default for PixelInfo {
    fn default() -> Self {
        PixelInfo {
            rows: 0,
            columns: 0,
            samples_per_pixel: 1,
            bits_allocated: 8,
            bits_stored: 8,
            high_bit: 7,
            pixel_representation: 0,
            planar_configuration: 0,
            photometric: "MONOCHROME2".to_owned(),
            number_of_frames: 1,
            float_kind: FloatKind::None,
        }
    }
}

/// An `Invalid` error naming the attribute.
fn invalid(msg: String) -> Error {
    Error::Invalid(msg)
}

impl PixelInfo {
    /// The dtype of decoded frames, as pydicom 3 gives it.
    ///
    /// ```
    /// use _native::pixel::layout::{Dtype, PixelInfo};
    /// let info = PixelInfo { rows: 2, columns: 2, bits_allocated: 16, bits_stored: 12,
    ///                        high_bit: 11, pixel_representation: 1, ..PixelInfo::default() };
    /// assert_eq!(info.output_dtype(), Dtype::I16);
    /// ```
    #[must_use]
    pub fn output_dtype(&self) -> Dtype {
        let signed = self.pixel_representation == 1;
        match (self.bits_allocated, self.float_kind) {
            (32, FloatKind::Float) => Dtype::F32,
            (64, FloatKind::Double) => Dtype::F64,
            (16, _) => {
                if signed {
                    Dtype::I16
                } else {
                    Dtype::U16
                }
            }
            (32, _) => {
                if signed {
                    Dtype::I32
                } else {
                    Dtype::U32
                }
            }
            (64, _) => {
                if signed {
                    Dtype::I64
                } else {
                    Dtype::U64
                }
            }
            // Bits Allocated 1 unpacks to 0/1 in u8; 8 and anything invalid (rejected by validate) map here.
            (8, _) if signed => Dtype::I8,
            _ => Dtype::U8,
        }
    }

    /// The shape of one decoded frame: (rows, columns, samples per pixel).
    #[must_use]
    pub fn frame_shape(&self) -> (usize, usize, usize) {
        (
            self.rows as usize,
            self.columns as usize,
            usize::from(self.samples_per_pixel),
        )
    }

    /// Pixels times samples of one frame, checked.
    pub fn frame_samples(&self) -> Result<usize> {
        let (r, c, s) = self.frame_shape();
        r.checked_mul(c)
            .and_then(|n| n.checked_mul(s))
            .ok_or_else(|| invalid(format!("A frame of {r} x {c} x {s} samples is too large to address")))
    }

    /// Bytes of one decoded frame: rows x columns x samples x itemsize of [`Self::output_dtype`].
    pub fn frame_len_bytes(&self) -> Result<usize> {
        self.frame_samples()?
            .checked_mul(self.output_dtype().itemsize())
            .ok_or_else(|| invalid("A decoded frame is too large to address".to_owned()))
    }

    /// Bits one frame occupies in native (uncompressed) Pixel Data, before any padding.
    ///
    /// Native YBR_FULL_422 stores two luminance and one pair of chrominance samples per two pixels, so a
    /// frame is 2/3 of the full size (PS3.3 §C.7.6.3.1.2).
    pub fn stored_frame_bits(&self) -> Result<usize> {
        let mut bits = self
            .frame_samples()?
            .checked_mul(usize::from(self.bits_allocated))
            .ok_or_else(|| invalid("A stored frame is too large to address".to_owned()))?;
        if self.photometric == "YBR_FULL_422" && self.samples_per_pixel == 3 {
            bits = bits / 3 * 2;
        }
        Ok(bits)
    }

    /// Bytes one frame occupies in native Pixel Data. For Bits Allocated 1 frames are bit-packed and not
    /// padded (PS3.5 §8.1.1), so this is rounded up and frame `i` may start mid-byte.
    pub fn stored_frame_len_bytes(&self) -> Result<usize> {
        Ok(self.stored_frame_bits()?.div_ceil(8))
    }

    /// Checks the attributes for values that no decoder can handle, with a message naming the attribute.
    pub fn validate(&self) -> Result<()> {
        if self.rows == 0 {
            return Err(invalid(
                "The (0028,0010) 'Rows' value must be greater than 0".to_owned(),
            ));
        }
        if self.columns == 0 {
            return Err(invalid(
                "The (0028,0011) 'Columns' value must be greater than 0".to_owned(),
            ));
        }
        if !matches!(self.samples_per_pixel, 1 | 3 | 4) {
            return Err(invalid(format!(
                "The (0028,0002) 'Samples per Pixel' value must be 1 or 3, not {}",
                self.samples_per_pixel
            )));
        }
        if !matches!(self.bits_allocated, 1 | 8 | 16 | 32 | 64) {
            return Err(invalid(format!(
                "The (0028,0100) 'Bits Allocated' value must be 1, 8, 16, 32 or 64, not {}",
                self.bits_allocated
            )));
        }
        if self.bits_stored == 0 || self.bits_stored > self.bits_allocated {
            return Err(invalid(format!(
                "The (0028,0101) 'Bits Stored' value must be between 1 and (0028,0100) 'Bits Allocated' ({}), not {}",
                self.bits_allocated, self.bits_stored
            )));
        }
        if self.pixel_representation > 1 {
            return Err(invalid(format!(
                "The (0028,0103) 'Pixel Representation' value must be 0 or 1, not {}",
                self.pixel_representation
            )));
        }
        if self.samples_per_pixel > 1 && self.planar_configuration > 1 {
            return Err(invalid(format!(
                "The (0028,0006) 'Planar Configuration' value must be 0 or 1, not {}",
                self.planar_configuration
            )));
        }
        match self.float_kind {
            FloatKind::Float if self.bits_allocated != 32 => {
                return Err(invalid(format!(
                    "The (0028,0100) 'Bits Allocated' value must be 32 for (7FE0,0008) 'Float Pixel Data', not {}",
                    self.bits_allocated
                )));
            }
            FloatKind::Double if self.bits_allocated != 64 => {
                return Err(invalid(format!(
                    "The (0028,0100) 'Bits Allocated' value must be 64 for (7FE0,0009) 'Double Float Pixel Data', not {}",
                    self.bits_allocated
                )));
            }
            _ => {}
        }
        self.frame_len_bytes()?;
        Ok(())
    }

    /// True when the stored values may have bits above Bits Stored that pydicom clears (or sign-extends):
    /// integer data with Bits Stored < Bits Allocated (pydicom's `correct_unused_bits`).
    #[must_use]
    pub fn has_unused_bits(&self) -> bool {
        self.float_kind == FloatKind::None
            && matches!(self.bits_allocated, 8 | 16 | 32 | 64)
            && self.bits_stored < self.bits_allocated
    }
}

/// Clears the bits above `bits_stored` (unsigned) or copies the sign bit into them (signed) in a
/// little-endian frame of `dtype`, as pydicom's `correct_unused_bits` does (PS3.5 §8.1.1: the unused
/// high bits carry no defined value).
pub fn correct_unused_bits(out: &mut [u8], dtype: Dtype, bits_stored: u16) {
    let size = dtype.itemsize();
    let bits = 8 * size;
    let bs = usize::from(bits_stored);
    if dtype.is_float() || bs == 0 || bs >= bits {
        return;
    }
    let shift = (bits - bs) as u32;
    match (size, dtype.is_signed_int()) {
        (1, false) => out.iter_mut().for_each(|b| *b = (*b << shift) >> shift),
        (1, true) => out.iter_mut().for_each(|b| *b = (((*b as i8) << shift) >> shift) as u8),
        (2, signed) => {
            for c in out.chunks_exact_mut(2) {
                let v = u16::from_le_bytes([c[0], c[1]]);
                let v = if signed {
                    (((v as i16) << shift) >> shift) as u16
                } else {
                    (v << shift) >> shift
                };
                c.copy_from_slice(&v.to_le_bytes());
            }
        }
        (4, signed) => {
            for c in out.chunks_exact_mut(4) {
                let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                let v = if signed {
                    (((v as i32) << shift) >> shift) as u32
                } else {
                    (v << shift) >> shift
                };
                c.copy_from_slice(&v.to_le_bytes());
            }
        }
        (8, signed) => {
            for c in out.chunks_exact_mut(8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                let v = u64::from_le_bytes(a);
                let v = if signed {
                    (((v as i64) << shift) >> shift) as u64
                } else {
                    (v << shift) >> shift
                };
                c.copy_from_slice(&v.to_le_bytes());
            }
        }
        _ => {}
    }
}

/// True when a little-endian frame already satisfies [`correct_unused_bits`], so a zero-copy view of it
/// equals pydicom's corrected array.
#[must_use]
pub fn unused_bits_are_clean(frame: &[u8], dtype: Dtype, bits_stored: u16) -> bool {
    let size = dtype.itemsize();
    let bits = 8 * size;
    let bs = usize::from(bits_stored);
    if dtype.is_float() || bs == 0 || bs >= bits {
        return true;
    }
    let shift = (bits - bs) as u32;
    let signed = dtype.is_signed_int();
    // Blocks of samples folded without branches (so the compiler vectorises the loop), with an early exit
    // between blocks: the whole frame is read only when it is clean.
    const BLOCK: usize = 4096;
    macro_rules! check {
        ($u:ty, $i:ty, $n:expr) => {{
            frame.chunks(BLOCK * $n).all(|block| {
                let bad = block.chunks_exact($n).fold(0 as $u, |acc, c| {
                    let mut a = [0u8; $n];
                    a.copy_from_slice(c);
                    let v = <$u>::from_le_bytes(a);
                    let clean = if signed { (((v as $i) << shift) >> shift) as $u } else { v & ((1 as $u << bs) - 1) };
                    acc | (v ^ clean)
                });
                bad == 0
            })
        }};
    }
    match size {
        1 => check!(u8, i8, 1),
        2 => check!(u16, i16, 2),
        4 => check!(u32, i32, 4),
        _ => check!(u64, i64, 8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(ba: u16, bs: u16, pr: u16, spp: u16) -> PixelInfo {
        PixelInfo {
            rows: 3,
            columns: 5,
            samples_per_pixel: spp,
            bits_allocated: ba,
            bits_stored: bs,
            high_bit: bs.saturating_sub(1),
            pixel_representation: pr,
            ..PixelInfo::default()
        }
    }

    #[test]
    fn dtypes_follow_pydicom() {
        assert_eq!(info(1, 1, 0, 1).output_dtype(), Dtype::U8);
        assert_eq!(info(8, 8, 1, 1).output_dtype(), Dtype::I8);
        assert_eq!(info(16, 12, 0, 1).output_dtype(), Dtype::U16);
        assert_eq!(info(32, 32, 1, 1).output_dtype(), Dtype::I32);
        let mut f = info(32, 32, 0, 1);
        f.float_kind = FloatKind::Float;
        assert_eq!(f.output_dtype(), Dtype::F32);
        assert_eq!(f.output_dtype().numpy_str(), "<f4");
    }

    #[test]
    fn lengths() {
        assert_eq!(info(16, 12, 0, 3).frame_len_bytes().unwrap(), 3 * 5 * 3 * 2);
        assert_eq!(info(1, 1, 0, 1).frame_len_bytes().unwrap(), 15);
        assert_eq!(info(1, 1, 0, 1).stored_frame_len_bytes().unwrap(), 2);
        let mut y = info(8, 8, 0, 3);
        y.columns = 4;
        y.photometric = "YBR_FULL_422".to_owned();
        assert_eq!(y.stored_frame_len_bytes().unwrap(), 3 * 4 * 2);
        let mut big = info(64, 64, 0, 4);
        big.rows = u32::MAX;
        big.columns = u32::MAX;
        assert!(big.frame_len_bytes().is_err());
    }

    #[test]
    fn validate_names_attribute() {
        let err = info(12, 12, 0, 1).validate().unwrap_err().to_string();
        assert!(err.contains("(0028,0100) 'Bits Allocated'"), "{err}");
        assert!(info(16, 17, 0, 1).validate().is_err());
        assert!(info(16, 12, 0, 1).validate().is_ok());
    }

    #[test]
    fn unused_bits() {
        let mut v = 0xF801u16.to_le_bytes().to_vec();
        assert!(!unused_bits_are_clean(&v, Dtype::U16, 12));
        correct_unused_bits(&mut v, Dtype::U16, 12);
        assert_eq!(v, 0x0801u16.to_le_bytes());
        let mut s = 0x0801u16.to_le_bytes().to_vec();
        correct_unused_bits(&mut s, Dtype::I16, 12);
        assert_eq!(i16::from_le_bytes([s[0], s[1]]), -2047);
        assert!(unused_bits_are_clean(&s, Dtype::I16, 12));
    }
}
