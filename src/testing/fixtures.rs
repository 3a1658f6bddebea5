//! Every fixture body as a constant: the providers' published samples (byte for byte)
//! and the crate's own samples for events with no published one (see
//! `tests/fixtures/README.md`).

/// `tests/fixtures/railz_auth.json`.
pub const RAILZ_AUTH: &[u8] = include_bytes!("../../tests/fixtures/railz_auth.json");
/// `tests/fixtures/railz_batch_push.json`.
pub const RAILZ_BATCH_PUSH: &[u8] = include_bytes!("../../tests/fixtures/railz_batch_push.json");
/// `tests/fixtures/railz_connection_status.json`.
pub const RAILZ_CONNECTION_STATUS: &[u8] =
    include_bytes!("../../tests/fixtures/railz_connection_status.json");
/// `tests/fixtures/railz_customer_request.json`.
pub const RAILZ_CUSTOMER_REQUEST: &[u8] =
    include_bytes!("../../tests/fixtures/railz_customer_request.json");
/// `tests/fixtures/railz_data_full.json`.
pub const RAILZ_DATA_FULL: &[u8] = include_bytes!("../../tests/fixtures/railz_data_full.json");
/// `tests/fixtures/railz_data_full_no_envelope_extras.json`.
pub const RAILZ_DATA_FULL_NO_ENVELOPE_EXTRAS: &[u8] =
    include_bytes!("../../tests/fixtures/railz_data_full_no_envelope_extras.json");
/// `tests/fixtures/railz_data_per_type.json`.
pub const RAILZ_DATA_PER_TYPE: &[u8] =
    include_bytes!("../../tests/fixtures/railz_data_per_type.json");
/// `tests/fixtures/railz_data_per_type_simple.json`.
pub const RAILZ_DATA_PER_TYPE_SIMPLE: &[u8] =
    include_bytes!("../../tests/fixtures/railz_data_per_type_simple.json");
/// `tests/fixtures/railz_data_simple.json`.
pub const RAILZ_DATA_SIMPLE: &[u8] = include_bytes!("../../tests/fixtures/railz_data_simple.json");
/// `tests/fixtures/railz_delete.json`.
pub const RAILZ_DELETE: &[u8] = include_bytes!("../../tests/fixtures/railz_delete.json");
/// `tests/fixtures/railz_login.json`.
pub const RAILZ_LOGIN: &[u8] = include_bytes!("../../tests/fixtures/railz_login.json");
/// `tests/fixtures/railz_push_validation_errors.json`.
pub const RAILZ_PUSH_VALIDATION_ERRORS: &[u8] =
    include_bytes!("../../tests/fixtures/railz_push_validation_errors.json");
/// `tests/fixtures/rootfi_connection_changed_v3.json`.
pub const ROOTFI_CONNECTION_CHANGED_V3: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_connection_changed_v3.json");
/// `tests/fixtures/rootfi_data_model_changes_create.json`.
pub const ROOTFI_DATA_MODEL_CHANGES_CREATE: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_data_model_changes_create.json");
/// `tests/fixtures/rootfi_data_model_changes_delete_payment.json`.
pub const ROOTFI_DATA_MODEL_CHANGES_DELETE_PAYMENT: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_data_model_changes_delete_payment.json");
/// `tests/fixtures/rootfi_data_model_changes_update_crm.json`.
pub const ROOTFI_DATA_MODEL_CHANGES_UPDATE_CRM: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_data_model_changes_update_crm.json");
/// `tests/fixtures/rootfi_integration.json`.
pub const ROOTFI_INTEGRATION: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_integration.json");
/// `tests/fixtures/rootfi_legacy_data_model_changes.json`.
pub const ROOTFI_LEGACY_DATA_MODEL_CHANGES: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_legacy_data_model_changes.json");
/// `tests/fixtures/rootfi_sync_completed.json`.
pub const ROOTFI_SYNC_COMPLETED: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_sync_completed.json");
/// `tests/fixtures/rootfi_sync_started.json`.
pub const ROOTFI_SYNC_STARTED: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_sync_started.json");
/// `tests/fixtures/rootfi_v4_connection_changed.json`.
pub const ROOTFI_V4_CONNECTION_CHANGED: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_v4_connection_changed.json");
/// `tests/fixtures/rootfi_v4_data_model_changes_singular.json`.
pub const ROOTFI_V4_DATA_MODEL_CHANGES_SINGULAR: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_v4_data_model_changes_singular.json");
/// `tests/fixtures/rootfi_v4_sync_completed_event.json`.
pub const ROOTFI_V4_SYNC_COMPLETED_EVENT: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_v4_sync_completed_event.json");

/// Every fixture, by file name (without `.json`), sorted.
///
/// ```
/// use ledgerhook::Event;
/// use ledgerhook::testing::fixtures;
///
/// for (name, body) in fixtures::ALL {
///     assert!(Event::from_slice(body).is_ok(), "{name}");
/// }
/// ```
pub const ALL: &[(&str, &[u8])] = &[
    ("railz_auth", RAILZ_AUTH),
    ("railz_batch_push", RAILZ_BATCH_PUSH),
    ("railz_connection_status", RAILZ_CONNECTION_STATUS),
    ("railz_customer_request", RAILZ_CUSTOMER_REQUEST),
    ("railz_data_full", RAILZ_DATA_FULL),
    (
        "railz_data_full_no_envelope_extras",
        RAILZ_DATA_FULL_NO_ENVELOPE_EXTRAS,
    ),
    ("railz_data_per_type", RAILZ_DATA_PER_TYPE),
    ("railz_data_per_type_simple", RAILZ_DATA_PER_TYPE_SIMPLE),
    ("railz_data_simple", RAILZ_DATA_SIMPLE),
    ("railz_delete", RAILZ_DELETE),
    ("railz_login", RAILZ_LOGIN),
    ("railz_push_validation_errors", RAILZ_PUSH_VALIDATION_ERRORS),
    ("rootfi_connection_changed_v3", ROOTFI_CONNECTION_CHANGED_V3),
    (
        "rootfi_data_model_changes_create",
        ROOTFI_DATA_MODEL_CHANGES_CREATE,
    ),
    (
        "rootfi_data_model_changes_delete_payment",
        ROOTFI_DATA_MODEL_CHANGES_DELETE_PAYMENT,
    ),
    (
        "rootfi_data_model_changes_update_crm",
        ROOTFI_DATA_MODEL_CHANGES_UPDATE_CRM,
    ),
    ("rootfi_integration", ROOTFI_INTEGRATION),
    (
        "rootfi_legacy_data_model_changes",
        ROOTFI_LEGACY_DATA_MODEL_CHANGES,
    ),
    ("rootfi_sync_completed", ROOTFI_SYNC_COMPLETED),
    ("rootfi_sync_started", ROOTFI_SYNC_STARTED),
    ("rootfi_v4_connection_changed", ROOTFI_V4_CONNECTION_CHANGED),
    (
        "rootfi_v4_data_model_changes_singular",
        ROOTFI_V4_DATA_MODEL_CHANGES_SINGULAR,
    ),
    (
        "rootfi_v4_sync_completed_event",
        ROOTFI_V4_SYNC_COMPLETED_EVENT,
    ),
];
