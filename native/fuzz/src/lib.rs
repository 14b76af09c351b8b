//! Shared driver of the pixel decoder fuzz targets (STYLE.md §8).
//!
//! The first 6 bytes of an input choose the frame the decoder must produce (small dimensions, so a run
//! stays fast); the rest is the codestream. Invariants: the decoder never panics, returns `Ok` or
//! `Err(Error::Decode | Error::UnsupportedTransferSyntax)`, and never changes the output's length.

use _native::Error;
use _native::pixel::codec::{j2k, jpeg};
use _native::pixel::{PixelInfo, decode_frame};

/// Bits Allocated / Bits Stored pairs a header byte picks from.
const DEPTHS: [(u16, u16); 8] = [(8, 8), (8, 6), (16, 16), (16, 12), (16, 10), (32, 32), (8, 2), (16, 13)];

/// Decodes `data` as one frame of transfer syntax `ts_uid`, checking the invariants.
pub fn run(ts_uid: &str, data: &[u8]) {
    let Some((head, stream)) = data.split_first_chunk::<6>() else {
        return;
    };
    let (ba, bs) = DEPTHS[usize::from(head[2] % 8)];
    let info = PixelInfo {
        rows: u32::from(head[0] % 64) + 1,
        columns: u32::from(head[1] % 64) + 1,
        samples_per_pixel: if head[3] & 1 == 0 { 1 } else { 3 },
        bits_allocated: ba,
        bits_stored: bs,
        high_bit: bs - 1,
        pixel_representation: u16::from(head[3] >> 1 & 1),
        planar_configuration: u16::from(head[3] >> 2 & 1),
        photometric: match head[4] % 4 {
            0 => "MONOCHROME2",
            1 => "RGB",
            2 => "YBR_FULL",
            _ => "YBR_FULL_422",
        }
        .to_owned(),
        number_of_frames: 1,
        ..PixelInfo::default()
    };
    let mut info = info;
    // Half of the inputs take their dimensions from the codestream itself (when they are small), so the
    // fuzzer gets past the dimension checks into the codecs.
    if head[5] & 0x80 != 0 {
        adopt_stream_dimensions(ts_uid, stream, &mut info);
    }
    let Ok(len) = info.frame_len_bytes() else { return };
    let mut out = vec![0u8; len];
    match decode_frame(ts_uid, stream, &info, usize::from(head[5]), &mut out) {
        Ok(()) | Err(Error::Decode { .. } | Error::UnsupportedTransferSyntax { .. }) => {}
        Err(e) => panic!("unexpected error kind: {e:?}"),
    }
    assert_eq!(out.len(), len);
}

/// Copies rows, columns, samples and precision from a JPEG / JPEG-LS / JPEG 2000 header into `info`
/// when the frame is at most 512 x 512.
fn adopt_stream_dimensions(ts_uid: &str, stream: &[u8], info: &mut PixelInfo) {
    let (rows, cols, spp, bits) =
        if ts_uid.starts_with("1.2.840.10008.1.2.4.9") || ts_uid.starts_with("1.2.840.10008.1.2.4.20") {
            match j2k::parse_header(stream) {
                Some(h) => (h.rows, h.columns, h.components, u16::from(h.precision)),
                None => return,
            }
        } else {
            match jpeg::parse_header(stream) {
                Some(h) => (
                    u32::from(h.rows),
                    u32::from(h.columns),
                    h.component_ids.len() as u16,
                    u16::from(h.precision),
                ),
                None => return,
            }
        };
    if rows == 0 || cols == 0 || rows > 512 || cols > 512 || !matches!(spp, 1 | 3) || !(1..=16).contains(&bits) {
        return;
    }
    info.rows = rows;
    info.columns = cols;
    info.samples_per_pixel = spp;
    info.bits_allocated = if bits <= 8 { 8 } else { 16 };
    info.bits_stored = bits;
    info.high_bit = bits - 1;
}
