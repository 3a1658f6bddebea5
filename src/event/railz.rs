//! Railz (Accounting Data as a Service) webhook events.
//!
//! Every Railz body is an envelope `{"data": {...}, "requestId": "..."}` (`requestId`
//! optional) whose `data.event` names the event:
//!
//! | `data.event` | variant |
//! |---|---|
//! | `login` | [`Event::Login`] ([`Connection`]) |
//! | `auth` | [`Event::Auth`] ([`Connection`]) |
//! | `connectionStatus` | [`Event::ConnectionStatusChanged`] ([`ConnectionStatusChanged`]) |
//! | `customerRequest` | [`Event::CustomerRequest`] ([`CustomerRequest`]) |
//! | `data` | [`Event::Data`] ([`DataSync`]; `requests` full array or simple counts, see [`Requests`]) |
//! | `dataPerType` | [`Event::DataPerType`] ([`DataPerType`]) |
//! | `push` | [`Event::Push`] ([`Push`]) |
//! | `batchPush` | [`Event::BatchPush`] ([`BatchPush`]) |
//! | `delete` | [`Event::Delete`] ([`Delete`]) |
//! | anything else | [`Event::Unknown`] (tag and whole body kept) |
//!
//! Every variant struct carries the common connection fields (`connectionId`,
//! `connectionUuid`, `businessUuid`, `businessName`, `serviceName`, `serviceAccountRef`),
//! the envelope's `requestId`, and `extra`/`envelope_extra` maps with unknown fields.
//!
//! A body is a [`ParseErrorKind::Data`](crate::ParseErrorKind::Data) error when it is not
//! an object, has no `data` object, has no `data.event` or a non-string one, or has a
//! known field of the wrong type. A body with an unknown `data.event` is never an error as
//! long as it is a JSON object.
//!
//! # Example
//!
//! ```
//! use ledgerhook::railz::{Event, PushStatus, ServiceName};
//!
//! let body = br#"{"data":{"event":"push","connectionId":"CON-1","serviceName":"xero",
//!     "pushCommunicationId":"p-1","dataType":"invoices","status":"failed","responseCode":400,
//!     "validation":{"errors":[{"field":"contactRef","message":"required"}]}},
//!     "requestId":"r-1"}"#;
//!
//! match Event::from_slice(body)? {
//!     Event::Push(push) => {
//!         assert_eq!(push.service_name, Some(ServiceName::Xero));
//!         assert_eq!(push.status, Some(PushStatus::Failed));
//!         let errors = push.validation.unwrap().errors.unwrap();
//!         assert_eq!(errors[0].field.as_deref(), Some("contactRef"));
//!         assert_eq!(push.request_id.as_deref(), Some("r-1"));
//!     }
//!     other => panic!("unexpected {}", other.tag()),
//! }
//! # Ok::<(), ledgerhook::ParseError>(())
//! ```

use serde::de::{self, MapAccess};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod enums;
mod model;
pub use enums::{
    ConnectionStatus, CustomerRequestType, DataSyncType, DataType, DisconnectReason, EventType,
    PushStatus, ReportFrequency, RequestStatus, ServiceName,
};
use model::DataFields;
use model::EnvelopeFields;
pub use model::{
    BatchItem, BatchPush, Connection, ConnectionStatusChanged, CustomerRequest, DataPerType,
    DataRequest, DataSync, Delete, EntityRef, Push, RequestCounts, Requests, ServiceAccountRef,
    Validation, ValidationError,
};

use bytestring::ByteString;

use super::de::{
    FillFromObject, Key, NullableObject, ReadField, Skip, WithTag, store, store_extra,
};
use super::peek::{TagPeek, known};
use super::text::BodyRef;
use super::unknown::UnknownEvent;
use super::wire::WireFormat;
use super::{ParseError, Text};

/// The `data` object. When `event` comes first with a tag this version knows (as in
/// every Railz body seen), the other fields go straight into that variant, and only the
/// fields of other variants into the (large) field set: the hot loop is the variant's
/// own. Otherwise every field goes into the field set and `build` picks the variant.
/// Once `event` turns out to be a tag this version does not know, the fields after it
/// are only checked to be JSON: the event becomes [`Event::Unknown`] (which keeps the
/// body as text) in the same pass, whatever those fields hold.
#[derive(Default)]
pub(crate) struct DataObject {
    fields: DataFields,
    tag_is_unknown: bool,
    /// The variant filled straight, when a known tag came first.
    direct: Option<Event>,
}

impl FillFromObject for DataObject {
    fn fill<'de, A: MapAccess<'de>>(
        &mut self,
        mut map: A,
        body: &mut BodyRef,
    ) -> Result<(), A::Error> {
        let mut seen = 0;
        let Some(first) = map.next_key::<Key<'de>>()? else {
            return Ok(());
        };
        let tag_first = first.as_str() == "event";
        self.fields.read_entry(first, &mut map, &mut seen, body)?;
        if tag_first && let Some(tag) = &self.fields.event {
            self.direct = direct_variant(tag);
        }
        // Reads the remaining entries into the variant `$v`, the others' into `fields`.
        macro_rules! fill_rest {
            ($v:expr) => {{
                let mut own = 0;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if let Some(key) = $v.read_known(key, &mut map, &mut own, body)? {
                        self.fields.read_entry(key, &mut map, &mut seen, body)?;
                    }
                }
                return Ok(());
            }};
        }
        match &mut self.direct {
            Some(Event::Login(v) | Event::Auth(v)) => fill_rest!(v),
            Some(Event::ConnectionStatusChanged(v)) => fill_rest!(v),
            Some(Event::CustomerRequest(v)) => fill_rest!(v),
            Some(Event::Data(v)) => fill_rest!(v),
            Some(Event::DataPerType(v)) => fill_rest!(v),
            Some(Event::Push(v)) => fill_rest!(v),
            Some(Event::BatchPush(v)) => fill_rest!(v),
            Some(Event::Delete(v)) => fill_rest!(v),
            Some(Event::Unknown(_)) | None => {}
        }
        self.tag_is_unknown = tag_first && matches!(self.fields.event, Some(EventType::Other(_)));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let is_tag = key.as_str() == "event";
            if !self.tag_is_unknown {
                self.fields.read_entry(key, &mut map, &mut seen, body)?;
                self.tag_is_unknown =
                    is_tag && matches!(self.fields.event, Some(EventType::Other(_)));
            } else if is_tag {
                return Err(de::Error::duplicate_field("event"));
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(())
    }
}

/// An empty variant for a known tag, to be filled straight.
fn direct_variant(tag: &EventType) -> Option<Event> {
    Some(match tag {
        EventType::Login => Event::Login(Connection::default()),
        EventType::Auth => Event::Auth(Connection::default()),
        EventType::ConnectionStatusChanged => {
            Event::ConnectionStatusChanged(ConnectionStatusChanged::default())
        }
        EventType::CustomerRequest => Event::CustomerRequest(CustomerRequest::default()),
        EventType::Data => Event::Data(DataSync::default()),
        EventType::DataPerType => Event::DataPerType(DataPerType::default()),
        EventType::Push => Event::Push(Push::default()),
        EventType::BatchPush => Event::BatchPush(BatchPush::default()),
        EventType::Delete => Event::Delete(Delete::default()),
        EventType::Other(_) => return None,
    })
}

/// A whole Railz body as the single pass reads it: `data` goes straight into the
/// (large) field set, filled in place.
#[derive(Default)]
pub(crate) struct Envelope {
    data: DataObject,
    /// `Some(true)` for an object, `Some(false)` for `null`, `None` when absent.
    data_seen: Option<bool>,
    request_id: Option<Text>,
    extra: Map<String, Value>,
}

impl FillFromObject for Envelope {
    fn fill<'de, A: MapAccess<'de>>(
        &mut self,
        mut map: A,
        body: &mut BodyRef,
    ) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.as_str() {
                "data" => {
                    if self.data_seen.is_some() {
                        return Err(de::Error::duplicate_field("data"));
                    }
                    self.data_seen =
                        Some(map.next_value_seed(NullableObject(&mut self.data, body))?);
                }
                "requestId" => {
                    let value = Text::read(&mut map, body)?;
                    store(&mut self.request_id, &mut self.extra, "requestId", value)?;
                }
                _ => store_extra(&mut self.extra, key, &mut map)?,
            }
        }
        Ok(())
    }
}

provider_event! {
    /// A Railz webhook event.
    ///
    /// See the [module docs](self) for the variants and an example.
    pub enum Event {
        /// `login`: a new connection was created.
        Login(Connection),
        /// `auth`: a connection was authorised.
        Auth(Connection),
        /// `connectionStatus`: a connection's status changed (it was disconnected).
        ConnectionStatusChanged(ConnectionStatusChanged),
        /// `customerRequest`: a GDPR request (Shopify).
        CustomerRequest(CustomerRequest),
        /// `data`: a data sync finished.
        Data(DataSync),
        /// `dataPerType`: one data type finished syncing.
        DataPerType(DataPerType),
        /// `push`: a push finished.
        Push(Push),
        /// `batchPush`: a batch push finished.
        BatchPush(BatchPush),
        /// `delete`: a delete finished.
        Delete(Delete),
    }
    unknown_tag = "`data.event`";
    /// Parses a Railz body.
    ///
    /// ```
    /// use ledgerhook::railz::{Event, ServiceName};
    ///
    /// let event = Event::from_slice(br#"{"data":{"event":"login","connectionId":"CON-1","serviceName":"quickbooks"}}"#)?;
    /// let Event::Login(login) = &event else { panic!() };
    /// assert_eq!(login.service_name, Some(ServiceName::Quickbooks));
    /// assert_eq!(event.connection_id(), Some("CON-1"));
    ///
    /// let e = Event::from_slice(br#"{"data":{"event":"subscriptionRenewed","plan":3}}"#)?;
    /// assert_eq!(e.tag(), "subscriptionRenewed");
    /// assert_eq!(e.metric_tag(), "unknown");
    /// assert!(!e.is_known());
    /// assert_eq!(event.metric_tag(), "login");
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    fn from_slice;
    fn metric_tag {
        Self::Login(_) => "login",
        Self::Auth(_) => "auth",
        Self::ConnectionStatusChanged(_) => "connectionStatus",
        Self::CustomerRequest(_) => "customerRequest",
        Self::Data(_) => "data",
        Self::DataPerType(_) => "dataPerType",
        Self::Push(_) => "push",
        Self::BatchPush(_) => "batchPush",
        Self::Delete(_) => "delete",
    }
}

impl Event {
    /// The envelope's `requestId`, for any event including unknown ones.
    ///
    /// ```
    /// use ledgerhook::railz::Event;
    ///
    /// let e = Event::from_slice(br#"{"data":{"event":"auth"},"requestId":"r-9"}"#)?;
    /// assert_eq!(e.request_id(), Some("r-9"));
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Unknown(u) => u.raw().get("requestId").and_then(Value::as_str),
            _ => self
                .envelope()
                .map(EnvelopeFields::request_id)
                .unwrap_or_default(),
        }
    }

    /// `data.connectionId`, for any event including unknown ones.
    #[must_use]
    pub fn connection_id(&self) -> Option<&str> {
        match self {
            Self::Unknown(u) => u
                .raw()
                .get("data")
                .and_then(|d| d.get("connectionId"))
                .and_then(Value::as_str),
            _ => self
                .envelope()
                .map(EnvelopeFields::connection_id)
                .unwrap_or_default(),
        }
    }

    fn envelope(&self) -> Option<&dyn EnvelopeFields> {
        Some(match self {
            Self::Login(e) | Self::Auth(e) => e,
            Self::ConnectionStatusChanged(e) => e,
            Self::CustomerRequest(e) => e,
            Self::Data(e) => e,
            Self::DataPerType(e) => e,
            Self::Push(e) => e,
            Self::BatchPush(e) => e,
            Self::Delete(e) => e,
            Self::Unknown(_) => return None,
        })
    }
}

impl WireFormat for Event {
    type Envelope = Envelope;

    fn is_own(envelope: &Envelope) -> bool {
        !["webhook_type", "event", "data_model"]
            .iter()
            .any(|k| envelope.extra.contains_key(*k))
    }

    fn build(envelope: &mut Envelope, body: &ByteString) -> Result<Self, ParseError> {
        build(envelope, body)
    }

    fn unknown_tag(body: &[u8]) -> Option<String> {
        #[derive(Deserialize)]
        struct Peek {
            data: Option<PeekData>,
        }
        #[derive(Deserialize)]
        struct PeekData {
            event: Option<EventType>,
        }
        match serde_json::from_slice(body) {
            Ok(Peek {
                data:
                    Some(PeekData {
                        event: Some(EventType::Other(tag)),
                    }),
            }) => Some(tag),
            _ => None,
        }
    }

    fn unknown(event: UnknownEvent) -> Self {
        Self::Unknown(event)
    }

    fn metric_tag_of(peek: &TagPeek<'_>) -> &'static str {
        peek.data_event
            .as_ref()
            .and_then(|tag| known(EventType::KNOWN, tag.as_str()))
            .unwrap_or(super::UNKNOWN_TAG)
    }
}

/// Picks the variant from `data.event` and moves the fields into it.
fn build(env: &mut Envelope, body: &ByteString) -> Result<Event, ParseError> {
    match env.data_seen {
        Some(true) => {}
        Some(false) => {
            return Err(ParseError::data(
                "data",
                "expected a Railz `data` object, found null",
            ));
        }
        None => {
            return Err(ParseError::data(
                "",
                "not a Railz event: missing the `data` object",
            ));
        }
    }
    let u = &mut env.data.fields;
    if let Some(event) = &mut env.data.direct {
        u.event = None;
        let request_id = env.request_id.take();
        let envelope_extra = std::mem::take(&mut env.extra);
        match event {
            Event::Login(v) | Event::Auth(v) => v.finish(request_id, envelope_extra, u),
            Event::ConnectionStatusChanged(v) => v.finish(request_id, envelope_extra, u),
            Event::CustomerRequest(v) => v.finish(request_id, envelope_extra, u),
            Event::Data(v) => v.finish(request_id, envelope_extra, u),
            Event::DataPerType(v) => v.finish(request_id, envelope_extra, u),
            Event::Push(v) => v.finish(request_id, envelope_extra, u),
            Event::BatchPush(v) => v.finish(request_id, envelope_extra, u),
            Event::Delete(v) => v.finish(request_id, envelope_extra, u),
            Event::Unknown(_) => {}
        }
    }
    // Completed in place above, then moved once, straight into the result.
    if let Some(event) = env.data.direct.take() {
        return Ok(event);
    }
    let tag = match u.event.take() {
        Some(EventType::Other(tag)) => {
            return Ok(Event::Unknown(UnknownEvent::new(body, tag)));
        }
        Some(tag) => tag,
        None => {
            return Err(ParseError::data(
                "data.event",
                "missing the event tag `event`",
            ));
        }
    };

    let request_id = env.request_id.take();
    let envelope_extra = std::mem::take(&mut env.extra);
    let mut extra = std::mem::take(&mut u.extra);

    // Moves the common fields and the listed `variant field: union field` pairs, then
    // spills whatever the variant does not use into `extra`.
    macro_rules! take {
        ($T:ident { $($f:ident: $uf:ident),* $(,)? }) => {
            $T {
                connection_id: u.connection_id.take(),
                connection_uuid: u.connection_uuid.take(),
                business_uuid: u.business_uuid.take(),
                business_name: u.business_name.take(),
                service_name: u.service_name.take(),
                service_account_ref: u.service_account_ref.take(),
                $($f: u.$uf.take(),)*
                extra: {
                    u.spill_into(&mut extra);
                    extra
                },
                request_id,
                envelope_extra,
            }
        };
    }

    Ok(match tag {
        EventType::Login => Event::Login(take!(Connection {})),
        EventType::Auth => Event::Auth(take!(Connection {})),
        EventType::ConnectionStatusChanged => {
            Event::ConnectionStatusChanged(take!(ConnectionStatusChanged {
                old_status: old_status,
                new_status: new_status,
                message: message,
                disconnect_reason: disconnect_reason,
                effective_on: effective_on,
            }))
        }
        EventType::CustomerRequest => Event::CustomerRequest(take!(CustomerRequest {
            request_type: customer_request_type,
            message: message,
            received_payload: received_payload,
        })),
        EventType::Data => Event::Data(take!(DataSync {
            data_sync_type: data_sync_type,
            sandbox: sandbox,
            requests: requests,
        })),
        EventType::DataPerType => Event::DataPerType(take!(DataPerType {
            request_type: request_type,
            data_sync_type: data_sync_type,
            sandbox: sandbox,
            requests: requests,
        })),
        EventType::Push => Event::Push(take!(Push {
            push_communication_id: push_communication_id,
            source_object_ids: source_object_ids,
            source_object_id: source_object_id,
            batch_id: batch_id,
            data_type: data_type,
            requested_on: requested_on,
            completed_on: completed_on,
            status: status,
            response_code: response_code,
            validation: validation,
        })),
        EventType::BatchPush => Event::BatchPush(take!(BatchPush {
            batch_id: batch_id,
            batch: batch
        })),
        EventType::Delete => Event::Delete(take!(Delete {
            delete_communication_id: delete_communication_id,
            data_type: data_type,
            requested_on: requested_on,
            completed_on: completed_on,
            status: status,
            response_code: response_code,
            validation: validation,
        })),
        EventType::Other(tag) => Event::Unknown(UnknownEvent::new(body, tag)),
    })
}

/// `{"data": {"event": tag, ...fields}, "requestId": ..., ...envelope extras}`.
fn serialize_envelope<S, T>(serializer: S, tag: &str, event: &T) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: EnvelopeFields + super::de::SerializeFields,
{
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry(
        "data",
        &WithTag {
            key: "event",
            tag,
            fields: event,
        },
    )?;
    if let Some(id) = event.request_id() {
        map.serialize_entry("requestId", id)?;
    }
    for (k, v) in event.envelope_extra() {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

impl Serialize for Event {
    /// Serialises back to the wire form: parse then serialise gives the same JSON value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tag = self.tag();
        match self {
            Self::Login(e) | Self::Auth(e) => serialize_envelope(serializer, tag, e),
            Self::ConnectionStatusChanged(e) => serialize_envelope(serializer, tag, e),
            Self::CustomerRequest(e) => serialize_envelope(serializer, tag, e),
            Self::Data(e) => serialize_envelope(serializer, tag, e),
            Self::DataPerType(e) => serialize_envelope(serializer, tag, e),
            Self::Push(e) => serialize_envelope(serializer, tag, e),
            Self::BatchPush(e) => serialize_envelope(serializer, tag, e),
            Self::Delete(e) => serialize_envelope(serializer, tag, e),
            Self::Unknown(u) => u.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ParseErrorKind;

    fn round_trip(body: &str) -> Event {
        crate::event::wire::tests::round_trip(body)
    }

    #[test]
    fn every_known_tag_maps_to_its_variant_and_back() {
        for t in EventType::KNOWN {
            let body = format!(r#"{{"data":{{"event":"{t}"}}}}"#);
            let e = round_trip(&body);
            assert!(e.is_known());
            assert_eq!(e.tag(), t.as_str());
        }
    }

    #[test]
    fn null_entity_ref_and_unknown_envelope_fields_round_trip() {
        let e = round_trip(
            r#"{"data":{"event":"auth","serviceAccountRef":{"id":"1","entityRef":null},"x":[1]},"requestId":"r","y":true}"#,
        );
        let Event::Auth(a) = e else { panic!() };
        let sar = a.service_account_ref.unwrap();
        assert_eq!(sar.entity_ref, None);
        assert_eq!(sar.extra["entityRef"], Value::Null);
        assert_eq!(a.extra["x"], serde_json::json!([1]));
        assert_eq!(a.envelope_extra["y"], true);
    }

    #[test]
    fn fields_of_other_variants_are_kept_in_extra() {
        let e = round_trip(r#"{"data":{"event":"login","status":"success","requests":[]}}"#);
        let Event::Login(l) = e else { panic!() };
        assert_eq!(l.extra["status"], "success");
        assert_eq!(l.extra["requests"], serde_json::json!([]));
    }

    #[test]
    fn shape_errors() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#"{"requestId":"r"}"#, None),
            (r#"{"data":null}"#, Some("data")),
            (r#"{"data":"login"}"#, Some("data")),
            (r#"{"data":{"connectionId":"c"}}"#, Some("data.event")),
            (r#"{"data":{"event":3}}"#, Some("data.event")),
            (
                r#"{"data":{"event":"data","requests":5}}"#,
                Some("data.requests"),
            ),
            (
                r#"{"data":{"event":"data","requests":{"bills":{"success":-1}}}}"#,
                Some("data.requests.bills.success"),
            ),
            (
                r#"{"data":{"event":"push","responseCode":"400"}}"#,
                Some("data.responseCode"),
            ),
            (
                r#"{"data":{"event":"batchPush","batch":[{},{"status":false}]}}"#,
                Some("data.batch[1].status"),
            ),
        ];
        for (body, path) in cases {
            let err = Event::from_slice(body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ParseErrorKind::Data, "{body}: {err}");
            assert_eq!(err.path(), *path, "{body}: {err}");
        }
    }

    /// The tag first (fields read straight into the variant) or later (every field into
    /// the field set first) gives the same event.
    #[test]
    fn tag_first_and_tag_later_give_the_same_event() {
        let fields = r#""connectionId":"c","status":"failed","responseCode":400,"batchId":null,"requests":[],"sandbox":true,"x":{"y":1},"batch":[{"status":"success"}]"#;
        for t in EventType::KNOWN {
            let first = round_trip(&format!(
                r#"{{"data":{{"event":"{t}",{fields}}},"requestId":"r","z":2}}"#
            ));
            let later = round_trip(&format!(
                r#"{{"requestId":"r","data":{{{fields},"event":"{t}"}},"z":2}}"#
            ));
            assert_eq!(first, later, "{t}");
            assert_eq!(first.request_id(), Some("r"));
            assert_eq!(first.connection_id(), Some("c"));
        }
    }

    #[test]
    fn tag_first_still_checks_duplicates_and_other_variants_fields() {
        for (body, message) in [
            (
                r#"{"data":{"event":"push","status":"failed","status":"success"}}"#,
                "duplicate field `status`",
            ),
            (
                r#"{"data":{"event":"login","sandbox":true,"sandbox":false}}"#,
                "duplicate field `sandbox`",
            ),
            (
                r#"{"data":{"event":"login","event":"auth"}}"#,
                "duplicate field `event`",
            ),
            (
                r#"{"data":{"event":"login","x":1,"x":2}}"#,
                "duplicate field `x`",
            ),
            (
                r#"{"data":{"event":"login","sandbox":"yes"}}"#,
                "expected a boolean",
            ),
        ] {
            let err = Event::from_slice(body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ParseErrorKind::Data, "{body}: {err}");
            assert!(err.message().contains(message), "{body}: {err}");
        }
    }

    #[test]
    fn a_second_tag_after_an_unknown_one_is_a_duplicate() {
        let err = Event::from_slice(br#"{"data":{"event":"refund","event":"auth"}}"#).unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data);
        assert!(err.message().contains("duplicate field `event`"), "{err}");
    }

    #[test]
    fn unknown_event_with_odd_fields_is_still_unknown() {
        let e = round_trip(
            r#"{"data":{"event":"refund","requests":5,"sandbox":"yes"},"requestId":"r"}"#,
        );
        assert_eq!(e.tag(), "refund");
        assert_eq!(e.request_id(), Some("r"));
        assert_eq!(e.connection_id(), None);
    }
}
