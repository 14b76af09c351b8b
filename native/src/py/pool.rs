//! Thread pools for the work the bindings run in parallel, safe across `fork()`.
//!
//! rayon's global pool does not survive a fork: its threads are gone in the child, and a parallel call there
//! waits forever (PyTorch DataLoader workers fork). The process that first uses the global pool is recorded;
//! a forked child gets a pool of its own instead. An explicit `threads=` above 1 gets a pool of that size,
//! kept per calling thread (and remade after a fork); `threads=1` is the calling thread itself.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use rayon::ThreadPool;

use crate::error::{Error, Result};

/// The process id that owns rayon's global pool (0: not used yet).
static GLOBAL_OWNER: AtomicU32 = AtomicU32::new(0);

/// The pool of a forked child, made on first use and kept for the life of that process.
static CHILD_POOL: Mutex<Option<(u32, Arc<ThreadPool>)>> = Mutex::new(None);

fn build(threads: usize) -> Result<ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Invalid(format!("Could not start {threads} threads: {e}")))
}

thread_local! {
    /// The pool of the last explicit `threads=` on this thread, with the process that made it: kept, so that
    /// a loop of small calls (a slice, a frame) does not start and stop threads each time. It ends with the
    /// thread.
    static LOCAL_POOL: std::cell::RefCell<Option<(u32, usize, Arc<ThreadPool>)>> = const { std::cell::RefCell::new(None) };
}

/// This thread's pool of `threads` threads in process `pid`, made on first use.
fn local_pool(pid: u32, threads: usize) -> Result<Arc<ThreadPool>> {
    LOCAL_POOL.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some((p, n, pool)) = slot.as_ref()
            && *p == pid
            && *n == threads
        {
            return Ok(pool.clone());
        }
        let pool = Arc::new(build(threads)?);
        if let Some((p, _, stale)) = slot.replace((pid, threads, pool.clone()))
            && p != pid
        {
            // Inherited through fork(): its threads do not exist here; never touch it.
            std::mem::forget(stale);
        }
        Ok(pool)
    })
}

/// Where the threads of a call come from.
enum Target {
    /// The calling thread alone.
    Caller,
    /// rayon's global pool (or the pool the caller is a thread of).
    Global,
    Pool(Arc<ThreadPool>),
}

/// The pool that `threads` (`None`: all cores) means in this process.
fn target(threads: Option<usize>) -> Result<Target> {
    let pid = std::process::id();
    if threads == Some(1) {
        return Ok(Target::Caller);
    }
    if let Some(t) = threads.filter(|&t| t > 0) {
        return Ok(Target::Pool(local_pool(pid, t)?));
    }
    let owner = match GLOBAL_OWNER.compare_exchange(0, pid, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => pid,
        Err(current) => current,
    };
    if owner == pid {
        return Ok(Target::Global);
    }
    // A child forked after the parent used the global pool.
    let mut slot = CHILD_POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match slot.as_ref() {
        Some((p, pool)) if *p == pid => Ok(Target::Pool(pool.clone())),
        _ => {
            let n = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            let pool = Arc::new(build(n)?);
            *slot = Some((pid, pool.clone()));
            Ok(Target::Pool(pool))
        }
    }
}

/// Runs `work(i)` for each `i` in `0..n` on `threads` threads (`None`: all cores), the calling thread one
/// of them ([`crate::team`]: a short call does not wait for a pool thread to wake before it starts, nor
/// for one that wakes after the work is done). Each item runs in [`crate::pixel::parallel::serial`]: the
/// items are the parallel step. Returns the error of the lowest failing index.
///
/// # Errors
/// When threads cannot be started (outer), or the first error of `work` (inner).
pub fn try_for_each<E: Send>(
    threads: Option<usize>,
    n: usize,
    work: impl Fn(usize) -> std::result::Result<(), E> + Sync,
) -> Result<std::result::Result<(), E>> {
    use crate::pixel::parallel::serial;
    let work = |i: usize| serial(|| work(i));
    Ok(match target(threads)? {
        Target::Caller => (0..n).try_for_each(work),
        Target::Global => crate::team::try_for_each(n, rayon::current_num_threads() - 1, &|j| rayon::spawn(j), &work),
        Target::Pool(p) => crate::team::try_for_each(n, p.current_num_threads() - 1, &|j| p.spawn(j), &work),
    })
}

/// [`try_for_each`] for work that cannot fail.
///
/// # Errors
/// When threads cannot be started.
pub fn for_each(threads: Option<usize>, n: usize, work: impl Fn(usize) + Sync) -> Result<()> {
    try_for_each(threads, n, |i| {
        work(i);
        Ok::<(), std::convert::Infallible>(())
    })?
    .unwrap_or_else(|never| match never {});
    Ok(())
}

/// Runs `f` on `threads` threads (`None`: all cores), on a pool that works in this process; `Some(1)` runs
/// it on the calling thread with the pixel code's parallel steps off ([`crate::pixel::parallel::serial`]).
///
/// # Errors
/// When threads cannot be started.
pub fn run<R: Send>(threads: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R> {
    Ok(match target(threads)? {
        // One thread is this one: no pool thread to wake and hand the work to.
        Target::Caller => crate::pixel::parallel::serial(f),
        Target::Global => f(),
        Target::Pool(p) => p.install(f),
    })
}
