//! The plain-text request format of the request-level targets.
//!
//! ```text
//! name: value\n      (any number of header lines; `\r\n` also ends a line)
//! \n                 (an empty line ends the headers)
//! body bytes         (everything after it, verbatim)
//! ```
//!
//! Text keeps the corpus readable and lets libFuzzer's byte mutations (and its comparison
//! tracing) work on header values directly. A line that is not a valid header (no `:`, a
//! bad name, a value `http` refuses) is skipped, as a server would never pass it on. One
//! space after the `:` is dropped; any further spaces are kept in the value, so the parsers
//! still see leading whitespace.

use http::{HeaderMap, HeaderName, HeaderValue};

/// Splits `data` into headers and body (see the module docs).
pub fn parse(data: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let mut rest = data;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            // No empty line: everything is header lines, the body is empty.
            add_line(&mut headers, rest);
            return (headers, &[]);
        };
        let (line, tail) = rest.split_at(end);
        rest = tail.get(1..).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return (headers, rest);
        }
        add_line(&mut headers, line);
    }
}

fn add_line(headers: &mut HeaderMap, line: &[u8]) {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return;
    };
    let (name, value) = line.split_at(colon);
    let value = value.get(1..).unwrap_or_default();
    let value = value.strip_prefix(b" ").unwrap_or(value);
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
        headers.append(name, value);
    }
}

/// The inverse of [`parse`] for seeds: every line in map order, then the body.
pub fn encode(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}
