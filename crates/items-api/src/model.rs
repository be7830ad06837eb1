//! The items API's data: items, their validation, and list queries with
//! opaque keyset cursors.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// Longest item name, in characters.
pub const MAX_NAME: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 2000;
/// Most tags on one item.
pub const MAX_TAGS: usize = 20;
/// Longest tag, in characters.
pub const MAX_TAG: usize = 40;
/// Highest price, in cents (10 million).
pub const MAX_PRICE_CENTS: i64 = 1_000_000_000;
/// Largest page.
pub const MAX_LIMIT: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 20;

/// A price in cents, exact. In JSON it is a number of currency units with at
/// most two decimals (`12.5`), never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Price(i64);

impl Price {
    /// A price from cents.
    ///
    /// # Errors
    /// When negative or above [`MAX_PRICE_CENTS`].
    pub fn from_cents(cents: i64) -> Result<Self, ValidationError> {
        if (0..=MAX_PRICE_CENTS).contains(&cents) {
            Ok(Self(cents))
        } else {
            Err(ValidationError::new("price", "must be between 0 and 10000000"))
        }
    }

    /// The price in cents.
    #[must_use]
    pub fn cents(self) -> i64 {
        self.0
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Cents up to 1e9 are exact in an f64 divided by 100 to two decimals.
        #[allow(clippy::cast_precision_loss)]
        let units = self.0 as f64 / 100.0;
        serializer.serialize_f64(units)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let units = f64::deserialize(deserializer)?;
        let cents = (units * 100.0).round();
        if !units.is_finite() || (units * 100.0 - cents).abs() > 1e-6 {
            return Err(serde::de::Error::custom("price must have at most two decimals"));
        }
        #[allow(clippy::cast_possible_truncation)]
        Self::from_cents(cents as i64).map_err(serde::de::Error::custom)
    }
}

/// An item, as stored and as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    /// A UUIDv7.
    pub id: String,
    /// Short name.
    pub name: String,
    /// Longer text (may be empty).
    pub description: String,
    /// Price in currency units, two decimals at most.
    #[schema(value_type = f64, example = 12.5)]
    pub price: Price,
    /// Lower-case tags.
    pub tags: Vec<String>,
    /// The owner's user id at its issuer ([`Owner::id`]: Okta's `uid`, else
    /// the token's `sub`). Items stored before owners had ids show the old
    /// `sub` until their owner's first request re-keys them.
    pub owner: String,
    /// When it was made (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When it last changed (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A new item, as posted.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// Short name (1–200 characters).
    pub name: String,
    /// Longer text (up to 2000 characters).
    #[serde(default)]
    pub description: String,
    /// Price in currency units.
    #[schema(value_type = f64, example = 12.5)]
    pub price: Price,
    /// Tags: up to 20, each 1–40 characters of `a-z 0-9 - _`, lower-cased.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Changes to an item; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price.
    #[schema(value_type = Option<f64>)]
    pub price: Option<Price>,
    /// New tags (replace the old ones).
    pub tags: Option<Vec<String>>,
}

/// A field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct ValidationError {
    /// The field.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl ValidationError {
    /// A problem with `field`.
    #[must_use]
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self { field, problem: problem.into() }
    }
}

fn check_name(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ValidationError::new("name", "must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

fn check_description(description: &str) -> Result<String, ValidationError> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ValidationError::new("description", "must be at most 2000 characters"));
    }
    Ok(description.to_owned())
}

/// Normalises one tag (trimmed, lower case) or refuses it.
///
/// # Errors
/// When empty, too long, or not `a-z 0-9 - _`.
pub fn check_tag(tag: &str) -> Result<String, ValidationError> {
    let tag = tag.trim().to_lowercase();
    let ok = !tag.is_empty()
        && tag.chars().count() <= MAX_TAG
        && tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok { Ok(tag) } else { Err(ValidationError::new("tags", "must be 1 to 40 characters of a-z, 0-9, - and _")) }
}

fn check_tags(tags: &[String]) -> Result<Vec<String>, ValidationError> {
    if tags.len() > MAX_TAGS {
        return Err(ValidationError::new("tags", "at most 20"));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = check_tag(tag)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

impl NewItem {
    /// Checks and normalises (trimmed name, lower-case unique tags).
    ///
    /// # Errors
    /// The first field that is not acceptable.
    pub fn validated(self) -> Result<Self, ValidationError> {
        Ok(Self {
            name: check_name(&self.name)?,
            description: check_description(&self.description)?,
            price: self.price,
            tags: check_tags(&self.tags)?,
        })
    }
}

impl ItemPatch {
    /// Checks and normalises the fields present.
    ///
    /// # Errors
    /// The first field that is not acceptable.
    pub fn validated(self) -> Result<Self, ValidationError> {
        Ok(Self {
            name: self.name.as_deref().map(check_name).transpose()?,
            description: self.description.as_deref().map(check_description).transpose()?,
            price: self.price,
            tags: self.tags.as_deref().map(check_tags).transpose()?,
        })
    }

    /// Whether the patch changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.price.is_none() && self.tags.is_none()
    }
}

/// Who owns items: a person (or client) as their issuer identifies them for
/// good. Okta's access tokens name the person's login in `sub` (on custom
/// authorization servers), which can be renamed or given to someone else
/// later; `uid` is the user id that never changes. So the owner is `uid`
/// when the token has one, else `sub` (a client acting for itself, or an
/// issuer whose `sub` is already immutable, as OIDC Core §2 asks of it),
/// scoped by the issuer that vouched for it (ids are unique per issuer only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner<'a> {
    /// The issuer, exactly as in its tokens.
    pub issuer: &'a str,
    /// The user id at that issuer.
    pub id: &'a str,
}

impl<'a> Owner<'a> {
    /// The owner a token's validated claims name: (`iss`, `uid` or else `sub`).
    #[must_use]
    pub fn of(claims: &'a crate::auth::Claims) -> Self {
        let id = claims.user_id.as_deref().filter(|uid| !uid.is_empty()).unwrap_or(&claims.subject);
        Self { issuer: &claims.issuer, id }
    }
}

/// Whose items a caller may see and change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility<'a> {
    /// Only the items of this owner.
    Owner(Owner<'a>),
    /// Every item (`items:admin`).
    All,
}

/// A position in a listing: the last item of the previous page. Items are
/// listed newest first by `(created_at, id)`, so pages stay stable while
/// items are added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// `created_at` of the last item, in microseconds since the epoch.
    pub created_at_micros: i64,
    /// `id` of the last item.
    pub id: String,
}

impl Cursor {
    /// The cursor after `item`.
    #[must_use]
    pub fn after(item: &Item) -> Self {
        Self { created_at_micros: micros(item.created_at), id: item.id.clone() }
    }

    /// The opaque form sent to clients.
    #[must_use]
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.created_at_micros, self.id))
    }

    /// Reads an opaque cursor.
    ///
    /// # Errors
    /// When it is not one this API made.
    pub fn decode(text: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("cursor", "is not a cursor from this API");
        if text.len() > 200 {
            return Err(bad());
        }
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (micros, id) = raw.split_once('.').ok_or_else(bad)?;
        let id_ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if !id_ok {
            return Err(bad());
        }
        Ok(Self { created_at_micros: micros.parse().map_err(|_| bad())?, id: id.to_owned() })
    }
}

/// Microseconds since the epoch.
#[must_use]
pub fn micros(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// The time `micros` microseconds after the epoch.
#[must_use]
pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: u32,
    /// Continue after this position.
    pub cursor: Option<Cursor>,
    /// Text to find in name or description (case-insensitive).
    pub q: Option<String>,
    /// Only items with this tag.
    pub tag: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, cursor: None, q: None, tag: None }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The items, newest first.
    pub items: Vec<Item>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests;
