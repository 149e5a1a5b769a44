//! Data-driven: every `fixtures/api/*.rpc` script through one `check()`, the
//! transcript compared with `*.expected` (`UPDATE_EXPECT=1` rewrites them).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pbx_xmlrpc::{FaultCode, Method, Reply};
use xmlrpc_codec::{MethodResponse, decode_method_response};

use crate::script::{Script, Step, render, render_call};
use crate::{Demo, pretty, root, update_expect};

/// What one step did.
pub(crate) struct Ran {
    /// The step in the transcript's words (`@as 203`, `@call 203 …`, `@advance 5`).
    pub(crate) header: String,
    /// The method called, if the request decoded.
    pub(crate) method: Option<String>,
    /// For `@call` steps: the user, and the call and its result in literal syntax.
    pub(crate) short: Option<(String, String)>,
    /// For `@advance` steps: the seconds.
    pub(crate) advance: Option<u64>,
    /// The request document and the response document, for requests.
    pub(crate) exchange: Option<(String, String)>,
}

pub(crate) fn scripts_dir() -> PathBuf {
    root().join("fixtures/api")
}

/// The scripts, sorted by name (without `.rpc`).
pub(crate) fn scripts() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = fs::read_dir(scripts_dir())
        .expect("fixtures/api exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.strip_suffix(".rpc")?.to_string();
            Some((name, p))
        })
        .collect();
    out.sort();
    out
}

pub(crate) fn load(path: &Path) -> Script {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    Script::parse(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Runs a script on a fresh demo PBX.
pub(crate) async fn run(script: &Script) -> Vec<Ran> {
    let demo = Demo::new();
    let mut out = Vec::new();
    for step in &script.steps {
        out.push(match step {
            Step::Advance(seconds) => {
                demo.clock.advance(Duration::from_secs(*seconds));
                Ran {
                    header: format!("@advance {seconds}"),
                    method: None,
                    short: None,
                    advance: Some(*seconds),
                    exchange: None,
                }
            }
            Step::Call { user, call } => {
                let result = crate::call_bytes(&demo.handler, &demo.user(user).await, call).await;
                let shown = match result {
                    Ok(value) => render(&value),
                    Err(fault) => format!("fault {}: {}", fault.code, fault.string),
                };
                let short = format!("{} → {shown}", render_call(call));
                Ran {
                    header: format!("@call {user} {short}"),
                    method: Some(call.method_name.clone()),
                    short: Some((user.clone(), short)),
                    advance: None,
                    exchange: None,
                }
            }
            Step::Request { user, body } => {
                let outcome = demo
                    .handler
                    .handle(&demo.user(user).await, body.as_bytes())
                    .await;
                let response = String::from_utf8(outcome.body).expect("responses are UTF-8");
                // The body and the reported fault code agree.
                let decoded = decode_method_response(response.as_bytes()).expect("valid response");
                let code = match decoded {
                    MethodResponse::Fault(f) => Some(f.code),
                    MethodResponse::Success(_) => None,
                };
                assert_eq!(code, outcome.fault_code);
                Ran {
                    header: format!("@as {user}"),
                    method: outcome.method,
                    short: None,
                    advance: None,
                    exchange: Some((body.clone(), response)),
                }
            }
        });
    }
    if let Err(e) = demo.pbx.check_consistency() {
        panic!("the PBX is inconsistent after the script: {e}");
    }
    out
}

/// The transcript compared with `.expected`.
fn transcript(ran: &[Ran]) -> String {
    let mut out = String::new();
    for step in ran {
        out.push_str(&step.header);
        out.push('\n');
        if let Some((_, response)) = &step.exchange {
            out.push_str(&pretty(response));
        }
    }
    out
}

#[tokio::test]
async fn every_script_answers_as_expected() {
    let scripts = scripts();
    assert!(!scripts.is_empty(), "no scripts under fixtures/api");
    let mut failures = Vec::new();
    for (name, path) in &scripts {
        let actual = transcript(&run(&load(path)).await);
        let expected_path = path.with_extension("expected");
        if update_expect() {
            fs::write(&expected_path, &actual).expect("writing the expected file");
            continue;
        }
        match fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{name}: transcript differs (UPDATE_EXPECT=1 rewrites it)\n{}",
                first_difference(&expected, &actual)
            )),
            Err(_) => failures.push(format!(
                "{name}: no {expected_path:?} (UPDATE_EXPECT=1 writes it)"
            )),
        }
    }
    for stale in fs::read_dir(scripts_dir()).into_iter().flatten().flatten() {
        let path = stale.path();
        if path.extension().is_some_and(|e| e == "expected") && !path.with_extension("rpc").exists()
        {
            failures.push(format!("{path:?} has no script"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

pub(crate) fn first_difference(expected: &str, actual: &str) -> String {
    for (n, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e}\n  actual:   {a}", n + 1);
        }
    }
    format!(
        "lengths differ: expected {} lines, got {}",
        expected.lines().count(),
        actual.lines().count()
    )
}

#[tokio::test]
async fn every_fault_code_is_exercised() {
    // 1 (internal) and -2 (permission) need another backend or handler: `handler` tests them.
    let mut seen = std::collections::BTreeSet::new();
    for (_, path) in scripts() {
        for ran in run(&load(&path)).await {
            let Some((_, response)) = ran.exchange else {
                continue;
            };
            match decode_method_response(response.as_bytes()) {
                Ok(MethodResponse::Fault(f)) => {
                    seen.insert(f.code);
                }
                // Faults inside multicall results count too.
                Ok(MethodResponse::Success(v)) => {
                    if let Ok(results) = pbx_xmlrpc::parse_multicall(&v) {
                        seen.extend(results.into_iter().filter_map(Result::err).map(|f| f.code));
                    }
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    for code in FaultCode::ALL {
        if matches!(code, FaultCode::Internal | FaultCode::PermissionDenied) {
            continue;
        }
        assert!(
            seen.contains(&code.code()),
            "no script answers fault {code}: {seen:?}"
        );
    }
}

#[tokio::test]
async fn the_client_side_reads_every_response() {
    // What the server wrote, the client's readers read back to the same value.
    for (name, path) in scripts() {
        for ran in run(&load(&path)).await {
            let (Some(method), Some((_, response))) = (ran.method.as_deref(), ran.exchange) else {
                continue;
            };
            let Some(method) = Method::from_name(method) else {
                continue;
            };
            let Ok(MethodResponse::Success(value)) = decode_method_response(response.as_bytes())
            else {
                continue;
            };
            let reply = Reply::from_value(method, &value)
                .unwrap_or_else(|e| panic!("{name}: {method}: {e}"));
            assert_eq!(reply.into_value(), value, "{name}: {method}");
        }
    }
}
