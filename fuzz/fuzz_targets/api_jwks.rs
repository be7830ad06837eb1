#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| items_api::auth::fuzzing::jwks(data));
