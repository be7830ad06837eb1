//! Several instances of the items API on one PostgreSQL database act as one
//! for DPoP (issue 22): a proof accepted at one is a replay at the others
//! (RFC 9449 §11.1; `DPOP_REPLAY=database`, PostgreSQL's default), a nonce
//! handed out by one is taken by the others when they share
//! `DPOP_NONCE_KEY` (§9), each keeps serving while another restarts, and
//! the table of remembered proofs is swept as their windows end.
//!
//! Each instance is the `tessera-items-api` program, started as an operator
//! would, on 127.0.0.1; dev-idp issues DPoP-bound client-credentials tokens
//! and each request carries a fresh proof made with `dpop`'s client side.
//! Both instances list both URLs in `PUBLIC_URL`, as instances behind one
//! load balancer share its URL: a proof sent to one may be sent to the other.
//!
//! The PostgreSQL tests need a server at `TEST_DATABASE_URL` (`export
//! TEST_DATABASE_URL=$(scripts/postgres.sh | tail -1)`); without it they print
//! "skipped" and pass, unless `TESSERA_REQUIRE_POSTGRES=1`, which makes them
//! fail. The settings' refusals need no database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/postgres.rs"]
mod postgres_db;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dpop::DpopKey;
use items_api::config::ReplayPlace;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{Connection as _, Executor as _};
use testkit::within;
use url::Url;

/// How long an instance may take to answer `/healthz` after it starts.
const START_LIMIT: Duration = Duration::from_secs(30);

/// A fresh database on the test server, or `None` when there is none (and
/// none is required).
async fn fresh_database(test: &str) -> Option<String> {
    postgres_db::fresh_database("fleet", &format!("fleet::{test}")).await
}

/// A loopback address nothing listens on (free when asked).
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// A new random nonce key, as `openssl rand -base64 32` makes one.
fn new_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
}

/// One `tessera-items-api` process; killed when dropped.
struct Instance {
    addr: SocketAddr,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Instance {
    /// The program listening on `addr` over `database`, trusting `issuer`'s
    /// tokens, taking proofs that name any of `public` (the fleet's URLs),
    /// with the `extra` settings; logging to a file in `dir`.
    async fn start(
        dir: &Path,
        issuer: &str,
        database: &str,
        addr: SocketAddr,
        public: &[SocketAddr],
        extra: &[(&str, &str)],
    ) -> Self {
        let public = public.iter().map(|addr| format!("http://{addr}")).collect::<Vec<_>>().join(",");
        let mut env: Vec<(String, String)> = vec![
            ("OKTA_ISSUER".into(), issuer.into()),
            ("DATABASE_URL".into(), database.into()),
            ("PUBLIC_URL".into(), public),
            ("BIND".into(), addr.to_string()),
        ];
        env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let log = dir.join(format!("items-api-{}.log", addr.port()));
        let mut instance = Self { addr, env, log, child: None };
        instance.restart().await;
        instance
    }

    /// Starts the program again (after [`Instance::stop`]), with the same
    /// settings and address, and waits until `/healthz` answers.
    async fn restart(&mut self) {
        assert!(self.child.is_none(), "the instance at {} is running", self.addr);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera-items-api"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        self.child = Some(command.spawn().expect("the items API starts"));
        let http = testkit::http_without_redirects();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the items API at {} stopped ({status}):\n{}", self.addr, self.log());
            }
            let health = http.get(format!("http://{}/healthz", self.addr)).timeout(Duration::from_secs(2)).send().await;
            if health.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                return;
            }
            assert!(
                started.elapsed() < START_LIMIT,
                "/healthz at {} within {START_LIMIT:?}:\n{}",
                self.addr,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the program (a kill: as a crash or a pod's end would).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What the program logged.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn items_url(&self) -> Url {
        Url::parse(&format!("http://{}/v1/items", self.addr)).unwrap()
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A client-credentials token from dev-idp bound to `key` (dev-idp's nonce
/// asked for and given).
async fn bound_token(idp: &dev_idp::DevIdp, key: &DpopKey) -> String {
    let url = Url::parse(&format!("{}/v1/token", idp.issuer())).unwrap();
    let http = testkit::http_without_redirects();
    let mut nonce: Option<String> = None;
    loop {
        let proof = key.proof("POST", &url, None, nonce.as_deref(), idp.provider().now_unix()).unwrap();
        let response = http
            .post(url.clone())
            .basic_auth(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET))
            .header("DPoP", proof)
            .form(&[("grant_type", "client_credentials"), ("scope", "items:read items:write")])
            .send()
            .await
            .unwrap();
        let fresh = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        if body["error"] == "use_dpop_nonce" && nonce.is_none() {
            nonce = fresh;
            continue;
        }
        assert_eq!(body["token_type"], "DPoP", "{body}");
        return body["access_token"].as_str().unwrap().to_owned();
    }
}

/// A client of the fleet: one key, its bound token.
struct Client {
    key: DpopKey,
    token: String,
    http: reqwest::Client,
}

/// What an answer looked like.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    /// `error` of a refusal.
    error: String,
    /// The challenge's text.
    challenge: String,
    /// `DPoP-Nonce`, when handed out.
    nonce: Option<String>,
}

impl Client {
    async fn new(idp: &dev_idp::DevIdp) -> Self {
        let key = DpopKey::generate().unwrap();
        let token = bound_token(idp, &key).await;
        Self { key, token, http: testkit::http_without_redirects() }
    }

    /// A fresh proof for `GET url`, with `nonce` when given.
    fn proof(&self, url: &Url, nonce: Option<&str>) -> String {
        self.key.proof("GET", url, Some(&self.token), nonce, now()).unwrap()
    }

    /// `GET /v1/items` at `at` with `proof`.
    async fn send(&self, at: &Instance, proof: &str) -> Answer {
        let response = self
            .http
            .get(at.items_url())
            .header("authorization", format!("DPoP {}", self.token))
            .header("DPoP", proof)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let (challenge, nonce) = (header("www-authenticate").unwrap_or_default(), header("dpop-nonce"));
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Answer { status, error: body["error"].as_str().unwrap_or_default().to_owned(), challenge, nonce }
    }

    /// `GET /v1/items` at `at` with a fresh proof naming `at`'s own URL.
    async fn get(&self, at: &Instance, nonce: Option<&str>) -> Answer {
        self.send(at, &self.proof(&at.items_url(), nonce)).await
    }
}

fn taken(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{what}: {answer:?}");
}

fn replayed(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: {answer:?}");
    assert_eq!(answer.error, "invalid_dpop_proof", "{what}: {answer:?}");
    assert!(answer.challenge.contains("this DPoP proof was already used"), "{what}: {answer:?}");
}

fn asked_for_nonce(answer: &Answer, what: &str) -> String {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: {answer:?}");
    assert_eq!(answer.error, "use_dpop_nonce", "{what}: {answer:?}");
    answer.nonce.clone().unwrap_or_else(|| panic!("{what}: no DPoP-Nonce: {answer:?}"))
}

async fn start_idp() -> dev_idp::DevIdp {
    within("dev-idp starting", dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() })).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_accepted_at_one_instance_is_a_replay_at_the_other() {
    let Some(database) = fresh_database("a_proof_accepted_at_one_instance_is_a_replay_at_the_other").await else {
        return;
    };
    let idp = start_idp().await;
    let dir = tempfile::tempdir().unwrap();
    let (a_addr, b_addr) = (free_addr(), free_addr());
    let both = [a_addr, b_addr];
    let a = Instance::start(dir.path(), idp.issuer(), &database, a_addr, &both, &[]).await;
    let b = Instance::start(dir.path(), idp.issuer(), &database, b_addr, &both, &[]).await;
    let client = Client::new(&idp).await;

    let proof = client.proof(&a.items_url(), None);
    taken(&client.send(&a, &proof).await, "a new proof at A");
    replayed(&client.send(&b, &proof).await, "A's proof again at B");
    replayed(&client.send(&a, &proof).await, "A's proof again at A");
    // Proofs are told apart by key and jti: another proof is new everywhere.
    taken(&client.get(&b, None).await, "a new proof at B");
    let other = Client::new(&idp).await;
    taken(&other.get(&a, None).await, "another client's proof at A");
    assert!(a.log().contains("remembered in the database"), "{}", a.log());

    // The control: the same fleet remembering proofs each in its own memory
    // takes the proof once more at the other instance.
    let (c_addr, d_addr) = (free_addr(), free_addr());
    let memory = [("DPOP_REPLAY", "memory")];
    let c = Instance::start(dir.path(), idp.issuer(), &database, c_addr, &[c_addr, d_addr], &memory).await;
    let d = Instance::start(dir.path(), idp.issuer(), &database, d_addr, &[c_addr, d_addr], &memory).await;
    let proof = client.proof(&c.items_url(), None);
    taken(&client.send(&c, &proof).await, "a new proof at C");
    replayed(&client.send(&c, &proof).await, "C's proof again at C (its own memory)");
    taken(&client.send(&d, &proof).await, "C's proof at D, which remembers its own proofs only");
    assert!(d.log().contains("DPOP_REPLAY=memory"), "the start-up warning: {}", d.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_handed_out_by_one_instance_is_taken_by_those_sharing_its_key() {
    let Some(database) = fresh_database("a_nonce_handed_out_by_one_instance_is_taken_by_those_sharing_its_key").await
    else {
        return;
    };
    let idp = start_idp().await;
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    // B reads the same key from a file, as a mounted secret holds it.
    let key_file = dir.path().join("nonce-key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let key_file = key_file.to_str().unwrap().to_owned();
    let other_key = new_key();
    let addrs = [free_addr(), free_addr(), free_addr(), free_addr()];
    let nonces = ("DPOP_NONCE_SECS", "60");
    let (issuer, dir_path) = (idp.issuer(), dir.path());
    let a = Instance::start(dir_path, issuer, &database, addrs[0], &addrs, &[nonces, ("DPOP_NONCE_KEY", &key)]).await;
    let b =
        Instance::start(dir_path, issuer, &database, addrs[1], &addrs, &[nonces, ("DPOP_NONCE_KEY_FILE", &key_file)])
            .await;
    let c =
        Instance::start(dir_path, issuer, &database, addrs[2], &addrs, &[nonces, ("DPOP_NONCE_KEY", &other_key)]).await;
    let d = Instance::start(dir_path, issuer, &database, addrs[3], &addrs, &[nonces]).await;
    let client = Client::new(&idp).await;

    let nonce = asked_for_nonce(&client.get(&a, None).await, "A without a nonce");
    let at_b = client.get(&b, Some(&nonce)).await;
    taken(&at_b, "A's nonce at B (the same key, from a file)");
    assert_eq!(at_b.nonce.as_deref(), Some(nonce.as_str()), "B hands out the nonce A did");
    taken(&client.get(&a, Some(&nonce)).await, "A's nonce at A");

    let at_c = client.get(&c, Some(&nonce)).await;
    let c_nonce = asked_for_nonce(&at_c, "A's nonce at C (another key)");
    assert_ne!(c_nonce, nonce, "C's nonces are its own");
    taken(&client.get(&c, Some(&c_nonce)).await, "C's nonce at C");
    asked_for_nonce(&client.get(&a, Some(&c_nonce)).await, "C's nonce at A");
    asked_for_nonce(&client.get(&d, Some(&nonce)).await, "A's nonce at D (a key of its own)");

    // The start-up notes: D says a fleet needs the key; none logs a key.
    assert!(d.log().contains("DPOP_NONCE_KEY") && d.log().contains("several instances"), "{}", d.log());
    assert!(!a.log().contains("several instances"), "{}", a.log());
    for instance in [&a, &b, &c, &d] {
        assert!(!instance.log().contains(&key), "a key in the log: {}", instance.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_keeps_working_while_the_other_restarts() {
    let Some(database) = fresh_database("each_instance_keeps_working_while_the_other_restarts").await else {
        return;
    };
    let idp = start_idp().await;
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let settings = [("DPOP_NONCE_SECS", "60"), ("DPOP_NONCE_KEY", key.as_str())];
    let (a_addr, b_addr) = (free_addr(), free_addr());
    let both = [a_addr, b_addr];
    let mut a = Instance::start(dir.path(), idp.issuer(), &database, a_addr, &both, &settings).await;
    let mut b = Instance::start(dir.path(), idp.issuer(), &database, b_addr, &both, &settings).await;
    let client = std::sync::Arc::new(Client::new(&idp).await);
    let nonce = asked_for_nonce(&client.get(&a, None).await, "A without a nonce");
    let at_b = client.proof(&b.items_url(), Some(&nonce));
    taken(&client.send(&b, &at_b).await, "a proof at B before it restarts");

    b.stop();
    for n in 0..5 {
        taken(&client.get(&a, Some(&nonce)).await, &format!("request {n} at A while B is down"));
    }
    // Requests to A all the while B starts again.
    let (restarted, answered) = tokio::join!(b.restart(), async {
        let mut answered = 0;
        for n in 0..20 {
            taken(&client.get(&a, Some(&nonce)).await, &format!("request {n} at A while B restarts"));
            answered += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        answered
    });
    let () = restarted;
    assert_eq!(answered, 20, "A answered every request while B restarted");
    replayed(&client.send(&b, &at_b).await, "B's proof from before its restart, at the new B");
    taken(&client.get(&b, Some(&nonce)).await, "A's nonce at the new B");

    a.stop();
    for n in 0..5 {
        taken(&client.get(&b, Some(&nonce)).await, &format!("request {n} at B while A is down"));
    }
    a.restart().await;
    taken(&client.get(&a, Some(&nonce)).await, "the restarted A");
    taken(&client.get(&b, Some(&nonce)).await, "B after A's restart");
}

/// Remembered proofs of `jkt` in `database`.
async fn remembered(database: &str, jkt: &str) -> i64 {
    let mut connection = sqlx::PgConnection::connect(database).await.unwrap();
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM dpop_replays WHERE jkt = $1")
        .bind(jkt)
        .fetch_one(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_table_stays_bounded_under_a_burst_of_proofs() {
    let Some(database) = fresh_database("the_replay_table_stays_bounded_under_a_burst_of_proofs").await else {
        return;
    };
    let idp = start_idp().await;
    let dir = tempfile::tempdir().unwrap();
    // Proofs live 2 s (+5 s of clock skew): a window of 7 s, swept every 3 s.
    let settings = [("DPOP_MAX_AGE_SECS", "2")];
    let (a_addr, b_addr) = (free_addr(), free_addr());
    let both = [a_addr, b_addr];
    let a = Instance::start(dir.path(), idp.issuer(), &database, a_addr, &both, &settings).await;
    let b = Instance::start(dir.path(), idp.issuer(), &database, b_addr, &both, &settings).await;
    let client = std::sync::Arc::new(Client::new(&idp).await);
    let jkt = client.key.thumbprint().to_owned();

    const SENDERS: usize = 4;
    const EACH: usize = 60;
    let instances = std::sync::Arc::new([a, b]);
    let burst = |round: usize| {
        let (client, instances) = (client.clone(), instances.clone());
        async move {
            let senders = (0..SENDERS).map(|sender| {
                let (client, instances) = (client.clone(), instances.clone());
                tokio::spawn(async move {
                    for n in 0..EACH {
                        let at = &instances[(sender + n) % 2];
                        taken(&client.get(at, None).await, &format!("round {round}, sender {sender}, proof {n}"));
                    }
                })
            });
            for sender in senders.collect::<Vec<_>>() {
                sender.await.unwrap();
            }
        }
    };
    let total = i64::try_from(SENDERS * EACH).unwrap();
    within("a burst of proofs", burst(1)).await;
    let count = remembered(&database, &jkt).await;
    // Some may have been swept already if the burst outlasted a window.
    assert!(count > 0 && count <= total, "{count} of {total} proofs remembered");

    // The sweeper forgets them once their window ends (7 s, then a sweep
    // within 3 s): the table does not grow with the traffic.
    let started = Instant::now();
    while remembered(&database, &jkt).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} proofs still remembered 30 s after the burst",
            remembered(&database, &jkt).await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // And again: each burst is forgotten in its turn.
    within("a second burst of proofs", burst(2)).await;
    let count = remembered(&database, &jkt).await;
    assert!(count > 0 && count <= total, "{count} of {total} proofs of the second burst remembered");
    let started = Instant::now();
    while remembered(&database, &jkt).await > 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the second burst still remembered after 30 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The database name in `url`.
fn database_name(url: &str) -> String {
    Url::parse(url).unwrap().path().trim_start_matches('/').to_owned()
}

/// Sets whether new sessions on `database` are read-only (as a standby is)
/// and ends the sessions open now, so that the API's pool reconnects.
async fn read_only(database: &str, on: bool) {
    let name = database_name(database);
    let mut connection = sqlx::PgConnection::connect(database).await.unwrap();
    let setting = if on {
        format!("ALTER DATABASE {name} SET default_transaction_read_only = on")
    } else {
        format!("ALTER DATABASE {name} RESET default_transaction_read_only")
    };
    // This session may be read-only itself (when turning it off).
    connection.execute("SET default_transaction_read_only = off").await.unwrap();
    connection.execute(setting.as_str()).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .execute(&mut connection)
    .await
    .unwrap();
    connection.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_the_database_cannot_record_is_refused_for_now_never_taken_unchecked() {
    let Some(database) =
        fresh_database("a_proof_the_database_cannot_record_is_refused_for_now_never_taken_unchecked").await
    else {
        return;
    };
    let idp = start_idp().await;
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let a = Instance::start(dir.path(), idp.issuer(), &database, addr, &[addr], &[]).await;
    let client = Client::new(&idp).await;
    taken(&client.get(&a, None).await, "a proof while the database writes");

    // The database turns read-only (a failover, a full disk): the replay
    // check cannot write, so the request is answered 503, not served.
    read_only(&database, true).await;
    let proof = client.proof(&a.items_url(), None);
    let refused = client.send(&a, &proof).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{refused:?}");
    assert_eq!(refused.error, "temporarily_unavailable", "{refused:?}");
    assert!(a.log().contains("the DPoP replay store is unavailable"), "{}", a.log());

    // Back to writing: the same proof was not taken then, so it is now, once.
    read_only(&database, false).await;
    let mut answer = client.send(&a, &proof).await;
    for _ in 0..5 {
        if answer.status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        // A connection from before the switch, found closed: the pool reconnects.
        tokio::time::sleep(Duration::from_millis(200)).await;
        answer = client.send(&a, &proof).await;
    }
    taken(&answer, "the proof refused for now, once the database writes again");
    replayed(&client.send(&a, &proof).await, "the same proof again");
}

/// The settings of a PostgreSQL deployment, `pairs` over them.
fn load(pairs: &[(&str, &str)]) -> Result<items_api::Config, items_api::config::ConfigError> {
    let mut env: Vec<(String, String)> = vec![
        ("OKTA_ISSUER".into(), "https://dev-1.okta.com/oauth2/default".into()),
        ("DATABASE_URL".into(), "postgres://tessera:secret@127.0.0.1:5432/items".into()),
        ("PUBLIC_URL".into(), "https://items.example.com".into()),
    ];
    for (name, value) in pairs {
        env.retain(|(n, _)| n != name);
        env.push(((*name).to_owned(), (*value).to_owned()));
    }
    items_api::Config::load_with(None, |name| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
}

fn refused(pairs: &[(&str, &str)]) -> String {
    match load(pairs) {
        Ok(config) => panic!("{pairs:?} was taken: {config:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn dpop_replay_defaults_to_the_database_on_postgresql_and_refuses_what_cannot_be() {
    assert_eq!(load(&[]).unwrap().dpop_replay, ReplayPlace::Database);
    assert_eq!(load(&[("DPOP_REPLAY", "memory")]).unwrap().dpop_replay, ReplayPlace::Memory);
    assert_eq!(load(&[("DPOP_REPLAY", " Database ")]).unwrap().dpop_replay, ReplayPlace::Database);
    let sqlite = ("DATABASE_URL", "sqlite://items.db");
    assert_eq!(load(&[sqlite]).unwrap().dpop_replay, ReplayPlace::Memory);
    assert_eq!(load(&[sqlite, ("DPOP_REPLAY", "memory")]).unwrap().dpop_replay, ReplayPlace::Memory);

    let message = refused(&[sqlite, ("DPOP_REPLAY", "database")]);
    assert!(message.starts_with("DPOP_REPLAY: ") && message.contains("PostgreSQL"), "{message}");
    let message = refused(&[("DPOP_REPLAY", "redis")]);
    assert_eq!(message, "DPOP_REPLAY: \"redis\" is neither database nor memory");
}

#[test]
fn the_nonce_key_is_base64_of_32_bytes_or_more_from_the_setting_or_a_file_and_never_shown() {
    let key = new_key();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    std::fs::write(&file, format!("{key}\n")).unwrap();
    let file = file.to_str().unwrap();

    let from_setting = load(&[("DPOP_NONCE_KEY", &key)]).unwrap();
    let from_file = load(&[("DPOP_NONCE_KEY_FILE", file)]).unwrap();
    let (a, b) = (from_setting.dpop_nonce_key.as_ref().unwrap().bytes(), from_file.dpop_nonce_key.unwrap().bytes());
    assert_eq!(a, b, "the file's key (its newline ignored) is the setting's");
    assert!(load(&[]).unwrap().dpop_nonce_key.is_none(), "no key: each process makes its own");
    // Either base64 alphabet, padded or not; longer keys count whole.
    let bytes = [0xfb_u8; 48];
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let standard = base64::engine::general_purpose::STANDARD.encode(bytes);
    let (url_safe, standard) =
        (load(&[("DPOP_NONCE_KEY", &url_safe)]).unwrap(), load(&[("DPOP_NONCE_KEY", &standard)]).unwrap());
    assert_eq!(url_safe.dpop_nonce_key.unwrap().bytes(), standard.dpop_nonce_key.unwrap().bytes());
    let shown = format!("{from_setting:?}");
    assert!(!shown.contains(&key) && shown.contains("dpop_nonce_key: Some(\"[set]\")"), "{shown}");

    let short = base64::engine::general_purpose::STANDARD.encode([7_u8; 16]);
    let message = refused(&[("DPOP_NONCE_KEY", &short)]);
    assert!(message.starts_with("DPOP_NONCE_KEY: decodes to 16 bytes, fewer than 32"), "{message}");
    assert!(!message.contains(&short), "the key in the message: {message}");
    let message = refused(&[("DPOP_NONCE_KEY", "not base64 at all!")]);
    assert_eq!(message, "DPOP_NONCE_KEY: is not base64");
    // Blank is unset, as for every setting.
    assert!(load(&[("DPOP_NONCE_KEY", "  ")]).unwrap().dpop_nonce_key.is_none());
    let message = refused(&[("DPOP_NONCE_KEY", &key), ("DPOP_NONCE_KEY_FILE", file)]);
    assert!(message.contains("both set"), "{message}");

    let missing = dir.path().join("no-such-key");
    let message = refused(&[("DPOP_NONCE_KEY_FILE", missing.to_str().unwrap())]);
    assert!(
        message.starts_with("DPOP_NONCE_KEY_FILE: cannot read ") && message.contains(missing.to_str().unwrap()),
        "{message}"
    );
    let bad = dir.path().join("bad-key");
    std::fs::write(&bad, &short).unwrap();
    let message = refused(&[("DPOP_NONCE_KEY_FILE", bad.to_str().unwrap())]);
    assert!(message.contains(bad.to_str().unwrap()) && message.contains("16 bytes"), "{message}");
    assert!(!message.contains(&short), "the file's key in the message: {message}");
    std::fs::write(&bad, "\n").unwrap();
    let message = refused(&[("DPOP_NONCE_KEY_FILE", bad.to_str().unwrap())]);
    assert_eq!(message, format!("DPOP_NONCE_KEY_FILE: the key in {} is empty", bad.display()));
}
