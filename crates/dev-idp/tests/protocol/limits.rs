//! Slow clients (issue 14, item 4): the provider serves through
//! `tessera-http-server` with the limits of its `[server]` configuration.

use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::support::{REQUEST_TIMEOUT, start_with};

async fn within<T>(seconds: u64, what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {seconds}s: {what}"))
}

#[tokio::test]
async fn a_request_head_sent_a_byte_at_a_time_is_cut_off_at_the_configured_timeout() {
    let idp = start_with(|config| config.server.header_read_timeout_secs = 1).await;
    let head = format!("GET /oauth2/default/v1/keys HTTP/1.1\r\nHost: {}\r\n", idp.idp.addr());
    let took = testkit::time_to_cut_off_a_dribbled_head(idp.idp.addr(), head, Duration::from_secs(8)).await;
    assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(4_000), "took {took:?}");
}

#[tokio::test]
async fn at_the_configured_connection_cap_discovery_is_503_then_answers_once_slow_clients_leave() {
    let idp = start_with(|config| config.server.max_connections = 2).await;
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = within(30, "a connection to dev-idp", TcpStream::connect(idp.idp.addr())).await.unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
        slow.push(stream);
    }
    // Each request bounded, well above the 5 s the test waits in all.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(REQUEST_TIMEOUT).build().unwrap();
    let discovery = format!("{}/.well-known/openid-configuration", idp.issuer());
    let status = || async { http.get(&discovery).send().await.unwrap().status().as_u16() };
    within(5, "a 503 at the cap", async {
        while status().await != 503 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    drop(slow);
    within(5, "discovery answering after the slow clients left", async {
        while status().await != 200 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
