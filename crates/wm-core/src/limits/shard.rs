//! Per-thread shards: each thread counts into a shard of its own (threads take them in turn),
//! so threads counting the same thing do not pass its cache lines between cores. Also the lock
//! helper the module's maps share.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Number of shards.
pub(super) const COUNT: usize = 16;

/// The shard of the calling thread.
pub(super) fn home() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Ordering::Relaxed) % COUNT;
    }
    HOME.with(|home| *home)
}

/// Locks `m`, recovering from poisoning: every critical section here leaves its data whole.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
