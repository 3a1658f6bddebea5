//! The signed content: a template of literal bytes and placeholders (timestamp, body, any
//! header's value), fed to the MAC piece by piece without copying the body.

use http::{HeaderMap, HeaderName};

use crate::ConfigError;

/// The most header placeholders one template may name.
pub(crate) const MAX_HEADER_PIECES: usize = 4;

/// Which bytes the sender signed: literal bytes and placeholders, in order. The body is
/// always the exact raw bytes received; the timestamp is signed exactly as written in the
/// header; a header placeholder signs that header's value as received.
///
/// ```
/// use http::HeaderName;
/// use ledgerhook::signature::SignedContent;
///
/// // Slack: `v0:<timestamp>:<body>`.
/// let slack = SignedContent::template("v0:{timestamp}:{body}")?;
/// // Standard Webhooks, spelled out: `<webhook-id>.<timestamp>.<body>`.
/// let standard = SignedContent::template("{header:webhook-id}.{timestamp}.{body}")?;
/// assert_eq!(
///     standard,
///     SignedContent::id_dot_timestamp_dot_body(HeaderName::from_static("webhook-id"))
/// );
/// assert_eq!(SignedContent::template("{body}")?, SignedContent::body());
/// # Ok::<(), ledgerhook::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedContent {
    pub(crate) pieces: Vec<Piece>,
}

/// One piece of a [`SignedContent`] template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(Box<[u8]>),
    Timestamp,
    Body,
    Header(HeaderName),
}

impl SignedContent {
    /// The raw body only (RootFi v4 default, GitHub).
    #[must_use]
    pub fn body() -> Self {
        Self {
            pieces: vec![Piece::Body],
        }
    }

    /// `<timestamp>.<body>` (Railz, Stripe).
    #[must_use]
    pub fn timestamp_dot_body() -> Self {
        Self {
            pieces: vec![
                Piece::Timestamp,
                Piece::Literal(Box::from(&b"."[..])),
                Piece::Body,
            ],
        }
    }

    /// `<id>.<timestamp>.<body>` with the id taken from `id_header` (Standard Webhooks).
    #[must_use]
    pub fn id_dot_timestamp_dot_body(id_header: HeaderName) -> Self {
        let dot = || Piece::Literal(Box::from(&b"."[..]));
        Self {
            pieces: vec![
                Piece::Header(id_header),
                dot(),
                Piece::Timestamp,
                dot(),
                Piece::Body,
            ],
        }
    }

    /// Parses a template: literal text with the placeholders `{timestamp}`, `{body}` and
    /// `{header:<name>}`; `{{` and `}}` stand for literal braces. Exactly one `{body}`, at
    /// most one `{timestamp}` and at most four header placeholders.
    ///
    /// # Errors
    /// [`ConfigError`] for setting `template` when the template is malformed.
    pub fn template(template: &str) -> Result<Self, ConfigError> {
        let bad = |reason| ConfigError::invalid("template", reason);
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut rest = template;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("{{") {
                literal.push(b'{');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("}}") {
                literal.push(b'}');
                rest = after;
            } else if c == '{' {
                let end = rest.find('}').ok_or(bad("has a `{` without `}`"))?;
                let name = rest.get(1..end).unwrap_or_default();
                rest = rest.get(end + 1..).unwrap_or_default();
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal).into()));
                }
                pieces.push(match name {
                    "timestamp" => Piece::Timestamp,
                    "body" => Piece::Body,
                    _ => match name.strip_prefix("header:") {
                        Some(header) => Piece::Header(
                            HeaderName::try_from(header)
                                .map_err(|_| bad("names an invalid header"))?,
                        ),
                        None => return Err(bad("has an unknown placeholder")),
                    },
                });
            } else if c == '}' {
                return Err(bad("has a `}` without `{`"));
            } else {
                let mut buf = [0u8; 4];
                literal.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                rest = rest.get(c.len_utf8()..).unwrap_or_default();
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal.into()));
        }
        let content = Self { pieces };
        content.check_shape()?;
        Ok(content)
    }

    /// Exactly one body, at most one timestamp, a bounded number of headers.
    pub(crate) fn check_shape(&self) -> Result<(), ConfigError> {
        let count = |f: fn(&Piece) -> bool| self.pieces.iter().filter(|p| f(p)).count();
        if count(|p| matches!(p, Piece::Body)) != 1 {
            return Err(ConfigError::invalid("template", "needs exactly one {body}"));
        }
        if count(|p| matches!(p, Piece::Timestamp)) > 1 {
            return Err(ConfigError::invalid(
                "template",
                "has more than one {timestamp}",
            ));
        }
        if self.headers().count() > MAX_HEADER_PIECES {
            return Err(ConfigError::invalid(
                "template",
                "names more than four headers",
            ));
        }
        Ok(())
    }

    /// Whether the timestamp is part of the signed content.
    pub(crate) fn signs_timestamp(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Timestamp))
    }

    /// Whether the content names any header (whose value a verification must read).
    #[cfg(feature = "layer")]
    pub(crate) fn names_headers(&self) -> bool {
        self.headers().next().is_some()
    }

    /// The headers the content names, in order.
    pub(crate) fn headers(&self) -> impl Iterator<Item = &HeaderName> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Header(name) => Some(name),
            _ => None,
        })
    }
}

/// The values of a template's header placeholders in one request, in order.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeaderValues<'h> {
    values: [&'h [u8]; MAX_HEADER_PIECES],
}

impl<'h> HeaderValues<'h> {
    /// Reads every header the content names (each exactly once, visible ASCII).
    #[inline]
    pub(crate) fn read(
        content: &SignedContent,
        headers: &'h HeaderMap,
    ) -> Result<Self, crate::VerificationError> {
        let mut out = Self::default();
        for (slot, name) in out.values.iter_mut().zip(content.headers()) {
            *slot = super::header::single(
                headers,
                name,
                crate::VerificationErrorKind::MissingSignature,
            )?;
        }
        Ok(out)
    }

    /// Values given directly (for signing).
    pub(crate) fn from_slice(values: &[&'h [u8]]) -> Self {
        let mut out = Self::default();
        for (slot, value) in out.values.iter_mut().zip(values) {
            *slot = value;
        }
        out
    }

    pub(crate) fn get(&self, index: usize) -> &'h [u8] {
        self.values.get(index).copied().unwrap_or_default()
    }
}

/// The request's parts a template refers to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub(crate) timestamp: &'a [u8],
    pub(crate) headers: HeaderValues<'a>,
}

impl SignedContent {
    /// Feeds the content to `update` piece by piece: no allocation, no body copy.
    #[inline]
    pub(crate) fn feed(&self, parts: &Parts<'_>, body: &[u8], mut update: impl FnMut(&[u8])) {
        // The presets' shapes without the loop (the hot path of every body-only and
        // `<t>.<body>` scheme).
        match self.pieces.as_slice() {
            [Piece::Body] => return update(body),
            [Piece::Timestamp, Piece::Literal(separator), Piece::Body] => {
                update(parts.timestamp);
                update(separator);
                return update(body);
            }
            _ => {}
        }
        let mut header = 0;
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => update(bytes),
                Piece::Timestamp => update(parts.timestamp),
                Piece::Body => update(body),
                Piece::Header(_) => {
                    update(parts.headers.get(header));
                    header += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(content: &SignedContent, ts: &[u8], headers: &[&[u8]], body: &[u8]) -> Vec<u8> {
        let parts = Parts {
            timestamp: ts,
            headers: HeaderValues::from_slice(headers),
        };
        let mut out = Vec::new();
        content.feed(&parts, body, |bytes| out.extend_from_slice(bytes));
        out
    }

    #[test]
    fn templates_render_literals_and_placeholders() {
        let slack = SignedContent::template("v0:{timestamp}:{body}").unwrap();
        assert_eq!(render(&slack, b"123", &[], b"x=1"), b"v0:123:x=1");
        let sw = SignedContent::template("{header:webhook-id}.{timestamp}.{body}").unwrap();
        assert_eq!(render(&sw, b"5", &[b"msg_1"], b"{}"), b"msg_1.5.{}");
        let braces = SignedContent::template("{{{body}}}").unwrap();
        assert_eq!(render(&braces, b"", &[], b"b"), b"{b}");
        assert_eq!(
            SignedContent::template("{timestamp}.{body}").unwrap(),
            SignedContent::timestamp_dot_body()
        );
    }

    #[test]
    fn malformed_templates_name_the_template_setting() {
        for bad in [
            "",
            "{timestamp}",
            "{body}{body}",
            "{timestamp}{timestamp}{body}",
            "{body",
            "body}",
            "{nonce}{body}",
            "{header:bad name}{body}",
            "{header:a}{header:b}{header:c}{header:d}{header:e}{body}",
        ] {
            let err = SignedContent::template(bad).unwrap_err();
            assert_eq!(err.setting(), "template", "{bad:?}");
        }
    }
}
