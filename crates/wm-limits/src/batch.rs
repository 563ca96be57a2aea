//! Group commit for the Redis limiter: while one script call is in flight, further
//! checks queue; when it returns, everything queued goes out as the next call.
//!
//! There is no timer: a check arriving with nothing in flight becomes the *leader*,
//! yields once (tasks ready to run queue their checks meanwhile: it costs one poll,
//! no waiting) and sends them all, from its own task. If checks queued meanwhile, a
//! driver task is spawned that sends them, then whatever queued during that call,
//! and so on until the queue is empty; the next check then leads again. The turn
//! (the "busy" flag) always has exactly one owner, and a guard hands it back (failing
//! whatever still waits) if its owner is dropped, so nothing can wedge the queue.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{Checked, LimitError, Limits, Seed};

/// Most checks sent in one script call.
pub(crate) const MAX_BATCH: usize = 256;

/// Batches up to this size are grouped by a linear scan of their entries.
const LINEAR_GROUPING: usize = 16;

/// Where the answer to one check goes.
pub(crate) type Reply = oneshot::Sender<Result<Checked, LimitError>>;

/// One queued check.
pub(crate) struct Request {
    pub account: Uuid,
    pub limits: Limits,
    /// The account's recorded usage, when the caller has read it (see `limit.lua`).
    pub seed: Option<Seed>,
    pub reply: Reply,
}

/// The checks of one batch with the same account and limits: one script entry.
pub(crate) struct Entry {
    pub account: Uuid,
    pub limits: Limits,
    /// The first seed among its requests' (any is as good: they read the same records).
    pub seed: Option<Seed>,
    /// One per request, in queue order.
    pub replies: Vec<Reply>,
}

/// The queue of checks waiting for the call in flight.
#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// A call is in flight, or about to be sent, by the owner of the turn.
    busy: bool,
    waiting: VecDeque<Request>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent, even when interrupted.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `request`. When nothing is in flight, the caller takes the turn and
    /// gets its own one-request batch to send at once (it must then hold a [`Turn`]).
    pub fn push(&self, request: Request) -> Option<Vec<Request>> {
        let mut state = self.lock();
        if state.busy {
            state.waiting.push_back(request);
            None
        } else {
            state.busy = true;
            Some(vec![request])
        }
    }

    /// For the owner of the turn, once its call has returned: the next batch (up to
    /// [`MAX_BATCH`] checks whose callers still wait), or `None` after giving the
    /// turn up because nothing waits.
    pub fn next(&self) -> Option<Vec<Request>> {
        let mut state = self.lock();
        let mut batch = Vec::with_capacity(state.waiting.len().min(MAX_BATCH));
        while batch.len() < MAX_BATCH {
            let Some(request) = state.waiting.pop_front() else { break };
            // A caller that gave up (timed out, or went away) is not counted.
            if !request.reply.is_closed() {
                batch.push(request);
            }
        }
        if batch.is_empty() {
            state.busy = false;
            return None;
        }
        Some(batch)
    }

    /// For the owner of the turn, before it sends `batch`: adds the checks that queued
    /// meanwhile (up to [`MAX_BATCH`] in all).
    pub fn gather(&self, batch: &mut Vec<Request>) {
        let mut state = self.lock();
        while batch.len() < MAX_BATCH {
            let Some(request) = state.waiting.pop_front() else { break };
            if !request.reply.is_closed() {
                batch.push(request);
            }
        }
    }

    /// Gives the turn up after its owner was dropped mid-call: the waiting checks
    /// are dropped, so their callers get an error instead of waiting for ever.
    fn abandon(&self) {
        let waiting = {
            let mut state = self.lock();
            state.busy = false;
            std::mem::take(&mut state.waiting)
        };
        drop(waiting);
    }
}

/// Ownership of the queue's turn, created with it (see [`Queue::push`]) and moved
/// along with the work; gives the turn up (see [`Queue::abandon`]) when dropped
/// before [`Turn::done`] (a panic, or a runtime shutting down mid-call).
pub(crate) struct Turn {
    queue: Arc<Queue>,
    done: bool,
}

impl Turn {
    pub fn new(queue: Arc<Queue>) -> Self {
        Turn { queue, done: false }
    }

    /// The turn was given up normally ([`Queue::next`] returned `None`).
    pub fn done(mut self) {
        self.done = true;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if !self.done {
            self.queue.abandon();
        }
    }
}

/// Groups a batch into script entries: one per (account, limits), in order of first
/// appearance, each with its requests in queue order.
pub(crate) fn group(batch: Vec<Request>) -> Vec<Entry> {
    // Few distinct (account, limits) per batch is the common case (one hot account):
    // a linear scan then, an index only for larger batches.
    let mut index: HashMap<(Uuid, Limits), usize> = HashMap::new();
    let slots: Vec<usize> = if batch.len() <= LINEAR_GROUPING {
        Vec::new()
    } else {
        batch
            .iter()
            .map(|r| {
                let next = index.len();
                *index.entry((r.account, r.limits)).or_insert(next)
            })
            .collect()
    };
    drop(index);
    let mut entries: Vec<Entry> = Vec::new();
    for (i, request) in batch.into_iter().enumerate() {
        let slot = match slots.get(i) {
            Some(&slot) => entries.get_mut(slot),
            None => entries.iter_mut().find(|e| e.limits == request.limits && e.account == request.account),
        };
        match slot {
            Some(entry) => {
                entry.seed = entry.seed.or(request.seed);
                entry.replies.push(request.reply);
            }
            // Slots are numbered in order of first appearance.
            None => entries.push(Entry {
                account: request.account,
                limits: request.limits,
                seed: request.seed,
                replies: vec![request.reply],
            }),
        }
    }
    entries
}

/// A future run in place that, if dropped before it finishes (its caller timed out
/// or went away), is spawned to finish on its own: a script call carrying other
/// callers' checks must not be abandoned halfway.
pub(crate) struct Detached {
    future: Option<Pin<Box<dyn Future<Output = ()> + Send + 'static>>>,
}

impl Detached {
    pub fn new(future: impl Future<Output = ()> + Send + 'static) -> Self {
        Detached { future: Some(Box::pin(future)) }
    }
}

impl Future for Detached {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(future) = self.future.as_mut() else { return Poll::Ready(()) };
        let poll = future.as_mut().poll(cx);
        if poll.is_ready() {
            self.future = None;
        }
        poll
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let (Some(future), Ok(runtime)) = (self.future.take(), tokio::runtime::Handle::try_current()) {
            // Without a runtime the future is dropped, and its `Turn` hands the turn back.
            drop(runtime.spawn(future));
        }
    }
}

/// An error for every caller of a failed call: the first gets the original, the
/// others a copy (a `RedisError` cannot be cloned; kind and text are kept).
pub(crate) fn copy_error(error: &LimitError) -> LimitError {
    match error {
        LimitError::InvalidUrl => LimitError::InvalidUrl,
        LimitError::Redis(e) => {
            LimitError::Redis(redis::RedisError::from((e.kind(), "batched call failed", e.to_string())))
        }
        LimitError::Timeout(limit) => LimitError::Timeout(*limit),
        LimitError::Unavailable => LimitError::Unavailable,
        LimitError::CatchingUp => LimitError::CatchingUp,
        LimitError::UsageUnavailable => LimitError::UsageUnavailable,
        LimitError::UnexpectedReply(text) => LimitError::UnexpectedReply(text.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check of account number `account`.
    fn request(account: u128, per_minute: u64) -> (Request, oneshot::Receiver<Result<Checked, LimitError>>) {
        let (reply, rx) = oneshot::channel();
        let limits = Limits { per_minute, daily: 10, monthly: 10 };
        (Request { account: Uuid::from_u128(account), limits, seed: None, reply }, rx)
    }

    #[test]
    fn the_first_check_leads_and_the_others_queue_until_the_turn_ends() {
        let queue = Queue::default();
        let (first, _rx) = request(1, 1);
        assert_eq!(queue.push(first).map(|b| b.len()), Some(1));
        let mut receivers = Vec::new();
        for i in 0..300 {
            let (r, rx) = request(1 + i % 2, 1);
            assert!(queue.push(r).is_none());
            receivers.push(rx);
        }
        receivers[5].close(); // this caller went away
        assert_eq!(queue.next().map(|b| b.len()), Some(MAX_BATCH));
        assert_eq!(queue.next().map(|b| b.len()), Some(300 - MAX_BATCH - 1));
        assert!(queue.next().is_none());
        let (again, _rx) = request(1, 1);
        assert!(queue.push(again).is_some(), "the turn was given up");
    }

    #[test]
    fn a_dropped_turn_fails_the_waiting_checks_and_frees_the_queue() {
        let queue = Arc::new(Queue::default());
        let (first, _rx) = request(1, 1);
        let _batch = queue.push(first).unwrap();
        let turn = Turn::new(Arc::clone(&queue));
        let (waiting, mut rx) = request(1, 1);
        assert!(queue.push(waiting).is_none());
        drop(turn);
        assert!(matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed)));
        let (next, _rx) = request(1, 1);
        assert!(queue.push(next).is_some());
    }

    #[test]
    fn entries_group_by_account_and_limits_in_order_of_first_appearance() {
        let batch: Vec<Request> = [(1, 1), (2, 1), (1, 1), (1, 2), (2, 1), (1, 1)].map(|(a, l)| request(a, l).0).into();
        let entries = group(batch);
        let shape: Vec<(u128, u64, usize)> =
            entries.iter().map(|e| (e.account.as_u128(), e.limits.per_minute, e.replies.len())).collect();
        assert_eq!(shape, [(1, 1, 3), (2, 1, 2), (1, 2, 1)]);

        // An entry carries the first seed among its requests.
        let seed = |day_count| Seed { date: (2026, 11, 24), day_count, month_count: day_count };
        let batch: Vec<Request> =
            [None, Some(seed(1)), Some(seed(2))].map(|s| Request { seed: s, ..request(1, 1).0 }).into();
        assert_eq!(group(batch)[0].seed, Some(seed(1)));

        // Larger batches (indexed): the same grouping.
        let batch: Vec<Request> = (0..100).map(|i| request(1 + (i % 3) as u128, 1 + (i % 2) as u64).0).collect();
        let shape: Vec<(u128, u64, usize)> =
            group(batch).into_iter().map(|e| (e.account.as_u128(), e.limits.per_minute, e.replies.len())).collect();
        assert_eq!(shape, [(1, 1, 17), (2, 2, 17), (3, 1, 17), (1, 2, 17), (2, 1, 16), (3, 2, 16)]);
    }
}
