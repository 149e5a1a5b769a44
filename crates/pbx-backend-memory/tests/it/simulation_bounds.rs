//! Issue 18, "runaway scenario": a scenario never holds a worker thread, stops
//! when told and when the server shuts down, and its group's rate of steps and
//! number of live calls are bounded whatever a client asks for.
//!
//! Time here is tokio's paused clock and the PBX's `ManualClock`, moved
//! together by [`run_for`]; nothing depends on how fast the machine is.

use std::sync::Arc;
use std::time::Duration;

use pbx_backend::{BackendError, Caller, PbxBackend, PlayOptions, Simulator};
use pbx_backend_memory::{
    Clock, DEMO_CONFIG, ManualClock, MemoryPbx, Player, Run, Scenario, SimulationLimits,
};

use crate::support::{Demo, kind, monday_morning};

/// Endless random traffic at the highest rate a scenario may ask for (10
/// calls a second of scenario time) into Acme's queues and extensions.
const ACME_FLOOD: &str = r#"
group = "Acme"
[[traffic]]
connection = "PSTN"
calls_per_hour = 36000
queues = ["600", "601"]
extensions = ["201", "205", "207", "210"]
answer_probability = 0.5
ring_time = "1s"
talk_time = "5s"
"#;

/// The same into Globex.
const GLOBEX_FLOOD: &str = r#"
group = "Globex"
[[traffic]]
connection = "Globex-DID"
calls_per_hour = 36000
queues = ["650"]
extensions = ["301", "302"]
answer_probability = 0.5
ring_time = "1s"
talk_time = "5s"
"#;

/// The speed of issue 18's report (the limit is 1,000,000).
fn runaway() -> PlayOptions {
    let mut options = PlayOptions::default();
    options.speed = 100_000.0;
    options
}

/// Lets `seconds` pass on both clocks, in steps of 10 ms: the PBX's clock
/// (scenario time follows it) and tokio's paused clock (the budget of steps
/// refills with it, and the player's tasks run while the test sleeps).
async fn run_for(clock: &ManualClock, seconds: u64) {
    for _ in 0..seconds * 100 {
        clock.advance(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ids(calls: &[pbx_model::Call]) -> Vec<String> {
    calls.iter().map(|c| c.id.to_string()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_runaway_scenario_stops_when_told() {
    let d = Demo::new().await;
    let player = Arc::new(Player::new(d.pbx.clone()));
    player.play(&d.carol, ACME_FLOOD, runaway()).await.unwrap();
    let acme = d.carol.group();

    // Another task on this one-thread runtime gets its turn while it plays.
    let lister = {
        let (pbx, carol) = (d.pbx.clone(), d.carol.clone());
        tokio::spawn(async move { pbx.get_calls(&carol).await.map(|c| c.len()) })
    };
    run_for(&d.clock, 2).await;
    assert!(lister.is_finished(), "get_calls waited behind the scenario");
    lister.await.unwrap().unwrap();
    let playing = player.applied_steps(acme);
    assert!(playing > 100, "the scenario played only {playing} steps");

    player.stop(&d.carol).await.unwrap();
    let stopped = player.applied_steps(acme);
    let calls = ids(&d.calls(&d.carol).await);
    run_for(&d.clock, 5).await;
    assert_eq!(player.applied_steps(acme), stopped, "steps after sim.stop");
    assert_eq!(
        ids(&d.calls(&d.carol).await),
        calls,
        "calls changed after sim.stop"
    );
    assert!(!player.stop_group(acme), "nothing plays any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runaway_scenarios_do_not_starve_the_workers() {
    let d = Demo::new().await;
    let player = Arc::new(Player::new(d.pbx.clone()));
    player.play(&d.carol, ACME_FLOOD, runaway()).await.unwrap();
    player.play(&d.hank, GLOBEX_FLOOD, runaway()).await.unwrap();
    let (acme, globex) = (d.carol.group().clone(), d.hank.group().clone());

    // Both groups have hours of traffic due at once...
    d.clock.advance(Duration::from_secs(3600));
    // ...and still requests on the two workers are answered, again and again.
    let mut rounds = 0;
    while player.applied_steps(&acme) < 50 || player.applied_steps(&globex) < 50 {
        let requests: Vec<_> = [d.carol.clone(), d.hank.clone()]
            .into_iter()
            .map(|user| {
                let pbx = d.pbx.clone();
                tokio::spawn(async move { pbx.get_calls(&user).await.map(|c| c.len()) })
            })
            .collect();
        for request in requests {
            request.await.unwrap().unwrap();
        }
        d.clock.advance(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(1)).await;
        rounds += 1;
    }
    assert!(rounds > 0);

    // Stopped means stopped: nothing applied once sim.stop has answered.
    player.stop(&d.carol).await.unwrap();
    player.stop(&d.hank).await.unwrap();
    let stopped = (player.applied_steps(&acme), player.applied_steps(&globex));
    let calls = (ids(&d.calls(&d.carol).await), ids(&d.calls(&d.hank).await));
    for _ in 0..20 {
        d.clock.advance(Duration::from_secs(60));
        let pbx = d.pbx.clone();
        let carol = d.carol.clone();
        tokio::spawn(async move { pbx.get_calls(&carol).await })
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        (player.applied_steps(&acme), player.applied_steps(&globex)),
        stopped
    );
    assert_eq!(
        (ids(&d.calls(&d.carol).await), ids(&d.calls(&d.hank).await)),
        calls
    );
}

/// A demo PBX whose simulation is bounded as `table` says, on a manual clock.
async fn bounded_demo(table: &str) -> (Arc<MemoryPbx>, Arc<ManualClock>, Caller, Caller) {
    let text = DEMO_CONFIG.replace("simulation = true", &format!("simulation = {table}"));
    assert_ne!(text, DEMO_CONFIG);
    let clock = Arc::new(ManualClock::new(monday_morning()));
    let pbx = Arc::new(
        MemoryPbx::from_toml_str(&text, "demo.toml")
            .unwrap()
            .with_clock(clock.clone()),
    );
    let carol = pbx.authenticate("203", "203").await.unwrap().unwrap();
    let hank = pbx.authenticate("301", "301").await.unwrap().unwrap();
    (pbx, clock, carol, hank)
}

#[tokio::test(start_paused = true)]
async fn simulated_event_rate_is_bounded_per_group() {
    // The default bound, in two groups at once: each gets its own.
    let d = Demo::new().await;
    let cap = SimulationLimits::default().max_events_per_second;
    assert_eq!(d.pbx.simulation_limits().max_events_per_second, cap);
    let player = Player::new(d.pbx.clone());
    player.play(&d.carol, ACME_FLOOD, runaway()).await.unwrap();
    player.play(&d.hank, GLOBEX_FLOOD, runaway()).await.unwrap();
    let seconds = 10;
    run_for(&d.clock, seconds).await;
    // At most `cap` a second, plus the burst of a tenth of a second's worth
    // the budget starts with; and it really plays at about that pace.
    let most = u64::from(cap) * seconds + u64::from(cap) / 10;
    for group in [d.carol.group(), d.hank.group()] {
        let applied = player.applied_steps(group);
        assert!(applied <= most, "{group}: {applied} steps > {most}");
        assert!(applied >= most / 2, "{group}: only {applied} steps");
    }

    // A configured bound; replacing the scenario does not refill the budget.
    let (pbx, clock, carol, _) = bounded_demo("{ max_events_per_second = 20 }").await;
    let player = Player::new(pbx.clone());
    for _ in 0..50 {
        player.play(&carol, ACME_FLOOD, runaway()).await.unwrap();
        clock.advance(Duration::from_secs(1));
    }
    run_for(&clock, seconds).await;
    let applied = player.applied_steps(carol.group());
    assert!(applied <= 20 * seconds + 2, "{applied} steps");
    assert!(applied >= 20 * seconds / 2, "only {applied} steps");
}

#[tokio::test]
async fn live_calls_per_group_are_capped() {
    let (pbx, clock, carol, hank) = bounded_demo("{ max_live_calls = 5 }").await;
    assert_eq!(pbx.simulation_limits().max_live_calls, 5);
    // A queue call counts each record: the caller's and one per ringing
    // member (201, 202 and 203 of Sales; 204 is offline).
    let queue = pbx.call(&carol, "+15550100", "600", None).await.unwrap();
    assert_eq!(pbx.get_calls(&carol).await.unwrap().len(), 4);
    pbx.call(&carol, "+15550101", "205", None).await.unwrap();
    assert_eq!(pbx.get_calls(&carol).await.unwrap().len(), 5);
    let refused = pbx.call(&carol, "+15550102", "207", None).await;
    let Err(BackendError::LimitReached(message)) = refused else {
        panic!("not refused for the bound: {refused:?}")
    };
    assert!(message.contains("5 live call records"), "{message}");
    // Through the player too.
    let player = Player::new(pbx.clone());
    let e = player.call(&carol, "208", "207", None).await;
    assert_eq!(kind(e), "limit reached");
    // The bound is per group: Globex is not affected.
    pbx.call(&hank, "+15550103", "302", None).await.unwrap();
    // Room again once calls end.
    pbx.hangup(&carol, &queue).await.unwrap();
    pbx.call(&carol, "+15550102", "207", None).await.unwrap();

    // A scenario's calls beyond the bound fail like any refused step, and
    // the scenario goes on.
    let scenario = Scenario::from_toml_str(ACME_FLOOD, "flood.toml", &pbx).unwrap();
    let mut run = Run::new(
        Arc::new(scenario),
        pbx.clock().now(),
        PlayOptions::default(),
    );
    let mut refused = 0;
    for _ in 0..100 {
        clock.advance(Duration::from_secs(1));
        for step in run.advance(&pbx).await {
            if step.step.starts_with("call ")
                && step
                    .outcome
                    .as_ref()
                    .is_err_and(|e| e.contains("live call records"))
            {
                refused += 1;
            }
        }
        assert!(pbx.get_calls(&carol).await.unwrap().len() <= 5 + 10);
    }
    assert!(refused > 0, "no scenario call was refused");
}

#[tokio::test(start_paused = true)]
async fn scenarios_stop_when_the_player_stops_or_is_dropped() {
    let d = Demo::new().await;
    let player = Player::new(d.pbx.clone());
    player.play(&d.carol, ACME_FLOOD, runaway()).await.unwrap();
    player.play(&d.hank, GLOBEX_FLOOD, runaway()).await.unwrap();
    run_for(&d.clock, 1).await;
    // What the server does at shutdown.
    player.stop_all().await;
    let stopped = (
        player.applied_steps(d.carol.group()),
        player.applied_steps(d.hank.group()),
    );
    run_for(&d.clock, 2).await;
    assert_eq!(
        (
            player.applied_steps(d.carol.group()),
            player.applied_steps(d.hank.group())
        ),
        stopped
    );
    assert!(!player.stop_group(d.carol.group()) && !player.stop_group(d.hank.group()));

    // Dropping the player stops its scenarios too.
    player.play(&d.carol, ACME_FLOOD, runaway()).await.unwrap();
    run_for(&d.clock, 1).await;
    drop(player);
    let calls = ids(&d.calls(&d.carol).await);
    run_for(&d.clock, 2).await;
    assert_eq!(ids(&d.calls(&d.carol).await), calls);
}

#[tokio::test]
async fn a_run_that_falls_behind_is_deferred_not_skipped() {
    let d = Demo::new().await;
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/scenarios/queue-call.toml"),
    )
    .unwrap();
    let scenario = Scenario::from_toml_str(&text, "queue-call.toml", &d.pbx).unwrap();
    let start = d.clock.now();
    let mut run = Run::new(Arc::new(scenario), start, PlayOptions::default());
    assert_eq!(run.advance_at_most(&d.pbx, 10).await.len(), 1);
    // Ten minutes late: everything is due, but only a batch is applied.
    d.advance(600);
    let batch = run.advance_at_most(&d.pbx, 2).await;
    let steps: Vec<&str> = batch.iter().map(|a| a.step.as_str()).collect();
    assert_eq!(steps, ["answer c1 by 202", "hold c1"]);
    // Deferred to now: the resume (due at 37 s) is due now, and the rest
    // keeps its pace from there; nothing is skipped.
    assert_eq!(run.defer_to(d.clock.now()), Duration::from_secs(600 - 37));
    assert_eq!(run.next_due(), Some(d.clock.now()));
    let steps: Vec<String> = run
        .advance(&d.pbx)
        .await
        .into_iter()
        .map(|a| a.step)
        .collect();
    assert_eq!(steps, ["resume c1"]);
    // The park, 23 s of scenario time after the resume, is 23 s away.
    d.advance(22);
    assert!(run.advance_at_most(&d.pbx, 10).await.is_empty());
    d.advance(1);
    let steps: Vec<String> = run
        .advance_at_most(&d.pbx, 10)
        .await
        .into_iter()
        .map(|a| a.step)
        .collect();
    assert_eq!(steps, ["park c1 in slot 3"]);
    // A run on time is not moved.
    assert_eq!(run.defer_to(d.clock.now()), Duration::ZERO);
}

#[test]
fn the_simulation_setting_is_a_switch_or_a_table_of_bounds() {
    let load = |setting: &str| {
        let text = DEMO_CONFIG.replace("simulation = true", setting);
        MemoryPbx::from_toml_str(&text, "demo.toml").unwrap()
    };
    let defaults = SimulationLimits::default();
    assert_eq!(
        (defaults.max_events_per_second, defaults.max_live_calls),
        (200, 500)
    );
    let pbx = load("simulation = false");
    assert!(!pbx.simulation_enabled());
    assert_eq!(pbx.simulation_limits(), defaults);
    let pbx = load("simulation = { enabled = false, max_live_calls = 7 }");
    assert!(!pbx.simulation_enabled());
    assert_eq!(pbx.simulation_limits().max_live_calls, 7);
    let pbx = load("simulation = { max_events_per_second = 1000 }");
    assert!(pbx.simulation_enabled());
    assert_eq!(
        pbx.simulation_limits(),
        SimulationLimits {
            max_events_per_second: 1000,
            ..defaults
        }
    );
}
