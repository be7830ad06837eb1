use super::SystemBrowser;

fn browser(vars: &[(&str, &str)]) -> SystemBrowser {
    SystemBrowser::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
}

#[test]
fn no_display_and_no_browser_is_said_on_linux_and_the_bsds() {
    let headless = browser(&[]).unavailable();
    if !crate::platform::OPENER_NEEDS_DISPLAY {
        assert_eq!(headless, None, "the platform opener needs no display");
    } else {
        assert_eq!(headless, Some("no display"));
        // Set but empty is unset.
        assert_eq!(browser(&[("DISPLAY", ""), ("WAYLAND_DISPLAY", " ")]).unavailable(), Some("no display"));
    }
    for vars in [&[("DISPLAY", ":0")][..], &[("WAYLAND_DISPLAY", "wayland-0")], &[("BROWSER", "w3m")]] {
        assert_eq!(browser(vars).unavailable(), None, "{vars:?}");
    }
    assert_eq!(SystemBrowser::with_browser_var(None).unavailable(), None, "not known: try");
}
