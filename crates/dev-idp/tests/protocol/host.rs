//! DNS rebinding (issue 14, item 10): requests whose `Host` (or absolute
//! target) is not the provider's own are refused before any endpoint runs.
//! Raw requests over TCP, since HTTP clients write `Host` themselves.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::start;

/// Sends `head` (request line and fields, without the blank line) with
/// `Connection: close`; the status and body of the answer.
async fn raw(addr: std::net::SocketAddr, head: &str) -> (u16, String) {
    raw_with_body(addr, head, "").await
}

async fn raw_with_body(addr: std::net::SocketAddr, head: &str, body: &str) -> (u16, String) {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(format!("{head}\r\nConnection: close\r\n\r\n{body}").as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer).to_string();
        let status = answer.split(' ').nth(1).unwrap_or_else(|| panic!("no status in {answer:?}")).parse().unwrap();
        let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap_or_else(|_| panic!("no answer to {head:?} within 10 s"))
}

#[tokio::test]
async fn the_issuers_authority_and_loopback_names_at_its_port_are_answered() {
    let idp = start().await;
    let addr = idp.idp.addr();
    let port = addr.port();
    let path = "/oauth2/default/.well-known/openid-configuration";
    for host in
        [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("LocalHost:{port}"), format!("[::1]:{port}")]
    {
        let (status, body) = raw(addr, &format!("GET {path} HTTP/1.1\r\nHost: {host}")).await;
        assert_eq!(status, 200, "Host: {host}: {body}");
        let discovery: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(discovery["issuer"], idp.issuer(), "the issuer does not follow the Host");
    }
    let absolute = format!("GET http://127.0.0.1:{port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}");
    assert_eq!(raw(addr, &absolute).await.0, 200);
}

#[tokio::test]
async fn another_host_or_port_in_any_spelling_is_refused_with_421() {
    let idp = start().await;
    let addr = idp.idp.addr();
    let port = addr.port();
    let other = port.wrapping_add(1);
    let discovery = "/oauth2/default/.well-known/openid-configuration";
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("EVIL.example:{port}"),
        format!("127.0.0.1:{other}"),
        format!("localhost:{other}"),
        "127.0.0.1".to_owned(),
        format!("localhost.:{port}"),
        format!("127.0.0.1.:{port}"),
        format!("127.0.0.1:{port}.evil.example"),
        format!("127.0.0.1:{port}@evil.example"),
        format!("0.0.0.0:{port}"),
        format!("127.0.0.2:{port}"),
    ] {
        let (status, body) = raw(addr, &format!("GET {discovery} HTTP/1.1\r\nHost: {host}")).await;
        assert_eq!(status, 421, "Host: {host}: {body}");
        assert!(!body.contains("token_endpoint"), "Host: {host}: the endpoint ran");
    }
    // An absolute target names the host that counts (RFC 9112 §3.2.2).
    let absolute = format!("GET http://evil.example:{port}{discovery} HTTP/1.1\r\nHost: 127.0.0.1:{port}");
    assert_eq!(raw(addr, &absolute).await.0, 421);
    // A cross-site form post to the token endpoint from a rebound page.
    let form = "grant_type=client_credentials";
    let token = format!(
        "POST /oauth2/default/v1/token HTTP/1.1\r\nHost: evil.example:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}",
        form.len()
    );
    assert_eq!(raw_with_body(addr, &token, form).await.0, 421);
}

#[tokio::test]
async fn a_request_without_host_or_with_two_is_refused_with_400() {
    let idp = start().await;
    let addr = idp.idp.addr();
    let port = addr.port();
    let discovery = "/oauth2/default/.well-known/openid-configuration";
    for head in [
        format!("GET {discovery} HTTP/1.1"),
        format!("GET {discovery} HTTP/1.0"),
        format!("GET {discovery} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example:{port}"),
        format!("GET {discovery} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: 127.0.0.1:{port}"),
    ] {
        let (status, body) = raw(addr, &head).await;
        assert_eq!(status, 400, "{head}: {body}");
    }
}

#[tokio::test]
async fn the_admin_call_is_refused_to_a_rebound_host_and_rotates_nothing() {
    let idp = start().await;
    let addr = idp.idp.addr();
    let port = addr.port();
    let kid = idp.idp.provider().active_kid();
    for host in [format!("evil.example:{port}"), format!("127.0.0.1:{}", port.wrapping_add(1))] {
        let head = format!("POST /admin/rotate-keys HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0");
        assert_eq!(raw(addr, &head).await.0, 421, "Host: {host}");
    }
    assert_eq!(idp.idp.provider().active_kid(), kid, "the keys were rotated");
}
