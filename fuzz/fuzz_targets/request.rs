//! Fuzz target `request`: any bytes as the body of a request by demo user 203,
//! through the binding on the in-memory demo PBX, built as the `switchboard`
//! binary builds it (`pbx_server::AppState::builder` with the default
//! `ServerConfig` and the binary's simulator, `pbx_backend_memory::Player`, so
//! that `sim.play` reaches the scenario parser). Nothing may panic, and every
//! answer must be a well-formed methodResponse (a result or a fault).

#![no_main]

use std::cell::RefCell;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pbx_backend::Caller;
use pbx_backend_memory::{MemoryPbx, Player};
use pbx_server::{AppState, ServerConfig};
use xmlrpc_codec::decode_method_response;

/// A fresh PBX every so many inputs, so that calls and keys made by earlier
/// inputs do not pile up (each input still meets a PBX in some state).
const INPUTS_PER_PBX: u32 = 256;

struct World {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    caller: Caller,
    used: u32,
}

fn world() -> World {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let pbx = Arc::new(MemoryPbx::demo());
    let state = AppState::builder(pbx.clone(), ServerConfig::default())
        .simulator(Arc::new(Player::new(pbx)))
        .build();
    let caller = runtime
        .block_on(state.backend().authenticate("203", "203"))
        .expect("authenticate")
        .expect("the demo user");
    World {
        runtime,
        state,
        caller,
        used: 0,
    }
}

thread_local! {
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    WORLD.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|w| w.used >= INPUTS_PER_PBX) {
            *slot = Some(world());
        }
        let world = slot.as_mut().expect("just made");
        world.used += 1;
        let outcome = world
            .runtime
            .block_on(world.state.handler().handle(&world.caller, data));
        if let Err(e) = decode_method_response(&outcome.body) {
            panic!(
                "the answer is no methodResponse ({e}):\n{}",
                String::from_utf8_lossy(&outcome.body)
            );
        }
    });
});
