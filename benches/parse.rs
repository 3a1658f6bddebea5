//! Parse speed on every fixture, side by side in one group per fixture:
//!
//! - `ledgerhook`: the provider's parser (`rootfi::Event` / `railz::Event::from_slice`);
//! - `ledgerhook_detect`: the provider-detecting `ledgerhook::Event::from_slice`;
//! - `value`: `serde_json::from_slice::<serde_json::Value>` (the baseline);
//! - `derived`: a plain `#[serde(tag = "...")]` enum with owned `String`s (what one
//!   would write first; serde buffers internally tagged enums into `Content`). Skipped
//!   for fixtures it cannot represent (legacy, unknown tags).
//!
//! Run with `cargo bench --bench parse`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ledgerhook::{Event, railz, rootfi};

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../tests/fixtures/", $name, ".json")))),*]
    };
}

const FIXTURES: &[(&str, &[u8])] = fixtures![
    "railz_auth",
    "railz_batch_push",
    "railz_connection_status",
    "railz_customer_request",
    "railz_data_full",
    "railz_data_full_no_envelope_extras",
    "railz_data_per_type",
    "railz_data_per_type_simple",
    "railz_data_simple",
    "railz_delete",
    "railz_login",
    "railz_push_validation_errors",
    "rootfi_connection_changed_v3",
    "rootfi_data_model_changes_create",
    "rootfi_data_model_changes_delete_payment",
    "rootfi_data_model_changes_update_crm",
    "rootfi_integration",
    "rootfi_legacy_data_model_changes",
    "rootfi_sync_completed",
    "rootfi_sync_started",
    "rootfi_v4_connection_changed",
    "rootfi_v4_data_model_changes_singular",
    "rootfi_v4_sync_completed_event",
];

/// The straightforward serde model: internally tagged enums, owned strings.
#[allow(dead_code)]
mod derived {
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
}

fn parse(c: &mut Criterion) {
    for &(name, body) in FIXTURES {
        let is_rootfi = name.starts_with("rootfi");
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        if is_rootfi {
            assert!(rootfi::Event::from_slice(body).is_ok(), "{name}");
            group.bench_function("ledgerhook", |b| {
                b.iter(|| rootfi::Event::from_slice(black_box(body)))
            });
        } else {
            assert!(railz::Event::from_slice(body).is_ok(), "{name}");
            group.bench_function("ledgerhook", |b| {
                b.iter(|| railz::Event::from_slice(black_box(body)))
            });
        }
        group.bench_function("ledgerhook_detect", |b| {
            b.iter(|| Event::from_slice(black_box(body)))
        });
        group.bench_function("value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)))
        });
        // Only where the derived model parses the body: the result must be the same work.
        if derived::parse(name, body).is_some() {
            group.bench_function("derived", |b| {
                b.iter(|| derived::parse(name, black_box(body)))
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse
}
criterion_main!(benches);
