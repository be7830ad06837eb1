use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

#[test]
fn unix_seconds_counts_whole_seconds_and_clamps_before_the_epoch() {
    assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(1_999)), 1);
    assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), 0);
}

#[test]
fn the_system_clock_reads_the_system_time() {
    let before = SystemTime::now();
    let read = SystemClock.now();
    let after = SystemTime::now();
    assert!(before <= read && read <= after);
    assert!(SystemClock.unix_seconds() >= unix_seconds(before));
}

#[cfg(feature = "testing")]
mod manual {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn moves_only_when_told_to() {
        let start = UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = ManualClock::starting_at(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(61));
        assert_eq!(clock.unix_seconds(), 1_061);
        clock.set(start - Duration::from_secs(1));
        assert_eq!(clock.unix_seconds(), 999);
    }

    #[test]
    fn starts_at_the_system_time() {
        let before = SystemTime::now();
        let clock = ManualClock::starting_now();
        assert!(clock.now() >= before && clock.now() <= SystemTime::now());
    }

    #[test]
    fn a_shared_handle_sees_the_moves() {
        let clock = Arc::new(ManualClock::starting_at(UNIX_EPOCH));
        let reader: Arc<dyn Clock> = clock.clone();
        clock.advance(Duration::from_secs(30));
        assert_eq!(reader.unix_seconds(), 30);
    }
}
