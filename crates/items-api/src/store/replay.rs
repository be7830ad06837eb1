//! DPoP proofs remembered in PostgreSQL, shared by every instance of the API
//! on the database (RFC 9449 §11.1: a proof accepted at one instance is a
//! replay at all of them).
//!
//! Each accepted proof is one row of `dpop_replays` — its key's thumbprint,
//! the SHA-256 of its `jti` (fixed size, and no client text kept), and when
//! it may be forgotten — written in one round trip: `INSERT … ON CONFLICT DO
//! NOTHING`, where no row written means the proof was seen before. The table
//! is `UNLOGGED` (migration `dpop_replays`): no write-ahead log per request;
//! a crash empties it, which reopens the proofs of the last window only, and
//! those are bounded by the `iat` window anyway.
//!
//! A background task sweeps expired rows every half window (between 1 and 30
//! seconds), at most [`SWEEP_BATCH`] rows per statement and
//! [`MAX_BATCHES_PER_SWEEP`] statements per sweep, so the table holds about
//! one window and a half of proofs and no sweep holds the table long. It ends
//! when the last handle on the store is dropped.

use std::sync::Arc;
use std::time::Duration;

use clock::Clock;
use sha2::{Digest as _, Sha256};
use sqlx::postgres::PgPool;

use super::{Pool, Store, StoreError};
use crate::dpop::replay::{Remembering, ReplayFailure, ReplayStore};

/// One proof taken, or nothing written for one seen before.
const INSERT: &str = "INSERT INTO dpop_replays (jkt, jti_hash, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// At most `$2` expired rows forgotten.
const SWEEP: &str = "DELETE FROM dpop_replays WHERE ctid = ANY(ARRAY(\
                     SELECT ctid FROM dpop_replays WHERE expires_at < $1 LIMIT $2))";

/// The most rows one sweeping statement deletes.
pub const SWEEP_BATCH: i64 = 5_000;
/// The most sweeping statements of one sweep (the rest waits for the next).
pub const MAX_BATCHES_PER_SWEEP: usize = 20;

/// The proofs taken by every instance on one PostgreSQL database. Cloning
/// shares the pool and the sweeper.
#[derive(Clone)]
pub struct DatabaseReplays {
    pool: PgPool,
    /// Seconds a proof taken now is remembered.
    window: u64,
    clock: Arc<dyn Clock>,
    /// Stops the sweeper when the last clone is dropped.
    _sweeper: Arc<Sweeper>,
}

impl std::fmt::Debug for DatabaseReplays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseReplays").field("window", &self.window).finish_non_exhaustive()
    }
}

/// The sweeping task, aborted when dropped.
struct Sweeper(tokio::task::AbortHandle);

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Store {
    /// DPoP proofs remembered in this database for `window` each (a proof's
    /// greatest age and the clock skew allowed), timed by `clock`, with
    /// expired ones swept in the background; `None` for SQLite, whose one
    /// process keeps its own cache. Starts the sweeper: call it inside a
    /// Tokio runtime.
    #[must_use]
    pub fn database_replays(&self, window: Duration, clock: Arc<dyn Clock>) -> Option<DatabaseReplays> {
        let Pool::Postgres(pool) = &self.pool else { return None };
        Some(DatabaseReplays::start(pool.clone(), window.as_secs().max(1), clock))
    }
}

impl DatabaseReplays {
    fn start(pool: PgPool, window: u64, clock: Arc<dyn Clock>) -> Self {
        let period = sweep_period(window);
        let task = tokio::spawn(sweep_forever(pool.clone(), clock.clone(), period));
        Self { pool, window, clock, _sweeper: Arc::new(Sweeper(task.abort_handle())) }
    }

    /// How often expired proofs are swept.
    #[must_use]
    pub fn sweep_period(&self) -> Duration {
        sweep_period(self.window)
    }

    /// Forgets expired proofs now (what the sweeper does): how many.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn sweep(&self) -> Result<u64, StoreError> {
        sweep(&self.pool, self.clock.unix_seconds()).await
    }
}

/// Half the window, between 1 and 30 seconds.
fn sweep_period(window: u64) -> Duration {
    Duration::from_secs((window / 2).clamp(1, 30))
}

async fn sweep_forever(pool: PgPool, clock: Arc<dyn Clock>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sweep(&pool, clock.unix_seconds()).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::debug!(forgotten, "expired DPoP proofs swept"),
            Err(error) => tracing::warn!(error = ?error, "could not sweep expired DPoP proofs; trying again later"),
        }
    }
}

/// Deletes proofs expired before `now`, [`SWEEP_BATCH`] at a time, at most
/// [`MAX_BATCHES_PER_SWEEP`] times.
async fn sweep(pool: &PgPool, now: u64) -> Result<u64, StoreError> {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let mut forgotten = 0;
    for _ in 0..MAX_BATCHES_PER_SWEEP {
        let deleted = sqlx::query(SWEEP).bind(now).bind(SWEEP_BATCH).execute(pool).await?.rows_affected();
        forgotten += deleted;
        if deleted < SWEEP_BATCH.unsigned_abs() {
            break;
        }
    }
    Ok(forgotten)
}

impl ReplayStore for DatabaseReplays {
    fn remember<'a>(&'a self, jkt: &'a str, jti: &'a str, now: u64) -> Remembering<'a> {
        Box::pin(async move {
            let expires_at = i64::try_from(now.saturating_add(self.window)).unwrap_or(i64::MAX);
            let jti_hash = Sha256::digest(jti.as_bytes()).to_vec();
            let written = sqlx::query(INSERT)
                .bind(jkt)
                .bind(jti_hash)
                .bind(expires_at)
                .execute(&self.pool)
                .await
                .map_err(|e| ReplayFailure::Unavailable(StoreError::Database(e)))?
                .rows_affected();
            if written == 0 { Err(ReplayFailure::Refused(dpop::ReplayError::Replayed)) } else { Ok(()) }
        })
    }
}
