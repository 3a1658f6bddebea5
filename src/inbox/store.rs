//! The storage contract behind the inbox: append, consume, settle, replay.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::envelope::{Appended, Envelope, EnvelopeId, NewEnvelope};

/// The boxed future every [`InboxStore`] method returns.
///
/// Boxed so that `InboxStore` stays object safe: the service and the worker hold an
/// `Arc<dyn InboxStore>`, and the store is chosen at run time (memory or Redis).
pub type InboxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, InboxError>> + Send + 'a>>;

/// A durable queue of verified deliveries, consumed by a group of workers.
///
/// An envelope is in one of these states:
///
/// | state | enters by | leaves by |
/// |---|---|---|
/// | **ready** | [`append`](Self::append), [`release`](Self::release), a due retry, [`requeue`](Self::requeue) | [`read`](Self::read) |
/// | **pending** (held by one consumer; [`extend`](Self::extend) keeps it) | `read`, [`reclaim`](Self::reclaim) | [`ack`](Self::ack) (gone), [`retry_later`](Self::retry_later), [`dead_letter`](Self::dead_letter), `release`, `reclaim` by another consumer |
/// | **scheduled** (retry not before a time) | `retry_later` | becomes ready when due |
/// | **dead** | `dead_letter` | `requeue`, [`trim_dead_letters`](Self::trim_dead_letters) |
///
/// Every method is one atomic step against the store, including for other processes
/// sharing it. `retry_later`, `dead_letter` and `release` only act for the consumer that
/// holds the envelope (they return `false` otherwise, e.g. after another worker reclaimed
/// it), so a slow worker cannot settle an envelope twice. `ack` acts for anyone: the work
/// is done.
///
/// Durations are relative and measured by the store's own clock (Redis: the server's
/// `TIME`), so workers on machines with skewed clocks agree.
///
/// # A Postgres implementation
///
/// The contract is meant to fit a table `inbox(id bigserial, state, consumer,
/// claimed_at, not_before, attempts, deliveries, last_error, envelope columns…)` plus a
/// unique index `(dedup_key, body_sha256)`; `docs/INBOX.md` maps every method to SQL.
/// In short: `append` is `INSERT … ON CONFLICT DO NOTHING RETURNING id` (or the existing
/// id), `read` is `UPDATE … WHERE id IN (SELECT id … WHERE state = 'ready' AND
/// not_before <= now() ORDER BY id LIMIT $n FOR UPDATE SKIP LOCKED) RETURNING *`,
/// `reclaim` the same over `state = 'pending' AND claimed_at < now() - $idle`, and
/// `ack` / `retry_later` / `dead_letter` / `release` are single `UPDATE`s or a `DELETE`
/// guarded by `consumer = $me`.
pub trait InboxStore: Send + Sync + 'static {
    /// Appends `envelope`, unless it is a duplicate.
    ///
    /// With a [`dedup_key`](NewEnvelope::dedup_key), claiming the key and storing the
    /// envelope are one atomic step: a second append with the same key **and** the same
    /// body (SHA-256) within the store's dedup TTL returns [`Appended::Duplicate`] and
    /// stores nothing; the same key with a different body is a different delivery and is
    /// stored. Without a key every append is stored.
    ///
    /// # Errors
    /// [`InboxErrorKind::Unavailable`] when the store cannot answer (nothing or the whole
    /// envelope was stored: never a claimed key without its envelope),
    /// [`InboxErrorKind::Full`] when the store holds its maximum depth.
    fn append<'a>(&'a self, envelope: &'a NewEnvelope) -> InboxFuture<'a, Appended>;

    /// Hands up to `max` ready envelopes to `consumer`, oldest first; they are pending
    /// for it until settled or reclaimed. Due retries become ready first.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn read<'a>(&'a self, consumer: &'a str, max: usize) -> InboxFuture<'a, Vec<Envelope>>;

    /// Takes over up to `max` envelopes that other consumers (or this one, before a
    /// restart) have held for at least `min_idle`: their holder crashed or hung. Their
    /// [`deliveries`](Envelope::deliveries) count goes up.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn reclaim<'a>(
        &'a self,
        consumer: &'a str,
        min_idle: Duration,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>>;

    /// Done: removes the pending envelope. Returns `false` if it was not pending (already
    /// settled).
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn ack<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool>;

    /// A failed run: counts one attempt, records `error`, and schedules the envelope to
    /// be ready again after `delay`. Returns `false` if `consumer` no longer holds it.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn retry_later<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        delay: Duration,
        error: &'a str,
    ) -> InboxFuture<'a, bool>;

    /// A final failure: counts one attempt, records `error`, and moves the envelope to
    /// the dead letters. Returns `false` if `consumer` no longer holds it.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn dead_letter<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        error: &'a str,
    ) -> InboxFuture<'a, bool>;

    /// Still working on it: restarts the envelope's idle time so that
    /// [`reclaim`](Self::reclaim) leaves it alone (a worker calls it while a long handler
    /// runs). Returns `false` if `consumer` no longer holds it.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn extend<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool>;

    /// Hands a pending envelope back unprocessed (graceful shutdown): ready again at
    /// once, attempts unchanged. Returns `false` if `consumer` no longer holds it.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn release<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool>;

    /// Up to `max` dead letters, oldest first, starting after `after` (exclusive) when
    /// given: page with the last id of the previous page.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn dead_letters<'a>(
        &'a self,
        after: Option<&'a EnvelopeId>,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>>;

    /// One dead letter by id, if it is there.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn dead_letter_by_id<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<Envelope>>;

    /// Moves a dead letter back to ready with its attempts reset; returns its new id, or
    /// `None` if there is no such dead letter.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn requeue<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<EnvelopeId>>;

    /// Depths and ages, for health checks and metrics.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn stats(&self) -> InboxFuture<'_, InboxStats>;

    /// Deletes dead letters beyond the store's [`Retention`]; returns how many.
    ///
    /// # Errors
    /// [`InboxError`] when the store cannot answer.
    fn trim_dead_letters(&self) -> InboxFuture<'_, u64>;
}

/// A shared store is a store.
impl<T: InboxStore + ?Sized> InboxStore for Arc<T> {
    fn append<'a>(&'a self, envelope: &'a NewEnvelope) -> InboxFuture<'a, Appended> {
        (**self).append(envelope)
    }
    fn read<'a>(&'a self, consumer: &'a str, max: usize) -> InboxFuture<'a, Vec<Envelope>> {
        (**self).read(consumer, max)
    }
    fn reclaim<'a>(
        &'a self,
        consumer: &'a str,
        min_idle: Duration,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>> {
        (**self).reclaim(consumer, min_idle, max)
    }
    fn ack<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        (**self).ack(consumer, id)
    }
    fn retry_later<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        delay: Duration,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        (**self).retry_later(consumer, id, delay, error)
    }
    fn dead_letter<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        (**self).dead_letter(consumer, id, error)
    }
    fn extend<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        (**self).extend(consumer, id)
    }
    fn release<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        (**self).release(consumer, id)
    }
    fn dead_letters<'a>(
        &'a self,
        after: Option<&'a EnvelopeId>,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>> {
        (**self).dead_letters(after, max)
    }
    fn dead_letter_by_id<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<Envelope>> {
        (**self).dead_letter_by_id(id)
    }
    fn requeue<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<EnvelopeId>> {
        (**self).requeue(id)
    }
    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        (**self).stats()
    }
    fn trim_dead_letters(&self) -> InboxFuture<'_, u64> {
        (**self).trim_dead_letters()
    }
}

/// Depths and ages of an inbox ([`InboxStore::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxStats {
    /// Envelopes ready or pending (appended, not yet settled), excluding scheduled retries.
    pub depth: u64,
    /// Of those, held by a consumer right now.
    pub pending: u64,
    /// Envelopes waiting for their retry time.
    pub scheduled_retries: u64,
    /// Envelopes in the dead letters.
    pub dead_letters: u64,
    /// How long the oldest ready or pending envelope has been queued (since it was
    /// appended, or last retried, handed back or requeued); `None` when empty.
    pub oldest_age: Option<Duration>,
}

/// How long a store keeps what it keeps.
///
/// Live work (ready, pending, scheduled) is never trimmed: an envelope leaves only when
/// it is settled. What is bounded instead:
///
/// - the **depth**: past [`max_depth`](Self::max_depth) an append fails with
///   [`InboxErrorKind::Full`] (the service answers `503` + `Retry-After`, the provider
///   retries later) rather than dropping anything;
/// - **dedup records** expire after [`dedup_ttl`](Self::dedup_ttl);
/// - **dead letters** are trimmed to [`dead_letter_max_len`](Self::dead_letter_max_len)
///   entries (Redis `XADD … MAXLEN ~`, on every dead-lettering) and, by
///   [`InboxStore::trim_dead_letters`], to [`dead_letter_max_age`](Self::dead_letter_max_age)
///   (Redis `XTRIM … MINID ~`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retention {
    /// How long a dedup key is remembered (default 72 h: beyond both providers' retry
    /// schedules).
    pub dedup_ttl: Duration,
    /// Most envelopes live at once (ready + pending + scheduled); `None`: unbounded
    /// (default 1,000,000).
    pub max_depth: Option<u64>,
    /// Most dead letters kept (default 100,000); `None`: unbounded.
    pub dead_letter_max_len: Option<u64>,
    /// Oldest dead letter kept by `trim_dead_letters` (default 14 days); `None`: forever.
    pub dead_letter_max_age: Option<Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            dedup_ttl: Duration::from_secs(72 * 3600),
            max_depth: Some(1_000_000),
            dead_letter_max_len: Some(100_000),
            dead_letter_max_age: Some(Duration::from_secs(14 * 24 * 3600)),
        }
    }
}

impl Retention {
    /// Sets [`dedup_ttl`](Self::dedup_ttl).
    #[must_use]
    pub const fn dedup_ttl(mut self, ttl: Duration) -> Self {
        self.dedup_ttl = ttl;
        self
    }

    /// Sets [`max_depth`](Self::max_depth).
    #[must_use]
    pub const fn max_depth(mut self, max: Option<u64>) -> Self {
        self.max_depth = max;
        self
    }

    /// Sets [`dead_letter_max_len`](Self::dead_letter_max_len).
    #[must_use]
    pub const fn dead_letter_max_len(mut self, max: Option<u64>) -> Self {
        self.dead_letter_max_len = max;
        self
    }

    /// Sets [`dead_letter_max_age`](Self::dead_letter_max_age).
    #[must_use]
    pub const fn dead_letter_max_age(mut self, max: Option<Duration>) -> Self {
        self.dead_letter_max_age = max;
        self
    }
}

/// An inbox store could not do what was asked.
#[derive(Debug)]
pub struct InboxError {
    kind: InboxErrorKind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// Why an [`InboxStore`] call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboxErrorKind {
    /// The store is unreachable, timed out or answered with an error.
    Unavailable,
    /// The store holds [`Retention::max_depth`] envelopes.
    Full,
    /// A stored entry could not be decoded (written by something else?).
    Corrupt,
}

impl InboxErrorKind {
    /// A stable machine-readable code: `store_unavailable`, `store_full`, `store_corrupt`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Unavailable => "store_unavailable",
            Self::Full => "store_full",
            Self::Corrupt => "store_corrupt",
        }
    }
}

impl InboxError {
    /// An error of `kind` without an underlying cause.
    #[must_use]
    pub const fn new(kind: InboxErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// An error of `kind` caused by `source` (e.g. a client error).
    #[must_use]
    pub fn with_source(
        kind: InboxErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// Why the call failed.
    #[must_use]
    pub const fn kind(&self) -> InboxErrorKind {
        self.kind
    }
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            InboxErrorKind::Unavailable => f.write_str("inbox store unavailable"),
            InboxErrorKind::Full => f.write_str("inbox store full"),
            InboxErrorKind::Corrupt => f.write_str("inbox store entry could not be decoded"),
        }
    }
}

impl StdError for InboxError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
