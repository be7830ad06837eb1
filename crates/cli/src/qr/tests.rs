#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::render;

/// The modules of a rendered code, `true` for a dark one: a half block in
/// the text's colour is a light module (the code is drawn for a dark
/// terminal background).
fn modules(rendered: &str) -> Vec<Vec<bool>> {
    let mut rows = Vec::new();
    for line in rendered.lines() {
        let (mut top, mut bottom) = (Vec::new(), Vec::new());
        for c in line.chars() {
            let (t, b) = match c {
                ' ' => (false, false),
                '▀' => (true, false),
                '▄' => (false, true),
                '█' => (true, true),
                other => panic!("not a half block: {other:?}"),
            };
            top.push(!t);
            bottom.push(!b);
        }
        rows.push(top);
        rows.push(bottom);
    }
    rows
}

/// Decodes the rendered code as a phone's camera would see the screen.
fn decode(rendered: &str) -> String {
    let modules = modules(rendered);
    const SCALE: usize = 6;
    let (width, height) = (modules[0].len() * SCALE, modules.len() * SCALE);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let dark = modules[y / SCALE].get(x / SCALE).copied().unwrap_or(false);
        if dark { 0 } else { 255 }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the picture");
    grids[0].decode().expect("the code decodes").1
}

#[test]
fn a_verification_url_renders_as_half_blocks_that_decode_back() {
    let url = "https://dev-123456.okta.com/activate?user_code=WDJB-MJHT";
    let rendered = render(url).expect("a URL fits");
    assert!(rendered.chars().all(|c| matches!(c, ' ' | '▀' | '▄' | '█' | '\n')), "{rendered}");
    assert_eq!(decode(&rendered), url);
    // With the quiet zone: the first line is all light modules.
    assert!(rendered.lines().next().unwrap().chars().all(|c| c == '█'), "{rendered}");
    // Small enough for a terminal: a line per two module rows.
    assert!(rendered.lines().count() <= 25, "{rendered}");
}

#[test]
fn text_too_long_for_a_qr_code_renders_nothing() {
    assert_eq!(render(&"x".repeat(8000)), None);
}
