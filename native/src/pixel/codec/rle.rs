//! RLE Lossless (1.2.840.10008.1.2.5, PS3.5 Annex G): decoder and encoder.
//!
//! A frame is a 64-byte header and up to 15 segments:
//!
//! ```text
//!  header: 16 x u32 LE   [ n segments | offset 1 | offset 2 | ... | offset 15 ]   (unused offsets 0)
//!  segment k:            PackBits runs of one byte plane (G.3.1)
//!  segment order:        sample 0 MSB, ..., sample 0 LSB, sample 1 MSB, ...       (G.2)
//! ```
//!
//! PackBits (G.3.1): header byte n in 0..=127 copies the next n + 1 bytes; n in 129..=255 repeats the
//! next byte 257 - n times; 128 is a no-op. Each segment decodes straight into its byte lane of the
//! colour-by-pixel little-endian output, so there is no interleaving pass.

use rayon::prelude::*;

use super::{RLE_LOSSLESS, check_output};
use crate::pixel::layout::{PixelInfo, correct_unused_bits};
use crate::{Error, Result};

/// Frames of at least this many pixels unpack their segments in parallel.
const PARALLEL_MIN_PIXELS: usize = 1 << 16;

/// The largest scratch buffer a thread keeps between frames (bounds what each rayon worker retains).
const SCRATCH_KEEP_BYTES: usize = 16 << 20;

thread_local! {
    /// Byte planes of the frame being decoded, reused by the next frame on this thread.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn err(frame: usize, reason: impl Into<String>) -> Error {
    Error::decode(RLE_LOSSLESS, frame, reason)
}

/// Reads the RLE header (G.5): the segment offsets, checked against the frame's length.
fn parse_header(src: &[u8], frame: usize) -> Result<([usize; 15], usize)> {
    let header = src.get(..64).ok_or_else(|| {
        err(
            frame,
            format!("The RLE header needs 64 bytes, the frame has {}", src.len()),
        )
    })?;
    let word = |i: usize| -> usize {
        let mut a = [0u8; 4];
        if let Some(b) = header.get(4 * i..4 * i + 4) {
            a.copy_from_slice(b);
        }
        u32::from_le_bytes(a) as usize
    };
    let n = word(0);
    if n == 0 || n > 15 {
        return Err(err(
            frame,
            format!("The RLE header declares {n} segments; it must be 1 to 15 (PS3.5 §G.5)"),
        ));
    }
    let mut offsets = [0usize; 15];
    for (i, o) in offsets.iter_mut().enumerate().take(n) {
        *o = word(i + 1);
        if *o < 64 || *o > src.len() {
            return Err(err(
                frame,
                format!(
                    "The RLE header's offset of segment {} ({}) is outside the frame's {} bytes",
                    i + 1,
                    *o,
                    src.len()
                ),
            ));
        }
    }
    Ok((offsets, n))
}

/// PackBits-decodes `seg` into every `stride`-th byte of `lane` (which starts at the segment's byte
/// position), `n` bytes in all. Returns how many bytes were produced (at most `n`).
fn unpack_segment(seg: &[u8], lane: &mut [u8], stride: usize, n: usize) -> usize {
    let mut pos = 0usize;
    let mut done = 0usize;
    if stride == 1 {
        // Contiguous lane: whole runs with memcpy / memset.
        let lane = match lane.get_mut(..n) {
            Some(l) => l,
            None => return 0,
        };
        while done < n {
            let Some(&h) = seg.get(pos) else { break };
            pos += 1;
            // Fast path: with 128 bytes of room on both sides, move a fixed 128-byte block (inlined vector
            // moves instead of a memcpy / memset call per run) and advance by the run's real length. The
            // bytes written past the run are overwritten by the runs that follow.
            if let Some(dst) = lane.get_mut(done..).and_then(|d| d.first_chunk_mut::<128>()) {
                if h < 128 {
                    if let Some(lit) = seg.get(pos..).and_then(|l| l.first_chunk::<128>()) {
                        let cnt = usize::from(h) + 1;
                        // Short literals (the common case in noisy images) move 16 bytes, others 128.
                        if let (true, Some(d16), Some(l16)) =
                            (cnt <= 16, dst.first_chunk_mut::<16>(), lit.first_chunk::<16>())
                        {
                            *d16 = *l16;
                        } else {
                            *dst = *lit;
                        }
                        done += cnt;
                        pos += cnt;
                        continue;
                    }
                } else if h > 128
                    && let Some(&v) = seg.get(pos)
                {
                    let cnt = 257 - usize::from(h);
                    if let (true, Some(d16)) = (cnt <= 16, dst.first_chunk_mut::<16>()) {
                        *d16 = [v; 16];
                    } else {
                        *dst = [v; 128];
                    }
                    done += cnt;
                    pos += 1;
                    continue;
                }
            }
            if h < 128 {
                let cnt = usize::from(h) + 1;
                let lit = seg.get(pos..).unwrap_or_default();
                let want = cnt.min(n - done);
                let take = want.min(lit.len());
                if let (Some(d), Some(s)) = (lane.get_mut(done..done + take), lit.get(..take)) {
                    d.copy_from_slice(s);
                }
                done += take;
                pos += cnt;
                if take < want {
                    // Truncated literal: the segment ends here.
                    break;
                }
            } else if h > 128 {
                let Some(&v) = seg.get(pos) else { break };
                pos += 1;
                let take = (257 - usize::from(h)).min(n - done);
                if let Some(d) = lane.get_mut(done..done + take) {
                    d.fill(v);
                }
                done += take;
            }
        }
        return done;
    }
    let mut dst = lane.iter_mut().step_by(stride).take(n);
    while done < n {
        let Some(&h) = seg.get(pos) else { break };
        pos += 1;
        if h < 128 {
            let cnt = usize::from(h) + 1;
            let lit = seg.get(pos..).unwrap_or_default();
            let lit = lit.get(..cnt).unwrap_or(lit);
            let before = done;
            // `lit` first: zip polls it first, so `dst` is not advanced past the literal's end.
            for (&b, d) in lit.iter().zip(&mut dst) {
                *d = b;
                done += 1;
            }
            pos += cnt;
            if done - before < cnt && done < n {
                break;
            }
        } else if h > 128 {
            let Some(&v) = seg.get(pos) else { break };
            pos += 1;
            for d in (&mut dst).take(257 - usize::from(h)) {
                *d = v;
                done += 1;
            }
        }
    }
    done
}

/// Decodes one RLE Lossless frame into `out` (colour-by-pixel, little endian).
///
/// pydicom's rules: the number of segments must be Samples per Pixel x Bits Allocated / 8; a segment that
/// decodes to fewer than Rows x Columns bytes is an error, one that decodes to more is truncated.
pub fn decode_rle_lossless(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    check_output(RLE_LOSSLESS, frame, info, out)?;
    if !info.bits_allocated.is_multiple_of(8) {
        return Err(err(
            frame,
            format!(
                "Unable to decode RLE encoded pixel data with (0028,0100) 'Bits Allocated' {}; it must be 8, 16, 32 or 64",
                info.bits_allocated
            ),
        ));
    }
    let bps = usize::from(info.bits_allocated / 8);
    let spp = usize::from(info.samples_per_pixel);
    let (offsets, n) = parse_header(src, frame)?;
    if n != spp * bps {
        return Err(err(
            frame,
            format!(
                "The number of RLE segments in the pixel data doesn't match the expected amount ({n} vs. {} segments)",
                spp * bps
            ),
        ));
    }
    let npix = info.rows as usize * info.columns as usize;
    let segment = |k: usize| -> Result<&[u8]> {
        let start = offsets.get(k).copied().unwrap_or(0);
        let end = if k + 1 < n {
            offsets.get(k + 1).copied().unwrap_or(src.len())
        } else {
            src.len()
        };
        src.get(start..end).ok_or_else(|| {
            err(
                frame,
                format!("The RLE segment offsets are not in ascending order (segment {})", k + 1),
            )
        })
    };
    let short = |k: usize, got: usize| {
        err(
            frame,
            format!(
                "The amount of decoded RLE segment data doesn't match the expected amount ({got} vs. {npix} bytes) in segment {}",
                k + 1
            ),
        )
    };
    if n == 1 {
        // One byte plane: it is the frame.
        let got = unpack_segment(segment(0)?, out, 1, npix);
        if got < npix {
            return Err(short(0, got));
        }
    } else {
        // Several planes: each is unpacked contiguously (runs become memset / memcpy), then one pass
        // interleaves them into colour-by-pixel little-endian samples.
        // The planes live in a per-thread scratch buffer that stays mapped between frames: a fresh
        // allocation per frame costs more in page faults than the unpacking itself.
        let size = npix * n;
        let mut scratch = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        // Grown, never cleared: a frame whose segments do not fill every plane byte is refused below, so
        // stale bytes of an earlier frame are always overwritten before they are read.
        if scratch.len() < size {
            scratch.resize(size, 0);
        }
        let planes = scratch.get_mut(..size).unwrap_or_default();
        let segs = (0..n).map(segment).collect::<Result<Vec<&[u8]>>>()?;
        // Segments are independent: large frames unpack them in parallel (rayon nests inside the
        // caller's per-frame parallelism).
        let unpack = |(k, plane): (usize, &mut [u8])| match segs.get(k) {
            Some(seg) => {
                let got = unpack_segment(seg, plane, 1, npix);
                if got < npix { Err(short(k, got)) } else { Ok(()) }
            }
            None => Err(short(k, 0)),
        };
        if npix >= PARALLEL_MIN_PIXELS && crate::pixel::parallel::allowed() {
            planes.par_chunks_exact_mut(npix).enumerate().try_for_each(unpack)?;
        } else {
            planes.chunks_exact_mut(npix).enumerate().try_for_each(unpack)?;
        }
        // Output byte j of each pixel comes from segment `order[j]`: sample j / bps, byte bps - 1 - j % bps.
        let order: Vec<usize> = (0..n).map(|j| (j / bps) * bps + (bps - 1 - j % bps)).collect();
        if npix >= PARALLEL_MIN_PIXELS && crate::pixel::parallel::allowed() {
            // Blocks of rows interleave in parallel, each from the same slices of every plane.
            const BLOCK: usize = 1 << 14;
            let plane_blocks: Vec<Vec<&[u8]>> = (0..n)
                .map(|k| {
                    planes
                        .get(k * npix..(k + 1) * npix)
                        .unwrap_or_default()
                        .chunks(BLOCK)
                        .collect()
                })
                .collect();
            out.par_chunks_mut(BLOCK * n).enumerate().for_each(|(b, o)| {
                let parts: Vec<&[u8]> = plane_blocks
                    .iter()
                    .map(|p| p.get(b).copied().unwrap_or_default())
                    .collect();
                interleave_parts(o, &parts, &order);
            });
        } else {
            interleave(out, planes, npix, &order);
        }
        if scratch.capacity() <= SCRATCH_KEEP_BYTES {
            SCRATCH.with(|s| *s.borrow_mut() = scratch);
        }
    }
    if info.has_unused_bits() {
        correct_unused_bits(out, info.output_dtype(), info.bits_stored);
    }
    Ok(())
}

/// Writes pixel `i`'s byte `j` as `planes[order[j] * npix + i]`, specialised for the common plane counts.
fn interleave(out: &mut [u8], planes: &[u8], npix: usize, order: &[usize]) {
    let parts: Vec<&[u8]> = (0..order.len())
        .map(|k| planes.get(k * npix..(k + 1) * npix).unwrap_or_default())
        .collect();
    interleave_parts(out, &parts, order);
}

/// [`interleave2`] compiled for AVX2 (the fixed-size blocks become byte unpacks).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn interleave2_avx2(out: &mut [u8], pa: &[u8], pb: &[u8]) {
    interleave2(out, pa, pb);
}

/// Two planes (the low and high bytes of 16-bit samples) to byte pairs, in blocks of 32 pixels.
#[inline(always)]
fn interleave2(out: &mut [u8], pa: &[u8], pb: &[u8]) {
    const B: usize = 32;
    let n = out.len() / 2;
    let (pa, pb) = (pa.get(..n).unwrap_or(pa), pb.get(..n).unwrap_or(pb));
    let mut blocks = out.chunks_exact_mut(2 * B);
    for ((o, x), y) in (&mut blocks).zip(pa.chunks_exact(B)).zip(pb.chunks_exact(B)) {
        let (Ok(o), Ok(x), Ok(y)) = (
            <&mut [u8; 2 * B]>::try_from(o),
            <&[u8; B]>::try_from(x),
            <&[u8; B]>::try_from(y),
        ) else {
            continue;
        };
        for i in 0..B {
            o[2 * i] = x[i];
            o[2 * i + 1] = y[i];
        }
    }
    let done = n - n % B;
    for (k, o) in blocks.into_remainder().chunks_exact_mut(2).enumerate() {
        if let (Some(&x), Some(&y)) = (pa.get(done + k), pb.get(done + k)) {
            o.copy_from_slice(&[x, y]);
        }
    }
}

/// [`interleave3`] compiled for AVX2 (the fixed-size blocks become byte shuffles).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn interleave3_avx2(out: &mut [u8], pa: &[u8], pb: &[u8], pc: &[u8]) {
    interleave3(out, pa, pb, pc);
}

/// Three planes to byte triplets, in blocks of 32 pixels the compiler vectorises, then the tail.
#[inline(always)]
fn interleave3(out: &mut [u8], pa: &[u8], pb: &[u8], pc: &[u8]) {
    const B: usize = 32;
    let n = out.len() / 3;
    let (pa, pb, pc) = (
        pa.get(..n).unwrap_or(pa),
        pb.get(..n).unwrap_or(pb),
        pc.get(..n).unwrap_or(pc),
    );
    let mut blocks = out.chunks_exact_mut(3 * B);
    for (((o, x), y), z) in (&mut blocks)
        .zip(pa.chunks_exact(B))
        .zip(pb.chunks_exact(B))
        .zip(pc.chunks_exact(B))
    {
        let (Ok(o), Ok(x), Ok(y), Ok(z)) = (
            <&mut [u8; 3 * B]>::try_from(o),
            <&[u8; B]>::try_from(x),
            <&[u8; B]>::try_from(y),
            <&[u8; B]>::try_from(z),
        ) else {
            continue;
        };
        for i in 0..B {
            o[3 * i] = x[i];
            o[3 * i + 1] = y[i];
            o[3 * i + 2] = z[i];
        }
    }
    let done = n - n % B;
    let tail = blocks.into_remainder();
    for (k, o) in tail.chunks_exact_mut(3).enumerate() {
        let i = done + k;
        if let (Some(&x), Some(&y), Some(&z)) = (pa.get(i), pb.get(i), pc.get(i)) {
            o.copy_from_slice(&[x, y, z]);
        }
    }
}

/// Writes pixel `i`'s byte `j` as `parts[order[j]][i]`.
fn interleave_parts(out: &mut [u8], parts: &[&[u8]], order: &[usize]) {
    let plane = |k: usize| parts.get(k).copied().unwrap_or_default();
    match *order {
        [a, b] => {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                unsafe { interleave2_avx2(out, plane(a), plane(b)) };
                return;
            }
            interleave2(out, plane(a), plane(b));
        }
        [a, b, c] => {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                unsafe { interleave3_avx2(out, plane(a), plane(b), plane(c)) };
                return;
            }
            interleave3(out, plane(a), plane(b), plane(c));
        }
        [a, b, c, d] => {
            let (pa, pb, pc, pd) = (plane(a), plane(b), plane(c), plane(d));
            for ((((o, &x), &y), &z), &w) in out.chunks_exact_mut(4).zip(pa).zip(pb).zip(pc).zip(pd) {
                o.copy_from_slice(&[x, y, z, w]);
            }
        }
        _ => {
            let n = order.len();
            for (j, &k) in order.iter().enumerate() {
                let lane = out.get_mut(j..).unwrap_or_default();
                for (d, &v) in lane.iter_mut().step_by(n).zip(plane(k)) {
                    *d = v;
                }
            }
        }
    }
}

/// PackBits-encodes `row` (G.3.1): runs of 3 or more equal bytes become replicate runs, the rest literals.
fn encode_row(row: &[u8], out: &mut Vec<u8>) {
    let n = row.len();
    let mut i = 0usize;
    let mut lit_start = 0usize;
    let flush_lit = |out: &mut Vec<u8>, from: usize, to: usize| {
        let mut s = from;
        while s < to {
            let len = (to - s).min(128);
            out.push((len - 1) as u8);
            out.extend_from_slice(row.get(s..s + len).unwrap_or_default());
            s += len;
        }
    };
    while let Some(&b) = row.get(i) {
        // The run of `b` from `i`, at most 128 bytes long.
        let window = row.get(i + 1..n.min(i + 128)).unwrap_or_default();
        let run = 1 + window.iter().take_while(|&&x| x == b).count();
        if run >= 3 {
            flush_lit(out, lit_start, i);
            out.push((257 - run) as u8);
            out.push(b);
            i += run;
            lit_start = i;
        } else {
            i += run;
        }
    }
    flush_lit(out, lit_start, n);
}

/// Encodes one frame (colour-by-pixel, little endian, the layout the decoder produces) as RLE Lossless.
/// Each row of each byte plane is encoded separately, as PS3.5 §G.3.1 requires.
pub fn encode_rle(src: &[u8], info: &PixelInfo, _opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    check_output(RLE_LOSSLESS, 0, info, src).map_err(|e| Error::Invalid(e.to_string()))?;
    if !info.bits_allocated.is_multiple_of(8) {
        return Err(Error::Invalid(format!(
            "RLE Lossless needs (0028,0100) 'Bits Allocated' 8, 16, 32 or 64, not {}",
            info.bits_allocated
        )));
    }
    let bps = usize::from(info.bits_allocated / 8);
    let spp = usize::from(info.samples_per_pixel);
    let n = spp * bps;
    if n > 15 {
        return Err(Error::Invalid(format!(
            "RLE Lossless holds at most 15 segments; {spp} samples of {bps} bytes need {n}"
        )));
    }
    let cols = info.columns as usize;
    let rows = info.rows as usize;
    let stride = n;
    let row_len = cols * stride;
    // The most a segment can take: each row as literals, a count byte per 128 of them (PS3.5 §G.3.1), and
    // a pad byte; reserved at once, so the output is never moved while it grows.
    let mut out = Vec::with_capacity(64 + n * (rows * (cols + cols.div_ceil(128)) + 1));
    out.resize(64, 0);
    let mut plane = Vec::with_capacity(cols);
    for k in 0..n {
        let offset = out.len();
        if let Some(h) = out.get_mut(4 * (k + 1)..4 * (k + 2)) {
            h.copy_from_slice(&(offset as u32).to_le_bytes());
        }
        let sample = k / bps;
        // Segments go from the most significant byte of a sample to the least (PS3.5 §G.2).
        let at = sample * bps + (bps - 1 - k % bps);
        for row in src.chunks_exact(row_len).take(rows) {
            if stride == 1 {
                encode_row(row, &mut out);
            } else {
                plane.clear();
                plane.extend(row.chunks_exact(stride).map(|px| px[at]));
                encode_row(&plane, &mut out);
            }
        }
        if out.len() % 2 == 1 {
            out.push(0);
        }
    }
    if let Some(h) = out.get_mut(..4) {
        h.copy_from_slice(&(n as u32).to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(rows: u32, cols: u32, ba: u16, spp: u16) -> PixelInfo {
        PixelInfo {
            rows,
            columns: cols,
            samples_per_pixel: spp,
            bits_allocated: ba,
            bits_stored: ba,
            high_bit: ba - 1,
            photometric: if spp == 3 { "RGB" } else { "MONOCHROME2" }.to_owned(),
            ..PixelInfo::default()
        }
    }

    #[test]
    fn interleave_blocks_and_tails() {
        // 2 and 3 planes take the blocked (vectorised) paths: every length around the block size.
        for n in [0usize, 1, 31, 32, 33, 64, 95, 100] {
            for k in [2usize, 3] {
                let planes: Vec<u8> = (0..n * k).map(|i| (i * 7 % 251) as u8).collect();
                let order: Vec<usize> = (0..k).rev().collect();
                let mut out = vec![0u8; n * k];
                interleave(&mut out, &planes, n, &order);
                let want: Vec<u8> = (0..n * k).map(|j| planes[order[j % k] * n + j / k]).collect();
                assert_eq!(out, want, "{k} planes of {n}");
            }
        }
    }

    #[test]
    fn packbits_runs_and_literals() {
        // PS3.5 §G.3.1 example style: literal 3, replicate 4, no-op.
        let mut seg = vec![2u8, 1, 2, 3, 253, 9, 128];
        let mut out = [0u8; 7];
        assert_eq!(unpack_segment(&seg, &mut out, 1, 7), 7);
        assert_eq!(out, [1, 2, 3, 9, 9, 9, 9]);
        seg.truncate(2);
        assert_eq!(unpack_segment(&seg, &mut out, 1, 7), 1);
    }

    #[test]
    fn round_trip_16bit_rgb() {
        let i = info(3, 5, 16, 3);
        let src: Vec<u8> = (0..i.frame_len_bytes().unwrap()).map(|v| (v * 7 / 5) as u8).collect();
        let enc = encode_rle(&src, &i, &super::super::EncodeOptions::default()).unwrap();
        let mut out = vec![0u8; src.len()];
        decode_rle_lossless(&enc, &i, 0, &mut out).unwrap();
        assert_eq!(out, src);
    }

    #[test]
    fn bad_headers() {
        let i = info(2, 2, 8, 1);
        let mut out = [0u8; 4];
        assert!(decode_rle_lossless(&[0; 10], &i, 0, &mut out).is_err());
        let mut h = vec![0u8; 64];
        h[0] = 1;
        h[4] = 200;
        assert!(decode_rle_lossless(&h, &i, 0, &mut out).is_err());
        h[4] = 64;
        h.extend_from_slice(&[253, 5]);
        decode_rle_lossless(&h, &i, 0, &mut out).unwrap();
        assert_eq!(out, [5; 4]);
        h[0] = 2;
        assert!(decode_rle_lossless(&h, &i, 0, &mut out).is_err());
    }
}
