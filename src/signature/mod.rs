//! Webhook signature verification over the raw body, independent of any web framework.
//!
//! A [`Verifier`] checks one provider's scheme against a [`KeyRing`] of secrets:
//!
//! | constructor | header | signed bytes | timestamp |
//! |---|---|---|---|
//! | [`Verifier::railz`] | `Railz-Signature: t=<ms>,v=<hex>` | `<t>.<body>` | ms, ±5 min |
//! | [`Verifier::rootfi_v4`] | `X-RootFi-Signature: [sha256=]<hex>` | body | none |
//! | [`Verifier::rootfi_v3`] | `api_key: <token>` (RootFi v3 custom header) | — | none |
//! | [`Verifier::bearer`] | `Authorization: Bearer <token>` (Railz option) | — | none |
//! | [`Verifier::stripe`] | `Stripe-Signature: t=<s>,v1=<hex>` | `<t>.<body>` | s, ±5 min |
//! | [`Verifier::standard_webhooks`] | `webhook-signature: v1,<base64>` | `<id>.<t>.<body>` | s, ±5 min |
//! | [`Verifier::slack`] | `X-Slack-Signature: v0=<hex>` + `X-Slack-Request-Timestamp` | `v0:<t>:<body>` | s, ±5 min |
//! | [`Verifier::paddle`] | `Paddle-Signature: ts=<s>;h1=<hex>` | `<t>:<body>` | s, ±5 min |
//! | [`Verifier::github`] | `X-Hub-Signature-256: sha256=<hex>` | body | none |
//! | [`Verifier::shared_secret`] | any header carrying a fixed token | — | none |
//! | [`Verifier::hmac`] | anything an [`HmacScheme`] describes | | |
//!
//! Every constructor takes a [`Secret`] (or anything that converts into one: `&str`,
//! `String`, `&[u8]`, `Vec<u8>`); [`Verifier::also_accepting`] adds more secrets at
//! construction, [`Verifier::with_header`] renames any preset's header, and
//! [`Verifier::tolerance`] is the one place the replay window is set.
//!
//! All HMAC schemes, the presets included, run through one engine configured by
//! [`HmacScheme`]: where the signature is and how its header is laid out
//! ([`SignatureFormat`]: a bare value with an optional or required prefix, a `key=value`
//! list with configurable separators, keys and several signatures, or a versioned list),
//! its [`Encoding`] (hex, base64), and the [`SignedContent`] template of literal bytes,
//! timestamp, headers and body. The RootFi v4 default is **unverified**: RootFi documents the header name
//! and the signing key but not the algorithm, so every part of it is configurable.
//!
//! # Example
//!
//! ```
//! use std::time::SystemTime;
//! use ledgerhook::{Verifier, VerificationErrorKind};
//!
//! let verifier = Verifier::railz("railz_test_secret")?;
//!
//! // What Railz would send (here signed by the verifier itself, as a test would):
//! let body = br#"{"data":{"event":"login","serviceName":"quickbooks"}}"#;
//! let headers = verifier.sign(body, SystemTime::now());
//! assert!(verifier.verify(&headers, body).is_ok());
//!
//! // One changed byte and the request is refused.
//! let err = verifier.verify(&headers, br#"{"data":{"event":"logout"}}"#).unwrap_err();
//! assert_eq!(err.kind(), VerificationErrorKind::SignatureMismatch);
//! assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
//! # Ok::<(), ledgerhook::ConfigError>(())
//! ```
//!
//! # Customised
//!
//! ```
//! use std::time::Duration;
//! use http::HeaderName;
//! use ledgerhook::signature::{Encoding, HmacScheme, SignatureFormat, SignedContent, SystemClock};
//! use ledgerhook::Verifier;
//!
//! // RootFi v4 under a custom `signature_header` (same scheme otherwise):
//! let renamed = Verifier::rootfi_v4("signing_key")?.with_header("x-commenda-signature")?;
//!
//! // RootFi under a custom `signature_header`, base64 with a mandatory prefix:
//! let rootfi = Verifier::hmac(
//!     HmacScheme::rootfi_v4()
//!         .signature_header(HeaderName::from_static("x-commenda-signature"))
//!         .format(SignatureFormat::required_prefix("sha256="))
//!         .encoding(Encoding::Base64),
//!     "signing_key",
//! )?;
//!
//! // A Stripe-style sender (`t=<s>,v1=<hex>`) under its own header, 2-minute window:
//! let stripe_like = Verifier::hmac(
//!     HmacScheme::stripe().signature_header(HeaderName::from_static("acme-signature")),
//!     "acme_secret",
//! )?
//! .tolerance(Duration::from_secs(120));
//!
//! // Railz without a replay window (accept any signed timestamp), and a second secret:
//! let railz = Verifier::railz("current")?
//!     .without_tolerance()
//!     .also_accepting(["previous"])?;
//!
//! // Railz's optional bearer token, and RootFi v3 on its default and a custom header:
//! let bearer = Verifier::bearer("token-from-railz")?;
//! let v3 = Verifier::rootfi_v3("fhsjd")?;
//! let v3_custom = Verifier::rootfi_v3("fhsjd")?.with_header("x-token")?;
//! # Ok::<(), ledgerhook::ConfigError>(())
//! ```
//!
//! # When a delivery does not verify
//!
//! [`Verifier::explain`] (feature `explain`, on by default; and [`Verifier::explain_with`], given the other configured
//! routes) tells the operator which common mistake would have made a failed delivery
//! verify: a re-serialised body, a secret with whitespace, in base64 or with a `whsec_`
//! prefix, a timestamp in the other unit or a skewed clock (with the measured skew),
//! another route's secret, or another signed content, encoding or prefix. For RootFi v4,
//! whose algorithm is undocumented, that last finding is the configuration a captured
//! delivery needs. It is off the hot path and its findings are never for the caller.
//!
//! # Header parsing rules
//!
//! - A header must appear on exactly one line; two `Railz-Signature` lines are
//!   [`InvalidHeader`](VerificationErrorKind::InvalidHeader) (400): a receiver cannot know
//!   which one a proxy meant, and a genuine sender never does it.
//! - Header values must be visible ASCII (plus spaces and tabs); anything else is
//!   `InvalidHeader`.
//! - `key=value` lists (Railz, Stripe-style): spaces around elements are tolerated; empty
//!   elements, elements without `=`, empty keys, empty signatures, a duplicate or missing
//!   timestamp, or no signature element are `InvalidHeader`. Elements with unknown keys are
//!   ignored (as Stripe does), so a sender can add a new signature version without breaking
//!   receivers. Every signature element is a candidate; one match is enough.
//! - At most [`MAX_SIGNATURES`] candidates per header; more is `InvalidHeader`.
//! - Timestamps are plain ASCII digits fitting a `u64`, otherwise
//!   [`InvalidTimestamp`](VerificationErrorKind::InvalidTimestamp) (400). The timestamp is
//!   signed exactly as written in the header.
//! - A candidate that is not exactly 32 bytes in the configured encoding (truncated, too
//!   long, bad characters) never matches; a header without any candidate that decodes is
//!   [`SignatureMismatch`](VerificationErrorKind::SignatureMismatch) (401) from
//!   [`Verifier::precheck`] already, before the body is read.
//!
//! # Security
//!
//! - **Constant time.** Signatures are decoded into fixed 32-byte arrays and compared with
//!   [`subtle::ConstantTimeEq`]; shared-secret tokens are compared as SHA-256 digests the
//!   same way, which hides their length too. Nothing secret is compared with `==`.
//! - **Raw bytes.** The MAC is computed over the exact bytes received, fed in pieces
//!   (`timestamp`, `.`, body) without copying; the body need not be UTF-8.
//! - **Replay window.** Timestamped schemes accept timestamps at most the tolerance away
//!   from the [`Clock`] (default 5 minutes each way, compared in the timestamp's unit:
//!   exactly the tolerance is accepted, one unit more is not). Inside the window a captured
//!   request can be replayed; deduplicate deliveries if that matters. The tolerance is
//!   checked with the headers, before the body is read and before any HMAC work, so a
//!   flood of stale headers costs no buffering; "too old" therefore does not prove that a
//!   request was genuinely signed. RootFi's default scheme carries no timestamp and so has no replay window at
//!   all.
//! - **Proxies that rewrite the body.** Anything that re-encodes JSON, changes whitespace,
//!   decompresses or re-chunks into a different byte sequence breaks the signature: such
//!   requests are refused with `SignatureMismatch`. Verify before any body transformation,
//!   and make sure intermediaries pass the body through untouched.
//! - **Secrets** are zeroized on drop (the keyed HMAC state too) and never printed by
//!   `Debug`. Each secret is keyed once; requests clone the keyed state.
//! - **Bounded work.** At most [`MAX_SIGNATURES`] candidates per header and
//!   [`KeyRing::MAX_KEYS`] keys: one HMAC over the body per active key at most.
//! - **Key rotation.** [`KeyRing::rotate`] accepts a new secret at once and keeps the old
//!   one for a grace period, then refuses it.
//! - **Never reuse one secret for two providers or schemes.** Railz and the Stripe preset
//!   both sign `<t>.<body>`, and body-only schemes (RootFi v4, GitHub) are interchangeable:
//!   with one secret on two routes, a delivery for one verifies on the other.
//!   [`shared_secrets`] (or [`Verifier::shares_secret_with`]) finds such pairs at startup.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName};

mod clock;
mod content;
mod engine;
mod error;
#[cfg(feature = "explain")]
mod explain;
mod header;
mod keys;
mod parsed;
#[cfg(feature = "layer")]
mod prechecked;
mod request;
mod scheme;
mod shared_secret;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{VerificationError, VerificationErrorKind};
#[cfg(feature = "explain")]
pub use explain::{BodyChange, Explanation, Finding, SchemeGuess};
pub use header::MAX_SIGNATURES;
#[cfg(feature = "layer")]
pub(crate) use header::first as header_value;
pub use keys::KeyRing;
pub use scheme::{
    DEFAULT_TOLERANCE, Encoding, HmacScheme, SignatureFormat, SignedContent, TimestampUnit,
};

use crate::{ConfigError, Secret};
use clock::TimeSource;
use keys::KeyKind;
use parsed::TimestampCheck;
#[cfg(feature = "layer")]
pub(crate) use prechecked::Prechecked;
use shared_secret::SharedSecretScheme;

/// Verifies one provider's signature scheme over the raw body.
///
/// Cheap to clone (three `Arc`s), `Send + Sync`. Clones share the [`KeyRing`], so a secret
/// rotated through one clone is seen by all of them. See the [module docs](self) for
/// examples and the security model.
#[derive(Clone)]
pub struct Verifier {
    scheme: Arc<Scheme>,
    keys: KeyRing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scheme {
    Hmac(HmacScheme),
    SharedSecret(SharedSecretScheme),
}

impl Verifier {
    /// Railz: `Railz-Signature: t=<ms>,v=<hex>`, HMAC-SHA256 over `<t>.<body>`, timestamps
    /// within 5 minutes. Same as `Verifier::hmac(HmacScheme::railz(), secret)`.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty.
    pub fn railz(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::hmac(HmacScheme::railz(), secret)
    }

    /// RootFi v4 default: `X-RootFi-Signature: [sha256=]<hex HMAC-SHA256 of the body>`.
    /// Same as `Verifier::hmac(HmacScheme::rootfi_v4(), secret)`; see
    /// [`HmacScheme::rootfi_v4`] for why this default is unverified and how to change it
    /// (and [`Verifier::explain`] to find the configuration a captured delivery needs).
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty.
    pub fn rootfi_v4(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::hmac(HmacScheme::rootfi_v4(), secret)
    }

    /// RootFi v3: the shared-secret check ([`shared_secret`](Self::shared_secret)) on
    /// RootFi's default custom header `api_key`. Change the header with
    /// [`with_header`](Self::with_header) to match the header configured on the webhook.
    ///
    /// # Errors
    /// As for [`shared_secret`](Self::shared_secret).
    pub fn rootfi_v3(token: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::token_check(
            HeaderName::from_static("api_key"),
            false,
            "rootfi_v3",
            token,
        )
    }

    /// Stripe-style: `Stripe-Signature: t=<s>,v1=<hex>` over `<t>.<body>`.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty.
    pub fn stripe(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::hmac(HmacScheme::stripe(), secret)
    }

    /// Standard Webhooks: `webhook-signature: v1,<base64>` over `<id>.<t>.<body>`. Pass the
    /// base64-decoded bytes after `whsec_` as the secret.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty.
    pub fn standard_webhooks(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::hmac(HmacScheme::standard_webhooks(), secret)
    }

    /// Slack: `X-Slack-Signature: v0=<hex>` over `v0:<timestamp>:<body>`, timestamp in
    /// `X-Slack-Request-Timestamp` (seconds), within 5 minutes.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty.
    pub fn slack(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::hmac(HmacScheme::slack(), secret)
    }

    /// Paddle Billing: `Paddle-Signature: ts=<s>;h1=<hex>` over `<ts>:<body>`, within 5
    /// minutes.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty.
    pub fn paddle(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::hmac(HmacScheme::paddle(), secret)
    }

    /// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty.
    pub fn github(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::hmac(HmacScheme::github(), secret)
    }

    /// Any HMAC-SHA256 scheme described by `scheme`, keyed with `secret`.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the secret is empty, or naming the scheme
    /// setting that does not fit the others.
    pub fn hmac(scheme: HmacScheme, secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        scheme.validate()?;
        Self::build(Scheme::Hmac(scheme), KeyKind::Hmac, secret.into())
    }

    /// A shared-secret header: the request must carry `header: <token>` exactly (RootFi v3
    /// uses this with its custom header; see [`rootfi_v3`](Self::rootfi_v3)). Compared in
    /// constant time.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `secret` when the token is empty or not visible ASCII
    /// (it could never arrive in a header).
    pub fn shared_secret(
        header: HeaderName,
        token: impl Into<Secret>,
    ) -> Result<Self, ConfigError> {
        Self::token_check(header, false, "shared_secret", token)
    }

    /// `Authorization: Bearer <token>` (Railz's optional bearer authorization). The scheme
    /// name is matched case-insensitively, the token exactly and in constant time.
    ///
    /// # Errors
    /// As for [`shared_secret`](Self::shared_secret).
    pub fn bearer(token: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::token_check(http::header::AUTHORIZATION, true, "bearer", token)
    }

    fn token_check(
        header: HeaderName,
        bearer: bool,
        provider: &'static str,
        token: impl Into<Secret>,
    ) -> Result<Self, ConfigError> {
        let scheme = SharedSecretScheme {
            header,
            bearer,
            provider,
        };
        Self::build(Scheme::SharedSecret(scheme), KeyKind::Token, token.into())
    }

    fn build(scheme: Scheme, kind: KeyKind, secret: Secret) -> Result<Self, ConfigError> {
        let keys = KeyRing::new(kind, secret, TimeSource::system())?;
        Ok(Self {
            scheme: Arc::new(scheme),
            keys,
        })
    }

    /// Also accepts each of `secrets` (no expiry), e.g. the previous secrets during a
    /// rotation; the constructor's secret stays the primary one used by
    /// [`sign`](Self::sign).
    ///
    /// ```
    /// use ledgerhook::Verifier;
    ///
    /// let verifier = Verifier::railz("current")?.also_accepting(["previous", "older"])?;
    /// assert_eq!(verifier.keys().active_keys(), 3);
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As for [`KeyRing::add`].
    pub fn also_accepting<S: Into<Secret>>(
        self,
        secrets: impl IntoIterator<Item = S>,
    ) -> Result<Self, ConfigError> {
        for secret in secrets {
            self.keys.add(secret)?;
        }
        Ok(self)
    }

    /// Reads the signature (or the token) from `header` instead of the preset's default,
    /// keeping every other setting: a RootFi v4 webhook with a custom `signature_header`, a
    /// RootFi v3 custom token header, a Stripe-style sender under its own name.
    ///
    /// ```
    /// use ledgerhook::Verifier;
    ///
    /// let v4 = Verifier::rootfi_v4("signing_key")?.with_header("x-commenda-signature")?;
    /// let v3 = Verifier::rootfi_v3("token")?.with_header("x-webhook-token")?;
    /// assert_eq!(v3.header().as_str(), "x-webhook-token");
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] for setting `header` when `header` is not a valid header name or
    /// clashes with another header of the scheme.
    pub fn with_header<H>(mut self, header: H) -> Result<Self, ConfigError>
    where
        H: TryInto<HeaderName>,
    {
        let header = header
            .try_into()
            .map_err(|_| ConfigError::invalid("header", "is not a valid header name"))?;
        match Arc::make_mut(&mut self.scheme) {
            Scheme::Hmac(scheme) => {
                let changed = scheme.clone().signature_header(header);
                changed.validate()?;
                *scheme = changed;
            }
            Scheme::SharedSecret(scheme) => scheme.header = header,
        }
        Ok(self)
    }

    /// Uses `clock` for timestamp tolerance, key expiry and
    /// [`signed_request`](Self::signed_request) (e.g. a [`ManualClock`] in tests).
    ///
    /// The key ring stays shared with every earlier clone: a secret rotated through any of
    /// them is seen by this one too.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.keys = self.keys.with_clock(TimeSource::custom(Arc::new(clock)));
        self
    }

    /// Accepts timestamps at most `tolerance` away from the clock, in both directions
    /// (default [`DEFAULT_TOLERANCE`]; compared in the timestamp's unit, so exactly
    /// `tolerance` away is accepted and one unit further is not). The only place the
    /// tolerance is set. No effect on schemes without a timestamp.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        if let Scheme::Hmac(scheme) = Arc::make_mut(&mut self.scheme) {
            scheme.tolerance = Some(tolerance);
        }
        self
    }

    /// Turns the timestamp tolerance off: any signed, well-formed timestamp is accepted.
    /// This removes replay protection; deduplicate deliveries if you do this.
    #[must_use]
    pub fn without_tolerance(mut self) -> Self {
        if let Scheme::Hmac(scheme) = Arc::make_mut(&mut self.scheme) {
            scheme.tolerance = None;
        }
        self
    }

    /// The timestamp tolerance; `None` when turned off or for schemes without a timestamp.
    #[must_use]
    pub fn timestamp_tolerance(&self) -> Option<Duration> {
        match &*self.scheme {
            Scheme::Hmac(scheme) if scheme.timestamp_source().is_some() => scheme.tolerance,
            _ => None,
        }
    }

    /// Whether this verifier and `other` accept a common secret (any active key of one
    /// equals any active key of the other), compared in constant time. Run it over your
    /// configured verifiers at startup (see [`shared_secrets`]): a secret must never be
    /// reused for two providers or two schemes.
    ///
    /// ```
    /// use ledgerhook::Verifier;
    ///
    /// let railz = Verifier::railz("same")?;
    /// let stripe = Verifier::stripe("same")?;
    /// assert!(railz.shares_secret_with(&stripe));
    /// assert!(!railz.shares_secret_with(&Verifier::stripe("other")?));
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    #[must_use]
    pub fn shares_secret_with(&self, other: &Self) -> bool {
        self.keys.shares_a_key_with(&other.keys)
    }

    /// The secrets this verifier (and every clone of it) accepts; change them at runtime.
    #[must_use]
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The header carrying the signature or token.
    #[must_use]
    pub fn header(&self) -> &HeaderName {
        match &*self.scheme {
            Scheme::Hmac(scheme) => &scheme.header,
            Scheme::SharedSecret(scheme) => &scheme.header,
        }
    }

    /// The lower-case name of the preset this verifier was built from: `railz`, `rootfi`,
    /// `rootfi_v3`, `stripe`, `standard_webhooks`, `slack`, `paddle`, `github`, `bearer`,
    /// `shared_secret`, or `hmac` for a custom scheme (see [`HmacScheme::provider`]). For
    /// default limits and metric labels; never contains anything secret.
    ///
    /// ```
    /// assert_eq!(ledgerhook::Verifier::railz("s")?.provider(), "railz");
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    #[must_use]
    pub fn provider(&self) -> &'static str {
        match &*self.scheme {
            Scheme::Hmac(scheme) => scheme.provider,
            Scheme::SharedSecret(scheme) => scheme.provider,
        }
    }

    /// The HMAC scheme, `None` for shared-secret verifiers.
    #[must_use]
    pub fn hmac_scheme(&self) -> Option<&HmacScheme> {
        match &*self.scheme {
            Scheme::Hmac(scheme) => Some(scheme),
            Scheme::SharedSecret(_) => None,
        }
    }

    /// Checks that `headers` carry a valid signature (or token) for the exact bytes `body`,
    /// made with any active key, and that a signed timestamp is within the tolerance.
    ///
    /// # Errors
    /// A [`VerificationError`] saying why the request is not authentic; its
    /// [`status`](VerificationError::status) is the status to answer with.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerificationError> {
        self.verify_inner(headers, body, TimestampCheck::Enforce)
    }

    /// Like [`verify`](Self::verify) but without the tolerance check: the timestamp must
    /// still be well-formed and signed. For re-processing stored deliveries.
    ///
    /// # Errors
    /// As for [`verify`](Self::verify), never `TimestampTooOld`/`TimestampInFuture`.
    pub fn verify_ignoring_timestamp(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), VerificationError> {
        self.verify_inner(headers, body, TimestampCheck::Ignore)
    }

    /// Checks what can be checked before the body arrives, so a server can refuse a
    /// request that cannot verify without reading (or buffering) its body.
    ///
    /// - HMAC schemes: the header parse of [`verify`](Self::verify), exactly: the signature
    ///   header (and a separate timestamp or id header, if the scheme has one) present and
    ///   well-formed (`MissingSignature`, `InvalidHeader`, `InvalidTimestamp`); at least one
    ///   candidate that decodes to a 32-byte MAC in the scheme's encoding
    ///   (`SignatureMismatch` otherwise); and, for timestamped schemes, the timestamp inside
    ///   the tolerance (`TimestampTooOld`, `TimestampInFuture`). So a forged but
    ///   well-formed header with a stale timestamp or a MAC of the wrong length never makes
    ///   a server buffer a body. Only the HMAC itself needs the body: `Ok` here does **not**
    ///   mean the request is authentic.
    /// - Shared-secret and bearer verifiers: the complete token check, exactly as `verify`
    ///   does it (the body is not part of it).
    ///
    /// Whenever this returns an error, `verify` with the same headers returns the same error
    /// whatever the body. Call `verify` afterwards in every case.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use http::{HeaderMap, HeaderValue};
    /// use ledgerhook::{Verifier, VerificationErrorKind};
    ///
    /// let railz = Verifier::railz("railz_test_secret")?;
    /// let err = railz.precheck(&HeaderMap::new()).unwrap_err();
    /// assert_eq!(err.kind(), VerificationErrorKind::MissingSignature);
    ///
    /// // A stale timestamp is refused before the body is read, signed or not.
    /// let mut headers = HeaderMap::new();
    /// let mac = "0".repeat(64);
    /// headers.insert("railz-signature", format!("t=1700000000000,v={mac}").parse()?);
    /// let err = railz.precheck(&headers).unwrap_err();
    /// assert_eq!(err.kind(), VerificationErrorKind::TimestampTooOld);
    ///
    /// // A fresh, well-formed header passes: the body decides.
    /// let signed = railz.sign(b"{}", SystemTime::now());
    /// assert!(railz.precheck(&signed).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The [`VerificationError`] `verify` would return for these headers and any body.
    pub fn precheck(&self, headers: &HeaderMap) -> Result<(), VerificationError> {
        match &*self.scheme {
            Scheme::Hmac(scheme) => parsed::parse_then(
                scheme,
                self.keys.clock(),
                headers,
                TimestampCheck::Enforce,
                |_| (),
            ),
            Scheme::SharedSecret(scheme) => {
                scheme.verify(&self.keys.load(), self.keys.clock(), headers)
            }
        }
    }

    /// [`precheck`](Self::precheck), keeping what it parsed for
    /// [`verify_prechecked`](Self::verify_prechecked): the layer verifies the buffered body
    /// without looking up, parsing and decoding the headers or reading the clock again.
    #[cfg(feature = "layer")]
    pub(crate) fn precheck_keeping(
        &self,
        headers: &HeaderMap,
    ) -> Result<Prechecked, VerificationError> {
        match &*self.scheme {
            Scheme::Hmac(scheme) => parsed::parse_then(
                scheme,
                self.keys.clock(),
                headers,
                TimestampCheck::Enforce,
                |parsed| Prechecked::keep(scheme, parsed),
            ),
            Scheme::SharedSecret(scheme) => scheme
                .verify(&self.keys.load(), self.keys.clock(), headers)
                .map(|()| Prechecked::reparse()),
        }
    }

    /// [`verify`](Self::verify) of `body` after `prechecked` passed for the same `headers`.
    ///
    /// What the precheck kept is used as it was: the headers are not parsed again, and the
    /// tolerance was checked when they arrived (a body that takes the layer's deadline to
    /// arrive is still accepted). The key ring is read now, so a secret revoked while the
    /// body was arriving is refused, and a rotated-out key's expiry is decided now. When
    /// nothing was kept (shared-secret tokens, several candidates, header placeholders) this
    /// is `verify` itself.
    #[cfg(feature = "layer")]
    pub(crate) fn verify_prechecked(
        &self,
        prechecked: &Prechecked,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), VerificationError> {
        match (&*self.scheme, prechecked.kept()) {
            (Scheme::Hmac(scheme), Some(kept)) => {
                engine::verify_kept(scheme, &self.keys.load(), self.keys.clock(), kept, body)
            }
            _ => self.verify(headers, body),
        }
    }

    fn verify_inner(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        check: TimestampCheck,
    ) -> Result<(), VerificationError> {
        let keys = self.keys.load();
        let clock = self.keys.clock();
        match &*self.scheme {
            Scheme::Hmac(scheme) => engine::verify(scheme, &keys, clock, headers, body, check),
            Scheme::SharedSecret(scheme) => scheme.verify(&keys, clock, headers),
        }
    }

    /// The headers a sender would attach to `body` at `now`, signed with the primary key
    /// (for tests and local senders). Timestamps are written in the scheme's unit;
    /// Standard-Webhooks-style ids are derived from the body and time; an optional
    /// signature prefix is left out, a required one written; hex is lowercase.
    #[must_use]
    pub fn sign(&self, body: &[u8], now: SystemTime) -> HeaderMap {
        let keys = self.keys.load();
        let Some(key) = keys.primary() else {
            return HeaderMap::new();
        };
        match &*self.scheme {
            Scheme::Hmac(scheme) => engine::sign(scheme, key, body, now),
            Scheme::SharedSecret(scheme) => scheme.sign(key),
        }
    }
}

/// The pairs of named verifiers that accept a common secret, for a warning at startup.
///
/// Never reuse one secret for two providers or schemes: Railz and the Stripe preset both
/// sign `<t>.<body>`, and every body-only scheme (RootFi v4, GitHub, ...) signs the same
/// bytes, so a delivery captured on one route would verify on the other. The secrets are
/// compared as SHA-256 digests in constant time and never shown; the answer holds only the
/// names.
///
/// ```
/// use ledgerhook::Verifier;
/// use ledgerhook::signature::shared_secrets;
///
/// let railz = Verifier::railz("copied-secret")?;
/// let rootfi = Verifier::rootfi_v4("copied-secret")?;
/// let bearer = Verifier::bearer("a-token")?;
/// let pairs = shared_secrets(&[("railz", &railz), ("rootfi", &rootfi), ("bearer", &bearer)]);
/// assert_eq!(pairs, [("railz", "rootfi")]);
/// for (a, b) in pairs {
///     eprintln!("WARNING: routes {a} and {b} share a webhook secret");
/// }
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[must_use]
pub fn shared_secrets<'n>(verifiers: &[(&'n str, &Verifier)]) -> Vec<(&'n str, &'n str)> {
    let mut pairs = Vec::new();
    for (i, (name, verifier)) in verifiers.iter().enumerate() {
        for (other_name, other) in verifiers.iter().skip(i + 1) {
            if verifier.shares_secret_with(other) {
                pairs.push((*name, *other_name));
            }
        }
    }
    pairs
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("keys", &self.keys)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Verifier>();
        assert_send_sync::<VerificationError>();
    }

    #[test]
    fn clones_share_the_key_ring() {
        let a = Verifier::rootfi_v4("one").unwrap();
        let b = a.clone();
        a.keys().replace("two").unwrap();
        let body = b"{}";
        let signed = Verifier::rootfi_v4("two")
            .unwrap()
            .sign(body, SystemTime::now());
        assert!(b.verify(&signed, body).is_ok());
    }

    /// Issue 10: `with_clock` used to give a clone its own copy of the keys, so a rotation
    /// through the original was silently not seen by the clock-changed clone.
    #[test]
    fn with_clock_keeps_sharing_the_key_ring_of_earlier_clones() {
        let a = Verifier::rootfi_v4("one").unwrap();
        let b = a
            .clone()
            .with_clock(ManualClock::new(SystemTime::UNIX_EPOCH));
        a.keys().rotate("two", Duration::ZERO).unwrap();
        assert_eq!(b.keys().active_keys(), 1);
        let signed_two = Verifier::rootfi_v4("two")
            .unwrap()
            .sign(b"x", SystemTime::now());
        assert!(b.verify(&signed_two, b"x").is_ok());
        let signed_one = Verifier::rootfi_v4("one")
            .unwrap()
            .sign(b"x", SystemTime::now());
        assert!(b.verify(&signed_one, b"x").is_err());
        // And the other way round: rotating through the clock-changed clone.
        b.keys().add("three").unwrap();
        assert_eq!(a.keys().active_keys(), 2);
    }

    #[test]
    fn tolerance_setters_change_only_this_verifier() {
        let a = Verifier::railz("s").unwrap();
        let b = a.clone().without_tolerance();
        assert_eq!(a.timestamp_tolerance(), Some(DEFAULT_TOLERANCE));
        assert_eq!(b.timestamp_tolerance(), None);
        let c = b.tolerance(Duration::from_secs(1));
        assert_eq!(c.timestamp_tolerance(), Some(Duration::from_secs(1)));
    }

    fn headers(pairs: &[(&'static str, &'static [u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in pairs {
            map.append(name, http::HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    /// Every error `precheck` reports is the one `verify` reports, whatever the body;
    /// well-formed, fresh headers with a decodable MAC pass `precheck` even when forged.
    #[test]
    fn precheck_reports_exactly_the_header_errors_of_verify() {
        use VerificationErrorKind::{
            InvalidHeader, InvalidTimestamp, MissingSignature, SignatureMismatch,
            TimestampInFuture, TimestampTooOld,
        };
        let since = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap();
        let now_ms = since.as_millis().to_string().into_bytes();
        let now_s: &'static str = Box::leak(since.as_secs().to_string().into_boxed_str());
        let railz_at = |ts: &[u8]| {
            let mut value = b"t=".to_vec();
            value.extend_from_slice(ts);
            value.extend_from_slice(b",v=");
            value.extend_from_slice(&[b'a'; 64]);
            let mut map = HeaderMap::new();
            map.insert(
                "railz-signature",
                http::HeaderValue::from_bytes(&value).unwrap(),
            );
            map
        };
        let railz = Verifier::railz("s").unwrap();
        let rootfi = Verifier::rootfi_v4("s").unwrap();
        let stripe = Verifier::hmac(HmacScheme::stripe(), "s").unwrap();
        let standard = Verifier::hmac(HmacScheme::standard_webhooks(), "s").unwrap();
        let hex = b"e7081c7b8e7f081fbeae78a57c2617f7332035a2729700dda43bc52e87491434";
        let b64 = b"v1,5wgce45/CB++rnilfCYX9zMgNaJylwDdpDvFLodJFDQ=";
        let cases: Vec<(&Verifier, HeaderMap, Option<VerificationErrorKind>)> = vec![
            (&railz, headers(&[]), Some(MissingSignature)),
            (
                &railz,
                headers(&[("railz-signature", b"garbage")]),
                Some(InvalidHeader),
            ),
            (
                &railz,
                headers(&[("railz-signature", b"t=1,v=")]),
                Some(InvalidHeader),
            ),
            (
                &railz,
                headers(&[("railz-signature", b"v=aa")]),
                Some(InvalidHeader),
            ),
            (
                &railz,
                headers(&[("railz-signature", b"t=x,v=aa")]),
                Some(InvalidTimestamp),
            ),
            (
                &railz,
                headers(&[("railz-signature", b"t=1,v=\xff")]),
                Some(InvalidHeader),
            ),
            (
                &railz,
                headers(&[
                    ("railz-signature", b"t=1,v=aa"),
                    ("railz-signature", b"t=1,v=aa"),
                ]),
                Some(InvalidHeader),
            ),
            // No candidate decodes to a 32-byte MAC: refused before the body.
            (
                &railz,
                headers(&[("railz-signature", b"t=1,v=aa")]),
                Some(SignatureMismatch),
            ),
            // A MAC of the right length, but a stale or future timestamp.
            (&railz, railz_at(b"1"), Some(TimestampTooOld)),
            (&railz, railz_at(b"99999999999999"), Some(TimestampInFuture)),
            // Well-formed, decodable, fresh: only the body can tell.
            (&railz, railz_at(&now_ms), None),
            (&rootfi, headers(&[]), Some(MissingSignature)),
            (
                &rootfi,
                headers(&[("x-rootfi-signature", b"sha256=")]),
                Some(InvalidHeader),
            ),
            (&rootfi, headers(&[("x-rootfi-signature", hex)]), None),
            (
                &rootfi,
                headers(&[("x-rootfi-signature", &hex[..62])]),
                Some(SignatureMismatch),
            ),
            (
                &stripe,
                headers(&[("stripe-signature", b"t=1,v0=aa")]),
                Some(InvalidHeader),
            ),
            (
                &standard,
                headers(&[("webhook-signature", b64)]),
                Some(MissingSignature),
            ),
            (
                &standard,
                headers(&[("webhook-signature", b64), ("webhook-timestamp", b"-1")]),
                Some(InvalidTimestamp),
            ),
            (
                &standard,
                headers(&[("webhook-signature", b64), ("webhook-timestamp", b"1")]),
                Some(MissingSignature),
            ),
            (
                &standard,
                headers(&[
                    ("webhook-signature", b64),
                    ("webhook-timestamp", b"1"),
                    ("webhook-id", b"msg_1"),
                ]),
                Some(TimestampTooOld),
            ),
            (
                &standard,
                headers(&[
                    ("webhook-signature", b64),
                    ("webhook-timestamp", now_s.as_bytes()),
                    ("webhook-id", b"msg_1"),
                ]),
                None,
            ),
        ];
        for (verifier, map, expected) in cases {
            let checked = verifier.precheck(&map);
            assert_eq!(
                checked.as_ref().err().map(VerificationError::kind),
                expected,
                "{map:?}"
            );
            for body in [&b""[..], b"{}", b"\xff not json"] {
                let verified = verifier.verify(&map, body);
                match &checked {
                    Err(err) => assert_eq!(verified.as_ref(), Err(err), "{map:?}"),
                    // Forged or stale: refused by `verify`, not for the header's form.
                    Ok(()) => assert!(matches!(
                        verified.map_err(|e| e.kind()),
                        Err(VerificationErrorKind::SignatureMismatch)
                    )),
                }
            }
        }
    }

    #[test]
    fn precheck_passes_a_genuine_request() {
        let body = b"{}";
        for verifier in [
            Verifier::railz("s").unwrap(),
            Verifier::hmac(HmacScheme::standard_webhooks(), "s").unwrap(),
            Verifier::bearer("tok").unwrap(),
        ] {
            let signed = verifier.sign(body, SystemTime::now());
            assert_eq!(verifier.precheck(&signed), Ok(()), "{verifier:?}");
            assert_eq!(verifier.verify(&signed, body), Ok(()), "{verifier:?}");
        }
    }

    /// Shared-secret verifiers need no body: `precheck` is the whole check.
    #[test]
    fn precheck_is_the_complete_token_check() {
        use VerificationErrorKind::{InvalidHeader, MissingToken, TokenMismatch};
        let v3 = Verifier::shared_secret(HeaderName::from_static("api_key"), "fhsjd").unwrap();
        let bearer = Verifier::bearer("fhsjd").unwrap();
        let cases: Vec<(&Verifier, HeaderMap, Option<VerificationErrorKind>)> = vec![
            (&v3, headers(&[("api_key", b"fhsjd")]), None),
            (&v3, headers(&[("api_key", b"fhsjD")]), Some(TokenMismatch)),
            (&v3, headers(&[("api_key", b"fhsjd ")]), Some(TokenMismatch)),
            (&v3, headers(&[]), Some(MissingToken)),
            (
                &v3,
                headers(&[("api_key", b"a"), ("api_key", b"b")]),
                Some(InvalidHeader),
            ),
            (
                &bearer,
                headers(&[("authorization", b"Bearer fhsjd")]),
                None,
            ),
            (
                &bearer,
                headers(&[("authorization", b"Basic fhsjd")]),
                Some(TokenMismatch),
            ),
        ];
        for (verifier, map, expected) in cases {
            let checked = verifier.precheck(&map);
            assert_eq!(
                checked.as_ref().err().map(VerificationError::kind),
                expected,
                "{map:?}"
            );
            assert_eq!(checked, verifier.verify(&map, b"any body"), "{map:?}");
        }
        // A rotated-out token is refused by both.
        v3.keys().replace("new").unwrap();
        let old = headers(&[("api_key", b"fhsjd")]);
        assert_eq!(v3.precheck(&old).unwrap_err().kind(), TokenMismatch);
    }

    #[test]
    fn debug_hides_secrets() {
        let shown = format!(
            "{:?} {:?}",
            Verifier::railz("super-secret-value").unwrap(),
            Verifier::bearer("bearer-token-value").unwrap()
        );
        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert!(!shown.contains("bearer-token-value"), "{shown}");
        assert!(shown.contains("railz-signature"), "{shown}");
    }
}
