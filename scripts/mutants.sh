#!/usr/bin/env bash
# Mutation run over the modules that hold security checks (issue 24): breaks
# each check one way at a time (cargo-mutants) and runs the test binaries
# that should notice. A mutant that survives is either a missing test or an
# equivalent change; SECURITY.md ("Mutation run") records which.
#
#   scripts/mutants.sh [--list] [group...]
#
#   groups (default: all, in this order):
#     id-token    the ID-token and authorization-response checks of the
#                 sign-in core, against its flow tests
#     redirect    the loopback listener's request checks, against the flow tests
#     claims      the items API's token checks (JWT parsing, signature keys,
#                 claims, introspection answers), against its auth and API tests
#     access      the items API's scope, ownership and policy checks and its
#                 DPoP proof checks, against its API tests
#     idp-token   dev-idp's token endpoint, against its protocol tests
#
#   --list        list the mutants of the chosen groups, test nothing
#   MUTANTS_TIMEOUT  seconds a test run may take before the mutant counts
#                    as a timeout (default 300)
#
# Not part of ./x test (it takes most of an hour on 2 cores): run it in the
# issue that changes a check. It mutates the working tree in place (one
# mutant at a time, restored afterwards) so that it reuses target/: do not
# edit the tree while it runs. Results: target/mutants/<group>/mutants.out/
# (caught.txt, missed.txt, timeout.txt, unviable.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_MUTANTS_VERSION=27.0.0
timeout=${MUTANTS_TIMEOUT:-300}
list=0
groups=()
for arg in "$@"; do
  case "$arg" in
    --list) list=1 ;;
    -*) echo "usage: scripts/mutants.sh [--list] [group...]" >&2; exit 2 ;;
    *) groups+=("$arg") ;;
  esac
done
[ "${#groups[@]}" -gt 0 ] || groups=(id-token redirect claims access idp-token)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo install --list 2>/dev/null | grep -q "^cargo-mutants v$CARGO_MUTANTS_VERSION:"; then
  say "installing cargo-mutants $CARGO_MUTANTS_VERSION"
  cargo install --quiet --locked cargo-mutants --version "$CARGO_MUTANTS_VERSION"
fi

# nextest stops a mutant's run at its first failing test: a caught mutant
# costs one failure, not the whole binary's timeouts.
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install --quiet --locked cargo-nextest
fi

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "scripts/mutants.sh mutates the tree in place: commit or stash your changes first" >&2
  exit 2
fi

# Each mutant rebuilds one crate and its test binaries: no debug info keeps
# the links short, and incremental builds the one crate fast.
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0 CARGO_INCREMENTAL=1

# group -> package, files to mutate, the functions in them that make a
# security decision (a regular expression over cargo-mutants' names; the
# rest of those files is plumbing whose mutants would take hours and say
# little), and the test binaries (cargo test arguments).
run_group() {
  local group=$1 package files=() functions tests=()
  case "$group" in
    id-token)
      package=tessera-signin
      files=(crates/signin/src/flow/login.rs 'crates/signin/src/flow/login/*.rs' crates/signin/src/flow/id_token.rs
        crates/signin/src/flow/callback.rs crates/signin/src/flow/deep_link.rs crates/signin/src/store/grant.rs)
      functions='in (check_auth_time|check_authorized_party|complete|finish|verify_id_token|verified_claims|PendingLogin::state_matches|constant_time_eq|Callback::from_query|DeepLinks::deliver|StoredGrant::decode)$'
      tests=(--lib --test flow) ;;
    redirect)
      package=tessera-signin
      files=(crates/signin/src/flow/loopback.rs crates/signin/src/flow/signed_out.rs)
      functions='in (LoopbackRedirect::wait|LoopbackRedirect::bind_first_free|SignedOutPage::serve|split_target|request_line|read_head)$'
      tests=(--test flow) ;;
    claims)
      package=tessera-items-api
      files=(crates/items-api/src/auth/claims.rs crates/items-api/src/auth/jwt.rs crates/items-api/src/auth/keys.rs
        crates/items-api/src/auth/introspection.rs)
      functions='in (check_introspection|check_jwt|check_times|check_token_shape|finish|audience_contains|scope_list|parse|Parsed.*::verify|VerifyKey::check_alg|family_fits|Bucket::take|AnswerCache<T>::get)$'
      tests=(--lib --test auth --test api) ;;
    access)
      package=tessera-items-api
      files=(crates/items-api/src/api.rs crates/items-api/src/policy.rs crates/items-api/src/dpop.rs)
      functions='in (Caller::require|Caller::owner|Caller::visibility|checked_id|canonical_path|CanonicalPath::parse|decode_segment|Policy::decide|rego_decide|DpopChecks::(verify|accept|remember|request_url)|Nonces::accepts)$'
      tests=(--lib --test api) ;;
    idp-token)
      package=tessera-dev-idp
      files=(crates/dev-idp/src/token.rs)
      functions='in (authorization_code|refresh_token|device_code|is_valid_verifier|s256|client_credentials)$'
      tests=(--test protocol) ;;
    *) echo "unknown group: $group" >&2; exit 2 ;;
  esac
  local file_args=()
  for file in "${files[@]}"; do file_args+=(--file "$file"); done
  if [ "$list" -eq 1 ]; then
    cargo mutants --list --package "$package" "${file_args[@]}" --re "$functions"
    return
  fi
  say "mutants: $group ($package: ${files[*]})"
  local output="target/mutants/$group"
  mkdir -p "$output"
  # Exit codes: 0 all caught, 2 some missed, 3 some timed out; the summary
  # below reports them, so only a failure to run stops the script.
  local status=0
  cargo mutants --in-place --no-shuffle --baseline skip --timeout "$timeout" --test-tool nextest \
    --package "$package" --test-package "$package" "${file_args[@]}" --re "$functions" \
    --output "$output" -- "${tests[@]}" || status=$?
  case "$status" in 0 | 2 | 3) ;; *) echo "cargo mutants failed for $group (exit $status)" >&2; exit "$status" ;; esac
  local dir="$output/mutants.out"
  printf '%-10s caught %4d  missed %4d  timeout %4d  unviable %4d\n' "$group" \
    "$(wc -l < "$dir/caught.txt")" "$(wc -l < "$dir/missed.txt")" \
    "$(wc -l < "$dir/timeout.txt")" "$(wc -l < "$dir/unviable.txt")" | tee -a target/mutants/summary.txt
}

mkdir -p target/mutants
for group in "${groups[@]}"; do run_group "$group"; done
