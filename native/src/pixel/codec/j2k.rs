//! JPEG 2000 (ISO/IEC 15444-1) and High-Throughput JPEG 2000 (ISO/IEC 15444-15) through OpenJPEG:
//! 1.2.840.10008.1.2.4.90 / .4.91 and .4.201 / .4.202 / .4.203. Raw codestreams (SOC FF4F) and JP2-wrapped
//! ones (signature box) are told apart by their first bytes.
//!
//! The SIZ marker segment (ISO 15444-1 §A.5.1) is read by our own code first, and the image dimensions,
//! component count and precision are checked against `info` before OpenJPEG decodes anything.
//! Signedness follows pydicom + pylibjpeg-openjpeg: for MONOCHROME data whose SIZ signedness differs
//! from Pixel Representation, samples are sign-extended (or masked) from the codestream's precision.
//! OpenJPEG's messages go to a per-call buffer (used in errors), never to stdout/stderr.

use std::ffi::{CStr, c_char, c_void};

use openjpeg_sys as opj;

use super::{JPEG_2000, check_output, fit_precision};
use crate::pixel::layout::PixelInfo;
use crate::{Error, Result};

/// The fields of the SIZ marker segment this module checks (ISO 15444-1 Table A.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct J2kHeader {
    /// Xsiz - XOsiz.
    pub columns: u32,
    /// Ysiz - YOsiz.
    pub rows: u32,
    /// Csiz.
    pub components: u16,
    /// Precision of the first component (Ssiz & 0x7F) + 1.
    pub precision: u8,
    /// Ssiz & 0x80 of the first component.
    pub signed: bool,
    /// True when the codestream is wrapped in a JP2 file.
    pub jp2: bool,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// Finds SOC + SIZ (raw, or inside a JP2 file's contiguous codestream box) and reads SIZ.
pub fn parse_header(src: &[u8]) -> Option<J2kHeader> {
    let jp2 = src.starts_with(b"\x00\x00\x00\x0cjP  \r\n\x87\n");
    let start = if jp2 {
        // The first SOC SIZ pair: inside the 'jp2c' box (ISO 15444-1 §I.5.4).
        src.windows(4).position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])?
    } else if src.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        0
    } else {
        return None;
    };
    let siz = src.get(start + 4..)?;
    // Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) XTsiz(4) YTsiz(4) XTOsiz(4) YTOsiz(4) Csiz(2) Ssiz...
    let xsiz = be32(siz, 4)?;
    let ysiz = be32(siz, 8)?;
    let xo = be32(siz, 12)?;
    let yo = be32(siz, 16)?;
    let csiz = be16(siz, 36)?;
    let ssiz = *siz.get(38)?;
    Some(J2kHeader {
        columns: xsiz.checked_sub(xo)?,
        rows: ysiz.checked_sub(yo)?,
        components: csiz,
        precision: (ssiz & 0x7F) + 1,
        signed: ssiz & 0x80 != 0,
        jp2,
    })
}

/// The Photometric Interpretation of the decoded samples when it differs from the data set's:
/// OpenJPEG undoes the reversible / irreversible component transform, so YBR_RCT and YBR_ICT decode
/// to RGB (as pydicom reports).
#[must_use]
pub fn j2k_photometric(info: &PixelInfo) -> Option<&'static str> {
    matches!(info.photometric.as_str(), "YBR_ICT" | "YBR_RCT").then_some("RGB")
}

/// The memory source OpenJPEG reads through the callbacks below.
struct Source {
    data: *const u8,
    len: usize,
    pos: usize,
}

unsafe extern "C" fn read_cb(buf: *mut c_void, n: opj::OPJ_SIZE_T, user: *mut c_void) -> opj::OPJ_SIZE_T {
    // SAFETY: `user` is the &mut Source passed to opj_stream_set_user_data, alive for the stream's use;
    // `buf` has room for `n` bytes (OpenJPEG's contract); the copy stays inside `data[..len]`.
    unsafe {
        let s = &mut *user.cast::<Source>();
        let left = s.len.saturating_sub(s.pos);
        if left == 0 {
            return usize::MAX as opj::OPJ_SIZE_T;
        }
        let k = left.min(n);
        std::ptr::copy_nonoverlapping(s.data.add(s.pos), buf.cast::<u8>(), k);
        s.pos += k;
        k as opj::OPJ_SIZE_T
    }
}

unsafe extern "C" fn skip_cb(n: opj::OPJ_OFF_T, user: *mut c_void) -> opj::OPJ_OFF_T {
    // SAFETY: `user` is the live &mut Source (see read_cb).
    unsafe {
        let s = &mut *user.cast::<Source>();
        if n < 0 {
            let back = n.unsigned_abs() as usize;
            let k = back.min(s.pos);
            s.pos -= k;
            return -(k as opj::OPJ_OFF_T);
        }
        let k = (n as usize).min(s.len.saturating_sub(s.pos));
        s.pos += k;
        k as opj::OPJ_OFF_T
    }
}

unsafe extern "C" fn seek_cb(n: opj::OPJ_OFF_T, user: *mut c_void) -> opj::OPJ_BOOL {
    // SAFETY: `user` is the live &mut Source (see read_cb).
    unsafe {
        let s = &mut *user.cast::<Source>();
        match usize::try_from(n) {
            Ok(p) if p <= s.len => {
                s.pos = p;
                1
            }
            _ => 0,
        }
    }
}

unsafe extern "C" fn message_cb(msg: *const c_char, user: *mut c_void) {
    // SAFETY: `user` is the &mut String given to opj_set_*_handler, alive for the codec's lifetime;
    // `msg` is a NUL-terminated string from OpenJPEG.
    unsafe {
        if msg.is_null() || user.is_null() {
            return;
        }
        let log = &mut *user.cast::<String>();
        if log.len() < 1024 {
            log.push_str(CStr::from_ptr(msg).to_string_lossy().trim_end());
            log.push_str("; ");
        }
    }
}

unsafe extern "C" fn quiet_cb(_msg: *const c_char, _user: *mut c_void) {}

/// Owned OpenJPEG objects, released in the right order.
struct Session {
    codec: *mut opj::opj_codec_t,
    stream: *mut opj::opj_stream_t,
    image: *mut opj::opj_image_t,
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: each pointer is either NULL or was created by OpenJPEG for this session, released once.
        unsafe {
            if !self.image.is_null() {
                opj::opj_image_destroy(self.image);
            }
            if !self.stream.is_null() {
                opj::opj_stream_destroy(self.stream);
            }
            if !self.codec.is_null() {
                opj::opj_destroy_codec(self.codec);
            }
        }
    }
}

/// Decodes a JPEG 2000 / HTJ2K frame into `out` (errors name .4.91; the registry uses the per-syntax
/// entries below so errors name the right one).
pub fn decode_j2k(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_j2k_ts(JPEG_2000, src, info, frame, out)
}

/// Decoder entry for .4.90.
pub fn decode_jpeg_2000_lossless(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_j2k_ts(super::JPEG_2000_LOSSLESS, src, info, frame, out)
}

/// Decoder entry for .4.201.
pub fn decode_htj2k_lossless(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_j2k_ts(super::HTJ2K_LOSSLESS, src, info, frame, out)
}

/// Decoder entry for .4.202.
pub fn decode_htj2k_lossless_rpcl(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_j2k_ts(super::HTJ2K_LOSSLESS_RPCL, src, info, frame, out)
}

/// Decoder entry for .4.203.
pub fn decode_htj2k(src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    decode_j2k_ts(super::HTJ2K, src, info, frame, out)
}

fn decode_j2k_ts(ts: &str, src: &[u8], info: &PixelInfo, frame: usize, out: &mut [u8]) -> Result<()> {
    check_output(ts, frame, info, out)?;
    let fail = |r: String| Error::decode(ts, frame, r);
    let h = parse_header(src).ok_or_else(|| {
        fail("Not a JPEG 2000 codestream: no SOC and SIZ markers (FF4F FF51) or JP2 signature found".to_owned())
    })?;
    let (rows, cols, spp) = info.frame_shape();
    if h.rows as usize != rows || h.columns as usize != cols || usize::from(h.components) != spp {
        return Err(fail(format!(
            "The JPEG 2000 image is {} x {} x {} but (0028,0010) 'Rows', (0028,0011) 'Columns' and (0028,0002) 'Samples per Pixel' say {rows} x {cols} x {spp}",
            h.rows, h.columns, h.components
        )));
    }
    let dtype = info.output_dtype();
    if usize::from(h.precision) > 8 * dtype.itemsize() || h.precision > 32 {
        return Err(fail(format!(
            "The JPEG 2000 precision {} does not fit (0028,0100) 'Bits Allocated' {}",
            h.precision, info.bits_allocated
        )));
    }

    let mut log = String::new();
    let mut source = Source {
        data: src.as_ptr(),
        len: src.len(),
        pos: 0,
    };
    let format = if h.jp2 {
        opj::CODEC_FORMAT::OPJ_CODEC_JP2
    } else {
        opj::CODEC_FORMAT::OPJ_CODEC_J2K
    };
    // SAFETY: opj_create_decompress has no preconditions; NULL is checked. The handlers get a pointer to
    // `log`, which outlives the session (declared before it, dropped after).
    let mut s = Session {
        codec: unsafe { opj::opj_create_decompress(format) },
        stream: std::ptr::null_mut(),
        image: std::ptr::null_mut(),
    };
    if s.codec.is_null() {
        return Err(fail("OpenJPEG could not create a decoder".to_owned()));
    }
    let log_ptr = (&raw mut log).cast::<c_void>();
    // SAFETY: s.codec is live; callbacks are plain functions; `log` outlives `s`.
    unsafe {
        opj::opj_set_info_handler(s.codec, Some(quiet_cb), std::ptr::null_mut());
        opj::opj_set_warning_handler(s.codec, Some(message_cb), log_ptr);
        opj::opj_set_error_handler(s.codec, Some(message_cb), log_ptr);
        let mut params: opj::opj_dparameters_t = std::mem::zeroed();
        opj::opj_set_default_decoder_parameters(&mut params);
        if opj::opj_setup_decoder(s.codec, &mut params) == 0 {
            return Err(fail(format!("OpenJPEG setup failed: {log}")));
        }
        // A single frame decodes its code-blocks on OpenJPEG's own threads (the frames of a multi-frame
        // file are already decoded in parallel, one per rayon thread). Not for one thread: OpenJPEG then
        // starts one worker and hands it every code-block through a mutex and a condition variable, while
        // with no pool it decodes them on the calling thread.
        let n = crate::pixel::parallel::threads();
        if info.number_of_frames <= 1 && n > 1 {
            opj::opj_codec_set_threads(s.codec, i32::try_from(n).unwrap_or(1));
        }
    }
    // SAFETY: a read stream over `source`, which outlives `s` (declared before it); no free function, as
    // `source` is owned here.
    unsafe {
        s.stream = opj::opj_stream_default_create(1);
        if s.stream.is_null() {
            return Err(fail("OpenJPEG could not create a stream".to_owned()));
        }
        opj::opj_stream_set_read_function(s.stream, Some(read_cb));
        opj::opj_stream_set_skip_function(s.stream, Some(skip_cb));
        opj::opj_stream_set_seek_function(s.stream, Some(seek_cb));
        opj::opj_stream_set_user_data(s.stream, (&raw mut source).cast::<c_void>(), None);
        opj::opj_stream_set_user_data_length(s.stream, src.len() as u64);
    }
    // SAFETY: codec and stream are live; `s.image` receives an image owned by the session.
    if unsafe { opj::opj_read_header(s.stream, s.codec, &mut s.image) } == 0 || s.image.is_null() {
        return Err(fail(format!("Invalid JPEG 2000 header: {log}")));
    }
    // Check OpenJPEG's view of the image against `info` before decoding a single sample.
    // SAFETY: s.image is a valid image from opj_read_header; comps has numcomps entries.
    let comps = unsafe {
        let img = &*s.image;
        if img.x1.saturating_sub(img.x0) as usize != cols
            || img.y1.saturating_sub(img.y0) as usize != rows
            || img.numcomps as usize != spp
            || img.comps.is_null()
        {
            return Err(fail(format!(
                "OpenJPEG reads the image as {} x {} x {}, expected {cols} x {rows} x {spp}",
                img.x1.saturating_sub(img.x0),
                img.y1.saturating_sub(img.y0),
                img.numcomps
            )));
        }
        std::slice::from_raw_parts(img.comps, spp)
    };
    for (i, c) in comps.iter().enumerate() {
        if c.dx != 1 || c.dy != 1 || c.prec == 0 || c.prec as usize > 8 * dtype.itemsize() {
            return Err(fail(format!(
                "Component {i} is subsampled ({} x {}) or has precision {}, which is not supported",
                c.dx, c.dy, c.prec
            )));
        }
    }
    // SAFETY: codec, stream and image are live and consistent (from opj_read_header).
    let ok =
        unsafe { opj::opj_decode(s.codec, s.stream, s.image) != 0 && opj::opj_end_decompress(s.codec, s.stream) != 0 };
    if !ok {
        return Err(fail(format!("OpenJPEG could not decode the codestream: {log}")));
    }
    // SAFETY: after opj_decode each component has w x h samples at `data` (checked non-NULL and sized).
    let planes: Vec<&[i32]> = unsafe {
        let img = &*s.image;
        let comps = std::slice::from_raw_parts(img.comps, spp);
        let mut planes = Vec::with_capacity(spp);
        for c in comps {
            if c.data.is_null() || c.w as usize != cols || c.h as usize != rows {
                return Err(fail(format!(
                    "OpenJPEG produced a {} x {} component, expected {cols} x {rows}",
                    c.w, c.h
                )));
            }
            planes.push(std::slice::from_raw_parts(c.data, rows * cols));
        }
        planes
    };
    let size = dtype.itemsize();
    // The common layouts in one pass each (the loops vectorise); the rest sample by sample below.
    match (planes.as_slice(), size) {
        ([p], 1) => {
            out.iter_mut().zip(p.iter()).for_each(|(d, &v)| *d = v as u8);
        }
        ([p], 2) => {
            out.chunks_exact_mut(2)
                .zip(p.iter())
                .for_each(|(d, &v)| d.copy_from_slice(&(v as u16).to_le_bytes()));
        }
        ([r, g, b], 1) => {
            out.chunks_exact_mut(3)
                .zip(r.iter().zip(g.iter()).zip(b.iter()))
                .for_each(|(d, ((&r, &g), &b))| {
                    d[0] = r as u8;
                    d[1] = g as u8;
                    d[2] = b as u8;
                });
        }
        _ => interleave_planes(&planes, out, size),
    }
    // pydicom's _apply_sign_correction (MONOCHROME only): a SIZ signedness that differs from Pixel
    // Representation is fixed by shifting out the bits above the codestream's precision.
    let signed = comps.first().is_some_and(|c| c.sgnd != 0);
    let prec = comps.first().map_or(0, |c| c.prec);
    if info.photometric.starts_with("MONOCHROME") && signed != (info.pixel_representation == 1) {
        fit_precision(out, dtype, prec as u16);
    }
    drop(s);
    Ok(())
}

/// Interleaves decoded component planes into `out` as little-endian samples of `size` bytes (colour-by-pixel).
fn interleave_planes(planes: &[&[i32]], out: &mut [u8], size: usize) {
    let spp = planes.len();
    for (ci, plane) in planes.iter().enumerate() {
        let lane = out.get_mut(ci * size..).unwrap_or_default();
        let stride = spp * size;
        match size {
            1 => lane
                .iter_mut()
                .step_by(stride)
                .zip(plane.iter())
                .for_each(|(d, &v)| *d = v as u8),
            2 => lane.chunks_mut(stride).zip(plane.iter()).for_each(|(d, &v)| {
                if let Some(d) = d.get_mut(..2) {
                    d.copy_from_slice(&(v as u16).to_le_bytes());
                }
            }),
            _ => lane.chunks_mut(stride).zip(plane.iter()).for_each(|(d, &v)| {
                let b = i64::from(v).to_le_bytes();
                if let (Some(d), Some(b)) = (d.get_mut(..size), b.get(..size)) {
                    d.copy_from_slice(b);
                }
            }),
        }
    }
}

/// The memory sink OpenJPEG writes the codestream into (random access: it may seek back).
struct Sink {
    buf: Vec<u8>,
    pos: usize,
}

unsafe extern "C" fn write_cb(data: *mut c_void, n: opj::OPJ_SIZE_T, user: *mut c_void) -> opj::OPJ_SIZE_T {
    // SAFETY: `user` is the &mut Sink given to opj_stream_set_user_data, alive while the stream is used;
    // `data` holds `n` readable bytes (OpenJPEG's contract).
    unsafe {
        let s = &mut *user.cast::<Sink>();

        let src = std::slice::from_raw_parts(data.cast::<u8>(), n);
        let end = s.pos + n;
        if s.pos == s.buf.len() {
            s.buf.extend_from_slice(src);
        } else {
            if s.buf.len() < end {
                s.buf.resize(end, 0);
            }
            if let Some(dst) = s.buf.get_mut(s.pos..end) {
                dst.copy_from_slice(src);
            }
        }
        s.pos = end;
        n as opj::OPJ_SIZE_T
    }
}

unsafe extern "C" fn sink_skip_cb(n: opj::OPJ_OFF_T, user: *mut c_void) -> opj::OPJ_OFF_T {
    // SAFETY: `user` is the live &mut Sink (see write_cb).
    unsafe {
        let s = &mut *user.cast::<Sink>();
        match usize::try_from(n) {
            Ok(k) => {
                s.pos += k;
                if s.buf.len() < s.pos {
                    s.buf.resize(s.pos, 0);
                }
                n
            }
            Err(_) => -1,
        }
    }
}

unsafe extern "C" fn sink_seek_cb(n: opj::OPJ_OFF_T, user: *mut c_void) -> opj::OPJ_BOOL {
    // SAFETY: `user` is the live &mut Sink (see write_cb).
    unsafe {
        let s = &mut *user.cast::<Sink>();
        match usize::try_from(n) {
            Ok(p) => {
                s.pos = p;
                if s.buf.len() < p {
                    s.buf.resize(p, 0);
                }
                1
            }
            Err(_) => 0,
        }
    }
}

/// Copies component `c` of a colour-by-pixel little-endian frame of `size`-byte samples into an OpenJPEG
/// plane, keeping the low `bits` bits: sign-extended from Bits Stored when `signed` (Ssiz bit 7 set, ISO
/// 15444-1 Table A.11), masked otherwise. One loop per sample width, so each one vectorises.
fn fill_component(plane: &mut [i32], src: &[u8], (spp, c, size): (usize, usize, usize), bits: u16, signed: bool) {
    let pixel = spp * size;
    let at = c * size;
    match size {
        1 => {
            let shift = 8 - u32::from(bits.min(8));
            for (d, px) in plane.iter_mut().zip(src.chunks_exact(pixel)) {
                let v = px.get(at).copied().unwrap_or(0) << shift;
                *d = if signed {
                    i32::from((v as i8) >> shift)
                } else {
                    i32::from(v >> shift)
                };
            }
        }
        _ => {
            let shift = 16 - u32::from(bits.min(16));
            for (d, px) in plane.iter_mut().zip(src.chunks_exact(pixel)) {
                let v = px.get(at..at + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]])) << shift;
                *d = if signed {
                    i32::from((v as i16) >> shift)
                } else {
                    i32::from(v >> shift)
                };
            }
        }
    }
}

/// Encodes one frame (colour-by-pixel, little endian, the decoders' layout) as a JPEG 2000 codestream:
/// reversible 5/3 wavelet and one layer coded to the last bit when `layers` is `None` (.4.90), else
/// irreversible 9/7 with the given quality layers (.4.91): compression ratios (e.g. `[10.0]` for 10:1,
/// OpenJPEG's rate allocation) or PSNRs in dB (its fixed-quality allocation). No multiple component
/// transform unless `mct` and the frame is RGB (then RCT when lossless, ICT when lossy: the data set becomes
/// YBR_RCT or YBR_ICT, PS3.5 §8.2.4); other data keep their Photometric Interpretation.
pub fn encode_j2k(src: &[u8], info: &PixelInfo, layers: Option<&super::J2kLayers>, mct: bool) -> Result<Vec<u8>> {
    let lossless = layers.is_none();
    check_output(JPEG_2000, 0, info, src).map_err(|e| Error::Invalid(e.to_string()))?;
    let (rows, cols, spp) = info.frame_shape();
    let bits = info.bits_stored;
    if !(1..=16).contains(&bits) || info.bits_allocated > 16 || (spp != 1 && spp != 3) {
        return Err(Error::Invalid(format!(
            "JPEG 2000 encoding supports 1 or 3 samples of up to 16 bits, not {spp} of {bits}"
        )));
    }
    let bad = |what: &str, log: &str| Error::Invalid(format!("OpenJPEG could not {what}: {log}"));
    let signed = info.pixel_representation == 1;
    let w = u32::try_from(cols).map_err(|_| Error::Invalid("too wide".to_owned()))?;
    let h = u32::try_from(rows).map_err(|_| Error::Invalid("too tall".to_owned()))?;
    let mut cparams: Vec<opj::opj_image_cmptparm_t> = (0..spp)
        .map(|_| opj::opj_image_cmptparm_t {
            dx: 1,
            dy: 1,
            w,
            h,
            x0: 0,
            y0: 0,
            prec: u32::from(bits),
            bpp: u32::from(bits),
            sgnd: u32::from(signed),
        })
        .collect();
    let space = if spp == 3 {
        opj::COLOR_SPACE::OPJ_CLRSPC_SRGB
    } else {
        opj::COLOR_SPACE::OPJ_CLRSPC_GRAY
    };
    let mut log = String::new();
    let mut sink = Sink {
        buf: Vec::with_capacity(src.len() / 2),
        pos: 0,
    };
    // SAFETY: opj_image_create copies the component parameters; NULL is checked; the session owns it.
    let mut s = Session {
        codec: std::ptr::null_mut(),
        stream: std::ptr::null_mut(),
        image: unsafe { opj::opj_image_create(spp as u32, cparams.as_mut_ptr(), space) },
    };
    if s.image.is_null() {
        return Err(bad("create an image", ""));
    }
    // Fill the components from the little-endian frame (values sign-extended or masked to Bits Stored).
    let size = usize::from(info.bits_allocated / 8);
    // SAFETY: s.image was created with `spp` components of w x h samples each, allocated by OpenJPEG.
    unsafe {
        let img = &mut *s.image;
        img.x0 = 0;
        img.y0 = 0;
        img.x1 = w;
        img.y1 = h;
        let comps = std::slice::from_raw_parts_mut(img.comps, spp);
        for (c, comp) in comps.iter_mut().enumerate() {
            if comp.data.is_null() {
                return Err(bad("allocate component data", ""));
            }
            let plane = std::slice::from_raw_parts_mut(comp.data, rows * cols);
            fill_component(plane, src, (spp, c, size), bits, signed);
        }
    }
    // SAFETY: parameters are initialised by OpenJPEG's defaults before the fields set here; the codec,
    // stream and image belong to the session; `log` and `sink` outlive it (declared before `s`).
    unsafe {
        let mut params: opj::opj_cparameters_t = std::mem::zeroed();
        opj::opj_set_default_encoder_parameters(&mut params);
        match layers {
            None => {
                params.tcp_numlayers = 1;
                params.cp_disto_alloc = 1;
                params.tcp_rates[0] = 0.0;
            }
            Some(super::J2kLayers::Ratios(r)) => {
                let n = r.len().min(params.tcp_rates.len());
                params.tcp_numlayers = n as i32;
                params.cp_disto_alloc = 1;
                params.tcp_rates[..n].copy_from_slice(&r[..n]);
            }
            Some(super::J2kLayers::Psnr(p)) => {
                let n = p.len().min(params.tcp_distoratio.len());
                params.tcp_numlayers = n as i32;
                params.cp_fixed_quality = 1;
                params.tcp_distoratio[..n].copy_from_slice(&p[..n]);
            }
        }
        params.irreversible = i32::from(!lossless);
        params.tcp_mct = std::os::raw::c_char::from(mct && spp == 3 && info.photometric.trim() == "RGB");
        let mut res = 6;
        while res > 1 && (1usize << (res - 1)) > rows.min(cols) {
            res -= 1;
        }
        params.numresolution = res;
        s.codec = opj::opj_create_compress(opj::CODEC_FORMAT::OPJ_CODEC_J2K);
        if s.codec.is_null() {
            return Err(bad("create an encoder", ""));
        }
        let log_ptr = (&raw mut log).cast::<c_void>();
        opj::opj_set_info_handler(s.codec, Some(quiet_cb), std::ptr::null_mut());
        opj::opj_set_warning_handler(s.codec, Some(message_cb), log_ptr);
        opj::opj_set_error_handler(s.codec, Some(message_cb), log_ptr);
        if opj::opj_setup_encoder(s.codec, &mut params, s.image) == 0 {
            return Err(bad("set up the encoder", &log));
        }
        // A single frame encodes its code-blocks on OpenJPEG's own threads, as many as the rayon pool it
        // runs in has (none outside a pool); the frames of a multi-frame data set are already spread over
        // rayon's threads.
        let n = crate::pixel::parallel::threads();
        let in_pool = rayon::current_thread_index().is_some();
        if info.number_of_frames <= 1 && in_pool && n > 1 && rows * cols >= 1 << 16 {
            opj::opj_codec_set_threads(s.codec, i32::try_from(n).unwrap_or(1));
        }
        s.stream = opj::opj_stream_create(1 << 16, 0);
        if s.stream.is_null() {
            return Err(bad("create a stream", ""));
        }
        opj::opj_stream_set_write_function(s.stream, Some(write_cb));
        opj::opj_stream_set_skip_function(s.stream, Some(sink_skip_cb));
        opj::opj_stream_set_seek_function(s.stream, Some(sink_seek_cb));
        opj::opj_stream_set_user_data(s.stream, (&raw mut sink).cast::<c_void>(), None);
        if opj::opj_start_compress(s.codec, s.image, s.stream) == 0
            || opj::opj_encode(s.codec, s.stream) == 0
            || opj::opj_end_compress(s.codec, s.stream) == 0
        {
            return Err(bad("encode", &log));
        }
    }
    drop(s);
    Ok(sink.buf)
}

/// [`encode_j2k`] lossless, for the encoder registry (.4.90).
pub fn encode_j2k_lossless(src: &[u8], info: &PixelInfo, opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    encode_j2k(src, info, None, opts.j2k_mct)
}

/// [`encode_j2k`] lossy with the options' layers (10:1 by default), for the encoder registry (.4.91). The
/// caller checks the options once ([`super::EncodeOptions::validate`]), not once per frame.
pub fn encode_j2k_lossy(src: &[u8], info: &PixelInfo, opts: &super::EncodeOptions) -> Result<Vec<u8>> {
    encode_j2k(src, info, Some(&opts.j2k), opts.j2k_mct)
}
