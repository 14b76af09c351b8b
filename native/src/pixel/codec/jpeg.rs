//! JPEG (ISO/IEC 10918-1) through libjpeg-turbo 3's TurboJPEG API: Baseline 1.2.840.10008.1.2.4.50,
//! Extended 12-bit .4.51, Lossless .4.57 and Lossless SV1 .4.70 (any predictor, 2 to 16 bits).
//!
//! Colour: pydicom 3 (through GDCM) decodes 3-component JPEGs *without* the codec's colour transform and
//! then converts YBR_FULL / YBR_FULL_422 to RGB itself. We do the same: before decoding a 3-component
//! stream we neutralise the JFIF APP0 marker and set an Adobe APP14 transform of 0, so libjpeg-turbo
//! upsamples but does not convert, and `out` holds the stored components. [`jpeg_photometric`] says
//! which Photometric Interpretation those components really have (pydicom's `_conform_jpg_colorspace`).
//!
//! Precision picks the API: 2-8 bits `tj3Decompress8`, 9-12 `tj3Decompress12`, 13-16 `tj3Decompress16`.

use std::ffi::CStr;

use turbojpeg_sys as tj;

use super::{JPEG_BASELINE_8BIT, check_output};
use crate::pixel::layout::{PixelInfo, correct_unused_bits};
use crate::{Error, Result};

/// What the JPEG marker segments before the first scan say (ISO 10918-1 §B.2).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JpegHeader {
    /// The SOF marker's second byte (C0..CF, or F7 for JPEG-LS SOF55).
    pub sof: u8,
    /// Sample precision P.
    pub precision: u8,
    /// Number of lines Y.
    pub rows: u16,
    /// Samples per line X.
    pub columns: u16,
    /// Component identifiers, in frame order.
    pub component_ids: Vec<u8>,
    /// A JFIF APP0 segment is present.
    pub jfif: bool,
    /// Offset of the Adobe APP14 transform byte, when present.
    pub adobe_transform_at: Option<usize>,
    /// Offset of the "JFIF" identifier of the APP0 segment, when present.
    pub jfif_at: Option<usize>,
    /// JPEG-LS: the NEAR and ILV bytes of the first scan header.
    pub ls_near: u8,
    /// JPEG-LS interleave mode (0 none, 1 line, 2 sample).
    pub ls_ilv: u8,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads the marker segments from SOI up to the first SOS (ISO 10918-1 §B.1.1.2; ISO 14495-1 §C.1).
pub fn parse_header(src: &[u8]) -> Option<JpegHeader> {
    if !src.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut h = JpegHeader::default();
    let mut pos = 2usize;
    loop {
        // Markers may be preceded by any number of fill bytes FF (§B.1.1.2).
        if *src.get(pos)? != 0xFF {
            return None;
        }
        while *src.get(pos)? == 0xFF {
            pos += 1;
        }
        let m = *src.get(pos)?;
        pos += 1;
        if matches!(m, 0x01 | 0xD0..=0xD7) {
            continue;
        }
        if m == 0xD9 {
            return None;
        }
        let len = usize::from(be16(src, pos)?);
        if len < 2 {
            return None;
        }
        let seg = src.get(pos + 2..pos + len)?;
        match m {
            0xC0..=0xCF | 0xF7 if !matches!(m, 0xC4 | 0xC8 | 0xCC) => {
                h.sof = m;
                h.precision = *seg.first()?;
                h.rows = be16(seg, 1)?;
                h.columns = be16(seg, 3)?;
                let nf = usize::from(*seg.get(5)?);
                h.component_ids = (0..nf).map(|i| seg.get(6 + 3 * i).copied()).collect::<Option<_>>()?;
            }
            0xE0 if seg.starts_with(b"JFIF\0") => {
                h.jfif = true;
                h.jfif_at = Some(pos + 2);
            }
            0xEE if seg.starts_with(b"Adobe") && seg.len() >= 12 => h.adobe_transform_at = Some(pos + 2 + 11),
            0xDA => {
                let ns = usize::from(*seg.first()?);
                h.ls_near = seg.get(1 + 2 * ns).copied().unwrap_or(0);
                h.ls_ilv = seg.get(2 + 2 * ns).copied().unwrap_or(0);
                return if h.sof == 0 { None } else { Some(h) };
            }
            _ => {}
        }
        pos += len;
    }
}

/// The Photometric Interpretation the decoded components have, when it differs from the data set's
/// (pydicom's `_conform_jpg_colorspace`): component IDs 'R','G','B' mean RGB; a JFIF marker means YBR
/// (YBR_FULL_422 for .4.50, YBR_FULL otherwise). `None`: keep `info.photometric`.
#[must_use]
pub fn jpeg_photometric(ts_uid: &str, src: &[u8], info: &PixelInfo) -> Option<&'static str> {
    if info.samples_per_pixel != 3 {
        return None;
    }
    let h = parse_header(src)?;
    let pi = info.photometric.as_str();
    if (h.component_ids == [82, 71, 66] || h.component_ids == [114, 103, 98]) && pi != "RGB" {
        return Some("RGB");
    }
    if h.jfif && !pi.contains("YBR") {
        return Some(if ts_uid == JPEG_BASELINE_8BIT {
            "YBR_FULL_422"
        } else {
            "YBR_FULL"
        });
    }
    None
}

/// A copy of `src` that libjpeg reads as RGB, so it does no colour transform: "JFIF" renamed and the
/// Adobe transform set to 0 (or an Adobe APP14 segment inserted after SOI).
fn without_colour_transform(src: &[u8], h: &JpegHeader) -> Vec<u8> {
    let mut v = Vec::with_capacity(src.len() + 16);
    v.extend_from_slice(src.get(..2).unwrap_or_default());
    if h.adobe_transform_at.is_none() {
        // APP14 "Adobe": length 14, version 100, flags 0, 0, transform 0 (unknown = RGB).
        v.extend_from_slice(&[0xFF, 0xEE, 0x00, 0x0E]);
        v.extend_from_slice(b"Adobe");
        v.extend_from_slice(&[0x00, 0x64, 0, 0, 0, 0, 0]);
    }
    let shift = v.len() - 2;
    v.extend_from_slice(src.get(2..).unwrap_or_default());
    if let Some(at) = h.jfif_at.and_then(|a| v.get_mut(a + shift + 3)) {
        *at = b'X';
    }
    if let Some(at) = h.adobe_transform_at.and_then(|a| v.get_mut(a + shift)) {
        *at = 0;
    }
    v
}

/// An owned TurboJPEG instance.
struct Handle(tj::tjhandle);

thread_local! {
    /// This thread's decompressor, reused from frame to frame (parameters are set again on every use).
    static DECOMPRESSOR: std::cell::RefCell<Option<Handle>> = const { std::cell::RefCell::new(None) };
}

impl Handle {
    fn new(kind: tj::TJINIT) -> Option<Self> {
        // SAFETY: tj3Init has no preconditions; it returns NULL on failure, checked here.
        let h = unsafe { tj::tj3Init(kind as CInt) };
        if h.is_null() { None } else { Some(Handle(h)) }
    }

    fn set(&self, p: tj::TJPARAM, v: i32) {
        // SAFETY: self.0 is a live handle from tj3Init; tj3Set only reads its arguments.
        unsafe {
            tj::tj3Set(self.0, p as CInt, v);
        }
    }

    fn get(&self, p: tj::TJPARAM) -> i32 {
        // SAFETY: self.0 is a live handle from tj3Init.
        unsafe { tj::tj3Get(self.0, p as CInt) }
    }

    fn error(&self) -> (String, bool) {
        // SAFETY: self.0 is live; tj3GetErrorStr returns a NUL-terminated string owned by the handle,
        // copied out here before any other call on the handle.
        unsafe {
            let s = tj::tj3GetErrorStr(self.0);
            let msg = if s.is_null() {
                "unknown libjpeg-turbo error".to_owned()
            } else {
                CStr::from_ptr(s).to_string_lossy().into_owned()
            };
            let warning = tj::tj3GetErrorCode(self.0) == tj::TJERR_TJERR_WARNING as CInt;
            (msg, warning)
        }
    }

    /// What a decompress call's return value `r` means: `None` for success or a warning pydicom's
    /// decoders accept (such as extraneous bytes before a marker), the message for an error or a premature
    /// end of data.
    fn failure(&self, r: CInt) -> Option<String> {
        if r == 0 {
            return None;
        }
        let (msg, warning) = self.error();
        (!warning || msg.contains("Premature end")).then(|| format!("libjpeg-turbo: {msg}"))
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: self.0 came from tj3Init and is destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

type CInt = std::os::raw::c_int;

/// A decode target for one of the three sample widths.
enum Target<'a> {
    U8(&'a mut [u8]),
    I16(&'a mut [i16]),
    U16(&'a mut [u16]),
}

/// Decodes a JPEG frame (.4.50, .4.51, .4.57, .4.70) into `out`.
///
/// The SOF's dimensions and component count must match `info`; precision must fit Bits Allocated.
/// Warnings from libjpeg (such as extraneous bytes before a marker) are accepted as pydicom's decoders
/// accept them; a premature end of data is an error.
pub fn decode_jpeg(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_jpeg_ts(super::JPEG_BASELINE_8BIT, src, info, frame, out)
}

pub(crate) fn decode_jpeg_ts(ts: &str, src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_jpeg_colour(ts, src, info, frame, out, false).map(|_| ())
}

/// [`decode_jpeg_ts`], converting YBR_FULL components to RGB as well when `to_rgb` (the caller has
/// resolved the frame's Photometric Interpretation with [`jpeg_photometric`]). Returns whether it
/// converted: 8-bit 3-component frames always are; others (no conversion applies) never.
///
/// 8-bit 4:4:4 frames decode to component planes (libjpeg's raw data: no upsampling, no colour
/// transform, so the stream needs no patch) that one pass interleaves and converts; subsampled ones go
/// through libjpeg's upsampling into triplets, converted in place after.
pub(crate) fn decode_jpeg_colour(
    ts: &str,
    src: &[u8],
    info: &PixelInfo,
    frame: usize,
    out: &mut [u8],
    to_rgb: bool,
) -> Result<bool> {
    check_output(ts, frame, info, out)?;
    let fail = |r: String| Error::decode(ts, frame, r);
    let h =
        parse_header(src).ok_or_else(|| fail("Not a JPEG codestream: no SOI, SOF and SOS markers found".to_owned()))?;
    if h.sof == 0xF7 {
        return Err(fail("The codestream is JPEG-LS (SOF55), not JPEG".to_owned()));
    }
    let (rows, cols, spp) = info.frame_shape();
    if usize::from(h.rows) != rows || usize::from(h.columns) != cols || h.component_ids.len() != spp {
        return Err(fail(format!(
            "The JPEG frame is {} x {} x {} but (0028,0010) 'Rows', (0028,0011) 'Columns' and (0028,0002) 'Samples per Pixel' say {rows} x {cols} x {spp}",
            h.rows,
            h.columns,
            h.component_ids.len()
        )));
    }
    if spp != 1 && spp != 3 {
        return Err(fail(format!("Unable to decode JPEG data with {spp} components")));
    }
    let p = h.precision;
    let ba = info.bits_allocated;
    if !(2..=16).contains(&p) || u16::from(p) > ba {
        return Err(fail(format!(
            "The JPEG sample precision {p} does not fit (0028,0100) 'Bits Allocated' {ba}"
        )));
    }

    let dtype = info.output_dtype();

    // A decompressor kept per thread: tj3Init / tj3Destroy cost as much as decoding a small frame. Only a
    // handle that finished a decode goes back (one that failed is destroyed).
    let handle = DECOMPRESSOR
        .with(|c| c.borrow_mut().take())
        .or_else(|| Handle::new(tj::TJINIT_TJINIT_DECOMPRESS))
        .ok_or_else(|| fail("tj3Init failed".to_owned()))?;
    handle.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 0);
    // Bound libjpeg's work to the frame `info` describes (progressive buffers included).
    handle.set(
        tj::TJPARAM_TJPARAM_MAXPIXELS,
        i32::try_from(rows * cols).unwrap_or(i32::MAX),
    );
    // The header is read from the stream as stored: the patch below changes only APP markers, not what is
    // checked here (tj3DecompressHeader leaves no state behind; the decompress call reads the header again).
    // SAFETY: `src` is a valid slice for its length; the handle is live.
    let r = unsafe { tj::tj3DecompressHeader(handle.0, src.as_ptr(), src.len() as tj::size_t) };
    if r != 0 {
        return Err(fail(format!("Invalid JPEG header: {}", handle.error().0)));
    }
    let (w, ht) = (
        handle.get(tj::TJPARAM_TJPARAM_JPEGWIDTH),
        handle.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT),
    );
    let prec = handle.get(tj::TJPARAM_TJPARAM_PRECISION);
    if usize::try_from(w).ok() != Some(cols) || usize::try_from(ht).ok() != Some(rows) || prec != i32::from(p) {
        return Err(fail(format!(
            "libjpeg-turbo reads the frame as {w} x {ht} at {prec} bits, expected {cols} x {rows} at {p} bits"
        )));
    }

    // 8-bit DCT frames, 4:4:4 or chroma halved across, down or both: component planes, upsampled here
    // (lossless JPEG has no raw data output in libjpeg-turbo).
    let sampling = handle.get(tj::TJPARAM_TJPARAM_SUBSAMP);
    if spp == 3
        && p <= 8
        && dtype.itemsize() == 1
        && !info.has_unused_bits()
        && handle.get(tj::TJPARAM_TJPARAM_LOSSLESS) == 0
        && let Some(sampling) = Sampling::planar(sampling, cols)
    {
        decode_planes(&handle, src, sampling, rows, cols, out, to_rgb).map_err(fail)?;
        DECOMPRESSOR.with(|c| *c.borrow_mut() = Some(handle));
        return Ok(to_rgb);
    }
    let patched;
    let stream: &[u8] = if spp == 3 {
        patched = without_colour_transform(src, &h);
        &patched
    } else {
        src
    };
    let pf = if spp == 3 {
        tj::TJPF_TJPF_RGB
    } else {
        tj::TJPF_TJPF_GRAY
    };
    let n = rows * cols * spp;

    // Decode straight into `out` when the sample width matches and `out` is aligned for it.
    let mut tmp8: Vec<u8> = Vec::new();
    let mut tmp16: Vec<u16> = Vec::new();
    let mut tmpi16: Vec<i16> = Vec::new();
    let width = if p <= 8 { 1 } else { 2 };
    let direct = width == dtype.itemsize();
    let target = match (p, direct) {
        (0..=8, true) => Target::U8(&mut *out),
        (0..=8, false) => {
            tmp8 = vec![0; n];
            Target::U8(&mut tmp8)
        }
        (9..=12, true) if (out.as_ptr() as usize).is_multiple_of(2) => {
            // SAFETY: `out` is 2-byte aligned (checked) and holds exactly n * 2 bytes; i16 has no invalid
            // bit patterns; the reborrow ends before `out` is used again.
            Target::I16(unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<i16>(), n) })
        }
        (9..=12, _) => {
            tmpi16 = vec![0; n];
            Target::I16(&mut tmpi16)
        }
        (_, true) if (out.as_ptr() as usize).is_multiple_of(2) => {
            // SAFETY: as above, for u16.
            Target::U16(unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u16>(), n) })
        }
        _ => {
            tmp16 = vec![0; n];
            Target::U16(&mut tmp16)
        }
    };
    let pitch = 0; // tightly packed rows
    // SAFETY: each target slice holds exactly rows * cols * spp samples of the width the called function
    // writes, and libjpeg-turbo writes rows x cols pixels of `pf` (checked against the header above).
    let r = unsafe {
        match target {
            Target::U8(b) => tj::tj3Decompress8(
                handle.0,
                stream.as_ptr(),
                stream.len() as tj::size_t,
                b.as_mut_ptr(),
                pitch,
                pf,
            ),
            Target::I16(b) => tj::tj3Decompress12(
                handle.0,
                stream.as_ptr(),
                stream.len() as tj::size_t,
                b.as_mut_ptr(),
                pitch,
                pf,
            ),
            Target::U16(b) => tj::tj3Decompress16(
                handle.0,
                stream.as_ptr(),
                stream.len() as tj::size_t,
                b.as_mut_ptr(),
                pitch,
                pf,
            ),
        }
    };
    if let Some(msg) = handle.failure(r) {
        return Err(fail(msg));
    }
    DECOMPRESSOR.with(|c| *c.borrow_mut() = Some(handle));
    if !tmp8.is_empty() || !tmp16.is_empty() || !tmpi16.is_empty() {
        let samples: Box<dyn Iterator<Item = i64>> = if !tmp8.is_empty() {
            Box::new(tmp8.iter().map(|&v| i64::from(v)))
        } else if !tmpi16.is_empty() {
            Box::new(tmpi16.iter().map(|&v| i64::from(v)))
        } else {
            Box::new(tmp16.iter().map(|&v| i64::from(v)))
        };
        super::store_samples(out, dtype, samples);
    } else if cfg!(target_endian = "big") && width == 2 {
        for c in out.chunks_exact_mut(2) {
            c.swap(0, 1);
        }
    }
    // pydicom's correct_unused_bits: with Bits Stored < Bits Allocated, signed data is sign-extended from
    // Bits Stored and unsigned data masked; otherwise the samples are reinterpreted as they are. Unsigned
    // samples of a precision within Bits Stored have nothing to mask (2 % of a 12-bit decode).
    let masked_already = info.pixel_representation == 0 && u16::from(p) <= info.bits_stored;
    if info.has_unused_bits() && !masked_already {
        correct_unused_bits(out, dtype, info.bits_stored);
    }
    let convert = to_rgb && spp == 3 && p <= 8 && dtype.itemsize() == 1;
    if convert {
        crate::pixel::colour::ybr_full_to_rgb_u8(out).map_err(|e| fail(e.to_string()))?;
    }
    Ok(convert)
}

thread_local! {
    /// This thread's component planes for [`decode_planes`], reused from frame to frame (a fresh
    /// allocation of a large frame costs its page faults every time).
    static PLANES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The chroma sampling of a 3-component frame that [`decode_planes`] upsamples as libjpeg-turbo would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sampling {
    /// 4:4:4: no upsampling.
    Full,
    /// 4:2:2 (luma 2x1): chroma halved across.
    H2V1,
    /// 4:2:0 (luma 2x2): halved across and down.
    H2V2,
    /// 4:4:0 (luma 1x2): halved down.
    H1V2,
}

impl Sampling {
    /// The sampling of TurboJPEG's subsampling code when this module reproduces libjpeg's upsampling of
    /// it: libjpeg replicates instead of filtering chroma rows of 2 samples or fewer (`jdsample.c`), and
    /// 4:1:1 / 4:4:1 / unusual factors are left to libjpeg.
    fn planar(subsamp: i32, columns: usize) -> Option<Self> {
        let s = match subsamp {
            tj::TJSAMP_TJSAMP_444 => Self::Full,
            tj::TJSAMP_TJSAMP_422 => Self::H2V1,
            tj::TJSAMP_TJSAMP_420 => Self::H2V2,
            tj::TJSAMP_TJSAMP_440 => Self::H1V2,
            _ => return None,
        };
        let halved_across = matches!(s, Self::H2V1 | Self::H2V2);
        (!halved_across || columns.div_ceil(2) > 2).then_some(s)
    }

    /// TurboJPEG's subsampling code.
    fn code(self) -> tj::TJSAMP {
        match self {
            Self::Full => tj::TJSAMP_TJSAMP_444,
            Self::H2V1 => tj::TJSAMP_TJSAMP_422,
            Self::H2V2 => tj::TJSAMP_TJSAMP_420,
            Self::H1V2 => tj::TJSAMP_TJSAMP_440,
        }
    }
}

/// Row `k` of a chroma plane `cw` samples wide.
fn chroma_row(plane: &[u8], cw: usize, k: usize) -> &[u8] {
    &plane[k * cw..][..cw]
}

/// Decodes an 8-bit 3-component frame of `rows` x `cols` pixels (the handle has read and checked the
/// header) to its component planes, upsamples the chroma ones row by row with libjpeg's filter
/// ([`crate::pixel::upsample`]) and interleaves the three into `out` (3 x rows x cols bytes), converting
/// YBR_FULL to RGB when `to_rgb`. The same bytes as libjpeg-turbo's upsampled output without a colour
/// transform, in one pass over the frame instead of three.
fn decode_planes(
    handle: &Handle,
    src: &[u8],
    sampling: Sampling,
    rows: usize,
    cols: usize,
    out: &mut [u8],
    to_rgb: bool,
) -> std::result::Result<(), String> {
    use crate::pixel::colour::interleave_planes_u8;
    use crate::pixel::upsample;
    // Planes larger than this are freed after the frame rather than kept for the next.
    const KEEP: usize = 64 << 20;
    let code = sampling.code();
    let (w, h) = (cols as CInt, rows as CInt);
    // TurboJPEG's plane sizes: luma padded to whole chroma samples, chroma as libjpeg downsamples it
    // (ceil(Columns / 2) and so on).
    // SAFETY: tj3YUVPlaneWidth / Height only compute from their arguments (-1 on bad ones, checked).
    let dims = [0, 1].map(|c| unsafe { (tj::tj3YUVPlaneWidth(c, w, code), tj::tj3YUVPlaneHeight(c, h, code)) });
    let [(yw, yh), (cw, ch)] =
        dims.map(|(pw, ph)| (usize::try_from(pw).unwrap_or(0), usize::try_from(ph).unwrap_or(0)));
    if yw < cols || yh < rows || cw == 0 || ch == 0 {
        return Err(format!("TurboJPEG gives no plane sizes for a {cols} x {rows} frame"));
    }
    PLANES.with(|cell| {
        let mut buf = cell.borrow_mut();
        // (libjpeg writes every sample of the planes: only growth is zeroed)
        buf.resize(yw * yh + 2 * cw * ch, 0);
        let (y, rest) = buf.split_at_mut(yw * yh);
        let (cb, cr) = rest.split_at_mut(cw * ch);
        let mut planes = [y.as_mut_ptr(), cb.as_mut_ptr(), cr.as_mut_ptr()];
        // SAFETY: the handle is live and has read this stream's header, whose subsampling is `code` (the
        // caller's check) and size Columns x Rows; with null strides each plane is as wide as
        // tj3YUVPlaneWidth and as high as tj3YUVPlaneHeight, the sizes of the slices here.
        let r = unsafe {
            tj::tj3DecompressToYUVPlanes8(
                handle.0,
                src.as_ptr(),
                src.len() as tj::size_t,
                planes.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        };
        let result = if let Some(msg) = handle.failure(r) {
            Err(msg)
        } else {
            let (y, rest) = buf.split_at(yw * yh);
            let (cb, cr) = rest.split_at(cw * ch);
            if sampling == Sampling::Full {
                interleave_planes_u8([y, cb, cr], out, to_rgb).map_err(|e| e.to_string())
            } else {
                let mut up = vec![0u8; 2 * 2 * cw.max(cols)];
                let (ub, ur) = up.split_at_mut(2 * cw.max(cols));
                let mut sums = Vec::with_capacity(cw);
                let mut result = Ok(());
                for (r, dst) in out.chunks_exact_mut(3 * cols).enumerate().take(rows) {
                    for (plane, row) in [(cb, &mut *ub), (cr, &mut *ur)] {
                        match sampling {
                            Sampling::H2V1 => upsample::h2v1_row(chroma_row(plane, cw, r), &mut row[..2 * cw]),
                            Sampling::H2V2 | Sampling::H1V2 => {
                                // the nearer chroma row and the further one (edge rows replicated)
                                let (k, upper) = (r / 2, r % 2 == 0);
                                let far = if upper {
                                    k.saturating_sub(1)
                                } else {
                                    (k + 1).min(ch - 1)
                                };
                                let (cur, near) = (chroma_row(plane, cw, k), chroma_row(plane, cw, far));
                                if sampling == Sampling::H2V2 {
                                    upsample::h2v2_row(cur, near, &mut sums, &mut row[..2 * cw]);
                                } else {
                                    upsample::h1v2_row(cur, near, upper, &mut row[..cw]);
                                }
                            }
                            Sampling::Full => unreachable!("4:4:4 is interleaved whole above"),
                        }
                    }
                    result = interleave_planes_u8([&y[r * yw..][..cols], &ub[..cols], &ur[..cols]], dst, to_rgb)
                        .map_err(|e| e.to_string());
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
        };
        if buf.capacity() > KEEP {
            *buf = Vec::new();
        }
        result
    })
}

/// True for the transfer syntaxes this module decodes (.4.50, .4.51, .4.57, .4.70).
#[must_use]
pub fn is_jpeg(ts_uid: &str) -> bool {
    matches!(
        ts_uid,
        super::JPEG_BASELINE_8BIT | super::JPEG_EXTENDED_12BIT | super::JPEG_LOSSLESS | super::JPEG_LOSSLESS_SV1
    )
}

/// Decoder entry for .4.51 (errors name the right transfer syntax).
pub fn decode_jpeg_extended(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_jpeg_ts(super::JPEG_EXTENDED_12BIT, src, info, frame, out)
}

/// Decoder entry for .4.57.
pub fn decode_jpeg_lossless(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_jpeg_ts(super::JPEG_LOSSLESS, src, info, frame, out)
}

/// Decoder entry for .4.70.
pub fn decode_jpeg_lossless_sv1(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_jpeg_ts(super::JPEG_LOSSLESS_SV1, src, info, frame, out)
}

/// Encodes one frame with libjpeg-turbo: lossy baseline/extended (`lossless_psv == None`, `quality`
/// 1-100) or lossless with predictor `lossless_psv` 1-7 (process 14). 3-sample frames are written as
/// they are (Adobe transform 0: the data set keeps its Photometric Interpretation), except lossy frames of
/// Photometric Interpretation RGB, converted to YCbCr at full or 4:2:2 chroma resolution when `colour`
/// says so (the data set then becomes YBR_FULL or YBR_FULL_422).
pub fn encode_jpeg(
    src: &[u8],
    info: &PixelInfo,
    quality: u8,
    lossless_psv: Option<u8>,
    colour: super::JpegColour,
) -> Result<Vec<u8>> {
    let ts = if lossless_psv.is_some() {
        super::JPEG_LOSSLESS_SV1
    } else {
        JPEG_BASELINE_8BIT
    };
    check_output(ts, 0, info, src).map_err(|e| Error::Invalid(e.to_string()))?;
    let (rows, cols, spp) = info.frame_shape();
    let p = info.bits_stored;
    // PS3.5 §8.2.1 (Table 8.2.1-1): the lossy JPEG processes take unsigned samples only; lossless ones take
    // signed data too, coded as the two's complement bit pattern within Bits Stored (a JPEG sample has no
    // sign, ISO 10918-1 §A.1.1), which decoders reinterpret by Pixel Representation.
    if info.pixel_representation != 0 && lossless_psv.is_none() {
        return Err(Error::Invalid(
            "Lossy JPEG encoding of signed pixel data is not supported: (0028,0103) 'Pixel Representation' \
             must be 0; use JPEGLosslessSV1 or JPEG2000 for signed data"
                .to_owned(),
        ));
    }
    if !(2..=16).contains(&p) || info.bits_allocated > 16 {
        return Err(Error::Invalid(format!(
            "JPEG needs (0028,0101) 'Bits Stored' 2 to 16 in (0028,0100) 'Bits Allocated' 8 or 16, not {p} in {}",
            info.bits_allocated
        )));
    }
    if lossless_psv.is_none() && !matches!(p, 8 | 12) {
        return Err(Error::Invalid(format!(
            "Lossy JPEG needs (0028,0101) 'Bits Stored' 8 or 12, not {p}"
        )));
    }
    let pf = match spp {
        1 => tj::TJPF_TJPF_GRAY,
        3 => tj::TJPF_TJPF_RGB,
        _ => {
            return Err(Error::Invalid(format!(
                "JPEG encoding of {spp} samples is not supported"
            )));
        }
    };
    let handle = Handle::new(tj::TJINIT_TJINIT_COMPRESS).ok_or_else(|| Error::Invalid("tj3Init failed".to_owned()))?;
    handle.set(tj::TJPARAM_TJPARAM_PRECISION, i32::from(p));
    // PS3.5 §8.2.1: RGB values may be coded as YCbCr (the usual JPEG), and the data set then says YBR_FULL or
    // YBR_FULL_422; anything else (lossless, or values already in another colour space) is coded unchanged.
    let to_ycc = spp == 3 && lossless_psv.is_none() && info.photometric.trim() == "RGB";
    let (space, sampling) = match (spp, to_ycc, colour) {
        (1, _, _) => (None, tj::TJSAMP_TJSAMP_GRAY),
        (_, true, super::JpegColour::YbrFull422) => (Some(tj::TJCS_TJCS_YCbCr), tj::TJSAMP_TJSAMP_422),
        (_, true, super::JpegColour::YbrFull) => (Some(tj::TJCS_TJCS_YCbCr), tj::TJSAMP_TJSAMP_444),
        _ => (Some(tj::TJCS_TJCS_RGB), tj::TJSAMP_TJSAMP_444),
    };
    if let Some(space) = space {
        handle.set(tj::TJPARAM_TJPARAM_COLORSPACE, space as i32);
    }
    handle.set(tj::TJPARAM_TJPARAM_SUBSAMP, sampling);
    match lossless_psv {
        Some(psv) => {
            handle.set(tj::TJPARAM_TJPARAM_LOSSLESS, 1);
            handle.set(tj::TJPARAM_TJPARAM_LOSSLESSPSV, i32::from(psv));
            handle.set(tj::TJPARAM_TJPARAM_LOSSLESSPT, 0);
        }
        None => handle.set(tj::TJPARAM_TJPARAM_QUALITY, i32::from(quality.clamp(1, 100))),
    }
    let w = i32::try_from(cols).map_err(|_| Error::Invalid("too wide".to_owned()))?;
    let ht = i32::try_from(rows).map_err(|_| Error::Invalid("too tall".to_owned()))?;
    let mut buf: *mut u8 = std::ptr::null_mut();
    let mut size: tj::size_t = 0;
    let item = usize::from(info.bits_allocated / 8).max(1);
    // Sample values reduced to their low `p` bits (the unsigned pattern libjpeg-turbo codes).
    let mask = (1u32 << p) - 1;
    let sample = |c: &[u8]| -> u32 {
        let v = if item == 1 {
            u32::from(c[0])
        } else {
            u32::from(u16::from_le_bytes([c[0], c[1]]))
        };
        v & mask
    };
    let narrow8: Vec<u8>;
    let wide12: Vec<i16>;
    let wide16: Vec<u16>;
    // SAFETY: the source holds rows x cols pixels of `pf` in the sample width of the called function
    // (converted above from the little-endian frame); libjpeg-turbo allocates `buf` with tj3Alloc,
    // freed with tj3Free after the copy.
    let r = unsafe {
        if p <= 8 {
            let clean = item == 1 && src.iter().fold(0u8, |a, &b| a | b) & !(mask as u8) == 0;
            let data: &[u8] = if clean {
                src
            } else {
                narrow8 = src.chunks_exact(item).map(|c| sample(c) as u8).collect();
                &narrow8
            };
            tj::tj3Compress8(handle.0, data.as_ptr(), w, 0, ht, pf, &mut buf, &mut size)
        } else if p <= 12 {
            wide12 = src.chunks_exact(item).map(|c| sample(c) as i16).collect();
            tj::tj3Compress12(handle.0, wide12.as_ptr(), w, 0, ht, pf, &mut buf, &mut size)
        } else {
            wide16 = src.chunks_exact(item).map(|c| sample(c) as u16).collect();
            tj::tj3Compress16(handle.0, wide16.as_ptr(), w, 0, ht, pf, &mut buf, &mut size)
        }
    };
    if r != 0 || buf.is_null() {
        let msg = handle.error().0;
        if !buf.is_null() {
            // SAFETY: buf was allocated by libjpeg-turbo.
            unsafe { tj::tj3Free(buf.cast()) };
        }
        return Err(Error::Invalid(format!("libjpeg-turbo: {msg}")));
    }
    // SAFETY: libjpeg-turbo wrote `size` bytes at `buf`; copied out, then freed once.
    let v = unsafe {
        let v = std::slice::from_raw_parts(buf, size as usize).to_vec();
        tj::tj3Free(buf.cast());
        v
    };
    Ok(v)
}

/// [`encode_jpeg`] at the options' quality, for the encoder registry (.4.50, 8-bit).
pub fn encode_jpeg_baseline(src: &[u8], info: &PixelInfo, opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    encode_jpeg(src, info, opts.jpeg_quality, None, opts.jpeg_colour)
}

/// [`encode_jpeg`] at the options' quality, for the encoder registry (.4.51, 8 or 12-bit).
pub fn encode_jpeg_extended(src: &[u8], info: &PixelInfo, opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    encode_jpeg(src, info, opts.jpeg_quality, None, opts.jpeg_colour)
}

/// [`encode_jpeg`] lossless with predictor 1, for the encoder registry (.4.70, also valid for .4.57).
pub fn encode_jpeg_lossless_sv1(src: &[u8], info: &PixelInfo, _opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    encode_jpeg(src, info, 100, Some(1), super::JpegColour::Rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_patch() {
        let src = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 7, b'J', b'F', b'I', b'F', 0, //
            0xFF, 0xC0, 0, 17, 8, 0, 2, 0, 3, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, //
            0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0,
        ];
        let h = parse_header(&src).unwrap();
        assert_eq!((h.precision, h.rows, h.columns), (8, 2, 3));
        assert_eq!(h.component_ids, [1, 2, 3]);
        assert!(h.jfif);
        let p = without_colour_transform(&src, &h);
        let h2 = parse_header(&p).unwrap();
        assert!(!h2.jfif);
        assert_eq!(p.get(h2.adobe_transform_at.unwrap()), Some(&0));
        assert!(parse_header(&src[..20]).is_none());
    }

    /// A YCbCr JPEG of `cols` x `rows` at TurboJPEG subsampling `subsamp`, from a textured RGB image.
    fn ycbcr_jpeg(rows: usize, cols: usize, subsamp: tj::TJSAMP) -> Vec<u8> {
        let mut rgb = vec![0u8; rows * cols * 3];
        let mut x = 0x1234_5678u32;
        for (i, v) in rgb.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // gradients with noise: edges and flat runs for the filter
            *v = ((i / 3 % cols) * 7 + (i / 3 / cols) * 3 + (x as usize % 64) + 40 * (i % 3)) as u8;
        }
        let handle = Handle::new(tj::TJINIT_TJINIT_COMPRESS).unwrap();
        handle.set(tj::TJPARAM_TJPARAM_SUBSAMP, subsamp);
        handle.set(tj::TJPARAM_TJPARAM_QUALITY, 85);
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut size: tj::size_t = 0;
        // SAFETY: `rgb` holds rows x cols RGB pixels; TurboJPEG allocates `buf`, freed after the copy.
        unsafe {
            let r = tj::tj3Compress8(
                handle.0,
                rgb.as_ptr(),
                cols as CInt,
                0,
                rows as CInt,
                tj::TJPF_TJPF_RGB as CInt,
                &mut buf,
                &mut size,
            );
            assert_eq!(r, 0, "{}", handle.error().0);
            let v = std::slice::from_raw_parts(buf, size as usize).to_vec();
            tj::tj3Free(buf.cast());
            v
        }
    }

    /// libjpeg-turbo's own upsampling (the stream patched to skip the colour transform), to triplets.
    fn libjpeg_upsampled(src: &[u8], rows: usize, cols: usize) -> Vec<u8> {
        let patched = without_colour_transform(src, &parse_header(src).unwrap());
        let handle = Handle::new(tj::TJINIT_TJINIT_DECOMPRESS).unwrap();
        let mut out = vec![0u8; rows * cols * 3];
        // SAFETY: `out` holds rows x cols RGB pixels, the stream's size.
        let r = unsafe {
            tj::tj3Decompress8(
                handle.0,
                patched.as_ptr(),
                patched.len() as tj::size_t,
                out.as_mut_ptr(),
                0,
                tj::TJPF_TJPF_RGB as CInt,
            )
        };
        assert_eq!(r, 0, "{}", handle.error().0);
        out
    }

    #[test]
    fn planar_upsampling_equals_libjpeg() {
        // every subsampling taken the planar way, at sizes around the MCU and the filter's edge cases
        let sizes = [
            (1, 5),
            (2, 6),
            (3, 7),
            (5, 9),
            (8, 8),
            (9, 17),
            (16, 33),
            (17, 16),
            (31, 47),
            (64, 70),
        ];
        for subsamp in [
            tj::TJSAMP_TJSAMP_444,
            tj::TJSAMP_TJSAMP_422,
            tj::TJSAMP_TJSAMP_420,
            tj::TJSAMP_TJSAMP_440,
            tj::TJSAMP_TJSAMP_411,
        ] {
            for (rows, cols) in sizes {
                let src = ycbcr_jpeg(rows, cols, subsamp);
                let info = PixelInfo {
                    rows: rows as u32,
                    columns: cols as u32,
                    samples_per_pixel: 3,
                    photometric: "YBR_FULL_422".to_owned(),
                    ..PixelInfo::default()
                };
                let expected = libjpeg_upsampled(&src, rows, cols);
                let mut out = vec![0u8; expected.len()];
                decode_jpeg_colour(JPEG_BASELINE_8BIT, &src, &info, 0, &mut out, false).unwrap();
                assert!(
                    out == expected,
                    "subsampling {subsamp}, {cols} x {rows}: stored components differ"
                );
                let mut rgb = expected.clone();
                crate::pixel::colour::ybr_full_to_rgb_u8(&mut rgb).unwrap();
                assert!(decode_jpeg_colour(JPEG_BASELINE_8BIT, &src, &info, 0, &mut out, true).unwrap());
                assert!(out == rgb, "subsampling {subsamp}, {cols} x {rows}: RGB differs");
            }
        }
    }
}
