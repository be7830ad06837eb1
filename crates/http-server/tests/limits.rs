//! The bounds on slow clients, over real TCP on 127.0.0.1 port 0: raw
//! sockets play the slow clients, reqwest the honest ones. Every test runs
//! under its own deadline and fails with a message instead of hanging.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use http_server::Limits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Fails the test with `what` unless `future` completes within `seconds`.
async fn within<T>(seconds: u64, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {seconds} s"))
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn start(limits: Limits) -> Server {
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/wait",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                "done"
            }),
        )
        .route(
            "/stuck",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route("/echo", post(|body: Bytes| async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(http_server::serve(listener, router, limits, async {
        let _ = stopped.await;
    }));
    Server { addr, stop: Some(stop), task }
}

fn limits(header_read_ms: u64, idle_ms: u64, request_ms: u64, max_connections: usize) -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(header_read_ms),
        idle_timeout: Duration::from_millis(idle_ms),
        request_timeout: Duration::from_millis(request_ms),
        max_connections,
    }
}

/// A client that opens a connection per request (no pooling).
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
}

/// Reads until the server closes the connection (end of stream or reset);
/// how long that took.
async fn wait_for_close(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0_u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

/// Reads one answer: status, head and body (by Content-Length).
async fn read_answer(stream: &mut TcpStream) -> (u16, String, String) {
    let mut data = Vec::new();
    let mut buf = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed before an answer: {:?}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed in the body");
        data.extend_from_slice(&buf[..n]);
    }
    (status, head, String::from_utf8_lossy(&data[head_end..head_end + length]).to_string())
}

/// A client sending the start of a request head, then one byte every
/// `every` until the server closes the connection (or the task is dropped).
fn dribble(mut writer: tokio::net::tcp::OwnedWriteHalf, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        if writer.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(every).await;
            if writer.write_all(b"X").await.is_err() {
                return;
            }
        }
    })
}

#[tokio::test]
async fn a_request_head_sent_a_byte_at_a_time_is_cut_off_at_the_header_read_timeout() {
    within(15, "the test", async {
        // Idle limit far away: the bytes keep coming, the head never ends.
        let server = start(limits(1_000, 5_000, 30_000, 16)).await;
        let (mut reader, writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
        let writer = dribble(writer, Duration::from_millis(150));
        let started = Instant::now();
        let mut buf = [0_u8; 256];
        let closed = within(8, "the slow head cut off", async {
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => return started.elapsed(),
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed >= Duration::from_millis(900), "cut off early: {closed:?}");
        assert!(closed < Duration::from_millis(4_000), "cut off late: {closed:?}");
        writer.abort();
    })
    .await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_idle_limit() {
    within(15, "the test", async {
        let server = start(limits(5_000, 500, 30_000, 16)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let closed = within(4, "the silent connection closed", wait_for_close(&mut stream)).await;
        assert!(closed >= Duration::from_millis(400), "closed early: {closed:?}");
        assert!(closed < Duration::from_millis(3_000), "closed late (the header timeout is 5 s): {closed:?}");
    })
    .await;
}

#[tokio::test]
async fn a_kept_alive_connection_serves_requests_and_is_closed_at_the_idle_limit() {
    within(15, "the test", async {
        let server = start(limits(5_000, 600, 30_000, 16)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        for _ in 0..2 {
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
            let (status, _, body) = within(3, "an answer", read_answer(&mut stream)).await;
            assert_eq!((status, body.as_str()), (200, "ok"));
            // Within the idle limit the connection stays.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let closed = within(4, "the idle connection closed", wait_for_close(&mut stream)).await;
        // 300 ms of the 600 ms limit passed before the wait began.
        assert!(closed >= Duration::from_millis(200), "closed early: {closed:?}");
        assert!(closed < Duration::from_millis(1_500), "closed late: {closed:?}");
    })
    .await;
}

#[tokio::test]
async fn at_the_connection_cap_healthz_is_answered_503_then_200_once_the_slow_clients_are_dropped() {
    within(20, "the test", async {
        // Timeouts far away: only dropping the slow clients frees the cap.
        let server = start(limits(30_000, 30_000, 30_000, 3)).await;
        let mut slow = Vec::new();
        for _ in 0..3 {
            let mut stream = TcpStream::connect(server.addr).await.unwrap();
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
            slow.push(stream);
        }
        let http = fresh_client();
        // The server accepts the slow ones in the background: wait for the cap.
        let busy = within(5, "a 503 at the cap", async {
            loop {
                let answer = http.get(server.url("/healthz")).send().await.unwrap();
                if answer.status() == 503 {
                    return answer;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert_eq!(busy.headers()["retry-after"], "1");
        assert_eq!(busy.headers()["connection"], "close");
        let text = busy.text().await.unwrap();
        assert!(text.contains("limit of 3 connections"), "{text}");

        drop(slow);
        within(5, "/healthz answering 200 after the slow clients left", async {
            loop {
                let answer = http.get(server.url("/healthz")).send().await.unwrap();
                if answer.status() == 200 {
                    assert_eq!(answer.text().await.unwrap(), "ok");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn slow_clients_holding_every_connection_are_cut_off_and_healthz_answers_again() {
    within(20, "the test", async {
        let server = start(limits(1_000, 30_000, 30_000, 3)).await;
        let mut writers = Vec::new();
        for _ in 0..3 {
            let (reader, writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
            writers.push((reader, dribble(writer, Duration::from_millis(100))));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let http = fresh_client();
        let started = Instant::now();
        assert_eq!(http.get(server.url("/healthz")).send().await.unwrap().status(), 503);
        // The slow clients keep dribbling, but the server cuts them off.
        within(5, "/healthz answering 200 while the slow clients still write", async {
            loop {
                if http.get(server.url("/healthz")).send().await.unwrap().status() == 200 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(started.elapsed() < Duration::from_millis(4_000), "took {:?}", started.elapsed());
        for (_, writer) in writers {
            writer.abort();
        }
    })
    .await;
}

#[tokio::test]
async fn a_handler_slower_than_the_request_timeout_is_answered_503() {
    within(15, "the test", async {
        let server = start(limits(5_000, 5_000, 1_000, 16)).await;
        let started = Instant::now();
        let answer = within(8, "an answer from /stuck", fresh_client().get(server.url("/stuck")).send()).await.unwrap();
        let took = started.elapsed();
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()["retry-after"], "1");
        assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(4_000), "took {took:?}");
        // The server is fine afterwards.
        assert_eq!(fresh_client().get(server.url("/healthz")).send().await.unwrap().status(), 200);
    })
    .await;
}

#[tokio::test]
async fn a_request_body_slower_than_the_request_timeout_is_answered_408_and_the_connection_closed() {
    within(15, "the test", async {
        let server = start(limits(5_000, 5_000, 1_000, 16)).await;
        let (mut reader, mut writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
        writer
            .write_all(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789")
            .await
            .unwrap();
        let started = Instant::now();
        let body_writer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(150)).await;
                if writer.write_all(b"x").await.is_err() {
                    return;
                }
            }
        });
        let mut data = Vec::new();
        let mut buf = [0_u8; 1024];
        within(8, "the 408 and the close", async {
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => data.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        let took = started.elapsed();
        let answer = String::from_utf8_lossy(&data);
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
        assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(4_000), "took {took:?}");
        body_writer.abort();
    })
    .await;
}

#[tokio::test]
async fn shutdown_answers_the_request_under_way_then_returns() {
    within(15, "the test", async {
        let mut server = start(Limits::default()).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(b"GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
        // An idle kept-alive connection does not hold shutdown up either.
        let mut idle = TcpStream::connect(server.addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.stop.take().unwrap().send(()).unwrap();
        let (status, head, body) = within(3, "the answer under way", read_answer(&mut stream)).await;
        assert_eq!((status, body.as_str()), (200, "done"), "{head}");
        within(3, "serve returning", &mut server.task).await.unwrap();
        within(3, "the idle connection closed", wait_for_close(&mut idle)).await;
        assert!(TcpStream::connect(server.addr).await.is_err(), "still listening");
    })
    .await;
}
