//! The conformance kit of `pbx-backend` against the in-memory PBX.
//!
//! Added by the conformance-kit work (issue 3): it loads a fresh [`MemoryPbx`]
//! with [`Fixture::standard`] for every check and expects them all to pass.

use std::sync::Arc;

use pbx_backend::kit::{self, Fixture, Target};
use pbx_backend_memory::{
    ActivityPeriod, AttendantConfig, Config, ConnectionConfig, ExtensionConfig, GroupConfig,
    MemoryPbx, ParkingConfig, QueueConfig, StorageLimits,
};

/// The kit's fixture as a memory-backend configuration.
fn config(fixture: &Fixture) -> Config {
    Config {
        time_zone: fixture.time_zone.clone(),
        simulation: true,
        storage: StorageLimits {
            max_key_bytes: fixture.storage.max_key_bytes,
            max_value_bytes: fixture.storage.max_value_bytes,
            max_keys: fixture.storage.max_keys,
        },
        groups: fixture
            .groups
            .iter()
            .map(|g| GroupConfig {
                name: g.name.clone(),
                extensions: g
                    .extensions
                    .iter()
                    .map(|e| ExtensionConfig {
                        number: e.number.clone(),
                        name: e.name.clone(),
                        phone: Some(e.phone.clone()),
                        email: e.email.clone(),
                        voicemail: e.voicemail,
                        password: e.password.clone(),
                        online: e.online,
                    })
                    .collect(),
                queues: g
                    .queues
                    .iter()
                    .map(|q| QueueConfig::new(&q.number, &q.name, &q.members))
                    .collect(),
                attendants: g
                    .attendants
                    .iter()
                    .map(|a| {
                        let period = if a.always_active {
                            ActivityPeriod::always()
                        } else {
                            ActivityPeriod::never()
                        };
                        AttendantConfig::new(&a.number, &a.name, period)
                    })
                    .collect(),
                parking: Some(ParkingConfig {
                    first_number: g.parking.first_number.clone(),
                    slots: g.parking.slots,
                }),
                connections: g
                    .connections
                    .iter()
                    .map(|c| ConnectionConfig {
                        name: c.name.clone(),
                        outbound: c.outbound,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A fresh memory PBX loaded with the standard fixture, as backend and simulator.
async fn target() -> Target {
    let pbx = match MemoryPbx::new(config(&Fixture::standard())) {
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
