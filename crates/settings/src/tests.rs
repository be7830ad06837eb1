use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Environment<impl Fn(&str) -> Option<String>> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Environment::new(move |name| map.get(name).cloned())
}

#[test]
fn the_environment_wins_over_the_file_and_blank_is_unset() {
    let env = env(&[("A", "7"), ("B", "  "), ("C", "x")]);
    assert_eq!(env.layer("A", Some(1), parse::number).unwrap(), Some(7));
    assert_eq!(env.layer("B", Some(1), parse::number).unwrap(), Some(1), "blank counts as unset");
    assert_eq!(env.layer("D", None, parse::number).unwrap(), None);
    let error = env.layer("C", Some(1), parse::number).unwrap_err();
    assert_eq!(error.setting, "C");
    assert!(error.to_string().starts_with("C: "), "{error}");
    assert!(!env.is_set("B") && env.is_set("A"));
}

#[test]
fn the_shared_kinds_parse() {
    assert_eq!(parse::flag(" Yes "), Ok(true));
    assert_eq!(parse::flag("off"), Ok(false));
    assert!(parse::flag("maybe").is_err());
    assert_eq!(parse::seconds("30"), Ok(30));
    assert!(parse::seconds("soon").unwrap_err().contains("seconds"));
    assert!(parse::positive_seconds(0).is_err());
    assert_eq!(parse::socket_addr("127.0.0.1:1").unwrap().port(), 1);
    assert!(parse::url("::").is_err());
    assert!(parse::is_loopback_ip(&parse::url("http://127.1.2.3").unwrap()));
    assert!(!parse::is_loopback_ip(&parse::url("http://localhost").unwrap()));
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    port: Option<u16>,
}

#[test]
fn a_missing_file_is_none_and_a_bad_one_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    assert!(read_toml::<File>(&path).unwrap().is_none());
    std::fs::write(&path, "port = 1\n").unwrap();
    assert_eq!(read_toml::<File>(&path).unwrap().unwrap().port, Some(1));
    std::fs::write(&path, "prot = 1\n").unwrap();
    let error = read_toml::<File>(&path).unwrap_err();
    assert!(matches!(error, FileError::Parse { .. }) && error.to_string().contains("settings.toml"), "{error}");
}
