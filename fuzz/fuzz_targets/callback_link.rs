#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| signin::fuzzing::callback_link(data));
