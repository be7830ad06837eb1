use super::plan;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn signs_in_first_and_splits_at_then() {
    assert_eq!(
        plan(&words("items add --name a --price 1 --then items list")),
        vec![words("login"), words("items add --name a --price 1"), words("items list")]
    );
    assert_eq!(plan(&words("login --add --then token")), vec![words("login --add"), words("token")]);
    assert_eq!(plan(&[]), vec![words("login"), words("whoami"), words("items list")]);
}
