//! Running checks: [`Target`], [`Check`], [`Report`] and the `run*` functions.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::ctx::Ctx;
use crate::{PbxBackend, Simulator};

/// A boxed check future.
pub(super) type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A backend under test, freshly loaded with [`Fixture::standard`](super::Fixture::standard).
#[derive(Clone)]
pub struct Target {
    /// The backend.
    pub backend: Arc<dyn PbxBackend>,
    /// Its simulation controls, if it has any. The checks that need calls place
    /// them through it, and are skipped without it.
    pub simulator: Option<Arc<dyn Simulator>>,
}

impl Target {
    /// A backend with simulation controls, typically the same object twice.
    pub fn new(backend: Arc<dyn PbxBackend>, simulator: Option<Arc<dyn Simulator>>) -> Self {
        Self { backend, simulator }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("simulator", &self.simulator.is_some())
            .finish_non_exhaustive()
    }
}

/// One check of the kit. The list is [`checks()`](super::checks).
pub struct Check {
    /// Its name, e.g. `"transfer.outbound"`: the part before the dot names the area.
    pub name: &'static str,
    /// What it verifies, in one sentence.
    pub description: &'static str,
    /// Whether it places calls through the [`Simulator`] (skipped without one).
    pub needs_simulator: bool,
    /// How many fresh backends it needs: 1, or more for a check that compares
    /// what the same steps give on separate backends (the `run*` functions
    /// ask the factory for each).
    pub backends: usize,
    pub(super) run: fn(Ctx) -> CheckFuture,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("needs_simulator", &self.needs_simulator)
            .field("backends", &self.backends)
            .finish_non_exhaustive()
    }
}

impl Check {
    /// Runs this check against `target`, which must be freshly loaded with the
    /// standard fixture. A panic in the backend is caught and reported as a failure.
    /// A check that needs more than one backend ([`Check::backends`]) is skipped:
    /// use [`Check::run_on`].
    pub async fn run(&self, target: Target) -> Outcome {
        self.run_on(vec![target]).await
    }

    /// Runs this check against `targets`, each a separate backend freshly
    /// loaded with the standard fixture: [`Check::backends`] of them (more are
    /// not used, fewer skip the check).
    pub async fn run_on(&self, targets: Vec<Target>) -> Outcome {
        if targets.len() < self.backends {
            return Outcome::Skipped(format!(
                "compares {} separate fresh backends, {} given",
                self.backends,
                targets.len()
            ));
        }
        if self.needs_simulator && targets.iter().any(|t| t.simulator.is_none()) {
            return Outcome::Skipped(
                "needs a Simulator to place calls (Target::simulator is None)".into(),
            );
        }
        let mut targets = targets.into_iter().take(self.backends.max(1));
        let Some(Target { backend, simulator }) = targets.next() else {
            return Outcome::Skipped("no backend given".into());
        };
        let ctx = Ctx::new(backend, simulator).with_more(targets.collect());
        match CatchUnwind((self.run)(ctx)).await {
            Ok(Ok(())) => Outcome::Passed,
            Ok(Err(message)) => match message.strip_prefix(super::ctx::SKIPPED) {
                Some(why) => Outcome::Skipped(why.to_owned()),
                None => Outcome::Failed(message),
            },
            Err(panic) => Outcome::Failed(format!("panicked: {panic}")),
        }
    }
}

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The backend did what SPEC.md says.
    Passed,
    /// It did not: what was expected and what happened.
    Failed(String),
    /// The check did not run, and why.
    Skipped(String),
}

/// One line of a [`Report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The check's name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// The outcome of a run, check by check, in the order of [`checks()`](super::checks).
///
/// Its [`Display`](fmt::Display) is a summary line followed by one line per check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every check that was asked for.
    pub checks: Vec<CheckReport>,
}

impl Report {
    /// The checks that passed.
    pub fn passed(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Passed))
    }

    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    /// The checks that were skipped.
    pub fn skipped(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
    }

    /// Whether no check failed (skipped checks do not count as failures).
    pub fn is_success(&self) -> bool {
        self.failed().next().is_none()
    }

    /// The outcome of the check named `name`, if it ran.
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }

    /// A test assertion: panics with the list of failed checks and their
    /// messages when any check failed. Skipped checks are allowed.
    #[track_caller]
    pub fn assert_all_passed(&self) {
        if !self.is_success() {
            let mut text = String::new();
            for c in self.failed() {
                if let Outcome::Failed(message) = &c.outcome {
                    text.push_str(&format!("\n  {}: {message}", c.name));
                }
            }
            let failed = self.failed().count();
            panic!(
                "{failed} of {} conformance checks failed:{text}\n\nfull report:\n{self}",
                self.checks.len()
            );
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance kit: {} passed, {} failed, {} skipped",
            self.passed().count(),
            self.failed().count(),
            self.skipped().count()
        )?;
        for c in &self.checks {
            match &c.outcome {
                Outcome::Passed => writeln!(f, "  ok      {}", c.name)?,
                Outcome::Failed(m) => writeln!(f, "  FAILED  {}: {m}", c.name)?,
                Outcome::Skipped(m) => writeln!(f, "  skipped {}: {m}", c.name)?,
            }
        }
        Ok(())
    }
}

/// Runs every check, each against a fresh target from `factory` (a check that
/// compares backends, [`Check::backends`] > 1, asks for that many).
///
/// `factory` must return a separate backend freshly loaded with
/// [`Fixture::standard`](super::Fixture::standard) every time it is called:
/// checks change state and must not see each other's calls, parked calls,
/// favorites or stored keys.
pub async fn run<F, Fut>(factory: F) -> Report
where
    F: Fn() -> Fut,
    Fut: Future<Output = Target>,
{
    run_matching(factory, |_| true).await
}

/// Runs the checks whose name satisfies `filter`, e.g. `|n| n.starts_with("parking.")`.
pub async fn run_matching<F, Fut>(factory: F, filter: impl Fn(&str) -> bool) -> Report
where
    F: Fn() -> Fut,
    Fut: Future<Output = Target>,
{
    let mut report = Report::default();
    for check in super::checks().iter().filter(|c| filter(c.name)) {
        // No fresh backend is needed for a check that will be skipped, but the
        // factory decides whether there is a simulator, so ask it anyway.
        let mut targets = Vec::with_capacity(check.backends);
        for _ in 0..check.backends.max(1) {
            targets.push(factory().await);
        }
        let outcome = check.run_on(targets).await;
        report.checks.push(CheckReport {
            name: check.name.to_string(),
            outcome,
        });
    }
    report
}

/// Runs the one check named `name`. An unknown name gives a report with one
/// failed entry naming the problem, so that `assert_all_passed` catches typos.
pub async fn run_one<F, Fut>(name: &str, factory: F) -> Report
where
    F: Fn() -> Fut,
    Fut: Future<Output = Target>,
{
    if super::checks().iter().any(|c| c.name == name) {
        run_matching(factory, |n| n == name).await
    } else {
        Report {
            checks: vec![CheckReport {
                name: name.to_string(),
                outcome: Outcome::Failed(
                    "no check has this name (see pbx_backend::kit::checks())".into(),
                ),
            }],
        }
    }
}

/// Polls a future, turning a panic into an error holding the panic message.
struct CatchUnwind(CheckFuture);

impl Future for CatchUnwind {
    type Output = Result<Result<(), String>, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-text panic payload".into());
                Poll::Ready(Err(message))
            }
        }
    }
}
