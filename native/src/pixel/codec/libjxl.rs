//! JPEG XL (ISO/IEC 18181) through libjxl (BSD-3-Clause), called through its C API (`jxl/decode.h`,
//! stable since 0.7): the `dicomfast-libjxl-sys` crate (`native/libjxl-sys`) builds libjxl 0.12 and links
//! it statically (or links the system's with `DICOMFAST_SYSTEM_LIBJXL=1`); built without it, [`super::jxl`] uses jxl-oxide alone.
//!
//! libjxl decodes about 3x faster than jxl-oxide on one thread (0.7.0 against jxl-oxide 0.12, measured on
//! the corpus' JPEG XL file), and it rebuilds a recompressed JPEG (ISO 18181-2 §9, the `jbrd` box)
//! without decoding a pixel.
//!
//! Safety: every allocation libjxl makes goes through our memory manager, which refuses to exceed a
//! limit the caller derives from the frame the data set declares; the decoder is destroyed on every path.

use std::cell::Cell;
use std::ffi::{c_int, c_void};

// The crate that links libjxl: nothing of it is called from Rust.
use dicomfast_libjxl_sys as _;

/// `JxlDecoderStatus` values (jxl/decode.h).
const JXL_DEC_SUCCESS: c_int = 0;
const JXL_DEC_ERROR: c_int = 1;
const JXL_DEC_NEED_MORE_INPUT: c_int = 2;
const JXL_DEC_NEED_IMAGE_OUT_BUFFER: c_int = 5;
const JXL_DEC_JPEG_NEED_MORE_OUTPUT: c_int = 6;
const JXL_DEC_BASIC_INFO: c_int = 0x40;
const JXL_DEC_FULL_IMAGE: c_int = 0x1000;
const JXL_DEC_JPEG_RECONSTRUCTION: c_int = 0x2000;

/// `JxlDataType` values (jxl/types.h).
const JXL_TYPE_UINT8: c_int = 2;
const JXL_TYPE_UINT16: c_int = 3;
/// `JXL_LITTLE_ENDIAN`: our output arrays are little-endian.
const JXL_LITTLE_ENDIAN: c_int = 1;

#[repr(C)]
struct JxlMemoryManager {
    opaque: *mut c_void,
    alloc: Option<unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void>,
    free: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
}

#[repr(C)]
struct JxlPixelFormat {
    num_channels: u32,
    data_type: c_int,
    endianness: c_int,
    align: usize,
}

/// `JxlBasicInfo` (jxl/codestream_header.h), 204 bytes in 0.7 and later.
#[repr(C)]
struct JxlBasicInfo {
    have_container: c_int,
    xsize: u32,
    ysize: u32,
    bits_per_sample: u32,
    exponent_bits_per_sample: u32,
    intensity_target: f32,
    min_nits: f32,
    relative_to_max_display: c_int,
    linear_below: f32,
    uses_original_profile: c_int,
    have_preview: c_int,
    have_animation: c_int,
    orientation: c_int,
    num_color_channels: u32,
    num_extra_channels: u32,
    alpha_bits: u32,
    alpha_exponent_bits: u32,
    alpha_premultiplied: c_int,
    preview: [u32; 2],
    animation: [u32; 4],
    intrinsic_xsize: u32,
    intrinsic_ysize: u32,
    padding: [u8; 100],
}

const _: () = assert!(size_of::<JxlBasicInfo>() == 204 && size_of::<JxlPixelFormat>() == 24);

#[repr(C)]
struct JxlDecoder {
    _private: [u8; 0],
}

// Linked by the dicomfast-libjxl-sys crate (the static libjxl it builds, or the system's).
unsafe extern "C" {
    fn JxlDecoderCreate(memory_manager: *const JxlMemoryManager) -> *mut JxlDecoder;
    fn JxlDecoderDestroy(dec: *mut JxlDecoder);
    fn JxlDecoderSubscribeEvents(dec: *mut JxlDecoder, events_wanted: c_int) -> c_int;
    fn JxlDecoderSetInput(dec: *mut JxlDecoder, data: *const u8, size: usize) -> c_int;
    fn JxlDecoderCloseInput(dec: *mut JxlDecoder);
    fn JxlDecoderProcessInput(dec: *mut JxlDecoder) -> c_int;
    fn JxlDecoderGetBasicInfo(dec: *const JxlDecoder, info: *mut JxlBasicInfo) -> c_int;
    fn JxlDecoderImageOutBufferSize(dec: *const JxlDecoder, format: *const JxlPixelFormat, size: *mut usize) -> c_int;
    fn JxlDecoderSetImageOutBuffer(
        dec: *mut JxlDecoder,
        format: *const JxlPixelFormat,
        buffer: *mut c_void,
        size: usize,
    ) -> c_int;
    fn JxlDecoderSetJPEGBuffer(dec: *mut JxlDecoder, data: *mut u8, size: usize) -> c_int;
    fn JxlDecoderReleaseJPEGBuffer(dec: *mut JxlDecoder) -> usize;
    fn JxlDecoderVersion() -> u32;
}

/// The linked libjxl's version, "MAJOR.MINOR.PATCH".
pub fn version() -> String {
    // SAFETY: a pure function of the library.
    let v = unsafe { JxlDecoderVersion() };
    format!("{}.{}.{}", v / 1_000_000, v / 1_000 % 1_000, v % 1_000)
}

/// Bytes in front of each block we hand to libjxl: the block's size, kept for `free` (16 keeps malloc's
/// alignment).
const HEADER: usize = 16;

/// The bytes libjxl holds and the most it may hold; shared by the two callbacks of one decoder (libjxl
/// calls them on the decoding thread: no parallel runner is set).
struct Budget {
    used: Cell<usize>,
    limit: usize,
}

unsafe extern "C" fn budget_alloc(opaque: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `opaque` is the `Budget` that `Decoder::new` passed, alive as long as the decoder.
    let budget = unsafe { &*opaque.cast::<Budget>() };
    let Some(total) = size.checked_add(HEADER) else {
        return std::ptr::null_mut();
    };
    if budget.used.get().saturating_add(total) > budget.limit {
        return std::ptr::null_mut();
    }
    // SAFETY: plain malloc; the size is written in front of the block handed out.
    unsafe {
        let p = libc::malloc(total).cast::<u8>();
        if p.is_null() {
            return std::ptr::null_mut();
        }
        p.cast::<usize>().write(total);
        budget.used.set(budget.used.get() + total);
        p.add(HEADER).cast()
    }
}

unsafe extern "C" fn budget_free(opaque: *mut c_void, address: *mut c_void) {
    if address.is_null() {
        return;
    }
    // SAFETY: `address` came from `budget_alloc`, so its block starts HEADER bytes before it.
    unsafe {
        let budget = &*opaque.cast::<Budget>();
        let p = address.cast::<u8>().sub(HEADER);
        let total = p.cast::<usize>().read();
        budget.used.set(budget.used.get().saturating_sub(total));
        libc::free(p.cast());
    }
}

/// One libjxl decoder with its budget; destroyed on drop.
struct Decoder {
    dec: *mut JxlDecoder,
    _budget: Box<Budget>,
}

impl Decoder {
    fn new(limit: usize) -> Result<Self, String> {
        let budget = Box::new(Budget {
            used: Cell::new(0),
            limit,
        });
        let manager = JxlMemoryManager {
            opaque: std::ptr::from_ref::<Budget>(&budget).cast_mut().cast(),
            alloc: Some(budget_alloc),
            free: Some(budget_free),
        };
        // SAFETY: libjxl copies the manager; the budget it points to lives in the returned `Decoder`.
        let dec = unsafe { JxlDecoderCreate(&raw const manager) };
        if dec.is_null() {
            return Err("libjxl could not create a decoder".to_owned());
        }
        Ok(Self { dec, _budget: budget })
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: `dec` came from JxlDecoderCreate and is destroyed once.
        unsafe { JxlDecoderDestroy(self.dec) };
    }
}

/// The image header fields the caller checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub columns: u32,
    pub rows: u32,
    /// Integer bits per sample (0 for float samples).
    pub bits: u32,
    pub color_channels: u32,
}

/// What [`decode`] produced.
#[derive(Debug)]
pub enum Decoded {
    /// The original JPEG codestream, rebuilt from the `jbrd` box (no pixel was decoded).
    Jpeg(Vec<u8>),
    /// The first frame's samples were written into the output, colour-by-pixel, at `bits` per sample.
    Pixels { bits: u32 },
}

/// What to decode, and the bounds.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The codestream (bare or in its container).
    pub src: &'a [u8],
    /// Rebuild the original JPEG when the stream holds JPEG reconstruction data.
    pub rebuild_jpeg: bool,
    /// The most bytes the rebuilt JPEG may take.
    pub jpeg_limit: usize,
    /// The most bytes libjxl may allocate.
    pub memory_limit: usize,
    /// Samples per pixel of the output.
    pub samples: u32,
    /// Output `u8` samples; else little-endian `u16`.
    pub out_is_u8: bool,
}

/// Decodes the first frame of `req.src`.
///
/// `check` sees the image header before any pixel is decoded and may refuse it. With `rebuild_jpeg`, a
/// stream holding JPEG reconstruction data gives the original JPEG; otherwise the samples go into `out`,
/// colour-by-pixel, which libjxl scales to the full range of the type (the caller scales back to `bits`).
pub fn decode(
    req: Request<'_>,
    check: &dyn Fn(&Header) -> Result<(), String>,
    out: &mut [u8],
) -> Result<Decoded, String> {
    let Request {
        src,
        rebuild_jpeg,
        jpeg_limit,
        memory_limit,
        samples,
        out_is_u8,
    } = req;
    let d = Decoder::new(memory_limit)?;
    let events = JXL_DEC_BASIC_INFO | JXL_DEC_FULL_IMAGE | if rebuild_jpeg { JXL_DEC_JPEG_RECONSTRUCTION } else { 0 };
    let format = JxlPixelFormat {
        num_channels: samples,
        data_type: if out_is_u8 { JXL_TYPE_UINT8 } else { JXL_TYPE_UINT16 },
        endianness: JXL_LITTLE_ENDIAN,
        align: 0,
    };
    let mut jpeg: Option<Vec<u8>> = None;
    let mut jpeg_used = 0usize;
    let mut bits = 0u32;
    // SAFETY (all calls below): `d.dec` is a live decoder; `src`, `out` and the JPEG buffer outlive every
    // call that uses them (the JPEG buffer is released before it grows or is returned).
    unsafe {
        if JxlDecoderSubscribeEvents(d.dec, events) != JXL_DEC_SUCCESS
            || JxlDecoderSetInput(d.dec, src.as_ptr(), src.len()) != JXL_DEC_SUCCESS
        {
            return Err("libjxl refused the input".to_owned());
        }
        JxlDecoderCloseInput(d.dec);
        loop {
            match JxlDecoderProcessInput(d.dec) {
                JXL_DEC_BASIC_INFO => {
                    let mut info = std::mem::MaybeUninit::<JxlBasicInfo>::zeroed();
                    if JxlDecoderGetBasicInfo(d.dec, info.as_mut_ptr()) != JXL_DEC_SUCCESS {
                        return Err("libjxl could not read the image header".to_owned());
                    }
                    let info = info.assume_init();
                    let header = Header {
                        columns: info.xsize,
                        rows: info.ysize,
                        bits: if info.exponent_bits_per_sample == 0 {
                            info.bits_per_sample
                        } else {
                            0
                        },
                        color_channels: info.num_color_channels,
                    };
                    check(&header)?;
                    bits = header.bits;
                }
                JXL_DEC_JPEG_RECONSTRUCTION => {
                    let start = src.len().saturating_mul(2).saturating_add(4096).min(jpeg_limit);
                    let buf = jpeg.insert(vec![0u8; start]);
                    if JxlDecoderSetJPEGBuffer(d.dec, buf.as_mut_ptr(), buf.len()) != JXL_DEC_SUCCESS {
                        return Err("libjxl refused the JPEG buffer".to_owned());
                    }
                }
                JXL_DEC_JPEG_NEED_MORE_OUTPUT => {
                    let Some(buf) = jpeg.as_mut() else {
                        return Err("libjxl asked for JPEG output that was not set up".to_owned());
                    };
                    let left = JxlDecoderReleaseJPEGBuffer(d.dec);
                    jpeg_used = buf.len() - left.min(buf.len());
                    if buf.len() >= jpeg_limit {
                        return Err(format!(
                            "the reconstructed JPEG exceeds {jpeg_limit} bytes, more than the frame justifies"
                        ));
                    }
                    let grown = buf.len().saturating_mul(2).min(jpeg_limit);
                    buf.resize(grown, 0);
                    let rest = &mut buf[jpeg_used..];
                    if JxlDecoderSetJPEGBuffer(d.dec, rest.as_mut_ptr(), rest.len()) != JXL_DEC_SUCCESS {
                        return Err("libjxl refused the JPEG buffer".to_owned());
                    }
                }
                JXL_DEC_NEED_IMAGE_OUT_BUFFER => {
                    let mut size = 0usize;
                    if JxlDecoderImageOutBufferSize(d.dec, &raw const format, &raw mut size) != JXL_DEC_SUCCESS {
                        return Err("libjxl refused the output format".to_owned());
                    }
                    if size != out.len() {
                        return Err(format!(
                            "libjxl would write {size} bytes for the frame, the output holds {}",
                            out.len()
                        ));
                    }
                    if JxlDecoderSetImageOutBuffer(d.dec, &raw const format, out.as_mut_ptr().cast(), out.len())
                        != JXL_DEC_SUCCESS
                    {
                        return Err("libjxl refused the output buffer".to_owned());
                    }
                }
                JXL_DEC_FULL_IMAGE => {
                    return Ok(match jpeg {
                        Some(mut buf) => {
                            let left = JxlDecoderReleaseJPEGBuffer(d.dec).min(buf.len() - jpeg_used);
                            buf.truncate(buf.len() - left);
                            Decoded::Jpeg(buf)
                        }
                        None => Decoded::Pixels { bits },
                    });
                }
                JXL_DEC_SUCCESS => return Err("the JPEG XL codestream has no complete frame".to_owned()),
                JXL_DEC_NEED_MORE_INPUT => return Err("the JPEG XL codestream is truncated".to_owned()),
                JXL_DEC_ERROR => return Err("libjxl found the codestream invalid or ran out of memory".to_owned()),
                other => return Err(format!("libjxl stopped with status {other:#x}")),
            }
        }
    }
}
