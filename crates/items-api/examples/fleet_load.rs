//! The load generator of `bench/fleet.sh`: DPoP requests to one or more
//! instances of the items API, a fresh proof each, the instances taken in
//! turn.
//!
//! ```sh
//! cargo run --release -p tessera-items-api --example fleet_load -- <issuer> <seconds> <clients> <url>...
//! ```
//!
//! Each of `<clients>` concurrent clients gets a client-credentials token
//! bound to a DPoP key of its own from `<issuer>` (a dev-idp: its items-api
//! client and demo secret), then sends `GET <url>/v1/items` for `<seconds>`,
//! alternating the `<url>`s (client `c`'s `n`-th request goes to URL
//! `(c + n) mod count`), each with a proof made just before it (RFC 9449
//! §4.2; its signing is timed too, as a client's cost) and the API's nonce
//! when it asks for one (a `use_dpop_nonce` answer is retried once, counted
//! apart). It prints one line of JSON on stdout: requests answered 200,
//! other answers, nonce asks, seconds, requests per second, p50 and p99 in
//! milliseconds. Any answer but 200 (after a nonce ask) makes the exit code
//! 1: numbers of refusals would not measure the work.
//!
//! A benchmark tool: tokens stay in memory, nothing is written to files.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dpop::DpopKey;
use serde_json::Value;
use url::Url;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A client-credentials token bound to `key` (the issuer's nonce asked for
/// and given once).
async fn bound_token(http: &reqwest::Client, issuer: &str, key: &DpopKey) -> Result<String, BoxError> {
    let url = Url::parse(&format!("{issuer}/v1/token"))?;
    let mut nonce: Option<String> = None;
    loop {
        let proof = key.proof("POST", &url, None, nonce.as_deref(), now())?;
        let response = http
            .post(url.clone())
            .basic_auth(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET))
            .header("DPoP", proof)
            .form(&[("grant_type", "client_credentials"), ("scope", "items:read")])
            .send()
            .await?;
        let fresh = response.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body: Value = response.json().await?;
        if body["error"] == "use_dpop_nonce" && nonce.is_none() {
            nonce = fresh;
            continue;
        }
        return body["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no access token from the issuer: {}", body["error"]).into());
    }
}

/// What one client counted.
#[derive(Default)]
struct Tally {
    /// Microseconds each answered request took (proof included).
    latencies: Vec<u32>,
    errors: u64,
    nonce_asks: u64,
}

async fn client(
    index: usize,
    http: reqwest::Client,
    (key, token): (DpopKey, String),
    urls: Arc<[Url]>,
    until: Instant,
) -> Result<Tally, BoxError> {
    let authorization = format!("DPoP {token}");
    let mut tally = Tally::default();
    let mut nonce: Option<String> = None;
    let mut n = index;
    while Instant::now() < until {
        let url = &urls[n % urls.len()];
        n += 1;
        let started = Instant::now();
        let mut asked = false;
        loop {
            let proof = key.proof("GET", url, Some(&token), nonce.as_deref(), now())?;
            let response =
                http.get(url.clone()).header("authorization", &authorization).header("DPoP", proof).send().await?;
            let status = response.status();
            if let Some(fresh) = response.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()) {
                nonce = Some(fresh.to_owned());
            }
            let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("");
            let use_nonce = status == reqwest::StatusCode::UNAUTHORIZED && challenge.contains("use_dpop_nonce");
            let _ = response.bytes().await?;
            if use_nonce && !asked {
                asked = true;
                tally.nonce_asks += 1;
                continue;
            }
            if status == reqwest::StatusCode::OK {
                let micros = started.elapsed().as_micros();
                tally.latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
            } else {
                tally.errors += 1;
            }
            break;
        }
    }
    Ok(tally)
}

/// The `q`-th quantile of sorted `values`, in milliseconds.
fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[index]) / 1000.0
}

async fn run(issuer: String, seconds: u64, clients: usize, urls: Vec<Url>) -> Result<Value, BoxError> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let urls: Arc<[Url]> = urls.into();
    // Keys and tokens first (not timed), then every client starts at once.
    let mut credentials = Vec::with_capacity(clients);
    for _ in 0..clients {
        let key = DpopKey::generate()?;
        let token = bound_token(&http, &issuer, &key).await?;
        credentials.push((key, token));
    }
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = credentials
        .into_iter()
        .enumerate()
        .map(|(index, credential)| tokio::spawn(client(index, http.clone(), credential, urls.clone(), until)))
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await??;
        all.latencies.extend(tally.latencies);
        all.errors += tally.errors;
        all.nonce_asks += tally.nonce_asks;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.latencies.sort_unstable();
    #[allow(clippy::cast_precision_loss)]
    let rps = all.latencies.len() as f64 / elapsed;
    Ok(serde_json::json!({
        "requests": all.latencies.len(),
        "errors": all.errors,
        "nonce_asks": all.nonce_asks,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "rps": rps.round(),
        "p50_ms": (quantile_ms(&all.latencies, 0.50) * 100.0).round() / 100.0,
        "p99_ms": (quantile_ms(&all.latencies, 0.99) * 100.0).round() / 100.0,
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [issuer, seconds, clients, urls @ ..] if !urls.is_empty() => {
            let urls: Result<Vec<Url>, _> =
                urls.iter().map(|base| Url::parse(&format!("{}/v1/items", base.trim_end_matches('/')))).collect();
            match (seconds.parse::<u64>(), clients.parse::<usize>(), urls) {
                (Ok(seconds), Ok(clients), Ok(urls)) if clients > 0 => {
                    Some((issuer.trim_end_matches('/').to_owned(), seconds, clients, urls))
                }
                _ => None,
            }
        }
        _ => None,
    };
    let Some((issuer, seconds, clients, urls)) = parsed else {
        eprintln!("usage: fleet_load <issuer> <seconds> <clients> <url>...");
        return ExitCode::from(2);
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BoxError::from)
        .and_then(|runtime| runtime.block_on(run(issuer, seconds, clients, urls)));
    match result {
        Ok(report) => {
            let failed = report["errors"].as_u64() != Some(0);
            // The whole point of this tool: the report, alone, on stdout.
            #[allow(clippy::print_stdout)]
            {
                println!("{report}");
            }
            if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(error) => {
            eprintln!("fleet_load: {error}");
            ExitCode::FAILURE
        }
    }
}
