use super::*;

/// The items API's window: proofs up to 60 s old, 5 s of clock skew.
const LEEWAY: u64 = 5;

/// RFC 9449 §11.1: a proof is refused again for as long as its `iat`
/// window lasts, whichever second the sweep runs in, and forgotten after.
#[test]
fn a_proof_is_remembered_for_its_whole_window_and_forgotten_after() {
    let cache = ReplayCache::new(Duration::from_secs(60), Duration::from_secs(LEEWAY));
    let start = 1_800_000_000;
    cache.remember("a", start).unwrap();
    for later in [start, start + 1, start + 60, start + 60 + LEEWAY] {
        assert_eq!(
            cache.remember("a", later),
            Err(ReplayError::Replayed),
            "a replay {} s later was taken",
            later - start
        );
    }
    cache.remember("b", start + 61 + LEEWAY).unwrap();
    let seen = cache.seen.lock().unwrap();
    assert_eq!(seen.until.keys().collect::<Vec<_>>(), ["b"], "the expired proof is swept");
}
