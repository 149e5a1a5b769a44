//! Fuzz target `scenario`: any text as a scenario that demo user 203 asks
//! `sim.play` to play, through the parser and checker `sim.play` runs on it
//! (`pbx_backend_memory::fuzzing::scenario`, also run on stable by
//! pbx-backend-memory's tests over fixtures/scenarios). Nothing may panic, and
//! every refusal names its problems at line:column.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pbx_backend::{Caller, PbxBackend as _};
use pbx_backend_memory::{MemoryPbx, fuzzing};

/// Parsing changes nothing: one PBX and caller serve every input.
static WORLD: LazyLock<(MemoryPbx, Caller)> = LazyLock::new(|| {
    let pbx = MemoryPbx::demo();
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(pbx.authenticate("203", "203"))
        .expect("authenticate")
        .expect("the demo user");
    (pbx, caller)
});

fuzz_target!(|text: &str| {
    let (pbx, caller) = &*WORLD;
    let _ = fuzzing::scenario(pbx, caller, text);
});
