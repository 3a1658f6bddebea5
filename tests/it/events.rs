//! The event model against every fixture, unknown values, and malformed bodies.

use std::path::PathBuf;

use ledgerhook::railz::{
    self, ConnectionStatus as RailzStatus, CustomerRequestType, DataSyncType, DataType,
    DisconnectReason, PushStatus, ReportFrequency, RequestStatus, Requests, ServiceName,
};
use ledgerhook::rootfi::{
    self, ApiVersion, ConnectionStatus, DataModel, IntegrationType, JobStatus, JobType, Operation,
    SyncStatus, TagStyle,
};
use ledgerhook::{Event, ParseErrorKind, WebhookPayload};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 23, "fixtures missing: {}", out.len());
    out
}

fn rootfi(name: &str) -> rootfi::Event {
    rootfi::Event::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn railz(name: &str) -> railz::Event {
    railz::Event::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The published samples must stay byte-for-byte what the providers published: their
/// SHA-256 digests were recorded in `tests/fixtures/PUBLISHED.sha256` when they were copied.
#[test]
fn published_fixture_copies_are_unchanged() {
    use sha2::{Digest, Sha256};
    let manifest = std::fs::read_to_string(fixtures_dir().join("PUBLISHED.sha256")).unwrap();
    let mut compared = 0;
    for line in manifest.lines() {
        let (digest, name) = line.split_once("  ").expect("sha256sum format");
        let actual = Sha256::digest(fixture(name));
        assert_eq!(
            const_hex::encode(actual),
            digest,
            "{name} differs from the published sample"
        );
        compared += 1;
    }
    assert_eq!(compared, 13);
}

/// Expected provider and tag of every fixture: a new fixture must be listed here.
const EXPECTED: &[(&str, bool, &str)] = &[
    ("railz_auth.json", false, "auth"),
    ("railz_batch_push.json", false, "batchPush"),
    ("railz_connection_status.json", false, "connectionStatus"),
    ("railz_customer_request.json", false, "customerRequest"),
    ("railz_data_full.json", false, "data"),
    ("railz_data_full_no_envelope_extras.json", false, "data"),
    ("railz_data_per_type.json", false, "dataPerType"),
    ("railz_data_per_type_simple.json", false, "dataPerType"),
    ("railz_data_simple.json", false, "data"),
    ("railz_delete.json", false, "delete"),
    ("railz_login.json", false, "login"),
    ("railz_push_validation_errors.json", false, "push"),
    (
        "rootfi_connection_changed_v3.json",
        true,
        "CONNECTION_CHANGED",
    ),
    (
        "rootfi_data_model_changes_create.json",
        true,
        "DATA_MODEL_CHANGES",
    ),
    (
        "rootfi_data_model_changes_delete_payment.json",
        true,
        "DATA_MODEL_CHANGES",
    ),
    (
        "rootfi_data_model_changes_update_crm.json",
        true,
        "DATA_MODEL_CHANGES",
    ),
    ("rootfi_integration.json", true, "INTEGRATION"),
    (
        "rootfi_legacy_data_model_changes.json",
        true,
        "DATA_MODEL_CHANGES",
    ),
    ("rootfi_sync_completed.json", true, "SYNC_COMPLETED"),
    ("rootfi_sync_started.json", true, "SYNC_STARTED"),
    (
        "rootfi_v4_connection_changed.json",
        true,
        "connection.changed",
    ),
    (
        "rootfi_v4_data_model_changes_singular.json",
        true,
        "DATA_MODEL_CHANGES",
    ),
    (
        "rootfi_v4_sync_completed_event.json",
        true,
        "sync.completed",
    ),
];

#[test]
fn every_fixture_is_detected_tagged_and_round_trips() {
    let fixtures = all_fixtures();
    assert_eq!(fixtures.len(), EXPECTED.len());
    for ((name, body), (expected_name, is_rootfi, tag)) in fixtures.iter().zip(EXPECTED) {
        assert_eq!(name, expected_name);
        let event = Event::from_slice(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(matches!(event, Event::RootFi(_)), *is_rootfi, "{name}");
        assert_eq!(event.tag(), *tag, "{name}");
        assert_eq!(event.is_known(), *tag != "sync.completed", "{name}");

        let original: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), original, "{name}");

        // The provider-specific parser agrees with detection.
        let direct = if *is_rootfi {
            Event::RootFi(rootfi::Event::from_slice(body).unwrap())
        } else {
            Event::Railz(railz::Event::from_slice(body).unwrap())
        };
        assert_eq!(direct, event, "{name}");
        // And parsing what we serialised gives the same event back.
        let again = Event::from_slice(&serde_json::to_vec(&event).unwrap()).unwrap();
        assert_eq!(again, event, "{name}");
    }
}

#[test]
fn rootfi_data_model_changes_create() {
    let rootfi::Event::DataModelChanges(e) = rootfi("rootfi_data_model_changes_create.json") else {
        panic!()
    };
    assert_eq!(e.company_id, Some(285));
    assert_eq!(e.integration_type, Some(IntegrationType::ZohoBooks));
    assert_eq!(e.data_model, Some(DataModel::Accounts(ApiVersion::V3)));
    assert_eq!(e.operation, Some(Operation::Create));
    assert_eq!(e.created_at.as_deref(), Some("2023-01-01T00:00:00.000Z"));
    assert!(e.extra.is_empty());
    let records = e.data.unwrap();
    #[derive(serde::Deserialize)]
    struct Account {
        platform_id: String,
        name: String,
    }
    let accounts: Vec<Account> = records.deserialize().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[1].platform_id, "3147384833");
    assert_eq!(accounts[1].name, "Revenue Account");
    assert_eq!(
        records.to_values().unwrap()[0],
        json!({"platform_id": "3124930487", "name": "Cost of Good sold"})
    );
    assert_eq!(
        records.raw_records().unwrap()[0]
            .get()
            .split_whitespace()
            .collect::<String>(),
        r#"{"platform_id":"3124930487","name":"CostofGoodsold"}"#
    );
}

#[test]
fn rootfi_record_type_mismatch_reports_the_record_index() {
    let rootfi::Event::DataModelChanges(e) = rootfi("rootfi_data_model_changes_update_crm.json")
    else {
        panic!()
    };
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Deal {
        name: String,
    }
    let err = e.data.unwrap().deserialize::<Deal>().unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Data);
    assert_eq!(err.path(), Some("[1]"), "{err}");
}

#[test]
fn rootfi_update_on_crm_and_delete_on_payment_models() {
    let rootfi::Event::DataModelChanges(crm) = rootfi("rootfi_data_model_changes_update_crm.json")
    else {
        panic!()
    };
    assert_eq!(crm.integration_type, Some(IntegrationType::Hubspot));
    assert_eq!(crm.data_model, Some(DataModel::CrmDeals(ApiVersion::V3)));
    assert_eq!(crm.operation, Some(Operation::Update));
    let deals = crm.data.unwrap().to_values().unwrap();
    assert_eq!(deals[0]["amount"], 48000);
    assert_eq!(deals[1].get("name"), None, "partial record stays partial");

    let rootfi::Event::DataModelChanges(pay) =
        rootfi("rootfi_data_model_changes_delete_payment.json")
    else {
        panic!()
    };
    assert_eq!(pay.integration_type, Some(IntegrationType::Razorpay));
    assert_eq!(
        pay.data_model,
        Some(DataModel::PaymentRefunds(ApiVersion::V3))
    );
    assert_eq!(pay.operation, Some(Operation::Delete));
    assert_eq!(pay.company_id, Some(812));
}

#[test]
fn rootfi_v4_singular_model_and_oodoo() {
    let rootfi::Event::DataModelChanges(e) = rootfi("rootfi_v4_data_model_changes_singular.json")
    else {
        panic!()
    };
    assert_eq!(e.data_model, Some(DataModel::Invoices(ApiVersion::V4)));
    assert_eq!(
        e.integration_type,
        Some(IntegrationType::OdooAccounting(ApiVersion::V4))
    );
}

#[test]
fn rootfi_connection_changed_v3_and_v4() {
    let rootfi::Event::ConnectionChanged(v3) = rootfi("rootfi_connection_changed_v3.json") else {
        panic!()
    };
    assert_eq!(v3.company_id, Some(285));
    assert_eq!(v3.integration_type, Some(IntegrationType::ZohoBooks));
    assert_eq!(v3.connection_status, Some(ConnectionStatus::Healthy));
    assert_eq!(v3.tag_style, TagStyle::WebhookType);

    let event = rootfi("rootfi_v4_connection_changed.json");
    assert_eq!(event.company_id(), Some(496));
    let rootfi::Event::ConnectionChanged(v4) = event else {
        panic!()
    };
    assert_eq!(v4.tag_style, TagStyle::Event);
    assert_eq!(v4.connection_status, None);
    assert!(v4.extra.is_empty());
}

#[test]
fn rootfi_sync_completed() {
    let rootfi::Event::SyncCompleted(e) = rootfi("rootfi_sync_completed.json") else {
        panic!()
    };
    assert_eq!(e.company_id, Some(1244));
    assert_eq!(e.integration_type, Some(IntegrationType::MsDynamics365));
    let d = e.data.unwrap();
    assert_eq!(d.id.as_deref(), Some("ZqpzbJNs4MvzrFz"));
    assert_eq!(d.status, Some(SyncStatus::Success));
    assert_eq!(d.sync_type, Some(JobType::Pull));
    assert_eq!(
        (
            d.total_jobs_count,
            d.success_jobs_count,
            d.failed_jobs_count,
            d.running_jobs_count,
            d.created_jobs_count
        ),
        (Some(1), Some(1), Some(0), Some(0), Some(0))
    );
    assert_eq!(d.end_time.as_deref(), Some("2023-10-18T03:01:16.512Z"));
    let jobs = d.jobs.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].rootfi_id.as_deref(), Some("V6KXGlvt13sd81G"));
    assert_eq!(jobs[0].status, Some(JobStatus::Success));
    assert_eq!(
        jobs[0].data_model,
        Some(DataModel::Invoices(ApiVersion::V3))
    );
    assert_eq!(jobs[0].job_type, Some(JobType::Pull));
    assert_eq!(jobs[0].error, Some(json!({})));
    assert_eq!(jobs[0].upload_job_id.as_deref(), Some("ZqpzbJNs4MvzrFz"));
}

#[test]
fn rootfi_sync_started_keeps_null_times() {
    let rootfi::Event::SyncStarted(e) = rootfi("rootfi_sync_started.json") else {
        panic!()
    };
    let d = e.data.unwrap();
    assert_eq!(d.status, Some(SyncStatus::Running));
    assert_eq!(d.end_time, None);
    assert_eq!(d.extra["end_time"], Value::Null);
    let jobs = d.jobs.unwrap();
    let statuses: Vec<_> = jobs.iter().map(|j| j.status.clone().unwrap()).collect();
    assert_eq!(
        statuses,
        [JobStatus::Running, JobStatus::Created, JobStatus::Created]
    );
    assert_eq!(
        jobs[2].data_model,
        Some(DataModel::Contacts(ApiVersion::V3))
    );
}

#[test]
fn rootfi_integration_and_legacy_keep_data_raw() {
    let rootfi::Event::Integration(e) = rootfi("rootfi_integration.json") else {
        panic!()
    };
    assert_eq!(e.integration_type, Some(IntegrationType::Stripe));
    assert_eq!(
        e.data.unwrap().to_value().unwrap()["platform_event"],
        "invoice.paid"
    );

    let event = rootfi("rootfi_legacy_data_model_changes.json");
    assert_eq!(event.tag(), rootfi::LEGACY_TAG);
    let rootfi::Event::Legacy(e) = event else {
        panic!()
    };
    assert_eq!(e.company_id, Some(12));
    assert_eq!(e.created_at.as_deref(), Some("2022-01-23"));
    assert_eq!(e.data_model, Some(DataModel::Accounts(ApiVersion::V3)));
    assert_eq!(e.integration_type, Some(IntegrationType::Xero));
    assert_eq!(e.operation, Some(Operation::Update));
    assert_eq!(e.data.unwrap().get(), "{}");
}

#[test]
fn rootfi_undocumented_v4_event_is_unknown_and_lossless() {
    let event = rootfi("rootfi_v4_sync_completed_event.json");
    let rootfi::Event::Unknown(unknown) = &event else {
        panic!()
    };
    assert_eq!(unknown.tag(), "sync.completed");
    assert_eq!(
        unknown.raw()["sync_id"],
        "b1f0c8e2-4d7a-4e19-9c3b-7a5d2e1f0c84"
    );
    assert_eq!(event.company_id(), Some(496));
}

#[test]
fn unknown_events_keep_the_body_exactly_and_ignore_what_follows_the_tag() {
    let body = br#"{"webhook_type":"PAYROLL_RUN", "company_id":"not a number","data":5}"#;
    let event = rootfi::Event::from_slice(body).unwrap();
    let rootfi::Event::Unknown(unknown) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(unknown.raw_json().as_bytes(), body);
    assert_eq!(unknown.tag(), "PAYROLL_RUN");
    assert_eq!(unknown.raw()["company_id"], "not a number");
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        serde_json::from_slice::<Value>(body).unwrap()
    );
    assert_eq!(unknown.clone().into_raw()["data"], 5);

    let body = br#"{"data":{"event":"refund","requests":5,"x":[{"y":null}]},"requestId":"r"}"#;
    let event = railz::Event::from_slice(body).unwrap();
    assert_eq!(event.tag(), "refund");
    assert_eq!(event.request_id(), Some("r"));
    let railz::Event::Unknown(unknown) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(unknown.raw_json().as_bytes(), body);

    // What follows an unknown tag must still be JSON that `Value` accepts.
    for body in [
        &br#"{"data":{"event":"refund","x":[1,]}}"#[..],
        b"{\"data\":{\"event\":\"refund\",\"x\":\"\xff\"}}",
        br#"{"webhook_type":"NEW","x":tru}"#,
    ] {
        assert!(railz::Event::from_slice(body).is_err(), "{body:?}");
        assert!(rootfi::Event::from_slice(body).is_err(), "{body:?}");
    }
}

/// Strings longer than 24 bytes without escapes share the parsed `Bytes`; escaped ones are
/// decoded copies, and short ones are held inline (no reference count per field).
#[test]
fn string_fields_are_slices_of_the_body() {
    const ID: &str = "CON-8ed8f748-0e52-42f8-b7d9-50b121d57d20";
    let body = bytes::Bytes::from(format!(
        r#"{{"data":{{"event":"auth","connectionId":"{ID}","businessName":"A\u0026B Holdings International"}},"requestId":"r-1"}}"#
    ));
    let railz::Event::Auth(auth) = <railz::Event as WebhookPayload>::parse(&body).unwrap() else {
        panic!()
    };
    let inside = |s: &str| body.as_ptr_range().contains(&s.as_ptr());
    let id = auth.connection_id.as_deref().unwrap();
    assert_eq!(id, ID);
    assert!(inside(id));
    let request_id = auth.request_id.as_deref().unwrap();
    assert_eq!(request_id, "r-1");
    assert!(!inside(request_id));
    let name = auth.business_name.as_deref().unwrap();
    assert_eq!(name, "A&B Holdings International");
    assert!(!inside(name));
    // `from_slice` copies the body once; the strings share that copy, not the input.
    let railz::Event::Auth(copied) = railz::Event::from_slice(&body).unwrap() else {
        panic!()
    };
    assert!(!inside(copied.connection_id.as_deref().unwrap()));
    assert_eq!(copied, auth);
}

#[test]
fn railz_connection_events() {
    for (name, is_login) in [("railz_login.json", true), ("railz_auth.json", false)] {
        let event = railz(name);
        assert_eq!(event.request_id(), None);
        let e = match event {
            railz::Event::Login(e) if is_login => e,
            railz::Event::Auth(e) if !is_login => e,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            e.connection_id.as_deref(),
            Some("CON-0a4e97aa-7a77-bbbb-00aa-b1b1001aa00")
        );
        assert_eq!(
            e.business_name.as_deref(),
            Some("BIZ-d6b1c7d3-fe41-4447-ae72-3814b78b5142")
        );
        assert_eq!(e.service_name, Some(ServiceName::Quickbooks));
        assert_eq!(e.request_id, None);
    }

    let railz::Event::ConnectionStatusChanged(e) = railz("railz_connection_status.json") else {
        panic!()
    };
    assert_eq!(e.old_status, Some(RailzStatus::Active));
    assert_eq!(e.new_status, Some(RailzStatus::Disconnected));
    assert_eq!(
        e.disconnect_reason,
        Some(DisconnectReason::ExpiredCredentials)
    );
    assert_eq!(e.effective_on.as_deref(), Some("2021-05-07T10:18:29.985Z"));
    assert!(e.message.unwrap().starts_with("Refresh token expired"));
}

#[test]
fn railz_customer_request() {
    let railz::Event::CustomerRequest(e) = railz("railz_customer_request.json") else {
        panic!()
    };
    assert_eq!(
        e.request_type,
        Some(CustomerRequestType::CustomersDataRequest)
    );
    assert_eq!(e.service_name, Some(ServiceName::Shopify));
    assert_eq!(e.business_name.as_deref(), Some("smb8-sh"));
    assert_eq!(
        e.request_id.as_deref(),
        Some("a3b4fc83-3e24-41aa-ba99-13cab09b0b7a")
    );
    let payload = e.received_payload.unwrap().to_value().unwrap();
    assert_eq!(payload["orders_requested"], json!([299938, 280263, 220458]));
    assert_eq!(payload["customer"]["email"], "customer@example.com");
}

#[test]
fn railz_data_full() {
    let railz::Event::Data(e) = railz("railz_data_full.json") else {
        panic!()
    };
    assert_eq!(e.data_sync_type, Some(DataSyncType::ManualSync));
    let sar = e.service_account_ref.unwrap();
    assert_eq!(sar.id.as_deref(), Some("DEV"));
    assert_eq!(sar.entity_ref.unwrap().id.as_deref(), Some("100"));
    let Some(Requests::Full(reqs)) = e.requests else {
        panic!()
    };
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[0].request, Some(DataType::Accounts));
    assert_eq!(reqs[0].start_date, None);
    assert_eq!(reqs[1].report_frequency, Some(ReportFrequency::Year));
    assert_eq!(reqs[2].request, None, "the sample omits `request` here");
    assert_eq!(reqs[2].status, Some(RequestStatus::Failed));
    assert_eq!(reqs[3].status, Some(RequestStatus::Empty));
    assert_eq!(reqs[4].request, Some(DataType::CashflowStatements));
    assert_eq!(reqs[4].end_date.as_deref(), Some("2020-03-31"));

    let railz::Event::Data(old) = railz("railz_data_full_no_envelope_extras.json") else {
        panic!()
    };
    assert_eq!(old.data_sync_type, None);
    assert_eq!(old.sandbox, None);
    assert_eq!(old.requests, Some(Requests::Full(reqs)));
}

#[test]
fn railz_data_simple() {
    let railz::Event::Data(e) = railz("railz_data_simple.json") else {
        panic!()
    };
    assert_eq!(e.service_name, Some(ServiceName::SageIntacct));
    assert_eq!(e.sandbox, Some(false));
    assert_eq!(e.data_sync_type, Some(DataSyncType::FullSync));
    assert_eq!(e.extra["id"], 26243, "undocumented field kept");
    let Some(Requests::Simple(counts)) = e.requests else {
        panic!()
    };
    let types: Vec<_> = counts.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(
        types,
        [
            DataType::Bills,
            DataType::BillPaymentRequests,
            DataType::BusinessInfo,
            DataType::TaxRates
        ]
    );
    assert_eq!(
        (counts[0].1.success, counts[0].1.empty, counts[0].1.failed),
        (Some(5), Some(3), Some(0))
    );
}

#[test]
fn railz_data_per_type() {
    let railz::Event::DataPerType(e) = railz("railz_data_per_type.json") else {
        panic!()
    };
    assert_eq!(e.request_type.as_deref(), Some("billPaymentRequests"));
    assert_eq!(
        e.connection_uuid.as_deref(),
        Some("CON-8ed8f748-0e52-42f8-b7d9-50b121d57d20")
    );
    assert_eq!(
        e.business_uuid.as_deref(),
        Some("BIZ-d6b1c7d3-fe41-4447-ae72-3814b78b5142")
    );
    let Some(Requests::Full(reqs)) = e.requests else {
        panic!()
    };
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs.iter()
            .all(|r| r.request == Some(DataType::BillPaymentRequests))
    );

    let railz::Event::DataPerType(s) = railz("railz_data_per_type_simple.json") else {
        panic!()
    };
    assert_eq!(s.request_type.as_deref(), Some("INVOICES"));
    assert_eq!(s.sandbox, Some(true));
    assert_eq!(s.service_name, Some(ServiceName::DynamicsBusinessCentral));
    let Some(Requests::Simple(counts)) = s.requests else {
        panic!()
    };
    assert_eq!(counts[0].0, DataType::Invoices);
    assert_eq!(counts[0].1.failed, Some(1));
}

#[test]
fn railz_push_with_validation_errors() {
    let railz::Event::Push(e) = railz("railz_push_validation_errors.json") else {
        panic!()
    };
    assert_eq!(e.status, Some(PushStatus::Failed));
    assert_eq!(e.response_code, Some(400));
    assert_eq!(e.data_type, Some(DataType::Invoices));
    assert_eq!(e.source_object_ids, Some(vec![]));
    let sar = e.service_account_ref.unwrap();
    assert_eq!(sar.entity_ref, None);
    assert_eq!(sar.extra["entityRef"], Value::Null);
    let errors = e.validation.unwrap().errors.unwrap();
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[1].field.as_deref(), Some("lines[0].accountRef.id"));
    assert_eq!(
        errors[2].message.as_deref(),
        Some("Currency EUR is not enabled for this organisation")
    );
}

#[test]
fn railz_batch_push_and_delete() {
    let event = railz("railz_batch_push.json");
    assert_eq!(
        event.connection_id(),
        Some("CON-8ed8f748-0e52-42f8-b7d9-50b121d57d20")
    );
    let railz::Event::BatchPush(e) = event else {
        panic!()
    };
    assert_eq!(
        e.batch_id.as_deref(),
        Some("b2c4e6f8-1a3b-4c5d-8e9f-0a1b2c3d4e5f")
    );
    let batch = e.batch.unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0].status, Some(PushStatus::Success));
    assert_eq!(batch[0].source_object_ids, Some(vec!["146".into()]));
    assert_eq!(batch[1].status, Some(PushStatus::Failed));
    assert_eq!(
        batch[1]
            .validation
            .as_ref()
            .unwrap()
            .errors
            .as_ref()
            .unwrap()[0]
            .message
            .as_deref(),
        Some("Vendor 77 is inactive")
    );

    let railz::Event::Delete(d) = railz("railz_delete.json") else {
        panic!()
    };
    assert_eq!(
        d.delete_communication_id.as_deref(),
        Some("5b0e8c3a-9d21-4f6e-b7a4-2c8d1e0f3a96")
    );
    assert_eq!(d.service_name, Some(ServiceName::OracleNetsuite));
    assert_eq!(d.data_type, Some(DataType::JournalEntries));
    assert_eq!(d.response_code, Some(204));
    assert_eq!(d.status, Some(PushStatus::Success));
}

#[test]
fn unknown_tags_round_trip() {
    let bodies = [
        json!({"webhook_type": "PAYROLL_RUN", "company_id": 9, "data": {"run": [1, 2]}, "created_at": "x"}),
        json!({"event": "invoice.create", "company_id": 496, "payload": {"id": "inv_1"}}),
        json!({"data": {"event": "bankFeedReady", "connectionId": "CON-1", "feed": {"rows": 3}}, "requestId": "r"}),
        json!({"data": {"event": "", "x": null}}),
    ];
    for body in bodies {
        let bytes = serde_json::to_vec(&body).unwrap();
        let event = Event::from_slice(&bytes).unwrap();
        assert!(!event.is_known(), "{body}");
        assert_eq!(serde_json::to_value(&event).unwrap(), body);
    }
}

#[test]
fn unknown_enum_values_round_trip() {
    let bodies = [
        json!({"webhook_type": "DATA_MODEL_CHANGES", "company_id": 1, "integration_type": "SAP_B1",
               "data_model": "PAYROLL_RUNS", "type": "MERGE", "data": []}),
        json!({"webhook_type": "CONNECTION_CHANGED", "connection_status": "SUSPENDED"}),
        json!({"webhook_type": "SYNC_COMPLETED", "data": {"status": "CANCELLED", "type": "MIRROR",
               "jobs": [{"status": "QUEUED", "job_type": "SCRIPT", "data_model": "LEDGERS"}]}}),
        json!({"data": {"event": "data", "serviceName": "sapByDesign", "dataSyncType": "webhookSync",
               "requests": [{"request": "payrolls", "status": "partial", "reportFrequency": "week"}]}}),
        json!({"data": {"event": "connectionStatus", "oldStatus": "paused", "newStatus": "archived",
               "disconnectReason": "mfaRequired"}}),
        json!({"data": {"event": "customerRequest", "type": "customersExport"}}),
        json!({"data": {"event": "delete", "status": "cancelled", "dataType": "payrolls"}}),
    ];
    for body in bodies {
        let event = Event::from_slice(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert!(event.is_known(), "{body}");
        assert_eq!(serde_json::to_value(&event).unwrap(), body);
    }
    let event =
        Event::from_slice(br#"{"data":{"event":"auth","serviceName":"sapByDesign"}}"#).unwrap();
    let Event::Railz(railz::Event::Auth(a)) = event else {
        panic!()
    };
    let name = a.service_name.unwrap();
    assert_eq!(name, ServiceName::Other("sapByDesign".into()));
    assert!(!name.is_known());
    assert_eq!(name.to_string(), "sapByDesign");
}

#[test]
fn truncated_bodies_are_syntax_errors() {
    for (name, body) in all_fixtures() {
        let end = body.iter().rposition(|b| !b.is_ascii_whitespace()).unwrap();
        for len in 0..=end {
            let prefix = &body[..len];
            for err in [
                Event::from_slice(prefix).unwrap_err(),
                rootfi::Event::from_slice(prefix).unwrap_err(),
                railz::Event::from_slice(prefix).unwrap_err(),
            ] {
                assert_eq!(err.kind(), ParseErrorKind::Syntax, "{name}[..{len}]: {err}");
                assert_eq!(err.status(), 400);
            }
        }
    }
}

#[test]
fn wrong_types_are_data_errors_with_paths() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":"285"}"#,
            "company_id",
        ),
        (
            r#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":-1}"#,
            "company_id",
        ),
        (
            r#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":1.5}"#,
            "company_id",
        ),
        (
            r#"{"webhook_type":"DATA_MODEL_CHANGES","data_model":["ACCOUNTS"]}"#,
            "data_model",
        ),
        (
            r#"{"webhook_type":"DATA_MODEL_CHANGES","data":"records"}"#,
            "data",
        ),
        (r#"{"webhook_type":"SYNC_COMPLETED","data":[]}"#, "data"),
        (
            r#"{"webhook_type":"SYNC_COMPLETED","data":{"jobs":[{},{"error":{},"status":{}}]}}"#,
            "data.jobs[1].status",
        ),
        (
            r#"{"webhook_type":"SYNC_COMPLETED","data":{"total_jobs_count":"1"}}"#,
            "data.total_jobs_count",
        ),
        (
            r#"{"data":{"event":"data","requests":[{"id":"1"},{"id":"2"},{"status":7}]}}"#,
            "data.requests[2].status",
        ),
        (
            r#"{"data":{"event":"data","sandbox":"false"}}"#,
            "data.sandbox",
        ),
        (
            r#"{"data":{"event":"push","sourceObjectIds":"146"}}"#,
            "data.sourceObjectIds",
        ),
        (
            r#"{"data":{"event":"push","validation":{"errors":[{"field":1}]}}}"#,
            "data.validation.errors[0].field",
        ),
        (
            r#"{"data":{"event":"auth","serviceAccountRef":"DEV"}}"#,
            "data.serviceAccountRef",
        ),
        (r#"{"data":{"event":"auth"},"requestId":42}"#, "requestId"),
    ];
    for (body, path) in cases {
        let err = Event::from_slice(body.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data, "{body}: {err}");
        assert_eq!(err.status(), 422);
        assert_eq!(err.path(), Some(*path), "{body}: {err}");
    }
    for body in [
        "null",
        "true",
        "\"x\"",
        "[]",
        "{}",
        r#"{"company_id":1,"created_at":"x"}"#,
    ] {
        let err = Event::from_slice(body.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data, "{body}: {err}");
    }
}

#[test]
fn deep_nesting_is_rejected_without_overflowing_the_stack() {
    use ParseErrorKind::{Data, Syntax};
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let cases = [
        // Balanced nesting is valid JSON: at the top level it is not a webhook (the
        // detection scan skips values without building them, so no limit applies).
        (arrays.clone(), Data),
        (objects.clone(), Data),
        ("[".repeat(depth), Syntax),
        // Inside a value the crate keeps (`extra`, `data`, unknown events), serde_json's
        // recursion limit (128) stops it: reported as syntax, as serde_json classifies it.
        (
            format!(r#"{{"webhook_type":"DATA_MODEL_CHANGES","x":{arrays}}}"#),
            Syntax,
        ),
        (
            format!(r#"{{"webhook_type":"NEW_TYPE","x":{objects}}}"#),
            Syntax,
        ),
        (
            format!(
                r#"{{"webhook_type":"SYNC_COMPLETED","data":{{"jobs":[{{"error":{arrays}}}]}}}}"#
            ),
            Syntax,
        ),
        (
            format!(r#"{{"data":{{"event":"auth","x":{arrays}}}}}"#),
            Syntax,
        ),
        (
            format!(r#"{{"data":{{"event":"brandNew","x":{arrays}}}}}"#),
            Syntax,
        ),
    ];
    for (body, kind) in &cases {
        let err = Event::from_slice(body.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), *kind, "{}: {err}", &body[..40]);
        let _ = rootfi::Event::from_slice(body.as_bytes()).unwrap_err();
        let _ = railz::Event::from_slice(body.as_bytes()).unwrap_err();
        if *kind == Syntax {
            assert!(
                err.message().contains("recursion limit") || err.message().contains("EOF"),
                "{err}"
            );
        }
    }
    // Records are kept raw, so deep nesting inside them is accepted and kept verbatim.
    let body = format!(r#"{{"webhook_type":"DATA_MODEL_CHANGES","data":[{arrays}]}}"#);
    let Event::RootFi(rootfi::Event::DataModelChanges(e)) =
        Event::from_slice(body.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(e.data.unwrap().as_raw().get().len(), arrays.len() + 2);
    // Nesting within serde_json's limit is fine and kept.
    let ok = format!(
        r#"{{"data":{{"event":"auth","x":{}{}}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    assert!(Event::from_slice(ok.as_bytes()).is_ok());
}

#[test]
fn huge_numbers() {
    let big_int = "123456789012345678901234567890";
    // Too big for company_id's u64: valid JSON of the wrong shape.
    let err = Event::from_slice(
        format!(r#"{{"webhook_type":"SYNC_STARTED","company_id":{big_int}}}"#).as_bytes(),
    )
    .unwrap_err();
    assert_eq!(
        (err.kind(), err.path()),
        (ParseErrorKind::Data, Some("company_id"))
    );
    // Beyond f64: serde_json rejects the number itself.
    let err =
        Event::from_slice(br#"{"webhook_type":"SYNC_STARTED","company_id":1e400}"#).unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Syntax, "{err}");
    // In an unknown field, a big integer is kept (as serde_json's f64).
    let body = format!(r#"{{"data":{{"event":"auth","n":{big_int}}}}}"#);
    let Event::Railz(railz::Event::Auth(a)) = Event::from_slice(body.as_bytes()).unwrap() else {
        panic!()
    };
    assert!(a.extra["n"].is_f64());
    // A 100 000-digit number is beyond f64 too, and never panics.
    let digits = "9".repeat(100_000);
    let body = format!(r#"{{"data":{{"event":"push","responseCode":{digits}}}}}"#);
    assert_eq!(
        Event::from_slice(body.as_bytes()).unwrap_err().kind(),
        ParseErrorKind::Syntax
    );
    // A 400-digit integer in a u32 field is out of range for the field: data.
    let body = format!(
        r#"{{"data":{{"event":"push","responseCode":{}}}}}"#,
        "9".repeat(300)
    );
    let err = Event::from_slice(body.as_bytes()).unwrap_err();
    assert_eq!(
        (err.kind(), err.path()),
        (ParseErrorKind::Data, Some("data.responseCode")),
        "{err}"
    );
}

#[test]
fn invalid_utf8_and_empty_bodies_are_syntax_errors() {
    let mut in_string = br#"{"data":{"event":"auth","businessName":"caf"#.to_vec();
    in_string.extend_from_slice(&[0xC3, 0x28]);
    in_string.extend_from_slice(br#""}}"#);
    let mut in_key = br#"{"webhook_type":"SYNC_STARTED",""#.to_vec();
    in_key.extend_from_slice(&[0xFF, 0xFE]);
    in_key.extend_from_slice(br#"":1}"#);
    let bodies: [&[u8]; 7] = [
        &in_string,
        &in_key,
        b"",
        b"   \n",
        b"\xEF\xBB\xBF{}",
        b"{\"a\":1}x",
        b"nul",
    ];
    for body in bodies {
        for err in [
            Event::from_slice(body).unwrap_err(),
            rootfi::Event::from_slice(body).unwrap_err(),
            railz::Event::from_slice(body).unwrap_err(),
        ] {
            assert_eq!(err.kind(), ParseErrorKind::Syntax, "{body:?}: {err}");
        }
    }
    // Escapes that decode to valid text are fine, in keys and values.
    let body = br#"{"data":{"ev\u0065nt":"auth","businessName":"caf\u00e9"}}"#;
    let Event::Railz(railz::Event::Auth(a)) = Event::from_slice(body).unwrap() else {
        panic!()
    };
    assert_eq!(a.business_name.as_deref(), Some("café"));
}

#[test]
fn events_are_webhook_payloads_that_can_live_in_extensions() {
    fn assert_payload<T: WebhookPayload + std::fmt::Debug>() {}
    assert_payload::<Event>();
    assert_payload::<rootfi::Event>();
    assert_payload::<railz::Event>();
    assert_payload::<bytes::Bytes>();

    let body = bytes::Bytes::from(fixture("railz_auth.json"));
    let mut ext = http::Extensions::new();
    ext.insert(Event::parse(&body).unwrap());
    assert_eq!(ext.get::<Event>().unwrap().tag(), "auth");
    let err = rootfi::Event::parse(&bytes::Bytes::from_static(b"{")).unwrap_err();
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic, and whatever parses serialises back to its input value.
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(event) = Event::from_slice(&body) {
            let original: Value = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(serde_json::to_value(&event).unwrap(), original);
        }
        let _ = rootfi::Event::from_slice(&body);
        let _ = railz::Event::from_slice(&body);
    }

    /// Fixtures with one byte changed never panic, and round-trip when they still parse.
    #[test]
    fn mutated_fixtures_never_panic(index in 0usize..23, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (_, mut body) = all_fixtures().swap_remove(index);
        let at = pos.index(body.len());
        body[at] = byte;
        if let Ok(event) = Event::from_slice(&body) {
            let original: Value = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(serde_json::to_value(&event).unwrap(), original);
        }
    }
}

/// One variant per data model whatever the API version: a v4 singular body and a v3
/// plural body match the same pattern, and each serialises back to its own spelling.
#[test]
fn v3_plural_and_v4_singular_data_models_match_one_variant_and_keep_their_spelling() {
    let v3 = br#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":1,"integration_type":"ODOO_ACCOUNTING","data_model":"INVOICES","type":"CREATE","data":[]}"#;
    let v4 = br#"{"webhook_type":"DATA_MODEL_CHANGES","company_id":1,"integration_type":"OODOO_ACCOUNTING","data_model":"INVOICE","type":"CREATE","data":[]}"#;
    for (body, version, model, odoo) in [
        (&v3[..], ApiVersion::V3, "INVOICES", "ODOO_ACCOUNTING"),
        (&v4[..], ApiVersion::V4, "INVOICE", "OODOO_ACCOUNTING"),
    ] {
        let event = rootfi::Event::from_slice(body).unwrap();
        let rootfi::Event::DataModelChanges(change) = &event else {
            panic!("{event:?}")
        };
        let Some(DataModel::Invoices(received)) = &change.data_model else {
            panic!(
                "{:?} did not match DataModel::Invoices(_)",
                change.data_model
            )
        };
        assert_eq!(*received, version);
        assert!(matches!(
            change.integration_type,
            Some(IntegrationType::OdooAccounting(v)) if v == version
        ));
        let back = serde_json::to_value(&event).unwrap();
        assert_eq!(back["data_model"], model);
        assert_eq!(back["integration_type"], odoo);
        assert_eq!(back, serde_json::from_slice::<Value>(body).unwrap());
    }
    // The singular fixture, too.
    let e = rootfi("rootfi_v4_data_model_changes_singular.json");
    let rootfi::Event::DataModelChanges(e) = e else {
        panic!()
    };
    assert!(matches!(e.data_model, Some(DataModel::Invoices(_))));
}

/// The cheap tag scan agrees with the parse on every fixture, for every parser, and the
/// metric tag is the wire tag for known events and `unknown` otherwise.
#[test]
fn peeked_metric_tag_matches_the_parsed_one_on_every_fixture() {
    for (name, body) in all_fixtures() {
        let event = Event::from_slice(&body).unwrap();
        assert_eq!(Event::peek_metric_tag(&body), event.metric_tag(), "{name}");
        let expected = if event.is_known() {
            event.tag()
        } else {
            "unknown"
        };
        assert_eq!(event.metric_tag(), expected, "{name}");
        assert_eq!(
            <Event as WebhookPayload>::tag(&event),
            event.tag(),
            "{name}"
        );
        match event {
            Event::RootFi(e) => assert_eq!(rootfi::Event::peek_metric_tag(&body), e.metric_tag()),
            Event::Railz(e) => assert_eq!(railz::Event::peek_metric_tag(&body), e.metric_tag()),
            _ => unreachable!(),
        }
    }
    for body in [
        &b""[..],
        b"[]",
        b"{",
        b"{\"webhook_type\":7}",
        b"{\"data\":{\"event\":null}}",
    ] {
        assert_eq!(Event::peek_metric_tag(body), "unknown");
    }
    // A RootFi key of another type beside a Railz body: the Railz parser keeps it as an
    // extra field, and the scan must not give up on it.
    let body = br#"{"event":5,"data":{"event":"auth"}}"#;
    assert_eq!(railz::Event::from_slice(body).unwrap().metric_tag(), "auth");
    assert_eq!(railz::Event::peek_metric_tag(body), "auth");
}

#[test]
fn parse_error_kinds_have_stable_codes() {
    let syntax = Event::from_slice(b"{").unwrap_err();
    assert_eq!(
        (syntax.code(), syntax.status().as_u16()),
        ("invalid_json", 400)
    );
    let shape = Event::from_slice(b"{}").unwrap_err();
    assert_eq!(
        (shape.code(), shape.status().as_u16()),
        ("invalid_shape", 422)
    );
}

/// Every builder of `ledgerhook::testing` gives the event kind it is named for, and the
/// fixture constants are the files.
#[cfg(feature = "testing")]
#[test]
fn testing_builders_build_each_kind_and_fixtures_match_the_files() {
    use ledgerhook::testing::{self, fixtures, railz as r, rootfi as f};
    let railz_kinds = [
        (r::login(), "login"),
        (r::auth(), "auth"),
        (
            r::connection_status_changed(RailzStatus::Active, RailzStatus::Disconnected),
            "connectionStatus",
        ),
        (r::customer_request(), "customerRequest"),
        (r::data(), "data"),
        (r::data_per_type(), "dataPerType"),
        (r::push(), "push"),
        (r::batch_push(), "batchPush"),
        (r::delete(), "delete"),
    ];
    for (builder, tag) in railz_kinds {
        let builder = builder.connection_id("CON-1").request_id("r");
        let event = builder.build();
        assert_eq!((event.tag(), event.is_known()), (tag, true));
        assert_eq!(event.connection_id(), Some("CON-1"));
        assert_eq!(serde_json::to_value(&event).unwrap(), builder.to_value());
    }
    let rootfi_kinds = [
        (
            f::data_model_changes(DataModel::Bills(ApiVersion::V3), Operation::Update),
            "DATA_MODEL_CHANGES",
        ),
        (
            f::connection_changed(ConnectionStatus::Healthy),
            "CONNECTION_CHANGED",
        ),
        (f::connection_changed_v4(), "connection.changed"),
        (f::sync_started(), "SYNC_STARTED"),
        (f::sync_completed(), "SYNC_COMPLETED"),
        (f::integration(), "INTEGRATION"),
    ];
    for (builder, tag) in rootfi_kinds {
        let event = builder.company_id(9).build();
        assert_eq!(
            (event.tag(), event.is_known(), event.company_id()),
            (tag, true, Some(9))
        );
    }
    assert!(r::push().field("responseCode", "400").try_build().is_err());
    let e: Event = testing::from_value(json!({"data": {"event": "auth"}})).unwrap();
    assert_eq!(e.tag(), "auth");
    assert_eq!(fixtures::ALL.len(), all_fixtures().len());
    for ((name, body), (file, bytes)) in fixtures::ALL.iter().zip(all_fixtures()) {
        assert_eq!(format!("{name}.json"), file);
        assert_eq!(*body, &bytes[..], "{name}");
    }
}

/// Paired speed of the typed parse against `serde_json::Value` on every fixture: the two
/// alternate in small batches inside one process (the order swapped every round), and the
/// figure is the median of the per-round ratios `Value time / our time`, with the spread
/// (the 10th and 90th percentiles). Run it alone, in release:
/// `cargo test --release --all-features --test it -- --ignored --nocapture paired_parse_speed`
#[test]
#[ignore = "a measurement: run in release, alone (see the doc comment)"]
fn paired_parse_speed_against_value() {
    use std::hint::black_box;
    use std::time::Instant;

    fn batch(f: &dyn Fn(), n: u32) -> f64 {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_secs_f64()
    }
    const ROUNDS: usize = 301;
    println!("fixture (bytes): median Value/ours [p10, p90]; peek Value/peek");
    for (name, body) in all_fixtures() {
        let body = &body[..];
        let is_rootfi = name.starts_with("rootfi");
        let ours = || {
            if is_rootfi {
                drop(black_box(rootfi::Event::from_slice(black_box(body))));
            } else {
                drop(black_box(railz::Event::from_slice(black_box(body))));
            }
        };
        let value = || drop(black_box(serde_json::from_slice::<Value>(black_box(body))));
        let peek = || {
            black_box(Event::peek_metric_tag(black_box(body)));
        };
        // Batches of about 20 µs.
        let n = (20_000 / (body.len() as u32 * 4).max(1)).max(4);
        for _ in 0..50 {
            batch(&ours, n);
            batch(&value, n);
        }
        let mut ratios = Vec::with_capacity(ROUNDS);
        let mut peek_ratios = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS {
            let (o, v, p) = if round % 2 == 0 {
                (batch(&ours, n), batch(&value, n), batch(&peek, n))
            } else {
                let p = batch(&peek, n);
                let v = batch(&value, n);
                (batch(&ours, n), v, p)
            };
            ratios.push(v / o);
            peek_ratios.push(v / p);
        }
        ratios.sort_by(f64::total_cmp);
        peek_ratios.sort_by(f64::total_cmp);
        let at = |r: &[f64], q: f64| r[((r.len() - 1) as f64 * q) as usize];
        println!(
            "{name} ({}): {:.2}x [{:.2}, {:.2}]; peek {:.2}x",
            body.len(),
            at(&ratios, 0.5),
            at(&ratios, 0.1),
            at(&ratios, 0.9),
            at(&peek_ratios, 0.5),
        );
    }
}

/// Parses one fixture (`PARSE_FIXTURE`, a file name) in a loop for two seconds, for a
/// profiler: `perf record <it binary> --ignored --exact events::parse_one_fixture_in_a_loop`.
#[test]
#[ignore = "a profiling loop: run in release, alone"]
fn parse_one_fixture_in_a_loop() {
    let name = std::env::var("PARSE_FIXTURE").unwrap_or_else(|_| "railz_batch_push.json".into());
    let body = fixture(&name);
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(2) {
        for _ in 0..1000 {
            drop(std::hint::black_box(Event::from_slice(
                std::hint::black_box(&body),
            )));
        }
    }
}
