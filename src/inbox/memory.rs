//! An [`InboxStore`] in this process's memory: zero setup, for development and tests.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::envelope::{Appended, Envelope, EnvelopeId, NewEnvelope};
use super::store::{InboxError, InboxErrorKind, InboxFuture, InboxStats, InboxStore, Retention};

/// An [`InboxStore`] in memory, shared by its clones.
///
/// Nothing survives the process: use it for development and tests, and
/// [`RedisInbox`](super::RedisInbox) (feature `inbox-redis`) where a `2xx` must mean
/// "stored". Time is tokio's clock ([`tokio::time::Instant`]), so a test with
/// `#[tokio::test(start_paused = true)]` moves visibility timeouts, retry delays and
/// dedup TTLs with `tokio::time::advance`, without sleeping.
///
/// ```
/// use bytes::Bytes;
/// use ledgerhook::inbox::{Appended, InboxStore, MemoryInbox, NewEnvelope};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), ledgerhook::inbox::InboxError> {
/// let inbox = MemoryInbox::new();
/// let delivery = NewEnvelope::new("railz", Bytes::from_static(b"{}")).dedup_key("id:1");
/// assert!(matches!(inbox.append(&delivery).await?, Appended::Stored(_)));
/// assert!(matches!(inbox.append(&delivery).await?, Appended::Duplicate(_)));
///
/// let [envelope] = inbox.read("worker-1", 10).await?.try_into().unwrap();
/// assert!(inbox.ack("worker-1", &envelope.id).await?);
/// assert_eq!(inbox.stats().await?.depth, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryInbox {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    retention: Retention,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next: u64,
    ready: BTreeMap<u64, Entry>,
    pending: BTreeMap<u64, (Entry, Held)>,
    scheduled: BTreeMap<(Instant, u64), Entry>,
    dead: BTreeMap<u64, (Entry, Instant)>,
    dedup: HashMap<(String, [u8; 32]), (EnvelopeId, Instant)>,
    dedup_pruned_at_len: usize,
}

#[derive(Clone)]
struct Entry {
    envelope: NewEnvelope,
    attempts: u32,
    last_error: Option<String>,
    queued_at: Instant,
}

struct Held {
    consumer: String,
    since: Instant,
    deliveries: u32,
}

impl MemoryInbox {
    /// An empty inbox with the default [`Retention`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty inbox with `retention`.
    #[must_use]
    pub fn with_retention(retention: Retention) -> Self {
        Self {
            inner: Arc::new(Inner {
                retention,
                state: Mutex::default(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// `now + d`, saturating at a time no test or deployment reaches (durations are user
/// input: `Duration::MAX` must not panic).
fn later(now: Instant, d: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(d.min(FAR)).unwrap_or(now)
}

fn id_of(seq: u64) -> EnvelopeId {
    EnvelopeId::new(seq.to_string())
}

fn seq_of(id: &EnvelopeId) -> Option<u64> {
    id.as_str().parse().ok()
}

fn view(seq: u64, entry: &Entry, deliveries: u32) -> Envelope {
    let e = &entry.envelope;
    Envelope {
        id: id_of(seq),
        provider: e.provider.clone(),
        tag: e.tag.clone(),
        dedup_key: e.dedup_key.clone(),
        received_at: e.received_at,
        body: e.body.clone(),
        headers: e.headers.clone(),
        attempts: entry.attempts,
        deliveries,
        last_error: entry.last_error.clone(),
    }
}

impl State {
    fn seq(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn depth(&self) -> usize {
        self.ready.len() + self.pending.len() + self.scheduled.len()
    }

    /// Due retries become ready, in due order.
    fn promote(&mut self, now: Instant) {
        while let Some(entry) = self.scheduled.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let mut entry = entry.remove();
            entry.queued_at = now;
            let seq = self.seq();
            self.ready.insert(seq, entry);
        }
    }

    /// Takes `seq` out of the pending set if `consumer` holds it.
    fn take_held(&mut self, consumer: &str, seq: u64) -> Option<Entry> {
        match self.pending.get(&seq) {
            Some((_, held)) if held.consumer == consumer => {
                self.pending.remove(&seq).map(|(entry, _)| entry)
            }
            _ => None,
        }
    }

    fn prune_dedup(&mut self, now: Instant) {
        if self.dedup.len() > 2 * self.dedup_pruned_at_len.max(512) {
            self.dedup.retain(|_, (_, expires)| *expires > now);
            self.dedup_pruned_at_len = self.dedup.len();
        }
    }
}

impl InboxStore for MemoryInbox {
    fn append<'a>(&'a self, envelope: &'a NewEnvelope) -> InboxFuture<'a, Appended> {
        Box::pin(async move {
            let now = Instant::now();
            let retention = self.inner.retention;
            let mut state = self.state();
            let dedup = envelope.dedup_key.as_ref().map(|key| {
                (
                    key.clone(),
                    <[u8; 32]>::from(Sha256::digest(&envelope.body)),
                )
            });
            if let Some((id, expires)) = dedup.as_ref().and_then(|d| state.dedup.get(d))
                && *expires > now
            {
                return Ok(Appended::Duplicate(id.clone()));
            }
            if retention
                .max_depth
                .is_some_and(|max| state.depth() as u64 >= max)
            {
                return Err(InboxError::new(InboxErrorKind::Full));
            }
            let seq = state.seq();
            state.ready.insert(
                seq,
                Entry {
                    envelope: envelope.clone(),
                    attempts: 0,
                    last_error: None,
                    queued_at: now,
                },
            );
            if let Some(dedup) = dedup {
                let expires = later(now, retention.dedup_ttl);
                state.dedup.insert(dedup, (id_of(seq), expires));
                state.prune_dedup(now);
            }
            Ok(Appended::Stored(id_of(seq)))
        })
    }

    fn read<'a>(&'a self, consumer: &'a str, max: usize) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            state.promote(now);
            let mut out = Vec::new();
            while out.len() < max {
                let Some((seq, entry)) = state.ready.pop_first() else {
                    break;
                };
                out.push(view(seq, &entry, 1));
                let held = Held {
                    consumer: consumer.to_owned(),
                    since: now,
                    deliveries: 1,
                };
                state.pending.insert(seq, (entry, held));
            }
            Ok(out)
        })
    }

    fn reclaim<'a>(
        &'a self,
        consumer: &'a str,
        min_idle: Duration,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            let mut out = Vec::new();
            for (seq, (entry, held)) in &mut state.pending {
                if out.len() >= max {
                    break;
                }
                if now.saturating_duration_since(held.since) >= min_idle {
                    held.consumer = consumer.to_owned();
                    held.since = now;
                    held.deliveries = held.deliveries.saturating_add(1);
                    out.push(view(*seq, entry, held.deliveries));
                }
            }
            Ok(out)
        })
    }

    fn ack<'a>(&'a self, _consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move {
            let Some(seq) = seq_of(id) else {
                return Ok(false);
            };
            Ok(self.state().pending.remove(&seq).is_some())
        })
    }

    fn retry_later<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        delay: Duration,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            let Some(mut entry) = seq_of(id).and_then(|seq| state.take_held(consumer, seq)) else {
                return Ok(false);
            };
            entry.attempts = entry.attempts.saturating_add(1);
            entry.last_error = Some(error.to_owned());
            let seq = state.seq();
            let due = later(now, delay);
            state.scheduled.insert((due, seq), entry);
            Ok(true)
        })
    }

    fn dead_letter<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            let Some(mut entry) = seq_of(id).and_then(|seq| state.take_held(consumer, seq)) else {
                return Ok(false);
            };
            entry.attempts = entry.attempts.saturating_add(1);
            entry.last_error = Some(error.to_owned());
            let seq = state.seq();
            state.dead.insert(seq, (entry, now));
            if let Some(max) = self.inner.retention.dead_letter_max_len {
                while state.dead.len() as u64 > max {
                    state.dead.pop_first();
                }
            }
            Ok(true)
        })
    }

    fn extend<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            match seq_of(id).and_then(|seq| state.pending.get_mut(&seq)) {
                Some((_, held)) if held.consumer == consumer => {
                    held.since = now;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }

    fn release<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            let Some(mut entry) = seq_of(id).and_then(|seq| state.take_held(consumer, seq)) else {
                return Ok(false);
            };
            entry.queued_at = now;
            let seq = state.seq();
            state.ready.insert(seq, entry);
            Ok(true)
        })
    }

    fn dead_letters<'a>(
        &'a self,
        after: Option<&'a EnvelopeId>,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move {
            let start = after.and_then(seq_of).map_or(0, |s| s.saturating_add(1));
            let state = self.state();
            Ok(state
                .dead
                .range(start..)
                .take(max)
                .map(|(seq, (entry, _))| view(*seq, entry, 0))
                .collect())
        })
    }

    fn dead_letter_by_id<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<Envelope>> {
        Box::pin(async move {
            let state = self.state();
            Ok(seq_of(id).and_then(|seq| state.dead.get(&seq).map(|(e, _)| view(seq, e, 0))))
        })
    }

    fn requeue<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<EnvelopeId>> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            let Some((mut entry, _)) = seq_of(id).and_then(|seq| state.dead.remove(&seq)) else {
                return Ok(None);
            };
            entry.attempts = 0;
            entry.queued_at = now;
            let seq = state.seq();
            state.ready.insert(seq, entry);
            Ok(Some(id_of(seq)))
        })
    }

    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        Box::pin(async move {
            let now = Instant::now();
            let mut state = self.state();
            state.promote(now);
            let oldest = state
                .ready
                .values()
                .chain(state.pending.values().map(|(e, _)| e))
                .map(|e| e.queued_at)
                .min();
            Ok(InboxStats {
                depth: (state.ready.len() + state.pending.len()) as u64,
                pending: state.pending.len() as u64,
                scheduled_retries: state.scheduled.len() as u64,
                dead_letters: state.dead.len() as u64,
                oldest_age: oldest.map(|at| now.saturating_duration_since(at)),
            })
        })
    }

    fn trim_dead_letters(&self) -> InboxFuture<'_, u64> {
        Box::pin(async move {
            let now = Instant::now();
            let retention = self.inner.retention;
            let mut state = self.state();
            let before = state.dead.len();
            if let Some(age) = retention.dead_letter_max_age {
                state
                    .dead
                    .retain(|_, (_, at)| now.saturating_duration_since(*at) < age);
            }
            if let Some(max) = retention.dead_letter_max_len {
                while state.dead.len() as u64 > max {
                    state.dead.pop_first();
                }
            }
            Ok((before - state.dead.len()) as u64)
        })
    }
}

impl fmt::Debug for MemoryInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("MemoryInbox")
            .field("ready", &state.ready.len())
            .field("pending", &state.pending.len())
            .field("scheduled", &state.scheduled.len())
            .field("dead", &state.dead.len())
            .finish_non_exhaustive()
    }
}
