//! Admin groups learn nothing about each other from ids or numbering rules
//! (issue 18): call ids, entity ids and the outside-number rule are each
//! group's own, so one group's traffic, size or numbers change nothing
//! another group can see.

use std::sync::Arc;

use pbx_backend::{BackendError, Caller, PbxBackend, Simulator};
use pbx_backend_memory::{DEMO_CONFIG, ManualClock, MemoryPbx};
use pbx_model::{CallId, CallState, Entity, EntityKind, PartyKind};

use crate::support::{Demo, monday_morning};

/// A PBX from `toml` on a manual clock, with the users 203 (Acme) and 301 (Globex).
async fn pbx_from(toml: &str) -> (Arc<MemoryPbx>, Caller, Caller) {
    let clock = Arc::new(ManualClock::new(monday_morning()));
    let pbx = Arc::new(
        MemoryPbx::from_toml_str(toml, "test.toml")
            .expect("a valid configuration")
            .with_clock(clock),
    );
    let acme = pbx.authenticate("203", "203").await.unwrap().unwrap();
    let globex = pbx.authenticate("301", "301").await.unwrap().unwrap();
    (pbx, acme, globex)
}

/// The demo configuration with `extra` inserted into Acme (before its first queue).
fn demo_with_acme(extra: &str) -> String {
    let at = DEMO_CONFIG
        .find("[[group.queue]]")
        .expect("Acme has a queue");
    format!("{}{extra}\n{}", &DEMO_CONFIG[..at], &DEMO_CONFIG[at..])
}

/// The demo configuration with `extra` appended to Globex (the last group).
fn demo_with_globex(extra: &str) -> String {
    format!("{DEMO_CONFIG}\n{extra}")
}

/// Acme places two calls, with whatever Globex does in between; their ids.
async fn acme_ids_around(
    pbx: &MemoryPbx,
    acme: &Caller,
    between: impl AsyncFnOnce(),
) -> [CallId; 2] {
    let first = pbx.call(acme, "+15550100", "201", None).await.unwrap();
    between().await;
    let second = pbx.call(acme, "+15550101", "202", None).await.unwrap();
    [first, second]
}

#[tokio::test]
async fn call_ids_do_not_reveal_another_groups_call_volume() {
    let quiet = Demo::new().await;
    let quiet_ids = acme_ids_around(&quiet.pbx, &quiet.carol, async || {}).await;

    let busy = Demo::new().await;
    let (pbx, hank) = (&busy.pbx, &busy.hank);
    let busy_ids = acme_ids_around(pbx, &busy.carol, async || {
        // Seven calls, two of them to the hotline queue (a record per ringing
        // member each), one answered, one hung up, and a reset.
        for (from, to) in [
            ("+15035550100", "301"),
            ("+15035550101", "650"),
            ("+15035550102", "650"),
            ("+15035550103", "vm-301"),
            ("+15035550104", "850"),
            ("+15035550105", "302"),
            ("+15035550106", "304"),
        ] {
            pbx.call(hank, from, to, None).await.unwrap();
        }
        let calls = pbx.get_calls(hank).await.unwrap();
        assert!(calls.len() > 7, "the queue calls ring members: {calls:#?}");
        pbx.answer(hank, &calls[0].id, None).await.unwrap();
        pbx.hangup(hank, &calls[1].id).await.unwrap();
        pbx.reset(hank).await.unwrap();
    })
    .await;

    assert_eq!(
        busy_ids, quiet_ids,
        "Acme's call ids must not depend on Globex's calls"
    );
    assert_eq!(quiet_ids.map(|id| id.as_str().to_owned()), ["1", "2"]);
}

#[tokio::test]
async fn call_ids_are_never_reused_within_a_group_also_not_after_a_reset() {
    let demo = Demo::new().await;
    let (pbx, hank) = (&demo.pbx, &demo.hank);
    let mut seen = Vec::new();
    for round in 0..3 {
        for to in ["301", "650"] {
            pbx.call(hank, "+15035550100", to, None).await.unwrap();
        }
        for call in pbx.get_calls(hank).await.unwrap() {
            assert!(
                !seen.contains(&call.id),
                "round {round}: call id {} was used before a reset",
                call.id
            );
            seen.push(call.id);
        }
        pbx.reset(hank).await.unwrap();
    }
}

#[tokio::test]
async fn the_same_call_id_in_two_groups_names_each_groups_own_call() {
    let demo = Demo::new().await;
    let (pbx, carol, hank) = (&demo.pbx, &demo.carol, &demo.hank);
    let acme = pbx.call(carol, "+15550100", "201", None).await.unwrap();
    let globex = pbx.call(hank, "+15035550100", "301", None).await.unwrap();
    assert_eq!(acme, globex, "both groups' first call is number 1");

    pbx.answer(hank, &globex, None).await.unwrap();
    pbx.hold(hank, &globex).await.unwrap();
    assert_eq!(demo.call(hank, &globex).await.state, CallState::OnHold);
    assert_eq!(demo.call(carol, &acme).await.state, CallState::Ringing);

    pbx.drop_call(carol, &acme).await.unwrap();
    assert!(demo.calls(carol).await.is_empty());
    assert_eq!(demo.call(hank, &globex).await.state, CallState::OnHold);
}

/// `(type, id)` of every entity `user` sees, by number.
async fn ids(pbx: &MemoryPbx, user: &Caller) -> Vec<(String, EntityKind, u32)> {
    let entities: Vec<Entity> = pbx.get_extensions(user).await.unwrap();
    entities
        .into_iter()
        .map(|e| (e.abbreviated, e.kind, e.id.0))
        .collect()
}

#[tokio::test]
async fn entity_ids_do_not_reveal_another_groups_size() {
    let (demo, _, globex) = pbx_from(DEMO_CONFIG).await;
    let (grown, _, grown_globex) = pbx_from(&demo_with_acme(
        r#"
[[group.extension]]
number = "211"
name = "Ida Irwin"

[[group.queue]]
number = "602"
name = "Acme Billing"
members = ["211"]

[[group.attendant]]
number = "802"
name = "Acme Holidays"
"#,
    ))
    .await;

    let seen = ids(&demo, &globex).await;
    assert_eq!(
        ids(&grown, &grown_globex).await,
        seen,
        "Globex's entity ids must not change when Acme grows"
    );
    // Each type is numbered from 1 in the group: nothing counts Acme's entities.
    let of = |kind| {
        seen.iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(_, _, id)| *id)
            .collect::<Vec<_>>()
    };
    assert_eq!(of(EntityKind::Extension), [1, 2, 3, 4, 5]);
    assert_eq!(of(EntityKind::Queue), [1]);
    assert_eq!(of(EntityKind::Attendant), [1]);
    assert_eq!(
        globex.extension().0,
        1,
        "user 301 is Globex's first extension"
    );
}

#[tokio::test]
async fn entity_ids_are_looked_up_in_the_callers_group() {
    let demo = Demo::new().await;
    let (pbx, carol, hank) = (&demo.pbx, &demo.carol, &demo.hank);
    let entity = |id| pbx_model::EntityRef {
        kind: EntityKind::Extension,
        id: pbx_model::EntityId(id),
    };
    let favorite = |id| pbx_model::Favorite {
        entity: entity(id),
        slot: 1,
        size: pbx_model::FavoriteSize::Single,
    };
    // Extension 1 is 301 for Globex and 201 for Acme; only Acme has a tenth.
    pbx.set_favorites(hank, vec![favorite(1)]).await.unwrap();
    let hidden = pbx.set_favorites(hank, vec![favorite(10)]).await;
    let missing = pbx.set_favorites(hank, vec![favorite(11)]).await;
    assert!(
        matches!((&hidden, &missing), (Err(BackendError::NotFound(h)), Err(BackendError::NotFound(m))) if h.replace("10", "") == m.replace("11", "")),
        "{hidden:?} / {missing:?}"
    );
    pbx.set_favorites(carol, vec![favorite(10)]).await.unwrap();
    assert_eq!(pbx.get_favorites(hank).await.unwrap(), [favorite(1)]);
    assert_eq!(pbx.get_favorites(carol).await.unwrap(), [favorite(10)]);
}

/// Transfers a fresh call of Acme's to `destination`: the new `to` party, or the error.
async fn acme_transfer(
    pbx: &MemoryPbx,
    acme: &Caller,
    destination: &str,
) -> Result<(String, PartyKind, String), BackendError> {
    let id = pbx.call(acme, "+15550100", "201", None).await.unwrap();
    pbx.answer(acme, &id, None).await.unwrap();
    pbx.transfer(acme, &id, destination).await?;
    let calls = pbx.get_calls(acme).await.unwrap();
    let call = calls.iter().find(|c| c.id == id).expect("the call goes on");
    pbx.hangup(acme, &id).await.unwrap();
    Ok((call.to.number.clone(), call.to.kind, call.via.clone()))
}

#[tokio::test]
async fn another_groups_long_extension_does_not_change_the_outside_number_rule() {
    let (pbx, acme, globex) = pbx_from(&demo_with_globex(
        r#"
[[group.extension]]
number = "7654321"
name = "Globex Long Line"
"#,
    ))
    .await;
    assert!(
        ids(&pbx, &globex)
            .await
            .iter()
            .any(|(number, ..)| number == "7654321")
    );

    // Seven digits are longer than every number of Acme's: an outside number
    // there, whatever Globex has, and Globex's own one among them.
    for destination in ["1234567", "7654321"] {
        assert_eq!(
            acme_transfer(&pbx, &acme, destination).await.unwrap(),
            (
                destination.to_owned(),
                PartyKind::Unknown,
                "PSTN".to_owned()
            ),
            "Acme's transfer to {destination}"
        );
    }
    let inbound = pbx.call(&acme, "1234567", "202", None).await.unwrap();
    let calls = pbx.get_calls(&acme).await.unwrap();
    let call = calls.iter().find(|c| c.id == inbound).unwrap();
    assert_eq!(call.from.number, "1234567");
    assert_eq!(call.from.kind, PartyKind::Unknown);

    // The same answers as on the demo PBX, where no group has a long number.
    let (demo, demo_acme, _) = pbx_from(DEMO_CONFIG).await;
    assert_eq!(
        acme_transfer(&demo, &demo_acme, "1234567").await.unwrap(),
        acme_transfer(&pbx, &acme, "1234567").await.unwrap()
    );

    // Within Globex, seven digits are an internal length: an unknown one is
    // not found, as a three-digit one would be.
    let unknown = pbx.call(&globex, "1234567", "301", None).await;
    assert!(
        matches!(unknown, Err(BackendError::NotFound(_))),
        "{unknown:?}"
    );
    let eight = pbx.call(&globex, "12345678", "301", None).await.unwrap();
    assert_eq!(
        pbx.get_calls(&globex)
            .await
            .unwrap()
            .iter()
            .find(|c| c.id == eight)
            .map(|c| c.from.number.as_str()),
        Some("12345678")
    );
}
