//! A client's side of server nonces (RFC 9449 §8 at a token endpoint, §9
//! at a resource server): keep the last `DPoP-Nonce` each origin handed
//! out, put it in the next proof to that origin, and, answered
//! `use_dpop_nonce`, try the request once more with the nonce handed out.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use url::Url;

/// The last `DPoP-Nonce` each origin (`scheme://host:port`) handed out.
#[derive(Debug, Default)]
pub struct ReceivedNonces {
    by_origin: Mutex<HashMap<String, String>>,
}

/// `scheme://host:port` of `url`.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl ReceivedNonces {
    /// The nonce to put in a proof for `url`: the last one its origin
    /// handed out, if any.
    #[must_use]
    pub fn for_url(&self, url: &Url) -> Option<String> {
        self.by_origin.lock().unwrap_or_else(PoisonError::into_inner).get(&origin(url)).cloned()
    }

    /// Keeps `handed_out`, the `DPoP-Nonce` of an answer from `url` to a
    /// request whose proof carried `sent`, and answers the nonce to try the
    /// request once more with: when the answer `asks` for one
    /// ([`asks_for_nonce`]) and the nonce handed out is not the one the
    /// proof carried. Compared with the one sent, not the one last kept, so
    /// requests made at once each try again with the nonce they are given.
    pub fn keep(&self, url: &Url, sent: Option<&str>, handed_out: Option<&str>, asks: bool) -> Option<String> {
        let handed_out = handed_out?;
        self.by_origin.lock().unwrap_or_else(PoisonError::into_inner).insert(origin(url), handed_out.to_owned());
        (asks && sent != Some(handed_out)).then(|| handed_out.to_owned())
    }
}

/// Whether an answer asks for a DPoP nonce: `use_dpop_nonce` as a token
/// endpoint's JSON error (400, RFC 9449 §8) or as the `error` of a
/// resource's `WWW-Authenticate` challenge (401, §9). `challenges` are the
/// answer's `WWW-Authenticate` values; `body` is empty when it was not read.
#[must_use]
pub fn asks_for_nonce<'a>(status: u16, challenges: impl IntoIterator<Item = &'a str>, body: &[u8]) -> bool {
    match status {
        400 => serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|body| body["error"] == "use_dpop_nonce"),
        401 => challenges.into_iter().any(|value| challenge_param(value, "error") == Some("use_dpop_nonce")),
        _ => false,
    }
}

/// The quoted parameter `name` of a `WWW-Authenticate` value (RFC 9110
/// §11.6.1), as a whole parameter name: at the start or after a space or
/// comma.
fn challenge_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let opening = format!("{name}=\"");
    let start = value
        .match_indices(&opening)
        .find(|(at, _)| *at == 0 || value[..*at].ends_with([' ', ',']))
        .map(|(at, _)| at + opening.len())?;
    let end = value[start..].find('"')? + start;
    Some(&value[start..end])
}

#[cfg(test)]
mod tests;
