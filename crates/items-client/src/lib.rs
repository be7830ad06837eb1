//! A typed client for the items API, with bearer authentication and refresh on 401.
//!
//! Skeleton: the work is tracked in issue 4.
