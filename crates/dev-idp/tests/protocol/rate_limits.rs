//! Okta-style rate limits (`rate_limits`, off by default): `X-Rate-Limit-*`
//! headers on every answer, 429 with an OAuth error body past the limit.

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::support::{Answer, Idp, start, start_with};

fn header(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name).map(|v| v.to_str().unwrap().parse().unwrap())
}

/// `(limit, remaining, reset)` of an answer.
fn counts(headers: &HeaderMap) -> (u64, u64, u64) {
    let get = |name| header(headers, name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
    (get("x-rate-limit-limit"), get("x-rate-limit-remaining"), get("x-rate-limit-reset"))
}

async fn client_credentials(idp: &Idp) -> Answer {
    idp.post(
        "token",
        &[("grant_type", "client_credentials"), ("scope", "items:read")],
        Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)),
    )
    .await
}

#[tokio::test]
async fn past_the_limit_the_token_endpoint_answers_429_with_the_headers_until_the_next_minute() {
    let idp = start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.endpoints.insert("token".to_owned(), 2);
    })
    .await;
    let now = idp.idp.provider().now_unix();
    let reset = now - now % 60 + 60;

    let first = client_credentials(&idp).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(counts(&first.headers), (2, 1, reset), "headers on a successful answer");
    let second = client_credentials(&idp).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(counts(&second.headers), (2, 0, reset));

    let third = client_credentials(&idp).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{}", third.json);
    assert_eq!(counts(&third.headers), (2, 0, reset));
    assert_eq!(third.error(), "too_many_requests");
    // The standard header too, and the provider's own Date to measure the reset against.
    assert_eq!(header(&third.headers, "retry-after"), Some(reset - now), "{:?}", third.headers);
    let date = third.headers.get("date").expect("a Date").to_str().unwrap();
    let date = httpdate::parse_http_date(date).unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(date, now, "the Date is the provider's clock's (a test's manual one here)");
    assert!(first.headers.get("retry-after").is_none(), "Retry-After only on a 429");
    assert!(third.json["error_description"].as_str().unwrap().contains("token"), "{}", third.json);
    // Failed requests count too, and other families have their own count.
    assert_eq!(idp.post("token", &[], None).await.status, StatusCode::TOO_MANY_REQUESTS);
    let keys = idp.http.get(idp.endpoint("keys")).send().await.unwrap();
    assert_eq!(keys.status(), StatusCode::OK);
    assert_eq!(counts(keys.headers()), (600, 599, reset), "the default limit for keys");

    // The next window.
    idp.advance(reset - now);
    let again = client_credentials(&idp).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(counts(&again.headers), (2, 1, reset + 60));
}

#[tokio::test]
async fn a_shorter_window_resets_sooner_and_retry_after_says_when() {
    let idp = start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.window_secs = 5;
        c.rate_limits.endpoints.insert("token".to_owned(), 1);
    })
    .await;
    let now = idp.idp.provider().now_unix();
    let reset = now - now % 5 + 5;
    assert_eq!(client_credentials(&idp).await.status, StatusCode::OK);
    let refused = client_credentials(&idp).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(counts(&refused.headers), (1, 0, reset));
    assert_eq!(header(&refused.headers, "retry-after"), Some(reset - now));
    assert!(refused.json["error_description"].as_str().unwrap().contains("in 5 s"), "{}", refused.json);
    idp.advance(reset - now);
    assert_eq!(client_credentials(&idp).await.status, StatusCode::OK, "the next window");
}

#[tokio::test]
async fn browser_pages_and_discovery_are_counted_too() {
    let idp = start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.per_minute = 1;
    })
    .await;
    let discovery = format!("{}/.well-known/openid-configuration", idp.issuer());
    assert_eq!(idp.http.get(&discovery).send().await.unwrap().status(), StatusCode::OK);
    let refused = idp.http.get(&discovery).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(counts(refused.headers()).0, 1);
    let request = idp.request("openid", &[]);
    let page = idp.http.get(&request.url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the authorize family has its own count");
    assert_eq!(idp.http.get(&request.url).send().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn rate_limits_are_off_by_default() {
    let idp = start().await;
    for _ in 0..3 {
        let answer = client_credentials(&idp).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.headers.get("x-rate-limit-limit").is_none(), "no headers when off");
    }
}
