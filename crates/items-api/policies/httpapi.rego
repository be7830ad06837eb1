# A policy in the shape of OPA's HTTP API authorization tutorials, for the
# items API (POLICY_FILE=crates/items-api/policies/httpapi.rego and
# POLICY_QUERY=data.httpapi.authz, or loaded into an OPA server that
# OPA_AUTHZ_URL names).
#
# It reads only what such policies read: input.method, input.api (the
# request's path, percent-decoded, as one string: "/v1/items/0193…") and
# input.jwt (the access token, which the API has already validated before
# asking; decoded here, not verified again). The items API's own fields
# (claims, scopes, owner, path as segments…) are there too: see items.rego.
package httpapi.authz

import rego.v1

default allow := false

# The token's claims. Okta lists the granted scopes in `scp`.
token_claims := payload if {
	[_, payload, _] := io.jwt.decode(input.jwt)
}

has_scope(name) if name in token_claims.scp

# The collection and each item in it, nothing that merely starts alike.
on_items if input.api == "/v1/items"

on_items if startswith(input.api, "/v1/items/")

# Reading takes items:read…
allow if {
	input.method == "GET"
	on_items
	has_scope("items:read")
}

# …and changing takes items:write.
allow if {
	input.method in {"POST", "PATCH", "DELETE"}
	on_items
	has_scope("items:write")
}
