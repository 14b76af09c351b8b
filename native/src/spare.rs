//! Per-thread spares of emptied vectors, for code that makes and drops one a file (the scan's read buffers,
//! the parser's element lists): a vector is taken back from the thread's spares instead of allocated.

use std::cell::RefCell;
use std::thread::LocalKey;

/// A thread's spare vectors (declare one with `thread_local!`).
pub type Spares<T> = RefCell<Vec<Vec<T>>>;

/// An empty vector: one of this thread's spares when there is one, a new one otherwise.
pub fn take<T: 'static>(spares: &'static LocalKey<Spares<T>>) -> Vec<T> {
    spares
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Empties `v` and keeps it among this thread's spares, unless it holds no allocation, has room for more
/// than `max_len` items or `keep` spares are kept already: it is then freed (as it is at thread exit, or
/// while the spares are in use).
pub fn give<T: 'static>(spares: &'static LocalKey<Spares<T>>, mut v: Vec<T>, max_len: usize, keep: usize) {
    if v.capacity() == 0 || v.capacity() > max_len {
        return;
    }
    v.clear();
    let _ = spares.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut()
            && s.len() < keep
        {
            s.push(v);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static TEST_SPARES: Spares<u32> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn spares_are_kept_empty_and_bounded() {
        let mut v = take(&TEST_SPARES);
        v.extend([1, 2, 3]);
        let cap = v.capacity();
        give(&TEST_SPARES, v, 64, 2);
        let again = take(&TEST_SPARES);
        assert!(again.is_empty());
        assert_eq!(again.capacity(), cap);
        // Too large, or one more than `keep`: freed, not kept.
        give(&TEST_SPARES, Vec::with_capacity(65), 64, 2);
        for _ in 0..3 {
            give(&TEST_SPARES, Vec::with_capacity(8), 64, 2);
        }
        assert_eq!(TEST_SPARES.with(|s| s.borrow().len()), 2);
        assert!(TEST_SPARES.with(|s| s.borrow().iter().all(|v| v.capacity() <= 64)));
    }
}
