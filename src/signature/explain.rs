//! The signature explainer: for a delivery that failed to verify, which common mistake
//! would have made it verify.
//!
//! Off the hot path: it allocates, re-serialises the body and tries a few hundred HMACs,
//! so run it for the operator (a log line, a CLI), never per request of a flood, and never
//! show its findings to the caller. It never prints a secret or a MAC.

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderName};

use super::content::{HeaderValues, Parts, Piece};
use super::engine::{Tag, decoded, matches_raw_key, to_unit};
use super::parsed::{self, ParsedSignature, TimestampCheck};
use super::scheme::{Encoding, HmacScheme, TimestampUnit};
use super::{Scheme, SignedContent, VerificationError, Verifier};
use crate::Secret;

/// What [`Verifier::explain`] found out about one delivery.
///
/// `Display` writes one line per finding, for a log or a terminal.
#[derive(Debug, Clone)]
pub struct Explanation {
    error: Option<VerificationError>,
    findings: Vec<Finding>,
}

/// One mistake that would explain a failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The received body is the signed one after a re-serialisation: it verifies once
    /// `change` is undone. Verify the raw bytes, before any JSON layer touches them.
    BodyReserialized {
        /// What happened to the body on its way to the verifier.
        change: BodyChange,
    },
    /// The configured secret has surrounding whitespace or a newline (read from a file or
    /// an environment variable with a trailing newline); the trimmed secret verifies.
    SecretWhitespace,
    /// The configured secret is the base64 encoding of the sender's key: configure the
    /// decoded bytes.
    SecretIsBase64OfKey,
    /// The sender keys with the base64 encoding of the configured secret: configure the
    /// base64 text.
    SecretShouldBeBase64,
    /// The configured secret carries a prefix the sender's key does not (`whsec_`-style).
    SecretPrefix {
        /// The prefix when it is a well-known public marker (`whsec_`, ...), else `None`.
        prefix: Option<&'static str>,
        /// The rest after the prefix had to be base64-decoded too (Standard Webhooks).
        then_base64: bool,
    },
    /// The timestamp is written in `sent` while the scheme expects the other unit; read in
    /// `sent` it is inside the tolerance.
    TimestampUnit {
        /// The unit the sender used.
        sent: TimestampUnit,
    },
    /// Genuinely signed, but the timestamp is further from the verifier's clock than the
    /// tolerance: a replay, or a clock off by `skew`.
    ClockSkew {
        /// How far the timestamp is from the clock.
        skew: Duration,
        /// Whether the timestamp is ahead of (in the future of) the clock.
        ahead: bool,
        /// The configured tolerance.
        tolerance: Duration,
    },
    /// Another configured verifier (route) accepts the delivery, or one of its secrets
    /// verifies it under this scheme: the delivery went to the wrong route, or the secrets
    /// were swapped.
    OtherVerifier {
        /// The name it was given to [`Verifier::explain_with`].
        name: String,
    },
    /// With a configured secret, another signature configuration verifies it (for RootFi
    /// v4, whose algorithm is undocumented, this is the configuration to use).
    OtherScheme(SchemeGuess),
    /// The headers do not parse for this scheme (see the error); nothing else matched.
    HeaderProblem,
    /// None of the known mistakes explains it: a wrong secret, or a forgery.
    NothingMatched,
}

/// What happened to a body between the sender and the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyChange {
    /// The sender's compact JSON was pretty-printed.
    PrettyPrinted,
    /// The sender's pretty-printed (or spaced) JSON was compacted.
    Compacted,
    /// The object keys were reordered (e.g. sorted).
    KeysReordered,
    /// A trailing newline was added.
    TrailingNewlineAdded,
    /// The trailing newline was removed.
    TrailingNewlineRemoved,
}

/// A signature configuration that verifies a captured delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeGuess {
    /// The header the signature was found in.
    pub header: HeaderName,
    /// The text before the signature in its element (`sha256=`, `v1=`, `v1,`), if any.
    pub prefix: Option<String>,
    /// How the signature is encoded.
    pub encoding: Encoding,
    /// The signed content, as a [`SignedContent::template`] string.
    pub template: &'static str,
    /// Where the timestamp was read from, for templates with one.
    pub timestamp_header: Option<HeaderName>,
}

impl Explanation {
    /// Why verification failed; `None` when the delivery verifies as it is.
    #[must_use]
    pub fn error(&self) -> Option<&VerificationError> {
        self.error.as_ref()
    }

    /// Whether the delivery verifies as it is.
    #[must_use]
    pub fn verified(&self) -> bool {
        self.error.is_none()
    }

    /// The mistakes that would explain the failure (empty when it verifies).
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(error) = &self.error else {
            return f.write_str("the delivery verifies");
        };
        write!(f, "{error}")?;
        for finding in &self.findings {
            write!(f, "\n- {finding}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BodyReserialized { change } => write!(
                f,
                "the body was changed before verification ({change}); verify the raw bytes as received"
            ),
            Self::SecretWhitespace => f.write_str(
                "the configured secret has surrounding whitespace or a newline; the trimmed secret verifies",
            ),
            Self::SecretIsBase64OfKey => f.write_str(
                "the configured secret is the base64 encoding of the signing key; configure the decoded bytes",
            ),
            Self::SecretShouldBeBase64 => f.write_str(
                "the sender signs with the base64 encoding of the configured secret; configure the base64 text",
            ),
            Self::SecretPrefix {
                prefix,
                then_base64,
            } => {
                let shown = prefix.unwrap_or("a `<name>_`");
                write!(f, "the configured secret carries the prefix {shown}; remove it")?;
                if *then_base64 {
                    f.write_str(" and base64-decode the rest")?;
                }
                Ok(())
            }
            Self::TimestampUnit { sent } => {
                let sent = match sent {
                    TimestampUnit::Seconds => "seconds",
                    TimestampUnit::Milliseconds => "milliseconds",
                };
                write!(f, "the timestamp is in {sent}, not in the scheme's unit")
            }
            Self::ClockSkew {
                skew,
                ahead,
                tolerance,
            } => write!(
                f,
                "genuinely signed, but the timestamp is {:.3} s {} the clock (tolerance {} s): a replay or clock skew",
                skew.as_secs_f64(),
                if *ahead { "ahead of" } else { "behind" },
                tolerance.as_secs()
            ),
            Self::OtherVerifier { name } => write!(
                f,
                "the verifier configured as `{name}` accepts it: wrong route or swapped secrets"
            ),
            Self::OtherScheme(guess) => {
                write!(
                    f,
                    "it verifies as HMAC-SHA256 over `{}` in `{}`",
                    guess.template, guess.header
                )?;
                if let Some(prefix) = &guess.prefix {
                    write!(f, " after `{prefix}`")?;
                }
                let encoding = match guess.encoding {
                    Encoding::Hex => "hex",
                    Encoding::Base64 => "base64",
                };
                write!(f, ", {encoding}")?;
                if let Some(ts) = &guess.timestamp_header {
                    write!(f, ", timestamp from `{ts}`")?;
                }
                Ok(())
            }
            Self::HeaderProblem => f.write_str("the signature headers do not parse for this scheme"),
            Self::NothingMatched => f.write_str(
                "no known mistake explains it: a different secret, or not sent by the provider",
            ),
        }
    }
}

impl fmt::Display for BodyChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PrettyPrinted => "pretty-printed",
            Self::Compacted => "compacted",
            Self::KeysReordered => "keys reordered",
            Self::TrailingNewlineAdded => "trailing newline added",
            Self::TrailingNewlineRemoved => "trailing newline removed",
        })
    }
}

/// Public prefixes of well-known secret formats, safe to name in a finding.
const KNOWN_PREFIXES: [&str; 4] = ["whsec_", "whsk_", "sk_", "wh_"];

/// At most this many headers and bytes per header value are scanned for other schemes.
const MAX_SCANNED_HEADERS: usize = 32;
const MAX_SCANNED_VALUE: usize = 1024;

impl Verifier {
    /// Tells which common mistake would have made a failed delivery verify: the body was
    /// re-serialised, the secret has whitespace, is base64 of the key (or the reverse) or
    /// carries a `whsec_`-style prefix, the timestamp is in the other unit or the clock is
    /// skewed, or another signed content, encoding or prefix matches (see [`Finding`]).
    ///
    /// Off the hot path (it tries a few hundred HMACs); its findings are for the operator,
    /// never for the caller. Secrets are never printed.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use ledgerhook::Verifier;
    /// use ledgerhook::signature::{BodyChange, Finding};
    ///
    /// let verifier = Verifier::railz("railz_test_secret")?;
    /// let sent = br#"{"data":{"event":"login"}}"#;
    /// let headers = verifier.sign(sent, SystemTime::now());
    /// // A framework re-serialised the JSON before the verifier saw it:
    /// let received = b"{\n  \"data\": {\n    \"event\": \"login\"\n  }\n}";
    /// let explanation = verifier.explain(&headers, received);
    /// assert_eq!(
    ///     explanation.findings(),
    ///     [Finding::BodyReserialized { change: BodyChange::PrettyPrinted }]
    /// );
    /// println!("{explanation}");
    /// # Ok::<(), ledgerhook::ConfigError>(())
    /// ```
    #[must_use]
    pub fn explain(&self, headers: &HeaderMap, body: &[u8]) -> Explanation {
        self.explain_with(headers, body, &[])
    }

    /// Like [`explain`](Self::explain), also trying the other configured verifiers
    /// (routes), given by name: finds deliveries sent to the wrong route and swapped
    /// secrets.
    #[must_use]
    pub fn explain_with(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        others: &[(&str, &Self)],
    ) -> Explanation {
        let error = match self.verify(headers, body) {
            Ok(()) => {
                return Explanation {
                    error: None,
                    findings: Vec::new(),
                };
            }
            Err(error) => error,
        };
        let mut findings = match &*self.scheme {
            Scheme::Hmac(scheme) => self.explain_hmac(scheme, headers, body),
            Scheme::SharedSecret(_) => self.explain_token(headers),
        };
        for (name, other) in others {
            let accepts = other.verify_ignoring_timestamp(headers, body).is_ok()
                || self
                    .keyed_by(other)
                    .verify_ignoring_timestamp(headers, body)
                    .is_ok();
            if accepts {
                findings.push(Finding::OtherVerifier {
                    name: (*name).to_owned(),
                });
            }
        }
        if findings.is_empty() {
            findings.push(Finding::NothingMatched);
        }
        Explanation {
            error: Some(error),
            findings,
        }
    }

    /// This verifier's scheme with `other`'s keys.
    fn keyed_by(&self, other: &Self) -> Self {
        Self {
            scheme: self.scheme.clone(),
            keys: other.keys.clone(),
        }
    }

    fn secrets(&self) -> Vec<Secret> {
        let now = self.keys.clock().now();
        self.keys
            .load()
            .entries
            .iter()
            .filter(|e| e.is_active(now))
            .map(|e| e.key.secret.clone())
            .collect()
    }

    fn explain_token(&self, headers: &HeaderMap) -> Vec<Finding> {
        let mut findings = Vec::new();
        let Some(presented) = headers.get(self.header()).map(|v| v.as_bytes()) else {
            return findings;
        };
        let presented = presented.strip_prefix(b"Bearer ").unwrap_or(presented);
        let whitespace = self.secrets().iter().any(|s| {
            let trimmed = s.expose().trim_ascii();
            trimmed != s.expose() && trimmed == presented.trim_ascii()
        });
        if whitespace {
            findings.push(Finding::SecretWhitespace);
        }
        findings
    }

    fn explain_hmac(&self, scheme: &HmacScheme, headers: &HeaderMap, body: &[u8]) -> Vec<Finding> {
        let clock = self.keys.clock();
        let mut findings = Vec::new();
        let parsed = match parsed::parse(scheme, clock, headers, TimestampCheck::Ignore) {
            Ok(parsed) => parsed,
            Err(error) => {
                // No decodable MAC is not a syntax problem: another encoding may match.
                if error.kind() != super::VerificationErrorKind::SignatureMismatch {
                    findings.push(Finding::HeaderProblem);
                }
                findings.extend(self.other_schemes(scheme, headers, body));
                return findings;
            }
        };
        if self.verify_ignoring_timestamp(headers, body).is_ok() {
            findings.extend(timestamp_finding(scheme, &parsed, clock.now()));
            return findings;
        }
        let secrets = self.secrets();
        let parts = parsed.parts();
        let matches =
            |key: &[u8], body: &[u8]| matches_raw_key(key, scheme, &parts, body, parsed.macs());
        for (change, variant) in body_variants(body) {
            if secrets.iter().any(|s| matches(s.expose(), &variant)) {
                findings.push(Finding::BodyReserialized { change });
            }
        }
        for secret in &secrets {
            for (finding, key) in secret_variants(secret.expose()) {
                if matches(&key, body) && !findings.contains(&finding) {
                    findings.push(finding);
                }
            }
        }
        if findings.is_empty() {
            findings.extend(self.other_schemes(scheme, headers, body));
        }
        findings
    }

    /// Tries every signature-looking value in the headers against other signed contents,
    /// encodings and prefixes, with the configured secrets.
    fn other_schemes(&self, scheme: &HmacScheme, headers: &HeaderMap, body: &[u8]) -> Vec<Finding> {
        let secrets = self.secrets();
        let timestamps = timestamp_candidates(headers);
        let ids: Vec<&[u8]> = headers
            .iter()
            .filter(|(name, _)| name.as_str().ends_with("-id"))
            .map(|(_, value)| value.as_bytes())
            .collect();
        let mut found = Vec::new();
        for (name, value) in headers.iter().take(MAX_SCANNED_HEADERS) {
            let Some(value) = value.as_bytes().get(..value.len().min(MAX_SCANNED_VALUE)) else {
                continue;
            };
            for (prefix, encoding, mac) in signature_candidates(value) {
                let macs = [mac];
                for (template, content) in guess_contents() {
                    let uses_ts = template.contains("{timestamp}");
                    let uses_id = template.contains("{header:");
                    let ts_options: Vec<(Option<&HeaderName>, &[u8])> = if uses_ts {
                        timestamps.iter().map(|(h, t)| (*h, *t)).collect()
                    } else {
                        vec![(None, &b""[..])]
                    };
                    let id_options: Vec<&[u8]> = if uses_id { ids.clone() } else { vec![b""] };
                    for &(ts_header, ts) in &ts_options {
                        for id in &id_options {
                            let parts = Parts {
                                timestamp: ts,
                                headers: HeaderValues::from_slice(&[id]),
                            };
                            let probe = HmacScheme {
                                content: content.clone(),
                                ..scheme.clone()
                            };
                            let hit = secrets
                                .iter()
                                .any(|s| matches_raw_key(s.expose(), &probe, &parts, body, &macs));
                            let guess = SchemeGuess {
                                header: name.clone(),
                                prefix: prefix.clone(),
                                encoding,
                                template,
                                timestamp_header: ts_header
                                    .cloned()
                                    .or_else(|| uses_ts.then(|| name.clone())),
                            };
                            if hit && !found.contains(&Finding::OtherScheme(guess.clone())) {
                                found.push(Finding::OtherScheme(guess));
                            }
                        }
                    }
                }
            }
        }
        found
    }
}

/// Skew or unit mistake for a delivery that verifies ignoring the timestamp.
fn timestamp_finding(
    scheme: &HmacScheme,
    parsed: &ParsedSignature<'_>,
    now: std::time::SystemTime,
) -> Option<Finding> {
    let (ts, tolerance) = (parsed.timestamp?.value, scheme.tolerance?);
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let other = match scheme.unit {
        TimestampUnit::Seconds => TimestampUnit::Milliseconds,
        TimestampUnit::Milliseconds => TimestampUnit::Seconds,
    };
    let within = |unit| {
        let (now, tol) = (to_unit(since, unit), to_unit(tolerance, unit));
        now.abs_diff(ts) <= tol
    };
    if within(other) {
        return Some(Finding::TimestampUnit { sent: other });
    }
    let now_units = to_unit(since, scheme.unit);
    let diff = now_units.abs_diff(ts);
    let skew = match scheme.unit {
        TimestampUnit::Seconds => Duration::from_secs(diff),
        TimestampUnit::Milliseconds => Duration::from_millis(diff),
    };
    Some(Finding::ClockSkew {
        skew,
        ahead: ts > now_units,
        tolerance,
    })
}

/// The received body with one re-serialisation undone, each with the change it undoes.
fn body_variants(body: &[u8]) -> Vec<(BodyChange, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(stripped) = body
        .strip_suffix(b"\r\n")
        .or_else(|| body.strip_suffix(b"\n"))
    {
        out.push((BodyChange::TrailingNewlineAdded, stripped.to_vec()));
    }
    let mut with_newline = body.to_vec();
    with_newline.push(b'\n');
    out.push((BodyChange::TrailingNewlineRemoved, with_newline));
    let compact = json_compact(body);
    if let Some(compact) = &compact {
        if compact.as_slice() != body {
            // Received pretty: the sender's compact original.
            out.push((BodyChange::PrettyPrinted, compact.clone()));
        } else {
            // Received compact: the sender's pretty or spaced original.
            for pretty in [
                json_pretty(compact, 2),
                json_pretty(compact, 4),
                json_spaced(compact),
            ] {
                out.push((BodyChange::Compacted, pretty));
            }
        }
    }
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) {
        value.sort_all_objects();
        if let Ok(sorted) = serde_json::to_vec(&value)
            && Some(&sorted) != compact.as_ref()
        {
            out.push((BodyChange::KeysReordered, sorted));
        }
        if let Ok(sorted) = serde_json::to_vec_pretty(&value) {
            out.push((BodyChange::KeysReordered, sorted));
        }
    }
    // One change per candidate body: the first (most specific) name wins.
    let mut seen: Vec<Vec<u8>> = Vec::new();
    out.retain(|(_, variant)| {
        let fresh = variant.as_slice() != body && !seen.contains(variant);
        seen.push(variant.clone());
        fresh
    });
    out
}

/// JSON without insignificant whitespace, keys in their order; `None` if not JSON.
fn json_compact(body: &[u8]) -> Option<Vec<u8>> {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).ok()?;
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !b.is_ascii_whitespace() {
            in_string = b == b'"';
            out.push(b);
        }
    }
    Some(out)
}

/// Walks compact JSON, calling `structural` for bytes outside strings.
fn reformat(compact: &[u8], mut structural: impl FnMut(&mut Vec<u8>, u8, Option<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(compact.len() * 2);
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in compact.iter().enumerate() {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            in_string = b == b'"';
            structural(&mut out, b, compact.get(i + 1).copied());
        }
    }
    out
}

/// Pretty-printed like `serde_json::to_vec_pretty` / `JSON.stringify(v, null, indent)`.
fn json_pretty(compact: &[u8], indent: usize) -> Vec<u8> {
    let mut depth = 0usize;
    let mut previous = 0u8;
    reformat(compact, |out, b, next| {
        let newline = |out: &mut Vec<u8>, depth: usize| {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', depth * indent));
        };
        match b {
            b'{' | b'[' => {
                out.push(b);
                if !matches!(next, Some(b'}' | b']')) {
                    depth += 1;
                    newline(out, depth);
                }
            }
            b'}' | b']' => {
                if !matches!(previous, b'{' | b'[') {
                    depth = depth.saturating_sub(1);
                    newline(out, depth);
                }
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(b),
        }
        previous = b;
    })
}

/// Python's `json.dumps` default: `, ` and `: ` separators on one line.
fn json_spaced(compact: &[u8]) -> Vec<u8> {
    reformat(compact, |out, b, _| match b {
        b',' => out.extend_from_slice(b", "),
        b':' => out.extend_from_slice(b": "),
        _ => out.push(b),
    })
}

/// Keys a misconfigured secret may stand for, each with the finding it would prove.
fn secret_variants(secret: &[u8]) -> Vec<(Finding, Vec<u8>)> {
    let mut out = Vec::new();
    let trimmed = secret.trim_ascii();
    if trimmed != secret && !trimmed.is_empty() {
        out.push((Finding::SecretWhitespace, trimmed.to_vec()));
    }
    for decoded in base64_decodings(trimmed) {
        out.push((Finding::SecretIsBase64OfKey, decoded));
    }
    out.push((
        Finding::SecretShouldBeBase64,
        STANDARD.encode(secret).into_bytes(),
    ));
    if let Some(underscore) = trimmed.iter().position(|&b| b == b'_') {
        let (prefix, rest) = trimmed.split_at(underscore + 1);
        if prefix.len() <= 8
            && prefix[..underscore].iter().all(u8::is_ascii_alphabetic)
            && !rest.is_empty()
        {
            let known = KNOWN_PREFIXES
                .iter()
                .copied()
                .find(|p| p.as_bytes() == prefix);
            out.push((
                Finding::SecretPrefix {
                    prefix: known,
                    then_base64: false,
                },
                rest.to_vec(),
            ));
            for decoded in base64_decodings(rest) {
                out.push((
                    Finding::SecretPrefix {
                        prefix: known,
                        then_base64: true,
                    },
                    decoded,
                ));
            }
        }
    }
    out
}

fn base64_decodings(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        if let Ok(decoded) = engine.decode(text)
            && !decoded.is_empty()
            && !out.contains(&decoded)
        {
            out.push(decoded);
        }
    }
    out
}

/// Signed contents worth trying, with the template each stands for.
fn guess_contents() -> Vec<(&'static str, SignedContent)> {
    [
        "{body}",
        "{timestamp}.{body}",
        "{timestamp}:{body}",
        "v0:{timestamp}:{body}",
        "{header:id}.{timestamp}.{body}",
    ]
    .into_iter()
    .filter_map(|template| {
        let content = if template.starts_with("{header:") {
            // Any `*-id` header is tried; the placeholder name is only for the display.
            SignedContent {
                pieces: vec![
                    Piece::Header(HeaderName::from_static("id")),
                    Piece::Literal(Box::from(&b"."[..])),
                    Piece::Timestamp,
                    Piece::Literal(Box::from(&b"."[..])),
                    Piece::Body,
                ],
            }
        } else {
            SignedContent::template(template).ok()?
        };
        Some((template, content))
    })
    .collect()
}

/// Timestamp-looking values: `*timestamp*` headers and `t=`/`ts=` elements of any header.
fn timestamp_candidates(headers: &HeaderMap) -> Vec<(Option<&HeaderName>, &[u8])> {
    let mut out = Vec::new();
    for (name, value) in headers.iter().take(MAX_SCANNED_HEADERS) {
        let value = value.as_bytes();
        if name.as_str().contains("timestamp") && value.iter().all(u8::is_ascii_digit) {
            out.push((Some(name), value));
        }
        for element in value.split(|&b| b == b',' || b == b';' || b == b' ') {
            let element = element.trim_ascii();
            for key in [&b"t="[..], b"ts="] {
                if let Some(ts) = element.strip_prefix(key)
                    && !ts.is_empty()
                    && ts.iter().all(u8::is_ascii_digit)
                {
                    out.push((None, ts));
                }
            }
        }
    }
    out
}

/// Every element of a header value that decodes to a 32-byte MAC, with the text before it.
fn signature_candidates(value: &[u8]) -> Vec<(Option<String>, Encoding, Tag)> {
    let mut out = Vec::new();
    for element in value.split(|&b| b == b',' || b == b';' || b == b' ') {
        let element = element.trim_ascii();
        let mut splits = vec![(None, element)];
        if let Some(eq) = element.iter().position(|&b| b == b'=') {
            let (prefix, rest) = element.split_at(eq + 1);
            splits.push((Some(prefix), rest));
        }
        for (prefix, candidate) in splits {
            for encoding in [Encoding::Hex, Encoding::Base64] {
                if let Some(tag) = decoded(encoding, candidate) {
                    let prefix = prefix.map(|p| String::from_utf8_lossy(p).into_owned());
                    out.push((prefix, encoding, tag));
                }
            }
        }
    }
    out
}
