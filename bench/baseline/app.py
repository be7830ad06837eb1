"""The baseline of the load benchmark: the items API as the tutorials build it.

A FastAPI app whose ``GET /v1/items`` validates an Okta (or dev-idp) access
token the way the best Python tutorial does: PyJWT with a ``PyJWKClient``
(the issuer's JWKS, fetched once and cached, signing keys cached by ``kid``),
RS256 only, issuer and audience checked, then the ``items:read`` scope in the
``scp`` claim. It answers the caller's items from an in-memory list, in the
same shape as the Rust items API (``{"items": [...], "next_cursor": null}``).

It is meant to be a fair, idiomatic baseline, not a straw man: keys are
fetched at start-up and never on the request path while they are fresh, the
dependency is ``async`` (no thread-pool hop per request), responses go through
pydantic models as FastAPI intends, and ``bench/load.sh`` runs it under
uvicorn with uvloop and httptools and no access log.

Settings (environment):
  OKTA_ISSUER     required, e.g. http://127.0.0.1:18080/oauth2/default
  OKTA_AUDIENCE   default api://default

Run: ``uvicorn app:app --app-dir bench/baseline --workers 2``.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt import PyJWKClient
from pydantic import BaseModel

ISSUER = os.environ["OKTA_ISSUER"].rstrip("/")
AUDIENCE = os.environ.get("OKTA_AUDIENCE", "api://default")
READ_SCOPE = "items:read"
LEEWAY_SECONDS = 30  # as the items API (TOKEN_LEEWAY_SECS)
JWKS_CACHE_SECONDS = 300


def discover_jwks_uri(issuer: str) -> str:
    """The ``jwks_uri`` from the issuer's discovery document."""
    url = f"{issuer}/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback or https issuer)
        document = json.load(response)
    if document.get("issuer") != issuer:
        raise RuntimeError(f"discovery at {url} names another issuer: {document.get('issuer')!r}")
    return document["jwks_uri"]


class Keys:
    """The JWKS client, made at start-up (each uvicorn worker has its own)."""

    client: PyJWKClient | None = None


@asynccontextmanager
async def lifespan(_app: FastAPI):
    Keys.client = PyJWKClient(
        discover_jwks_uri(ISSUER),
        cache_jwk_set=True,
        lifespan=JWKS_CACHE_SECONDS,
        cache_keys=True,
        timeout=5,
    )
    # Warm the cache now rather than on the first request.
    Keys.client.get_signing_keys()
    yield


app = FastAPI(title="Items API baseline (FastAPI + PyJWT)", lifespan=lifespan)
bearer = HTTPBearer(auto_error=False)


def unauthorized(error: str | None, description: str) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}", error_description="{description}"'
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=description, headers={"WWW-Authenticate": challenge})


async def verify_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> dict[str, Any]:
    """The validated claims of the request's bearer token."""
    if credentials is None:
        raise unauthorized(None, "no bearer token")
    token = credentials.credentials
    assert Keys.client is not None
    try:
        signing_key = Keys.client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWKClientConnectionError as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="cannot check the token now") from error
    except jwt.PyJWTError as error:
        raise unauthorized("invalid_token", "the token is not acceptable") from error
    return claims


def require_scope(scope: str):
    """A dependency: the claims, when the token carries ``scope`` in ``scp``."""

    async def checker(claims: Annotated[dict[str, Any], Depends(verify_token)]) -> dict[str, Any]:
        scopes = claims.get("scp", [])
        if isinstance(scopes, str):
            scopes = scopes.split()
        if scope not in scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"the token lacks the {scope} scope",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
            )
        return claims

    return checker


class Item(BaseModel):
    id: str
    name: str
    description: str
    price: float
    tags: list[str]
    owner: str
    created_at: datetime
    updated_at: datetime


class ItemList(BaseModel):
    items: list[Item]
    next_cursor: str | None = None


# The items API's demo seed (crates/items-api/src/store/demo.rs), oldest first,
# so that both servers answer alice with the same four items.
DEMO_ITEMS = [
    ("alice@example.com", "Espresso machine", "Dual boiler, barely used. Descaled last month.", 249.00,
     ["kitchen", "coffee"]),
    ("bob@example.com", "Camping stove", "Two burners, runs on butane cartridges.", 54.25, ["outdoor", "camping"]),
    ("alice@example.com", "Trail running shoes", "Size 39, worn for one race.", 129.95, ["sport", "shoes"]),
    ("bob@example.com", "Noise-cancelling headphones", "Over-ear, with a hard case and a spare cable.", 199.99,
     ["electronics", "travel"]),
    ("alice@example.com", "Mechanical keyboard", "Tenkeyless, brown switches.", 89.50, ["desk", "electronics"]),
    ("bob@example.com", "Watercolour set", "24 half pans and two brushes.", 32.80, ["art"]),
    ("alice@example.com", "Sourdough starter kit", "Jar, scraper and a dried starter.", 24.00, ["kitchen", "baking"]),
]


def demo_items() -> dict[str, list[Item]]:
    """Each person's items, newest first."""
    start = datetime.now(timezone.utc) - timedelta(hours=len(DEMO_ITEMS))
    items: dict[str, list[Item]] = {}
    for n, (owner, name, description, price, tags) in enumerate(DEMO_ITEMS):
        at = start + timedelta(hours=n)
        item = Item(
            id=str(uuid.uuid4()),
            name=name,
            description=description,
            price=price,
            tags=tags,
            owner=owner,
            created_at=at,
            updated_at=at,
        )
        items.setdefault(owner, []).insert(0, item)
    return items


ITEMS = demo_items()


@app.get("/v1/items", response_model=ItemList)
async def list_items(claims: Annotated[dict[str, Any], Depends(require_scope(READ_SCOPE))]) -> ItemList:
    return ItemList(items=ITEMS.get(claims["sub"], [])[:20])


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
