//! Fuzz target `config`: any text as a PBX's TOML configuration, through what
//! `switchboard serve --config` loads (`pbx_backend_memory::fuzzing::config`,
//! also run on stable by pbx-backend-memory's tests over fixtures/config/bad).
//! Nothing may panic, and every refusal names its problems at line:column.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pbx_backend_memory::fuzzing;

fuzz_target!(|text: &str| {
    let _ = fuzzing::config(text);
});
