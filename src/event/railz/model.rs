//! The Railz event types: one struct per event, and the records inside them.

use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{RawJson, Text};

use super::enums::{
    ConnectionStatus, CustomerRequestType, DataSyncType, DataType, DisconnectReason, EventType,
    PushStatus, ReportFrequency, RequestStatus, ServiceName,
};

model! {
    /// The account at the service (`serviceAccountRef`).
    pub struct ServiceAccountRef {
        /// The account id.
        id: Text = "id",
        /// The sub-account or subsidiary (`null` on the wire is kept in `extra`).
        entity_ref: EntityRef = "entityRef",
    }
}

model! {
    /// A sub-account or subsidiary (`serviceAccountRef.entityRef`).
    pub struct EntityRef {
        /// The sub-account id.
        id: Text = "id",
    }
}

model! {
    /// One data sync request of a full `requests` payload.
    pub struct DataRequest {
        /// The data sync request id.
        id: Text = "id",
        /// The data type (may be missing: one Railz sample omits it).
        request: DataType = "request",
        /// Period start (`YYYY-MM-DD`), for period reports.
        start_date: Text = "startDate",
        /// Period end (`YYYY-MM-DD`), for period reports.
        end_date: Text = "endDate",
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
        field: Text = "field",
        /// Why.
        message: Text = "message",
    }
}

model! {
    /// One element of a `batchPush` event's `batch`, in the order of the original request.
    pub struct BatchItem {
        /// The push request id.
        push_communication_id: Text = "pushCommunicationId",
        /// Ids of the objects created at the service.
        source_object_ids: Vec<Text> = "sourceObjectIds",
        /// Id of the object created at the service (older singular form).
        source_object_id: Text = "sourceObjectId",
        /// The data type pushed.
        data_type: DataType = "dataType",
        /// When the push was requested (ISO 8601).
        requested_on: Text = "requestedOn",
        /// When the push finished (ISO 8601).
        completed_on: Text = "completedOn",
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

impl crate::event::de::ReadField for Requests {}

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
                let mut body = crate::event::text::BodyRef::default();
                while crate::event::de::push_model(&mut seq, &mut list, &mut body)? {}
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
                connection_id: Text = "connectionId",
                /// The connection's UUID.
                connection_uuid: Text = "connectionUuid",
                /// `BIZ-<uuid>`.
                business_uuid: Text = "businessUuid",
                /// The business name you gave Railz.
                business_name: Text = "businessName",
                /// The connected service.
                service_name: ServiceName = "serviceName",
                /// The account (and sub-account) at the service.
                service_account_ref: ServiceAccountRef = "serviceAccountRef",
                $($body)*
            }
            ;
            /// The envelope's `requestId` (optional): the best available dedup key.
            request_id: Option<Text>,
            /// Unknown envelope fields, beside `data` and `requestId`.
            envelope_extra: Map<String, Value>,
        }

        impl $name {
            /// Completes a variant filled straight from `data` (its tag came first): the
            /// envelope's fields, and the fields of other variants (`rest`) into `extra`.
            pub(super) fn finish(
                &mut self,
                request_id: Option<Text>,
                envelope_extra: Map<String, Value>,
                rest: &mut DataFields,
            ) {
                self.request_id = request_id;
                self.envelope_extra = envelope_extra;
                rest.spill_into(&mut self.extra);
            }
        }

        impl EnvelopeFields for $name {
            fn request_id(&self) -> Option<&str> {
                self.request_id.as_deref()
            }
            fn connection_id(&self) -> Option<&str> {
                self.connection_id.as_deref()
            }
            fn envelope_extra(&self) -> &Map<String, Value> {
                &self.envelope_extra
            }
        }
    };
}

/// The fields every Railz event has, whatever its variant.
pub(super) trait EnvelopeFields {
    fn request_id(&self) -> Option<&str>;
    fn connection_id(&self) -> Option<&str>;
    fn envelope_extra(&self) -> &Map<String, Value>;
}

railz_event! {
    /// `login` (new connection) and `auth` (authentication completed).
    pub struct Connection {}
}

railz_event! {
    /// `connectionStatus`: a connection became disconnected (or inactive, expired, ...).
    pub struct ConnectionStatusChanged {
        /// The status before, e.g. `active`.
        old_status: ConnectionStatus = "oldStatus",
        /// The status now, e.g. `disconnected`.
        new_status: ConnectionStatus = "newStatus",
        /// Free text from Railz.
        message: Text = "message",
        /// Why the connection was disconnected.
        disconnect_reason: DisconnectReason = "disconnectReason",
        /// When the change took effect (ISO 8601, ms).
        effective_on: Text = "effectiveOn",
    }
}

railz_event! {
    /// `customerRequest`: a GDPR request passed on from Shopify.
    pub struct CustomerRequest {
        /// customersDataRequest or customersRedact.
        request_type: CustomerRequestType = "type",
        /// Free text from Railz.
        message: Text = "message",
        /// The provider's request body, passed through as is (unparsed: deserialise it
        /// into your own type, or [`RawJson::to_value`]).
        received_payload: RawJson = "receivedPayload",
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
        request_type: Text = "requestType",
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
        push_communication_id: Text = "pushCommunicationId",
        /// Ids of the objects created at the service.
        source_object_ids: Vec<Text> = "sourceObjectIds",
        /// Id of the object created at the service (older singular form).
        source_object_id: Text = "sourceObjectId",
        /// The batch the push belonged to, if any.
        batch_id: Text = "batchId",
        /// The data type pushed.
        data_type: DataType = "dataType",
        /// When the push was requested (ISO 8601).
        requested_on: Text = "requestedOn",
        /// When the push finished (ISO 8601).
        completed_on: Text = "completedOn",
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
        batch_id: Text = "batchId",
        /// One result per pushed object, in request order.
        batch: Vec<BatchItem> = "batch",
    }
}

railz_event! {
    /// `delete`: a delete request finished (shape inferred from the API's delete status).
    pub struct Delete {
        /// The delete request id.
        delete_communication_id: Text = "deleteCommunicationId",
        /// The data type deleted.
        data_type: DataType = "dataType",
        /// When the delete was requested (ISO 8601).
        requested_on: Text = "requestedOn",
        /// When the delete finished (ISO 8601).
        completed_on: Text = "completedOn",
        /// success, failed or pending.
        status: PushStatus = "status",
        /// The service's HTTP status code.
        response_code: u32 = "responseCode",
        /// Why the delete failed.
        validation: Validation = "validation",
    }
}

model! {
    /// Every field of every event's `data` object: the single pass fills it, then
    /// `event` picks the variant and the fields move into it.
    pub(crate) struct DataFields {
        event: EventType = "event",
        connection_id: Text = "connectionId",
        connection_uuid: Text = "connectionUuid",
        business_uuid: Text = "businessUuid",
        business_name: Text = "businessName",
        service_name: ServiceName = "serviceName",
        service_account_ref: ServiceAccountRef = "serviceAccountRef",
        old_status: ConnectionStatus = "oldStatus",
        new_status: ConnectionStatus = "newStatus",
        message: Text = "message",
        disconnect_reason: DisconnectReason = "disconnectReason",
        effective_on: Text = "effectiveOn",
        customer_request_type: CustomerRequestType = "type",
        received_payload: RawJson = "receivedPayload",
        data_sync_type: DataSyncType = "dataSyncType",
        sandbox: bool = "sandbox",
        requests: Requests = "requests",
        request_type: Text = "requestType",
        push_communication_id: Text = "pushCommunicationId",
        source_object_ids: Vec<Text> = "sourceObjectIds",
        source_object_id: Text = "sourceObjectId",
        batch_id: Text = "batchId",
        data_type: DataType = "dataType",
        requested_on: Text = "requestedOn",
        completed_on: Text = "completedOn",
        status: PushStatus = "status",
        response_code: u32 = "responseCode",
        validation: Validation = "validation",
        batch: Vec<BatchItem> = "batch",
        delete_communication_id: Text = "deleteCommunicationId",
    }
}
