//! The page the browser comes back to after signing out at the provider
//! (OIDC RP-Initiated Logout 1.0 §3: the provider redirects to the
//! `post_logout_redirect_uri` the app sent, which it must have registered).
//! When that URI is a loopback one, Tessera serves a small "You are signed
//! out" page there itself, once, on the exact path, for a short while —
//! the same rules as the sign-in's listener.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;
use url::Url;

use super::error::SigninError;
use super::loopback::{READ_TIMEOUT, RequestHead, read_head, respond, respond_page, split_target};

/// A listener for the browser's return after a sign-out, bound before the
/// browser is sent to the provider.
#[derive(Debug)]
pub struct SignedOutPage {
    listener: TcpListener,
    path: String,
}

impl SignedOutPage {
    /// Listens where `uri` points, when it is a loopback URL with a port
    /// (`http://127.0.0.1:8765/signed-out`); `Ok(None)` for any other URI
    /// (a custom scheme is the app's to handle).
    ///
    /// # Errors
    /// [`SigninError::PortInUse`] or [`SigninError::Bind`].
    pub async fn bind(uri: &Url) -> Result<Option<Self>, SigninError> {
        let ip = match uri.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
            _ => return Ok(None),
        };
        let (Some(port), "http") = (uri.port(), uri.scheme()) else { return Ok(None) };
        let addr = SocketAddr::new(ip, port);
        let listener = TcpListener::bind(addr).await.map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => SigninError::PortInUse { ip, port, source },
            _ => SigninError::Bind { addr, source },
        })?;
        Ok(Some(Self { listener, path: uri.path().to_owned() }))
    }

    /// Answers the browser's `GET` on the exact path with a page saying the
    /// person is signed out of `issuer` (other requests get a 404 and the
    /// wait goes on), for at most `timeout`. Answers whether the browser
    /// came.
    pub async fn serve(self, issuer: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            let accepted = tokio::select! {
                () = &mut deadline => return false,
                accepted = self.listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else { continue };
            let Ok(Some(RequestHead { mut stream, method, target })) =
                tokio::time::timeout(READ_TIMEOUT, read_head(stream)).await
            else {
                continue;
            };
            match split_target(&target) {
                Some((path, _)) if path == self.path && method == "GET" => {
                    let text = format!("You are signed out of {issuer}.");
                    let next = "Return to Tessera to sign in again. You can close this tab.";
                    respond_page(&mut stream, 200, "Signed out", &text, next).await;
                    return true;
                }
                _ => respond(&mut stream, 404, "Not found", "Nothing here.").await,
            }
        }
    }
}
