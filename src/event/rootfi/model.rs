//! The RootFi event types: one struct per event, and the records inside them.

use serde::de::{self, Deserializer, Unexpected};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::enums::{
    ConnectionStatus, DataModel, IntegrationType, JobStatus, JobType, Operation, SyncStatus,
    WebhookType,
};
use crate::event::de::parse_part;
use crate::event::{ParseError, RawJson, Text};

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
pub struct Records(pub(super) RawJson);

impl Records {
    pub(super) fn from_raw(raw: RawJson) -> Result<Self, ParseError> {
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

impl crate::event::de::ReadField for Records {}

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
        created_at: Text = "created_at",
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
        created_at: Text = "created_at",
    }
    ;
    /// Which field carried the tag (decides [`Event::tag`](super::Event::tag) and how the event serialises).
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
        created_at: Text = "created_at",
        /// The sync and its jobs (boxed: it would make every event as large as itself).
        data: Box<SyncData> = "data",
    }
}

model! {
    /// The sync object inside `SYNC_STARTED`/`SYNC_COMPLETED`.
    pub struct SyncData {
        /// The sync id.
        id: Text = "id",
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
        start_time: Text = "start_time",
        /// When the sync ended (ISO 8601).
        end_time: Text = "end_time",
        /// One job per data model.
        jobs: Vec<Job> = "jobs",
    }
}

model! {
    /// One job of a sync: one data model pulled or pushed.
    pub struct Job {
        /// The job id.
        rootfi_id: Text = "rootfi_id",
        /// CREATED, RUNNING, SUCCESS or FAILED.
        status: JobStatus = "status",
        /// The error, if any (`{}` when none), as sent.
        error: Value = "error",
        /// The data model the job handled.
        data_model: DataModel = "data_model",
        /// PULL, PUSH or CUSTOM.
        job_type: JobType = "job_type",
        /// When the job started (ISO 8601).
        start_time: Text = "start_time",
        /// When the job ended (ISO 8601).
        end_time: Text = "end_time",
        /// The sync (upload) this job belongs to.
        upload_job_id: Text = "upload_job_id",
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
        created_at: Text = "created_at",
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
        created_at: Text = "created_at",
        /// The record, unparsed.
        data: RawJson = "data",
    }
}

model! {
    /// Every top-level field of every event: the single pass fills it, then the tag
    /// picks the variant and the fields move into it.
    pub(crate) struct TopLevelFields {
        webhook_type: WebhookType = "webhook_type",
        event: Text = "event",
        company_id: u64 = "company_id",
        integration_type: IntegrationType = "integration_type",
        data_model: DataModel = "data_model",
        operation: Operation = "type",
        created_at: Text = "created_at",
        connection_status: ConnectionStatus = "connection_status",
    }
}
