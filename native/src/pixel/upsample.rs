//! Chroma upsampling of decoded JPEG component planes with libjpeg's "fancy" (triangle filter)
//! arithmetic, so frames decoded to raw planes and upsampled here equal libjpeg-turbo's own output.
//!
//! ISO/IEC 10918-1 leaves upsampling to the decoder (§A.1.1 only defines the sampling grid); pydicom's
//! reference decoders use libjpeg's default, the triangle filter of `jdsample.c`: each output sample is
//! 3/4 of the nearer input sample and 1/4 of the further one, in each direction that is subsampled, with
//! libjpeg's rounding biases (alternating so that errors do not accumulate) and edge samples replicated.
//! libjpeg-turbo's SIMD versions give the same bytes as its C ones.

/// Horizontal 2:1 (h2v1): `out` (2 x `inp.len()` samples) from one row of `inp` (at least 3 samples:
/// libjpeg replicates narrower rows instead).
#[inline(always)]
fn h2v1(inp: &[u8], out: &mut [u8]) {
    let n = inp.len();
    debug_assert!(n >= 3 && out.len() == 2 * n);
    let w = |v: u8| u16::from(v);
    out[0] = inp[0];
    out[1] = ((3 * w(inp[0]) + w(inp[1]) + 2) >> 2) as u8;
    // 3/4 nearer + 1/4 further, bias 1 to the left and 2 to the right (jdsample.c h2v1_fancy_upsample)
    let pairs = out[2..2 * n - 2].chunks_exact_mut(2);
    for (((o, &l), &c), &r) in pairs.zip(&inp[..n - 2]).zip(&inp[1..n - 1]).zip(&inp[2..]) {
        let t = 3 * w(c);
        o[0] = ((t + w(l) + 1) >> 2) as u8;
        o[1] = ((t + w(r) + 2) >> 2) as u8;
    }
    out[2 * n - 2] = ((3 * w(inp[n - 1]) + w(inp[n - 2]) + 1) >> 2) as u8;
    out[2 * n - 1] = inp[n - 1];
}

/// Horizontal and vertical 2:1 (h2v2): one output row (2 x `cur.len()` samples) from its nearer input
/// row `cur` and the further one `near` (the row above for the upper output row of the pair, below for
/// the lower; the edge row itself at the top and bottom). At least 3 samples per row.
#[inline(always)]
fn h2v2(cur: &[u8], near: &[u8], sums: &mut Vec<u16>, out: &mut [u8]) {
    let n = cur.len();
    debug_assert!(n >= 3 && near.len() == n && out.len() == 2 * n);
    // column sums 3 x nearer + further, then the same 3:1 filter across columns (bias 8 left, 7 right)
    sums.clear();
    sums.extend(cur.iter().zip(near).map(|(&c, &f)| 3 * u16::from(c) + u16::from(f)));
    let s = &sums[..];
    out[0] = ((4 * s[0] + 8) >> 4) as u8;
    out[1] = ((3 * s[0] + s[1] + 7) >> 4) as u8;
    let pairs = out[2..2 * n - 2].chunks_exact_mut(2);
    for (((o, &l), &c), &r) in pairs.zip(&s[..n - 2]).zip(&s[1..n - 1]).zip(&s[2..]) {
        let t = 3 * c;
        o[0] = ((t + l + 8) >> 4) as u8;
        o[1] = ((t + r + 7) >> 4) as u8;
    }
    out[2 * n - 2] = ((3 * s[n - 1] + s[n - 2] + 8) >> 4) as u8;
    out[2 * n - 1] = ((4 * s[n - 1] + 7) >> 4) as u8;
}

/// Vertical 2:1 (h1v2): one output row from its nearer input row `cur` and the further one `near`;
/// `upper` is the upper output row of the pair (bias 1; the lower one has bias 2).
#[inline(always)]
fn h1v2(cur: &[u8], near: &[u8], upper: bool, out: &mut [u8]) {
    debug_assert!(near.len() == cur.len() && out.len() == cur.len());
    let bias = if upper { 1 } else { 2 };
    for ((o, &c), &f) in out.iter_mut().zip(cur).zip(near) {
        *o = ((3 * u16::from(c) + u16::from(f) + bias) >> 2) as u8;
    }
}

/// Defines `$name`, which runs `$body` compiled for AVX2 when the CPU has it (twice the lanes of the
/// x86-64 baseline's SSE2 for these loops; the arithmetic, and so the bytes, are the same).
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident => $body:ident ($($arg:ident: $ty:ty),*)) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, the only feature `avx2` is compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

dispatch!(
    /// One row of 4:2:2 chroma, upsampled across.
    h2v1_row => h2v1(inp: &[u8], out: &mut [u8])
);
dispatch!(
    /// One output row of 4:2:0 chroma.
    h2v2_row => h2v2(cur: &[u8], near: &[u8], sums: &mut Vec<u16>, out: &mut [u8])
);
dispatch!(
    /// One output row of 4:4:0 chroma.
    h1v2_row => h1v2(cur: &[u8], near: &[u8], upper: bool, out: &mut [u8])
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rows_stay_constant() {
        for v in [0u8, 1, 127, 254, 255] {
            let row = [v; 7];
            let mut out = [0u8; 14];
            h2v1_row(&row, &mut out);
            assert!(out.iter().all(|&o| o == v));
            let mut sums = Vec::new();
            h2v2_row(&row, &row, &mut sums, &mut out);
            assert!(out.iter().all(|&o| o == v));
            let mut out = [0u8; 7];
            h1v2_row(&row, &row, false, &mut out);
            assert!(out.iter().all(|&o| o == v));
        }
    }

    #[test]
    fn triangle_filter_values() {
        // 0, 100, 200: between samples the nearer one weighs 3/4 (libjpeg's rounding biases)
        let mut out = [0u8; 6];
        h2v1_row(&[0, 100, 200], &mut out);
        assert_eq!(out, [0, 25, 75, 125, 175, 200]);
    }
}
