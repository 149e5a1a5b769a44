//! Test support for code built on this crate: the conformance kit's fixture as
//! a [`Config`].
//!
//! `pbx-backend`'s conformance kit runs against a `MemoryPbx` built from
//! [`config`]. The checks every `Storage` passes are `pbx-user-data`'s
//! (`pbx_user_data::check_storage`).
//!
//! ```
//! use pbx_backend::kit::Fixture;
//! use pbx_backend_memory::{MemoryPbx, kit};
//!
//! let pbx = MemoryPbx::new(kit::config(&Fixture::standard())).expect("the fixture is valid");
//! # let _ = pbx;
//! ```

use pbx_backend::kit::Fixture;

use crate::{
    ActivityPeriod, AttendantConfig, Config, ConnectionConfig, ExtensionConfig, GroupConfig,
    ParkingConfig, QueueConfig,
};

/// The conformance kit's fixture as a configuration of this crate.
pub fn config(fixture: &Fixture) -> Config {
    Config {
        time_zone: fixture.time_zone.clone(),
        simulation: true,
        simulation_limits: crate::SimulationLimits::default(),
        storage: fixture.storage,
        // The fixture's users log in with plain passwords.
        allow_plain_passwords: true,
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
                        password_hash: None,
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
                webhooks: Vec::new(),
            })
            .collect(),
    }
}
