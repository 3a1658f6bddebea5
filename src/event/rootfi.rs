//! RootFi (Commenda Integrations) webhook events, API v3 and v4 and the pre-v3 form.
//!
//! # Which variant a body becomes
//!
//! | body | variant | [`Event::tag`] |
//! |---|---|---|
//! | `"webhook_type": "DATA_MODEL_CHANGES"` | [`Event::DataModelChanges`] | `DATA_MODEL_CHANGES` |
//! | `"webhook_type": "CONNECTION_CHANGED"` | [`Event::ConnectionChanged`] | `CONNECTION_CHANGED` |
//! | `"webhook_type": "SYNC_STARTED"` | [`Event::SyncStarted`] | `SYNC_STARTED` |
//! | `"webhook_type": "SYNC_COMPLETED"` | [`Event::SyncCompleted`] | `SYNC_COMPLETED` |
//! | `"webhook_type": "INTEGRATION"` | [`Event::Integration`] | `INTEGRATION` |
//! | v4 `"event": "connection.changed"` (no `webhook_type`) | [`Event::ConnectionChanged`] | `connection.changed` |
//! | no `webhook_type`, no `event`, has `data_model` (pre-v3) | [`Event::Legacy`] | [`LEGACY_TAG`] |
//! | any other `webhook_type`, or any other v4 `event` | [`Event::Unknown`] | the tag as sent |
//!
//! `webhook_type` wins when a body has both. Only `connection.changed` is documented as a
//! v4 delivery body, so every other v4 `event` value is kept as [`Event::Unknown`] rather
//! than guessed into a v3 variant.
//!
//! All fields are optional (RootFi sends partial records); unknown fields are kept in
//! each struct's `extra`. A body is a [`ParseErrorKind::Data`](crate::ParseErrorKind::Data)
//! error when it is not an object, has none of `webhook_type`, `event` or `data_model`,
//! has a tag that is not a string, or has a known field of the wrong type (e.g.
//! `company_id` as a string, or a `DATA_MODEL_CHANGES` `data` that is not an array).
//! A body with an unknown tag is never an error as long as it is a JSON object.
//!
//! # Example
//!
//! ```
//! use ledgerhook::rootfi::{DataModel, Event, Operation};
//!
//! let body = br#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":285,
//!     "integration_type":"ZOHO_BOOKS","data_model":"ACCOUNTS","type":"CREATE",
//!     "data":[{"platform_id":"3124930487","name":"Cost of Good sold"}]}"#;
//!
//! match Event::from_slice(body)? {
//!     Event::DataModelChanges(change) => {
//!         assert!(matches!(change.data_model, Some(DataModel::Accounts(_))));
//!         assert_eq!(change.operation, Some(Operation::Create));
//!         #[derive(serde::Deserialize)]
//!         struct Account { platform_id: String, name: String }
//!         let records: Vec<Account> = change.data.unwrap().deserialize()?;
//!         assert_eq!(records[0].name, "Cost of Good sold");
//!     }
//!     other => panic!("unexpected {}", other.tag()),
//! }
//! # Ok::<(), ledgerhook::ParseError>(())
//! ```

use serde::de::{self, MapAccess};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

mod enums;
mod model;
pub use enums::{
    ApiVersion, ConnectionStatus, DataModel, IntegrationType, JobStatus, JobType, Operation,
    SyncStatus, WebhookType,
};
use model::TopLevelFields;
pub use model::{
    ConnectionChanged, DataModelChanges, Integration, Job, LegacyDataModelChange, Records,
    SyncData, SyncEvent, TagStyle,
};

use super::de::{
    FillFromObject, Key, NullableObject, Skip, WithTag, parse_part, parse_text_into, to_value,
};
use super::peek::{TagPeek, known};
use super::text::BodyRef;
use super::unknown::UnknownEvent;
use super::wire::{WireFormat, put_back};
use bytestring::ByteString;

use super::{ParseError, RawJson, Text};

/// What [`Event::tag`] returns for a pre-v3 body, which carries no tag on the wire.
pub const LEGACY_TAG: &str = "DATA_MODEL_CHANGES";

/// The only documented v4 delivery tag (`"event": "connection.changed"`).
pub const V4_CONNECTION_CHANGED: &str = "connection.changed";

impl TopLevelFields {
    /// The tag, when it is one this version does not know (`webhook_type` wins).
    fn unknown_tag(&self) -> Option<&str> {
        match (&self.webhook_type, &self.event) {
            (Some(WebhookType::Other(tag)), _) => Some(tag),
            (None, Some(ev)) if ev != V4_CONNECTION_CHANGED => Some(ev),
            _ => None,
        }
    }
}

/// `data`, whose shape depends on the tag: parsed straight into its type when the tag
/// came first (as in every sample), captured raw otherwise.
enum DataSlot {
    Raw(RawJson),
    Records(Records),
    Sync(Box<SyncData>),
}

/// A whole RootFi body as the single pass reads it.
///
/// Once the tag turns out to be one this version does not know, the fields after it
/// are only checked to be JSON (the event becomes [`Event::Unknown`], which keeps the
/// body as text, in the same pass, whatever they hold). A known `webhook_type` after an
/// unknown v4 `event` (it wins) makes [`build`] read the body again with `typed_only`.
#[derive(Default)]
pub(crate) struct Envelope {
    fields: TopLevelFields,
    data: Option<DataSlot>,
    /// Never skip fields: every known field is typed.
    typed_only: bool,
    /// Fields are being skipped (the tag read so far is unknown).
    skipping: bool,
    /// Some field was skipped.
    skipped: bool,
}

impl Envelope {
    fn read_data<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        body: &mut BodyRef,
    ) -> Result<(), A::Error> {
        if self.data.is_some() || self.fields.extra.contains_key("data") {
            return Err(de::Error::duplicate_field("data"));
        }
        let slot = match self.fields.webhook_type {
            Some(WebhookType::SyncStarted | WebhookType::SyncCompleted) => {
                // Filled in place, with the body handed down (see `Text`).
                let mut data = Box::<SyncData>::default();
                map.next_value_seed(NullableObject(&mut *data, body))?
                    .then_some(DataSlot::Sync(data))
            }
            Some(WebhookType::DataModelChanges) => {
                map.next_value::<Option<Records>>()?.map(DataSlot::Records)
            }
            _ => map.next_value::<Option<RawJson>>()?.map(DataSlot::Raw),
        };
        match slot {
            Some(slot) => self.data = Some(slot),
            None => {
                self.fields.extra.insert("data".to_owned(), Value::Null);
            }
        }
        Ok(())
    }
}

impl FillFromObject for Envelope {
    fn fill<'de, A: MapAccess<'de>>(
        &mut self,
        mut map: A,
        body: &mut BodyRef,
    ) -> Result<(), A::Error> {
        let mut seen = 0;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.as_str() {
                "webhook_type" | "event" => {
                    self.fields.read_entry(key, &mut map, &mut seen, body)?;
                    self.skipping = !self.typed_only && self.fields.unknown_tag().is_some();
                }
                _ if self.skipping => {
                    self.skipped = true;
                    map.next_value::<Skip>()?;
                }
                "data" => self.read_data(&mut map, body)?,
                _ => self.fields.read_entry(key, &mut map, &mut seen, body)?,
            }
        }
        Ok(())
    }
}

/// Internal: a data slot the tag rules out (cannot happen: the slot type follows the tag).
fn mismatch() -> ParseError {
    ParseError::data("data", "unexpected shape for this webhook_type")
}

impl DataSlot {
    fn records(self) -> Result<Records, ParseError> {
        match self {
            Self::Records(r) => Ok(r),
            Self::Raw(raw) => Records::from_raw(raw),
            Self::Sync(_) => Err(mismatch()),
        }
    }

    fn sync(self) -> Result<Box<SyncData>, ParseError> {
        match self {
            Self::Sync(s) => Ok(s),
            Self::Raw(raw) => parse_part(raw.get(), "data"),
            Self::Records(_) => Err(mismatch()),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Self::Raw(raw) => raw.to_value().unwrap_or(Value::Null),
            Self::Records(r) => r.0.to_value().unwrap_or(Value::Null),
            Self::Sync(s) => to_value(&s),
        }
    }

    fn raw(self) -> Result<RawJson, ParseError> {
        match self {
            Self::Raw(raw) => Ok(raw),
            Self::Records(r) => Ok(r.0),
            Self::Sync(_) => Err(mismatch()),
        }
    }
}

fn opt<T>(
    slot: Option<DataSlot>,
    f: impl FnOnce(DataSlot) -> Result<T, ParseError>,
) -> Result<Option<T>, ParseError> {
    slot.map(f).transpose()
}

provider_event! {
    /// A RootFi webhook event.
    ///
    /// See the [module docs](self) for how a body maps to a variant, and an example.
    pub enum Event {
        /// `DATA_MODEL_CHANGES`.
        DataModelChanges(DataModelChanges),
        /// `CONNECTION_CHANGED` (v3) or `connection.changed` (v4).
        ConnectionChanged(ConnectionChanged),
        /// `SYNC_STARTED`.
        SyncStarted(SyncEvent),
        /// `SYNC_COMPLETED`.
        SyncCompleted(SyncEvent),
        /// `INTEGRATION`.
        Integration(Integration),
        /// A pre-v3 data model change (no tag on the wire).
        Legacy(LegacyDataModelChange),
    }
    unknown_tag = "`webhook_type`, or v4 `event`";
    /// Parses a RootFi body (v3, v4 or pre-v3). A pre-v3 body has no tag on the wire:
    /// its [`Event::tag`] is [`LEGACY_TAG`].
    ///
    /// ```
    /// use ledgerhook::rootfi::{ConnectionStatus, Event, LEGACY_TAG};
    ///
    /// let event = Event::from_slice(br#"{"webhook_type":"CONNECTION_CHANGED","company_id":285,
    ///     "connection_status":"EXPIRED"}"#)?;
    /// let Event::ConnectionChanged(change) = &event else { panic!() };
    /// assert_eq!(change.connection_status, Some(ConnectionStatus::Expired));
    ///
    /// let v4 = Event::from_slice(br#"{"event":"connection.changed","company_id":496}"#)?;
    /// assert_eq!(v4.tag(), "connection.changed");
    /// assert_eq!(v4.company_id(), Some(496));
    ///
    /// let legacy = Event::from_slice(br#"{"company_id":12,"data_model":"ACCOUNTS","type":"UPDATE","data":{}}"#)?;
    /// assert_eq!(legacy.tag(), LEGACY_TAG);
    /// let new = Event::from_slice(br#"{"webhook_type":"PAYROLL_RUN","company_id":1}"#)?;
    /// assert_eq!(new.tag(), "PAYROLL_RUN");
    /// assert_eq!(new.metric_tag(), "unknown");
    /// assert!(!new.is_known());
    /// assert!(Event::from_slice(br#"{"webhook_type":"SYNC_STARTED"}"#)?.is_known());
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    fn from_slice;
    fn metric_tag {
        Self::DataModelChanges(_) => "DATA_MODEL_CHANGES",
        Self::ConnectionChanged(c) => match c.tag_style {
            TagStyle::WebhookType => "CONNECTION_CHANGED",
            TagStyle::Event => V4_CONNECTION_CHANGED,
        },
        Self::SyncStarted(_) => "SYNC_STARTED",
        Self::SyncCompleted(_) => "SYNC_COMPLETED",
        Self::Integration(_) => "INTEGRATION",
        Self::Legacy(_) => LEGACY_TAG,
    }
}

impl Event {
    /// The `company_id` of any event, including unknown ones.
    ///
    /// ```
    /// use ledgerhook::rootfi::Event;
    ///
    /// let e = Event::from_slice(br#"{"webhook_type":"NEW","company_id":7}"#)?;
    /// assert_eq!(e.company_id(), Some(7));
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    #[must_use]
    pub fn company_id(&self) -> Option<u64> {
        match self {
            Self::DataModelChanges(e) => e.company_id,
            Self::ConnectionChanged(e) => e.company_id,
            Self::SyncStarted(e) | Self::SyncCompleted(e) => e.company_id,
            Self::Integration(e) => e.company_id,
            Self::Legacy(e) => e.company_id,
            Self::Unknown(u) => u.raw().get("company_id").and_then(Value::as_u64),
        }
    }
}

impl WireFormat for Event {
    type Envelope = Envelope;

    fn is_own(envelope: &Envelope) -> bool {
        let f = &envelope.fields;
        f.webhook_type.is_some() || f.event.is_some() || f.data_model.is_some()
    }

    fn build(envelope: &mut Envelope, body: &ByteString) -> Result<Self, ParseError> {
        build(envelope, body)
    }

    fn unknown_tag(body: &[u8]) -> Option<String> {
        #[derive(Deserialize)]
        struct Peek {
            webhook_type: Option<WebhookType>,
            event: Option<Text>,
        }
        let peek = serde_json::from_slice::<Peek>(body).ok()?;
        let fields = TopLevelFields {
            webhook_type: peek.webhook_type,
            event: peek.event,
            ..TopLevelFields::default()
        };
        fields.unknown_tag().map(str::to_owned)
    }

    fn unknown(event: UnknownEvent) -> Self {
        Self::Unknown(event)
    }

    fn metric_tag_of(peek: &TagPeek<'_>) -> &'static str {
        match (&peek.webhook_type, &peek.event) {
            (Some(tag), _) => known(WebhookType::KNOWN, tag.as_str()),
            (None, Some(ev)) => {
                (ev.as_str() == V4_CONNECTION_CHANGED).then_some(V4_CONNECTION_CHANGED)
            }
            (None, None) => peek.data_model.then_some(LEGACY_TAG),
        }
        .unwrap_or(super::UNKNOWN_TAG)
    }
}

/// Picks the variant from the tag and moves the fields into it.
fn build(env: &mut Envelope, body: &ByteString) -> Result<Event, ParseError> {
    if let Some(tag) = env.fields.unknown_tag() {
        return Ok(Event::Unknown(UnknownEvent::new(body, tag.to_owned())));
    }
    if env.skipped {
        // A known `webhook_type` came after an unknown `event`: type every field.
        let mut typed = Envelope {
            typed_only: true,
            ..Envelope::default()
        };
        parse_text_into(body, &mut typed)?;
        return build(&mut typed, body);
    }
    let f = &mut env.fields;
    let data = env.data.take();
    let extra = std::mem::take(&mut f.extra);
    let tag = match f.webhook_type.take() {
        Some(known) => known,
        None if f.event.take().is_some() => {
            // The only known v4 tag (an unknown one returned above).
            let out = ConnectionChanged {
                company_id: f.company_id.take(),
                integration_type: f.integration_type.take(),
                connection_status: f.connection_status.take(),
                created_at: f.created_at.take(),
                extra: finish(f, data, extra),
                tag_style: TagStyle::Event,
            };
            return Ok(Event::ConnectionChanged(out));
        }
        None if f.data_model.is_some() => {
            let out = LegacyDataModelChange {
                company_id: f.company_id.take(),
                integration_type: f.integration_type.take(),
                data_model: f.data_model.take(),
                operation: f.operation.take(),
                created_at: f.created_at.take(),
                data: opt(data, DataSlot::raw)?,
                extra: finish(f, None, extra),
            };
            return Ok(Event::Legacy(out));
        }
        None => {
            return Err(ParseError::data(
                "",
                "not a RootFi event: no `webhook_type`, `event` or legacy `data_model` field",
            ));
        }
    };
    Ok(match tag {
        WebhookType::DataModelChanges => Event::DataModelChanges(DataModelChanges {
            company_id: f.company_id.take(),
            integration_type: f.integration_type.take(),
            data_model: f.data_model.take(),
            operation: f.operation.take(),
            created_at: f.created_at.take(),
            data: opt(data, DataSlot::records)?,
            extra: finish(f, None, extra),
        }),
        WebhookType::ConnectionChanged => Event::ConnectionChanged(ConnectionChanged {
            company_id: f.company_id.take(),
            integration_type: f.integration_type.take(),
            connection_status: f.connection_status.take(),
            created_at: f.created_at.take(),
            extra: finish(f, data, extra),
            tag_style: TagStyle::WebhookType,
        }),
        WebhookType::SyncStarted | WebhookType::SyncCompleted => {
            let sync = SyncEvent {
                company_id: f.company_id.take(),
                integration_type: f.integration_type.take(),
                created_at: f.created_at.take(),
                data: opt(data, DataSlot::sync)?,
                extra: finish(f, None, extra),
            };
            if tag == WebhookType::SyncStarted {
                Event::SyncStarted(sync)
            } else {
                Event::SyncCompleted(sync)
            }
        }
        WebhookType::Integration => Event::Integration(Integration {
            company_id: f.company_id.take(),
            integration_type: f.integration_type.take(),
            created_at: f.created_at.take(),
            data: opt(data, DataSlot::raw)?,
            extra: finish(f, None, extra),
        }),
        // Returned above, as an unknown tag.
        WebhookType::Other(_) => {
            return Err(ParseError::data("webhook_type", "unexpected unknown tag"));
        }
    })
}

/// Moves the fields the variant did not take (and an unused `data`) into `extra`.
fn finish(
    f: &mut TopLevelFields,
    data: Option<DataSlot>,
    mut extra: serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    if let Some(data) = data {
        put_back(&mut extra, "data", data.into_value());
    }
    f.spill_into(&mut extra);
    extra
}

impl Serialize for Event {
    /// Serialises back to the wire form: parse then serialise gives the same JSON value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const KEY: &str = "webhook_type";
        match self {
            Self::DataModelChanges(e) => WithTag {
                key: KEY,
                tag: self.tag(),
                fields: e,
            }
            .serialize(serializer),
            Self::ConnectionChanged(e) => {
                let key = match e.tag_style {
                    TagStyle::WebhookType => KEY,
                    TagStyle::Event => "event",
                };
                WithTag {
                    key,
                    tag: self.tag(),
                    fields: e,
                }
                .serialize(serializer)
            }
            Self::SyncStarted(e) | Self::SyncCompleted(e) => WithTag {
                key: KEY,
                tag: self.tag(),
                fields: e,
            }
            .serialize(serializer),
            Self::Integration(e) => WithTag {
                key: KEY,
                tag: self.tag(),
                fields: e,
            }
            .serialize(serializer),
            Self::Legacy(e) => e.serialize(serializer),
            Self::Unknown(u) => u.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ParseErrorKind;
    use crate::event::wire::tests::round_trip as round_trip_any;

    /// Parses a RootFi body and checks that it serialises back unchanged.
    fn round_trip(body: &str) -> Event {
        round_trip_any(body)
    }

    #[test]
    fn data_before_tag_is_parsed_from_the_raw_slice() {
        let e = round_trip(
            r#"{"data":{"id":"s1","status":"RUNNING","jobs":[]},"webhook_type":"SYNC_STARTED"}"#,
        );
        let Event::SyncStarted(s) = e else {
            panic!("{e:?}")
        };
        let data = s.data.unwrap();
        assert_eq!(data.status, Some(SyncStatus::Running));
        assert_eq!(data.jobs, Some(vec![]));
    }

    #[test]
    fn data_before_tag_keeps_the_path_in_errors() {
        let err = Event::from_slice(
            br#"{"data":{"jobs":[{"status":1}]},"webhook_type":"SYNC_COMPLETED"}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data);
        assert_eq!(err.path(), Some("data.jobs[0].status"));
        let err =
            Event::from_slice(br#"{"data":{},"webhook_type":"DATA_MODEL_CHANGES"}"#).unwrap_err();
        assert_eq!(err.path(), Some("data"));
        let err =
            Event::from_slice(br#"{"webhook_type":"DATA_MODEL_CHANGES","data":{}}"#).unwrap_err();
        assert_eq!(err.path(), Some("data"));
        assert!(err.message().contains("array of records"), "{err}");
    }

    #[test]
    fn fields_a_variant_does_not_use_stay_in_extra() {
        let e = round_trip(
            r#"{"webhook_type":"CONNECTION_CHANGED","data_model":"BILLS","type":"CREATE","data":[1],"event":"x"}"#,
        );
        let Event::ConnectionChanged(c) = e else {
            panic!()
        };
        assert_eq!(c.extra["data_model"], "BILLS");
        assert_eq!(c.extra["data"], serde_json::json!([1]));
        assert_eq!(c.extra["event"], "x");
        assert_eq!(c.tag_style, TagStyle::WebhookType);
    }

    #[test]
    fn nulls_and_duplicates() {
        let e = round_trip(r#"{"webhook_type":"SYNC_COMPLETED","company_id":null,"data":null}"#);
        let Event::SyncCompleted(s) = e else { panic!() };
        assert_eq!(s.company_id, None);
        assert_eq!(s.extra["company_id"], Value::Null);
        let err = Event::from_slice(
            br#"{"webhook_type":"SYNC_COMPLETED","company_id":1,"company_id":2}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data);
        assert!(
            err.message().contains("duplicate field `company_id`"),
            "{err}"
        );
        let err =
            Event::from_slice(br#"{"webhook_type":"SYNC_COMPLETED","x":1,"x":2}"#).unwrap_err();
        assert!(err.message().contains("duplicate field `x`"), "{err}");
    }

    #[test]
    fn unknown_tag_with_odd_fields_is_still_unknown() {
        let body = r#"{"webhook_type":"PAYROLL","company_id":"not a number","data":7}"#;
        let e = round_trip(body);
        assert_eq!(e.tag(), "PAYROLL");
        assert!(!e.is_known());
        let body = r#"{"event":"invoice.create","company_id":"x"}"#;
        assert_eq!(round_trip(body).tag(), "invoice.create");
    }

    #[test]
    fn unknown_tag_is_read_in_one_pass_and_the_last_duplicate_wins() {
        let e = round_trip(r#"{"event":"sync.completed","company_id":"x","data":5,"n":[1]}"#);
        assert_eq!(e.tag(), "sync.completed");
        let e =
            Event::from_slice(br#"{"company_id":1,"webhook_type":"NEW","company_id":2}"#).unwrap();
        let Event::Unknown(u) = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            *u.raw(),
            serde_json::json!({"webhook_type": "NEW", "company_id": 2})
        );
    }

    #[test]
    fn known_webhook_type_after_an_unknown_v4_event_types_every_field() {
        let e = round_trip(
            r#"{"event":"sync.completed","company_id":1,"webhook_type":"SYNC_STARTED","data":{"id":"s"}}"#,
        );
        let Event::SyncStarted(s) = e else {
            panic!("{e:?}")
        };
        assert_eq!(s.company_id, Some(1));
        assert_eq!(s.data.unwrap().id.as_deref(), Some("s"));
        assert_eq!(s.extra["event"], "sync.completed");
    }

    #[test]
    fn missing_tag_and_wrong_tag_type_are_data_errors() {
        for body in [
            r#"{"company_id":1}"#,
            r#"{"webhook_type":5}"#,
            "[]",
            "3",
            r#"{"event":null}"#,
        ] {
            let err = Event::from_slice(body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ParseErrorKind::Data, "{body}: {err}");
        }
    }

    #[test]
    fn every_enum_value_round_trips_through_its_wire_string() {
        for dm in DataModel::KNOWN {
            assert_eq!(&DataModel::from(dm.as_str()), dm);
        }
        assert_eq!(DataModel::KNOWN.len(), 62 + 58);
        assert_eq!(IntegrationType::KNOWN.len(), 29);
        for it in IntegrationType::KNOWN {
            assert_eq!(&IntegrationType::from(it.to_string()), it);
        }
    }
}
