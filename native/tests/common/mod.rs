//! Helpers shared by the pixel tests: fixture loading, a checksum, typed sample access.

#![allow(dead_code, clippy::unwrap_used)]

use _native::pixel::layout::Dtype;

/// FNV-1a 64-bit hash of a decoded frame (the fixtures record pydicom's).
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// The bytes of a fixture under `tests/data`.
pub fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sample `i` of a little-endian frame of `dtype`, widened to i64.
pub fn value_at(out: &[u8], dtype: Dtype, i: usize) -> i64 {
    let s = dtype.itemsize();
    let b = &out[i * s..(i + 1) * s];
    match dtype {
        Dtype::U8 => i64::from(b[0]),
        Dtype::I8 => i64::from(b[0] as i8),
        Dtype::U16 => i64::from(u16::from_le_bytes([b[0], b[1]])),
        Dtype::I16 => i64::from(i16::from_le_bytes([b[0], b[1]])),
        Dtype::U32 => i64::from(u32::from_le_bytes(b.try_into().unwrap())),
        Dtype::I32 => i64::from(i32::from_le_bytes(b.try_into().unwrap())),
        _ => i64::from_le_bytes(b.try_into().unwrap()),
    }
}
