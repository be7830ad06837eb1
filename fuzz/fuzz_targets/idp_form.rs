#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dev_idp::fuzzing::form(data));
