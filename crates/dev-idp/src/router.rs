//! The router: every endpoint the provider serves, over one [`Provider`],
//! with the layers that guard them all (body size, `Host`, `nosniff`,
//! logging). The handlers depend on the provider's state; the state knows
//! nothing of them.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::host::{AllowedHosts, check_host};
use crate::provider::Provider;
use crate::{authorize, device, endpoints, rate_limit, token};

/// Requests larger than this are refused before they are parsed.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything the provider serves: the authorization server under
/// `/oauth2/{id}/` (the org server: discovery at the origin, the rest under
/// `/oauth2/`) and the device verification page at `/activate`; with the
/// `testing` feature only, the admin call `POST /admin/rotate-keys` (it has
/// no credentials: a shipped provider rotates keys on SIGHUP instead).
///
/// Requests addressed to another host than the issuer's (or a loopback name
/// at its port) are refused with 421, a request without `Host` with 400: a
/// web page that rebinds its own name to 127.0.0.1 cannot reach the provider.
pub fn router(provider: Provider) -> Router {
    let base = provider.config().base_path();
    let at = |path: &str| format!("{base}{path}");
    // Discovery is under the issuer: the origin for the org server.
    let issuer_path = provider.config().issuer_path();
    let metadata = |path: &str| format!("{issuer_path}{path}");
    let hosts = Arc::new(AllowedHosts::for_issuer(provider.issuer()));
    let routes = Router::new()
        .route(&metadata("/.well-known/openid-configuration"), get(endpoints::discovery))
        .route(&metadata("/.well-known/oauth-authorization-server"), get(endpoints::discovery))
        .route(&at("/v1/authorize"), get(authorize::authorize_get).post(authorize::authorize_post))
        .route(&at("/sign-in"), post(authorize::sign_in))
        .route(&at("/consent"), post(authorize::consent))
        .route(&at("/v1/par"), post(authorize::push))
        .route(&at("/v1/token"), post(token::token))
        .route(&at("/v1/keys"), get(endpoints::keys))
        .route(&at("/v1/userinfo"), get(endpoints::userinfo).post(endpoints::userinfo))
        .route(&at("/v1/introspect"), post(endpoints::introspect))
        .route(&at("/v1/revoke"), post(endpoints::revoke))
        .route(&at("/v1/logout"), get(endpoints::logout_get).post(endpoints::logout_post))
        .route(&at("/v1/device/authorize"), post(device::device_authorization))
        .route("/activate", get(device::activate_page).post(device::activate_submit));
    #[cfg(feature = "testing")]
    let routes = routes.route("/admin/rotate-keys", post(endpoints::rotate_keys));
    routes
        .layer(axum::middleware::from_fn_with_state(provider.clone(), rate_limit::limit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(axum::middleware::from_fn_with_state(hosts, check_host))
        // Log method and path only: query strings carry ID tokens (logout) and
        // other values that do not belong in logs.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(provider)
}
