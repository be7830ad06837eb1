//! The fuzz targets' committed inputs, replayed in every `cargo test`: each
//! seed in `fuzz/corpus/<target>/` and each crash reproducer in
//! `fuzz/regressions/<target>/` goes through the same function the fuzz
//! target calls (the functions assert the properties, so a regression panics
//! here). `scripts/fuzz.sh` runs the fuzzer itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

type Target = fn(&[u8]);

/// Each fuzz target in `fuzz/fuzz_targets/` and the function it fuzzes.
const TARGETS: &[(&str, Target)] = &[
    ("loopback_request", signin::fuzzing::loopback_request),
    ("callback_link", signin::fuzzing::callback_link),
    ("api_token", items_api::auth::fuzzing::token),
    ("api_jwks", items_api::auth::fuzzing::jwks),
    ("idp_form", dev_idp::fuzzing::form),
    ("idp_authorize", dev_idp::fuzzing::authorize_request),
    ("idp_token", dev_idp::fuzzing::token_request),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The committed inputs of `target`: its seeds (named `seed-*`; what a local
/// fuzzing run adds beside them is not committed) and its reproducers.
fn committed_inputs(target: &str) -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    let seeds = fuzz_dir().join("corpus").join(target);
    for entry in std::fs::read_dir(&seeds).unwrap_or_else(|e| panic!("{}: {e}", seeds.display())) {
        let path = entry.unwrap().path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("seed-")) {
            inputs.push(path);
        }
    }
    if let Ok(entries) = std::fs::read_dir(fuzz_dir().join("regressions").join(target)) {
        inputs.extend(entries.map(|entry| entry.unwrap().path()));
    }
    inputs.sort();
    inputs
}

#[test]
fn every_fuzz_target_is_replayed_here() {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut replayed: Vec<String> = TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    replayed.sort();
    assert_eq!(on_disk, replayed);
}

#[test]
fn every_committed_input_keeps_its_properties() {
    for (target, run) in TARGETS {
        let inputs = committed_inputs(target);
        assert!(inputs.len() >= 2, "{target}: at least two seeds are committed, found {inputs:?}");
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target} broke on {}", input.display());
        }
    }
}
