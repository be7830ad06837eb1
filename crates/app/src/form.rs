//! The settings screen's model: what a screen shows of the settings in use
//! and the file it saves, in the app's terms. The desktop's IPC types only
//! rename these fields for the webview.

use signin::flow::config::{DEFAULT_PROMPT, DEFAULT_SCOPES, LoopbackPorts, RedirectKind, SigninConfig};
use url::Url;

use crate::settings::{ConfigFile, DEFAULT_ITEMS_API, ENV_NAMES, ProviderSource};

/// How the browser comes back to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectChoice {
    /// A loopback listener on 127.0.0.1 (RFC 8252 §7.3).
    Loopback,
    /// The app's private-use URI scheme (RFC 8252 §7.1).
    DeepLink,
}

impl RedirectChoice {
    /// The choice `config`'s redirect is.
    #[must_use]
    pub fn of(config: &SigninConfig) -> Self {
        match config.redirect {
            RedirectKind::Loopback { .. } => Self::Loopback,
            RedirectKind::Custom(_) => Self::DeepLink,
        }
    }
}

/// A field of the settings screen, to point at when a value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The issuer (or Okta domain).
    Issuer,
    /// The client id.
    ClientId,
    /// The scopes.
    Scopes,
    /// The redirect.
    Redirect,
    /// The loopback redirect's ports.
    LoopbackPorts,
    /// The prompt.
    Prompt,
    /// The items API.
    ItemsApi,
}

impl Field {
    /// The field a setting (file key or environment name) is edited in;
    /// `None` for a setting the screen does not show.
    #[must_use]
    pub fn of_setting(setting: &str) -> Option<Self> {
        Some(match setting {
            "issuer" | "okta_domain" => Self::Issuer,
            "client_id" | "CLIENT_ID" => Self::ClientId,
            "scopes" => Self::Scopes,
            "redirect_url" => Self::Redirect,
            "loopback_ports" => Self::LoopbackPorts,
            "items_api_url" => Self::ItemsApi,
            "prompt" => Self::Prompt,
            _ => return None,
        })
    }
}

/// The values of a settings screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// An issuer URL or a bare Okta domain (empty in the demo).
    pub issuer: String,
    /// The client id (empty in the demo).
    pub client_id: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Loopback or deep link.
    pub redirect: RedirectChoice,
    /// The loopback redirect's ports as a person wrote them (`8765 8766`,
    /// or `any`); empty: the default list. Saved with the loopback choice
    /// only.
    pub loopback_ports: String,
    /// The prompt for adding accounts (empty: none).
    pub prompt: String,
    /// The items API.
    pub items_api: String,
    /// Bind tokens to this device (DPoP) when the provider offers it.
    pub dpop: bool,
}

impl Form {
    /// What the screen shows for the settings in use (`config`, `items_api`)
    /// read from `source`: in the demo, no provider and the defaults, so
    /// that the demo's own values are never offered for saving.
    #[must_use]
    pub fn shown(config: &SigninConfig, items_api: &Url, source: ProviderSource) -> Self {
        let configured = source != ProviderSource::Demo;
        Self {
            issuer: if configured { config.issuer.to_string() } else { String::new() },
            client_id: if configured { config.client_id.to_string() } else { String::new() },
            scopes: if configured { config.scopes.join(" ") } else { DEFAULT_SCOPES.to_owned() },
            redirect: RedirectChoice::of(config),
            loopback_ports: match &config.redirect {
                RedirectKind::Loopback { ports, .. } if *ports != LoopbackPorts::default() => ports.to_string(),
                _ => String::new(),
            },
            prompt: config.prompt.clone().unwrap_or_default(),
            items_api: if configured { items_api.to_string() } else { DEFAULT_ITEMS_API.to_owned() },
            dpop: configured && config.dpop,
        }
    }

    /// The file the screen saves for these values; `deep_link` is the
    /// app's deep-link redirect (e.g. `com.example.tessera:/callback`).
    /// What the screen does not show is kept from `previous` (the file being
    /// replaced): the time limits, and a loopback `redirect_url`'s address
    /// and path (its port gives way to the ports field).
    #[must_use]
    pub fn to_file(&self, deep_link: &str, previous: &ConfigFile) -> ConfigFile {
        let issuer = self.issuer.trim();
        let (issuer, okta_domain) =
            if issuer.contains("://") { (Some(issuer.to_owned()), None) } else { (None, Some(issuer.to_owned())) };
        let non_empty = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        ConfigFile {
            okta_domain,
            issuer,
            client_id: Some(self.client_id.trim().to_owned()),
            scopes: non_empty(&self.scopes),
            redirect_url: match self.redirect {
                RedirectChoice::Loopback => previous.redirect_url.as_deref().and_then(loopback_without_port),
                RedirectChoice::DeepLink => Some(deep_link.to_owned()),
            },
            loopback_ports: match self.redirect {
                RedirectChoice::Loopback => non_empty(&self.loopback_ports),
                RedirectChoice::DeepLink => None,
            },
            // An empty prompt is saved as such: it means "send none".
            prompt: Some(self.prompt.trim().to_owned()).filter(|p| p != DEFAULT_PROMPT),
            items_api_url: non_empty(&self.items_api),
            timeout_secs: previous.timeout_secs,
            http_timeout_secs: previous.http_timeout_secs,
            // Off is the default: only "on" is written out.
            dpop: self.dpop.then_some(true),
            // Not on the screen: kept as written by hand.
            par: previous.par.clone(),
            post_logout_redirect_url: previous.post_logout_redirect_url.clone(),
            token_store: previous.token_store.clone(),
            ca_file: previous.ca_file.clone(),
            currency: previous.currency.clone(),
            profile: previous.profile.clone(),
            profiles: previous.profiles.clone(),
        }
    }
}

/// A loopback redirect URL (`http://…`) without its port; `None` for a
/// custom scheme or what is not a URL.
fn loopback_without_port(url: &str) -> Option<String> {
    let mut url = Url::parse(url.trim()).ok().filter(|u| u.scheme() == "http")?;
    url.set_port(None).ok()?;
    Some(url.to_string())
}

/// The environment variables `env` sets that override the file.
#[must_use]
pub fn env_overrides(env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    ENV_NAMES.iter().filter(|name| env(name).is_some()).map(|name| (*name).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn the_demo_shows_defaults_and_a_form_saves_what_differs() {
        let demo = Settings::demo();
        let shown = Form::shown(&demo.signin, &demo.items_api, ProviderSource::Demo);
        assert_eq!((shown.issuer.as_str(), shown.client_id.as_str()), ("", ""));
        assert_eq!(shown.scopes, DEFAULT_SCOPES);
        assert_eq!(shown.items_api, DEFAULT_ITEMS_API);
        let form = Form {
            issuer: " dev-1.okta.com ".into(),
            client_id: "0oa".into(),
            prompt: DEFAULT_PROMPT.into(),
            redirect: RedirectChoice::DeepLink,
            ..shown
        };
        let file = form.to_file("com.example.tessera:/callback", &ConfigFile::default());
        assert_eq!(file.okta_domain.as_deref(), Some("dev-1.okta.com"));
        assert_eq!(file.issuer, None);
        assert_eq!(file.prompt, None, "the default prompt is not written");
        assert_eq!(file.redirect_url.as_deref(), Some("com.example.tessera:/callback"));
        assert_eq!(file.dpop, None);
        let saved = Settings::from_file(&file).unwrap();
        let again = Form::shown(&saved.signin, &saved.items_api, ProviderSource::File);
        assert_eq!(again.issuer, "https://dev-1.okta.com/oauth2/default");
        assert_eq!(again.redirect, RedirectChoice::DeepLink);
    }

    #[test]
    fn refused_settings_point_at_their_field() {
        assert_eq!(Field::of_setting("okta_domain"), Some(Field::Issuer));
        assert_eq!(Field::of_setting("CLIENT_ID"), Some(Field::ClientId));
        assert_eq!(Field::of_setting("items_api_url"), Some(Field::ItemsApi));
        assert_eq!(Field::of_setting("loopback_ports"), Some(Field::LoopbackPorts));
        assert_eq!(Field::of_setting("timeout_secs"), None);
        assert_eq!(env_overrides(|name| (name == "OKTA_DOMAIN").then(|| "x".to_owned())), ["OKTA_DOMAIN"]);
    }

    /// Issue 16, item 2: ports written by hand are shown, saved, and kept
    /// when other fields are saved; the default list is shown as empty (the
    /// field's placeholder) and not written.
    #[test]
    fn loopback_ports_round_trip_through_the_file() {
        let previous = ConfigFile {
            okta_domain: Some("dev-1.okta.com".into()),
            redirect_url: Some("http://[::1]:8080/authorization-code/callback".into()),
            loopback_ports: Some("9001,9002".into()),
            timeout_secs: Some(60),
            ..ConfigFile::default()
        };
        let settings = Settings::from_file(&previous).unwrap();
        let shown = Form::shown(&settings.signin, &settings.items_api, ProviderSource::File);
        assert_eq!((shown.redirect, shown.loopback_ports.as_str()), (RedirectChoice::Loopback, "9001 9002"));
        // Another field changed: the ports, the address and path, and the
        // time limit stay.
        let form = Form { scopes: "openid items:read".into(), ..shown.clone() };
        let file = form.to_file("com.example.tessera:/callback", &previous);
        assert_eq!(file.loopback_ports.as_deref(), Some("9001 9002"));
        assert_eq!(file.redirect_url.as_deref(), Some("http://[::1]/authorization-code/callback"));
        assert_eq!(file.timeout_secs, Some(60));
        let text = toml::to_string(&file).unwrap();
        let read: ConfigFile = toml::from_str(&text).unwrap();
        assert_eq!(read, file, "{text}");
        let saved = Settings::from_file(&read).unwrap();
        assert_eq!(saved.signin.redirect, settings.signin.redirect, "the same redirect after saving");
        assert_eq!(Form::shown(&saved.signin, &saved.items_api, ProviderSource::File).loopback_ports, "9001 9002");

        // Emptied: the default list, not written; `any` is kept as written.
        for (written, saved_as, shown_as) in
            [("", None, ""), (" any ", Some("any"), "any"), ("8765 8766 8767", Some("8765 8766 8767"), "")]
        {
            let form = Form { loopback_ports: written.into(), ..shown.clone() };
            let file = form.to_file("com.example.tessera:/callback", &previous);
            assert_eq!(file.loopback_ports.as_deref(), saved_as, "{written:?}");
            let saved = Settings::from_file(&file).unwrap();
            let again = Form::shown(&saved.signin, &saved.items_api, ProviderSource::File);
            assert_eq!(again.loopback_ports, shown_as, "{written:?}");
        }
        // A port of the address's own is not kept: the field decides.
        let form = Form { loopback_ports: String::new(), ..shown.clone() };
        let saved = Settings::from_file(&form.to_file("x.y:/z", &previous)).unwrap();
        assert!(
            matches!(&saved.signin.redirect, RedirectKind::Loopback { ports, .. } if *ports == LoopbackPorts::default())
        );

        // The deep link saves no ports (a custom scheme has none) and keeps
        // the field's text out of the file; a bad list names its field.
        let form = Form { redirect: RedirectChoice::DeepLink, ..shown.clone() };
        let file = form.to_file("com.example.tessera:/callback", &previous);
        assert_eq!((file.loopback_ports, file.redirect_url.as_deref()), (None, Some("com.example.tessera:/callback")));
        let form = Form { loopback_ports: "80 eighty".into(), ..shown };
        let error = Settings::from_file(&form.to_file("x.y:/z", &previous)).unwrap_err();
        assert_eq!(error.setting().and_then(Field::of_setting), Some(Field::LoopbackPorts), "{error}");
    }
}
