//! Group commit for creates. SQLite runs one write transaction at a time, and each has a fixed
//! cost (a hop to the connection's worker thread per statement, WAL frames for every page it
//! touched, a new segment in both FTS5 indexes), so creates that arrive while another is being
//! written wait here and go out together. The first one starts a writer task, which takes the
//! store's write queue and writes every waiting create in one `BEGIN IMMEDIATE` transaction
//! (`crud::insert_group`: quotas decided in arrival order, each against what the creates before
//! it added; a refused create skipped; the rest in one multi-row `INSERT`; a conflicting id
//! makes it redo the group one savepoint per create, so only that create fails), and repeats
//! until nothing waits. The writer is a spawned task, so a caller that goes away (client gone,
//! request timeout) cannot leave the queue without one; a create whose caller is gone before
//! its group starts is not written, as when it waited on the write queue.

use crate::SqliteStore;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;
use wm_domain::ids::UserId;
use wm_domain::memory::Memory;
use wm_store::{Quota, StoreError, StoreResult};

/// A group takes no more creates once it holds this many memories (a batch of 100 goes alone).
const GROUP_MEMORIES: usize = 100;

/// One create waiting for its group.
pub(crate) struct Create {
    pub owner: UserId,
    pub memories: Vec<Memory>,
    pub quota: Option<Quota>,
    pub reply: oneshot::Sender<StoreResult<()>>,
}

/// The creates waiting for the writer, and whether one is running.
#[derive(Default)]
pub(crate) struct Creates {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    writing: bool,
    waiting: VecDeque<Create>,
}

impl std::fmt::Debug for Creates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Creates").field("writing", &state.writing).field("waiting", &state.waiting.len()).finish()
    }
}

impl Creates {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `create`; true when no writer is running, so the caller must start one.
    fn push(&self, create: Create) -> bool {
        let mut state = self.lock();
        state.waiting.push_back(create);
        !std::mem::replace(&mut state.writing, true)
    }

    /// The next group, in arrival order, of creates whose callers still wait; `None` when
    /// nothing waits, and the writer stops.
    fn next_group(&self) -> Option<Vec<Create>> {
        let mut state = self.lock();
        let (mut group, mut memories) = (Vec::new(), 0);
        while memories < GROUP_MEMORIES {
            let Some(create) = state.waiting.pop_front() else { break };
            if create.reply.is_closed() {
                continue;
            }
            if !group.is_empty() && memories + create.memories.len() > GROUP_MEMORIES {
                state.waiting.push_front(create);
                break;
            }
            memories += create.memories.len();
            group.push(create);
        }
        if group.is_empty() {
            state.writing = false;
            return None;
        }
        Some(group)
    }

    /// Stops the writer after a panic: the creates still waiting are answered `Unavailable`
    /// (their replies are dropped) and the next create starts a new writer.
    fn abandon(&self) {
        let waiting = {
            let mut state = self.lock();
            state.writing = false;
            std::mem::take(&mut state.waiting)
        };
        drop(waiting);
    }
}

/// Resets the queue if the writer task ends without emptying it (a panic).
struct Writing<'a>(&'a Creates, bool);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.abandon();
        }
    }
}

impl SqliteStore {
    /// Writes `memories` (all or none) in the next group commit; see the module docs.
    pub(super) async fn create(&self, owner: UserId, memories: &[Memory], quota: Option<Quota>) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        let create = Create { owner, memories: memories.to_vec(), quota, reply };
        if self.creates.push(create) {
            let store = self.clone();
            tokio::spawn(async move { store.write_creates().await });
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the create's writer stopped".into())))
    }

    async fn write_creates(&self) {
        let mut writing = Writing(&self.creates, false);
        while let Some(group) = self.creates.next_group() {
            let _w = self.write_lock().await;
            let results = match super::crud::insert_group(&self.pool, &group).await {
                Ok(results) => results,
                Err(e) => group.iter().map(|_| Err(e.clone())).collect(),
            };
            for (create, result) in group.into_iter().zip(results) {
                // The caller may have gone away meanwhile.
                let _ = create.reply.send(result);
            }
        }
        writing.1 = true;
    }
}
