#![no_main]
// Body and checks: `ledgerhook_fuzz::targets::layer::layer`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledgerhook_fuzz::targets::layer::layer(data));
