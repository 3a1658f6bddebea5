#![no_main]
// Body and checks: `ledgerhook_fuzz::targets::signature::explain_request`.
libfuzzer_sys::fuzz_target!(
    |data: &[u8]| ledgerhook_fuzz::targets::signature::explain_request(data)
);
