//! The verifier presets the targets run, each with an independent reference model.
//!
//! The model is written from the documented rules (the table and "Header parsing rules" in
//! `ledgerhook::signature`), with `&str` methods and the `hmac`/`hex`/`base64` crates
//! directly, and shares no code with the crate's parser or engine. Targets assert that the
//! crate's verdict (error kind and header) equals the model's for every input, so a
//! difference between what the docs promise and what the code does is a finding, not just
//! a panic.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName};
use ledgerhook::signature::{
    Encoding, HmacScheme, ManualClock, SignatureFormat, SignedContent, TimestampUnit,
};
use ledgerhook::{VerificationErrorKind as Kind, Verifier};
use sha2::Sha256;

/// The fixed time every target's clock shows: 2023-11-14T22:13:20Z.
pub const NOW_MS: u64 = 1_700_000_000_000;

/// [`NOW_MS`] as a `SystemTime`.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(NOW_MS)
}

/// The most candidates per header (`ledgerhook::signature::MAX_SIGNATURES`, as documented).
const MAX_SIGNATURES: usize = 8;

/// A verdict: `Ok`, or the error kind with the header it names.
pub type Verdict = Result<(), (Kind, Option<HeaderName>)>;

/// A verifier with its model.
pub struct Preset {
    /// Short name, used in seed file names and assertion messages.
    pub name: &'static str,
    /// The crate's verifier, with its clock at [`now`].
    pub verifier: Verifier,
    /// What the verifier should do.
    pub model: Model,
}

/// The reference model of one preset.
#[derive(Clone)]
pub enum Model {
    /// Any HMAC scheme.
    Hmac(HmacModel),
    /// A shared-secret header, maybe `Bearer`.
    Token {
        /// Header carrying the token.
        header: HeaderName,
        /// `Authorization: Bearer <token>`.
        bearer: bool,
        /// The configured token.
        token: String,
    },
}

/// Signature header layout.
#[derive(Clone, Copy)]
pub enum Layout {
    /// Whole value, maybe after a prefix.
    Bare {
        /// The prefix.
        prefix: Option<&'static str>,
        /// Whether the prefix must be there.
        required: bool,
    },
    /// `k=v,k=v` (or with another element separator).
    KeyValue {
        /// Between elements: `,` or `;` (Paddle).
        separator: char,
        /// Key of signature elements.
        signature: &'static str,
        /// Key of the timestamp element.
        timestamp: Option<&'static str>,
    },
    /// `ver,sig ver,sig`.
    Versioned {
        /// The accepted version.
        version: &'static str,
    },
}

/// Model of one HMAC scheme.
#[derive(Clone)]
pub struct HmacModel {
    /// Signature header.
    pub header: HeaderName,
    /// Its layout.
    pub layout: Layout,
    /// Base64 rather than hex.
    pub base64: bool,
    /// The timestamp is signed (`<ts>.` before the body).
    pub signs_timestamp: bool,
    /// What is signed before and after the timestamp: `("", ".")` for `<ts>.<body>`,
    /// `("v0:", ":")` for Slack, `("", ":")` for Paddle.
    pub around_timestamp: (&'static str, &'static str),
    /// `<id>.` is signed first, the id taken from this header.
    pub id_header: Option<HeaderName>,
    /// The timestamp has its own header.
    pub timestamp_header: Option<HeaderName>,
    /// Timestamps in milliseconds (else seconds).
    pub millis: bool,
    /// Tolerance in seconds, `None` for none.
    pub tolerance_s: Option<u64>,
    /// The secret.
    pub secret: Vec<u8>,
}

fn name(s: &'static str) -> HeaderName {
    HeaderName::from_static(s)
}

fn clocked(verifier: Verifier) -> Verifier {
    verifier.with_clock(ManualClock::new(now()))
}

/// Every preset: the four named HMAC schemes, four custom ones that cover the other
/// settings, Slack and Paddle (literal text around the timestamp, a `;`-separated list), and
/// the two shared-secret kinds.
pub static PRESETS: LazyLock<Vec<Preset>> = LazyLock::new(build_presets);

/// The HMAC presets only (a prefix of [`PRESETS`]).
pub fn hmac_presets() -> &'static [Preset] {
    let n = PRESETS
        .iter()
        .take_while(|p| matches!(p.model, Model::Hmac(_)))
        .count();
    PRESETS.get(..n).unwrap_or_default()
}

/// The shared-secret presets (the rest of [`PRESETS`]).
pub fn token_presets() -> &'static [Preset] {
    PRESETS.get(hmac_presets().len()..).unwrap_or_default()
}

#[allow(clippy::too_many_lines)]
fn build_presets() -> Vec<Preset> {
    let hmac = |scheme: HmacScheme, secret: &'static [u8]| {
        clocked(Verifier::hmac(scheme, secret).expect("valid preset"))
    };
    vec![
        Preset {
            name: "railz",
            verifier: clocked(Verifier::railz("railz_fuzz_secret").expect("valid")),
            model: Model::Hmac(HmacModel {
                header: name("railz-signature"),
                layout: Layout::KeyValue {
                    separator: ',',
                    signature: "v",
                    timestamp: Some("t"),
                },
                base64: false,
                signs_timestamp: true,
                around_timestamp: ("", "."),
                id_header: None,
                timestamp_header: None,
                millis: true,
                tolerance_s: Some(300),
                secret: b"railz_fuzz_secret".to_vec(),
            }),
        },
        Preset {
            name: "rootfi",
            verifier: clocked(Verifier::rootfi_v4("rootfi_signing_key").expect("valid")),
            model: Model::Hmac(HmacModel {
                header: name("x-rootfi-signature"),
                layout: Layout::Bare {
                    prefix: Some("sha256="),
                    required: false,
                },
                base64: false,
                signs_timestamp: false,
                around_timestamp: ("", "."),
                id_header: None,
                timestamp_header: None,
                millis: false,
                tolerance_s: Some(300),
                secret: b"rootfi_signing_key".to_vec(),
            }),
        },
        Preset {
            name: "stripe",
            verifier: hmac(HmacScheme::stripe(), b"whsec_stripe_style"),
            model: Model::Hmac(HmacModel {
                header: name("stripe-signature"),
                layout: Layout::KeyValue {
                    separator: ',',
                    signature: "v1",
                    timestamp: Some("t"),
                },
                base64: false,
                signs_timestamp: true,
                around_timestamp: ("", "."),
                id_header: None,
                timestamp_header: None,
                millis: false,
                tolerance_s: Some(300),
                secret: b"whsec_stripe_style".to_vec(),
            }),
        },
        Preset {
            name: "standard_webhooks",
            verifier: hmac(
                HmacScheme::standard_webhooks(),
                b"\x8f\x02 standard webhooks key \xff",
            ),
            model: Model::Hmac(HmacModel {
                header: name("webhook-signature"),
                layout: Layout::Versioned { version: "v1" },
                base64: true,
                signs_timestamp: true,
                around_timestamp: ("", "."),
                id_header: Some(name("webhook-id")),
                timestamp_header: Some(name("webhook-timestamp")),
                millis: false,
                tolerance_s: Some(300),
                secret: b"\x8f\x02 standard webhooks key \xff".to_vec(),
            }),
        },
        Preset {
            name: "bare_base64_required_prefix",
            verifier: hmac(
                HmacScheme::new(name("x-sig"))
                    .format(SignatureFormat::required_prefix("sha256="))
                    .encoding(Encoding::Base64),
                b"k",
            ),
            model: Model::Hmac(HmacModel {
                header: name("x-sig"),
                layout: Layout::Bare {
                    prefix: Some("sha256="),
                    required: true,
                },
                base64: true,
                signs_timestamp: false,
                around_timestamp: ("", "."),
                id_header: None,
                timestamp_header: None,
                millis: false,
                tolerance_s: Some(300),
                secret: b"k".to_vec(),
            }),
        },
        Preset {
            name: "key_value_no_timestamp",
            verifier: hmac(
                HmacScheme::new(name("x-kv-sig")).format(SignatureFormat::key_value("sig")),
                &[0x42; 100],
            ),
            model: Model::Hmac(HmacModel {
                header: name("x-kv-sig"),
                layout: Layout::KeyValue {
                    separator: ',',
                    signature: "sig",
                    timestamp: None,
                },
                base64: false,
                signs_timestamp: false,
                around_timestamp: ("", "."),
                id_header: None,
                timestamp_header: None,
                millis: false,
                tolerance_s: Some(300),
                secret: vec![0x42; 100],
            }),
        },
        Preset {
            name: "key_value_ms_base64",
            verifier: hmac(
                HmacScheme::new(name("x-acme-signature"))
                    .format(SignatureFormat::key_value_with_timestamp("ts", "s1"))
                    .encoding(Encoding::Base64)
                    .signed_content(SignedContent::timestamp_dot_body())
                    .timestamp_unit(TimestampUnit::Milliseconds),
                b"acme secret",
            )
            .tolerance(Duration::from_secs(60)),
            model: Model::Hmac(HmacModel {
                header: name("x-acme-signature"),
                layout: Layout::KeyValue {
                    separator: ',',
                    signature: "s1",
                    timestamp: Some("ts"),
                },
                base64: true,
                signs_timestamp: true,
                around_timestamp: ("", "."),
                id_header: None,
                timestamp_header: None,
                millis: true,
                tolerance_s: Some(60),
                secret: b"acme secret".to_vec(),
            }),
        },
        Preset {
            name: "versioned_hex_timestamp_header",
            verifier: hmac(
                HmacScheme::new(name("x-v-signature"))
                    .format(SignatureFormat::versioned_list("v2"))
                    .signed_content(SignedContent::timestamp_dot_body())
                    .timestamp_header(name("x-v-timestamp")),
                b"versioned",
            )
            .without_tolerance(),
            model: Model::Hmac(HmacModel {
                header: name("x-v-signature"),
                layout: Layout::Versioned { version: "v2" },
                base64: false,
                signs_timestamp: true,
                around_timestamp: ("", "."),
                id_header: None,
                timestamp_header: Some(name("x-v-timestamp")),
                millis: false,
                tolerance_s: None,
                secret: b"versioned".to_vec(),
            }),
        },
        Preset {
            name: "slack",
            verifier: clocked(Verifier::slack("8f742231b10e8888abcd99yyyzzz85a5").expect("valid")),
            model: Model::Hmac(HmacModel {
                header: name("x-slack-signature"),
                layout: Layout::Bare {
                    prefix: Some("v0="),
                    required: true,
                },
                base64: false,
                signs_timestamp: true,
                around_timestamp: ("v0:", ":"),
                id_header: None,
                timestamp_header: Some(name("x-slack-request-timestamp")),
                millis: false,
                tolerance_s: Some(300),
                secret: b"8f742231b10e8888abcd99yyyzzz85a5".to_vec(),
            }),
        },
        Preset {
            name: "paddle",
            verifier: clocked(Verifier::paddle("pdl_ntfset_secret").expect("valid")),
            model: Model::Hmac(HmacModel {
                header: name("paddle-signature"),
                layout: Layout::KeyValue {
                    separator: ';',
                    signature: "h1",
                    timestamp: Some("ts"),
                },
                base64: false,
                signs_timestamp: true,
                around_timestamp: ("", ":"),
                id_header: None,
                timestamp_header: None,
                millis: false,
                tolerance_s: Some(300),
                secret: b"pdl_ntfset_secret".to_vec(),
            }),
        },
        Preset {
            name: "shared_secret",
            verifier: clocked(
                Verifier::shared_secret(name("api_key"), "fhsjd-Token 7").expect("valid"),
            ),
            model: Model::Token {
                header: name("api_key"),
                bearer: false,
                token: "fhsjd-Token 7".into(),
            },
        },
        Preset {
            name: "bearer",
            verifier: clocked(Verifier::bearer("railz-bearer-token").expect("valid")),
            model: Model::Token {
                header: http::header::AUTHORIZATION,
                bearer: true,
                token: "railz-bearer-token".into(),
            },
        },
    ]
}

impl Preset {
    /// The crate's verdict, in the model's terms. Also checks that the error's status is
    /// the documented one for its kind.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Verdict {
        self.verifier.verify(headers, body).map_err(|e| {
            assert_eq!(e.status(), e.kind().status(), "{}", self.name);
            let expected = match e.kind() {
                Kind::InvalidHeader | Kind::InvalidTimestamp => 400,
                _ => 401,
            };
            assert_eq!(e.status().as_u16(), expected, "{}: {e}", self.name);
            // Display never panics; allocation is fine on this path.
            let _ = e.to_string();
            (e.kind(), e.header().cloned())
        })
    }

    /// Asserts that the crate agrees with the model on `headers` + `body`, and that a
    /// request accepted as-is is also accepted when ignoring the timestamp.
    pub fn check(&self, headers: &HeaderMap, body: &[u8]) {
        let actual = self.verify(headers, body);
        let expected = self.model.verify(headers, body);
        assert_eq!(
            actual, expected,
            "{}: crate and model disagree on {headers:?} + {body:?}",
            self.name
        );
        // `precheck` reports everything but the MAC (all errors for shared-secret
        // schemes), and nothing else.
        let early = self
            .verifier
            .precheck(headers)
            .map_err(|e| (e.kind(), e.header().cloned()));
        let expected_early = self.model.precheck(headers);
        assert_eq!(early, expected_early, "{}: precheck", self.name);
        // Ignoring the timestamp is the same model without a tolerance (a stale timestamp
        // is refused before the MAC, so it says nothing about the signature).
        let ignoring = self
            .verifier
            .verify_ignoring_timestamp(headers, body)
            .map_err(|e| (e.kind(), e.header().cloned()));
        let expected_ignoring = match &self.model {
            Model::Hmac(model) => HmacModel {
                tolerance_s: None,
                ..model.clone()
            }
            .verify(headers, body, NOW_MS, true),
            token => token.verify(headers, body),
        };
        assert_eq!(
            ignoring, expected_ignoring,
            "{}: ignoring timestamp",
            self.name
        );
    }
}

fn err(kind: Kind, header: &HeaderName) -> (Kind, Option<HeaderName>) {
    (kind, Some(header.clone()))
}

/// The one value of a header, as visible ASCII text.
fn single<'h>(
    headers: &'h HeaderMap,
    header: &HeaderName,
    missing: Kind,
) -> Result<&'h str, (Kind, Option<HeaderName>)> {
    let mut values = headers.get_all(header).iter();
    let first = values.next().ok_or_else(|| err(missing, header))?;
    if values.next().is_some() {
        return Err(err(Kind::InvalidHeader, header));
    }
    first.to_str().map_err(|_| err(Kind::InvalidHeader, header))
}

const WS: [char; 2] = [' ', '\t'];

/// Parses the signature header: `(timestamp element, candidates)` or `None` if malformed.
fn parse_layout(layout: Layout, value: &str) -> Option<(Option<&str>, Vec<&str>)> {
    let mut candidates = Vec::new();
    let mut timestamp = None;
    match layout {
        Layout::Bare { prefix, required } => {
            let value = value.trim_matches(WS);
            let signature = match prefix.map(|p| value.strip_prefix(p)) {
                Some(Some(rest)) => rest,
                Some(None) if required => return None,
                _ => value,
            };
            candidates.push(signature);
        }
        Layout::KeyValue {
            separator,
            signature,
            timestamp: timestamp_key,
        } => {
            for element in value.split(separator) {
                let (key, val) = element.trim_matches(WS).split_once('=')?;
                if key.is_empty() {
                    return None;
                }
                if Some(key) == timestamp_key {
                    if timestamp.is_some() {
                        return None;
                    }
                    timestamp = Some(val);
                } else if key == signature {
                    candidates.push(val);
                }
            }
            if timestamp_key.is_some() && timestamp.is_none() {
                return None;
            }
        }
        Layout::Versioned { version } => {
            for entry in value.split(WS).filter(|e| !e.is_empty()) {
                let (v, sig) = entry.split_once(',')?;
                if v == version {
                    candidates.push(sig);
                }
            }
        }
    }
    let ok = !candidates.is_empty()
        && candidates.len() <= MAX_SIGNATURES
        && candidates.iter().all(|c| !c.is_empty());
    ok.then_some((timestamp, candidates))
}

fn parse_timestamp(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

impl HmacModel {
    /// The MAC over `[id.][ts.]body`.
    pub fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("any key");
        if self.id_header.is_some() {
            mac.update(id.as_bytes());
            mac.update(b".");
        }
        if self.signs_timestamp {
            mac.update(self.around_timestamp.0.as_bytes());
            mac.update(timestamp.as_bytes());
            mac.update(self.around_timestamp.1.as_bytes());
        }
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// Whether `candidate` is `mac` in the configured encoding: hex of either case, or
    /// canonical base64 with or without its padding.
    pub fn matches(&self, candidate: &str, mac: &[u8; 32]) -> bool {
        if self.base64 {
            let expected = STANDARD.encode(mac);
            candidate == expected || candidate == expected.trim_end_matches('=')
        } else {
            candidate.eq_ignore_ascii_case(&const_hex::encode(mac))
        }
    }

    /// Whether `candidate` decodes to 32 bytes in the configured encoding: 64 hex digits,
    /// or canonical base64 (44 characters padded, 43 unpadded).
    pub fn decodes(&self, candidate: &str) -> bool {
        use base64::engine::general_purpose::STANDARD_NO_PAD;
        if self.base64 {
            let decoded = match candidate.len() {
                44 => STANDARD.decode(candidate),
                43 => STANDARD_NO_PAD.decode(candidate),
                _ => return false,
            };
            decoded.is_ok_and(|bytes| bytes.len() == 32)
        } else {
            candidate.len() == 64 && candidate.bytes().all(|b| b.is_ascii_hexdigit())
        }
    }

    /// The documented order: header syntax, timestamp syntax, other signed headers, a
    /// decodable candidate, the tolerance (all before the body), then the MAC.
    fn verify(&self, headers: &HeaderMap, body: &[u8], now_ms: u64, mac: bool) -> Verdict {
        let sig = &self.header;
        let value = single(headers, sig, Kind::MissingSignature)?;
        let (element_ts, candidates) =
            parse_layout(self.layout, value).ok_or_else(|| err(Kind::InvalidHeader, sig))?;
        let (ts_raw, ts_header) = match (&self.timestamp_header, element_ts) {
            (Some(header), _) => (
                Some(single(headers, header, Kind::MissingSignature)?),
                header,
            ),
            (None, raw) => (raw, sig),
        };
        let timestamp = match ts_raw {
            Some(raw) => {
                Some(parse_timestamp(raw).ok_or_else(|| err(Kind::InvalidTimestamp, ts_header))?)
            }
            None => None,
        };
        let id = match &self.id_header {
            Some(header) => single(headers, header, Kind::MissingSignature)?,
            None => "",
        };
        if !candidates.iter().any(|c| self.decodes(c)) {
            return Err(err(Kind::SignatureMismatch, sig));
        }
        if let (Some(ts), Some(tolerance_s)) = (timestamp, self.tolerance_s) {
            let (now, tolerance) = if self.millis {
                (now_ms, tolerance_s.saturating_mul(1000))
            } else {
                (now_ms / 1000, tolerance_s)
            };
            if ts < now && now - ts > tolerance {
                return Err(err(Kind::TimestampTooOld, ts_header));
            }
            if ts > now && ts - now > tolerance {
                return Err(err(Kind::TimestampInFuture, ts_header));
            }
        }
        if mac {
            let mac = self.mac(id, ts_raw.unwrap_or_default(), body);
            if !candidates.iter().any(|c| self.matches(c, &mac)) {
                return Err(err(Kind::SignatureMismatch, sig));
            }
        }
        Ok(())
    }
}

impl Model {
    /// What the crate should answer with its clock at [`now`].
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Verdict {
        self.verify_at(headers, body, NOW_MS)
    }

    /// What the crate should answer with its clock at `now_ms` (ms since the epoch).
    pub fn verify_at(&self, headers: &HeaderMap, body: &[u8], now_ms: u64) -> Verdict {
        match self {
            Self::Hmac(model) => model.verify(headers, body, now_ms, true),
            Self::Token {
                header,
                bearer,
                token,
            } => {
                let value = single(headers, header, Kind::MissingToken)?;
                let presented = if *bearer {
                    value
                        .split_once(' ')
                        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                        .map(|(_, rest)| rest.trim_start_matches(WS))
                } else {
                    Some(value)
                };
                if presented == Some(token.as_str()) {
                    Ok(())
                } else {
                    Err(err(Kind::TokenMismatch, header))
                }
            }
        }
    }

    /// What the crate's `precheck` should answer at [`now`]: everything but the MAC for
    /// HMAC schemes, the whole check for tokens.
    pub fn precheck(&self, headers: &HeaderMap) -> Verdict {
        match self {
            Self::Hmac(model) => model.verify(headers, &[], NOW_MS, false),
            Self::Token { .. } => self.verify(headers, &[]),
        }
    }

    /// The timestamp value [`now`] has in this scheme's unit, as written in headers.
    pub fn now_text(&self) -> String {
        self.now_text_at(NOW_MS)
    }

    /// The timestamp value `now_ms` has in this scheme's unit, as written in headers.
    pub fn now_text_at(&self, now_ms: u64) -> String {
        match self {
            Self::Hmac(m) if m.millis => now_ms.to_string(),
            _ => (now_ms / 1000).to_string(),
        }
    }
}
