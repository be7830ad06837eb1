# The items API's sample policy (POLICY_FILE=crates/items-api/policies/items.rego).
#
# input: {claims, scopes, subject, owner, method, path}, the claims already
# validated; `owner` is the immutable user id (Okta's uid, else sub) that owns
# items: name people by it, not by `subject` (a login, renamable).
# data.items.allow must be true for a request to go on; anything else denies.
# data.items.see_all, when true, lets the caller see and change every item.
package items

import rego.v1

default allow := false

# The original tutorial's rule, kept as it was: one path, one method, one scope.
# There, GET /sayhello needed read_sayhello; here, GET /v1/me needs profile.
allow if {
	input.method == "GET"
	input.path == ["v1", "me"]
	"profile" in input.scopes
}

# Items: reading needs items:read, changing needs items:write. (The API
# checks these scopes too; the policy may only narrow what they allow.)
allow if {
	input.method == "GET"
	input.path[0] == "v1"
	input.path[1] == "items"
	"items:read" in input.scopes
}

allow if {
	input.method in {"POST", "PATCH", "DELETE"}
	input.path[0] == "v1"
	input.path[1] == "items"
	"items:write" in input.scopes
}

# Support staff see every item, read-only.
see_all if {
	input.method == "GET"
	"support" in object.get(input.claims, "groups", [])
}
