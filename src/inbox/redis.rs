//! An [`InboxStore`] on Redis Streams, for one server or a Redis Cluster.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, Pipeline, RedisError, RedisFuture, Script, Value};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::envelope::{
    Appended, Envelope, EnvelopeId, NewEnvelope, decode_headers, encode_headers,
};
use super::store::{InboxError, InboxErrorKind, InboxFuture, InboxStats, InboxStore, Retention};
use crate::ConfigError;

/// Lua helpers shared by the scripts below.
macro_rules! prelude {
    () => {
        r"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ensure_group(stream, group)
  redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
end
local function holder(stream, group, id)
  local p = redis.pcall('XPENDING', stream, group, id, id, 1)
  if type(p) ~= 'table' or p.err or not p[1] then return nil, nil end
  return p[1][2], p[1][4]
end
local function get_field(f, name)
  for i = 1, #f, 2 do if f[i] == name then return f[i + 1] end end
  return nil
end
local function set_field(f, name, value)
  for i = 1, #f, 2 do
    if f[i] == name then f[i + 1] = value; return end
  end
  f[#f + 1] = name; f[#f + 1] = value
end
"
    };
}

/// KEYS: stream, retries, [dedup]. ARGV: dedup ttl ms, max depth (0: none), fields...
/// The dedup claim and the XADD happen in one script: both or neither.
const APPEND: &str = concat!(
    prelude!(),
    r"
if KEYS[3] then
  local prior = redis.call('GET', KEYS[3])
  if prior then return {'dup', prior} end
end
local max = tonumber(ARGV[2])
if max > 0 and redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= max then
  return {'full'}
end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
if KEYS[3] then redis.call('SET', KEYS[3], id, 'PX', ARGV[1]) end
return {'ok', id}
"
);

/// KEYS: stream, retries. ARGV: group, consumer, count. Due retries are re-added first.
const READ: &str = concat!(
    prelude!(),
    r"
ensure_group(KEYS[1], ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now_ms(), 'LIMIT', 0, 1000)
for _, m in ipairs(due) do
  local t = cmsgpack.unpack(m)
  redis.call('XADD', KEYS[1], '*', unpack(t[2]))
  redis.call('ZREM', KEYS[2], m)
end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not r then return {} end
return r[1][2]
"
);

/// KEYS: stream. ARGV: group, consumer, min idle ms, count. Returns [id, fields, deliveries].
const RECLAIM: &str = concat!(
    prelude!(),
    r"
ensure_group(KEYS[1], ARGV[1])
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local out = {}
for _, e in ipairs(r[2]) do
  if type(e) == 'table' and e[2] then
    local _, n = holder(KEYS[1], ARGV[1], e[1])
    out[#out + 1] = {e[1], e[2], n or 1}
  end
end
return out
"
);

/// KEYS: stream. ARGV: group, id.
const ACK: &str = r"
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if n == 1 then redis.call('XDEL', KEYS[1], ARGV[2]) end
return n
";

/// KEYS: stream, retries, dead. ARGV: group, consumer, id, mode (retry|dead|release),
/// delay ms, error, dead-letter max len (0: none). Only the holder may settle.
const SETTLE: &str = concat!(
    prelude!(),
    r"
local who = holder(KEYS[1], ARGV[1], ARGV[3])
if who ~= ARGV[2] then return 0 end
local e = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if not e[1] then return 0 end
local f = e[1][2]
if ARGV[4] == 'release' then
  redis.call('XADD', KEYS[1], '*', unpack(f))
  return 1
end
set_field(f, 'a', tostring((tonumber(get_field(f, 'a')) or 0) + 1))
set_field(f, 'e', ARGV[6])
if ARGV[4] == 'retry' then
  redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[5]), cmsgpack.pack({ARGV[3], f}))
elseif tonumber(ARGV[7]) > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', unpack(f))
else
  redis.call('XADD', KEYS[3], '*', unpack(f))
end
return 1
"
);

/// KEYS: stream. ARGV: group, consumer, id. Resets the idle time if the holder asks
/// (`XCLAIM … JUSTID` does not count a delivery).
const EXTEND: &str = concat!(
    prelude!(),
    r"
if holder(KEYS[1], ARGV[1], ARGV[3]) ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"
);

/// KEYS: dead, stream. ARGV: id. Returns the new id or nil.
const REQUEUE: &str = concat!(
    prelude!(),
    r"
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if not e[1] then return false end
local f = e[1][2]
set_field(f, 'a', '0')
local id = redis.call('XADD', KEYS[2], '*', unpack(f))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
"
);

/// KEYS: stream, retries, dead. ARGV: group.
const STATS: &str = concat!(
    prelude!(),
    r"
local pending = 0
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(p) == 'table' and not p.err then pending = p[1] end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local oldest = ''
if first[1] then oldest = first[1][1] end
return {redis.call('XLEN', KEYS[1]), pending, redis.call('ZCARD', KEYS[2]),
        redis.call('XLEN', KEYS[3]), oldest, now_ms()}
"
);

/// KEYS: dead. ARGV: max age ms (0: none), max len (0: none). Exact trimming.
const TRIM: &str = concat!(
    prelude!(),
    r"
local n = 0
if tonumber(ARGV[1]) > 0 then
  n = n + redis.call('XTRIM', KEYS[1], 'MINID', (now_ms() - tonumber(ARGV[1])) .. '-0')
end
if tonumber(ARGV[2]) > 0 then
  n = n + redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[2])
end
return n
"
);

/// Longest expiry sent to Redis (it refuses expiries that overflow its clock).
const MAX_EXPIRY_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

/// An [`InboxStore`] on Redis Streams, shared by every receiver and worker pointed at the
/// same server (or cluster) and namespace.
///
/// # Key layout
///
/// Every key of one namespace shares the hash tag `{<namespace>}`, so a Redis Cluster
/// keeps them on one shard and each script below touches one slot:
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>{<ns>}:s` | stream, consumer group `<group>` | ready and pending envelopes |
/// | `<prefix>{<ns>}:r` | sorted set (score: due time, ms) | envelopes scheduled for a retry |
/// | `<prefix>{<ns>}:dl` | stream | dead letters |
/// | `<prefix>{<ns>}:d:<dedup key>:<body sha256>` | string with TTL | the id stored for a dedup key + body |
///
/// (`<prefix>` defaults to `ledgerhook:inbox:`.) Spread load over shards with several
/// namespaces (e.g. one per provider or tenant), not within one.
///
/// # Operations
///
/// Each [`InboxStore`] method is one Lua script (one round trip, atomic): `append` checks
/// the dedup key and `XADD`s in one step, so there is never a claimed key without its
/// envelope, or an envelope stored twice; `read` re-adds due retries and `XREADGROUP`s;
/// `reclaim` is `XAUTOCLAIM`; `extend` is `XCLAIM … JUSTID` by the holder; `ack` is `XACK` + `XDEL` (settled envelopes leave the
/// stream, so its length is the live depth); `retry_later`, `dead_letter` and `release`
/// check the holder with `XPENDING` before moving the entry. Times come from the
/// server's `TIME`.
///
/// # Durability
///
/// A `200` from [`InboxService`](super::InboxService) means Redis executed the append;
/// whether it survives a Redis crash depends on the server's persistence. See
/// `docs/INBOX.md`: with `appendonly yes` and `appendfsync always` nothing acknowledged is
/// lost; with `everysec` (Redis' default for AOF) up to about one second of acknowledged
/// deliveries can be lost on a power or OS failure; with `no` or RDB snapshots only,
/// everything since the last fsync or snapshot. For financial data use `appendfsync
/// always` (and replicas with `WAIT` if a machine loss must not lose data).
///
/// # Example
///
/// ```no_run
/// use ledgerhook::inbox::{InboxService, RedisInbox};
///
/// let store = RedisInbox::open("redis://127.0.0.1:6379/", "railz")?;
/// let service = InboxService::new("railz", store);
/// # let _ = service;
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "inbox-redis")))]
pub struct RedisInbox {
    target: Target,
    keys: Arc<Keys>,
    group: Arc<str>,
    timeout: Duration,
    retention: Retention,
    conn: Arc<OnceCell<Conn>>,
    scripts: Arc<Scripts>,
}

#[derive(Clone)]
enum Target {
    Single(Client),
    Cluster(Box<ClusterClient>),
}

struct Keys {
    base: String,
    stream: String,
    retries: String,
    dead: String,
}

struct Scripts {
    append: Script,
    read: Script,
    reclaim: Script,
    ack: Script,
    settle: Script,
    extend: Script,
    requeue: Script,
    stats: Script,
    trim: Script,
}

/// One server (reconnecting by itself) or a cluster (following its topology).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

impl RedisInbox {
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &'static str = "ledgerhook:inbox:";

    /// The default consumer group name.
    pub const DEFAULT_GROUP: &'static str = "workers";

    /// The default per-command (and connect) timeout: 2 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// An inbox `namespace` on the server at `url` (`redis://host:port/db`). Connects on
    /// first use.
    ///
    /// # Errors
    /// [`ConfigError`] (kind `Invalid`) if `url` is not a Redis URL or `namespace` is empty or
    /// holds `{` or `}`.
    pub fn open(url: &str, namespace: &str) -> Result<Self, ConfigError> {
        let client =
            Client::open(url).map_err(|_| ConfigError::invalid("redis url", "not a Redis URL"))?;
        Self::with_target(Target::Single(client), namespace)
    }

    /// An inbox `namespace` on the Redis Cluster reachable at any of `nodes` (URLs of
    /// some of its masters). Connects on first use.
    ///
    /// # Errors
    /// [`ConfigError`] (kind `Invalid`) if a node is not a Redis URL or `namespace` is empty or
    /// holds `{` or `}`.
    pub fn open_cluster<S: AsRef<str>>(nodes: &[S], namespace: &str) -> Result<Self, ConfigError> {
        let nodes: Vec<&str> = nodes.iter().map(AsRef::as_ref).collect();
        let client = ClusterClient::builder(nodes)
            .connection_timeout(Self::DEFAULT_TIMEOUT)
            .response_timeout(Self::DEFAULT_TIMEOUT)
            .retries(2)
            .build()
            .map_err(|_| {
                ConfigError::invalid("redis cluster nodes", "not a Redis cluster node URL")
            })?;
        Self::with_target(Target::Cluster(Box::new(client)), namespace)
    }

    fn with_target(target: Target, namespace: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            target,
            keys: Arc::new(Keys::new(Self::DEFAULT_PREFIX, namespace)?),
            group: Self::DEFAULT_GROUP.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            retention: Retention::default(),
            conn: Arc::new(OnceCell::new()),
            scripts: Arc::new(Scripts {
                append: Script::new(APPEND),
                read: Script::new(READ),
                reclaim: Script::new(RECLAIM),
                ack: Script::new(ACK),
                settle: Script::new(SETTLE),
                extend: Script::new(EXTEND),
                requeue: Script::new(REQUEUE),
                stats: Script::new(STATS),
                trim: Script::new(TRIM),
            }),
        })
    }

    /// Prefix of every key (default [`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX)).
    ///
    /// # Errors
    /// [`ConfigError`] (kind `Invalid`) if it holds `{` or `}` (it would change the hash tag).
    pub fn key_prefix(mut self, prefix: &str) -> Result<Self, ConfigError> {
        let namespace = self.keys.namespace().to_owned();
        self.keys = Arc::new(Keys::new(prefix, &namespace)?);
        Ok(self)
    }

    /// The consumer group workers join (default [`DEFAULT_GROUP`](Self::DEFAULT_GROUP)).
    #[must_use]
    pub fn group(mut self, group: &str) -> Self {
        self.group = group.into();
        self
    }

    /// How long to wait for a connection or an answer (default
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)); set before first use.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Dedup TTL, maximum depth and dead-letter retention (default [`Retention::default`]).
    #[must_use]
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Checks that Redis answers.
    ///
    /// # Errors
    /// [`InboxError`] if it does not.
    pub async fn ping(&self) -> Result<(), InboxError> {
        let mut conn = self.conn().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    async fn conn(&self) -> Result<Conn, InboxError> {
        let conn = self
            .conn
            .get_or_try_init(|| async {
                match &self.target {
                    Target::Single(client) => {
                        let config = ConnectionManagerConfig::new()
                            .set_connection_timeout(Some(self.timeout))
                            .set_response_timeout(Some(self.timeout))
                            .set_number_of_retries(1);
                        ConnectionManager::new_lazy_with_config(client.clone(), config)
                            .map(Conn::Single)
                    }
                    Target::Cluster(client) => {
                        client.get_async_connection().await.map(Conn::Cluster)
                    }
                }
            })
            .await
            .map_err(unavailable)?;
        Ok(conn.clone())
    }

    async fn invoke<T>(
        &self,
        script: &Script,
        keys: &[&str],
        build: impl FnOnce(&mut redis::ScriptInvocation<'_>),
    ) -> Result<T, InboxError>
    where
        T: redis::FromRedisValue,
    {
        let mut conn = self.conn().await?;
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        build(&mut invocation);
        invocation
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    fn dedup_key(&self, key: &str, body: &[u8]) -> String {
        format!(
            "{}d:{key}:{}",
            self.keys.base,
            const_hex::encode(Sha256::digest(body))
        )
    }

    async fn settle(
        &self,
        consumer: &str,
        id: &EnvelopeId,
        mode: &str,
        delay: Duration,
        error: &str,
    ) -> Result<bool, InboxError> {
        let k = &self.keys;
        let n: i64 = self
            .invoke(
                &self.scripts.settle,
                &[&k.stream, &k.retries, &k.dead],
                |inv| {
                    inv.arg(&*self.group)
                        .arg(consumer)
                        .arg(id.as_str())
                        .arg(mode)
                        .arg(millis(delay))
                        .arg(error)
                        .arg(self.retention.dead_letter_max_len.unwrap_or(0));
                },
            )
            .await?;
        Ok(n == 1)
    }
}

impl Keys {
    fn new(prefix: &str, namespace: &str) -> Result<Self, ConfigError> {
        if namespace.is_empty() || namespace.contains(['{', '}']) {
            return Err(ConfigError::invalid(
                "namespace",
                "inbox namespace must be non-empty without '{' or '}'",
            ));
        }
        if prefix.contains(['{', '}']) {
            return Err(ConfigError::invalid(
                "key prefix",
                "inbox key prefix must not hold '{' or '}'",
            ));
        }
        let base = format!("{prefix}{{{namespace}}}:");
        Ok(Self {
            stream: format!("{base}s"),
            retries: format!("{base}r"),
            dead: format!("{base}dl"),
            base,
        })
    }

    fn namespace(&self) -> &str {
        let start = self.base.find('{').map_or(0, |i| i + 1);
        let end = self.base.rfind('}').unwrap_or(self.base.len());
        self.base.get(start..end).unwrap_or_default()
    }
}

fn unavailable(err: RedisError) -> InboxError {
    InboxError::with_source(InboxErrorKind::Unavailable, err)
}

fn corrupt(what: &'static str) -> InboxError {
    InboxError::with_source(InboxErrorKind::Corrupt, what)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis())
        .unwrap_or(u64::MAX)
        .min(MAX_EXPIRY_MS)
}

/// The stream fields of an envelope (names are one letter to keep entries small).
fn fields(e: &NewEnvelope) -> Vec<(&'static str, Vec<u8>)> {
    let received = e.received_at.duration_since(UNIX_EPOCH).map_or(0, millis);
    let mut out = vec![
        ("p", e.provider.as_bytes().to_vec()),
        ("r", received.to_string().into_bytes()),
        ("a", b"0".to_vec()),
        ("h", encode_headers(&e.headers)),
        ("b", e.body.to_vec()),
    ];
    if let Some(tag) = &e.tag {
        out.push(("t", tag.as_bytes().to_vec()));
    }
    if let Some(key) = &e.dedup_key {
        out.push(("k", key.as_bytes().to_vec()));
    }
    out
}

fn bytes_of(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn text_of(v: &Value) -> Option<String> {
    bytes_of(v).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// `[id, [field, value, ...]]` (and, from `reclaim`, a delivery count) to an envelope.
fn decode_entry(entry: &Value, default_deliveries: u32) -> Result<Envelope, InboxError> {
    let Value::Array(parts) = entry else {
        return Err(corrupt("stream entry is not an array"));
    };
    let id = parts
        .first()
        .and_then(text_of)
        .ok_or_else(|| corrupt("stream entry has no id"))?;
    let Some(Value::Array(flat)) = parts.get(1) else {
        return Err(corrupt("stream entry has no fields"));
    };
    let deliveries = match parts.get(2) {
        Some(Value::Int(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        _ => default_deliveries,
    };
    let mut envelope = Envelope {
        id: EnvelopeId::new(id),
        provider: String::new(),
        tag: None,
        dedup_key: None,
        received_at: UNIX_EPOCH,
        body: Bytes::new(),
        headers: http::HeaderMap::new(),
        attempts: 0,
        deliveries,
        last_error: None,
    };
    let mut has_body = false;
    for pair in flat.chunks(2) {
        let [name, value] = pair else {
            return Err(corrupt("stream entry has an odd field list"));
        };
        let (Some(name), Some(value)) = (bytes_of(name), bytes_of(value)) else {
            return Err(corrupt("stream entry field is not a string"));
        };
        let text = || String::from_utf8_lossy(value).into_owned();
        match name {
            b"p" => envelope.provider = text(),
            b"t" => envelope.tag = Some(text()),
            b"k" => envelope.dedup_key = Some(text()),
            b"r" => {
                let ms: u64 = text().parse().map_err(|_| corrupt("bad receive time"))?;
                envelope.received_at = UNIX_EPOCH + Duration::from_millis(ms);
            }
            b"a" => envelope.attempts = text().parse().map_err(|_| corrupt("bad attempts"))?,
            b"e" => envelope.last_error = Some(text()),
            b"h" => envelope.headers = decode_headers(value),
            b"b" => {
                envelope.body = Bytes::copy_from_slice(value);
                has_body = true;
            }
            _ => {}
        }
    }
    if !has_body {
        return Err(corrupt("stream entry has no body"));
    }
    Ok(envelope)
}

fn decode_entries(value: &Value, default_deliveries: u32) -> Result<Vec<Envelope>, InboxError> {
    match value {
        Value::Array(entries) => entries
            .iter()
            .map(|e| decode_entry(e, default_deliveries))
            .collect(),
        Value::Nil => Ok(Vec::new()),
        _ => Err(corrupt("expected a list of stream entries")),
    }
}

/// Milliseconds part of a stream id `<ms>-<seq>`.
fn id_millis(id: &str) -> Option<u64> {
    id.split('-').next()?.parse().ok()
}

impl InboxStore for RedisInbox {
    fn append<'a>(&'a self, envelope: &'a NewEnvelope) -> InboxFuture<'a, Appended> {
        Box::pin(async move {
            let k = &self.keys;
            let dedup = envelope
                .dedup_key
                .as_ref()
                .map(|key| self.dedup_key(key, &envelope.body));
            let mut keys = vec![k.stream.as_str(), k.retries.as_str()];
            if let Some(d) = &dedup {
                keys.push(d);
            }
            let reply: Vec<Value> = self
                .invoke(&self.scripts.append, &keys, |inv| {
                    inv.arg(millis(self.retention.dedup_ttl).max(1))
                        .arg(self.retention.max_depth.unwrap_or(0));
                    for (name, value) in fields(envelope) {
                        inv.arg(name).arg(value);
                    }
                })
                .await?;
            let tag = reply.first().and_then(bytes_of);
            let id = reply.get(1).and_then(text_of).map(EnvelopeId::new);
            match (tag, id) {
                (Some(b"ok"), Some(id)) => Ok(Appended::Stored(id)),
                (Some(b"dup"), Some(id)) => Ok(Appended::Duplicate(id)),
                (Some(b"full"), _) => Err(InboxError::new(InboxErrorKind::Full)),
                _ => Err(corrupt("unexpected append reply")),
            }
        })
    }

    fn read<'a>(&'a self, consumer: &'a str, max: usize) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move {
            if max == 0 {
                return Ok(Vec::new());
            }
            let k = &self.keys;
            let reply: Value = self
                .invoke(&self.scripts.read, &[&k.stream, &k.retries], |inv| {
                    inv.arg(&*self.group).arg(consumer).arg(max);
                })
                .await?;
            decode_entries(&reply, 1)
        })
    }

    fn reclaim<'a>(
        &'a self,
        consumer: &'a str,
        min_idle: Duration,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move {
            if max == 0 {
                return Ok(Vec::new());
            }
            let reply: Value = self
                .invoke(&self.scripts.reclaim, &[&self.keys.stream], |inv| {
                    inv.arg(&*self.group)
                        .arg(consumer)
                        .arg(millis(min_idle))
                        .arg(max);
                })
                .await?;
            decode_entries(&reply, 2)
        })
    }

    fn ack<'a>(&'a self, _consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move {
            let n: i64 = self
                .invoke(&self.scripts.ack, &[&self.keys.stream], |inv| {
                    inv.arg(&*self.group).arg(id.as_str());
                })
                .await?;
            Ok(n == 1)
        })
    }

    fn retry_later<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        delay: Duration,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        Box::pin(self.settle(consumer, id, "retry", delay, error))
    }

    fn dead_letter<'a>(
        &'a self,
        consumer: &'a str,
        id: &'a EnvelopeId,
        error: &'a str,
    ) -> InboxFuture<'a, bool> {
        Box::pin(self.settle(consumer, id, "dead", Duration::ZERO, error))
    }

    fn extend<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(async move {
            let n: i64 = self
                .invoke(&self.scripts.extend, &[&self.keys.stream], |inv| {
                    inv.arg(&*self.group).arg(consumer).arg(id.as_str());
                })
                .await?;
            Ok(n == 1)
        })
    }

    fn release<'a>(&'a self, consumer: &'a str, id: &'a EnvelopeId) -> InboxFuture<'a, bool> {
        Box::pin(self.settle(consumer, id, "release", Duration::ZERO, ""))
    }

    fn dead_letters<'a>(
        &'a self,
        after: Option<&'a EnvelopeId>,
        max: usize,
    ) -> InboxFuture<'a, Vec<Envelope>> {
        Box::pin(async move {
            let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
            let mut conn = self.conn().await?;
            let reply: Value = redis::cmd("XRANGE")
                .arg(&self.keys.dead)
                .arg(start)
                .arg("+")
                .arg("COUNT")
                .arg(max)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            decode_entries(&reply, 0)
        })
    }

    fn dead_letter_by_id<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<Envelope>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let reply: Value = redis::cmd("XRANGE")
                .arg(&self.keys.dead)
                .arg(id.as_str())
                .arg(id.as_str())
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(decode_entries(&reply, 0)?.into_iter().next())
        })
    }

    fn requeue<'a>(&'a self, id: &'a EnvelopeId) -> InboxFuture<'a, Option<EnvelopeId>> {
        Box::pin(async move {
            let k = &self.keys;
            let reply: Option<String> = self
                .invoke(&self.scripts.requeue, &[&k.dead, &k.stream], |inv| {
                    inv.arg(id.as_str());
                })
                .await?;
            Ok(reply.map(EnvelopeId::new))
        })
    }

    fn stats(&self) -> InboxFuture<'_, InboxStats> {
        Box::pin(async move {
            let k = &self.keys;
            let (depth, pending, scheduled, dead, oldest, now): (u64, u64, u64, u64, String, u64) =
                self.invoke(
                    &self.scripts.stats,
                    &[&k.stream, &k.retries, &k.dead],
                    |inv| {
                        inv.arg(&*self.group);
                    },
                )
                .await?;
            Ok(InboxStats {
                depth,
                pending,
                scheduled_retries: scheduled,
                dead_letters: dead,
                oldest_age: id_millis(&oldest)
                    .map(|at| Duration::from_millis(now.saturating_sub(at))),
            })
        })
    }

    fn trim_dead_letters(&self) -> InboxFuture<'_, u64> {
        Box::pin(async move {
            let r = self.retention;
            self.invoke(&self.scripts.trim, &[&self.keys.dead], |inv| {
                inv.arg(r.dead_letter_max_age.map_or(0, millis))
                    .arg(r.dead_letter_max_len.unwrap_or(0));
            })
            .await
        })
    }
}

/// Shows the keys and settings only: a URL may hold a password.
impl fmt::Debug for RedisInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisInbox")
            .field(
                "target",
                &match self.target {
                    Target::Single(_) => "server",
                    Target::Cluster(_) => "cluster",
                },
            )
            .field("stream", &self.keys.stream)
            .field("group", &self.group)
            .field("timeout", &self.timeout)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

/// The receive time as stored (whole milliseconds), for tests comparing round trips.
#[cfg(test)]
fn stored_time(at: std::time::SystemTime) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(at.duration_since(UNIX_EPOCH).map_or(0, millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_one_hash_tag_and_reject_braces() {
        let keys = Keys::new("ledgerhook:inbox:", "railz").unwrap();
        assert_eq!(keys.stream, "ledgerhook:inbox:{railz}:s");
        assert_eq!(keys.retries, "ledgerhook:inbox:{railz}:r");
        assert_eq!(keys.dead, "ledgerhook:inbox:{railz}:dl");
        assert_eq!(keys.namespace(), "railz");
        assert!(Keys::new("p:", "").is_err());
        assert!(Keys::new("p:", "a{b").is_err());
        assert!(Keys::new("p{", "a").is_err());
    }

    #[test]
    fn entries_round_trip_through_fields() {
        let sent = NewEnvelope::new("railz", Bytes::from_static(b"\x00binary\xff"))
            .tag("auth")
            .dedup_key("id:1")
            .header(
                http::HeaderName::from_static("user-agent"),
                http::HeaderValue::from_static("railz"),
            );
        let mut flat = Vec::new();
        for (name, value) in fields(&sent) {
            flat.push(Value::BulkString(name.as_bytes().to_vec()));
            flat.push(Value::BulkString(value));
        }
        let entry = Value::Array(vec![
            Value::BulkString(b"5-1".to_vec()),
            Value::Array(flat),
            Value::Int(3),
        ]);
        let got = decode_entry(&entry, 1).unwrap();
        assert_eq!(got.id.as_str(), "5-1");
        assert_eq!(got.body, sent.body);
        assert_eq!(got.tag.as_deref(), Some("auth"));
        assert_eq!(got.dedup_key.as_deref(), Some("id:1"));
        assert_eq!(got.headers, sent.headers);
        assert_eq!(got.received_at, stored_time(sent.received_at));
        assert_eq!((got.attempts, got.deliveries), (0, 3));
        assert!(decode_entry(&Value::Int(1), 1).is_err());
        assert_eq!(id_millis("1700000000000-3"), Some(1_700_000_000_000));
    }

    #[test]
    fn debug_hides_the_url() {
        let store = RedisInbox::open("redis://:hunter2@127.0.0.1:1/", "railz").unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error_not_a_hang() {
        let store = RedisInbox::open("redis://127.0.0.1:1/", "t")
            .unwrap()
            .timeout(Duration::from_millis(300));
        let err = store
            .append(&NewEnvelope::new("x", Bytes::from_static(b"{}")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), InboxErrorKind::Unavailable);
    }
}
