//! Whether the pixel code may split its work over rayon threads here, or must do it in order on this thread.
//!
//! `threads=1` means the calling thread: no pool thread to hand the work to and wake (50-100 us a call on
//! this project's VM), and no parallel step inside a frame either (frames, RLE segments, colour slices,
//! OpenJPEG's threads). The parallel steps ask [`allowed`]; [`serial`] turns them off for the work it
//! runs; [`worth_splitting`] sends work too small to repay a wake-up there as well.

use std::cell::Cell;

thread_local! {
    static SERIAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on the calling thread with every parallel step of the pixel code done in order.
pub fn serial<R>(f: impl FnOnce() -> R) -> R {
    /// Restores the previous state, also when `f` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERIAL.set(self.0);
        }
    }
    let _restore = Restore(SERIAL.replace(true));
    f()
}

/// `false` inside [`serial`]: the work must stay on this thread, in order.
#[must_use]
pub fn allowed() -> bool {
    !SERIAL.get()
}

/// The threads one frame's codec may use: 1 inside [`serial`], else those of the rayon pool it runs in.
#[must_use]
pub fn threads() -> usize {
    if allowed() { rayon::current_num_threads() } else { 1 }
}

/// What decoding costs per output byte on one core, roughly, by the kind of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// Uncompressed copies and byte swaps, RLE: 3-6 GB/s, counted at 0.25 ns a byte.
    Copy,
    /// Bit unpacking, Huffman / JPEG-LS / deflate decoding: 0.2-1 GB/s, counted at 2 ns a byte.
    Entropy,
    /// JPEG 2000, HTJ2K, JPEG XL (wavelets, arithmetic or ANS coding): 15-150 MB/s, at 20 ns a byte.
    Transform,
}

impl Cost {
    /// The kind of work decoding frames of `ts_uid` is (`bits_allocated` 1: bit-packed native frames).
    #[must_use]
    pub fn of(ts_uid: &str, encapsulated: bool, bits_allocated: u16) -> Self {
        use super::codec as c;
        match ts_uid {
            _ if !encapsulated => {
                if bits_allocated == 1 {
                    Self::Entropy
                } else {
                    Self::Copy
                }
            }
            c::RLE_LOSSLESS => Self::Copy,
            c::JPEG_2000_LOSSLESS
            | c::JPEG_2000
            | c::HTJ2K_LOSSLESS
            | c::HTJ2K_LOSSLESS_RPCL
            | c::HTJ2K
            | c::JPEG_XL_LOSSLESS
            | c::JPEG_XL_JPEG_RECOMPRESSION
            | c::JPEG_XL => Self::Transform,
            _ => Self::Entropy,
        }
    }
}

/// Whether decoding `out_bytes` of pixel data is worth spreading over pool threads, by the estimated
/// work. Frames are shared with helpers that join when they start ([`crate::team`]): the caller pays only
/// for posting them (a few us), a helper that wakes late simply takes fewer frames, and one that lingers
/// after the previous call joins at once. Below 150 us of work even a prompt helper (a wake-up is 50-100 us
/// on this project's VM) has little left to take: such work runs in [`serial`].
#[must_use]
pub fn worth_splitting(out_bytes: usize, cost: Cost) -> bool {
    /// The least estimated work, in ns, that goes to more than one thread.
    const MIN_SPLIT_NS: usize = 150_000;
    let ns = match cost {
        Cost::Copy => out_bytes / 4,
        Cost::Entropy => out_bytes.saturating_mul(2),
        Cost::Transform => out_bytes.saturating_mul(20),
    };
    ns >= MIN_SPLIT_NS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_turns_parallel_steps_off_and_restores_them() {
        assert!(allowed());
        serial(|| {
            assert!(!allowed());
            assert_eq!(threads(), 1);
            serial(|| assert!(!allowed()));
            assert!(!allowed(), "a nested serial() must not turn the outer one off");
        });
        assert!(allowed());
        let r = std::panic::catch_unwind(|| serial(|| panic!("codec failure")));
        assert!(r.is_err());
        assert!(allowed(), "a panic inside serial() must not leave the thread serial");
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        use crate::pixel::codec as c;
        // two RLE frames of 0.5 MB decode in ~0.2 ms on one core: worth a helper; 256 kB are not
        let rle = Cost::of(c::RLE_LOSSLESS, true, 16);
        assert_eq!(rle, Cost::Copy);
        assert!(!worth_splitting(256 << 10, rle));
        assert!(worth_splitting(1 << 20, rle));
        // the same 1 MB through a JPEG decoder is ~2 ms of work; a 64 x 32 J2K frame is not
        assert!(worth_splitting(1 << 20, Cost::of(c::JPEG_EXTENDED_12BIT, true, 16)));
        assert!(!worth_splitting(4 << 10, Cost::of(c::JPEG_2000_LOSSLESS, true, 16)));
        assert!(worth_splitting(512 << 10, Cost::of(c::HTJ2K, true, 16)));
        assert_eq!(Cost::of("1.2.840.10008.1.2.1", false, 1), Cost::Entropy);
        assert_eq!(Cost::of("1.2.840.10008.1.2.1", false, 16), Cost::Copy);
    }
}
