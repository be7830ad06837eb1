#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| signin::fuzzing::loopback_request(data));
