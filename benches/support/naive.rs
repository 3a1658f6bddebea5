//! The straightforward serde model, what one writes first: internally tagged enums
//! (`#[serde(tag = "...")]`, so serde buffers each tagged object into its `Content` tree
//! before picking the variant) with owned `String`s. The parse benches use it as a second
//! baseline and the layer benches' hand-rolled contender deserialises into it with
//! `Json<T>`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(tag = "webhook_type", rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum RootFi {
    DataModelChanges {
        company_id: Option<u64>,
        integration_type: Option<String>,
        data_model: Option<String>,
        #[serde(rename = "type")]
        operation: Option<String>,
        created_at: Option<String>,
        data: Option<Vec<Value>>,
    },
    ConnectionChanged {
        company_id: Option<u64>,
        integration_type: Option<String>,
        connection_status: Option<String>,
        created_at: Option<String>,
    },
    SyncStarted(Sync),
    SyncCompleted(Sync),
    Integration {
        company_id: Option<u64>,
        integration_type: Option<String>,
        created_at: Option<String>,
        data: Option<Value>,
    },
}

#[derive(Deserialize)]
#[serde(tag = "event")]
pub(crate) enum RootFiV4 {
    #[serde(rename = "connection.changed")]
    ConnectionChanged { company_id: Option<u64> },
}

#[derive(Deserialize)]
pub(crate) struct Sync {
    company_id: Option<u64>,
    integration_type: Option<String>,
    created_at: Option<String>,
    data: Option<SyncData>,
}

#[derive(Deserialize)]
pub(crate) struct SyncData {
    id: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    sync_type: Option<String>,
    total_jobs_count: Option<u64>,
    success_jobs_count: Option<u64>,
    failed_jobs_count: Option<u64>,
    running_jobs_count: Option<u64>,
    created_jobs_count: Option<u64>,
    start_time: Option<String>,
    end_time: Option<String>,
    jobs: Option<Vec<Job>>,
}

#[derive(Deserialize)]
pub(crate) struct Job {
    rootfi_id: Option<String>,
    status: Option<String>,
    error: Option<Value>,
    data_model: Option<String>,
    job_type: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    upload_job_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Railz {
    data: RailzData,
    request_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub(crate) enum RailzData {
    Login(Common),
    Auth(Common),
    #[serde(rename_all = "camelCase")]
    ConnectionStatus {
        #[serde(flatten)]
        common: Common,
        old_status: Option<String>,
        new_status: Option<String>,
        message: Option<String>,
        disconnect_reason: Option<String>,
        effective_on: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    CustomerRequest {
        #[serde(flatten)]
        common: Common,
        #[serde(rename = "type")]
        request_type: Option<String>,
        message: Option<String>,
        received_payload: Option<Value>,
    },
    Data(DataSync),
    DataPerType(DataSync),
    Push(Push),
    #[serde(rename_all = "camelCase")]
    BatchPush {
        #[serde(flatten)]
        common: Common,
        batch_id: Option<String>,
        batch: Option<Vec<Push>>,
    },
    Delete(Push),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Common {
    connection_id: Option<String>,
    connection_uuid: Option<String>,
    business_uuid: Option<String>,
    business_name: Option<String>,
    service_name: Option<String>,
    service_account_ref: Option<ServiceAccountRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceAccountRef {
    id: Option<String>,
    entity_ref: Option<EntityRef>,
}

#[derive(Deserialize)]
pub(crate) struct EntityRef {
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DataSync {
    connection_id: Option<String>,
    connection_uuid: Option<String>,
    business_uuid: Option<String>,
    business_name: Option<String>,
    service_name: Option<String>,
    service_account_ref: Option<ServiceAccountRef>,
    data_sync_type: Option<String>,
    sandbox: Option<bool>,
    request_type: Option<String>,
    requests: Option<Requests>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Requests {
    Full(Vec<DataRequest>),
    Simple(std::collections::BTreeMap<String, Counts>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DataRequest {
    id: Option<String>,
    request: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    report_frequency: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Counts {
    success: Option<u64>,
    empty: Option<u64>,
    failed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Push {
    connection_id: Option<String>,
    connection_uuid: Option<String>,
    business_name: Option<String>,
    service_name: Option<String>,
    service_account_ref: Option<ServiceAccountRef>,
    push_communication_id: Option<String>,
    delete_communication_id: Option<String>,
    source_object_ids: Option<Vec<String>>,
    data_type: Option<String>,
    requested_on: Option<String>,
    completed_on: Option<String>,
    status: Option<String>,
    response_code: Option<u32>,
    validation: Option<Value>,
}

/// Parses with the derived model for the fixture's shape; `None` when it cannot
/// represent the body.
pub(crate) fn parse(name: &str, body: &[u8]) -> Option<()> {
    if name.starts_with("rootfi_v4_connection") {
        serde_json::from_slice::<RootFiV4>(body).ok().map(drop)
    } else if name.starts_with("rootfi") {
        serde_json::from_slice::<RootFi>(body).ok().map(drop)
    } else {
        serde_json::from_slice::<Railz>(body).ok().map(drop)
    }
}
