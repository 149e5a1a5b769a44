//! Live events of the memory PBX: every change of its state machine is an
//! event of the group's, whoever made it (a method, `sim.*`, a scenario).

use std::sync::Arc;

use pbx_backend::kit::{self, Fixture, Outcome, Target};
use pbx_backend::{
    Caller, Delivery, Event, EventData, EventKind, EventWindow, PbxBackend, Simulator, Subscription,
};
use pbx_backend_memory::MemoryPbx;
use pbx_model::Presence;

fn pbx() -> Arc<MemoryPbx> {
    Arc::new(
        MemoryPbx::new(pbx_backend_memory::kit::config(&Fixture::standard()))
            .expect("the standard fixture is valid"),
    )
}

async fn user(pbx: &MemoryPbx, number: &str, password: &str) -> Caller {
    pbx.authenticate(number, password)
        .await
        .unwrap()
        .expect("a fixture user")
}

/// Everything pending: the memory PBX publishes within the operation.
fn pending(sub: &mut Subscription) -> Vec<Event> {
    std::iter::from_fn(|| sub.try_next())
        .map(|d| match d {
            Delivery::Event(e) => e,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

#[tokio::test]
async fn the_memory_pbx_passes_every_event_check_of_the_kit() {
    let report = kit::run(|| async {
        let pbx = pbx();
        Target::new(pbx.clone(), Some(pbx))
    })
    .await;
    let events: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.name.starts_with("events."))
        .collect();
    assert!(events.len() >= 5, "{report}");
    for check in events {
        assert_eq!(check.outcome, Outcome::Passed, "{}: {report}", check.name);
    }
}

#[tokio::test]
async fn a_queue_call_fans_out_and_collapses_as_events_of_its_member_records() {
    let pbx = pbx();
    let alice = user(&pbx, "201", "alpha-201").await;
    let mut sub = pbx.events(&alice, None).await.unwrap();
    let incoming = pbx.call(&alice, "+15550100", "600", None).await.unwrap();
    let fan_out = pending(&mut sub);
    let created: Vec<_> = fan_out
        .iter()
        .filter(|e| e.kind == EventKind::CallCreated)
        .collect();
    // The incoming record and one per online idle member: every record listed.
    let records = pbx.get_calls(&alice).await.unwrap().len();
    assert!(
        records >= 3,
        "a queue call with two members ringing at least"
    );
    assert_eq!(created.len(), records, "{:?}", kinds(&fan_out));
    // The members are busy now: the queue goes offline, an entity.updated.
    assert!(fan_out.iter().any(|e| matches!(&e.data, EventData::Entity(q) if q.abbreviated == "600" && q.presence == Presence::Offline)), "{:?}", kinds(&fan_out));

    pbx.answer(&alice, &incoming, None).await.unwrap();
    let collapse = pending(&mut sub);
    let ended = collapse
        .iter()
        .filter(|e| e.kind == EventKind::CallEnded)
        .count();
    assert!(
        ended >= 2,
        "the other members' records end: {:?}",
        kinds(&collapse)
    );
    let calls = pbx.get_calls(&alice).await.unwrap();
    for call in &calls {
        // Every live record's last event carries it as get_calls shows it.
        let last = fan_out
            .iter()
            .chain(&collapse)
            .rev()
            .find_map(|e| match &e.data {
                EventData::Call(c) if c.id == call.id => Some(c),
                _ => None,
            });
        let last = last.unwrap_or_else(|| panic!("no event for live record {}", call.id));
        assert_eq!(
            (&last.state, &last.from, &last.to, &last.via, last.qcall),
            (&call.state, &call.from, &call.to, &call.via, call.qcall)
        );
    }
}

#[tokio::test]
async fn sim_reset_and_presence_changes_are_events_and_the_other_group_sees_none() {
    let pbx = pbx();
    let alice = user(&pbx, "201", "alpha-201").await;
    let beta = user(&pbx, "301", "beta-301").await;
    let mut ours = pbx.events(&alice, None).await.unwrap();
    let mut theirs = pbx.events(&beta, None).await.unwrap();
    pbx.unregister(&alice, "202").await.unwrap();
    let got = pending(&mut ours);
    assert!(got.iter().any(|e| matches!(&e.data, EventData::Entity(x) if x.abbreviated == "202" && x.presence == Presence::Offline)), "{:?}", kinds(&got));
    pbx.call(&alice, "+15550100", "201", None).await.unwrap();
    pbx.reset(&alice).await.unwrap();
    let got = pending(&mut ours);
    assert_eq!(
        got.first().map(|e| e.kind),
        Some(EventKind::CallCreated),
        "{:?}",
        kinds(&got)
    );
    assert!(
        got.iter().any(|e| e.kind == EventKind::CallEnded),
        "reset ends the call: {:?}",
        kinds(&got)
    );
    assert!(got.iter().any(|e| matches!(&e.data, EventData::Entity(x) if x.abbreviated == "202" && x.presence == Presence::Online)), "reset restores presence: {:?}", kinds(&got));
    assert!(pending(&mut theirs).is_empty());
}

#[tokio::test]
async fn parking_is_an_event_and_a_duration_tick_is_not() {
    let pbx = pbx();
    let alice = user(&pbx, "201", "alpha-201").await;
    let id = pbx.call(&alice, "+15550100", "201", None).await.unwrap();
    pbx.answer(&alice, &id, None).await.unwrap();
    let mut sub = pbx.events(&alice, None).await.unwrap();
    // A change elsewhere in the group re-renders the call: unchanged but for its duration.
    pbx.hold(&alice, &id).await.unwrap();
    pbx.resume(&alice, &id).await.unwrap();
    assert_eq!(kinds(&pending(&mut sub)), ["call.updated", "call.updated"]);
    pbx.park(&alice, &id, None).await.unwrap();
    let got = pending(&mut sub);
    assert!(
        got.iter()
            .any(|e| matches!(&e.data, EventData::Parking(p) if p.parked_calls.len() == 1)),
        "{:?}",
        kinds(&got)
    );
}

#[tokio::test]
async fn a_window_of_n_events_replays_n_and_resets_beyond() {
    let pbx = Arc::new(
        MemoryPbx::new(pbx_backend_memory::kit::config(&Fixture::standard()))
            .unwrap()
            .with_event_window(EventWindow::events(3)),
    );
    let alice = user(&pbx, "201", "alpha-201").await;
    let mut sub = pbx.events(&alice, None).await.unwrap();
    let start = sub.cursor().clone();
    let id = pbx.call(&alice, "+15550100", "201", None).await.unwrap();
    pbx.answer(&alice, &id, None).await.unwrap();
    let first = pending(&mut sub);
    assert!(
        !pbx.events(&alice, Some(&start)).await.unwrap().is_reset(),
        "{:?}",
        kinds(&first)
    );
    for _ in 0..2 {
        pbx.hold(&alice, &id).await.unwrap();
        pbx.resume(&alice, &id).await.unwrap();
    }
    assert!(
        pbx.events(&alice, Some(&start)).await.unwrap().is_reset(),
        "expired"
    );
}

/// A subscriber that applies each event as an upsert (or, for call.ended, a
/// removal) holds exactly what get_calls, get_extensions and
/// get_parking_info show, step by step through a whole scenario: every change
/// a scenario makes is an event.
#[tokio::test]
async fn applying_the_events_of_an_office_day_reproduces_what_the_methods_show() {
    use pbx_backend_memory::{Clock as _, Run, Scenario};
    use std::collections::BTreeMap;
    let d = crate::support::Demo::new().await;
    let carol = &d.carol;
    let mut sub = d.pbx.events(carol, None).await.unwrap();
    assert!(sub.is_reset());
    let mut calls: BTreeMap<_, _> = d
        .pbx
        .get_calls(carol)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut entities = d.pbx.get_extensions(carol).await.unwrap();
    let mut parking = d.pbx.get_parking_info(carol).await.unwrap();
    let scenario = Scenario::builtin("office-day", &d.pbx)
        .expect("built in")
        .expect("valid");
    let mut run = Run::new(
        Arc::new(scenario),
        d.clock.now(),
        pbx_backend::PlayOptions::default(),
    );
    let (mut steps, mut events) = (0, 0);
    while let Some(due) = run.next_due() {
        d.clock.set(due);
        steps += run.advance(&d.pbx).await.len();
        for event in pending(&mut sub) {
            events += 1;
            match (event.kind, event.data) {
                (EventKind::CallEnded, EventData::Call(c)) => {
                    assert!(
                        calls.remove(&c.id).is_some(),
                        "ended a call never shown: {c:?}"
                    );
                }
                (_, EventData::Call(c)) => {
                    calls.insert(c.id.clone(), c);
                }
                (_, EventData::Entity(e)) => {
                    let at = entities
                        .iter()
                        .position(|x| x.kind == e.kind && x.id == e.id)
                        .expect("a known entity");
                    entities[at] = e;
                }
                (_, EventData::Parking(p)) => parking = p,
                other => panic!("unexpected {other:?}"),
            }
        }
        let shown = d.pbx.get_calls(carol).await.unwrap();
        let ours: Vec<_> = calls
            .values()
            .map(|c| (&c.id, c.state, &c.from, &c.to, &c.via, c.qcall))
            .collect();
        let theirs: Vec<_> = shown
            .iter()
            .map(|c| (&c.id, c.state, &c.from, &c.to, &c.via, c.qcall))
            .collect();
        let mut theirs = theirs;
        theirs.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(ours, theirs, "after {steps} steps");
        assert_eq!(
            entities,
            d.pbx.get_extensions(carol).await.unwrap(),
            "after {steps} steps"
        );
        assert_eq!(
            parking,
            d.pbx.get_parking_info(carol).await.unwrap(),
            "after {steps} steps"
        );
    }
    assert!(
        steps > 10 && events > steps,
        "{steps} steps, {events} events"
    );
}
