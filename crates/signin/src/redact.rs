//! Keeps tokens out of log files.
//!
//! Nothing Tessera logs carries a token by design (the core logs account
//! ids, schemes and paths). Log files are still read by people and attached
//! to bug reports, so everything written to one goes through [`redact`]
//! first: a last line of defence against a library or a future change that
//! logs a URL with a code in it, a header, or a token response.

use std::borrow::Cow;
use std::io::Write;
use std::sync::LazyLock;

use regex::Regex;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// JWTs (ID tokens, access tokens, signed requests): three base64url parts,
/// the first a JSON header (`eyJ` = `{"`).
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*").unwrap_or_else(|_| unreachable!())
});

/// Secret parameters in a query, a form, a JSON object or a `name: value`
/// line, a `code` in a query, form or JSON, and credentials in an
/// `Authorization` header; the name and separator are kept.
static PARAMETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)(\b(?:access_token|refresh_token|id_token|device_code|code_verifier|client_secret|password|token|assertion)"#,
        r#""?\s*[:=]\s*"?)([^\s"&,;}]+)"#,
        r#"|(\bcode(?:=|"\s*:\s*"))([^\s"&,;}]+)"#,
        r#"|(\b(?:bearer|dpop|basic)\s+)([A-Za-z0-9._~+/=-]{8,})"#,
    ))
    .unwrap_or_else(|_| unreachable!())
});

/// `text` with every token, code, secret and credential replaced by
/// [`REDACTED`]; borrowed unchanged when there is none.
#[must_use]
pub fn redact(text: &str) -> Cow<'_, str> {
    let text = JWT.replace_all(text, REDACTED);
    if !PARAMETER.is_match(&text) {
        return text;
    }
    let redacted = PARAMETER.replace_all(&text, |caps: &regex::Captures<'_>| {
        let name = caps.get(1).or_else(|| caps.get(3)).or_else(|| caps.get(5)).map_or("", |m| m.as_str());
        format!("{name}{REDACTED}")
    });
    Cow::Owned(redacted.into_owned())
}

/// A writer that redacts what it is given before passing it on. Each
/// `write` must hold whole lines (as a log formatter writes one event at a
/// time), or a token split across two writes would go through.
#[derive(Debug)]
pub struct RedactingWriter<W>(pub W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT_SAMPLE: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz";

    #[test]
    fn plain_lines_pass_unchanged_and_unallocated() {
        let line = "2026-11-24T10:00:00Z INFO signed in account=acct-1 scheme=com.example.tessera path=/callback";
        assert!(matches!(redact(line), Cow::Borrowed(l) if l == line));
    }

    #[test]
    fn jwts_are_removed_wherever_they_are() {
        let line = format!("token response {{\"id_token\":\"{JWT_SAMPLE}\"}} and {JWT_SAMPLE}.");
        let out = redact(&line);
        assert!(!out.contains("eyJ"), "{out}");
        assert!(out.contains("id_token\":\"[redacted]"), "{out}");
    }

    #[test]
    fn secret_parameters_in_urls_forms_and_json_lose_their_values() {
        let cases = [
            ("GET /callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz", "code=[redacted]&state=xyz"),
            ("grant_type=refresh_token&refresh_token=8xLOxBtZp8&client_id=c", "refresh_token=[redacted]&client_id=c"),
            ("{\"access_token\": \"2YotnFZFEjr1zCsicMWpAA\", \"expires_in\": 300}", "\"access_token\": \"[redacted]\""),
            ("code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "code_verifier=[redacted]"),
            ("client_secret: s3cr3t-value", "client_secret: [redacted]"),
            ("password=alice-demo-pw username=alice", "password=[redacted] username=alice"),
        ];
        for (line, expected) in cases {
            let out = redact(line);
            assert!(out.contains(expected), "{line} → {out}");
        }
        assert!(!redact(cases[0].0).contains("SplxlOBeZQQYbYS6WxSbIA"));
    }

    #[test]
    fn credentials_in_authorization_headers_are_removed() {
        for scheme in ["Bearer", "DPoP", "Basic", "bearer"] {
            let line = format!("authorization: {scheme} mF_9.B5f-4.1JqM_opaque_token");
            let out = redact(&line);
            assert_eq!(out, format!("authorization: {scheme} [redacted]"));
        }
    }

    #[test]
    fn words_that_only_look_like_names_are_kept() {
        // No value after the name: nothing to hide, nothing changed.
        let line = "the refresh token was rotated; the code flow finished, exit code: 7, status_code=200";
        assert_eq!(redact(line), line);
    }

    #[test]
    fn the_writer_redacts_what_goes_through_it() {
        let mut out = RedactingWriter(Vec::new());
        let line = format!("INFO exchanged code=abc123def for {JWT_SAMPLE}\n");
        let written = out.write(line.as_bytes()).unwrap();
        assert_eq!(written, line.len(), "the caller sees its whole line taken");
        let text = String::from_utf8(out.0).unwrap();
        assert_eq!(text, "INFO exchanged code=[redacted] for [redacted]\n");
    }
}
