//! Integration tests of the SQLite storage: one binary, one module per area.

mod batching;
mod cache;
mod checks;
mod conformance;
mod faults;
mod full_disk;
mod restart;
mod stalls;
mod startup;
mod support;
