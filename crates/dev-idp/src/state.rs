//! The provider's in-memory state: browser sessions, unfinished sign-ins,
//! codes, grants with their refresh-token families, issued access tokens and
//! device authorizations. One mutex guards it all; no lock is held across an
//! `.await`.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

/// A random, URL-safe, 256-bit value for codes, tokens and ids.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How codes and refresh tokens are kept: only their SHA-256.
pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A person signed in to the provider in one browser.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user_id: String,
    pub(crate) auth_time: SystemTime,
    pub(crate) expires_at: SystemTime,
}

/// Parsed `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Prompt {
    pub(crate) none: bool,
    pub(crate) login: bool,
    pub(crate) consent: bool,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    /// The redirect URI as sent; the token request must repeat it.
    pub(crate) redirect_uri: url::Url,
    pub(crate) scopes: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    /// The thumbprint of the DPoP key the code is bound to (RFC 9449 §10):
    /// from `dpop_jkt`, or from the proof sent with a pushed request.
    pub(crate) dpop_jkt: Option<String>,
    pub(crate) prompt: Prompt,
    pub(crate) max_age: Option<u64>,
    pub(crate) login_hint: Option<String>,
}

/// An authorization request waiting for the person (sign-in form, consent).
#[derive(Debug, Clone)]
pub(crate) struct Interaction {
    pub(crate) request: AuthRequest,
    pub(crate) expires_at: SystemTime,
    /// The person signed in during this interaction (satisfies `prompt=login`
    /// and `max_age`).
    pub(crate) signed_in_here: bool,
    /// The person consented during this interaction (satisfies `prompt=consent`).
    pub(crate) consented_here: bool,
    /// The person found for this interaction, once known.
    pub(crate) user_id: Option<String>,
}

/// A pushed authorization request (RFC 9126), waiting for the browser to
/// bring its `request_uri` to the authorization endpoint once.
#[derive(Debug, Clone)]
pub(crate) struct PushedRequest {
    pub(crate) request: AuthRequest,
    pub(crate) expires_at: SystemTime,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) request: AuthRequest,
    pub(crate) user_id: String,
    pub(crate) auth_time: SystemTime,
    pub(crate) expires_at: SystemTime,
    /// Set at the first exchange: the grant it created (revoked on reuse).
    pub(crate) redeemed: Option<Redemption>,
}

/// The outcome of a code's first exchange attempt.
#[derive(Debug, Clone)]
pub(crate) enum Redemption {
    /// The exchange failed; nothing was issued.
    Failed,
    /// Tokens were issued under this grant.
    Granted(String),
}

/// A grant: what one authorization (code, device, client credentials)
/// allowed, and the family of refresh tokens and access tokens it issued.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) client_id: String,
    /// `None` for client credentials.
    pub(crate) user_id: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) auth_time: Option<SystemTime>,
    pub(crate) revoked: bool,
    /// The DPoP key the grant's tokens are bound to (RFC 9449 §5: its
    /// refresh tokens need a proof from that key).
    pub(crate) jkt: Option<String>,
}

/// A refresh token (kept by hash).
#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub(crate) grant_id: String,
    pub(crate) issued_at: SystemTime,
    pub(crate) expires_at: SystemTime,
    /// When it was exchanged for a successor (rotation).
    pub(crate) rotated_at: Option<SystemTime>,
    pub(crate) revoked: bool,
}

/// An access token the provider issued (by `jti`).
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) grant_id: String,
    pub(crate) expires_at: SystemTime,
    pub(crate) revoked: bool,
}

/// The state of a device authorization (RFC 8628).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved { user_id: String, auth_time: SystemTime },
    Denied,
}

/// A device authorization, kept by the hash of its device code.
#[derive(Debug, Clone)]
pub(crate) struct DeviceAuthorization {
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) user_code: String,
    pub(crate) expires_at: SystemTime,
    pub(crate) interval: Duration,
    pub(crate) last_poll: Option<SystemTime>,
    pub(crate) status: DeviceStatus,
}

/// Everything the provider remembers.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) interactions: HashMap<String, Interaction>,
    /// Pushed authorization requests, by the SHA-256 of their `request_uri`.
    pub(crate) pushed: HashMap<String, PushedRequest>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) grants: HashMap<String, Grant>,
    pub(crate) refresh_tokens: HashMap<String, RefreshToken>,
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    pub(crate) devices: HashMap<String, DeviceAuthorization>,
    /// Scopes each person granted each client: (user id, client id).
    pub(crate) consents: HashMap<(String, String), BTreeSet<String>>,
}

/// Past this many entries in a table, expired entries are swept on insert.
const SWEEP_ABOVE: usize = 1024;

impl State {
    /// Revokes a grant, its refresh tokens and its access tokens.
    pub(crate) fn revoke_grant(&mut self, grant_id: &str) {
        if let Some(grant) = self.grants.get_mut(grant_id) {
            grant.revoked = true;
        }
        for token in self.refresh_tokens.values_mut().filter(|t| t.grant_id == grant_id) {
            token.revoked = true;
        }
        for token in self.access_tokens.values_mut().filter(|t| t.grant_id == grant_id) {
            token.revoked = true;
        }
    }

    /// Whether the person already granted all of `scopes` to the client.
    pub(crate) fn has_consent(&self, user_id: &str, client_id: &str, scopes: &[String]) -> bool {
        self.consents
            .get(&(user_id.to_owned(), client_id.to_owned()))
            .is_some_and(|granted| scopes.iter().all(|s| granted.contains(s)))
    }

    pub(crate) fn record_consent(&mut self, user_id: &str, client_id: &str, scopes: &[String]) {
        self.consents.entry((user_id.to_owned(), client_id.to_owned())).or_default().extend(scopes.iter().cloned());
    }

    /// Drops what has expired, when tables grow large.
    pub(crate) fn sweep(&mut self, now: SystemTime) {
        if self.sessions.len() > SWEEP_ABOVE {
            self.sessions.retain(|_, s| s.expires_at > now);
        }
        if self.interactions.len() > SWEEP_ABOVE {
            self.interactions.retain(|_, i| i.expires_at > now);
        }
        if self.pushed.len() > SWEEP_ABOVE {
            self.pushed.retain(|_, p| p.expires_at > now);
        }
        if self.codes.len() > SWEEP_ABOVE {
            self.codes.retain(|_, c| c.expires_at > now);
        }
        if self.access_tokens.len() > SWEEP_ABOVE {
            self.access_tokens.retain(|_, t| t.expires_at > now);
        }
        if self.refresh_tokens.len() > SWEEP_ABOVE {
            self.refresh_tokens.retain(|_, t| t.expires_at > now);
        }
        if self.devices.len() > SWEEP_ABOVE {
            self.devices.retain(|_, d| d.expires_at > now);
        }
    }
}
