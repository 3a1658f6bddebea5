#![no_main]
// Body and checks: `ledgerhook_fuzz::targets::signature::shared_secret_header`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ledgerhook_fuzz::targets::signature::shared_secret_header(data)
});
