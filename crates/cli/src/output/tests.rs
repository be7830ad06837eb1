use std::time::Duration;

use super::{duration_in_words, table};

#[test]
fn columns_are_aligned_and_lines_not_padded() {
    let text = table(&[
        vec!["ID".into(), "NAME".into(), "TAGS".into()],
        vec!["1".into(), "a long name".into(), String::new()],
        vec!["22".into(), "x".into(), "t".into()],
    ]);
    assert_eq!(text, "ID  NAME         TAGS\n1   a long name\n22  x            t");
}

#[test]
fn durations_read_as_people_say_them() {
    let cases = [
        (0, "0 s"),
        (45, "45 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (12_000, "3 h 20 min"),
        (86_399, "23 h 59 min"),
        (86_400, "1 d"),
        (2 * 86_400 + 5 * 3600 + 59, "2 d 5 h"),
    ];
    for (seconds, words) in cases {
        assert_eq!(duration_in_words(Duration::from_secs(seconds)), words, "{seconds} s");
    }
}
