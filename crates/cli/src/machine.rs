//! `tessera login --client-credentials`: a service signs in with its own
//! identity (the sign-in core's `Session::sign_in_machine`). The client
//! secret is read once, from stdin (a pipe, a file) or, at a terminal,
//! asked for without echo; never from a command-line argument, which other
//! users of the machine can read in `ps`.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use oauth2::{ClientId, ClientSecret};
use signin::Session;
use signin::flow::config::split_scopes;
use signin::session::{MachineCredential, MachineSignIn};

use crate::commands::progress;
use crate::exit::{Exit, Failure};
use crate::output;

/// What `login --client-credentials` was given.
pub struct MachineLogin {
    /// `--client-id` (else the configured client id).
    pub client_id: Option<String>,
    /// `--private-key`.
    pub private_key: Option<PathBuf>,
    /// `--scope` (else the configured service scopes).
    pub scope: Option<String>,
}

/// Signs the service in and says how its credential is kept.
///
/// # Errors
/// A secret that could not be read, or the session's error.
pub async fn login(session: &Session, profile: &str, given: MachineLogin, json: bool) -> Result<(), Failure> {
    let config = session.config();
    let client_id = ClientId::new(given.client_id.unwrap_or_else(|| config.client_id.to_string()));
    let scopes = given.scope.map_or_else(|| config.service_scopes(), |scope| split_scopes(&scope));
    let keyed = given.private_key.is_some();
    let credential = match given.private_key {
        Some(path) => MachineCredential::PrivateKey(path),
        None => MachineCredential::Secret(read_secret(&client_id)?),
    };
    let signed_in = session.sign_in_machine(MachineSignIn { client_id, credential, scopes }).await?;
    let account = &signed_in.account;
    let kept = if keyed {
        "it signs with its private key, whose path is remembered"
    } else {
        "its client secret is kept in the token store"
    };
    let label = output::account_label(account, &session.accounts());
    progress(&format!("Signed in as the service {label}; {kept}."));
    if json {
        output::json(&output::account_json(account, profile, true))?;
    }
    Ok(())
}

/// The client secret: one line of stdin when it is not a terminal, else
/// asked for at the terminal without echo.
fn read_secret(client_id: &ClientId) -> Result<ClientSecret, Failure> {
    let secret = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Client secret of {}: ", client_id.as_str()))
            .map_err(|error| Failure::new(Exit::Error, format!("cannot read the client secret: {error}")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| Failure::new(Exit::Error, format!("cannot read the client secret from stdin: {error}")))?;
        line
    };
    let secret = secret.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(Failure::new(Exit::Usage, "no client secret was given").with_hint(
            "give the service's client secret on stdin (e.g. `tessera login --client-credentials < secret-file`), \
             or sign it in with --private-key PATH",
        ));
    }
    Ok(ClientSecret::new(secret.to_owned()))
}
