//! A real HTTP proxy for the tests, on 127.0.0.1 port 0: `CONNECT
//! host:port` (answered `200`, then the bytes copied both ways: how
//! clients reach `https` URLs through a proxy) and absolute-form requests
//! (`GET http://host:port/path`, forwarded in origin form: how they reach
//! `http` URLs). It records the target of every connection, and resolves
//! the names it is given itself (`idp.test` → 127.0.0.1), so that a
//! request to such a name can only succeed through it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The longest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;

/// A running proxy; see the module documentation.
#[derive(Debug, Clone)]
pub struct TestProxy {
    addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    /// Starts a proxy that resolves each of `names` to its address (other
    /// names through the system's resolver).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(names: &[(&str, IpAddr)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let names: Arc<HashMap<String, IpAddr>> =
            Arc::new(names.iter().map(|(name, ip)| (name.to_ascii_lowercase(), *ip)).collect());
        let targets: Arc<Mutex<Vec<String>>> = Arc::default();
        let recorded = targets.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (names, recorded) = (names.clone(), recorded.clone());
                tokio::spawn(async move {
                    let _ = relay(stream, &names, &recorded).await;
                });
            }
        });
        Self { addr, targets }
    }

    /// The proxy's URL, `http://127.0.0.1:{port}`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The target (`host:port`) of every connection so far, in order.
    #[must_use]
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many connections went to `host` (any port).
    #[must_use]
    pub fn count(&self, host: &str) -> usize {
        self.targets()
            .iter()
            .filter(|target| target.rsplit_once(':').is_some_and(|(h, _)| h.eq_ignore_ascii_case(host)))
            .count()
    }
}

/// Serves one client connection: reads its head, connects to the target,
/// and copies bytes both ways.
async fn relay(
    mut client: TcpStream,
    names: &HashMap<String, IpAddr>,
    recorded: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0_u8; 4096];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > MAX_HEAD {
            return client.write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n").await;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let first = text.lines().next().unwrap_or_default().to_owned();
    let mut parts = first.split_whitespace();
    let (method, target, version) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (authority, forwarded) = if method.eq_ignore_ascii_case("CONNECT") {
        (target.to_owned(), None)
    } else if let Some(rest) = target.strip_prefix("http://") {
        // Absolute form: forward in origin form, the rest of the head as is.
        let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
        let rest_of_head = &text[first.len()..];
        let mut forwarded = format!("{method} {path} {version}{rest_of_head}").into_bytes();
        forwarded.extend_from_slice(&head[end..]);
        let authority = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
        (authority, Some(forwarded))
    } else {
        return client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
    };
    recorded.lock().unwrap_or_else(PoisonError::into_inner).push(authority.clone());
    let Some((host, port)) = authority.rsplit_once(':') else {
        return client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
    };
    let port: u16 = port.parse().unwrap_or(0);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let upstream = match names.get(&host.to_ascii_lowercase()) {
        Some(ip) => TcpStream::connect((*ip, port)).await,
        None => TcpStream::connect((host, port)).await,
    };
    let Ok(mut upstream) = upstream else {
        return client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
    };
    match forwarded {
        None => {
            client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await?;
            // Bytes the client sent after the head (the TLS hello, early).
            upstream.write_all(&head[end..]).await?;
        }
        Some(request) => upstream.write_all(&request).await?,
    }
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await.map(|_| ())
}
