//! Integration tests of the in-memory PBX: one binary, one module per area.

mod concurrency;
mod config_errors;
mod demo;
mod fuzz_corpora;
mod isolation;
mod presence;
mod props;
mod scenario_files;
mod scenarios;
mod simulation_bounds;
mod support;

// The conformance kit (pbx_backend::kit) against MemoryPbx; added by the kit's author.
mod conformance;
