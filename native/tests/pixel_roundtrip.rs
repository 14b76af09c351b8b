//! Encoders and decoders against each other on synthetic frames: lossless codecs must give back every
//! sample (all JPEG predictors at 2 to 16 bits, JPEG-LS 2 to 16 bits and colour, RLE, deflate), lossy ones
//! must stay close; signed data is reinterpreted from Bits Stored as pydicom does.

use _native::pixel::codec::{
    EncodeOptions, J2kLayers, JpegColour, decode_frame, encoder_for, j2k::encode_j2k, jpeg::encode_jpeg,
    jpegls::encode_jpegls,
};
use _native::pixel::layout::PixelInfo;

/// A smooth gradient with texture, `bits` deep, as little-endian samples of `ba` bits.
fn synth(rows: u32, cols: u32, spp: u16, ba: u16, bits: u16) -> Vec<u8> {
    let max = (1u64 << bits) - 1;
    let mut v = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            for s in 0..u32::from(spp) {
                let x = u64::from(r * 7 + c * 3 + s * 50) * max / u64::from(rows * 7 + cols * 3 + 100);
                let noise = u64::from((r * 31 + c * 17 + s * 5) % 13);
                let val = (x + noise).min(max);
                v.extend_from_slice(&val.to_le_bytes()[..usize::from(ba / 8)]);
            }
        }
    }
    v
}

fn info(rows: u32, cols: u32, spp: u16, ba: u16, bits: u16, pr: u16) -> PixelInfo {
    PixelInfo {
        rows,
        columns: cols,
        samples_per_pixel: spp,
        bits_allocated: ba,
        bits_stored: bits,
        high_bit: bits - 1,
        pixel_representation: pr,
        photometric: if spp == 3 { "RGB" } else { "MONOCHROME2" }.to_owned(),
        ..PixelInfo::default()
    }
}

fn decode(ts: &str, enc: &[u8], info: &PixelInfo) -> Vec<u8> {
    let mut out = vec![0u8; info.frame_len_bytes().unwrap()];
    decode_frame(ts, enc, info, 0, &mut out).unwrap_or_else(|e| panic!("{ts} {info:?}: {e}"));
    out
}

#[test]
fn jpeg_lossless_all_predictors_and_precisions() {
    for bits in [2u16, 7, 8, 10, 12, 13, 16] {
        let ba = if bits <= 8 { 8 } else { 16 };
        for spp in [1u16, 3] {
            let i = info(19, 23, spp, ba, bits, 0);
            let src = synth(19, 23, spp, ba, bits);
            for psv in 1..=7u8 {
                let enc = encode_jpeg(&src, &i, 100, Some(psv), JpegColour::Rgb).unwrap();
                let ts = if psv == 1 {
                    "1.2.840.10008.1.2.4.70"
                } else {
                    "1.2.840.10008.1.2.4.57"
                };
                assert_eq!(decode(ts, &enc, &i), src, "bits {bits} spp {spp} psv {psv}");
            }
        }
    }
}

#[test]
fn jpeg_lossless_signed_is_reinterpreted() {
    // 12-bit signed samples in 16 bits: JPEG stores the 12-bit pattern; the decoder sign-extends from
    // Bits Stored (pydicom's correct_unused_bits).
    let vals: Vec<i16> = (0..64).map(|k| (k * 61 % 4096) as i16 - 2048).collect();
    let stored: Vec<u8> = vals.iter().flat_map(|v| ((*v as u16) & 0x0FFF).to_le_bytes()).collect();
    let enc = encode_jpeg(&stored, &info(8, 8, 1, 16, 12, 0), 100, Some(1), JpegColour::Rgb).unwrap();
    let out = decode("1.2.840.10008.1.2.4.70", &enc, &info(8, 8, 1, 16, 12, 1));
    let got: Vec<i16> = out.chunks(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
    assert_eq!(got, vals);
}

#[test]
fn jpeg_lossy_8_and_12_bit() {
    for (bits, ba, ts) in [
        (8u16, 8u16, "1.2.840.10008.1.2.4.50"),
        (12, 16, "1.2.840.10008.1.2.4.51"),
    ] {
        for spp in [1u16, 3] {
            let i = info(40, 33, spp, ba, bits, 0);
            let src = synth(40, 33, spp, ba, bits);
            let enc = encode_jpeg(&src, &i, 95, None, JpegColour::Rgb).unwrap();
            let out = decode(ts, &enc, &i);
            let size = usize::from(ba / 8);
            let val = |b: &[u8]| {
                if size == 1 {
                    i64::from(b[0])
                } else {
                    i64::from(u16::from_le_bytes([b[0], b[1]]))
                }
            };
            let max_err = src
                .chunks(size)
                .zip(out.chunks(size))
                .map(|(a, b)| (val(a) - val(b)).abs())
                .max()
                .unwrap();
            let tol = if bits == 8 { 12 } else { 12 * 16 };
            assert!(max_err <= tol, "bits {bits} spp {spp}: max error {max_err}");
        }
    }
}

#[test]
fn jpegls_lossless_and_near() {
    for bits in [2u16, 8, 12, 16] {
        let ba = if bits <= 8 { 8 } else { 16 };
        for spp in [1u16, 3] {
            let i = info(17, 29, spp, ba, bits, 0);
            let src = synth(17, 29, spp, ba, bits);
            let enc = encode_jpegls(&src, &i, 0).unwrap();
            assert_eq!(decode("1.2.840.10008.1.2.4.80", &enc, &i), src, "bits {bits} spp {spp}");
            if bits >= 8 {
                let enc = encode_jpegls(&src, &i, 2).unwrap();
                let out = decode("1.2.840.10008.1.2.4.81", &enc, &i);
                let size = usize::from(ba / 8);
                for (a, b) in src.chunks(size).zip(out.chunks(size)) {
                    let (a, b) = if size == 1 {
                        (i64::from(a[0]), i64::from(b[0]))
                    } else {
                        (
                            i64::from(u16::from_le_bytes([a[0], a[1]])),
                            i64::from(u16::from_le_bytes([b[0], b[1]])),
                        )
                    };
                    assert!((a - b).abs() <= 2, "NEAR 2: {a} vs {b}");
                }
            }
        }
    }
}

#[test]
fn jpegls_signed_sign_extends_from_precision() {
    let vals: Vec<i16> = (0..30).map(|k| (k * 997 % 65536) as i16).collect();
    let src: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let i = info(5, 6, 1, 16, 16, 1);
    let enc = encode_jpegls(&src, &i, 0).unwrap();
    assert_eq!(decode("1.2.840.10008.1.2.4.80", &enc, &i), src);
    // 12-bit signed in 16: the stream holds the 12-bit pattern.
    let vals: Vec<i16> = (0..30).map(|k| (k * 137 % 4096) as i16 - 2048).collect();
    let src: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let i = info(5, 6, 1, 16, 12, 1);
    let enc = encode_jpegls(&src, &i, 0).unwrap();
    assert_eq!(decode("1.2.840.10008.1.2.4.80", &enc, &i), src);
}

#[test]
fn registry_round_trips() {
    for ts in [
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.8.1",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.90",
    ] {
        let enc_fn = encoder_for(ts).unwrap();
        for (ba, spp) in [(8u16, 1u16), (8, 3), (16, 1), (16, 3)] {
            let i = info(31, 17, spp, ba, ba, 0);
            let src = synth(31, 17, spp, ba, ba);
            let enc = enc_fn(&src, &i, &EncodeOptions::default()).unwrap();
            assert_eq!(decode(ts, &enc, &i), src, "{ts} ba {ba} spp {spp}");
        }
    }
    // RLE with 32- and 64-bit samples (up to 15 segments: 3 x 4 bytes, 1 x 8 bytes).
    let enc_fn = encoder_for("1.2.840.10008.1.2.5").unwrap();
    for (ba, spp) in [(32u16, 3u16), (64, 1)] {
        let i = info(9, 11, spp, ba, ba, 0);
        let src = synth(9, 11, spp, ba, 30);
        assert_eq!(
            decode(
                "1.2.840.10008.1.2.5",
                &enc_fn(&src, &i, &EncodeOptions::default()).unwrap(),
                &i
            ),
            src
        );
    }
}

#[test]
fn j2k_lossless_and_lossy() {
    for (bits, ba, pr) in [
        (8u16, 8u16, 0u16),
        (12, 16, 0),
        (16, 16, 0),
        (12, 16, 1),
        (16, 16, 1),
        (8, 8, 1),
    ] {
        for spp in [1u16, 3] {
            let i = info(21, 34, spp, ba, bits, pr);
            let mut src = synth(21, 34, spp, ba, bits);
            if pr == 1 && ba == 8 {
                src = signed_from(&src, 8, bits);
            } else if pr == 1 {
                // Put negative values in: sign-extend the samples from Bits Stored.
                let mut fixed = Vec::new();
                for c in src.chunks(2) {
                    let v = u16::from_le_bytes([c[0], c[1]]);
                    let s = ((v << (16 - bits)) as i16) >> (16 - bits);
                    fixed.extend_from_slice(&s.to_le_bytes());
                }
                src = fixed;
            }
            let enc = encode_j2k(&src, &i, None, false).unwrap();
            assert_eq!(
                decode("1.2.840.10008.1.2.4.90", &enc, &i),
                src,
                "bits {bits} spp {spp} pr {pr}"
            );
            let enc = encode_j2k(&src, &i, Some(&J2kLayers::Ratios(vec![3.0])), false).unwrap();
            let out = decode("1.2.840.10008.1.2.4.91", &enc, &i);
            let size = usize::from(ba / 8);
            let val = |b: &[u8]| match (size, pr) {
                (1, 0) => i64::from(b[0]),
                (1, _) => i64::from(b[0] as i8),
                (_, 0) => i64::from(u16::from_le_bytes([b[0], b[1]])),
                _ => i64::from(i16::from_le_bytes([b[0], b[1]])),
            };
            let mean: f64 = src
                .chunks(size)
                .zip(out.chunks(size))
                .map(|(a, b)| (val(a) - val(b)).abs() as f64)
                .sum::<f64>()
                / (src.len() / size) as f64;
            assert!(
                mean < f64::from(1u32 << bits) / 20.0,
                "bits {bits} spp {spp}: mean error {mean}"
            );
        }
    }
}

#[test]
fn rle_large_frames_take_the_parallel_paths() {
    // 65,536 pixels and more: segments unpack and planes interleave in parallel (2, 3 and 6 planes).
    let enc_fn = encoder_for("1.2.840.10008.1.2.5").unwrap();
    for (ba, spp) in [(16u16, 1u16), (8, 3), (16, 3)] {
        let i = info(300, 257, spp, ba, ba, 0);
        let src = synth(300, 257, spp, ba, ba);
        let enc = enc_fn(&src, &i, &EncodeOptions::default()).unwrap();
        assert_eq!(decode("1.2.840.10008.1.2.5", &enc, &i), src, "ba {ba} spp {spp}");
        // Twice on the same thread: the reused scratch buffer must not leak state between frames.
        assert_eq!(decode("1.2.840.10008.1.2.5", &enc, &i), src, "ba {ba} spp {spp} again");
    }
}

#[test]
fn jpegls_zero_bytes_before_eoi_are_accepted() {
    // The DICOM WG04 JLSL samples carry a 0x00 between the scan data and EOI, which CharLS 2.3+ rejects
    // (corpus file wg04__MR1_JLSL.dcm); the decoder retries without it.
    let i = info(33, 40, 1, 16, 16, 1);
    let src = synth(33, 40, 1, 16, 16);
    let enc = encode_jpegls(&src, &i, 0).unwrap();
    assert!(enc.ends_with(&[0xFF, 0xD9]));
    let mut bad = enc[..enc.len() - 2].to_vec();
    bad.extend_from_slice(&[0x00, 0xFF, 0xD9, 0x00]);
    assert_eq!(decode("1.2.840.10008.1.2.4.80", &bad, &i), src);
}

/// `src` (unsigned samples of `ba` bits holding `bits`-bit values) read as two's complement within `bits`
/// and sign-extended to the container, as pixel_array gives signed data: half the values turn negative.
fn signed_from(src: &[u8], ba: u16, bits: u16) -> Vec<u8> {
    let shift = u32::from(ba - bits);
    if ba == 8 {
        src.iter().map(|&v| (((v << shift) as i8) >> shift) as u8).collect()
    } else {
        src.chunks(2)
            .flat_map(|c| (((u16::from_le_bytes([c[0], c[1]]) << shift) as i16) >> shift).to_le_bytes())
            .collect()
    }
}

#[test]
fn jpeg_lossless_encodes_signed_data() {
    // PS3.5 §8.2.1: JPEG Lossless takes Pixel Representation 1; the codestream holds the two's complement
    // pattern within Bits Stored as unsigned samples of precision Bits Stored, and the decoder sign-extends.
    // (These frames were refused before: "JPEG encoding of signed pixel data is not supported".)
    for (bits, ba) in [(8u16, 8u16), (6, 8), (12, 16), (13, 16), (16, 16), (7, 16)] {
        for spp in [1u16, 3] {
            let i = info(13, 22, spp, ba, bits, 1);
            let src = signed_from(&synth(13, 22, spp, ba, bits), ba, bits);
            assert!(src.iter().any(|&b| b & 0x80 != 0), "the frame has negative values");
            for ts in ["1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.57"] {
                let enc = encoder_for(ts).unwrap()(&src, &i, &EncodeOptions::default()).unwrap();
                let h = _native::pixel::codec::jpeg::parse_header(&enc).unwrap();
                assert_eq!(u16::from(h.precision), bits, "SOF3 precision P = Bits Stored");
                assert_eq!(decode(ts, &enc, &i), src, "{ts} bits {bits} in {ba} spp {spp}");
            }
        }
    }
}

#[test]
fn jpeg_lossy_refuses_signed_data() {
    let i = info(8, 8, 1, 8, 8, 1);
    let err = encode_jpeg(&[0u8; 64], &i, 90, None, JpegColour::Rgb)
        .unwrap_err()
        .to_string();
    assert!(err.contains("signed pixel data is not supported"), "{err}");
    assert!(err.contains("(0028,0103) 'Pixel Representation'"), "{err}");
}

#[test]
fn narrow_samples_in_16_bit_containers() {
    // Bits Stored 2 to 8 with Bits Allocated 16: the encoders take the low byte of each 2-byte sample.
    // (JPEG Lossless used to hand the 16-bit frame to tj3Compress8 as if it held bytes.)
    for bits in [2u16, 6, 8] {
        let i = info(9, 14, 1, 16, bits, 0);
        let src = synth(9, 14, 1, 16, bits);
        let enc = encode_jpeg(&src, &i, 100, Some(1), JpegColour::Rgb).unwrap();
        assert_eq!(decode("1.2.840.10008.1.2.4.70", &enc, &i), src, "JPEG bits {bits}");
        let enc = encode_jpegls(&src, &i, 0).unwrap();
        assert_eq!(decode("1.2.840.10008.1.2.4.80", &enc, &i), src, "JPEG-LS bits {bits}");
    }
}

#[test]
fn encoders_ignore_bits_above_bits_stored() {
    // PS3.5 §8.1.1: bits above High Bit carry no defined value. The encoders code Bits Stored bits only,
    // so a frame with junk up there decodes to its masked values (the frame is copied, not borrowed).
    for (ba, bits) in [(8u16, 6u16), (16, 12), (16, 10)] {
        let i = info(11, 7, 1, ba, bits, 0);
        let clean = synth(11, 7, 1, ba, bits);
        let junk: Vec<u8> = clean
            .iter()
            .enumerate()
            .map(|(k, &b)| {
                let high = if ba == 8 {
                    0xC0
                } else if k % 2 == 1 {
                    0xF0
                } else {
                    0
                };
                b | high
            })
            .collect();
        assert_ne!(junk, clean);
        for ts in [
            "1.2.840.10008.1.2.4.80",
            "1.2.840.10008.1.2.4.70",
            "1.2.840.10008.1.2.4.90",
        ] {
            let enc = encoder_for(ts).unwrap()(&junk, &i, &EncodeOptions::default()).unwrap();
            assert_eq!(decode(ts, &enc, &i), clean, "{ts} {bits} in {ba}");
        }
    }
}

#[test]
fn j2k_single_frame_on_openjpeg_threads_is_the_same_codestream() {
    // A single frame of 64 Ki pixels or more encodes its code-blocks on OpenJPEG's threads when it runs in a
    // rayon pool of several threads; the codestream must not depend on it (and stay lossless).
    let i = info(300, 260, 1, 16, 12, 0);
    let src = synth(300, 260, 1, 16, 12);
    let alone = encode_j2k(&src, &i, None, false).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let threaded = pool.install(|| encode_j2k(&src, &i, None, false)).unwrap();
    assert_eq!(threaded, alone);
    assert_eq!(decode("1.2.840.10008.1.2.4.90", &threaded, &i), src);
}

#[test]
fn jpegls_own_lossless_coder_writes_charls_bytes() {
    use _native::pixel::codec::jpegls::encode_jpegls_charls;
    // Our lossless coder and CharLS implement the same deterministic process (ISO 14495-1 Annex A with
    // the default parameters): the streams must be identical, byte for byte, at every precision.
    let mut seed = 0x1234_5678_u32;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for bits in 2u16..=16 {
        let ba = if bits <= 8 { 8 } else { 16 };
        for (rows, cols) in [(1u32, 1u32), (1, 7), (5, 1), (17, 29), (64, 64), (33, 130)] {
            for pattern in 0..4 {
                let max = (1u32 << bits) - 1;
                let mut src = Vec::new();
                for y in 0..rows {
                    for x in 0..cols {
                        let v = match pattern {
                            0 => rnd() & max,
                            1 => 0,
                            2 => ((x / 5 + y / 3) * 37) & max,
                            _ => {
                                if rnd() % 4 == 0 {
                                    rnd() & max
                                } else {
                                    (x * max / cols.max(1)) & max
                                }
                            }
                        };
                        src.extend_from_slice(&v.to_le_bytes()[..usize::from(ba / 8)]);
                    }
                }
                let i = info(rows, cols, 1, ba, bits, 0);
                let ours = encode_jpegls(&src, &i, 0).unwrap();
                let theirs = encode_jpegls_charls(&src, &i, 0).unwrap();
                assert_eq!(ours, theirs, "bits {bits} {rows}x{cols} pattern {pattern}");
                assert_eq!(decode("1.2.840.10008.1.2.4.80", &ours, &i), src);
            }
        }
    }
}
