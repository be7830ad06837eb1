//! Entry points for the fuzz targets in `fuzz/` (and the tests that replay
//! their corpora): what the loopback listener and the deep-link handler make
//! of bytes and links from outside, with the properties every input must
//! keep. Not an API.

use url::Url;

use crate::flow::login::Callback;
use crate::flow::loopback::{request_line, split_target};

/// A request head as the loopback listener reads it: the first line split,
/// the target split into path and query, the query read as a redirect.
/// Never panics; a path always starts with `/`; a callback read from a query
/// reads the same once written back.
///
/// # Panics
/// When a property breaks (the fuzzer's finding).
pub fn loopback_request(head: &[u8]) {
    let Some((_method, target)) = request_line(head) else { return };
    let Some((path, query)) = split_target(&target) else { return };
    assert!(path.starts_with('/'), "path {path:?} from target {target:?}");
    if let Some(query) = query {
        round_trip(&query);
    }
}

/// A deep link as the app receives it: parsed as a URL, its query read as a
/// redirect. Never panics; a callback reads the same once written back.
///
/// # Panics
/// When a property breaks (the fuzzer's finding).
pub fn callback_link(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(url) = Url::parse(text) else { return };
    if Callback::from_url(&url).is_ok() {
        round_trip(url.query().unwrap_or(""));
    }
}

/// Reads `query` as a redirect; when it is one, writes its fields back and
/// checks they read the same.
fn round_trip(query: &str) {
    let Ok(first) = Callback::from_query(query) else { return };
    let written = first.to_query();
    let second = Callback::from_query(&written).unwrap_or_else(|e| panic!("{written:?} does not read back: {e}"));
    assert_eq!(first.fields(), second.fields(), "{query:?} → {written:?}");
    assert_eq!(first.is_response(), second.is_response());
}
