//! The provider's notion of "now", an edge that tests can move.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the provider reads the time from.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to, for expiry tests.
#[cfg(feature = "testing")]
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<SystemTime>,
}

#[cfg(feature = "testing")]
impl ManualClock {
    /// Starts at the current system time.
    #[must_use]
    pub fn starting_now() -> Self {
        Self { now: std::sync::Mutex::new(SystemTime::now()) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

#[cfg(feature = "testing")]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Seconds since the Unix epoch, as JWT `NumericDate`s count (RFC 7519 §2).
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}
