use super::table;

#[test]
fn columns_are_aligned_and_lines_not_padded() {
    let text = table(&[
        vec!["ID".into(), "NAME".into(), "TAGS".into()],
        vec!["1".into(), "a long name".into(), String::new()],
        vec!["22".into(), "x".into(), "t".into()],
    ]);
    assert_eq!(text, "ID  NAME         TAGS\n1   a long name\n22  x            t");
}
