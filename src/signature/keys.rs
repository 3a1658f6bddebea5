//! The key ring: the secrets a verifier accepts, swappable at runtime without locks on the
//! request path.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwap, Guard};
use hmac::{Hmac, KeyInit};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::clock::TimeSource;
use crate::{ConfigError, Secret};

/// One secret with its pre-computed forms. Everything derived from the secret is
/// secret-equivalent and is zeroized on drop (`Secret` and, with the `zeroize` features of
/// `hmac`/`sha2`, the keyed HMAC state).
pub(crate) struct KeyMaterial {
    /// HMAC-SHA256 keyed once; cloned per request instead of re-keying.
    pub(crate) mac: Hmac<Sha256>,
    /// SHA-256 of the secret, for constant-time, length-hiding token comparison (and for
    /// finding secrets shared between verifiers). Secret-equivalent for tokens: zeroized.
    pub(crate) token_digest: Zeroizing<[u8; 32]>,
    /// The secret itself, needed only to write shared-secret headers when signing.
    pub(crate) secret: Secret,
}

impl KeyMaterial {
    fn new(secret: Secret) -> Result<Self, ConfigError> {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose())
            .map_err(|_| ConfigError::invalid("secret", "length not accepted by HMAC"))?;
        let token_digest = Zeroizing::new(Sha256::digest(secret.expose()).into());
        Ok(Self {
            mac,
            token_digest,
            secret,
        })
    }
}

/// A key and when it stops being accepted.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) key: Arc<KeyMaterial>,
    pub(crate) expires_at: Option<SystemTime>,
}

impl Entry {
    pub(crate) fn is_active(&self, now: SystemTime) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// An immutable snapshot of the ring. The first entry is the primary key (used to sign) and
/// never expires.
pub(crate) struct KeySet {
    pub(crate) entries: Vec<Entry>,
}

impl KeySet {
    /// The key used by `sign`.
    pub(crate) fn primary(&self) -> Option<&KeyMaterial> {
        self.entries.first().map(|entry| &*entry.key)
    }

    pub(crate) fn needs_clock(&self) -> bool {
        self.entries.iter().any(|entry| entry.expires_at.is_some())
    }
}

/// What the secrets are used for; shared-secret tokens must be writable as header values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Hmac,
    Token,
}

/// The secrets a [`Verifier`](crate::Verifier) accepts: any active key may match.
///
/// Shared by every clone of the verifier (and so by every layer built from it): changing
/// the ring changes what all of them accept, at once, without restarting. Readers never
/// block; a change publishes a new snapshot ([`arc_swap::ArcSwap`]).
///
/// The first key is the *primary*: [`Verifier::sign`](crate::Verifier::sign) signs with
/// it, and it never expires. Expiry is checked against the verifier's
/// [`Clock`](super::Clock).
///
/// ```
/// use std::time::Duration;
/// use ledgerhook::Verifier;
///
/// let verifier = Verifier::railz("old_secret")?;
/// // Start accepting the new secret now; keep accepting the old one for an hour while the
/// // provider's side is switched over.
/// verifier.keys().rotate("new_secret", Duration::from_secs(3600))?;
/// assert_eq!(verifier.keys().active_keys(), 2);
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
///
/// A `KeyRing` is a handle: clones (and the rings of every clone of the verifier, including
/// those given another clock with [`Verifier::with_clock`](crate::Verifier::with_clock))
/// share one set of keys. Each handle reads expiry and rotation times from its verifier's
/// clock.
#[derive(Clone)]
pub struct KeyRing {
    set: Arc<ArcSwap<KeySet>>,
    clock: TimeSource,
    kind: KeyKind,
}

impl KeyRing {
    /// The most keys a ring holds at once (each active key costs one HMAC per request
    /// that does not match an earlier key).
    pub const MAX_KEYS: usize = 8;

    pub(crate) fn new(
        kind: KeyKind,
        secret: Secret,
        clock: TimeSource,
    ) -> Result<Self, ConfigError> {
        let key = Arc::new(KeyMaterial::new(check(kind, secret)?)?);
        Ok(Self {
            set: Arc::new(ArcSwap::from_pointee(KeySet {
                entries: vec![Entry {
                    key,
                    expires_at: None,
                }],
            })),
            clock,
            kind,
        })
    }

    /// A handle on the same keys (still shared) that reads time from `clock`.
    pub(crate) fn with_clock(&self, clock: TimeSource) -> Self {
        Self {
            set: Arc::clone(&self.set),
            clock,
            kind: self.kind,
        }
    }

    pub(crate) fn clock(&self) -> &TimeSource {
        &self.clock
    }

    /// The current snapshot (cheap, lock-free).
    pub(crate) fn load(&self) -> Guard<Arc<KeySet>> {
        self.set.load()
    }

    /// Also accepts `secret`, with no expiry. The primary key (used for signing) is unchanged.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret`: empty; too many keys when the ring already
    /// holds [`MAX_KEYS`](Self::MAX_KEYS) active keys; for shared-secret verifiers, a token
    /// that is not visible ASCII.
    pub fn add(&self, secret: impl Into<Secret>) -> Result<(), ConfigError> {
        let key = self.material(secret.into())?;
        self.update(|now, entries| {
            let mut next = active(entries, now);
            next.push(Entry {
                key: Arc::clone(&key),
                expires_at: None,
            });
            Ok(next)
        })
    }

    /// Accepts only `secret` from now on; every other key is dropped at once.
    ///
    /// # Errors
    /// As for [`add`](Self::add) (except `TooManyKeys`).
    pub fn replace(&self, secret: impl Into<Secret>) -> Result<(), ConfigError> {
        let key = self.material(secret.into())?;
        self.update(|_, _| {
            Ok(vec![Entry {
                key: Arc::clone(&key),
                expires_at: None,
            }])
        })
    }

    /// Makes `new` the primary key and keeps accepting the current keys for `keep_old_for`
    /// (a key that already expires sooner keeps its earlier expiry). With a zero duration
    /// this is [`replace`](Self::replace).
    ///
    /// # Errors
    /// As for [`add`](Self::add).
    pub fn rotate(
        &self,
        new: impl Into<Secret>,
        keep_old_for: Duration,
    ) -> Result<(), ConfigError> {
        let key = self.material(new.into())?;
        self.update(|now, entries| {
            let until = now.checked_add(keep_old_for);
            let mut next = Vec::with_capacity(entries.len() + 1);
            next.push(Entry {
                key: Arc::clone(&key),
                expires_at: None,
            });
            for entry in active(entries, now) {
                let expires_at = match (entry.expires_at, until) {
                    (Some(old), Some(until)) => Some(old.min(until)),
                    (Some(old), None) => Some(old),
                    (None, until) => until,
                };
                next.push(Entry {
                    expires_at,
                    ..entry
                });
            }
            Ok(active(&next, now))
        })
    }

    /// How many keys are accepted right now.
    #[must_use]
    pub fn active_keys(&self) -> usize {
        let now = self.clock.now();
        self.set
            .load()
            .entries
            .iter()
            .filter(|entry| entry.is_active(now))
            .count()
    }

    fn material(&self, secret: Secret) -> Result<Arc<KeyMaterial>, ConfigError> {
        let secret = check(self.kind, secret)?;
        Ok(Arc::new(KeyMaterial::new(secret)?))
    }

    /// Publishes `f(now, current entries)` atomically, retrying if another writer won.
    fn update(
        &self,
        mut f: impl FnMut(SystemTime, &[Entry]) -> Result<Vec<Entry>, ConfigError>,
    ) -> Result<(), ConfigError> {
        let now = self.clock.now();
        let mut outcome = Ok(());
        self.set.rcu(|current| match f(now, &current.entries) {
            Ok(entries) if entries.len() > Self::MAX_KEYS => {
                outcome = Err(ConfigError::too_many_keys());
                Arc::clone(current)
            }
            Ok(entries) => {
                outcome = Ok(());
                Arc::new(KeySet { entries })
            }
            Err(err) => {
                outcome = Err(err);
                Arc::clone(current)
            }
        });
        outcome
    }
}

impl KeyRing {
    /// Whether any key active in this ring is also active in `other`, compared in
    /// constant time (as SHA-256 digests, every pair, no early exit).
    pub(crate) fn shares_a_key_with(&self, other: &Self) -> bool {
        let (now, other_now) = (self.clock.now(), other.clock.now());
        let mine = self.set.load();
        let theirs = other.set.load();
        let mut shared = Choice::from(0);
        for a in mine.entries.iter().filter(|e| e.is_active(now)) {
            for b in theirs.entries.iter().filter(|e| e.is_active(other_now)) {
                shared |= a.key.token_digest.ct_eq(&*b.key.token_digest);
            }
        }
        bool::from(shared)
    }
}

/// The entries still active at `now`.
fn active(entries: &[Entry], now: SystemTime) -> Vec<Entry> {
    entries
        .iter()
        .filter(|e| e.is_active(now))
        .cloned()
        .collect()
}

/// Secrets are never empty. Tokens are sent as header values, and incoming values are only
/// compared once they are visible ASCII: a token outside that set could never match.
fn check(kind: KeyKind, secret: Secret) -> Result<Secret, ConfigError> {
    let bytes = secret.expose();
    if bytes.is_empty() {
        return Err(ConfigError::empty("secret"));
    }
    let header_safe = bytes.iter().all(|&b| b.is_ascii_graphic() || b == b' ')
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ');
    if kind == KeyKind::Token && !header_safe {
        return Err(ConfigError::invalid(
            "secret",
            "a shared-secret token must be visible ASCII without leading or trailing spaces",
        ));
    }
    Ok(secret)
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.set.load().entries.len())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::clock::{Clock, ManualClock};

    fn ring(clock: &ManualClock) -> KeyRing {
        KeyRing::new(
            KeyKind::Hmac,
            Secret::new("first").unwrap(),
            TimeSource::custom(Arc::new(clock.clone())),
        )
        .unwrap()
    }

    fn secrets(ring: &KeyRing, now: SystemTime) -> Vec<Vec<u8>> {
        ring.load()
            .entries
            .iter()
            .filter(|e| e.is_active(now))
            .map(|e| e.key.secret.expose().to_vec())
            .collect()
    }

    #[test]
    fn rotate_keeps_old_key_until_expiry() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000));
        let ring = ring(&clock);
        ring.rotate("second", Duration::from_secs(60)).unwrap();
        assert_eq!(
            secrets(&ring, clock.now()),
            [b"second".to_vec(), b"first".to_vec()]
        );
        assert_eq!(ring.load().primary().unwrap().secret.expose(), b"second");

        clock.advance(Duration::from_secs(59));
        assert_eq!(ring.active_keys(), 2);
        clock.advance(Duration::from_secs(1));
        assert_eq!(ring.active_keys(), 1);
        assert_eq!(secrets(&ring, clock.now()), [b"second".to_vec()]);
    }

    #[test]
    fn rotate_never_extends_an_earlier_expiry() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000));
        let ring = ring(&clock);
        ring.rotate("second", Duration::from_secs(10)).unwrap();
        ring.rotate("third", Duration::from_secs(100)).unwrap();
        clock.advance(Duration::from_secs(10));
        assert_eq!(
            secrets(&ring, clock.now()),
            [b"third".to_vec(), b"second".to_vec()]
        );
    }

    #[test]
    fn add_and_replace() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let ring = ring(&clock);
        ring.add("extra").unwrap();
        assert_eq!(
            secrets(&ring, clock.now()),
            [b"first".to_vec(), b"extra".to_vec()]
        );
        ring.replace("only").unwrap();
        assert_eq!(secrets(&ring, clock.now()), [b"only".to_vec()]);
        assert_eq!(ring.add(""), Err(ConfigError::empty("secret")));
    }

    #[test]
    fn ring_size_is_capped() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let ring = ring(&clock);
        for i in 1..KeyRing::MAX_KEYS {
            ring.add(format!("k{i}")).unwrap();
        }
        assert_eq!(ring.add("one too many"), Err(ConfigError::too_many_keys()));
        assert_eq!(ring.active_keys(), KeyRing::MAX_KEYS);
        assert_eq!(
            ring.rotate("fresh", Duration::from_secs(1)),
            Err(ConfigError::too_many_keys())
        );
        // Keys that expire at once make room.
        ring.rotate("fresh", Duration::ZERO).unwrap();
        assert_eq!(ring.active_keys(), 1);
    }

    #[test]
    fn tokens_must_be_header_safe() {
        let clock = TimeSource::custom(Arc::new(ManualClock::new(SystemTime::UNIX_EPOCH)));
        for bad in [&b"to\nken"[..], b" token", b"token ", "tökén".as_bytes()] {
            assert!(matches!(
                KeyRing::new(
                    KeyKind::Token,
                    Secret::from(bad),
                    clock.clone()
                ),
                Err(e) if e.setting() == "secret"
            ));
        }
        KeyRing::new(KeyKind::Token, Secret::new("Bearer abc").unwrap(), clock).unwrap();
    }

    #[test]
    fn debug_shows_no_secret() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let shown = format!("{:?}", ring(&clock));
        assert!(!shown.contains("first"), "{shown}");
    }
}
