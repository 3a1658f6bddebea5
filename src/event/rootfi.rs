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
//!         assert_eq!(change.data_model, Some(DataModel::Accounts));
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

use serde::de::{self, Deserializer, MapAccess, Unexpected};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

mod enums;
pub use enums::{
    ConnectionStatus, DataModel, IntegrationType, JobStatus, JobType, Operation, SyncStatus,
    WebhookType,
};

use super::de::{
    FillMap, Filled, Key, Tagged, error_with_path, fill_from_slice, parse_part, to_value,
    whole_value,
};
use super::{ParseError, RawJson};

/// What [`Event::tag`] returns for a pre-v3 body, which carries no tag on the wire.
pub const LEGACY_TAG: &str = "DATA_MODEL_CHANGES";

/// The only documented v4 delivery tag (`"event": "connection.changed"`).
pub const V4_CONNECTION_CHANGED: &str = "connection.changed";

/// The records of a `DATA_MODEL_CHANGES` event: a JSON array, kept unparsed.
///
/// Records are unified RootFi objects whose schema depends on the data model and may be
/// partial, so the crate does not impose a type: deserialise them into your own.
///
/// ```
/// use ledgerhook::rootfi::Records;
///
/// let records: Records = serde_json::from_str(r#"[{"platform_id":"1"},{"platform_id":"2"}]"#)?;
/// assert_eq!(records.raw_records()?.len(), 2);
/// assert_eq!(records.to_values()?[1]["platform_id"], "2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records(RawJson);

impl Records {
    fn from_raw(raw: RawJson) -> Result<Self, ParseError> {
        match raw.first_byte() {
            Some(b'[') => Ok(Self(raw)),
            _ => Err(ParseError::data("data", "expected an array of records")),
        }
    }

    /// The array as received.
    #[must_use]
    pub fn as_raw(&self) -> &RawJson {
        &self.0
    }

    /// Each record as unparsed JSON.
    ///
    /// # Errors
    ///
    /// None in practice: the array was checked when the body was parsed.
    pub fn raw_records(&self) -> Result<Vec<&RawValue>, ParseError> {
        serde_json::from_str(self.0.get()).map_err(ParseError::from)
    }

    /// Deserialises every record into your own type.
    ///
    /// # Errors
    ///
    /// A data error with the record's index (`[3].amount`) when a record does not fit `T`.
    pub fn deserialize<T>(&self) -> Result<Vec<T>, ParseError>
    where
        T: for<'de> Deserialize<'de>,
    {
        parse_part(self.0.get(), "")
    }

    /// Every record as a [`serde_json::Value`].
    ///
    /// # Errors
    ///
    /// None in practice: the array was checked when the body was parsed.
    pub fn to_values(&self) -> Result<Vec<Value>, ParseError> {
        self.deserialize()
    }
}

impl Serialize for Records {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Records {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <RawJson as Deserialize>::deserialize(deserializer)?;
        let unexpected = match raw.first_byte() {
            Some(b'[') => return Ok(Self(raw)),
            Some(b'{') => Unexpected::Map,
            Some(b'"') => Unexpected::Other("string"),
            Some(b't' | b'f') => Unexpected::Other("boolean"),
            _ => Unexpected::Other("number"),
        };
        Err(de::Error::invalid_type(unexpected, &"an array of records"))
    }
}

/// Which field carried the tag of a [`ConnectionChanged`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TagStyle {
    /// v3: `"webhook_type": "CONNECTION_CHANGED"`.
    #[default]
    WebhookType,
    /// v4: `"event": "connection.changed"`.
    Event,
}

model! {
    /// `DATA_MODEL_CHANGES`: records were created, updated or deleted.
    ///
    /// CREATE may carry a partial record that later UPDATEs complete; on a full sync
    /// unchanged records also arrive as UPDATE; DELETE arrives only after a full sync.
    pub struct DataModelChanges {
        /// The RootFi company (your customer's connection).
        company_id: u64 = "company_id",
        /// The platform the company is connected to.
        integration_type: IntegrationType = "integration_type",
        /// The data model the records belong to.
        data_model: DataModel = "data_model",
        /// CREATE, UPDATE or DELETE.
        operation: Operation = "type",
        /// When RootFi produced the event.
        created_at: String = "created_at",
        /// The changed records, unparsed.
        data: Records = "data",
    }
}

model! {
    /// `CONNECTION_CHANGED` (v3) or `connection.changed` (v4): a connection was made
    /// through an invite link, or its status changed.
    pub struct ConnectionChanged {
        /// The RootFi company (your customer's connection).
        company_id: u64 = "company_id",
        /// The platform the company is connected to.
        integration_type: IntegrationType = "integration_type",
        /// HEALTHY, EXPIRED or DISCONNECTED.
        connection_status: ConnectionStatus = "connection_status",
        /// When RootFi produced the event.
        created_at: String = "created_at",
    }
    ;
    /// Which field carried the tag (decides [`Event::tag`] and how the event serialises).
    tag_style: TagStyle,
}

model! {
    /// `SYNC_STARTED` or `SYNC_COMPLETED`: a sync (or an async write) started or finished.
    pub struct SyncEvent {
        /// The RootFi company (your customer's connection).
        company_id: u64 = "company_id",
        /// The platform the company is connected to.
        integration_type: IntegrationType = "integration_type",
        /// When RootFi produced the event.
        created_at: String = "created_at",
        /// The sync and its jobs.
        data: SyncData = "data",
    }
}

model! {
    /// The sync object inside `SYNC_STARTED`/`SYNC_COMPLETED`.
    pub struct SyncData {
        /// The sync id.
        id: String = "id",
        /// SUCCESS, RUNNING, FAILED or PARTIAL_SUCCESS.
        status: SyncStatus = "status",
        /// PULL or PUSH.
        sync_type: JobType = "type",
        /// Number of jobs in the sync.
        total_jobs_count: u64 = "total_jobs_count",
        /// Number of jobs that succeeded.
        success_jobs_count: u64 = "success_jobs_count",
        /// Number of jobs that failed.
        failed_jobs_count: u64 = "failed_jobs_count",
        /// Number of jobs still running.
        running_jobs_count: u64 = "running_jobs_count",
        /// Number of jobs created but not started.
        created_jobs_count: u64 = "created_jobs_count",
        /// When the sync started (ISO 8601).
        start_time: String = "start_time",
        /// When the sync ended (ISO 8601).
        end_time: String = "end_time",
        /// One job per data model.
        jobs: Vec<Job> = "jobs",
    }
}

model! {
    /// One job of a sync: one data model pulled or pushed.
    pub struct Job {
        /// The job id.
        rootfi_id: String = "rootfi_id",
        /// CREATED, RUNNING, SUCCESS or FAILED.
        status: JobStatus = "status",
        /// The error, if any (`{}` when none), as sent.
        error: Value = "error",
        /// The data model the job handled.
        data_model: DataModel = "data_model",
        /// PULL, PUSH or CUSTOM.
        job_type: JobType = "job_type",
        /// When the job started (ISO 8601).
        start_time: String = "start_time",
        /// When the job ended (ISO 8601).
        end_time: String = "end_time",
        /// The sync (upload) this job belongs to.
        upload_job_id: String = "upload_job_id",
    }
}

model! {
    /// `INTEGRATION` (v4): a platform-native event. Its payload is not documented, so
    /// `data` is kept unparsed.
    pub struct Integration {
        /// The RootFi company (your customer's connection).
        company_id: u64 = "company_id",
        /// The platform that raised the event.
        integration_type: IntegrationType = "integration_type",
        /// When RootFi produced the event.
        created_at: String = "created_at",
        /// The payload, unparsed.
        data: RawJson = "data",
    }
}

model! {
    /// A pre-v3 data model change: no `webhook_type`, and `data` is a single object.
    pub struct LegacyDataModelChange {
        /// The RootFi company (your customer's connection).
        company_id: u64 = "company_id",
        /// The platform the company is connected to.
        integration_type: IntegrationType = "integration_type",
        /// The data model the record belongs to.
        data_model: DataModel = "data_model",
        /// CREATE, UPDATE or DELETE.
        operation: Operation = "type",
        /// When RootFi produced the event (a date in the legacy sample).
        created_at: String = "created_at",
        /// The record, unparsed.
        data: RawJson = "data",
    }
}

model! {
    /// The union of every top-level field: the single parsing pass fills it, then the
    /// tag picks the variant and the fields move into it.
    pub(crate) struct Union {
        webhook_type: WebhookType = "webhook_type",
        event: String = "event",
        company_id: u64 = "company_id",
        integration_type: IntegrationType = "integration_type",
        data_model: DataModel = "data_model",
        operation: Operation = "type",
        created_at: String = "created_at",
        connection_status: ConnectionStatus = "connection_status",
    }
}

/// `data`, whose shape depends on the tag: parsed straight into its type when the tag
/// came first (as in every sample), captured raw otherwise.
// Short-lived on the stack; boxing the sync object would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
enum DataSlot {
    Raw(RawJson),
    Records(Records),
    Sync(SyncData),
}

#[derive(Default)]
struct Parts {
    fields: Union,
    data: Option<DataSlot>,
}

impl FillMap for Parts {
    fn fill<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if key.as_str() != "data" {
                self.fields.read_entry(key, &mut map)?;
                continue;
            }
            if self.data.is_some() || self.fields.extra.contains_key("data") {
                return Err(de::Error::duplicate_field("data"));
            }
            let slot = match self.fields.webhook_type {
                Some(WebhookType::SyncStarted | WebhookType::SyncCompleted) => {
                    map.next_value::<Option<SyncData>>()?.map(DataSlot::Sync)
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

    fn sync(self) -> Result<SyncData, ParseError> {
        match self {
            Self::Sync(s) => Ok(s),
            Self::Raw(raw) => parse_part(raw.get(), "data"),
            Self::Records(_) => Err(mismatch()),
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

/// A RootFi webhook event.
///
/// See the [module docs](self) for how a body maps to a variant, and an example.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
    /// An event this version does not know, kept losslessly.
    Unknown {
        /// The tag as on the wire (`webhook_type`, or v4 `event`).
        tag: String,
        /// The whole body.
        raw: Value,
    },
}

impl Event {
    /// Parses a RootFi body (v3, v4 or pre-v3).
    ///
    /// ```
    /// use ledgerhook::rootfi::{ConnectionStatus, Event};
    ///
    /// let event = Event::from_slice(br#"{"webhook_type":"CONNECTION_CHANGED","company_id":285,
    ///     "connection_status":"EXPIRED"}"#)?;
    /// let Event::ConnectionChanged(change) = &event else { panic!() };
    /// assert_eq!(change.connection_status, Some(ConnectionStatus::Expired));
    ///
    /// let v4 = Event::from_slice(br#"{"event":"connection.changed","company_id":496}"#)?;
    /// assert_eq!(v4.tag(), "connection.changed");
    /// assert_eq!(v4.company_id(), Some(496));
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ParseError`]: `Syntax` when the body is not JSON, `Data` when it is JSON of the
    /// wrong shape (see the [module docs](self)).
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        let mut parts = Parts::default();
        match fill_from_slice(body, &mut parts) {
            Ok(()) => build(&mut parts, body),
            Err(e) => recover(body, &e),
        }
    }

    /// Parses only if the body is a RootFi event (used by provider detection): `None`
    /// when the fast pass fails or finds no RootFi tag.
    pub(crate) fn try_fast(body: &[u8]) -> Option<Self> {
        let mut parts = Parts::default();
        fill_from_slice(body, &mut parts).ok()?;
        let f = &parts.fields;
        if f.webhook_type.is_none() && f.event.is_none() && f.data_model.is_none() {
            return None;
        }
        build(&mut parts, body).ok()
    }

    /// The tag exactly as on the wire: `webhook_type` (`DATA_MODEL_CHANGES`, ...), or the
    /// v4 `event` (`connection.changed`), or [`LEGACY_TAG`] for a pre-v3 body, which has
    /// no tag.
    ///
    /// ```
    /// use ledgerhook::rootfi::{Event, LEGACY_TAG};
    ///
    /// let legacy = Event::from_slice(br#"{"company_id":12,"data_model":"ACCOUNTS","type":"UPDATE","data":{}}"#)?;
    /// assert_eq!(legacy.tag(), LEGACY_TAG);
    /// let new = Event::from_slice(br#"{"webhook_type":"PAYROLL_RUN","company_id":1}"#)?;
    /// assert_eq!(new.tag(), "PAYROLL_RUN");
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    #[must_use]
    pub fn tag(&self) -> &str {
        match self {
            Self::DataModelChanges(_) => WebhookType::DataModelChanges.as_str(),
            Self::ConnectionChanged(c) => match c.tag_style {
                TagStyle::WebhookType => WebhookType::ConnectionChanged.as_str(),
                TagStyle::Event => V4_CONNECTION_CHANGED,
            },
            Self::SyncStarted(_) => WebhookType::SyncStarted.as_str(),
            Self::SyncCompleted(_) => WebhookType::SyncCompleted.as_str(),
            Self::Integration(_) => WebhookType::Integration.as_str(),
            Self::Legacy(_) => LEGACY_TAG,
            Self::Unknown { tag, .. } => tag,
        }
    }

    /// Whether this crate knows the tag (the event is not [`Event::Unknown`]).
    ///
    /// ```
    /// use ledgerhook::rootfi::Event;
    ///
    /// assert!(Event::from_slice(br#"{"webhook_type":"SYNC_STARTED"}"#)?.is_known());
    /// assert!(!Event::from_slice(br#"{"event":"invoice.create"}"#)?.is_known());
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown { .. })
    }

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
            Self::Unknown { raw, .. } => raw.get("company_id").and_then(Value::as_u64),
        }
    }
}

/// Picks the variant from the tag and moves the fields into it.
fn build(parts: &mut Parts, body: &[u8]) -> Result<Event, ParseError> {
    let f = &mut parts.fields;
    let data = parts.data.take();
    let extra = std::mem::take(&mut f.extra);
    let tag = match f.webhook_type.take() {
        Some(WebhookType::Other(tag)) => return unknown(tag, body),
        Some(known) => known,
        None => match f.event.take() {
            Some(ev) if ev == V4_CONNECTION_CHANGED => {
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
            Some(ev) => return unknown(ev, body),
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
        },
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
        WebhookType::Other(tag) => return unknown(tag, body),
    })
}

/// Moves the fields the variant did not take (and an unused `data`) into `extra`.
fn finish(
    f: &mut Union,
    data: Option<DataSlot>,
    mut extra: serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    if let Some(data) = data {
        let value = match data {
            DataSlot::Raw(raw) => raw.to_value().unwrap_or(Value::Null),
            DataSlot::Records(r) => r.0.to_value().unwrap_or(Value::Null),
            DataSlot::Sync(s) => to_value(&s),
        };
        extra.insert("data".to_owned(), value);
    }
    f.spill_into(&mut extra);
    extra
}

fn unknown(tag: String, body: &[u8]) -> Result<Event, ParseError> {
    Ok(Event::Unknown {
        tag,
        raw: whole_value(body)?,
    })
}

/// The failure path: an unknown tag is never an error, whatever its fields look like;
/// anything else gets its field path.
fn recover(body: &[u8], e: &serde_json::Error) -> Result<Event, ParseError> {
    #[derive(Deserialize)]
    struct Peek {
        webhook_type: Option<WebhookType>,
        event: Option<String>,
    }
    if e.is_data()
        && let Ok(peek) = serde_json::from_slice::<Peek>(body)
    {
        match (peek.webhook_type, peek.event) {
            (Some(WebhookType::Other(tag)), _) => return unknown(tag, body),
            (None, Some(ev)) if ev != V4_CONNECTION_CHANGED => return unknown(ev, body),
            _ => {}
        }
    }
    Err(error_with_path::<Filled<Parts>>(body, e))
}

impl Serialize for Event {
    /// Serialises back to the wire form: parse then serialise gives the same JSON value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const KEY: &str = "webhook_type";
        match self {
            Self::DataModelChanges(e) => Tagged {
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
                Tagged {
                    key,
                    tag: self.tag(),
                    fields: e,
                }
                .serialize(serializer)
            }
            Self::SyncStarted(e) | Self::SyncCompleted(e) => Tagged {
                key: KEY,
                tag: self.tag(),
                fields: e,
            }
            .serialize(serializer),
            Self::Integration(e) => Tagged {
                key: KEY,
                tag: self.tag(),
                fields: e,
            }
            .serialize(serializer),
            Self::Legacy(e) => e.serialize(serializer),
            Self::Unknown { raw, .. } => raw.serialize(serializer),
        }
    }
}

impl super::WebhookPayload for Event {
    fn parse(body: &bytes::Bytes) -> Result<Self, ParseError> {
        Self::from_slice(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ParseErrorKind;

    fn round_trip(body: &str) -> Event {
        let event = Event::from_slice(body.as_bytes()).unwrap();
        let expected: Value = serde_json::from_str(body).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), expected, "{body}");
        event
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
