//! Parsers of the kinds of value the programs share. Each answers what is
//! wrong as a sentence; [`Environment::layer`](crate::Environment::layer)
//! (or the caller) adds the setting's name.

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

/// A whole number.
///
/// # Errors
/// `"x" is not a number`.
pub fn number(value: &str) -> Result<u64, String> {
    value.trim().parse().map_err(|_| format!("{value:?} is not a number"))
}

/// A whole number of seconds.
///
/// # Errors
/// `"x" is not a number of seconds`.
pub fn seconds(value: &str) -> Result<u64, String> {
    value.trim().parse().map_err(|_| format!("{value:?} is not a number of seconds"))
}

/// A duration of at least one second, from a number of seconds (a file's
/// value, or [`seconds`]' answer).
///
/// # Errors
/// `must be above 0`.
pub fn positive_seconds(secs: u64) -> Result<Duration, String> {
    if secs == 0 {
        return Err("must be above 0".to_owned());
    }
    Ok(Duration::from_secs(secs))
}

/// A boolean: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (any case).
///
/// # Errors
/// `"x" is neither true nor false`.
pub fn flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{value:?} is neither true nor false")),
    }
}

/// An absolute URL.
///
/// # Errors
/// `"x" is not a URL (why)`.
pub fn url(value: &str) -> Result<Url, String> {
    Url::parse(value.trim()).map_err(|e| format!("{value:?} is not a URL ({e})"))
}

/// A socket address such as `127.0.0.1:8081` or `[::1]:8081`.
///
/// # Errors
/// `"x" is not an address such as 127.0.0.1:8081`.
pub fn socket_addr(value: &str) -> Result<SocketAddr, String> {
    value.trim().parse().map_err(|_| format!("{value:?} is not an address such as 127.0.0.1:8081"))
}

/// Whether `url`'s host is a loopback IP literal (127.0.0.0/8, `[::1]`);
/// names such as `localhost` are not (RFC 8252 §8.3: a name may resolve
/// elsewhere).
#[must_use]
pub fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}
