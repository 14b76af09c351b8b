//! Native (uncompressed) Pixel Data against pydicom: each fixture in `tests/data/*.native` is a whole Pixel
//! Data value from a pydicom test file (written by `data/make_native_fixtures.py`) with the FNV-1a 64 hash
//! of pydicom 3's `pixel_array(path, index=i, raw=True)` as a literal. Covers big endian (16/32-bit, and
//! 8-bit written as OW with an odd length), Planar Configuration 1, native YBR_FULL_422, Bits Allocated 1,
//! multi-frame indexing and the zero-copy ranges.

use _native::pixel::layout::{PixelInfo, unused_bits_are_clean};
use _native::pixel::{decode_native_frame, native_frame_range};

mod common;
use common::{fnv1a64, load, value_at};

struct Native {
    name: &'static str,
    big_endian: bool,
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
const NATIVE: &[Native] = &[
    Native { name: "explvr_bigend_rgb_planar.native", big_endian: false, rows: 60, columns: 80, spp: 3, ba: 8, bs: 8, pr: 0, planar: 1, photometric: "RGB", frames: 1, index: 0, fnv: 0xab4cee7b14ac4665, first: 171, middle: 255 },  // ExplVR_BigEnd.dcm
    Native { name: "mr_small_bigendian.native", big_endian: true, rows: 64, columns: 64, spp: 1, ba: 16, bs: 16, pr: 1, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0x51433421a5f7529a, first: 905, middle: 482 },  // MR_small_bigendian.dcm
    Native { name: "sc_rgb_small_odd.native", big_endian: false, rows: 3, columns: 3, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "RGB", frames: 1, index: 0, fnv: 0xd88a056e240f234e, first: 166, middle: 87 },  // SC_rgb_small_odd.dcm
    Native { name: "sc_rgb_small_odd_big_endian.native", big_endian: true, rows: 3, columns: 3, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "RGB", frames: 1, index: 0, fnv: 0xd88a056e240f234e, first: 166, middle: 87 },  // SC_rgb_small_odd_big_endian.dcm
    Native { name: "sc_ybr_full_422_uncompressed.native", big_endian: false, rows: 100, columns: 100, spp: 3, ba: 8, bs: 8, pr: 0, planar: 0, photometric: "YBR_FULL_422", frames: 1, index: 0, fnv: 0x44b6f485ccae622d, first: 76, middle: 143 },  // SC_ybr_full_422_uncompressed.dcm
    Native { name: "liver_expb_1frame.native", big_endian: true, rows: 512, columns: 512, spp: 1, ba: 1, bs: 1, pr: 0, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0x8d934ad0bf5a1596, first: 0, middle: 0 },  // liver_expb_1frame.dcm
    Native { name: "rtdose_expb.native", big_endian: true, rows: 10, columns: 10, spp: 1, ba: 32, bs: 32, pr: 0, planar: 0, photometric: "MONOCHROME2", frames: 15, index: 7, fnv: 0xad7f000ed888089f, first: 1253000, middle: 985000 },  // rtdose_expb.dcm
    Native { name: "rtdose.native", big_endian: false, rows: 10, columns: 10, spp: 1, ba: 32, bs: 32, pr: 0, planar: 0, photometric: "MONOCHROME2", frames: 15, index: 14, fnv: 0x3e9a66953e564356, first: 1249000, middle: 979000 },  // rtdose.dcm
    Native { name: "ct_small.native", big_endian: false, rows: 128, columns: 128, spp: 1, ba: 16, bs: 16, pr: 1, planar: 0, photometric: "MONOCHROME2", frames: 1, index: 0, fnv: 0xd3129fe277454b08, first: 175, middle: 956 },  // CT_small.dcm
];

fn info(f: &Native) -> PixelInfo {
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

#[test]
fn native_frames_match_pydicom() {
    let mut failures = Vec::new();
    for f in NATIVE {
        let info = info(f);
        let data = load(f.name);
        let mut out = vec![0u8; info.frame_len_bytes().unwrap()];
        match decode_native_frame(&data, &info, f.index, f.big_endian, &mut out) {
            Ok(()) => {
                let dtype = info.output_dtype();
                let n = out.len() / dtype.itemsize();
                let got = (fnv1a64(&out), value_at(&out, dtype, 0), value_at(&out, dtype, n / 2));
                if got != (f.fnv, f.first, f.middle) {
                    failures.push(format!(
                        "{}: got {got:x?}, expected {:#x} {} {}",
                        f.name, f.fnv, f.first, f.middle
                    ));
                }
                // Where a zero-copy view is offered, it must equal the decoded frame.
                if !f.big_endian
                    && let Some(r) = native_frame_range(data.len(), &info, f.index).unwrap()
                {
                    let view = &data[r];
                    assert!(unused_bits_are_clean(view, dtype, info.bits_stored), "{}", f.name);
                    assert_eq!(view, &out[..], "{}", f.name);
                }
            }
            Err(e) => failures.push(format!("{}: {e}", f.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn short_data_is_an_error() {
    for f in NATIVE {
        let info = info(f);
        let data = load(f.name);
        let stored = info.stored_frame_len_bytes().unwrap();
        let mut out = vec![0u8; info.frame_len_bytes().unwrap()];
        let cut = &data[..(stored * (f.index + 1)).saturating_sub(3).min(data.len())];
        assert!(
            decode_native_frame(cut, &info, f.index, f.big_endian, &mut out).is_err(),
            "{}",
            f.name
        );
        assert!(
            decode_native_frame(&data, &info, f.frames as usize + 1, f.big_endian, &mut out).is_err(),
            "{}",
            f.name
        );
        assert!(native_frame_range(cut.len(), &info, f.index).is_err(), "{}", f.name);
        let mut wrong = vec![0u8; out.len() + 1];
        assert!(decode_native_frame(&data, &info, f.index, f.big_endian, &mut wrong).is_err());
    }
}
