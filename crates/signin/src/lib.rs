//! Tessera's sign-in core: discovery, PKCE sign-in through the system browser,
//! loopback and deep-link redirects, ID-token checks, refresh, sign-out and the
//! keyring-backed account store.
//!
//! Skeleton: the work is tracked in issue 4.
