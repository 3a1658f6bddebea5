//! A [`Store`] in Redis, shared by every receiver instance that points at the same server.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError, Script};

use super::store::{Begin, RecordId, Store, StoreError, StoreFuture, Token};
use crate::ConfigError;

/// Claims `KEYS[1]` (the record) with `ARGV[1]` (the owner's in-flight value) for
/// `ARGV[2]` ms if it is absent, and notes the body digest `ARGV[3]` in `KEYS[2]` (the key's
/// marker) to tell whether another body was seen under the same key.
const BEGIN: &str = r"
local held = redis.call('GET', KEYS[1])
if held == 'c' then return 'completed' end
if held then return 'in_flight' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local seen = redis.call('GET', KEYS[2])
if seen and seen ~= ARGV[3] then return 'other_body' end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 'acquired'
";

/// Marks `KEYS[1]` completed for `ARGV[2]` ms if `ARGV[1]` (the owner's in-flight value)
/// still holds it, or nobody does; keeps the key's marker `KEYS[2]` as long, if it names
/// this body (`ARGV[3]`) or nothing.
const COMPLETE: &str = r"
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], 'c', 'PX', ARGV[2])
  local seen = redis.call('GET', KEYS[2])
  if seen == false or seen == ARGV[3] then
    redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
  end
  return 1
end
return 0
";

/// Deletes `KEYS[1]` if `ARGV[1]` (the owner's in-flight value) still holds it. The marker
/// is left to expire with the lease it was set for.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// After a failed connection attempt, calls fail at once for this long instead of each
/// waiting for a connect of its own.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(100);

/// Longest expiry sent to Redis (it refuses expiries that overflow its clock).
const MAX_EXPIRY_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

/// A [`Store`] in Redis: several receiver instances sharing one server see one set of keys.
///
/// Each record (namespace, key, body digest) is one Redis string with an expiry,
/// `<prefix>{<namespace>:<key>}#<digest hex>`: `i:<token>` while in flight (expiring with
/// the lease), `c` once completed (expiring with the TTL). Beside it,
/// `<prefix>{<namespace>:<key>}` holds the digest of the body last claimed under that key,
/// so a claim for another body is reported (and logged) as a reused key. Claiming,
/// completing and releasing are Lua scripts that compare the owner's token and change the
/// record in one step, so an owner whose lease ran out cannot overwrite the next owner's
/// claim. The `{...}` hash tag keeps a record and its marker in one Redis Cluster slot.
///
/// Redis has no per-namespace capacity of its own: give it memory for the records of
/// every route within their windows. With `maxmemory-policy noeviction` a full Redis
/// refuses writes with `OOM`, which this store reports as
/// [`StoreErrorKind::Full`](super::StoreErrorKind::Full) (the layer answers `503` +
/// `Retry-After`, nothing forgotten); eviction policies other than `volatile-ttl` and
/// `noeviction` may drop a record inside its window, and a replay of that delivery would
/// then be handled again.
///
/// # Connections and outages
///
/// One multiplexed connection is shared by all clones and all requests. It is opened on
/// first use, and dropped and reopened after a connection error, so the store recovers by
/// itself when Redis restarts. Every command has a [`timeout`](Self::timeout) (default 1 s).
/// While Redis is unreachable calls fail with [`StoreError`], which the layer turns into its
/// [`OutagePolicy`](super::OutagePolicy) (by default `503`, so the sender retries).
///
/// Redis should persist its data (AOF or RDB snapshots) if a restart must not forget
/// completed records: a record lost in a restart makes a later duplicate of that event be
/// handled again.
///
/// # Dropped responses
///
/// A response future dropped mid-handler releases its claim with a Redis call that it
/// spawns on the current tokio runtime (the drop cannot wait for I/O); outside a runtime
/// the claim lasts until its lease ends.
///
/// # Example
///
/// ```no_run
/// use ledgerhook::idempotency::{IdempotencyLayer, KeySource, RedisStore};
///
/// let store = RedisStore::open("redis://127.0.0.1:6379/")?;
/// let layer = IdempotencyLayer::new(store)
///     .namespace("railz")
///     .key(KeySource::railz());
/// # let _ = layer;
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub struct RedisStore {
    client: Client,
    prefix: Arc<str>,
    timeout: Duration,
    shared: Arc<Shared>,
}

struct Shared {
    /// The open connection and its generation; `None` after a connection error.
    current: Mutex<Option<(u64, MultiplexedConnection)>>,
    /// Serialises reconnects.
    connecting: tokio::sync::Mutex<Reconnect>,
    begin: Script,
    complete: Script,
    release: Script,
}

#[derive(Default)]
struct Reconnect {
    generation: u64,
    failed_at: Option<Instant>,
}

impl RedisStore {
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &'static str = "ledgerhook:idem:";

    /// The default per-command (and connect) timeout: 1 second.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// A store for the server at `url` (e.g. `redis://127.0.0.1:6379/0`, or `rediss://`
    /// if the redis crate's TLS feature is on). Connects on first use; see
    /// [`ping`](Self::ping) to check at start-up.
    ///
    /// # Errors
    /// [`ConfigError`] if `url` is not a Redis URL.
    pub fn open(url: &str) -> Result<Self, ConfigError> {
        Client::open(url)
            .map(Self::new)
            .map_err(|_| ConfigError::invalid("url", "is not a Redis URL"))
    }

    /// A store using `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self {
            client,
            prefix: Self::DEFAULT_PREFIX.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            shared: Arc::new(Shared {
                current: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(Reconnect::default()),
                begin: Script::new(BEGIN),
                complete: Script::new(COMPLETE),
                release: Script::new(RELEASE),
            }),
        }
    }

    /// Prefix for every Redis key this store writes (default
    /// [`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX)).
    #[must_use]
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().into();
        self
    }

    /// How long to wait for a connection or an answer (default
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)). Applies to connections opened after
    /// this call.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks that Redis answers.
    ///
    /// # Errors
    /// [`StoreError`] if it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|mut conn| async move {
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map(drop)
        })
        .await
    }

    fn cached(&self) -> Option<(u64, MultiplexedConnection)> {
        self.shared
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn connection(&self) -> Result<(u64, MultiplexedConnection), StoreError> {
        if let Some(open) = self.cached() {
            return Ok(open);
        }
        let mut reconnect = self.shared.connecting.lock().await;
        if let Some(open) = self.cached() {
            return Ok(open);
        }
        if reconnect
            .failed_at
            .is_some_and(|at| at.elapsed() < RECONNECT_BACKOFF)
        {
            return Err(StoreError::unavailable(
                "Redis unreachable, retrying shortly",
            ));
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        match self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(conn) => {
                reconnect.generation = reconnect.generation.wrapping_add(1);
                reconnect.failed_at = None;
                let open = (reconnect.generation, conn);
                *self
                    .shared
                    .current
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(open.clone());
                Ok(open)
            }
            Err(err) => {
                reconnect.failed_at = Some(Instant::now());
                Err(StoreError::unavailable(err))
            }
        }
    }

    /// Runs `op` on the shared connection; drops the connection after an error that is
    /// not a plain answer from the server, so the next call reconnects.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let (generation, conn) = self.connection().await?;
        op(conn).await.map_err(|err| {
            if !matches!(err.kind(), ErrorKind::Server(_)) {
                let mut current = self
                    .shared
                    .current
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if current.as_ref().is_some_and(|(g, _)| *g == generation) {
                    *current = None;
                }
            }
            if err.code() == Some("OOM") {
                // `maxmemory` reached with `noeviction`: full, not down.
                return StoreError::full(None);
            }
            StoreError::unavailable(err)
        })
    }

    /// The record's Redis key and its key marker's.
    fn redis_keys(&self, record: &RecordId) -> (String, String) {
        let marker = format!("{}{{{}:{}}}", self.prefix, record.namespace(), record.key());
        let record = format!("{marker}#{}", record.digest_hex());
        (record, marker)
    }
}

/// The in-flight value of `token`'s claim.
fn in_flight(token: Token) -> String {
    format!("i:{token}")
}

/// Milliseconds for `PX`: at least 1, at most [`MAX_EXPIRY_MS`].
fn expiry_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_EXPIRY_MS)
}

impl Store for RedisStore {
    fn try_begin<'a>(&'a self, record: &'a RecordId, lease: Duration) -> StoreFuture<'a, Begin> {
        Box::pin(async move {
            let (key, marker) = self.redis_keys(record);
            let token = Token::generate();
            self.run(|mut conn| async move {
                let answer: String = self
                    .shared
                    .begin
                    .key(&key)
                    .key(&marker)
                    .arg(in_flight(token))
                    .arg(expiry_ms(lease))
                    .arg(record.digest_hex())
                    .invoke_async(&mut conn)
                    .await?;
                Ok(match answer.as_str() {
                    "acquired" => Begin::acquired(token),
                    "other_body" => Begin::Acquired {
                        token,
                        other_body: true,
                    },
                    COMPLETED_ANSWER => Begin::Completed,
                    _ => Begin::InFlight,
                })
            })
            .await
        })
    }

    fn complete<'a>(
        &'a self,
        record: &'a RecordId,
        token: Token,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let (key, marker) = self.redis_keys(record);
            self.run(|mut conn| async move {
                let changed: i64 = self
                    .shared
                    .complete
                    .key(&key)
                    .key(&marker)
                    .arg(in_flight(token))
                    .arg(expiry_ms(ttl))
                    .arg(record.digest_hex())
                    .invoke_async(&mut conn)
                    .await?;
                Ok(changed == 1)
            })
            .await
        })
    }

    fn release<'a>(&'a self, record: &'a RecordId, token: Token) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let (key, _) = self.redis_keys(record);
            self.run(|mut conn| async move {
                let changed: i64 = self
                    .shared
                    .release
                    .key(&key)
                    .arg(in_flight(token))
                    .invoke_async(&mut conn)
                    .await?;
                Ok(changed == 1)
            })
            .await
        })
    }
}

/// The claim script's answer for a completed record.
const COMPLETED_ANSWER: &str = "completed";

/// Shows the prefix and timeout only: the client's URL may hold a password.
impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn expiries_are_clamped() {
        assert_eq!(expiry_ms(Duration::ZERO), 1);
        assert_eq!(expiry_ms(Duration::from_micros(1500)), 1);
        assert_eq!(expiry_ms(Duration::from_secs(2)), 2000);
        assert_eq!(expiry_ms(Duration::MAX), MAX_EXPIRY_MS);
    }

    #[test]
    fn open_checks_the_url_and_debug_hides_it() {
        assert!(RedisStore::open("not a url").is_err());
        let store = RedisStore::open("redis://:hunter2@127.0.0.1:1/").unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("ledgerhook:idem:"), "{shown}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_store_error_not_a_hang() {
        // Port 1 on loopback: nothing listens there, the connect is refused at once.
        let store = RedisStore::open("redis://127.0.0.1:1/")
            .unwrap()
            .timeout(Duration::from_millis(500));
        let err = store
            .try_begin(&RecordId::new("ns", "k", b"body"), Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), super::super::StoreErrorKind::Unavailable);
        // Within the backoff the next call fails without a new connection attempt.
        let err = store.ping().await.unwrap_err();
        assert!(
            err.source()
                .is_some_and(|e| e.to_string().contains("retrying"))
        );
    }
}
