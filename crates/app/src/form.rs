//! The settings screen's model: what a screen shows of the settings in use
//! and the file it saves, in the app's terms. The desktop's IPC types only
//! rename these fields for the webview.

use signin::flow::config::{DEFAULT_PROMPT, DEFAULT_SCOPES, RedirectKind, SigninConfig};
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
            prompt: config.prompt.clone().unwrap_or_default(),
            items_api: if configured { items_api.to_string() } else { DEFAULT_ITEMS_API.to_owned() },
            dpop: configured && config.dpop,
        }
    }

    /// The file the screen saves for these values; `deep_link` is the
    /// app's deep-link redirect (e.g. `com.example.tessera:/callback`).
    #[must_use]
    pub fn to_file(&self, deep_link: &str) -> ConfigFile {
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
                RedirectChoice::Loopback => None,
                RedirectChoice::DeepLink => Some(deep_link.to_owned()),
            },
            // An empty prompt is saved as such: it means "send none".
            prompt: Some(self.prompt.trim().to_owned()).filter(|p| p != DEFAULT_PROMPT),
            items_api_url: non_empty(&self.items_api),
            timeout_secs: None,
            http_timeout_secs: None,
            // Off is the default: only "on" is written out.
            dpop: self.dpop.then_some(true),
        }
    }
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
        let file = form.to_file("com.example.tessera:/callback");
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
        assert_eq!(Field::of_setting("timeout_secs"), None);
        assert_eq!(env_overrides(|name| (name == "OKTA_DOMAIN").then(|| "x".to_owned())), ["OKTA_DOMAIN"]);
    }
}
