//! Data on stdout: aligned tables for people, JSON for programs.

use std::io::Write as _;
use std::time::Duration;

use items_client::Item;
use serde_json::{Value, json};
use signin::accounts::Account;

/// Writes `text` and a newline on stdout. A closed pipe (`tessera … | head`)
/// is not an error.
pub fn line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes a JSON value (pretty) on stdout.
pub fn json(value: &Value) -> std::io::Result<()> {
    line(&serde_json::to_string_pretty(value).map_err(std::io::Error::other)?)
}

/// Formats rows as columns separated by two spaces, the first row being the header.
#[must_use]
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut cells = Vec::new();
        for (c, cell) in row.iter().enumerate() {
            let last = c + 1 == row.len();
            cells.push(if last { cell.clone() } else { format!("{cell:<width$}", width = widths[c]) });
        }
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text.pop();
    text
}

/// Items as a table: id, name, price, tags.
#[must_use]
pub fn items_table(items: &[Item]) -> String {
    let mut rows = vec![vec!["ID".to_owned(), "NAME".to_owned(), "PRICE".to_owned(), "TAGS".to_owned()]];
    rows.extend(items.iter().map(|i| vec![i.id.clone(), i.name.clone(), format!("{:.2}", i.price), i.tags.join(",")]));
    table(&rows)
}

/// One item, field by field.
#[must_use]
pub fn item_details(item: &Item) -> String {
    table(&[
        vec!["id".to_owned(), item.id.clone()],
        vec!["name".to_owned(), item.name.clone()],
        vec!["price".to_owned(), format!("{:.2}", item.price)],
        vec!["description".to_owned(), item.description.clone()],
        vec!["tags".to_owned(), item.tags.join(", ")],
        vec!["owner".to_owned(), item.owner.clone()],
        vec!["created".to_owned(), item.created_at.clone()],
        vec!["updated".to_owned(), item.updated_at.clone()],
    ])
}

/// An account as JSON (non-secret facts only).
#[must_use]
pub fn account_json(account: &Account, profile: &str, active: bool) -> Value {
    json!({
        "id": account.id(),
        "active": active,
        "profile": profile,
        "subject": account.key.subject,
        "issuer": account.key.issuer,
        "client_id": account.key.client_id,
        "name": account.identity.name,
        "email": account.identity.email,
        "username": account.identity.preferred_username,
        "needs_sign_in": account.needs_sign_in,
        "service": account.service.is_some(),
        "last_used": account.last_used,
    })
}

/// An account as people know it: its email (else login, name, subject),
/// with its id only when another of `accounts` goes by the same name (the
/// same email at two issuers, or for two apps): the id then tells them
/// apart, for `--account` and `accounts use`.
#[must_use]
pub fn account_label(account: &Account, accounts: &[Account]) -> String {
    let name = account.display_name();
    let twin = accounts.iter().any(|other| other.key != account.key && other.display_name().eq_ignore_ascii_case(name));
    if twin { format!("{name} ({})", account.id()) } else { name.to_owned() }
}

/// A duration as people say it, rounded down: `45 s`, `59 min`,
/// `3 h 20 min`, `2 d 5 h`.
#[must_use]
pub fn duration_in_words(duration: Duration) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let seconds = duration.as_secs();
    let (big, small) = match seconds {
        0..MINUTE => return format!("{seconds} s"),
        MINUTE..HOUR => return format!("{} min", seconds / MINUTE),
        HOUR..DAY => ((seconds / HOUR, "h"), (seconds % HOUR / MINUTE, "min")),
        _ => ((seconds / DAY, "d"), (seconds % DAY / HOUR, "h")),
    };
    match small {
        (0, _) => format!("{} {}", big.0, big.1),
        (n, unit) => format!("{} {} {n} {unit}", big.0, big.1),
    }
}

/// Accounts as a table: active marker, name (with the id only to tell two
/// of the same name apart), profile, issuer, status.
#[must_use]
pub fn accounts_table(accounts: &[Account], profiles: &[String], active: Option<&Account>) -> String {
    let header = ["", "ACCOUNT", "PROFILE", "ISSUER", "STATUS"];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    rows.extend(accounts.iter().zip(profiles).map(|(a, profile)| {
        let is_active = active.is_some_and(|act| act.key == a.key);
        vec![
            if is_active { "*".to_owned() } else { String::new() },
            account_label(a, accounts),
            profile.clone(),
            a.key.issuer.clone(),
            match (a.needs_sign_in, a.service.is_some()) {
                (true, _) => "needs sign-in".to_owned(),
                (false, true) => "service".to_owned(),
                (false, false) => "signed in".to_owned(),
            },
        ]
    }));
    table(&rows)
}

#[cfg(test)]
mod tests;
