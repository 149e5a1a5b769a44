//! Derived presence: attendants by their activity period in the PBX's time
//! zone; the simulation switch.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pbx_backend::{PbxBackend, Simulator};
use pbx_backend_memory::{ManualClock, MemoryPbx};
use pbx_model::CallId;

use crate::support::{Demo, kind};

fn at(rfc3339: &str) -> SystemTime {
    let ts: jiff::Timestamp = rfc3339.parse().expect("a timestamp");
    SystemTime::UNIX_EPOCH + Duration::from_secs(ts.as_second().try_into().expect("after 1970"))
}

/// Acme's 800 is active Mon–Fri 08:00–18:00 and 801 every day 18:00–08:00,
/// Vancouver time (UTC-8 in winter, UTC-7 in summer).
#[tokio::test]
async fn attendants_follow_their_activity_period_in_the_pbx_time_zone() {
    let d = Demo::new().await;
    let u = &d.carol;
    let cases = [
        // Monday 09:00 local.
        ("2025-01-06T17:00:00Z", "online", "offline"),
        // Monday 07:59 local: still the night service of Sunday's window.
        ("2025-01-06T15:59:00Z", "offline", "online"),
        // Monday 08:00 local.
        ("2025-01-06T16:00:00Z", "online", "offline"),
        // Monday 18:00 local: the window's end is exclusive.
        ("2025-01-07T02:00:00Z", "offline", "online"),
        // Saturday 12:00 local.
        ("2025-01-11T20:00:00Z", "offline", "offline"),
        // Sunday 17:59 local.
        ("2025-01-13T01:59:00Z", "offline", "offline"),
        // Summer (UTC-7): Wednesday 08:30 local is 15:30 UTC.
        ("2025-07-02T15:30:00Z", "online", "offline"),
        ("2025-07-02T14:30:00Z", "offline", "online"),
    ];
    for (time, main_menu, after_hours) in cases {
        d.clock.set(at(time));
        assert_eq!(
            (d.presence(u, "800").await, d.presence(u, "801").await),
            (main_menu, after_hours),
            "at {time}"
        );
    }
}

#[tokio::test]
async fn with_simulation_off_every_control_is_denied_and_the_api_still_works() {
    let text = crate::support::DEMO_CONFIG_NO_SIM.as_str();
    let pbx = Arc::new(
        MemoryPbx::from_toml_str(text, "no-sim.toml")
            .unwrap()
            .with_clock(Arc::new(ManualClock::default())),
    );
    assert!(!pbx.simulation_enabled());
    let u = pbx.authenticate("203", "203").await.unwrap().unwrap();
    let id = CallId::new("1");
    let answers = [
        kind(pbx.call(&u, "+15550100", "201", None).await),
        kind(pbx.answer(&u, &id, None).await),
        kind(pbx.hold(&u, &id).await),
        kind(pbx.resume(&u, &id).await),
        kind(pbx.hangup(&u, &id).await),
        kind(pbx.register(&u, "204").await),
        kind(pbx.unregister(&u, "201").await),
        kind(pbx.reset(&u).await),
    ];
    assert!(
        answers.iter().all(|a| *a == "permission denied"),
        "{answers:?}"
    );
    assert!(pbx.get_calls(&u).await.unwrap().is_empty());
    assert_eq!(pbx.get_extensions(&u).await.unwrap().len(), 14);
}

/// A caller this PBX never issued (another backend's, or a stale one) gets nowhere.
#[tokio::test]
async fn a_caller_of_an_unknown_group_is_refused() {
    let d = Demo::new().await;
    let stranger = pbx_backend::Caller::new(
        "203",
        pbx_model::EntityId(3),
        pbx_model::AdminGroupId::new("Initech"),
    );
    assert_eq!(kind(d.pbx.get_calls(&stranger).await), "permission denied");
    assert_eq!(
        kind(d.pbx.dict_get(&stranger, "k").await),
        "permission denied"
    );
    assert_eq!(
        kind(d.pbx.call(&stranger, "+1555", "201", None).await),
        "permission denied"
    );
}
