//! The HTTP surface: routes, the `Caller` extractor that authenticates and
//! authorizes each request, and the OpenAPI document generated from the
//! handlers' annotations.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::auth::{Claims, Refusal, TokenValidator};
use crate::dpop::{BindingRefusal, DpopChecks};
use crate::error::{ApiError, CredentialsRefusal};
use crate::model::{self, Cursor, Item, ItemPatch, ListQuery, NewItem, Owner, Visibility};
use crate::policy::{self, CanonicalPath, Policy};
use crate::store::Store;

/// The default read scope.
pub const READ: &str = "items:read";
/// The default write scope.
pub const WRITE: &str = "items:write";
/// The default scope that sees and changes everyone's items.
pub const ADMIN: &str = "items:admin";

/// The scopes the API asks for (`READ_SCOPE`, `WRITE_SCOPE`, `ADMIN_SCOPE`;
/// by default `items:read`, `items:write`, `items:admin`): an org whose
/// scopes are named otherwise configures its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeNames {
    /// Reading items.
    pub read: String,
    /// Creating, changing and deleting items.
    pub write: String,
    /// Seeing and changing everyone's items.
    pub admin: String,
}

impl Default for ScopeNames {
    fn default() -> Self {
        Self { read: READ.to_owned(), write: WRITE.to_owned(), admin: ADMIN.to_owned() }
    }
}

/// Largest `Authorization` header accepted; bigger ones are refused unparsed.
const MAX_AUTHORIZATION: usize = 8 * 1024;
/// Largest request body.
const MAX_BODY: usize = 16 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    /// The scope names, and the OpenAPI document that names them.
    scopes: Arc<Scopes>,
    /// Browser front ends allowed to call the API (CORS); `None`: off.
    cors: Option<Arc<crate::cors::Cors>>,
}

struct Scopes {
    names: ScopeNames,
    openapi: Value,
}

impl Scopes {
    fn new(names: ScopeNames) -> Self {
        let openapi = openapi_document(&names);
        Self { names, openapi }
    }
}

struct Inner {
    validator: TokenValidator,
    store: Store,
    policy: Policy,
    dpop: DpopChecks,
}

impl AppState {
    /// Bundles the validator, the store and the policy, taking no
    /// DPoP-bound tokens (no public URL for proofs to name; see
    /// [`AppState::with_dpop`]).
    #[must_use]
    pub fn new(validator: TokenValidator, store: Store, policy: Policy) -> Self {
        Self::with_dpop(validator, store, policy, DpopChecks::default())
    }

    /// As [`AppState::new`], with DPoP checked as `dpop` says.
    #[must_use]
    pub fn with_dpop(validator: TokenValidator, store: Store, policy: Policy, dpop: DpopChecks) -> Self {
        Self {
            inner: Arc::new(Inner { validator, store, policy, dpop }),
            scopes: Arc::new(Scopes::new(ScopeNames::default())),
            cors: None,
        }
    }

    /// The same state asking for the scopes `names`.
    #[must_use]
    pub fn with_scopes(mut self, names: ScopeNames) -> Self {
        self.scopes = Arc::new(Scopes::new(names));
        self
    }

    /// The same state answering browser front ends as `cors` says.
    #[must_use]
    pub fn with_cors(mut self, cors: crate::cors::Cors) -> Self {
        self.cors = Some(Arc::new(cors));
        self
    }

    /// The scope names the API asks for.
    #[must_use]
    pub fn scopes(&self) -> &ScopeNames {
        &self.scopes.names
    }

    /// The OpenAPI document, naming the configured scopes.
    #[must_use]
    pub fn openapi(&self) -> &Value {
        &self.scopes.openapi
    }
}

/// An authenticated, authorized caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The validated claims.
    pub claims: Claims,
    /// Whether the caller sees everyone's items (the admin scope or the
    /// policy).
    pub see_all: bool,
}

impl Caller {
    /// Fails with `insufficient_scope` (naming `scope` in the challenge)
    /// unless the token has `scope`.
    ///
    /// # Errors
    /// [`ApiError::InsufficientScope`].
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.claims.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope.to_owned()))
        }
    }

    /// The caller as the owner of items: (issuer, `uid` or else `sub`).
    #[must_use]
    pub fn owner(&self) -> Owner<'_> {
        Owner::of(&self.claims)
    }

    /// Whose items the caller may see and change.
    #[must_use]
    pub fn visibility(&self) -> Visibility<'_> {
        if self.see_all { Visibility::All } else { Visibility::Owner(self.owner()) }
    }
}

/// How a request presents its access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// `Authorization: Bearer` (RFC 6750 §2.1).
    Bearer,
    /// `Authorization: DPoP` with a `DPoP` proof (RFC 9449 §7.1).
    Dpop,
}

/// The access token of a request and its scheme, or why there is none.
fn credentials(parts: &Parts) -> Result<(Scheme, &str), ApiError> {
    // RFC 9700 §4.3.2 / RFC 6750 §2.3: never in the URL.
    let in_query =
        parts.uri.query().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(name, _)| name == "access_token"));
    if in_query {
        return Err(ApiError::BadCredentials(CredentialsRefusal::InUrl));
    }
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::Unauthenticated);
    };
    if values.next().is_some() {
        return Err(ApiError::BadCredentials(CredentialsRefusal::SeveralHeaders));
    }
    if value.len() > MAX_AUTHORIZATION {
        return Err(ApiError::InvalidToken(Refusal::TooLarge));
    }
    let value = value.to_str().map_err(|_| ApiError::BadCredentials(CredentialsRefusal::NotText))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        // Another scheme (Basic…): no credentials this API understands.
        return Err(ApiError::Unauthenticated);
    };
    let token = token.trim();
    // b64token (RFC 6750 §2.1).
    let b64token = !token.is_empty()
        && token.trim_end_matches('=').bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !b64token {
        return Err(ApiError::BadCredentials(CredentialsRefusal::NotBearerToken));
    }
    Ok((scheme, token))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The path the policy decides on is the decoded one the handlers
        // use (other spellings were refused by `canonical_path`).
        let path = match parts.extensions.get::<CanonicalPath>() {
            Some(path) => path.clone(),
            None => CanonicalPath::parse(parts.uri.path()).map_err(|e| ApiError::InvalidRequest(e.to_string()))?,
        };
        let (scheme, token) = credentials(parts)?;
        // A proof is checked before the token (no validation, no
        // introspection, for a request without a good proof).
        let proof = match scheme {
            Scheme::Dpop => Some(state.inner.dpop.verify(parts, token)?),
            Scheme::Bearer => None,
        };
        let claims = state.inner.validator.validate(token).await?;
        // RFC 9449 §7: a token bound to a key (`cnf.jkt`) only with a proof
        // from that key; an unbound one only as a bearer token.
        let bound = claims.all.get("cnf").and_then(|cnf| cnf.get("jkt")).and_then(Value::as_str);
        match (proof, bound) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(ApiError::DpopInvalidToken(BindingRefusal::SentAsBearer));
            }
            (Some(_), None) => return Err(ApiError::DpopInvalidToken(BindingRefusal::NotBound)),
            (Some(proof), Some(jkt)) => state.inner.dpop.accept(&proof, jkt).await?,
        }
        // The token goes to the policy (as `jwt`) only now that it is valid.
        let decision = state.inner.policy.decide(&policy::input(&claims, token, parts.method.as_str(), &path)).await;
        if !decision.allow {
            return Err(ApiError::PolicyDenied);
        }
        let see_all = decision.see_all || claims.scopes.iter().any(|s| *s == state.scopes.names.admin);
        // Items stored under this token's `sub` before owners were user ids
        // become the owner's (issue 14, item 8; a no-op once none are left).
        state.inner.store.claim(Owner::of(&claims), &claims.subject).await.map_err(|e| storage_failed(&e))?;
        Ok(Self { claims, see_all })
    }
}

fn storage_failed(error: &crate::store::StoreError) -> ApiError {
    use crate::store::StoreError;
    match error {
        StoreError::KeyReused => ApiError::KeyReused,
        StoreError::KeyItemDeleted => ApiError::KeyItemDeleted,
        error if error.is_unavailable() => {
            tracing::warn!(error = ?error, "the item store is unavailable");
            ApiError::StoreUnavailable
        }
        error => {
            tracing::error!(error = ?error, "storage failed");
            ApiError::Internal
        }
    }
}

/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The request's `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header:
/// a structured-field string, so in quotes; a bare token is taken too), if it
/// has one: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else { return Ok(None) };
    let bad = || ApiError::InvalidRequest("the Idempotency-Key header must be 1 to 255 visible characters".into());
    if values.next().is_some() {
        return Err(ApiError::InvalidRequest("more than one Idempotency-Key header".into()));
    }
    let value = value.to_str().map_err(|_| bad())?.trim();
    let key = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    let visible = key.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !visible {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

/// Query parameters of `GET /v1/items`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size (1–100, default 20).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Text to find in name or description.
    q: Option<String>,
    /// Only items with this tag.
    tag: Option<String>,
}

/// A page of items.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemList {
    /// The items, newest first.
    pub items: Vec<Item>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn list_query(params: ListParams) -> Result<ListQuery, ApiError> {
    let limit = params.limit.unwrap_or(model::DEFAULT_LIMIT);
    if !(1..=model::MAX_LIMIT).contains(&limit) {
        return Err(model::ValidationError::new("limit", "must be 1 to 100").into());
    }
    let cursor = params.cursor.as_deref().map(Cursor::decode).transpose()?;
    let q = params.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(model::ValidationError::new("q", "must be at most 100 characters").into());
    }
    let tag = params.tag.as_deref().map(model::check_tag).transpose()?;
    Ok(ListQuery { limit, cursor, q, tag })
}

fn bad_query(rejection: &QueryRejection) -> ApiError {
    ApiError::InvalidRequest(format!("bad query: {}", rejection.body_text()))
}

fn bad_json(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::TooLarge;
    }
    if let JsonRejection::JsonDataError(error) = rejection
        && let Some(invalid) = field_error(&error.body_text())
    {
        return ApiError::Invalid(invalid);
    }
    ApiError::InvalidRequest(rejection.body_text())
}

/// The field a JSON body's data error is about, when it names one of an
/// item's fields (`…target type: price: price must be … at line 1 column 9`),
/// so that clients can point at the field as they do for other checks.
fn field_error(text: &str) -> Option<model::ValidationError> {
    let detail = text.split_once("target type: ").map_or(text, |(_, detail)| detail);
    let (path, problem) = detail.split_once(": ")?;
    let name = path.split(['.', '[']).next()?;
    let field = ["name", "description", "price", "tags"].into_iter().find(|f| *f == name)?;
    let problem = problem.rsplit_once(" at line ").map_or(problem, |(problem, _)| problem);
    let problem = problem.strip_prefix(field).map_or(problem, str::trim_start);
    Some(model::ValidationError::new(field, problem.to_owned()))
}

/// An item id as it appears in a path: anything else is simply not found.
fn checked_id(id: &str) -> Result<&str, ApiError> {
    let plausible = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if plausible { Ok(id) } else { Err(ApiError::NotFound) }
}

/// `GET /v1/items`: the caller's items (everyone's with the admin scope or the
/// policy's `see_all`), newest first, a page at a time.
#[utoipa::path(get, path = "/v1/items", params(ListParams), tag = "items",
    security(("bearer" = ["items:read"])),
    responses((status = 200, body = ItemList), (status = 401), (status = 403), (status = 422)))]
async fn list_items(
    caller: Caller,
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(&state.scopes().read)?;
    let Query(params) = params.map_err(|r| bad_query(&r))?;
    let query = list_query(params)?;
    // The store writes the `ItemList` body itself (on SQLite straight from
    // the rows, no `Item` in between).
    let body = state.inner.store.list_json(caller.visibility(), &query).await.map_err(|e| storage_failed(&e))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}

/// `GET /v1/items/{id}`: one of the caller's items.
#[utoipa::path(get, path = "/v1/items/{id}", tag = "items", security(("bearer" = ["items:read"])),
    params(("id" = String, Path, description = "Item id")),
    responses((status = 200, body = Item), (status = 404)))]
async fn get_item(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Item>, ApiError> {
    caller.require(&state.scopes().read)?;
    let id = checked_id(&id)?;
    let item = state.inner.store.get(caller.visibility(), id).await.map_err(|e| storage_failed(&e))?;
    item.map(Json).ok_or(ApiError::NotFound)
}

/// `POST /v1/items`: a new item, the caller's. With an `Idempotency-Key`
/// header, a repeat of the request (a client retrying after a lost answer)
/// answers the item the first one made, with `Idempotent-Replayed: true`, for a day.
#[utoipa::path(post, path = "/v1/items", tag = "items", security(("bearer" = ["items:write"])),
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes retries safe: the same key and item again answer the first item")),
    request_body = NewItem, responses((status = 201, body = Item), (status = 409), (status = 422), (status = 503)))]
async fn create_item(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<NewItem>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.require(&state.scopes().write)?;
    let key = idempotency_key(&headers)?;
    let Json(item) = body.map_err(|r| bad_json(&r))?;
    let item = item.validated()?;
    let store = &state.inner.store;
    let owner = caller.owner();
    let (created, replayed) = match key {
        Some(key) => {
            let created = store.create_once(owner, item, &key).await.map_err(|e| storage_failed(&e))?;
            (created.item, created.replayed)
        }
        None => (store.create(owner, item).await.map_err(|e| storage_failed(&e))?, false),
    };
    let location = HeaderValue::from_str(&format!("/v1/items/{}", created.id)).map_err(|_| ApiError::Internal)?;
    let mut response = (StatusCode::CREATED, [(header::LOCATION, location)], Json(created)).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `PATCH /v1/items/{id}`: changes the fields the body names, and only those.
#[utoipa::path(patch, path = "/v1/items/{id}", tag = "items", security(("bearer" = ["items:write"])),
    params(("id" = String, Path, description = "Item id")),
    request_body = ItemPatch, responses((status = 200, body = Item), (status = 404), (status = 422)))]
async fn update_item(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<ItemPatch>, JsonRejection>,
) -> Result<Json<Item>, ApiError> {
    caller.require(&state.scopes().write)?;
    let id = checked_id(&id)?;
    let Json(patch) = body.map_err(|r| bad_json(&r))?;
    let patch = patch.validated()?;
    if patch.is_empty() {
        return Err(ApiError::InvalidRequest("the patch changes nothing".into()));
    }
    let item = state.inner.store.update(caller.visibility(), id, patch).await.map_err(|e| storage_failed(&e))?;
    item.map(Json).ok_or(ApiError::NotFound)
}

/// `DELETE /v1/items/{id}`: deletes one of the caller's items.
#[utoipa::path(delete, path = "/v1/items/{id}", tag = "items", security(("bearer" = ["items:write"])),
    params(("id" = String, Path, description = "Item id")),
    responses((status = 204), (status = 404)))]
async fn delete_item(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(&state.scopes().write)?;
    let id = checked_id(&id)?;
    let deleted = state.inner.store.delete(caller.visibility(), id).await.map_err(|e| storage_failed(&e))?;
    if deleted { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

/// `GET /v1/me`: the caller's validated claims (the tutorials' `/profile`).
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "The caller's claims")))]
async fn me(caller: Caller) -> Json<Value> {
    Json(json!({
        "sub": caller.claims.subject,
        "owner": { "issuer": caller.claims.issuer, "id": caller.owner().id },
        "client_id": caller.claims.client_id,
        "scopes": caller.claims.scopes,
        "sees_all_items": caller.see_all,
        "claims": caller.claims.all,
    }))
}

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200)))]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the issuer's keys (or introspection) and the database answer.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200), (status = 503)))]
async fn readyz(State(state): State<AppState>) -> Response {
    let (issuer, database) = tokio::join!(state.inner.validator.check_ready(), state.inner.store.ping());
    let ok = issuer.is_ok() && database.is_ok();
    let body = json!({
        "status": if ok { "ready" } else { "not ready" },
        "issuer": if issuer.is_ok() { "ok" } else { "unreachable" },
        "database": if database.is_ok() { "ok" } else { "unreachable" },
    });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// The OpenAPI document, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera items API", description = "People's items, protected by OAuth 2.0 bearer tokens."),
    paths(list_items, get_item, create_item, update_item, delete_item, me, healthz, readyz),
    components(schemas(Item, NewItem, ItemPatch, ItemList)),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(state.openapi().clone())
}

/// The OpenAPI document with the configured scope names in place of the
/// defaults the handlers' annotations name.
#[must_use]
pub fn openapi_document(names: &ScopeNames) -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let rename = |scope: &mut Value| {
        let renamed = match scope.as_str() {
            Some(READ) => &names.read,
            Some(WRITE) => &names.write,
            Some(ADMIN) => &names.admin,
            _ => return,
        };
        *scope = Value::String(renamed.clone());
    };
    let operations =
        document.get_mut("paths").and_then(Value::as_object_mut).into_iter().flat_map(|paths| paths.values_mut());
    for operation in operations.filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        let requirements = operation.get_mut("security").and_then(Value::as_array_mut).into_iter().flatten();
        for scopes in requirements.filter_map(Value::as_object_mut).flat_map(|r| r.values_mut()) {
            scopes.as_array_mut().into_iter().flatten().for_each(rename);
        }
    }
    document
}

/// Refuses a path spelled other than canonically (`400 invalid_request`,
/// before routing, authentication or the policy; see [`CanonicalPath`]) and
/// hands the decoded one to the `Caller` extractor.
async fn canonical_path(mut request: Request<axum::body::Body>, next: axum::middleware::Next) -> Response {
    match CanonicalPath::parse(request.uri().path()) {
        Ok(path) => {
            request.extensions_mut().insert(path);
            next.run(request).await
        }
        Err(error) => ApiError::InvalidRequest(error.to_string()).into_response(),
    }
}

/// With nonces on (RFC 9449 §9), every answer to a request with a DPoP
/// proof hands out the API's current nonce, refusals included.
async fn hand_out_nonce(
    State(state): State<AppState>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let with_proof = request.headers().contains_key("dpop");
    let mut response = next.run(request).await;
    if with_proof
        && let Some(nonce) = state.inner.dpop.current_nonce()
        && let Ok(value) = HeaderValue::from_str(&nonce)
    {
        response.headers_mut().insert("dpop-nonce", value);
    }
    response
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let nonces = axum::middleware::from_fn_with_state(state.clone(), hand_out_nonce);
    let cors = state.cors.clone();
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
        // A page a person reads, rendered now from the same document.
        .merge(crate::docs::routes(state.openapi()))
        .route("/v1/me", get(me))
        .route("/v1/items", get(list_items).post(create_item))
        .route("/v1/items/{id}", get(get_item).patch(update_item).delete(delete_item))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(nonces)
        .layer(axum::middleware::from_fn(canonical_path))
        // Method and path only: never query strings or headers.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state);
    // Outermost: a preflight is answered before anything else looks at it,
    // and every answer (refusals included) carries the CORS headers.
    match cors {
        Some(cors) => router.layer(cors.layer()),
        None => router,
    }
}
