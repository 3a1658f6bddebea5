//! Event-parser targets.
//!
//! Besides "never panics", each asserts what the event model documents:
//! - whatever parses serialises back to the same JSON value (lossless, unknown tags and
//!   values included), and that output parses again, losslessly, with the same tag;
//! - a `Data` error (422) is only reported for valid JSON, a `Syntax` error (400) only for
//!   a body `serde_json` cannot read as a `Value` either;
//! - the provider-detecting parser agrees with the provider's own parser and with the
//!   documented detection rule;
//! - `peek_metric_tag` (the scan without a parse) gives the parsed event's `metric_tag`.

use ledgerhook::{Event, ParseError, ParseErrorKind, railz, rootfi};
use serde::Serialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// The checks every parser gets; `reparse` is the same parser.
fn check<E>(
    data: &[u8],
    parsed: &Result<E, ParseError>,
    reparse: fn(&[u8]) -> Result<E, ParseError>,
    tag: fn(&E) -> (&str, bool),
) where
    E: Serialize + PartialEq + std::fmt::Debug,
{
    let value = serde_json::from_slice::<Value>(data);
    match parsed {
        Ok(event) => {
            // Lossless in `serde_json::Value` terms, as documented. Compared without going
            // through text: serde_json's default float parsing is not correctly rounded, so
            // reading back its own shortest output can move a float by one ULP (`9e29`
            // reads as 8.999999999999999e29; see fuzz/README.md, findings).
            // Deep nesting kept raw can be beyond `Value`'s recursion limit; compare
            // whenever `Value` can hold the input.
            let as_value = serde_json::to_value(event);
            if let Ok(value) = &value {
                let back = as_value
                    .as_ref()
                    .expect("a parsed event converts to a Value");
                assert_eq!(back, value, "not lossless: {event:?}");
            }
            // The serialised text parses again: same tag, lossless again, and an equal
            // event whenever the values agree.
            let out = serde_json::to_vec(event).expect("events serialise");
            let again = reparse(&out).expect("serialised event parses again");
            assert_eq!(tag(&again), tag(event));
            if let Ok(out_value) = serde_json::from_slice::<Value>(&out) {
                let again_value = serde_json::to_value(&again).expect("converts to a Value");
                assert_eq!(again_value, out_value, "not lossless: {again:?}");
                if as_value.is_ok_and(|v| v == again_value) {
                    assert_eq!(&again, event);
                }
            }
        }
        Err(err) => {
            let expected = match err.kind() {
                ParseErrorKind::Syntax => 400,
                ParseErrorKind::Data => 422,
                other => panic!("undocumented kind {other:?}"),
            };
            assert_eq!(err.status().as_u16(), expected, "{err}");
            let _ = err.to_string();
            match err.kind() {
                ParseErrorKind::Data => assert!(
                    serde_json::from_slice::<IgnoredAny>(data).is_ok(),
                    "data error for a body that is not JSON: {err}"
                ),
                ParseErrorKind::Syntax => assert!(
                    value.is_err(),
                    "syntax error for a body serde_json reads: {err}"
                ),
                _ => {}
            }
        }
    }
}

fn rootfi_tag(e: &rootfi::Event) -> (&str, bool) {
    (e.tag(), e.is_known())
}

fn railz_tag(e: &railz::Event) -> (&str, bool) {
    (e.tag(), e.is_known())
}

fn any_tag(e: &Event) -> (&str, bool) {
    (e.tag(), e.is_known())
}

/// `rootfi_event`: `rootfi::Event::from_slice`; the cheap tag scan agrees with it.
pub fn rootfi_event(data: &[u8]) {
    let parsed = rootfi::Event::from_slice(data);
    check(data, &parsed, rootfi::Event::from_slice, rootfi_tag);
    let peeked = rootfi::Event::peek_metric_tag(data);
    if let Ok(e) = &parsed {
        assert_eq!(peeked, e.metric_tag(), "{e:?}");
    }
}

/// `railz_event`: `railz::Event::from_slice`; the cheap tag scan agrees with it.
pub fn railz_event(data: &[u8]) {
    let parsed = railz::Event::from_slice(data);
    check(data, &parsed, railz::Event::from_slice, railz_tag);
    let peeked = railz::Event::peek_metric_tag(data);
    if let Ok(e) = &parsed {
        assert_eq!(peeked, e.metric_tag(), "{e:?}");
    }
}

/// `event`: the provider-detecting `ledgerhook::Event::from_slice`; the cheap tag scan
/// agrees with it.
pub fn event(data: &[u8]) {
    let parsed = Event::from_slice(data);
    check(data, &parsed, Event::from_slice, any_tag);
    let peeked = Event::peek_metric_tag(data);
    if let Ok(e) = &parsed {
        assert_eq!(peeked, e.metric_tag(), "{e:?}");
    }
    let rootfi = || rootfi::Event::from_slice(data);
    let railz = || railz::Event::from_slice(data);
    match &parsed {
        Ok(Event::RootFi(e)) => assert_eq!(rootfi().as_ref(), Ok(e)),
        Ok(Event::Railz(e)) => assert_eq!(railz().as_ref(), Ok(e)),
        Ok(other) => panic!("new provider {other:?}"),
        Err(_) => {}
    }
    // The detection rule on the top-level keys (as `Value` sees them, i.e. last duplicate
    // wins, which cannot change which keys are present).
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(data) {
        let is_rootfi = ["webhook_type", "event", "data_model"]
            .iter()
            .any(|k| map.contains_key(*k));
        let expected = if is_rootfi {
            rootfi().map(Event::RootFi)
        } else if map.contains_key("data") {
            railz().map(Event::Railz)
        } else {
            assert!(parsed.is_err(), "no provider keys but parsed: {parsed:?}");
            return;
        };
        match (&parsed, &expected) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{a} vs {b}"),
            _ => panic!("detection disagrees: {parsed:?} vs {expected:?}"),
        }
    }
}
