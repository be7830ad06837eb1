//! # clock: where Tessera reads the time
//!
//! Every decision that depends on the wall-clock time (a token's `exp`,
//! `nbf` and `iat`, a DPoP proof's `iat` window and nonce window, the age of
//! a cache entry, a rate limit's refill) reads it from a [`Clock`], handed to
//! the code that decides. Production wires [`SystemClock`]; tests wire a
//! `ManualClock` (feature `testing`) and move it.
//!
//! `Instant::now()` for measuring elapsed time and timeouts is not a clock
//! in this sense and stays where it is.
//!
//! ```
//! use clock::{Clock, SystemClock};
//!
//! let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(SystemClock);
//! assert!(clock.unix_seconds() > 1_700_000_000);
//! ```

use std::fmt::Debug;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where time is read from. Shared as `Arc<dyn Clock>`.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time in whole seconds since the Unix epoch, as JWT
    /// `NumericDate`s count them (RFC 7519 §2); `0` before the epoch.
    fn unix_seconds(&self) -> u64 {
        unix_seconds(self.now())
    }
}

/// `time` in whole seconds since the Unix epoch, as JWT `NumericDate`s count
/// them (RFC 7519 §2); `0` for a time before the epoch.
#[must_use]
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

/// The system's wall clock: [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to, for tests of expiry, windows,
/// caches and rate limits. Share it as `Arc<ManualClock>`: the test keeps
/// one handle to move it, the code under test reads another.
#[cfg(feature = "testing")]
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<SystemTime>,
}

#[cfg(feature = "testing")]
impl ManualClock {
    /// A clock showing the current system time, from then on moved by hand.
    #[must_use]
    pub fn starting_now() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A clock showing `time`, from then on moved by hand.
    #[must_use]
    pub fn starting_at(time: SystemTime) -> Self {
        Self { now: std::sync::Mutex::new(time) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.lock() += by;
    }

    /// Sets the clock to `time`, forward or back.
    pub fn set(&self, time: SystemTime) {
        *self.lock() = time;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SystemTime> {
        self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(feature = "testing")]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.lock()
    }
}

#[cfg(test)]
mod tests;
