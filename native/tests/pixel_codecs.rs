//! Pixel codecs on real frames: each fixture in `tests/data/` is one frame's codestream (or a whole
//! encapsulated Pixel Data value) taken from a pydicom / corpus file by `data/make_pixel_fixtures.py`,
//! with the FNV-1a 64 hash of pydicom 3's `pixel_array(path, index=i, raw=True)` (cast to our dtype) and
//! two sample values as literals. Then bad data: truncated, bit-flipped and lying streams must give
//! `Err(Error::Decode { .. })`, never a panic.

use _native::Error;
use _native::pixel::encaps::{Fragment, frame_bytes, frame_fragments};
use _native::pixel::layout::PixelInfo;
use _native::pixel::{decode_frame, decoder_for};

mod common;
use common::{fnv1a64, load, value_at};

struct Fixture {
    name: &'static str,
    ts: &'static str,
    rows: u32,
    columns: u32,
    spp: u16,
    ba: u16,
    bs: u16,
    pr: u16,
    planar: u16,
    photometric: &'static str,
    frames: u32,
    index: usize,
    fnv: u64,
    first: i64,
    middle: i64,
}

#[rustfmt::skip]
const FIXTURES: &[Fixture] = &[
    Fixture { name: "mr_small_rle.frame", ts: "1.2.840.10008.1.2.5", rows: 64, columns: 64, spp: 1, ba: 16, bs: 16, pr: 1, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0x51433421a5f7529a, first: 905, middle: 482 },  // MR_small_RLE.dcm, 6108 bytes
    Fixture { name: "sc_rgb_rle_32bit.frame", ts: "1.2.840.10008.1.2.5", rows: 100, columns: 100, spp: 3, ba: 32, bs: 32, pr: 0, planar: 0, photometric: "RGB", frames: 1, index: 0, fnv: 0x47fce74c0e707a85, first: 4294967295, middle: 2155905152 },  // SC_rgb_rle_32bit.dcm, 2464 bytes
    Fixture { name: "sc_rgb_rle_16bit_2frame.frame", ts: "1.2.840.10008.1.2.5", rows: 100, columns: 100, spp: 3, ba: 16, bs: 16, pr: 0, planar: 0, photometric: "RGB", frames: 2, index: 1, fnv: 0xd39c4bf435b3f795, first: 0, middle: 32639 },  // SC_rgb_rle_16bit_2frame.dcm, 1264 bytes
    Fixture { name: "sc_rgb_jpeg_dcmtk.frame", ts: "1.2.840.10008.1.2.4.50", rows: 100, columns: 100, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "YBR_FULL", frames: 1, index: 0, fnv: 0x44b6f485ccae622d, first: 76, middle: 143 },  // SC_rgb_jpeg_dcmtk.dcm, 1724 bytes
    Fixture { name: "sc_rgb_dcmtk_ybr422.frame", ts: "1.2.840.10008.1.2.4.50", rows: 100, columns: 100, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "YBR_FULL_422", frames: 1, index: 0, fnv: 0x44b6f485ccae622d, first: 76, middle: 143 },  // SC_rgb_dcmtk_+eb+cy+s2.dcm, 1394 bytes
    Fixture { name: "sc_jpeg_no_color_transform.frame", ts: "1.2.840.10008.1.2.4.50", rows: 256, columns: 256, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "RGB", frames: 1, index: 0, fnv: 0xe15ff104193f93b8, first: 244, middle: 244 },  // SC_jpeg_no_color_transform.dcm, 3484 bytes
    Fixture { name: "sc_rgb_jpeg_gdcm_lossless.frame", ts: "1.2.840.10008.1.2.4.70", rows: 100, columns: 100, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "RGB", frames: 1, index: 0, fnv: 0xe9719e4c815ac1dd, first: 255, middle: 128 },  // SC_rgb_jpeg_gdcm.dcm, 3860 bytes
    Fixture { name: "ct0012_jpeg_lossless_57.pixdata", ts: "1.2.840.10008.1.2.4.57", rows: 512, columns: 512, spp: 1, ba: 16, bs: 16, pr: 0, planar: 0, photometric: "MONOCHROME2", frames: 2, index: 1, fnv: 0x3d0079e2cfe35cf8, first: 0, middle: 0 },  // dicomparser__multi-frame_CT0012.fragmented_no_bot_jpeg_lossless.57.dcm, 130862 bytes
    Fixture { name: "sc_rgb_small_odd_jpeg.frame", ts: "1.2.840.10008.1.2.4.50", rows: 3, columns: 3, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "YBR_FULL", frames: 1, index: 0, fnv: 0x77e1b2b7f6825ced, first: 138, middle: 178 },  // SC_rgb_small_odd_jpeg.dcm, 318 bytes
    Fixture { name: "jpg_extended_12bit.frame", ts: "1.2.840.10008.1.2.4.51", rows: 1024, columns: 256, spp: 1, ba: 16, bs: 12, pr: 0, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0x55ead43f25585a5c, first: 1, middle: 1 },  // JPGExtended.dcm, 12-bit DCT; reference: GDCM ImageReader (pydicom 3 refuses 12-bit through GDCM), arr[420, 140] = 244, arr[230, 120] = 95
    Fixture { name: "mr_small_jls_lossless.frame", ts: "1.2.840.10008.1.2.4.80", rows: 64, columns: 64, spp: 1, ba: 16, bs: 16, pr: 1, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0x51433421a5f7529a, first: 905, middle: 482 },  // MR_small_jpeg_ls_lossless.dcm, 4430 bytes
    Fixture { name: "sc_rgb_jls_lossy_line.frame", ts: "1.2.840.10008.1.2.4.81", rows: 100, columns: 100, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "RGB", frames: 1, index: 0, fnv: 0x439e15aad9824c15, first: 255, middle: 130 },  // SC_rgb_jls_lossy_line.dcm, 510 bytes
    Fixture { name: "sc_rgb_jls_lossy_sample.frame", ts: "1.2.840.10008.1.2.4.81", rows: 100, columns: 100, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "RGB", frames: 1, index: 0, fnv: 0x439e15aad9824c15, first: 255, middle: 130 },  // SC_rgb_jls_lossy_sample.dcm, 532 bytes
    Fixture { name: "jls_near_lossless_16.frame", ts: "1.2.840.10008.1.2.4.81", rows: 50, columns: 10, spp: 1, ba: 16, bs: 16, pr: 0, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0xfcd9d20d9e51971d, first: 65535, middle: 255 },  // JPEGLSNearLossless_16.dcm, 150 bytes
    Fixture { name: "mr_small_j2k_lossless.frame", ts: "1.2.840.10008.1.2.4.90", rows: 64, columns: 64, spp: 1, ba: 16, bs: 16, pr: 1, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0x51433421a5f7529a, first: 905, middle: 482 },  // MR_small_jp2klossless.dcm, 4314 bytes
    Fixture { name: "j2k_pixelrep_mismatch.frame", ts: "1.2.840.10008.1.2.4.90", rows: 512, columns: 512, spp: 1, ba: 16, bs: 13, pr: 1, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0x67ce3c8fce962aa2, first: -2000, middle: -1003 },  // J2K_pixelrep_mismatch.dcm, 132502 bytes
    Fixture { name: "gdcm_j2k_text_gbr.frame", ts: "1.2.840.10008.1.2.4.90", rows: 400, columns: 400, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "YBR_RCT", frames: 1, index: 0, fnv: 0xf8be88001430502a, first: 128, middle: 128 },  // GDCMJ2K_TextGBR.dcm, 29912 bytes
    Fixture { name: "htj2k_mr3.frame", ts: "1.2.840.10008.1.2.4.202", rows: 512, columns: 512, spp: 1, ba: 16, bs: 16, pr: 1, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0xe6d3b988f5c81c80, first: 0, middle: 0 },  // dicomhtj2k__htj2k_MR3_JPH.dcm, 121242 bytes
    Fixture { name: "htj2k_us1_rct.frame", ts: "1.2.840.10008.1.2.4.202", rows: 480, columns: 640, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "YBR_RCT", frames: 1, index: 0, fnv: 0xeb0be435cfe3fad9, first: 0, middle: 0 },  // dicomhtj2k__htj2k_US1_JPH.dcm, 168512 bytes
];

fn info(f: &Fixture) -> PixelInfo {
    PixelInfo {
        rows: f.rows,
        columns: f.columns,
        samples_per_pixel: f.spp,
        bits_allocated: f.ba,
        bits_stored: f.bs,
        high_bit: f.bs - 1,
        pixel_representation: f.pr,
        planar_configuration: f.planar,
        photometric: f.photometric.to_owned(),
        number_of_frames: f.frames,
        ..PixelInfo::default()
    }
}

/// The items of an encapsulated Pixel Data value (PS3.5 §A.4): (FFFE,E000) tag, 4-byte length, value;
/// stops at the Sequence Delimitation Item.
fn items(value: &[u8]) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= value.len() {
        let tag = u32::from_le_bytes(value[pos..pos + 4].try_into().unwrap());
        let len = u32::from_le_bytes(value[pos + 4..pos + 8].try_into().unwrap()) as usize;
        if tag == 0xE0DD_FFFE {
            break;
        }
        assert_eq!(tag, 0xE000_FFFE, "item tag at {pos}");
        out.push(Fragment { offset: pos + 8, len });
        pos += 8 + len;
    }
    out
}

/// The codestream of the fixture's frame.
fn frame_of(f: &Fixture) -> Vec<u8> {
    let data = load(f.name);
    if !f.name.ends_with(".pixdata") {
        return data;
    }
    let frags = items(&data);
    let ranges = frame_fragments(&data, &frags, None, None, f.frames as usize, f.ts).unwrap();
    assert_eq!(ranges.len(), f.frames as usize, "{}", f.name);
    frame_bytes(&data, &frags, ranges[f.index].clone(), f.ts, f.index)
        .unwrap()
        .into_owned()
}

fn decode(f: &Fixture, src: &[u8], info: &PixelInfo) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; info.frame_len_bytes()?];
    decode_frame(f.ts, src, info, f.index, &mut out)?;
    Ok(out)
}

#[test]
fn fixtures_match_pydicom() {
    let mut failures = Vec::new();
    for f in FIXTURES {
        let info = info(f);
        let src = frame_of(f);
        match decode(f, &src, &info) {
            Ok(out) => {
                let dtype = info.output_dtype();
                let n = out.len() / dtype.itemsize();
                let got = (fnv1a64(&out), value_at(&out, dtype, 0), value_at(&out, dtype, n / 2));
                if got != (f.fnv, f.first, f.middle) {
                    failures.push(format!(
                        "{}: got fnv {:#018x} first {} middle {}, expected {:#018x} {} {}",
                        f.name, got.0, got.1, got.2, f.fnv, f.first, f.middle
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", f.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lying_dimensions_are_errors() {
    for f in FIXTURES {
        let src = frame_of(f);
        for lie in 0..3 {
            let mut info = info(f);
            match lie {
                0 => info.rows += 1,
                1 => info.columns -= 1,
                _ => info.samples_per_pixel = if f.spp == 1 { 3 } else { 1 },
            }
            let r = decode(f, &src, &info);
            // RLE carries no dimensions: fewer columns than the segments hold is accepted (pydicom warns
            // about non-conformant padding); more rows than they hold is an error.
            if f.ts == "1.2.840.10008.1.2.5" && lie == 1 {
                continue;
            }
            assert!(
                matches!(r, Err(Error::Decode { .. })),
                "{} lie {lie}: {:?}",
                f.name,
                r.err()
            );
        }
    }
}

#[test]
fn truncated_streams_are_errors() {
    for f in FIXTURES {
        let src = frame_of(f);
        let info = info(f);
        for cut in [0, 1, 2, 10, 64, src.len() / 3, src.len() / 2] {
            // OpenJPEG in a debug build is slow: fewer cuts for the large JPEG 2000 fixtures.
            if src.len() > 50_000 && cut > 64 && f.ts.contains(".4.9") || f.ts.contains(".4.20") && cut > 64 {
                continue;
            }
            let r = decode(f, &src[..cut.min(src.len())], &info);
            // OpenJPEG decodes what a truncated J2K codestream holds (progressive by design), as pydicom does.
            if !f.ts.starts_with("1.2.840.10008.1.2.4.9") && !f.ts.starts_with("1.2.840.10008.1.2.4.20") {
                assert!(
                    matches!(r, Err(Error::Decode { .. })),
                    "{} cut {cut}: {:?}",
                    f.name,
                    r.err()
                );
            } else if cut < 64 {
                assert!(r.is_err(), "{} cut {cut}", f.name);
            }
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    // A cheap deterministic generator: the same flips on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for f in FIXTURES {
        let src = frame_of(f);
        let info = info(f);
        let rounds = if src.len() > 50_000 { 3 } else { 40 };
        for _ in 0..rounds {
            let mut bad = src.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % bad.len();
                bad[i] ^= 1 << (next() % 8);
            }
            // Ok or Err, but never a panic or a wrong-sized write.
            let _ = decode(f, &bad, &info);
        }
    }
}

#[test]
fn every_encapsulated_syntax_has_a_decoder() {
    for ts in [
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
        "1.2.840.10008.1.2.4.110",
        "1.2.840.10008.1.2.4.111",
        "1.2.840.10008.1.2.4.112",
        "1.2.840.10008.1.2.8.1",
    ] {
        assert!(decoder_for(ts).is_some(), "{ts}");
    }
    let info = PixelInfo {
        rows: 1,
        columns: 1,
        ..PixelInfo::default()
    };
    let r = decode_frame("1.2.840.10008.1.2.4.100", &[], &info, 0, &mut [0]);
    assert!(matches!(r, Err(Error::UnsupportedTransferSyntax { .. })), "{r:?}");
}
