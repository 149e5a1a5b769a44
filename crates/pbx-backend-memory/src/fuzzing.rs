//! The bodies of the fuzz targets `scenario` and `config` (in `fuzz/`), as plain
//! functions: cargo-fuzz runs them on generated text, and the stable test suite
//! runs them on the fixture corpora and mangled variants of them, so that they
//! are built and exercised on every `cargo test` without libFuzzer.
//!
//! Each takes any text, runs it through the parser and checker the server uses,
//! and panics (which is what a fuzzer reports) only when a rule breaks: a text is
//! either accepted or refused with at least one problem, every problem located
//! (`origin:line:column: message`) whenever the text got as far as TOML, and
//! never a panic from the parser itself.

use pbx_backend::Caller;

use crate::{ConfigError, MemoryPbx, Problem, Scenario, ScenarioError};

/// The origin `sim.play` gives a scenario's text received from a client.
const SCENARIO_ORIGIN: &str = "scenario";

/// The origin a configuration's text is given here.
const CONFIG_ORIGIN: &str = "config.toml";

/// The fuzz target `scenario`: `text` as a scenario played by `caller` on
/// `pbx`, through [`Scenario::for_caller`], the parser and checker `sim.play`
/// runs on network text. Returns the refusal, if any, after checking that it
/// names its problems with their place.
///
/// # Panics
///
/// When the parser panics, or refuses without a problem, or with a problem
/// that has no origin, an empty message, or no line and column.
pub fn scenario(pbx: &MemoryPbx, caller: &Caller, text: &str) -> Result<(), ScenarioError> {
    match Scenario::for_caller(text, SCENARIO_ORIGIN, pbx, caller) {
        Ok(_) => Ok(()),
        Err(error) => {
            match &error {
                ScenarioError::Invalid { problems, .. } => {
                    check_problems(SCENARIO_ORIGIN, problems, &error.to_string());
                }
                other => panic!("text, not a file, cannot fail to be read: {other}"),
            }
            Err(error)
        }
    }
}

/// The fuzz target `config`: `text` as the TOML configuration of a PBX, through
/// [`MemoryPbx::from_toml_str`] (what `switchboard serve --config` loads).
/// Returns the refusal, if any, after checking that it names its problems with
/// their place.
///
/// # Panics
///
/// When the parser panics, or refuses without a problem, or with a problem
/// that has no origin, an empty message, or no line and column.
pub fn config(text: &str) -> Result<(), ConfigError> {
    match MemoryPbx::from_toml_str(text, CONFIG_ORIGIN) {
        Ok(_) => Ok(()),
        Err(error) => {
            match &error {
                ConfigError::Invalid { problems } => {
                    check_problems(CONFIG_ORIGIN, problems, &error.to_string());
                }
                other => panic!("text, not a file, cannot fail to be read: {other}"),
            }
            Err(error)
        }
    }
}

fn check_problems(origin: &str, problems: &[Problem], shown: &str) {
    assert!(
        !problems.is_empty(),
        "a refusal without a problem: {shown:?}"
    );
    for problem in problems {
        assert_eq!(problem.origin, origin, "{problem}");
        assert!(!problem.message.trim().is_empty(), "no message: {problem}");
        assert!(
            problem.line.is_some() && problem.column.is_some(),
            "a problem without line:column: {problem}"
        );
    }
}
