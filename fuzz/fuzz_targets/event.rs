#![no_main]
// Body and checks: `ledgerhook_fuzz::targets::event::event`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledgerhook_fuzz::targets::event::event(data));
