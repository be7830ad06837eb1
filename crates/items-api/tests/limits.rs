//! Slow clients (issue 14, item 4): the items API as its binary serves it
//! (configuration from the environment, `tessera-http-server`), over real TCP
//! on 127.0.0.1 port 0. Every wait has its own deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

async fn within<T>(seconds: u64, what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {seconds}s: {what}"))
}

struct Api {
    addr: SocketAddr,
    _idp: dev_idp::DevIdp,
    _dir: tempfile::TempDir,
}

/// The API configured by `settings` (environment names) over the demo ones.
async fn start(settings: &[(&str, &str)]) -> Api {
    let idp = within(60, "dev-idp starting", dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut env: HashMap<String, String> = HashMap::from([
        ("OKTA_ISSUER".to_owned(), idp.issuer().to_owned()),
        ("DATABASE_URL".to_owned(), format!("sqlite://{}", dir.path().join("items.db").display())),
        ("BIND".to_owned(), addr.to_string()),
        ("PUBLIC_URL".to_owned(), format!("http://{addr}")),
    ]);
    env.extend(settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = items_api::Config::load_with(None, |name| env.get(name).cloned()).unwrap();
    let state = within(60, "the items API starting", items_api::build(&config)).await.unwrap();
    tokio::spawn(http_server::serve(listener, items_api::router(state), config.limits, std::future::pending()));
    Api { addr, _idp: idp, _dir: dir }
}

#[tokio::test]
async fn the_limits_come_from_their_settings_and_zero_is_refused() {
    let idp = within(60, "dev-idp starting", dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }))
        .await
        .unwrap();
    let base = [
        ("OKTA_ISSUER", idp.issuer().to_owned()),
        ("DATABASE_URL", "sqlite://unused.db".to_owned()),
        ("PUBLIC_URL", "http://127.0.0.1:8081".to_owned()),
    ];
    let load = |extra: &[(&str, &str)]| {
        let env: HashMap<String, String> = base
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .chain(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .collect();
        items_api::Config::load_with(None, |name| env.get(name).cloned())
    };
    assert_eq!(load(&[]).unwrap().limits, http_server::Limits::default());
    let limits = load(&[
        ("HEADER_READ_TIMEOUT_SECS", "3"),
        ("IDLE_TIMEOUT_SECS", "2"),
        ("REQUEST_TIMEOUT_SECS", "7"),
        ("MAX_CONNECTIONS", "9"),
    ])
    .unwrap()
    .limits;
    assert_eq!(
        limits,
        http_server::Limits {
            header_read_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(7),
            max_connections: 9,
        }
    );
    for setting in ["HEADER_READ_TIMEOUT_SECS", "IDLE_TIMEOUT_SECS", "REQUEST_TIMEOUT_SECS", "MAX_CONNECTIONS"] {
        for bad in ["0", "ten"] {
            let Err(error) = load(&[(setting, bad)]) else { panic!("{setting}={bad} accepted") };
            assert!(error.to_string().contains(setting), "{setting}={bad}: {error}");
        }
    }
}

#[tokio::test]
async fn a_request_head_sent_a_byte_at_a_time_is_cut_off_at_header_read_timeout_secs() {
    let api = start(&[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_owned();
    let took = testkit::time_to_cut_off_a_dribbled_head(api.addr, head, Duration::from_secs(8)).await;
    assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(4_000), "took {took:?}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_at_idle_timeout_secs() {
    let api = start(&[("IDLE_TIMEOUT_SECS", "1")]).await;
    let mut stream = within(30, "a connection to the API", TcpStream::connect(api.addr)).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut buf = [0_u8; 4096];
    let n = within(5, "the /healthz answer", stream.read(&mut buf)).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 "),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let started = Instant::now();
    within(5, "the idle connection closed", async { while let Ok(1..) = stream.read(&mut buf).await {} }).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(800) && took < Duration::from_millis(4_000), "took {took:?}");
}

#[tokio::test]
async fn at_max_connections_healthz_is_503_then_200_once_the_slow_clients_leave() {
    let api = start(&[("MAX_CONNECTIONS", "2")]).await;
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = within(30, "a connection to the API", TcpStream::connect(api.addr)).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
        slow.push(stream);
    }
    // Each request bounded, well above the 5 s the test waits in all.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(30)).build().unwrap();
    let url = format!("http://{}/healthz", api.addr);
    let status = || async { http.get(&url).send().await.unwrap().status().as_u16() };
    within(5, "a 503 at the cap", async {
        while status().await != 503 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    drop(slow);
    within(5, "/healthz answering after the slow clients left", async {
        while status().await != 200 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
