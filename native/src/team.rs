//! A parallel loop over `0..n` in which the calling thread works too: helper jobs are handed to a thread
//! pool and take indices as they start, and the call never waits for a helper that has not started.
//!
//! Handing the whole loop to a pool (rayon's `install`) makes a short call pay for a pool thread's wake-up
//! before any work starts, another for the second thread, and one more to wake the caller at the end; on a
//! VM whose idle virtual CPUs are descheduled a wake-up takes from 50 us to milliseconds, which is the whole
//! of a 5 ms multi-frame RLE encode. Here the caller starts at once, a helper joins when its thread runs,
//! and at the end the caller waits only for helpers that are inside an item (spinning, then blocking).
//!
//! A helper that took part in a loop lingers a little after it, spinning, and joins the next loop opened
//! in the meantime without waiting for a wake-up (as OpenMP runtimes keep their threads spinning for a
//! while after a parallel region: a decode loop over many small files then keeps its helper). The
//! threads of a loop never exceed the caller's count: a loop has as many helper seats as it spawned jobs.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// A job handed to a pool thread.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// The bit of [`Shared::state`] set once the caller has finished: helpers that start later do nothing.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// How long the caller spins, waiting for helpers that are still inside an item, before it blocks: a few
/// items' time, without paying for a blocked thread's wake-up when they finish sooner.
const SPIN: Duration = Duration::from_micros(300);

/// How long a helper spins after a loop, ready to join the next one.
const LINGER: Duration = Duration::from_micros(1000);

type Work = dyn Fn(usize) + Sync;

/// The loop opened last, for lingering helpers; [`OPENED`] counts the loops opened, so that a helper
/// polls one atomic while it spins. Locked with `try_lock` only: no thread ever blocks on it, also in a
/// child forked while another thread held it.
static LOBBY: Mutex<Option<Weak<Shared>>> = Mutex::new(None);
static OPENED: AtomicUsize = AtomicUsize::new(0);

/// What the caller and its helpers share.
struct Shared {
    /// The next index to take.
    next: AtomicUsize,
    /// Helper seats left: the spawned jobs and lingering helpers that may still join.
    seats: AtomicUsize,
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

    /// A helper: joins the loop unless the caller has finished it already or its seats are taken;
    /// returns whether it joined.
    fn help(&self) -> bool {
        if self
            .seats
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| s.checked_sub(1))
            .is_err()
        {
            return false;
        }
        if self.state.fetch_add(1, Ordering::AcqRel) & CLOSED != 0 {
            self.leave();
            return false;
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
        true
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

/// A spawned helper job: helps `shared`, then, if it did, lingers for [`LINGER`] after each loop it helps,
/// joining the loops opened meanwhile.
fn helper_job(shared: &Arc<Shared>) {
    if !shared.help() {
        return;
    }
    let mut seen = OPENED.load(Ordering::Acquire);
    let mut since = Instant::now();
    loop {
        // (looked at before the clock: a helper descheduled past its time still sees a loop opened since)
        let now = OPENED.load(Ordering::Acquire);
        if now != seen {
            seen = now;
            let open = LOBBY.try_lock().ok().and_then(|l| l.as_ref().and_then(Weak::upgrade));
            if open.is_some_and(|s| s.help()) {
                since = Instant::now();
            }
            continue;
        }
        if since.elapsed() >= LINGER {
            break;
        }
        std::thread::yield_now();
    }
}

/// Shows a newly opened loop to lingering helpers (skipped while another thread posts one).
fn post(shared: &Arc<Shared>) {
    if let Ok(mut l) = LOBBY.try_lock() {
        *l = Some(Arc::downgrade(shared));
        OPENED.fetch_add(1, Ordering::AcqRel);
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
        seats: AtomicUsize::new(helpers),
        n,
        state: AtomicUsize::new(0),
        work: work_ptr,
        panic: Mutex::new(None),
        done: Mutex::new(()),
        left: Condvar::new(),
    });
    {
        let _close = CloseOnDrop(&shared);
        post(&shared);
        for _ in 0..helpers {
            let s = Arc::clone(&shared);
            spawn(Box::new(move || helper_job(&s)));
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

    /// The threads other than the caller's that ran items of a loop of `n` items of `item` each.
    fn others(n: usize, helpers: usize, spawn: &dyn Fn(Job), item: Duration) -> Vec<std::thread::ThreadId> {
        let caller = std::thread::current().id();
        let seen = Mutex::new(Vec::new());
        for_each(n, helpers, spawn, &|_| {
            std::thread::sleep(item);
            let me = std::thread::current().id();
            let mut s = seen.lock().unwrap();
            if me != caller && !s.contains(&me) {
                s.push(me);
            }
        });
        seen.into_inner().unwrap()
    }

    #[test]
    fn a_helper_lingers_and_joins_the_next_loop() {
        let p = pool(2);
        let spawn = |j: Job| p.spawn(j);
        let never = |_: Job| {};
        // The second loop's own helper job never runs: only the first loop's helper, lingering, can help.
        // (A scheduler that keeps the helper off the CPU for the whole linger time makes one try miss.)
        let joined = (0..5).any(|_| {
            !others(50, 1, &spawn, Duration::from_millis(1)).is_empty()
                && !others(50, 1, &never, Duration::from_micros(200)).is_empty()
        });
        assert!(
            joined,
            "a helper of the previous loop should join a loop opened within its linger time"
        );
    }

    #[test]
    fn lingering_helpers_never_exceed_the_seats() {
        let p = pool(4);
        let spawn = |j: Job| p.spawn(j);
        for _ in 0..5 {
            others(40, 3, &spawn, Duration::from_micros(500));
            // three helpers linger; a loop with one seat takes one of them at most
            assert!(others(40, 1, &spawn, Duration::from_micros(300)).len() <= 1);
        }
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
