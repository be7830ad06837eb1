//! Time limits for the waits in these tests: a broken check must fail a
//! test with a message, not hang it (issue 24, item 4). Same pattern as the
//! flow tests' `support::within`.

#![allow(dead_code)]

use std::future::Future;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long any one wait on a listener, a browser, the provider or a child
/// process may take before the test fails. Generous: CI machines are slow.
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Awaits `future`, failing the test with `what` if it takes longer than
/// [`WAIT_LIMIT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT_LIMIT, future).await.unwrap_or_else(|_| panic!("timed out after {WAIT_LIMIT:?}: {what}"))
}

/// An HTTP client for the tests' own requests, each bounded in time.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("an HTTP client")
}

/// Waits for `child` to exit, killing it and failing the test with `what`
/// after `limit`.
pub fn wait_child(child: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait on a child process") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {limit:?}: {what} (killed)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `command` to its end, as [`Command::output`] does (stdin empty,
/// stdout and stderr captured), killing it and
/// failing the test with `what` after `limit` (a keyring prompt waiting
/// forever, say).
pub fn output_within(command: &mut std::process::Command, what: &str, limit: Duration) -> std::process::Output {
    use std::io::Read as _;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let status = wait_child(&mut child, what, limit);
    std::process::Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// The first line `reader` gives, failing the test with `what` if none
/// comes within [`WAIT_LIMIT`].
pub fn first_line_within(reader: impl std::io::Read + Send + 'static, what: &str) -> String {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(reader).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(WAIT_LIMIT).unwrap_or_else(|_| panic!("timed out after {WAIT_LIMIT:?}: {what}"))
}
