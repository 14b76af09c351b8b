//! JPEG XL JPEG recompression (1.2.840.10008.1.2.4.111): frame 25 of the corpus file
//! `dcm4che__will-jxl.dcm` (708 x 1016, YBR_FULL_422, 27 frames; pydicom 3.0 cannot decode it). The
//! decoder rebuilds the original JPEG and decodes its YBR components; converted to RGB they must agree
//! with jxl-oxide's own RGB rendering of the same stream within the rounding of two lossy pipelines.

use _native::pixel::PixelInfo;
use _native::pixel::codec::jxl::{
    WITH_LIBJXL, decode_jxl_rendered, decode_oxide, has_jpeg_reconstruction, jxl_photometric,
};
use _native::pixel::colour::ybr_full_to_rgb_u8;
use _native::pixel::decode_frame;

fn info() -> PixelInfo {
    PixelInfo {
        rows: 708,
        columns: 1016,
        samples_per_pixel: 3,
        photometric: "YBR_FULL_422".to_owned(),
        number_of_frames: 27,
        ..PixelInfo::default()
    }
}

#[test]
fn recompressed_jpeg_matches_rendering() {
    let src = std::fs::read(format!(
        "{}/tests/data/will_jxl_recompression.frame",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert!(has_jpeg_reconstruction(&src));
    assert_eq!(jxl_photometric(&src, &info()), None);
    let info = info();
    let mut ybr = vec![0u8; info.frame_len_bytes().unwrap()];
    decode_frame("1.2.840.10008.1.2.4.111", &src, &info, 25, &mut ybr).unwrap();
    let mut rgb = ybr.clone();
    ybr_full_to_rgb_u8(&mut rgb).unwrap();
    let mut rendered = vec![0u8; rgb.len()];
    decode_jxl_rendered(&src, &info, 25, &mut rendered).unwrap();
    let diffs: Vec<i32> = rgb
        .iter()
        .zip(&rendered)
        .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
        .collect();
    let max = diffs.iter().copied().max().unwrap();
    let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    assert!(mean < 1.0 && max <= 8, "mean {mean} max {max}");
    // Truncated and lying streams are errors, not panics.
    assert!(decode_frame("1.2.840.10008.1.2.4.111", &src[..src.len() / 2], &info, 25, &mut ybr).is_err());
    let mut lie = info.clone();
    lie.rows += 1;
    let mut out = vec![0u8; lie.frame_len_bytes().unwrap()];
    assert!(decode_frame("1.2.840.10008.1.2.4.111", &src, &lie, 25, &mut out).is_err());
}

/// libjxl (when built in) and jxl-oxide rebuild the same JPEG: the decoded YBR samples are identical; their
/// RGB renderings agree within rounding.
#[test]
fn libjxl_and_jxl_oxide_agree() {
    let src = std::fs::read(format!(
        "{}/tests/data/will_jxl_recompression.frame",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let info = info();
    let n = info.frame_len_bytes().unwrap();
    let ts = "1.2.840.10008.1.2.4.111";
    let (mut ours, mut oxide) = (vec![0u8; n], vec![0u8; n]);
    decode_frame(ts, &src, &info, 25, &mut ours).unwrap();
    decode_oxide(ts, &src, &info, 25, &mut oxide, true).unwrap();
    assert!(ours == oxide, "the rebuilt JPEGs decode differently");
    decode_jxl_rendered(&src, &info, 25, &mut ours).unwrap();
    decode_oxide(ts, &src, &info, 25, &mut oxide, false).unwrap();
    let max = ours.iter().zip(&oxide).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(max <= 2, "renderings differ by {max} (libjxl built in: {WITH_LIBJXL})");
}
