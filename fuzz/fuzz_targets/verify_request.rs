#![no_main]
// Body and checks: `ledgerhook_fuzz::targets::signature::verify_request`.
libfuzzer_sys::fuzz_target!(
    |data: &[u8]| ledgerhook_fuzz::targets::signature::verify_request(data)
);
