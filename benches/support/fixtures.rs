//! Every published fixture in `tests/fixtures`, compiled in.

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../tests/fixtures/", $name, ".json")))),*]
    };
}

/// `(name, body)` of every fixture; [`assert_complete`] checks nothing is missing.
pub(crate) const FIXTURES: &[(&str, &[u8])] = fixtures![
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

/// Railz `auth` delivery (200 B).
pub(crate) const RAILZ_AUTH: &[u8] = include_bytes!("../../tests/fixtures/railz_auth.json");
/// Railz `dataPerType` delivery (1006 B).
pub(crate) const RAILZ_DATA_PER_TYPE: &[u8] =
    include_bytes!("../../tests/fixtures/railz_data_per_type.json");
/// Railz `data` delivery, full payload with a `requests` array (1411 B).
pub(crate) const RAILZ_DATA_FULL: &[u8] =
    include_bytes!("../../tests/fixtures/railz_data_full.json");
/// RootFi `SYNC_STARTED` delivery (1276 B).
pub(crate) const ROOTFI_SYNC_STARTED: &[u8] =
    include_bytes!("../../tests/fixtures/rootfi_sync_started.json");

/// Panics when `tests/fixtures` holds a `.json` file that [`FIXTURES`] does not list, so a
/// new fixture cannot silently drop out of the parse benchmarks.
pub(crate) fn assert_complete() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .expect("tests/fixtures")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<&str> = FIXTURES.iter().map(|(name, _)| *name).collect();
    listed.sort_unstable();
    assert_eq!(
        on_disk, listed,
        "benches/support/fixtures.rs must list every fixture"
    );
}
