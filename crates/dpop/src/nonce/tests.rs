use super::*;

#[test]
fn a_nonce_is_taken_in_its_window_and_the_next_only() {
    let nonces = NonceWindow::new([7; 32], Duration::from_secs(300));
    let start = 1_800_000_000 / 300 * 300;
    let nonce = nonces.current(start);
    assert_eq!(nonce.len(), 43, "{nonce}");
    assert_eq!(nonce, nonces.current(start + 299), "one nonce per window");
    assert!(nonces.accepts(Some(&nonce), start));
    assert!(nonces.accepts(Some(&nonce), start + 300 + 299), "still in the next window");
    assert!(!nonces.accepts(Some(&nonce), start + 600), "not two windows on");
    assert_ne!(nonces.current(start + 300), nonce, "a new one each window");
    assert!(!nonces.accepts(None, start));
    // Another instance (another key) makes other nonces.
    let other = NonceWindow::new([8; 32], Duration::from_secs(300));
    assert!(!other.accepts(Some(&nonce), start));
}

#[test]
fn a_lifetime_under_a_second_is_one_second() {
    let nonces = NonceWindow::new([7; 32], Duration::ZERO);
    assert_ne!(nonces.current(1_800_000_000), nonces.current(1_800_000_001));
    assert!(nonces.accepts(Some(&nonces.current(1_800_000_000)), 1_800_000_001));
    assert!(!nonces.accepts(Some(&nonces.current(1_800_000_000)), 1_800_000_002));
}

#[test]
fn debug_leaves_the_key_out() {
    let nonces = NonceWindow::new([0xab; 32], Duration::from_secs(60));
    let shown = format!("{nonces:?}");
    assert!(!shown.contains("171") && !shown.contains("key"), "{shown}");
}
