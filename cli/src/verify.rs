//! `ledgerhook verify`: checks a captured delivery and, when it fails, says which common
//! mistake would have made it verify.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue};
use ledgerhook::Verifier;
use ledgerhook::signature::ManualClock;

use crate::failure::{EXIT_CODES, Failure, Outcome};
use crate::scheme::{self, SchemeArgs, SchemeName, SecretArgs};

/// At most this many headers in a captured request.
const MAX_HEADERS: usize = 128;

/// Check a captured delivery: print "verified", or why not and which mistake explains it
///
/// REQUEST is a raw HTTP/1.1 request as received (request line, headers, blank line,
/// body; Content-Length and chunked transfer encoding are honoured), or give the headers
/// and the body separately with --headers and --body. On failure the explainer tries the
/// common mistakes: a re-serialised body, whitespace or encoding in the secret, seconds vs
/// milliseconds, clock skew, another signature layout, and the secrets of the other
/// presets whose variables are set (see `ledgerhook sign --help`), so "another route's
/// secret matches" is found too. Secrets are never printed.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct Args {
    /// The signature scheme
    #[arg(value_enum)]
    pub(crate) scheme: SchemeName,
    /// The captured raw HTTP/1.1 request (`-` for stdin)
    #[arg(required_unless_present = "headers", conflicts_with_all = ["headers", "body"])]
    pub(crate) request: Option<PathBuf>,
    /// The captured headers instead: one `Name: value` per line
    #[arg(long, value_name = "FILE", requires = "body")]
    pub(crate) headers: Option<PathBuf>,
    /// The captured body, byte for byte (with --headers; `-` for stdin)
    #[arg(long, value_name = "FILE", requires = "headers")]
    pub(crate) body: Option<PathBuf>,
    /// Check timestamps against this time (Unix seconds) instead of now, e.g. to check an
    /// old capture or for reproducible output
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub(crate) now: Option<u64>,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
    #[command(flatten)]
    pub(crate) scheme_args: SchemeArgs,
}

pub(crate) fn run(args: &Args) -> Outcome {
    let (headers, body) = match (&args.request, &args.headers, &args.body) {
        (Some(request), _, _) => {
            let raw = scheme::read_body(request)?;
            parse_request(&raw).map_err(|e| Failure::usage(format!("{}: {e}", shown(request))))?
        }
        (None, Some(headers), Some(body))
            if headers.as_os_str() == "-" && body.as_os_str() == "-" =>
        {
            return Err(Failure::usage(
                "--headers and --body cannot both be read from stdin",
            ));
        }
        (None, Some(headers), Some(body)) => {
            let text = scheme::read_body(headers)?;
            let headers = parse_header_lines(&text)
                .map_err(|e| Failure::usage(format!("{}: {e}", shown(headers))))?;
            (headers, scheme::read_body(body)?)
        }
        _ => {
            return Err(Failure::usage(
                "give REQUEST, or --headers FILE and --body FILE",
            ));
        }
    };

    let secret = scheme::secret(args.scheme, &args.secret)?;
    let clock = args
        .now
        .map(|secs| ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)));
    let with_clock = |verifier: Verifier| match &clock {
        Some(clock) => verifier.with_clock(clock.clone()),
        None => verifier,
    };
    let verifier = with_clock(scheme::verifier(args.scheme, &args.scheme_args, &secret)?);
    let others = other_verifiers(args, &with_clock);
    let named: Vec<(&str, &Verifier)> = others.iter().map(|(n, v)| (*n, v)).collect();

    let explanation = verifier.explain_with(&headers, &body, &named);
    if explanation.verified() {
        println!("verified");
        return Ok(());
    }
    // `Explanation`'s Display: the reason, then one `- finding` line each; no secret.
    println!("not verified: {explanation}");
    Err(Failure::silent_refusal())
}

/// The other presets whose secret variable is set, with their default layouts: the
/// explainer tells when one of them (or its secret) accepts the delivery. The variable the
/// checked secret came from is left out.
fn other_verifiers(
    args: &Args,
    with_clock: &impl Fn(Verifier) -> Verifier,
) -> Vec<(&'static str, Verifier)> {
    let used = match (&args.secret.secret, &args.secret.secret_env) {
        (Some(_), _) => None,
        (None, Some(var)) => Some(var.as_str()),
        (None, None) => Some(args.scheme.secret_env()),
    };
    SchemeName::PRESETS
        .iter()
        .filter(|other| Some(other.secret_env()) != used)
        .filter_map(|&other| {
            let secret = std::env::var(other.secret_env())
                .ok()
                .filter(|v| !v.is_empty())?;
            // A variable that does not make a verifier (e.g. a token with a space) is
            // simply not tried.
            let verifier = scheme::verifier(other, &SchemeArgs::default(), &secret).ok()?;
            Some((other.name(), with_clock(verifier)))
        })
        .collect()
}

fn shown(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Splits a raw HTTP/1.1 request into its headers and its body.
fn parse_request(raw: &[u8]) -> Result<(HeaderMap, Vec<u8>), String> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    let head_len = match request.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return Err(
                "not a complete HTTP/1.1 request: the request line and headers must end with an empty line"
                    .to_owned(),
            );
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(format!("more than {MAX_HEADERS} headers"));
        }
        Err(err) => return Err(format!("not an HTTP/1.1 request: {err}")),
    };
    let mut headers = HeaderMap::new();
    for header in request.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| format!("invalid header name {:?}", header.name))?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| format!("invalid value for header {name}"))?;
        headers.append(name, value);
    }
    let rest = &raw[head_len..];
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .any(|v| {
            v.to_str().is_ok_and(|v| {
                v.rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            })
        });
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(length) = headers.get(http::header::CONTENT_LENGTH) {
        let length: usize = length
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or("invalid Content-Length")?;
        let Some(body) = rest.get(..length) else {
            return Err(format!(
                "the body has {} bytes, shorter than its Content-Length {length}: truncated capture?",
                rest.len()
            ));
        };
        body.to_vec()
    } else {
        rest.to_vec()
    };
    Ok((headers, body))
}

/// Decodes a chunked body (extensions and trailers are dropped: they are not signed).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let (start, size) = match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => {
                return Err("the chunked body ends without its last (zero-size) chunk".to_owned());
            }
            Err(_) => return Err("invalid chunk size line in the chunked body".to_owned()),
        };
        if size == 0 {
            return Ok(body);
        }
        let data = usize::try_from(size)
            .ok()
            .and_then(|size| rest.get(start..start.checked_add(size)?))
            .ok_or("a chunk is longer than the rest of the capture: truncated capture?")?;
        body.extend_from_slice(data);
        rest = &rest[start + data.len()..];
        rest = rest
            .strip_prefix(b"\r\n")
            .or_else(|| rest.strip_prefix(b"\n"))
            .ok_or("a chunk is not followed by a line break")?;
    }
}

/// Parses `Name: value` lines (blank lines are skipped; values are trimmed).
fn parse_header_lines(text: &[u8]) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (number, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            continue;
        }
        let line_no = number + 1;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(format!("line {line_no}: expected `Name: value`"));
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        let name = HeaderName::from_bytes(name).map_err(|_| {
            format!(
                "line {line_no}: {:?} is not a valid header name",
                String::from_utf8_lossy(name)
            )
        })?;
        let value = HeaderValue::from_bytes(value)
            .map_err(|_| format!("line {line_no}: invalid value for header {name}"))?;
        headers.append(name, value);
    }
    if headers.is_empty() {
        return Err("no headers (expected `Name: value` lines)".to_owned());
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_request_with_content_length_ignores_what_follows() {
        let raw = b"POST /webhooks/railz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nRailz-Signature: t=1,v=ab\r\n\r\n{}\n";
        let (headers, body) = parse_request(raw).unwrap();
        assert_eq!(body, b"{}");
        assert_eq!(headers["railz-signature"], "t=1,v=ab");
    }

    #[test]
    fn raw_request_chunked() {
        let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n{\"a\r\n4\r\n\":1}\r\n0\r\nX-Trailer: t\r\n\r\n";
        let (_, body) = parse_request(raw).unwrap();
        assert_eq!(body, br#"{"a":1}"#);
        assert!(
            parse_request(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab").is_err()
        );
        assert!(
            parse_request(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    #[test]
    fn malformed_requests_say_why() {
        assert!(
            parse_request(b"POST / HTTP/1.1\r\nHost: x\r\n")
                .unwrap_err()
                .contains("empty line")
        );
        assert!(parse_request(b"{\"not\":\"http\"}\r\n\r\n").is_err());
        assert!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n{}")
                .unwrap_err()
                .contains("shorter")
        );
        assert!(parse_request(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n{}").is_err());
    }

    #[test]
    fn header_lines() {
        let headers = parse_header_lines(b"X-A: 1\r\n\nx-a:2 \nB:\n").unwrap();
        assert_eq!(headers.get_all("x-a").iter().count(), 2);
        assert_eq!(headers["b"], "");
        assert!(
            parse_header_lines(b"no colon\n")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(parse_header_lines(b"bad name: 1\n").is_err());
        assert!(parse_header_lines(b"\n\n").is_err());
    }
}
