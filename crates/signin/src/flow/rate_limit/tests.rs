#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};

use super::*;

/// A time in late 2026 (Unix seconds).
const AT: u64 = 1_796_637_600;

fn time(unix: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    headers
}

fn wait(pairs: &[(&'static str, &str)], now: u64) -> Option<Duration> {
    wait_from_headers(&headers(pairs), time(now))
}

#[test]
fn retry_after_in_seconds_is_the_wait() {
    assert_eq!(wait(&[("retry-after", "42")], AT), Some(Duration::from_secs(42)));
    assert_eq!(wait(&[("retry-after", " 7 ")], AT), Some(Duration::from_secs(7)));
}

#[test]
fn okta_reset_is_measured_from_the_providers_date_not_this_clock() {
    let date = httpdate::fmt_http_date(time(AT));
    let reset = (AT + 30).to_string();
    // This machine's clock is ten minutes behind, then ten minutes ahead: the same wait.
    for now in [AT - 600, AT + 600] {
        let pairs = [("date", date.as_str()), ("x-rate-limit-reset", reset.as_str()), ("x-rate-limit-remaining", "0")];
        assert_eq!(wait(&pairs, now), Some(Duration::from_secs(30)), "now = {now}");
    }
    // Without a Date, this machine's clock is all there is.
    assert_eq!(wait(&[("x-rate-limit-reset", &reset)], AT + 10), Some(Duration::from_secs(20)));
}

#[test]
fn retry_after_as_an_http_date_is_measured_from_the_providers_date() {
    let date = httpdate::fmt_http_date(time(AT));
    let later = httpdate::fmt_http_date(time(AT + 90));
    let pairs = [("date", date.as_str()), ("retry-after", later.as_str())];
    assert_eq!(wait(&pairs, AT - 3000), Some(Duration::from_secs(90)));
}

#[test]
fn retry_after_wins_over_the_reset() {
    let reset = (AT + 50).to_string();
    assert_eq!(wait(&[("retry-after", "5"), ("x-rate-limit-reset", &reset)], AT), Some(Duration::from_secs(5)));
    // A garbled Retry-After leaves the reset to say.
    assert_eq!(wait(&[("retry-after", "soon"), ("x-rate-limit-reset", &reset)], AT), Some(Duration::from_secs(50)));
}

#[test]
fn garbage_or_nothing_is_no_answer_and_the_default_wait() {
    for pairs in [
        &[][..],
        &[("retry-after", "soon")],
        &[("retry-after", "-5")],
        &[("retry-after", "1.5")],
        &[("x-rate-limit-reset", "tomorrow")],
        &[("x-rate-limit-limit", "600"), ("x-rate-limit-remaining", "0")],
    ] {
        assert_eq!(wait(pairs, AT), None, "{pairs:?}");
        assert_eq!(RateLimited::from_headers(&headers(pairs), time(AT)).wait, DEFAULT_WAIT);
    }
}

#[test]
fn a_reset_in_the_past_or_a_zero_wait_still_waits_a_second() {
    let past = (AT - 100).to_string();
    assert_eq!(wait(&[("x-rate-limit-reset", &past)], AT), Some(MIN_WAIT));
    assert_eq!(wait(&[("retry-after", "0")], AT), Some(MIN_WAIT));
    let earlier = httpdate::fmt_http_date(time(AT - 5));
    assert_eq!(wait(&[("retry-after", &earlier)], AT), Some(MIN_WAIT));
}

#[test]
fn huge_values_are_capped_at_an_hour() {
    assert_eq!(wait(&[("retry-after", "86400")], AT), Some(MAX_WAIT));
    assert_eq!(wait(&[("retry-after", "99999999999999999999999999")], AT), Some(MAX_WAIT));
    assert_eq!(wait(&[("x-rate-limit-reset", "18446744073709551615")], AT), Some(MAX_WAIT));
    assert_eq!(wait(&[("x-rate-limit-reset", &(AT + 7 * 86400).to_string())], AT), Some(MAX_WAIT));
}

#[test]
fn the_message_says_when_in_words() {
    let limited = RateLimited { wait: Duration::from_secs(42) };
    assert_eq!(limited.to_string(), "the provider is limiting requests; try again in 42 s");
    assert_eq!(in_words(Duration::from_millis(300)), "1 s");
    assert_eq!(in_words(Duration::from_millis(41_200)), "42 s");
    assert_eq!(in_words(Duration::from_secs(150)), "3 min");
    assert_eq!(in_words(MAX_WAIT), "60 min");
}
