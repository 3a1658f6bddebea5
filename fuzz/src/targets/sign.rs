//! `sign_verify`: the differential target.
//!
//! For a random scheme (every preset's configuration), secret, time and body: what
//! `Verifier::sign` writes must verify at that time, and one changed byte in the body, the
//! signature header, the timestamp or the id must not. The only single-byte changes that
//! may still verify are the documented equivalent spellings of the same signature:
//! - a hex digit `a`-`f` in the other case (hex is accepted in either case);
//! - base64's trailing `=` turned into a space or tab (padding is optional and whitespace
//!   around the signature is trimmed);
//! - the `Bearer` scheme name in another case (RFC 9110: case-insensitive).
//!
//! Shared-secret tokens do not cover the body, so only their header is changed. Every
//! verdict, before and after the change, must also equal the reference model's.

use std::time::{Duration, UNIX_EPOCH};

use arbitrary::{Arbitrary, Unstructured};
use http::{HeaderMap, HeaderName, HeaderValue};
use ledgerhook::Verifier;
use ledgerhook::signature::ManualClock;

use super::model::{Layout, Model, PRESETS};

/// The structured input of `sign_verify` (decoded with `arbitrary`).
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct SignInput<'a> {
    /// Which preset's scheme (modulo their number).
    pub scheme: u8,
    /// Signing time, milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What to change: [`Part`] index (modulo 4).
    pub part: u8,
    /// Which byte of that part (modulo its length).
    pub position: u16,
    /// XOR mask for that byte (0 is taken as 1).
    pub xor: u8,
    /// The secret or token.
    pub secret: &'a [u8],
    /// The body.
    pub body: &'a [u8],
}

/// The part of a signed request that gets one byte changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The raw body.
    Body,
    /// The signature (or token) header's value.
    Signature,
    /// The timestamp, wherever the scheme writes it.
    Timestamp,
    /// The message id header.
    Id,
}

impl Part {
    fn from_index(index: u8) -> Self {
        match index % 4 {
            0 => Self::Body,
            1 => Self::Signature,
            2 => Self::Timestamp,
            _ => Self::Id,
        }
    }
}

/// Decodes the input; `None` if it is too short.
pub fn decode(data: &[u8]) -> Option<SignInput<'_>> {
    SignInput::arbitrary_take_rest(Unstructured::new(data)).ok()
}

/// `sign_verify`.
pub fn sign_verify(data: &[u8]) {
    if let Some(input) = decode(data) {
        check(&input);
    }
}

/// Whether a token can travel in a header exactly as configured: what the crate documents
/// for `shared_secret`/`bearer` (non-empty visible ASCII; inner spaces allowed, but not at
/// either end, where HTTP parsers trim them).
fn token_fits_a_header(token: &[u8]) -> bool {
    !token.is_empty()
        && token.iter().all(|&b| b.is_ascii_graphic() || b == b' ')
        && token.first() != Some(&b' ')
        && token.last() != Some(&b' ')
}

/// Runs one input.
pub fn check(input: &SignInput<'_>) {
    let preset = &PRESETS[usize::from(input.scheme) % PRESETS.len()];
    let Some(at) = UNIX_EPOCH.checked_add(Duration::from_millis(input.at_ms)) else {
        return;
    };
    let (built, model) = match &preset.model {
        Model::Hmac(m) => {
            let scheme = preset.verifier.hmac_scheme().expect("hmac preset").clone();
            let mut m = m.clone();
            m.secret = input.secret.to_vec();
            let built = Verifier::hmac(scheme, input.secret);
            assert_eq!(built.is_ok(), !input.secret.is_empty(), "{built:?}");
            (built, Model::Hmac(m))
        }
        Model::Token { header, bearer, .. } => {
            let built = if *bearer {
                Verifier::bearer(input.secret)
            } else {
                Verifier::shared_secret(header.clone(), input.secret)
            };
            assert_eq!(
                built.is_ok(),
                token_fits_a_header(input.secret),
                "{built:?}"
            );
            let token = String::from_utf8_lossy(input.secret).into_owned();
            let model = Model::Token {
                header: header.clone(),
                bearer: *bearer,
                token,
            };
            (built, model)
        }
    };
    let Ok(verifier) = built else {
        return;
    };
    let verifier = verifier.with_clock(ManualClock::new(at));
    let agree = |headers: &HeaderMap, body: &[u8]| {
        let actual = verifier
            .verify(headers, body)
            .map_err(|e| (e.kind(), e.header().cloned()));
        let expected = model.verify_at(headers, body, input.at_ms);
        assert_eq!(actual, expected, "{}: {headers:?}", preset.name);
        actual.is_ok()
    };

    let signed = verifier.sign(input.body, at);
    assert!(
        agree(&signed, input.body),
        "{}: signed request refused",
        preset.name
    );

    let xor = input.xor.max(1);
    let position = usize::from(input.position);
    let sig_name = verifier.header().clone();
    let changed = match (Part::from_index(input.part), &model) {
        (Part::Body, Model::Hmac(_)) => {
            let mut body = input.body.to_vec();
            let Some(len) = std::num::NonZeroUsize::new(body.len()) else {
                return;
            };
            body[position % len] ^= xor;
            assert!(
                !agree(&signed, &body),
                "{}: changed body accepted",
                preset.name
            );
            return;
        }
        (Part::Signature, _) => {
            change_header(&signed, &sig_name, None, position, xor).map(|(h, at, old, new)| {
                (
                    h,
                    is_equivalent_spelling(&model, &signed, &sig_name, at, old, new),
                )
            })
        }
        (Part::Timestamp, Model::Hmac(m)) => match (&m.timestamp_header, m.layout) {
            (Some(name), _) => {
                change_header(&signed, name, None, position, xor).map(|(h, ..)| (h, false))
            }
            (
                None,
                Layout::KeyValue {
                    timestamp: Some(key),
                    ..
                },
            ) => {
                // `key=<ts>,...`: change a byte of `<ts>` only.
                let ts_len = model.now_text_at(input.at_ms).len();
                let range = key.len() + 1..key.len() + 1 + ts_len;
                change_header(&signed, &sig_name, Some(range), position, xor)
                    .map(|(h, ..)| (h, false))
            }
            _ => None,
        },
        (Part::Id, Model::Hmac(m)) => m
            .id_header
            .as_ref()
            .and_then(|name| change_header(&signed, name, None, position, xor))
            .map(|(h, ..)| (h, false)),
        _ => None,
    };
    if let Some((headers, may_verify)) = changed {
        let accepted = agree(&headers, input.body);
        assert!(
            !accepted || may_verify,
            "{}: changed header accepted: {headers:?}",
            preset.name
        );
    }
}

/// `headers` with one byte of `name`'s value (within `range`, default all of it) XORed
/// with `xor`; `None` when the result is not a valid header value (it could not arrive).
/// Also returns the position and the old and new byte.
fn change_header(
    headers: &HeaderMap,
    name: &HeaderName,
    range: Option<std::ops::Range<usize>>,
    position: usize,
    xor: u8,
) -> Option<(HeaderMap, usize, u8, u8)> {
    let mut bytes = headers.get(name)?.as_bytes().to_vec();
    let range = range.unwrap_or(0..bytes.len());
    let len = range.len();
    if len == 0 {
        return None;
    }
    let at = range.start + position % len;
    let old = *bytes.get(at)?;
    let new = old ^ xor;
    bytes[at] = new;
    let value = HeaderValue::from_bytes(&bytes).ok()?;
    let mut changed = headers.clone();
    changed.insert(name.clone(), value);
    Some((changed, at, old, new))
}

/// The documented equivalent spellings (see the module docs).
fn is_equivalent_spelling(
    model: &Model,
    signed: &HeaderMap,
    sig_name: &HeaderName,
    at: usize,
    old: u8,
    new: u8,
) -> bool {
    let case_flip = old.is_ascii_alphabetic() && old.eq_ignore_ascii_case(&new) && old != new;
    let value_len = signed.get(sig_name).map_or(0, |v| v.len());
    match model {
        Model::Hmac(m) if m.base64 => {
            at + 1 == value_len && old == b'=' && (new == b' ' || new == b'\t')
        }
        // The encoded MAC is the value's last 64 characters in every layout `sign` writes.
        Model::Hmac(_) => case_flip && at + 64 >= value_len && old.is_ascii_hexdigit(),
        Model::Token { bearer, .. } => *bearer && case_flip && at < "Bearer".len(),
    }
}
