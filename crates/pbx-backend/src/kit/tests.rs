//! Tests of the kit's machinery: the runner, the report, the fixture.
//!
//! The real run is against the in-memory backend, in `pbx-backend-memory`'s tests.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use pbx_model::{AdminGroupId, Call, CallId, Entity, EntityId, Favorite, ParkingInfo};

use super::*;
use crate::{BackendError, BackendResult, Caller, PbxBackend};

/// Runs a future whose every await is ready at once (the fake backend's are).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// A backend that knows the fixture's users and parking lots and nothing else,
/// or panics on every parking question.
struct Fake {
    panics: bool,
}

fn unsupported<T>() -> BackendResult<T> {
    Err(BackendError::internal("the fake backend does not do this"))
}

#[async_trait]
impl PbxBackend for Fake {
    async fn authenticate(&self, user: &str, password: &str) -> BackendResult<Option<Caller>> {
        let fixture = Fixture::standard();
        Ok(fixture.extension(user).and_then(|(group, e)| {
            (e.password.as_deref() == Some(password))
                .then(|| Caller::new(user, EntityId(0), AdminGroupId::new(group.name.clone())))
        }))
    }
    async fn get_calls(&self, _: &Caller) -> BackendResult<Vec<Call>> {
        unsupported()
    }
    async fn get_extensions(&self, _: &Caller) -> BackendResult<Vec<Entity>> {
        unsupported()
    }
    async fn get_favorites(&self, _: &Caller) -> BackendResult<Vec<Favorite>> {
        unsupported()
    }
    async fn set_favorites(&self, _: &Caller, _: Vec<Favorite>) -> BackendResult<()> {
        unsupported()
    }
    async fn transfer(&self, _: &Caller, _: &CallId, _: &str) -> BackendResult<()> {
        unsupported()
    }
    async fn drop_call(&self, _: &Caller, _: &CallId) -> BackendResult<()> {
        unsupported()
    }
    async fn get_parking_info(&self, caller: &Caller) -> BackendResult<ParkingInfo> {
        assert!(!self.panics, "the fake backend panics here");
        let fixture = Fixture::standard();
        let lot = &fixture
            .group(caller.group().as_str())
            .ok_or_else(|| BackendError::not_found("no such group"))?
            .parking;
        Ok(ParkingInfo {
            parking_extension: lot.first_number.clone(),
            slots: lot.slots,
            parked_calls: Default::default(),
        })
    }
    async fn park(&self, _: &Caller, _: &CallId, _: Option<u32>) -> BackendResult<u32> {
        unsupported()
    }
    async fn dict_set(&self, _: &Caller, _: &str, _: &str) -> BackendResult<()> {
        unsupported()
    }
    async fn dict_set_many(&self, _: &Caller, _: Vec<(String, String)>) -> BackendResult<()> {
        unsupported()
    }
    async fn dict_get(&self, _: &Caller, _: &str) -> BackendResult<String> {
        unsupported()
    }
    async fn dict_delete(&self, _: &Caller, _: &str) -> BackendResult<()> {
        unsupported()
    }
    async fn get_all(&self, _: &Caller, _: usize) -> BackendResult<Vec<(String, String)>> {
        unsupported()
    }
}

fn fake(panics: bool) -> impl Fn() -> std::future::Ready<Target> {
    move || std::future::ready(Target::new(Arc::new(Fake { panics }), None))
}

#[test]
fn outcomes_follow_the_backend_and_the_simulator() {
    let report = block_on(run(fake(false)));
    assert_eq!(report.checks.len(), checks().len());
    for (entry, check) in report.checks.iter().zip(checks()) {
        assert_eq!(entry.name, check.name);
        match (&entry.outcome, check.needs_simulator) {
            (Outcome::Skipped(why), true) => assert!(why.contains("Simulator"), "{why}"),
            // The fake offers no events (the trait's default): skipped, saying so.
            (Outcome::Skipped(why), false) if check.name.starts_with("events.") => {
                assert!(why.contains("no live events"), "{why}")
            }
            (Outcome::Skipped(_), false) => {
                panic!("{} skipped without needing a simulator", check.name)
            }
            (_, true) => panic!("{} ran without a simulator", check.name),
            (Outcome::Passed, false) => assert_eq!(check.name, "parking.info"),
            (Outcome::Failed(message), false) => {
                assert_ne!(check.name, "parking.info", "{message}");
                assert!(!message.is_empty());
            }
        }
    }
    assert!(!report.is_success());
    assert_eq!(report.outcome("parking.info"), Some(&Outcome::Passed));
    // A failure says what was asked and what came back.
    let Some(Outcome::Failed(message)) = report.outcome("extensions.visibility") else {
        panic!("extensions.visibility should fail against the fake: {report}");
    };
    assert!(message.contains("get_extensions as 201"), "{message}");
    assert!(message.contains("Internal"), "{message}");
}

#[test]
fn a_panicking_backend_fails_its_check_and_the_run_goes_on() {
    let report = block_on(run_matching(fake(true), |name| {
        name.starts_with("parking.")
    }));
    let Some(Outcome::Failed(message)) = report.outcome("parking.info") else {
        panic!("parking.info should fail: {report}");
    };
    assert!(
        message.contains("panicked: the fake backend panics here"),
        "{message}"
    );
    assert!(
        report.checks.len() > 1,
        "the run goes on after the panic: {report}"
    );
    assert!(report.checks.iter().all(|c| c.name.starts_with("parking.")));
}

#[test]
fn run_one_runs_one_check_and_names_unknown_ones() {
    let report = block_on(run_one("parking.info", fake(false)));
    assert_eq!(report.checks.len(), 1);
    report.assert_all_passed();

    let report = block_on(run_one("parking.ful", fake(false)));
    assert_eq!(report.checks.len(), 1);
    let Some(Outcome::Failed(message)) = report.outcome("parking.ful") else {
        panic!("an unknown name should be a failure: {report}");
    };
    assert!(message.contains("no check has this name"), "{message}");
}

fn sample_report() -> Report {
    let entry = |name: &str, outcome| CheckReport {
        name: name.into(),
        outcome,
    };
    Report {
        checks: vec![
            entry("a.ok", Outcome::Passed),
            entry("b.broken", Outcome::Failed("expected 1, got 2".into())),
            entry("c.skipped", Outcome::Skipped("needs a Simulator".into())),
        ],
    }
}

#[test]
fn the_report_shows_a_summary_and_one_line_per_check() {
    assert_eq!(
        sample_report().to_string(),
        "conformance kit: 1 passed, 1 failed, 1 skipped\n\
         \x20 ok      a.ok\n\
         \x20 FAILED  b.broken: expected 1, got 2\n\
         \x20 skipped c.skipped: needs a Simulator\n"
    );
}

#[test]
fn assert_all_passed_panics_with_the_failures_only_when_some_failed() {
    let mut report = sample_report();
    let panic = std::panic::catch_unwind(|| report.assert_all_passed())
        .expect_err("a failed check must make assert_all_passed panic");
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("1 of 3 conformance checks failed"), "{text}");
    assert!(text.contains("b.broken: expected 1, got 2"), "{text}");

    report.checks.retain(|c| c.name != "b.broken");
    report.assert_all_passed(); // skipped checks are no failures
    assert!(report.is_success());
}

#[test]
fn checks_have_unique_names_in_known_areas_and_descriptions() {
    let areas = [
        "auth",
        "extensions",
        "calls",
        "queue",
        "transfer",
        "drop",
        "parking",
        "favorites",
        "storage",
        "events",
        "sim",
    ];
    let mut names = BTreeSet::new();
    for check in checks() {
        assert!(names.insert(check.name), "{} twice", check.name);
        let area = check.name.split('.').next().unwrap_or_default();
        assert!(areas.contains(&area), "{}: unknown area", check.name);
        assert!(!check.description.is_empty(), "{}", check.name);
    }
}

#[test]
fn the_fixture_is_consistent() {
    let fixture = Fixture::standard();
    let mut numbers = BTreeSet::new();
    for group in &fixture.groups {
        let own: Vec<&str> = group
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .chain(group.queues.iter().map(|q| q.number.as_str()))
            .chain(group.attendants.iter().map(|a| a.number.as_str()))
            .collect();
        for number in &own {
            assert!(numbers.insert(*number), "{number} twice in the PBX");
            assert!(number.len() == 3 && number.bytes().all(|b| b.is_ascii_digit()));
        }
        for queue in &group.queues {
            for member in &queue.members {
                assert!(
                    group.extensions.iter().any(|e| &e.number == member),
                    "queue {} member {member} is no extension of {}",
                    queue.number,
                    group.name
                );
            }
        }
        assert!(group.parking.slots > 0);
        assert!(
            !group.connections.is_empty(),
            "{} needs an inbound connection",
            group.name
        );
    }

    // What the checks rely on.
    let alpha = fixture.group("Alpha").expect("group Alpha");
    let beta = fixture.group("Beta").expect("group Beta");
    assert!(alpha.connections.iter().any(|c| c.outbound));
    assert!(!beta.connections.iter().any(|c| c.outbound));
    assert_eq!(alpha.parking.slots, 3);
    let users = |g: &Group| g.extensions.iter().filter(|e| e.password.is_some()).count();
    assert!(users(alpha) >= 2 && users(beta) >= 1);
    assert!(alpha.attendants.iter().any(|a| a.always_active));
    assert!(alpha.attendants.iter().any(|a| !a.always_active));
    let ext = |n: &str| fixture.extension(n).expect("fixture extension").1;
    assert!(ext("204").voicemail && !ext("204").online);
    assert!(!ext("205").voicemail && !ext("205").online);
    assert!(ext("203").password.is_none());
    assert_eq!(fixture.storage.max_keys, 50);
}

#[test]
fn a_check_comparing_backends_asks_the_factory_for_each_and_is_skipped_with_fewer() {
    let check = checks()
        .iter()
        .find(|c| c.name == "calls.ids_per_group")
        .expect("the check exists");
    assert_eq!(check.backends, 3);
    let target = || Target::new(Arc::new(Fake { panics: false }), None);
    let Outcome::Skipped(why) = block_on(check.run(target())) else {
        panic!("one backend is not enough to compare");
    };
    assert!(
        why.contains("compares 3 separate fresh backends, 1 given"),
        "{why}"
    );

    let asked = std::cell::Cell::new(0);
    let report = block_on(run_one("calls.ids_per_group", || {
        asked.set(asked.get() + 1);
        std::future::ready(target())
    }));
    assert_eq!(asked.get(), 3);
    let Some(Outcome::Skipped(why)) = report.outcome("calls.ids_per_group") else {
        panic!("without a simulator the check is skipped: {report}");
    };
    assert!(why.contains("Simulator"), "{why}");
}
