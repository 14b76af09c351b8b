//! Whether the pixel code may split its work over rayon threads here, or must do it in order on this thread.
//!
//! `threads=1` means the calling thread: no pool to hand the work to and wake (a hand-off that, on a busy
//! machine, puts the decode on whichever core the scheduler finds, often one already running something
//! else), and no parallel step inside a frame either (frames, RLE segments, colour slices, OpenJPEG's
//! threads). The parallel steps ask [`allowed`]; [`serial`] turns them off for the work it runs.

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
}
