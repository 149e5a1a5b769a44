//! The conformance kit of `pbx-backend` against the in-memory PBX.
//!
//! Added by the conformance-kit work (issue 3): it loads a fresh [`MemoryPbx`]
//! with [`Fixture::standard`] (through `pbx_backend_memory::kit::config`, which
//! durable storages reuse) for every check and expects them all to pass.

use std::sync::Arc;

use pbx_backend::kit::{self, Fixture, Target};
use pbx_backend_memory::MemoryPbx;

/// A fresh memory PBX loaded with the standard fixture, as backend and simulator.
async fn target() -> Target {
    let pbx = match MemoryPbx::new(pbx_backend_memory::kit::config(&Fixture::standard())) {
        Ok(pbx) => Arc::new(pbx),
        Err(e) => panic!("the kit's standard fixture is a valid configuration: {e}"),
    };
    Target::new(pbx.clone(), Some(pbx))
}

#[tokio::test]
async fn the_memory_pbx_passes_the_conformance_kit() {
    kit::run(target).await.assert_all_passed();
}

#[tokio::test]
async fn without_a_simulator_call_checks_are_skipped_and_the_rest_pass() {
    let report = kit::run(|| async {
        let Target { backend, .. } = target().await;
        Target::new(backend, None)
    })
    .await;
    report.assert_all_passed();
    assert!(report.skipped().count() > 0, "{report}");
    assert!(report.passed().count() > 0, "{report}");
}
