//! Railz (Accounting Data as a Service) webhook events.
//!
//! Every Railz body is an envelope `{"data": {...}, "requestId": "..."}` (`requestId`
//! optional) whose `data.event` names the event:
//!
//! | `data.event` | variant |
//! |---|---|
//! | `login` | [`Event::Login`] ([`Connection`]) |
//! | `auth` | [`Event::Auth`] ([`Connection`]) |
//! | `connectionStatus` | [`Event::ConnectionStatus`] ([`ConnectionStatusChange`]) |
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

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod enums;
pub use enums::{
    ConnectionStatus, CustomerRequestType, DataSyncType, DataType, DisconnectReason, EventType,
    PushStatus, ReportFrequency, RequestStatus, ServiceName,
};

use super::ParseError;
use super::de::{
    Fill, FillMap, Filled, Key, Tagged, error_with_path, fill_from_slice, store, store_extra,
    whole_value,
};

model! {
    /// The account at the service (`serviceAccountRef`).
    pub struct ServiceAccountRef {
        /// The account id.
        id: String = "id",
        /// The sub-account or subsidiary (`null` on the wire is kept in `extra`).
        entity_ref: EntityRef = "entityRef",
    }
}

model! {
    /// A sub-account or subsidiary (`serviceAccountRef.entityRef`).
    pub struct EntityRef {
        /// The sub-account id.
        id: String = "id",
    }
}

model! {
    /// One data sync request of a full `requests` payload.
    pub struct DataRequest {
        /// The data sync request id.
        id: String = "id",
        /// The data type (may be missing: one Railz sample omits it).
        request: DataType = "request",
        /// Period start (`YYYY-MM-DD`), for period reports.
        start_date: String = "startDate",
        /// Period end (`YYYY-MM-DD`), for period reports.
        end_date: String = "endDate",
        /// year, quarter or month, for period reports.
        report_frequency: ReportFrequency = "reportFrequency",
        /// success, failed or empty.
        status: RequestStatus = "status",
    }
}

model! {
    /// Request counts of one data type in a simple `requests` payload.
    pub struct RequestCounts {
        /// Requests that returned data.
        success: u64 = "success",
        /// Requests that returned no data.
        empty: u64 = "empty",
        /// Requests that failed.
        failed: u64 = "failed",
    }
}

model! {
    /// Why a push or delete failed.
    pub struct Validation {
        /// One entry per rejected field.
        errors: Vec<ValidationError> = "errors",
    }
}

model! {
    /// One validation error.
    pub struct ValidationError {
        /// The field that was rejected.
        field: String = "field",
        /// Why.
        message: String = "message",
    }
}

model! {
    /// One element of a `batchPush` event's `batch`, in the order of the original request.
    pub struct BatchItem {
        /// The push request id.
        push_communication_id: String = "pushCommunicationId",
        /// Ids of the objects created at the service.
        source_object_ids: Vec<String> = "sourceObjectIds",
        /// Id of the object created at the service (older singular form).
        source_object_id: String = "sourceObjectId",
        /// The data type pushed.
        data_type: DataType = "dataType",
        /// When the push was requested (ISO 8601).
        requested_on: String = "requestedOn",
        /// When the push finished (ISO 8601).
        completed_on: String = "completedOn",
        /// success, failed or pending.
        status: PushStatus = "status",
        /// The service's HTTP status code.
        response_code: u32 = "responseCode",
        /// Why the push failed.
        validation: Validation = "validation",
    }
}

/// The `requests` of a `data` or `dataPerType` event, in either payload shape.
///
/// ```
/// use ledgerhook::railz::{DataType, Requests};
///
/// let full: Requests = serde_json::from_str(r#"[{"id":"1","request":"accounts","status":"success"}]"#)?;
/// let Requests::Full(list) = full else { panic!() };
/// assert_eq!(list[0].request, Some(DataType::Accounts));
///
/// let simple: Requests = serde_json::from_str(r#"{"bills":{"success":5,"empty":3,"failed":0}}"#)?;
/// let Requests::Simple(counts) = simple else { panic!() };
/// assert_eq!(counts[0].0, DataType::Bills);
/// assert_eq!(counts[0].1.success, Some(5));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Requests {
    /// Full payload: one entry per data sync request.
    Full(Vec<DataRequest>),
    /// Simple payload: counts per data type, in wire order.
    Simple(Vec<(DataType, RequestCounts)>),
}

impl Serialize for Requests {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Full(list) => list.serialize(serializer),
            Self::Simple(counts) => {
                let mut map = serializer.serialize_map(Some(counts.len()))?;
                for (k, v) in counts {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Requests {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Requests;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of requests or an object of counts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Requests, A::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element()? {
                    list.push(item);
                }
                Ok(Requests::Full(list))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Requests, A::Error> {
                let mut counts = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    counts.push(entry);
                }
                Ok(Requests::Simple(counts))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Adds the fields every Railz event has, and the envelope fields.
macro_rules! railz_event {
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        model! {
            $(#[$meta])*
            pub struct $name {
                /// `CON-<uuid>`; Railz plans to replace it with `connectionUuid`.
                connection_id: String = "connectionId",
                /// The connection's UUID.
                connection_uuid: String = "connectionUuid",
                /// `BIZ-<uuid>`.
                business_uuid: String = "businessUuid",
                /// The business name you gave Railz.
                business_name: String = "businessName",
                /// The connected service.
                service_name: ServiceName = "serviceName",
                /// The account (and sub-account) at the service.
                service_account_ref: ServiceAccountRef = "serviceAccountRef",
                $($body)*
            }
            ;
            /// The envelope's `requestId` (optional): the best available dedup key.
            request_id: Option<String>,
            /// Unknown envelope fields, beside `data` and `requestId`.
            envelope_extra: Map<String, Value>,
        }

        impl Envelope for $name {
            fn request_id(&self) -> Option<&str> {
                self.request_id.as_deref()
            }
            fn envelope_extra(&self) -> &Map<String, Value> {
                &self.envelope_extra
            }
        }
    };
}

/// Access to the envelope fields, for serialising.
trait Envelope {
    fn request_id(&self) -> Option<&str>;
    fn envelope_extra(&self) -> &Map<String, Value>;
}

railz_event! {
    /// `login` (new connection) and `auth` (authentication completed).
    pub struct Connection {}
}

railz_event! {
    /// `connectionStatus`: a connection became disconnected (or inactive, expired, ...).
    pub struct ConnectionStatusChange {
        /// The status before, e.g. `active`.
        old_status: ConnectionStatus = "oldStatus",
        /// The status now, e.g. `disconnected`.
        new_status: ConnectionStatus = "newStatus",
        /// Free text from Railz.
        message: String = "message",
        /// Why the connection was disconnected.
        disconnect_reason: DisconnectReason = "disconnectReason",
        /// When the change took effect (ISO 8601, ms).
        effective_on: String = "effectiveOn",
    }
}

railz_event! {
    /// `customerRequest`: a GDPR request passed on from Shopify.
    pub struct CustomerRequest {
        /// customersDataRequest or customersRedact.
        request_type: CustomerRequestType = "type",
        /// Free text from Railz.
        message: String = "message",
        /// The provider's request body, passed through as is.
        received_payload: Value = "receivedPayload",
    }
}

railz_event! {
    /// `data`: a data sync finished, every type in one webhook.
    pub struct DataSync {
        /// How the sync was triggered.
        data_sync_type: DataSyncType = "dataSyncType",
        /// Whether the event comes from the sandbox environment.
        sandbox: bool = "sandbox",
        /// The sync requests, full or simple.
        requests: Requests = "requests",
    }
}

railz_event! {
    /// `dataPerType`: one data type finished syncing.
    pub struct DataPerType {
        /// The data type; Railz documents UPPER_SNAKE and sends camelCase, so it is kept
        /// as a string.
        request_type: String = "requestType",
        /// How the sync was triggered.
        data_sync_type: DataSyncType = "dataSyncType",
        /// Whether the event comes from the sandbox environment.
        sandbox: bool = "sandbox",
        /// The sync requests of this type.
        requests: Requests = "requests",
    }
}

railz_event! {
    /// `push`: a push (write) request finished at Railz and at the service.
    pub struct Push {
        /// The push request id.
        push_communication_id: String = "pushCommunicationId",
        /// Ids of the objects created at the service.
        source_object_ids: Vec<String> = "sourceObjectIds",
        /// Id of the object created at the service (older singular form).
        source_object_id: String = "sourceObjectId",
        /// The batch the push belonged to, if any.
        batch_id: String = "batchId",
        /// The data type pushed.
        data_type: DataType = "dataType",
        /// When the push was requested (ISO 8601).
        requested_on: String = "requestedOn",
        /// When the push finished (ISO 8601).
        completed_on: String = "completedOn",
        /// success, failed or pending.
        status: PushStatus = "status",
        /// The service's HTTP status code.
        response_code: u32 = "responseCode",
        /// Why the push failed.
        validation: Validation = "validation",
    }
}

railz_event! {
    /// `batchPush`: a batch push finished (beta API).
    pub struct BatchPush {
        /// The batch id.
        batch_id: String = "batchId",
        /// One result per pushed object, in request order.
        batch: Vec<BatchItem> = "batch",
    }
}

railz_event! {
    /// `delete`: a delete request finished (shape inferred from the API's delete status).
    pub struct Delete {
        /// The delete request id.
        delete_communication_id: String = "deleteCommunicationId",
        /// The data type deleted.
        data_type: DataType = "dataType",
        /// When the delete was requested (ISO 8601).
        requested_on: String = "requestedOn",
        /// When the delete finished (ISO 8601).
        completed_on: String = "completedOn",
        /// success, failed or pending.
        status: PushStatus = "status",
        /// The service's HTTP status code.
        response_code: u32 = "responseCode",
        /// Why the delete failed.
        validation: Validation = "validation",
    }
}

model! {
    /// The union of every `data` field: the single pass fills it, then `event` picks the
    /// variant and the fields move into it.
    pub(crate) struct Union {
        event: EventType = "event",
        connection_id: String = "connectionId",
        connection_uuid: String = "connectionUuid",
        business_uuid: String = "businessUuid",
        business_name: String = "businessName",
        service_name: ServiceName = "serviceName",
        service_account_ref: ServiceAccountRef = "serviceAccountRef",
        old_status: ConnectionStatus = "oldStatus",
        new_status: ConnectionStatus = "newStatus",
        message: String = "message",
        disconnect_reason: DisconnectReason = "disconnectReason",
        effective_on: String = "effectiveOn",
        customer_request_type: CustomerRequestType = "type",
        received_payload: Value = "receivedPayload",
        data_sync_type: DataSyncType = "dataSyncType",
        sandbox: bool = "sandbox",
        requests: Requests = "requests",
        request_type: String = "requestType",
        push_communication_id: String = "pushCommunicationId",
        source_object_ids: Vec<String> = "sourceObjectIds",
        source_object_id: String = "sourceObjectId",
        batch_id: String = "batchId",
        data_type: DataType = "dataType",
        requested_on: String = "requestedOn",
        completed_on: String = "completedOn",
        status: PushStatus = "status",
        response_code: u32 = "responseCode",
        validation: Validation = "validation",
        batch: Vec<BatchItem> = "batch",
        delete_communication_id: String = "deleteCommunicationId",
    }
}

/// The envelope, filled in place: `data` goes straight into the (large) union.
#[derive(Default)]
struct Body {
    data: Union,
    /// `Some(true)` for an object, `Some(false)` for `null`, `None` when absent.
    data_seen: Option<bool>,
    request_id: Option<String>,
    extra: Map<String, Value>,
}

impl FillMap for Body {
    fn fill<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.as_str() {
                "data" => {
                    if self.data_seen.is_some() {
                        return Err(de::Error::duplicate_field("data"));
                    }
                    self.data_seen = Some(map.next_value_seed(Fill(&mut self.data))?);
                }
                "requestId" => {
                    let value: Option<String> = map.next_value()?;
                    store(&mut self.request_id, &mut self.extra, "requestId", value)?;
                }
                _ => store_extra(&mut self.extra, key, &mut map)?,
            }
        }
        Ok(())
    }
}

/// A Railz webhook event.
///
/// See the [module docs](self) for the variants and an example.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `login`: a new connection was created.
    Login(Connection),
    /// `auth`: a connection was authorised.
    Auth(Connection),
    /// `connectionStatus`: a connection was disconnected.
    ConnectionStatus(ConnectionStatusChange),
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
    /// An event this version does not know, kept losslessly.
    Unknown {
        /// The tag as on the wire (`data.event`).
        tag: String,
        /// The whole body.
        raw: Value,
    },
}

impl Event {
    /// Parses a Railz body.
    ///
    /// ```
    /// use ledgerhook::railz::{Event, ServiceName};
    ///
    /// let event = Event::from_slice(br#"{"data":{"event":"login","connectionId":"CON-1","serviceName":"quickbooks"}}"#)?;
    /// let Event::Login(login) = &event else { panic!() };
    /// assert_eq!(login.service_name, Some(ServiceName::Quickbooks));
    /// assert_eq!(event.connection_id(), Some("CON-1"));
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ParseError`]: `Syntax` when the body is not JSON, `Data` when it is JSON of the
    /// wrong shape (see the [module docs](self)).
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        let mut env = Body::default();
        match fill_from_slice(body, &mut env) {
            Ok(()) => build(&mut env, body),
            Err(e) => recover(body, &e),
        }
    }

    /// Parses only if the body is a Railz event and has no RootFi tag beside `data`
    /// (used by provider detection).
    pub(crate) fn try_fast(body: &[u8]) -> Option<Self> {
        let mut env = Body::default();
        fill_from_slice(body, &mut env).ok()?;
        if ["webhook_type", "event", "data_model"]
            .iter()
            .any(|k| env.extra.contains_key(*k))
        {
            return None;
        }
        build(&mut env, body).ok()
    }

    /// The tag exactly as on the wire (`data.event`).
    ///
    /// ```
    /// use ledgerhook::railz::Event;
    ///
    /// let e = Event::from_slice(br#"{"data":{"event":"subscriptionRenewed","plan":3}}"#)?;
    /// assert_eq!(e.tag(), "subscriptionRenewed");
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    #[must_use]
    pub fn tag(&self) -> &str {
        match self {
            Self::Login(_) => "login",
            Self::Auth(_) => "auth",
            Self::ConnectionStatus(_) => "connectionStatus",
            Self::CustomerRequest(_) => "customerRequest",
            Self::Data(_) => "data",
            Self::DataPerType(_) => "dataPerType",
            Self::Push(_) => "push",
            Self::BatchPush(_) => "batchPush",
            Self::Delete(_) => "delete",
            Self::Unknown { tag, .. } => tag,
        }
    }

    /// Whether this crate knows the tag (the event is not [`Event::Unknown`]).
    ///
    /// ```
    /// use ledgerhook::railz::Event;
    ///
    /// assert!(Event::from_slice(br#"{"data":{"event":"auth"}}"#)?.is_known());
    /// assert!(!Event::from_slice(br#"{"data":{"event":"invoiceViewed"}}"#)?.is_known());
    /// # Ok::<(), ledgerhook::ParseError>(())
    /// ```
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown { .. })
    }

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
            Self::Unknown { raw, .. } => raw.get("requestId").and_then(Value::as_str),
            _ => self
                .envelope()
                .map(Envelope::request_id)
                .unwrap_or_default(),
        }
    }

    /// `data.connectionId`, for any event including unknown ones.
    #[must_use]
    pub fn connection_id(&self) -> Option<&str> {
        match self {
            Self::Login(e) | Self::Auth(e) => e.connection_id.as_deref(),
            Self::ConnectionStatus(e) => e.connection_id.as_deref(),
            Self::CustomerRequest(e) => e.connection_id.as_deref(),
            Self::Data(e) => e.connection_id.as_deref(),
            Self::DataPerType(e) => e.connection_id.as_deref(),
            Self::Push(e) => e.connection_id.as_deref(),
            Self::BatchPush(e) => e.connection_id.as_deref(),
            Self::Delete(e) => e.connection_id.as_deref(),
            Self::Unknown { raw, .. } => raw
                .get("data")
                .and_then(|d| d.get("connectionId"))
                .and_then(Value::as_str),
        }
    }

    fn envelope(&self) -> Option<&dyn Envelope> {
        Some(match self {
            Self::Login(e) | Self::Auth(e) => e,
            Self::ConnectionStatus(e) => e,
            Self::CustomerRequest(e) => e,
            Self::Data(e) => e,
            Self::DataPerType(e) => e,
            Self::Push(e) => e,
            Self::BatchPush(e) => e,
            Self::Delete(e) => e,
            Self::Unknown { .. } => return None,
        })
    }
}

/// Picks the variant from `data.event` and moves the fields into it.
fn build(env: &mut Body, body: &[u8]) -> Result<Event, ParseError> {
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
    let u = &mut env.data;
    let request_id = env.request_id.take();
    let envelope_extra = std::mem::take(&mut env.extra);
    let tag = match u.event.take() {
        Some(EventType::Other(tag)) => return unknown(tag, body),
        Some(tag) => tag,
        None => {
            return Err(ParseError::data(
                "data.event",
                "missing the event tag `event`",
            ));
        }
    };
    let extra = std::mem::take(&mut u.extra);

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
                    let mut extra = extra;
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
        EventType::ConnectionStatus => Event::ConnectionStatus(take!(ConnectionStatusChange {
            old_status: old_status,
            new_status: new_status,
            message: message,
            disconnect_reason: disconnect_reason,
            effective_on: effective_on,
        })),
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
        EventType::Other(tag) => return unknown(tag, body),
    })
}

fn unknown(tag: String, body: &[u8]) -> Result<Event, ParseError> {
    Ok(Event::Unknown {
        tag,
        raw: whole_value(body)?,
    })
}

/// The failure path: an unknown `data.event` is never an error, whatever the other
/// fields look like; anything else gets its field path.
fn recover(body: &[u8], e: &serde_json::Error) -> Result<Event, ParseError> {
    #[derive(Deserialize)]
    struct Peek {
        data: Option<PeekData>,
    }
    #[derive(Deserialize)]
    struct PeekData {
        event: Option<EventType>,
    }
    if e.is_data()
        && let Ok(Peek {
            data: Some(PeekData {
                event: Some(EventType::Other(tag)),
            }),
        }) = serde_json::from_slice(body)
    {
        return unknown(tag, body);
    }
    Err(error_with_path::<Filled<Body>>(body, e))
}

/// `{"data": {"event": tag, ...fields}, "requestId": ..., ...envelope extras}`.
fn serialize_envelope<S, T>(serializer: S, tag: &str, event: &T) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Envelope + super::de::Fields,
{
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry(
        "data",
        &Tagged {
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
            Self::ConnectionStatus(e) => serialize_envelope(serializer, tag, e),
            Self::CustomerRequest(e) => serialize_envelope(serializer, tag, e),
            Self::Data(e) => serialize_envelope(serializer, tag, e),
            Self::DataPerType(e) => serialize_envelope(serializer, tag, e),
            Self::Push(e) => serialize_envelope(serializer, tag, e),
            Self::BatchPush(e) => serialize_envelope(serializer, tag, e),
            Self::Delete(e) => serialize_envelope(serializer, tag, e),
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
