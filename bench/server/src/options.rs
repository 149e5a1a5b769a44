//! The command line: which calls and servers a run measures, and for how long.

use std::fmt::Write as _;

use anyhow::{Context as _, Result, bail};

use crate::fixtures::*;
use crate::measurement::*;

/// The servers `--servers` chooses from, in the order they are measured; `scaling` is
/// switchboard's scaling table.
pub(crate) const SERVERS: [&str; 9] = [
    "switchboard",
    "python",
    "python-threaded",
    "dxr",
    "floor",
    "xml-rs-floor",
    "scaling",
    "durability",
    "hosted",
];
/// The entries of [`SERVERS`] that are not servers of the peer table.
const NOT_PEERS: [&str; 3] = ["scaling", "durability", "hosted"];
pub(crate) const USAGE: &str = "usage: bench-server [--seconds N | --instructions [--requests N]] [--only CALL[,CALL...]] [--servers NAME[,NAME...]]";

#[derive(Debug, PartialEq)]
pub(crate) struct Options {
    pub(crate) seconds: f64,
    /// `--only`: the calls measured; every call when `None`.
    pub(crate) calls: Option<Vec<&'static str>>,
    /// `--servers`: the servers measured; every server when `None`.
    pub(crate) servers: Option<Vec<&'static str>>,
    /// `--instructions [--requests N]`: the requests counted per row under callgrind;
    /// `None` for the wall-clock run.
    pub(crate) instructions: Option<usize>,
}

impl Options {
    /// A filtered run: its tables are printed, never written to the doc.
    pub(crate) fn partial(&self) -> bool {
        self.calls.is_some() || self.servers.is_some()
    }

    pub(crate) fn measures_call(&self, call: &str) -> bool {
        self.calls.as_ref().is_none_or(|c| c.contains(&call))
    }

    pub(crate) fn measures_server(&self, server: &str) -> bool {
        self.servers.as_ref().is_none_or(|s| s.contains(&server))
    }

    /// Whether any server of the peer table (all but `scaling`) is measured.
    pub(crate) fn measures_peer_table(&self) -> bool {
        SERVERS
            .iter()
            .any(|s| !NOT_PEERS.contains(s) && self.measures_server(s))
    }

    pub(crate) fn measures_scaling(&self) -> bool {
        self.measures_server("scaling") && SCALING_CALLS.iter().any(|c| self.measures_call(c))
    }

    /// The arguments that repeat this run.
    pub(crate) fn arguments(&self) -> String {
        let mut args = match self.instructions {
            Some(requests) => format!("--instructions --requests {requests}"),
            None => format!("--seconds {}", self.seconds),
        };
        if let Some(calls) = &self.calls {
            let _ = write!(args, " --only {}", calls.join(","));
        }
        if let Some(servers) = &self.servers {
            let _ = write!(args, " --servers {}", servers.join(","));
        }
        args
    }
}

pub(crate) fn options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        // Short enough for a newcomer's first run (about 4 minutes in all).
        seconds: 2.0,
        calls: None,
        servers: None,
        instructions: None,
    };
    let (mut seconds, mut instructions, mut requests) = (false, false, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = true;
                options.seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .with_context(|| format!("--seconds takes a positive number ({USAGE})"))?;
            }
            "--instructions" => instructions = true,
            "--requests" => {
                requests = Some(
                    args.next()
                        .and_then(|s| s.parse().ok())
                        .filter(|n: &usize| *n > 0)
                        .with_context(|| {
                            format!("--requests takes a positive whole number ({USAGE})")
                        })?,
                );
            }
            "--only" => {
                options.calls = Some(names("--only", args.next(), &CALLS.map(|c| c.name))?);
            }
            "--servers" => options.servers = Some(names("--servers", args.next(), &SERVERS)?),
            other => bail!("bench-server: unknown argument {other:?} ({USAGE})"),
        }
    }
    if instructions {
        if seconds {
            bail!(
                "bench-server: --seconds is for the wall-clock run; --instructions counts --requests N per row ({USAGE})"
            );
        }
        options.instructions = Some(requests.unwrap_or(crate::instructions::REQUESTS));
        if crate::instructions::servers(&options).0.is_empty() {
            bail!(
                "bench-server: nothing to measure with --instructions: it measures {} ({USAGE})",
                crate::instructions::SERVERS.join(", ")
            );
        }
        return Ok(options);
    }
    if requests.is_some() {
        bail!("bench-server: --requests needs --instructions ({USAGE})");
    }
    let measures_something = options.measures_peer_table()
        || options.measures_scaling()
        || options.measures_server("hosted")
        || (options.measures_server("durability") && options.measures_call("dict_get"));
    if !measures_something {
        bail!(
            "bench-server: nothing to measure: `scaling` measures only {} ({USAGE})",
            SCALING_CALLS.join(" and ")
        );
    }
    Ok(options)
}

/// The comma-separated names after `option`, each one of `valid`, duplicates dropped.
pub(crate) fn names(
    option: &str,
    list: Option<&String>,
    valid: &[&'static str],
) -> Result<Vec<&'static str>> {
    let valid_names = || valid.join(", ");
    let list = list.with_context(|| {
        format!(
            "{option} takes a comma-separated list of: {}",
            valid_names()
        )
    })?;
    let mut names = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(&known) = valid.iter().find(|v| **v == name) else {
            bail!(
                "{option}: unknown name {name:?}; valid names: {}",
                valid_names()
            );
        };
        if !names.contains(&known) {
            names.push(known);
        }
    }
    if names.is_empty() {
        bail!(
            "{option} needs at least one name; valid names: {}",
            valid_names()
        );
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_without_filters_measure_everything() {
        let o = options(&args(&["--seconds", "3"])).unwrap();
        assert_eq!(
            o,
            Options {
                seconds: 3.0,
                calls: None,
                servers: None,
                instructions: None,
            }
        );
        assert!(!o.partial());
        assert!(CALLS.iter().all(|c| o.measures_call(c.name)));
        assert!(SERVERS.iter().all(|s| o.measures_server(s)));
        assert_eq!(o.arguments(), "--seconds 3");
        assert_eq!(options(&[]).unwrap().seconds, 2.0);
    }

    #[test]
    fn only_and_servers_filter_the_run() {
        let o = options(&args(&[
            "--only",
            "dict_get,system.multicall,dict_get",
            "--servers",
            "floor, xml-rs-floor,dxr",
            "--seconds",
            "0.5",
        ]))
        .unwrap();
        assert!(o.partial());
        assert_eq!(o.calls, Some(vec!["dict_get", "system.multicall"]));
        assert_eq!(o.servers, Some(vec!["floor", "xml-rs-floor", "dxr"]));
        assert!(o.measures_call("dict_get") && !o.measures_call("get_calls"));
        assert!(o.measures_server("xml-rs-floor") && !o.measures_server("switchboard"));
        assert!(o.measures_peer_table() && !o.measures_scaling());
        assert_eq!(
            o.arguments(),
            "--seconds 0.5 --only dict_get,system.multicall --servers floor,xml-rs-floor,dxr"
        );
        let scaling = options(&args(&["--servers", "scaling", "--only", "get_calls"])).unwrap();
        assert!(scaling.measures_scaling() && !scaling.measures_peer_table());
    }

    #[test]
    fn unknown_names_are_refused_with_the_valid_ones() {
        let e = options(&args(&["--only", "dict_get,dict_set"])).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains("unknown name \"dict_set\""), "{e}");
        assert!(
            e.contains("dict_get, get_calls, get_extensions, system.multicall"),
            "{e}"
        );
        let e = format!("{:#}", options(&args(&["--servers", "nginx"])).unwrap_err());
        assert!(e.contains("unknown name \"nginx\""), "{e}");
        assert!(e.contains("xml-rs-floor, scaling"), "{e}");
        let e = format!("{:#}", options(&args(&["--fast"])).unwrap_err());
        assert!(e.contains("unknown argument \"--fast\""), "{e}");
    }

    #[test]
    fn empty_lists_and_empty_selections_are_refused() {
        for list in [&["--only", ""][..], &["--servers", " , "], &["--only"]] {
            let e = format!("{:#}", options(&args(list)).unwrap_err());
            assert!(e.contains("valid names:") || e.contains("list of:"), "{e}");
            assert!(e.contains(list[0]), "{e}");
        }
        let e = format!(
            "{:#}",
            options(&args(&["--servers", "scaling", "--only", "dict_get"])).unwrap_err()
        );
        assert!(e.contains("nothing to measure"), "{e}");
        for seconds in ["0", "-1", "NaN", "inf", "x"] {
            assert!(
                options(&args(&["--seconds", seconds])).is_err(),
                "{seconds}"
            );
        }
    }
}
