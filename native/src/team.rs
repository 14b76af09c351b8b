//! A parallel loop over `0..n` in which the calling thread works too: helper jobs are handed to a thread
//! pool and take indices as they start, and the call never waits for a helper that has not started.
//!
//! Handing the whole loop to a pool (rayon's `install`) makes a short call pay for a pool thread's wake-up
//! before any work starts, another for the second thread, and one more to wake the caller at the end; on a
//! VM whose idle virtual CPUs are descheduled a wake-up takes from 50 us to milliseconds, which is the whole
//! of a 5 ms multi-frame RLE encode. Here the caller starts at once, a helper joins when its thread runs,
//! and at the end the caller waits only for helpers that are inside an item (spinning, then blocking).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A job handed to a pool thread.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// The bit of [`Shared::state`] set once the caller has finished: helpers that start later do nothing.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// How long the caller spins, waiting for helpers that are still inside an item, before it blocks: a few
/// items' time, without paying for a blocked thread's wake-up when they finish sooner.
const SPIN: Duration = Duration::from_micros(300);

type Work = dyn Fn(usize) + Sync;

/// What the caller and its helpers share.
struct Shared {
    /// The next index to take.
    next: AtomicUsize,
    n: usize,
    /// [`CLOSED`] and the number of helpers inside the loop.
    state: AtomicUsize,
    /// The caller's closure, borrowed from its stack: valid while the loop is open, and until every
    /// helper that joined it has left (the caller waits for that before returning).
    work: *const Work,
    /// The first panic of a helper, re-raised on the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    done: Mutex<()>,
    left: Condvar,
}

// SAFETY: `work` points to a `Sync` closure that is only called through `&` (from any thread), and only
// while the caller keeps it alive (see `Shared::work`); every other field is `Send + Sync`.
#[allow(unsafe_code)]
unsafe impl Send for Shared {}
// SAFETY: as for `Send`.
#[allow(unsafe_code)]
unsafe impl Sync for Shared {}

impl Shared {
    /// Takes indices and runs them until none is left.
    fn take_all(&self, work: &(dyn Fn(usize) + Sync + '_)) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n {
                break;
            }
            work(i);
        }
    }

    /// One helper leaves (or never joined): the last one out of a closed loop tells the caller.
    fn leave(&self) {
        if self.state.fetch_sub(1, Ordering::AcqRel) == CLOSED | 1 {
            let _g = self.done.lock().unwrap_or_else(PoisonError::into_inner);
            self.left.notify_all();
        }
    }

    /// A helper job: joins the loop unless the caller has finished it already.
    fn help(&self) {
        if self.state.fetch_add(1, Ordering::AcqRel) & CLOSED != 0 {
            self.leave();
            return;
        }
        // SAFETY: the loop was open when this helper joined, and the caller does not return (nor drop the
        // closure) until every helper that joined has left.
        #[allow(unsafe_code)]
        let work = unsafe { &*self.work };
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| self.take_all(work))) {
            self.next.store(self.n, Ordering::Relaxed);
            self.panic
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(p);
        }
        self.leave();
    }

    /// Closes the loop and waits for the helpers inside it.
    fn close(&self) {
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        let start = Instant::now();
        while self.state.load(Ordering::Acquire) != CLOSED {
            if start.elapsed() > SPIN {
                let mut g = self.done.lock().unwrap_or_else(PoisonError::into_inner);
                while self.state.load(Ordering::Acquire) != CLOSED {
                    g = self.left.wait(g).unwrap_or_else(PoisonError::into_inner);
                }
                return;
            }
            std::thread::yield_now();
        }
    }
}

/// Closes the loop when the caller leaves it, also by a panic: no helper may outlive the borrowed closure.
struct CloseOnDrop<'a>(&'a Shared);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Runs `work(i)` for every `i` in `0..n`, each once, on the calling thread and on up to `helpers` jobs
/// given to `spawn` (a pool's spawn): they take indices in turn, so a helper that starts late takes fewer.
/// Returns when every index has run. A panic in `work` is raised again here, after the other threads have
/// stopped taking indices.
pub fn for_each(n: usize, helpers: usize, spawn: &dyn Fn(Job), work: &(dyn Fn(usize) + Sync)) {
    let helpers = helpers.min(n.saturating_sub(1));
    if helpers == 0 {
        (0..n).for_each(work);
        return;
    }
    // SAFETY: only the lifetime is erased; `Shared::work` says when the pointer may be used, and
    // `CloseOnDrop` keeps this function from returning or unwinding before that.
    #[allow(unsafe_code)]
    let work_ptr: *const Work = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static Work>(work) };
    let shared = Arc::new(Shared {
        next: AtomicUsize::new(0),
        n,
        state: AtomicUsize::new(0),
        work: work_ptr,
        panic: Mutex::new(None),
        done: Mutex::new(()),
        left: Condvar::new(),
    });
    {
        let _close = CloseOnDrop(&shared);
        for _ in 0..helpers {
            let s = Arc::clone(&shared);
            spawn(Box::new(move || s.help()));
        }
        let stop_on_panic = || shared.next.store(n, Ordering::Relaxed);
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| shared.take_all(work))) {
            stop_on_panic();
            resume_unwind(p);
        }
    }
    if let Some(p) = shared.panic.lock().unwrap_or_else(PoisonError::into_inner).take() {
        resume_unwind(p);
    }
}

/// [`for_each`] for work that can fail: stops taking indices at the first error and returns the error of
/// the lowest index that failed.
///
/// # Errors
/// The first (lowest-index) error of `work`.
pub fn try_for_each<E: Send>(
    n: usize,
    helpers: usize,
    spawn: &dyn Fn(Job),
    work: &(dyn Fn(usize) -> Result<(), E> + Sync),
) -> Result<(), E> {
    let failed = AtomicBool::new(false);
    let first: Mutex<Option<(usize, E)>> = Mutex::new(None);
    for_each(n, helpers, spawn, &|i| {
        if failed.load(Ordering::Relaxed) {
            return;
        }
        if let Err(e) = work(i) {
            failed.store(true, Ordering::Relaxed);
            let mut f = first.lock().unwrap_or_else(PoisonError::into_inner);
            if f.as_ref().is_none_or(|(j, _)| i < *j) {
                *f = Some((i, e));
            }
        }
    });
    match first.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()
    }

    #[test]
    fn every_index_runs_once() {
        let p = pool(3);
        let spawn = |j: Job| p.spawn(j);
        for n in [0, 1, 2, 3, 7, 1000] {
            let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            for_each(n, 3, &spawn, &|i| {
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1), "n = {n}");
        }
    }

    #[test]
    fn helpers_that_never_start_are_not_waited_for() {
        // A spawn that drops its jobs (a pool whose threads never run them) must not hang the caller.
        let kept: Mutex<Vec<Job>> = Mutex::new(Vec::new());
        let spawn = |j: Job| kept.lock().unwrap().push(j);
        let sum = AtomicUsize::new(0);
        for_each(100, 2, &spawn, &|i| {
            sum.fetch_add(i, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 4950);
        // They start after the call returned and the closure is gone: they must do nothing.
        for j in kept.into_inner().unwrap() {
            j();
        }
    }

    #[test]
    fn the_helpers_do_take_work() {
        let p = pool(2);
        let spawn = |j: Job| p.spawn(j);
        let caller = std::thread::current().id();
        let elsewhere = AtomicUsize::new(0);
        // Items long enough that a helper starts before the caller has taken them all.
        for_each(50, 1, &spawn, &|_| {
            std::thread::sleep(Duration::from_millis(2));
            if std::thread::current().id() != caller {
                elsewhere.fetch_add(1, Ordering::Relaxed);
            }
        });
        assert!(elsewhere.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn the_lowest_failing_index_is_returned() {
        let p = pool(2);
        let spawn = |j: Job| p.spawn(j);
        let r = try_for_each(10, 1, &spawn, &|i| if i >= 4 { Err(i) } else { Ok(()) });
        assert_eq!(r, Err(4));
        assert_eq!(try_for_each(10, 1, &spawn, &|_| Ok::<(), usize>(())), Ok(()));
    }

    #[test]
    fn a_panic_reaches_the_caller_after_the_helpers_stop() {
        let p = pool(2);
        let spawn = |j: Job| p.spawn(j);
        let ran = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            for_each(1000, 1, &spawn, &|i| {
                ran.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(100));
                assert!(i != 3, "item 3 fails");
            });
        }));
        assert!(r.is_err());
        assert!(
            ran.load(Ordering::Relaxed) < 1000,
            "the other threads stop taking items"
        );
        // the pool is still usable
        let sum = AtomicUsize::new(0);
        for_each(10, 1, &spawn, &|i| {
            sum.fetch_add(i, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 45);
    }
}
