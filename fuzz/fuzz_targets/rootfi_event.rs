#![no_main]
// Body and checks: `ledgerhook_fuzz::targets::event::rootfi_event`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledgerhook_fuzz::targets::event::rootfi_event(data));
