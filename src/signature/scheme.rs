//! Configuration of the generic HMAC-SHA256 scheme and its presets (Railz, RootFi v4,
//! Stripe-style, Standard Webhooks, Slack, Paddle, GitHub).

use std::borrow::Cow;
use std::time::Duration;

use http::HeaderName;

use super::content::Piece;
pub use super::content::SignedContent;
use crate::ConfigError;

/// The default timestamp tolerance: 5 minutes in both directions.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// A generic HMAC-SHA256 webhook signature scheme: where the signature is, how it is
/// written, and which bytes were signed.
///
/// The presets ([`railz`](Self::railz), [`rootfi_v4`](Self::rootfi_v4), [`stripe`](Self::stripe),
/// [`standard_webhooks`](Self::standard_webhooks)) are ordinary instances of this type;
/// every setting can be changed with the consuming builder methods. The configuration is
/// checked when it is handed to [`Verifier::hmac`](crate::Verifier::hmac).
///
/// ```
/// use http::HeaderName;
/// use ledgerhook::signature::{Encoding, HmacScheme, SignatureFormat};
/// use ledgerhook::Verifier;
///
/// // RootFi deliveries whose signature turns out to be base64 in a custom header:
/// let scheme = HmacScheme::rootfi_v4()
///     .signature_header(HeaderName::from_static("x-my-signature"))
///     .encoding(Encoding::Base64)
///     .format(SignatureFormat::bare());
/// let verifier = Verifier::hmac(scheme, "signing_key")?;
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacScheme {
    pub(crate) header: HeaderName,
    pub(crate) format: SignatureFormat,
    pub(crate) encoding: Encoding,
    pub(crate) content: SignedContent,
    pub(crate) timestamp_header: Option<HeaderName>,
    pub(crate) unit: TimestampUnit,
    pub(crate) tolerance: Option<Duration>,
    pub(crate) provider: &'static str,
}

/// How a signature header's value is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFormat(pub(crate) Format);

/// The grammar of a `key=value` list header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyValueLayout {
    pub(crate) signature_key: Cow<'static, str>,
    pub(crate) timestamp_key: Option<Cow<'static, str>>,
    /// Between elements: `,` (Railz, Stripe), `;` (Paddle).
    pub(crate) element_separator: u8,
    /// Between a key and its value: `=`.
    pub(crate) pair_separator: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Format {
    /// The whole value is one signature, maybe after a prefix.
    Bare {
        prefix: Option<Cow<'static, str>>,
        required: bool,
    },
    /// `k=v` elements separated by `,` (or other separators): `t=<ts>,v1=<sig>,v1=<sig>`.
    KeyValue(KeyValueLayout),
    /// Space-separated `<version>,<sig>` entries (Standard Webhooks).
    Versioned { version: Cow<'static, str> },
}

impl SignatureFormat {
    /// The whole header value is the signature.
    #[must_use]
    pub fn bare() -> Self {
        Self(Format::Bare {
            prefix: None,
            required: false,
        })
    }

    /// The value is the signature, optionally preceded by `prefix` (e.g. `sha256=`).
    #[must_use]
    pub fn optional_prefix(prefix: impl Into<Cow<'static, str>>) -> Self {
        Self(Format::Bare {
            prefix: Some(prefix.into()),
            required: false,
        })
    }

    /// The value is `prefix` followed by the signature; a value without it is malformed.
    #[must_use]
    pub fn required_prefix(prefix: impl Into<Cow<'static, str>>) -> Self {
        Self(Format::Bare {
            prefix: Some(prefix.into()),
            required: true,
        })
    }

    /// A `,`-separated list of `key=value` elements where every element named
    /// `signature_key` is a candidate signature (e.g. `v1=<hex>,v1=<hex>`).
    ///
    /// Elements with other keys are ignored, as Stripe does, so a sender can add new
    /// signature versions without breaking receivers.
    #[must_use]
    pub fn key_value(signature_key: impl Into<Cow<'static, str>>) -> Self {
        Self(Format::KeyValue(KeyValueLayout {
            signature_key: signature_key.into(),
            timestamp_key: None,
            element_separator: b',',
            pair_separator: b'=',
        }))
    }

    /// Like [`key_value`](Self::key_value), with the timestamp in the element named
    /// `timestamp_key` (exactly once): `t=<ts>,v=<sig>` (Railz), `t=<ts>,v1=<sig>` (Stripe).
    #[must_use]
    pub fn key_value_with_timestamp(
        timestamp_key: impl Into<Cow<'static, str>>,
        signature_key: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self(Format::KeyValue(KeyValueLayout {
            signature_key: signature_key.into(),
            timestamp_key: Some(timestamp_key.into()),
            element_separator: b',',
            pair_separator: b'=',
        }))
    }

    /// For `key=value` lists: separates elements with `element` and keys from values with
    /// `pair` instead of `,` and `=` (Paddle: `ts=<s>;h1=<hex>` is `(';', '=')`). Both must
    /// be visible ASCII punctuation and differ. No effect on other formats.
    ///
    /// ```
    /// use ledgerhook::signature::SignatureFormat;
    /// let paddle = SignatureFormat::key_value_with_timestamp("ts", "h1").separators(';', '=');
    /// ```
    #[must_use]
    pub fn separators(mut self, element: char, pair: char) -> Self {
        if let Format::KeyValue(layout) = &mut self.0 {
            // Non-ASCII separators are refused by `validate` (kept as NUL here).
            layout.element_separator = u8::try_from(element).unwrap_or(0);
            layout.pair_separator = u8::try_from(pair).unwrap_or(0);
        }
        self
    }

    /// A space-separated list of `<version>,<signature>` entries, as in Standard Webhooks
    /// (`v1,<base64> v1,<base64>`); entries of other versions are ignored.
    #[must_use]
    pub fn versioned_list(version: impl Into<Cow<'static, str>>) -> Self {
        Self(Format::Versioned {
            version: version.into(),
        })
    }

    fn timestamp_key(&self) -> Option<&str> {
        match &self.0 {
            Format::KeyValue(KeyValueLayout {
                timestamp_key: Some(key),
                ..
            }) => Some(key),
            _ => None,
        }
    }
}

/// How signature bytes are written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Hexadecimal, 64 characters. Either case is accepted; [`sign`](crate::Verifier::sign)
    /// writes lowercase.
    Hex,
    /// Standard base64 alphabet, 44 characters with padding (padding optional when verifying).
    Base64,
}

/// The unit of a numeric Unix timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimestampUnit {
    /// Seconds since the Unix epoch (Stripe, Standard Webhooks).
    Seconds,
    /// Milliseconds since the Unix epoch (Railz).
    Milliseconds,
}

/// Where the timestamp of a request is read from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TimestampSource<'a> {
    /// An element of the signature header (key-value format).
    Element,
    /// Its own header.
    Header(&'a HeaderName),
}

impl HmacScheme {
    /// A scheme reading a bare, lowercase-hex HMAC-SHA256 of the raw body from
    /// `signature_header`, without timestamp. Change the rest with the builder methods.
    #[must_use]
    pub fn new(signature_header: HeaderName) -> Self {
        Self {
            header: signature_header,
            format: SignatureFormat::bare(),
            encoding: Encoding::Hex,
            content: SignedContent::body(),
            timestamp_header: None,
            unit: TimestampUnit::Seconds,
            tolerance: Some(DEFAULT_TOLERANCE),
            provider: "hmac",
        }
    }

    /// Names the provider this scheme is for (the lower-case name
    /// [`Verifier::provider`](crate::Verifier::provider) reports, for default limits and
    /// metric labels). Presets set it; a custom scheme is `hmac` until named.
    #[must_use]
    pub fn provider(mut self, name: &'static str) -> Self {
        self.provider = name;
        self
    }

    /// Railz: `Railz-Signature: t=<ms>,v=<hex>`, HMAC-SHA256 over `<t>.<body>`, tolerance
    /// 5 minutes. Any number of `v=` elements (up to
    /// [`MAX_SIGNATURES`](crate::signature::MAX_SIGNATURES)) may be present; one match is
    /// enough.
    #[must_use]
    pub fn railz() -> Self {
        Self::new(HeaderName::from_static("railz-signature"))
            .format(SignatureFormat::key_value_with_timestamp("t", "v"))
            .signed_content(SignedContent::timestamp_dot_body())
            .timestamp_unit(TimestampUnit::Milliseconds)
            .provider("railz")
    }

    /// RootFi (Commenda Integrations) v4 default: `X-RootFi-Signature: [sha256=]<hex>`,
    /// HMAC-SHA256 of the raw body, no timestamp.
    ///
    /// **Unverified:** RootFi documents the header name and the `signing_key` but not the
    /// algorithm, encoding, prefix or signed content. This default is the most common
    /// convention; if your deliveries differ, change the header
    /// ([`signature_header`](Self::signature_header), matching the webhook's
    /// `signature_header` setting), [`encoding`](Self::encoding),
    /// [`format`](Self::format) or [`signed_content`](Self::signed_content).
    #[must_use]
    pub fn rootfi_v4() -> Self {
        Self::new(HeaderName::from_static("x-rootfi-signature"))
            .format(SignatureFormat::optional_prefix("sha256="))
            .provider("rootfi")
    }

    /// Stripe-style: `Stripe-Signature: t=<s>,v1=<hex>`, HMAC-SHA256 over `<t>.<body>`,
    /// tolerance 5 minutes. Use [`signature_header`](Self::signature_header) for senders
    /// that copy this format under another name.
    #[must_use]
    pub fn stripe() -> Self {
        Self::new(HeaderName::from_static("stripe-signature"))
            .format(SignatureFormat::key_value_with_timestamp("t", "v1"))
            .signed_content(SignedContent::timestamp_dot_body())
            .timestamp_unit(TimestampUnit::Seconds)
            .provider("stripe")
    }

    /// [Standard Webhooks](https://www.standardwebhooks.com/): `webhook-signature:
    /// v1,<base64> ...` over `<webhook-id>.<webhook-timestamp>.<body>`, timestamp in
    /// seconds, tolerance 5 minutes.
    ///
    /// Standard Webhooks secrets are written `whsec_<base64>`: pass the base64-decoded
    /// bytes after the `whsec_` prefix as the secret.
    #[must_use]
    pub fn standard_webhooks() -> Self {
        Self::new(HeaderName::from_static("webhook-signature"))
            .format(SignatureFormat::versioned_list("v1"))
            .encoding(Encoding::Base64)
            .signed_content(SignedContent::id_dot_timestamp_dot_body(
                HeaderName::from_static("webhook-id"),
            ))
            .timestamp_header(HeaderName::from_static("webhook-timestamp"))
            .timestamp_unit(TimestampUnit::Seconds)
            .provider("standard_webhooks")
    }

    /// [Slack](https://api.slack.com/authentication/verifying-requests-from-slack):
    /// `X-Slack-Signature: v0=<hex>` over `v0:<timestamp>:<body>`, the timestamp in
    /// `X-Slack-Request-Timestamp` (seconds), tolerance 5 minutes.
    #[must_use]
    pub fn slack() -> Self {
        Self::new(HeaderName::from_static("x-slack-signature"))
            .format(SignatureFormat::required_prefix("v0="))
            .signed_content(SignedContent {
                pieces: vec![
                    Piece::Literal(Box::from(&b"v0:"[..])),
                    Piece::Timestamp,
                    Piece::Literal(Box::from(&b":"[..])),
                    Piece::Body,
                ],
            })
            .timestamp_header(HeaderName::from_static("x-slack-request-timestamp"))
            .timestamp_unit(TimestampUnit::Seconds)
            .provider("slack")
    }

    /// [Paddle](https://developer.paddle.com/webhooks/signature-verification) Billing:
    /// `Paddle-Signature: ts=<s>;h1=<hex>` over `<ts>:<body>`, tolerance 5 minutes.
    #[must_use]
    pub fn paddle() -> Self {
        Self::new(HeaderName::from_static("paddle-signature"))
            .format(SignatureFormat::key_value_with_timestamp("ts", "h1").separators(';', '='))
            .signed_content(SignedContent {
                pieces: vec![
                    Piece::Timestamp,
                    Piece::Literal(Box::from(&b":"[..])),
                    Piece::Body,
                ],
            })
            .timestamp_unit(TimestampUnit::Seconds)
            .provider("paddle")
    }

    /// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, no timestamp.
    #[must_use]
    pub fn github() -> Self {
        Self::new(HeaderName::from_static("x-hub-signature-256"))
            .format(SignatureFormat::required_prefix("sha256="))
            .provider("github")
    }

    /// Reads the signature from `header` instead.
    #[must_use]
    pub fn signature_header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    /// Sets how the signature header's value is laid out.
    #[must_use]
    pub fn format(mut self, format: SignatureFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets how signature bytes are encoded.
    #[must_use]
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sets which bytes were signed.
    #[must_use]
    pub fn signed_content(mut self, content: SignedContent) -> Self {
        self.content = content;
        self
    }

    /// Reads the timestamp from its own header (for formats without a timestamp element).
    #[must_use]
    pub fn timestamp_header(mut self, header: HeaderName) -> Self {
        self.timestamp_header = Some(header);
        self
    }

    /// Sets the unit of the timestamp.
    #[must_use]
    pub fn timestamp_unit(mut self, unit: TimestampUnit) -> Self {
        self.unit = unit;
        self
    }

    /// The header the signature is read from.
    #[must_use]
    pub fn header(&self) -> &HeaderName {
        &self.header
    }

    /// Where the timestamp comes from, if the scheme has one.
    pub(crate) fn timestamp_source(&self) -> Option<TimestampSource<'_>> {
        match (self.format.timestamp_key(), &self.timestamp_header) {
            (Some(_), _) => Some(TimestampSource::Element),
            (None, Some(header)) => Some(TimestampSource::Header(header)),
            (None, None) => None,
        }
    }

    /// Checks that the settings fit together.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.format.timestamp_key().is_some() && self.timestamp_header.is_some() {
            return Err(ConfigError::conflict(
                "timestamp_header",
                "the format already has a timestamp element",
            ));
        }
        let has_timestamp = self.timestamp_source().is_some();
        self.content.check_shape()?;
        let signs_timestamp = self.content.signs_timestamp();
        if signs_timestamp && !has_timestamp {
            return Err(ConfigError::conflict(
                "signed_content",
                "includes a timestamp but the scheme has no timestamp source",
            ));
        }
        if has_timestamp && !signs_timestamp {
            // An unsigned timestamp can be rewritten by anyone: checking it would give a
            // false sense of replay protection.
            return Err(ConfigError::conflict(
                "signed_content",
                "leaves out the scheme's timestamp",
            ));
        }
        let id_clash = self
            .content
            .headers()
            .any(|name| Some(name) == self.timestamp_header.as_ref() || *name == self.header);
        if id_clash {
            return Err(ConfigError::conflict(
                "header",
                "id header must differ from the signature and timestamp headers",
            ));
        }
        if self.timestamp_header.as_ref() == Some(&self.header) {
            return Err(ConfigError::conflict(
                "header",
                "timestamp header must differ from the signature header",
            ));
        }
        match &self.format.0 {
            Format::Bare { prefix, .. } => {
                if prefix.as_deref().is_some_and(|p| !is_token_text(p)) {
                    return Err(ConfigError::invalid(
                        "format",
                        "signature prefix must be non-empty visible ASCII without spaces",
                    ));
                }
            }
            Format::KeyValue(KeyValueLayout {
                signature_key,
                timestamp_key,
                element_separator,
                pair_separator,
            }) => {
                let (element, pair) = (*element_separator, *pair_separator);
                let separator_ok = |b: u8| b.is_ascii_punctuation();
                if !separator_ok(element) || !separator_ok(pair) || element == pair {
                    return Err(ConfigError::invalid(
                        "format",
                        "separators must be two different visible ASCII punctuation characters",
                    ));
                }
                let key_ok = |key: &str| {
                    is_token_text(key) && !key.bytes().any(|b| b == element || b == pair)
                };
                let keys_ok = key_ok(signature_key) && timestamp_key.as_deref().is_none_or(key_ok);
                if !keys_ok {
                    return Err(ConfigError::invalid(
                        "format",
                        "element keys must be non-empty visible ASCII without separators or spaces",
                    ));
                }
                if timestamp_key.as_deref() == Some(signature_key.as_ref()) {
                    return Err(ConfigError::invalid(
                        "format",
                        "timestamp and signature element keys must differ",
                    ));
                }
            }
            Format::Versioned { version } => {
                if !is_element_key(version) {
                    return Err(ConfigError::invalid(
                        "format",
                        "signature version must be non-empty visible ASCII without `,`, `=` or spaces",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Non-empty visible ASCII (no spaces, no control characters).
fn is_token_text(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

fn is_element_key(s: &str) -> bool {
    is_token_text(s) && !s.contains([',', '='])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for scheme in [
            HmacScheme::railz(),
            HmacScheme::rootfi_v4(),
            HmacScheme::stripe(),
            HmacScheme::standard_webhooks(),
            HmacScheme::slack(),
            HmacScheme::paddle(),
            HmacScheme::github(),
            HmacScheme::new(HeaderName::from_static("x-sig")),
        ] {
            assert_eq!(scheme.validate(), Ok(()), "{scheme:?}");
        }
    }

    #[test]
    fn timestamp_content_needs_a_timestamp_source() {
        let scheme = HmacScheme::rootfi_v4().signed_content(SignedContent::timestamp_dot_body());
        assert!(scheme.validate().is_err());
    }

    #[test]
    fn unsigned_timestamp_is_rejected() {
        let scheme = HmacScheme::railz().signed_content(SignedContent::body());
        assert!(scheme.validate().is_err());
    }

    #[test]
    fn timestamp_in_two_places_is_rejected() {
        let scheme = HmacScheme::railz().timestamp_header(HeaderName::from_static("x-ts"));
        assert!(scheme.validate().is_err());
    }

    #[test]
    fn bad_keys_and_prefixes_are_rejected() {
        let bad = [
            HmacScheme::railz().format(SignatureFormat::key_value_with_timestamp("t", "t")),
            HmacScheme::railz().format(SignatureFormat::key_value_with_timestamp("t", "v,1")),
            HmacScheme::railz().format(SignatureFormat::key_value_with_timestamp("", "v")),
            HmacScheme::rootfi_v4().format(SignatureFormat::optional_prefix("")),
            HmacScheme::rootfi_v4().format(SignatureFormat::required_prefix("sha 256=")),
            HmacScheme::standard_webhooks().format(SignatureFormat::versioned_list("v 1")),
            HmacScheme::paddle().format(
                SignatureFormat::key_value_with_timestamp("ts", "h;1").separators(';', '='),
            ),
            HmacScheme::paddle()
                .format(SignatureFormat::key_value_with_timestamp("ts", "h1").separators(';', ';')),
            HmacScheme::paddle()
                .format(SignatureFormat::key_value_with_timestamp("ts", "h1").separators('a', '=')),
            HmacScheme::paddle()
                .format(SignatureFormat::key_value_with_timestamp("ts", "h1").separators('é', '=')),
        ];
        for scheme in bad {
            assert!(scheme.validate().is_err(), "{scheme:?}");
        }
    }

    #[test]
    fn header_clashes_are_rejected() {
        let scheme = HmacScheme::standard_webhooks()
            .timestamp_header(HeaderName::from_static("webhook-signature"));
        assert!(matches!(
            scheme.validate(),
            Err(e) if e.setting() == "header"
        ));
        let scheme = HmacScheme::standard_webhooks().signed_content(
            SignedContent::id_dot_timestamp_dot_body(HeaderName::from_static("webhook-timestamp")),
        );
        assert!(matches!(
            scheme.validate(),
            Err(e) if e.setting() == "header"
        ));
    }

    #[test]
    fn timestamp_source_follows_format() {
        assert!(matches!(
            HmacScheme::railz().timestamp_source(),
            Some(TimestampSource::Element)
        ));
        assert!(matches!(
            HmacScheme::standard_webhooks().timestamp_source(),
            Some(TimestampSource::Header(h)) if h == "webhook-timestamp"
        ));
        assert!(HmacScheme::rootfi_v4().timestamp_source().is_none());
    }
}
