//! Scenario files, played on a manual clock.
//!
//! Each `fixtures/scenarios/<name>.toml` runs to completion on the demo PBX and
//! must produce exactly `<name>.expected`: every step applied, and after each
//! moment something happened the calls `get_calls` shows (for scenarios with
//! random traffic, every ten minutes). Each `fixtures/scenarios/bad/<name>.toml`
//! must be refused with exactly `<name>.expected`. `UPDATE_EXPECT=1 cargo test`
//! rewrites the expected files; review the diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pbx_backend::{PlayOptions, Simulator};
use pbx_backend_memory::{Clock as _, Run, Scenario, ScenarioError};
use pbx_model::Call;

use crate::support::Demo;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scenarios")
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the file, or rewrites it under `UPDATE_EXPECT`.
fn expect_file(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(path, actual).expect("write the expected file");
        return Ok(());
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|_| format!("{} is missing (UPDATE_EXPECT=1)", path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let first = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    Err(format!(
        "{}: differs from line {}:\n  expected: {:?}\n  actual:   {:?}",
        path.display(),
        first + 1,
        expected.lines().nth(first),
        actual.lines().nth(first)
    ))
}

fn show(call: &Call) -> String {
    format!(
        "  {} {} {}:{} -> {}:{} via={:?} q={} {}s",
        call.id,
        call.state,
        call.from.kind,
        call.from.number,
        call.to.kind,
        call.to.number,
        call.via,
        u8::from(call.qcall),
        call.duration
    )
}

fn clock_offset(start: SystemTime, now: SystemTime) -> String {
    let ms = now.duration_since(start).unwrap_or_default().as_millis();
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// Plays `scenario` on `d`'s clock until it ends (or `limit` of clock time),
/// and writes down what happened. `every`: snapshots only at these marks.
async fn transcript(
    d: &Demo,
    scenario: Scenario,
    options: PlayOptions,
    every: Option<Duration>,
    limit: Duration,
) -> String {
    let start = d.clock.now();
    let mut run = Run::new(Arc::new(scenario), start, options);
    let mut out = String::new();
    let mut mark = start;
    loop {
        let now = d.clock.now();
        let applied = run.advance(&d.pbx).await;
        d.pbx
            .check_consistency()
            .expect("consistent after each step");
        let snapshot = match every {
            None => !applied.is_empty(),
            Some(_) => now >= mark,
        };
        if !applied.is_empty() || snapshot {
            writeln!(out, "@ {}", clock_offset(start, now)).unwrap();
        }
        for step in &applied {
            writeln!(out, "> [{}] {step}", step.round).unwrap();
        }
        if snapshot {
            for call in d.calls(&d.carol).await {
                writeln!(out, "{}", show(&call)).unwrap();
            }
            if let Some(every) = every {
                mark += every;
            }
        }
        let Some(due) = run.next_due() else { break };
        let next = match every {
            Some(_) => due.min(mark),
            None => due,
        };
        if next.duration_since(start).unwrap_or_default() > limit {
            writeln!(out, "@ {} (stopped)", clock_offset(start, next)).unwrap();
            break;
        }
        assert!(next >= now, "time goes forward");
        d.clock.set(next);
    }
    out
}

fn load(d: &Demo, path: &Path) -> Scenario {
    Scenario::from_toml_file(path, &d.pbx).unwrap_or_else(|e| panic!("{e}"))
}

const HOURS: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn every_example_scenario_plays_to_its_expected_calls() {
    let files = toml_files(&fixtures());
    assert!(files.len() >= 4, "examples missing from fixtures/scenarios");
    let mut mismatches = Vec::new();
    for file in &files {
        let d = Demo::new().await;
        let scenario = load(&d, file);
        let every = (scenario.duration() > Some(Duration::from_secs(3600)))
            .then_some(Duration::from_secs(600));
        let out = transcript(&d, scenario, PlayOptions::default(), every, HOURS).await;
        if let Err(e) = expect_file(&file.with_extension("expected"), &out) {
            mismatches.push(e);
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn the_office_day_is_built_in_and_keeps_the_demo_busy() {
    let d = Demo::new().await;
    let scenario = Scenario::builtin("office-day", &d.pbx)
        .expect("built in")
        .expect("valid");
    assert_eq!(scenario.group().as_str(), "Acme");
    let mut run = Run::new(Arc::new(scenario), d.clock.now(), PlayOptions::default());
    let (mut placed, mut busiest, mut parked, mut vm, mut held) = (0, 0, 0, 0, 0);
    while let Some(due) = run.next_due() {
        d.clock.set(due);
        for step in run.advance(&d.pbx).await {
            if step.step.starts_with("call ") && step.outcome.is_ok() {
                placed += 1;
            }
        }
        let calls = d.calls(&d.carol).await;
        busiest = busiest.max(calls.len());
        parked += calls
            .iter()
            .filter(|c| c.state.to_string() == "parked")
            .count()
            .min(1);
        held += calls
            .iter()
            .filter(|c| c.state.to_string() == "onhold")
            .count()
            .min(1);
        vm += calls
            .iter()
            .filter(|c| c.to.kind.to_string() == "vm")
            .count()
            .min(1);
    }
    assert!(placed > 200, "{placed} calls in a day");
    assert!(busiest >= 4, "at most {busiest} calls at once");
    assert!(
        parked > 0 && held > 0 && vm > 0,
        "parked {parked}, held {held}, voicemail {vm}"
    );
}

#[tokio::test]
async fn a_seeded_generator_makes_the_same_calls_every_time_and_another_seed_others() {
    let text = std::fs::read_to_string(fixtures().join("random-traffic.toml")).unwrap();
    let play = |text: String| async move {
        let d = Demo::new().await;
        let scenario = Scenario::from_toml_str(&text, "random-traffic.toml", &d.pbx).unwrap();
        transcript(&d, scenario, PlayOptions::default(), None, HOURS).await
    };
    let first = play(text.clone()).await;
    assert!(first.matches(" call t1-").count() >= 5, "{first}");
    assert_eq!(first, play(text.clone()).await);
    let reseeded = text.replace("seed = 7", "seed = 8");
    assert_ne!(reseeded, text);
    assert_ne!(first, play(reseeded).await);
}

#[tokio::test]
async fn speed_scales_scenario_time_against_the_clock() {
    let d = Demo::new().await;
    let scenario = load(&d, &fixtures().join("queue-call.toml"));
    let mut options = PlayOptions::default();
    options.speed = 4.0;
    let out = transcript(&d, scenario, options, None, HOURS).await;
    // The answer at 7s comes 1.75s into the run, the hang-up at 3m after 45s;
    // the calls' durations are clock time.
    assert!(
        out.contains("@ 1.750s\n> [0] 7s answer c1 by 202\n"),
        "{out}"
    );
    assert!(out.contains("@ 45.000s\n> [0] 3m hangup c1\n"), "{out}");
    assert!(
        out.contains("connected unknown:+15550100 -> extension:202 via=\"PSTN\" q=1 1s"),
        "{out}"
    );
}

#[tokio::test]
async fn a_looping_scenario_starts_over_from_a_reset_group() {
    let d = Demo::new().await;
    let scenario = load(&d, &fixtures().join("presence.toml"));
    let mut options = PlayOptions::default();
    options.repeat = true;
    // A manual call of the user's: the reset between rounds ends it.
    let own = d.pbx.call(&d.carol, "208", "207", None).await.unwrap();
    let out = transcript(&d, scenario, options, None, Duration::from_secs(250)).await;
    // Each round plays the same steps, two minutes apart on the clock, from a
    // reset group (the user's own call is gone), with new call ids.
    let steps = |round: u64| -> Vec<String> {
        let prefix = format!("> [{round}] ");
        out.lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .filter(|l| !l.contains("reset the group"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(steps(0).len(), 9, "{out}");
    assert_eq!(steps(0), steps(1));
    assert_eq!(steps(2).len(), 4, "the third round is cut short: {out}");
    assert!(
        out.contains("@ 120.000s\n> [0] 2m hangup inside\n> [1] 0s reset the group"),
        "{out}"
    );
    assert!(out.contains("@ 122.000s\n> [1] 2s call to-eve"), "{out}");
    assert!(
        out.contains("  4 ringing unknown:+15550177 -> vm:vm-205"),
        "{out}"
    );
    assert!(!d.calls(&d.carol).await.iter().any(|c| c.id == own));
    assert!(out.contains("(stopped)"));
}

#[tokio::test]
async fn a_run_is_driven_by_the_clock_alone() {
    let d = Demo::new().await;
    let scenario = load(&d, &fixtures().join("queue-call.toml"));
    let start = d.clock.now();
    let mut run = Run::new(Arc::new(scenario), start, PlayOptions::default());
    assert_eq!(run.next_due(), Some(start));
    assert_eq!(run.advance(&d.pbx).await.len(), 1);
    // Nothing more is due before 7s, however often it is asked.
    d.advance(6);
    assert!(run.advance(&d.pbx).await.is_empty());
    assert_eq!(run.next_due(), Some(start + Duration::from_secs(7)));
    // A clock that jumps applies everything due, in order.
    d.advance(600);
    let applied: Vec<String> = run
        .advance(&d.pbx)
        .await
        .iter()
        .map(|a| a.step.clone())
        .collect();
    assert_eq!(applied.len(), 7, "{applied:?}");
    assert_eq!(applied.last().map(String::as_str), Some("hangup c1"));
    assert!(run.is_finished());
    assert_eq!(run.next_due(), None);
    assert!(d.calls(&d.carol).await.is_empty());
}

#[tokio::test]
async fn a_player_applies_due_steps_at_once_and_stops_on_request() {
    let d = Demo::new().await;
    let player = pbx_backend_memory::Player::new(d.pbx.clone());
    let scenario = load(&d, &fixtures().join("queue-call.toml"));
    player.start(scenario, PlayOptions::default()).await;
    assert_eq!(
        d.calls(&d.carol).await.len(),
        4,
        "the queue call rings at once"
    );
    player.stop(&d.carol).await.unwrap();
    assert!(
        !player.stop_group(d.carol.group()),
        "nothing plays any more"
    );
    // sim.play: scoped to the caller's group; numbers outside it are not found.
    let globex = "[[step]]\nat = 0\noffline = \"302\"\n";
    let e = player
        .play(&d.carol, globex, PlayOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, pbx_backend::BackendError::NotFound(_)), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("scenario:3:11: no such extension"),
        "{e}"
    );
    let e = player
        .play(&d.hank, "office-day", PlayOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, pbx_backend::BackendError::NotFound(_)), "{e}");
    let e = player
        .play(&d.carol, "no-such-day", PlayOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, pbx_backend::BackendError::NotFound(_)), "{e}");
    let bad = "[[step]]\nat = 0\n";
    let e = player
        .play(&d.carol, bad, PlayOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, pbx_backend::BackendError::InvalidInput(_)),
        "{e}"
    );
    player
        .play(
            &d.hank,
            "[[step]]\nat = 0\noffline = \"302\"\n",
            PlayOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(d.presence(&d.hank, "302").await, "offline");
}

#[test]
fn every_bad_scenario_is_reported_with_file_line_and_problem() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let d = rt.block_on(Demo::new());
    let files = toml_files(&fixtures().join("bad"));
    assert!(
        files.len() >= 10,
        "fixtures missing from fixtures/scenarios/bad"
    );
    let mut mismatches = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let e = match Scenario::from_toml_str(&text, &name, &d.pbx) {
            Ok(_) => panic!("{name}: accepted, but should fail"),
            Err(e) => e,
        };
        assert!(matches!(e, ScenarioError::Invalid { .. }));
        let message = e.to_string();
        for line in message.lines() {
            let mut parts = line.splitn(4, ':');
            assert_eq!(parts.next(), Some(name.as_str()), "{line}");
            assert!(
                parts.next().is_some_and(|l| l.parse::<usize>().is_ok())
                    && parts.next().is_some_and(|c| c.parse::<usize>().is_ok()),
                "not `file:line:column: problem`: {line}"
            );
        }
        if let Err(e) = expect_file(&file.with_extension("expected"), &format!("{message}\n")) {
            mismatches.push(e);
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
