use super::*;

#[test]
fn prices_are_exact_cents_with_two_decimals_at_most() {
    let price: Price = serde_json::from_str("12.5").unwrap();
    assert_eq!(price.cents(), 1250);
    assert_eq!(serde_json::to_string(&price).unwrap(), "12.5");
    assert_eq!(serde_json::from_str::<Price>("0.1").unwrap().cents(), 10);
    assert_eq!(serde_json::from_str::<Price>("19.99").unwrap().cents(), 1999);
    assert!(serde_json::from_str::<Price>("1.001").is_err());
    assert!(serde_json::from_str::<Price>("-1").is_err());
    assert!(serde_json::from_str::<Price>("1e12").is_err());
    assert!(serde_json::from_str::<Price>("\"5\"").is_err());
}

#[test]
fn new_items_are_normalised_or_refused_by_field() {
    let item = NewItem {
        name: "  Lamp ".into(),
        description: String::new(),
        price: Price::default(),
        tags: vec!["Home".into(), "home".into(), "desk-1".into()],
    };
    let item = item.validated().unwrap();
    assert_eq!(item.name, "Lamp");
    assert_eq!(item.tags, ["home", "desk-1"]);
    let empty = NewItem { name: " ".into(), description: String::new(), price: Price::default(), tags: vec![] };
    assert_eq!(empty.validated().unwrap_err().field, "name");
    let bad_tag = NewItem {
        name: "x".into(),
        description: String::new(),
        price: Price::default(),
        tags: vec!["no spaces".into()],
    };
    assert_eq!(bad_tag.validated().unwrap_err().field, "tags");
    let long = ItemPatch { description: Some("x".repeat(2001)), ..ItemPatch::default() };
    assert_eq!(long.validated().unwrap_err().field, "description");
}

#[test]
fn cursors_round_trip_and_refuse_forgeries() {
    let cursor = Cursor { created_at_micros: 1_700_000_000_000_000, id: "0192f0c1-7a2b-7cde-8f01-23456789abcd".into() };
    assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    for bad in ["", "!!", "bm90LWEtY3Vyc29y", &URL_SAFE_NO_PAD.encode("1.x' OR 1=1 --"), &"a".repeat(300)] {
        assert!(Cursor::decode(bad).is_err(), "{bad}");
    }
}
