//! The items API: a resource server protected by Okta (or dev-idp) access tokens.
//!
//! Skeleton: the work is tracked in issue 3.
