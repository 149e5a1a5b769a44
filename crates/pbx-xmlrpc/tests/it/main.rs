//! The wire vocabulary's integration tests. The server side (the `.rpc` scripts,
//! `docs/api.md`, limits, isolation) is tested in `pbx-handler`.
//!
//! - `roundtrip`: property tests for every record and request, both directions.

mod roundtrip;
