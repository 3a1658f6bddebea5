#![no_main]
// Body and checks: `ledgerhook_fuzz::targets::sign::sign_verify`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledgerhook_fuzz::targets::sign::sign_verify(data));
