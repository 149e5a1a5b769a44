//! The targets of docs/benchmarks.md, kept as data, and how each is judged against
//! what a run measured and what the floors reached.

use crate::durability::Durability;
use crate::hosted::Hosted;
use crate::measurement::*;
use crate::report::*;

/// What a run measured beside the peer table.
#[derive(Debug, Default)]
pub(crate) struct Extras {
    /// Durable against in-memory `dict_get`, per connection count.
    pub(crate) durability: Vec<Durability>,
    /// The hosted-PBX scale.
    pub(crate) hosted: Option<Hosted>,
}

/// The connection count the Python ratios and the storage comparison are
/// stated at: where the single-threaded Python server is saturated.
pub(crate) const STATED_AT: usize = 16;

/// What a target asks of its measured value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    AtLeast(f64),
    Above(f64),
    Below(f64),
}

/// How far a floor must miss a target before the miss is called out of reach in
/// the run: the floors' rates move from run to run as switchboard's do, so a floor
/// that falls short by less may reach the target in the next run.
pub(crate) const OUT_OF_REACH_MARGIN: f64 = 0.05;

impl Bound {
    pub(crate) fn holds(self, value: f64) -> bool {
        match self {
            Bound::AtLeast(min) => value >= min,
            Bound::Above(min) => value > min,
            Bound::Below(max) => value < max,
        }
    }

    /// Whether `value` misses the bound by more than [`OUT_OF_REACH_MARGIN`].
    pub(crate) fn out_of_reach(self, value: f64) -> bool {
        match self {
            Bound::AtLeast(min) | Bound::Above(min) => value < min * (1.0 - OUT_OF_REACH_MARGIN),
            Bound::Below(max) => value > max * (1.0 + OUT_OF_REACH_MARGIN),
        }
    }
}

/// Which floor sets a ceiling.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Floor {
    /// The bare-HTTP floor: the best any server could do.
    Bare,
    /// The xml-rs floor: the best a server parsing with xml-rs could do.
    XmlRs,
}

impl Floor {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Floor::Bare => "the bare floor",
            Floor::XmlRs => "the xml-rs floor",
        }
    }
}

/// The best a target's figure could be in this run: what the relevant floor measured.
#[derive(Debug)]
pub(crate) struct Ceiling {
    pub(crate) value: f64,
    /// For the table: the value and which floor.
    pub(crate) shown: String,
    pub(crate) floor: Floor,
    /// The floor's figure and its row: `4.5× Python at 1 connection`.
    pub(crate) figure: String,
}

/// A target's status: met on the measured figure alone; a miss is called out of
/// reach only when the ceiling misses the bound by more than [`OUT_OF_REACH_MARGIN`].
pub(crate) fn status(bound: Bound, measured: Option<f64>, ceiling: Option<&Ceiling>) -> String {
    match measured {
        None => "not measured".to_owned(),
        Some(value) if bound.holds(value) => "met".to_owned(),
        Some(_) => match ceiling.filter(|c| !bound.holds(c.value)) {
            Some(c) if bound.out_of_reach(c.value) => {
                let scope = match c.floor {
                    Floor::Bare => "",
                    Floor::XmlRs => " on xml-rs",
                };
                format!(
                    "**missed** (out of reach{scope} in this run: {} itself is {})",
                    c.floor.name(),
                    c.figure
                )
            }
            Some(c) => format!(
                "**missed** ({} reached only {} in this run)",
                c.floor.name(),
                c.figure
            ),
            None => "**missed**".to_owned(),
        },
    }
}

/// A row of the targets table.
pub(crate) struct Goal {
    pub(crate) name: &'static str,
    pub(crate) bound: Bound,
    /// The figure and how it is shown.
    pub(crate) measured: Option<(f64, String)>,
    pub(crate) ceiling: Option<Ceiling>,
}

/// What a target measures, and which floor bounds it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Metric {
    /// switchboard's rate over Python's on a call at [`STATED_AT`] connections;
    /// the ceiling is the bare floor over Python.
    OverPython(&'static str),
    /// switchboard's rate over dxr's, its worst row over every call; the ceiling
    /// is the xml-rs floor over dxr.
    OverDxr,
    /// switchboard's share of the bare floor's rate on a call, its worst row; the
    /// ceiling is the xml-rs floor's share.
    ShareOfFloor(&'static str),
    /// switchboard's 99th-percentile latency in µs on a call at a connection count.
    P99Micros {
        call: &'static str,
        connections: usize,
    },
    /// switchboard's resident memory in bytes before any load.
    IdleRss,
    /// Durable `dict_get`'s rate as a share of `--ephemeral`'s, at [`STATED_AT`]
    /// connections, measured in alternation.
    DurableShare,
    /// The hosted PBX's start, in seconds.
    HostedStartup,
    /// The hosted PBX's resident memory in bytes with its calls placed.
    HostedRss,
    /// The hosted PBX's per-request cost over the 2-group PBX's, the worst
    /// operation.
    HostedCost,
}

/// A target of the project: what is measured and what it must be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Objective {
    pub(crate) name: &'static str,
    pub(crate) metric: Metric,
    pub(crate) bound: Bound,
}

/// The targets, in the order of the targets table.
pub(crate) const OBJECTIVES: [Objective; 10] = [
    Objective {
        name: "≥ 10× Python on `get_extensions` at 16 connections",
        metric: Metric::OverPython("get_extensions"),
        bound: Bound::AtLeast(10.0),
    },
    Objective {
        name: "≥ 5× Python on durable `dict_get` at 16 connections",
        metric: Metric::OverPython("dict_get"),
        bound: Bound::AtLeast(5.0),
    },
    Objective {
        name: "durable `dict_get` within 10% of `--ephemeral` at 16 connections",
        metric: Metric::DurableShare,
        bound: Bound::AtLeast(0.9),
    },
    Objective {
        name: "ahead of dxr on every row",
        metric: Metric::OverDxr,
        bound: Bound::Above(1.0),
    },
    Objective {
        name: "`dict_get` ≥ 60% of the floor",
        metric: Metric::ShareOfFloor("dict_get"),
        bound: Bound::AtLeast(0.6),
    },
    Objective {
        name: "`dict_get` p99 < 5 ms at 16 connections",
        metric: Metric::P99Micros {
            call: "dict_get",
            connections: 16,
        },
        bound: Bound::Below(5_000.0),
    },
    Objective {
        name: "idle RSS < 20 MB",
        metric: Metric::IdleRss,
        bound: Bound::Below(20_000_000.0),
    },
    Objective {
        name: "hosted PBX (2,000 groups) starts in < 1 s",
        metric: Metric::HostedStartup,
        bound: Bound::Below(1.0),
    },
    Objective {
        name: "hosted PBX RSS < 100 MiB with 10,000 live calls",
        metric: Metric::HostedRss,
        bound: Bound::Below(100.0 * 1024.0 * 1024.0),
    },
    Objective {
        name: "one group's cost in the hosted PBX within 10% of a 2-group PBX's",
        metric: Metric::HostedCost,
        bound: Bound::AtLeast(1.0 / 1.1),
    },
];

/// The instruction targets (`--instructions`): on each call, switchboard's
/// instructions per request at most this many times the xml-rs floor's (the
/// issue's restatement of "ahead of dxr" on small requests, on the parser the
/// codec must use).
pub(crate) const XML_RS_FLOOR_INSTRUCTIONS: [(&str, f64); 2] =
    [("dict_get", 1.25), ("system.multicall", 1.25)];

/// Every objective judged on a run: its measured figure and its ceiling.
pub(crate) fn goals(results: &[PeerResult], rows: &[Ratios], extras: &Extras) -> Vec<Goal> {
    OBJECTIVES
        .iter()
        .map(|objective| Goal {
            name: objective.name,
            bound: objective.bound,
            measured: measured(objective.metric, results, rows, extras),
            ceiling: ceiling(objective.metric, rows),
        })
        .collect()
}

/// The worst row of `call` by `ratio`.
fn of_call<'a>(
    rows: &'a [Ratios],
    call: &'static str,
    ratio: fn(&Ratios) -> Option<f64>,
) -> Option<(&'a Ratios, f64)> {
    worst(
        rows.iter()
            .filter(move |r| r.call.name == call)
            .map(move |r| (r, ratio(r))),
    )
}

/// What the run measured for `metric`, and how it is shown.
fn measured(
    metric: Metric,
    results: &[PeerResult],
    rows: &[Ratios],
    extras: &Extras,
) -> Option<(f64, String)> {
    match metric {
        Metric::OverPython(call) => {
            of_call(rows, call, |r| r.python_stated()).map(|(_, v)| (v, format!("{v:.1}×")))
        }
        Metric::DurableShare => extras
            .durability
            .iter()
            .find(|d| d.connections == STATED_AT)
            .and_then(Durability::share)
            .map(|v| (v, format!("{:.0}% of `--ephemeral`", v * 100.0))),
        Metric::HostedStartup => extras.hosted.as_ref().map(|h| {
            let s = h.startup.as_secs_f64();
            (s, format!("{:.0} ms", s * 1000.0))
        }),
        Metric::HostedRss => extras
            .hosted
            .as_ref()
            .map(|h| ((h.rss_kib * 1024) as f64, mib(h.rss_kib))),
        // As a share (small over hosted), so that "at least" reads "at most 10% slower".
        Metric::HostedCost => extras
            .hosted
            .as_ref()
            .and_then(Hosted::worst_ratio)
            .map(|(operation, r)| (1.0 / r, format!("{r:.2}× (worst: {operation})"))),
        Metric::OverDxr => {
            worst(rows.iter().map(|r| (r, r.dxr))).map(|(_, v)| (v, format!("{v:.2}×")))
        }
        Metric::ShareOfFloor(call) => {
            of_call(rows, call, |r| r.floor).map(|(_, v)| (v, format!("{:.0}%", v * 100.0)))
        }
        Metric::P99Micros { call, connections } => find(results, "switchboard", call, connections)
            .filter(|m| m.requests > 0)
            .map(|m| (m.latency.p99 as f64, format!("{} µs", m.latency.p99))),
        Metric::IdleRss => results
            .iter()
            .find(|r| r.server == "switchboard")
            .map(|r| ((r.idle_rss_kib * 1024) as f64, mib(r.idle_rss_kib))),
    }
}

/// The best `metric` could be in this run: what the relevant floor reached.
fn ceiling(metric: Metric, rows: &[Ratios]) -> Option<Ceiling> {
    match metric {
        Metric::OverPython(call) => {
            of_call(rows, call, |r| r.floor_python_stated()).map(|(row, value)| Ceiling {
                value,
                shown: format!("{value:.1}× (bare floor)"),
                floor: Floor::Bare,
                figure: format!("{value:.1}× Python at {}", connections(row.connections)),
            })
        }
        Metric::OverDxr => {
            worst(rows.iter().map(|r| (r, r.xml_rs_floor_dxr))).map(|(row, value)| Ceiling {
                value,
                shown: format!("{value:.2}× (xml-rs floor)"),
                floor: Floor::XmlRs,
                figure: format!(
                    "{value:.2}× dxr on `{}` at {}",
                    row.call.name,
                    connections(row.connections)
                ),
            })
        }
        Metric::ShareOfFloor(call) => {
            of_call(rows, call, |r| r.xml_rs_floor_floor).map(|(row, value)| Ceiling {
                value,
                shown: format!("{:.0}% (xml-rs floor)", value * 100.0),
                floor: Floor::XmlRs,
                figure: format!(
                    "{:.0}% of the bare floor on `{call}` at {}",
                    value * 100.0,
                    connections(row.connections)
                ),
            })
        }
        Metric::P99Micros { .. }
        | Metric::IdleRss
        | Metric::DurableShare
        | Metric::HostedStartup
        | Metric::HostedRss
        | Metric::HostedCost => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_objective_is_judged_in_table_order_and_nothing_is_invented() {
        let judged = goals(&[], &[], &Extras::default());
        let names: Vec<&str> = judged.iter().map(|g| g.name).collect();
        assert_eq!(names, OBJECTIVES.map(|o| o.name));
        assert!(
            judged
                .iter()
                .all(|g| g.measured.is_none() && g.ceiling.is_none())
        );
    }

    fn measured_at(per_second: u64, p50: u64) -> crate::load::Measured {
        crate::load::Measured {
            requests: per_second,
            errors: 0,
            reconnects: 0,
            window: std::time::Duration::from_secs(1),
            latency: crate::load::Summary {
                p50,
                p99: p50,
                max: p50,
            },
        }
    }

    #[test]
    fn the_storage_and_hosted_targets_are_judged_on_their_own_runs() {
        let extras = Extras {
            durability: vec![
                Durability {
                    connections: 1,
                    durable: measured_at(500, 90),
                    ephemeral: measured_at(1000, 60),
                },
                Durability {
                    connections: 16,
                    durable: measured_at(920, 300),
                    ephemeral: measured_at(1000, 280),
                },
            ],
            hosted: Some(Hosted {
                startup: std::time::Duration::from_millis(1500),
                startup_small: std::time::Duration::from_millis(20),
                rss_kib: 50 * 1024,
                rss_small_kib: 10 * 1024,
                live_calls: 10_000,
                costs: vec![("get_calls", 100.0, 105.0), ("transfer", 200.0, 240.0)],
            }),
        };
        let judged = goals(&[], &[], &extras);
        let of = |name: &str| {
            let goal = judged.iter().find(|g| g.name.contains(name)).expect(name);
            let (value, shown) = goal.measured.clone().expect("measured");
            (status(goal.bound, Some(value), None), shown)
        };
        // 16 connections is the stated row: 92% meets "within 10%" (1 connection is 50%).
        assert_eq!(
            of("within 10% of `--ephemeral`"),
            ("met".into(), "92% of `--ephemeral`".into())
        );
        assert_eq!(of("starts in"), ("**missed**".into(), "1500 ms".into()));
        assert_eq!(of("RSS < 100 MiB"), ("met".into(), "50.0 MiB".into()));
        // The worst operation decides: transfer at 1.2× misses, get_calls at 1.05× would not.
        assert_eq!(
            of("within 10% of a 2-group"),
            ("**missed**".into(), "1.20× (worst: transfer)".into())
        );
    }

    #[test]
    fn a_status_is_met_missed_or_missed_out_of_reach() {
        let bare = |value: f64| Ceiling {
            value,
            shown: String::new(),
            floor: Floor::Bare,
            figure: format!("{value:.1}× Python at 1 connection"),
        };
        let ten = Bound::AtLeast(10.0);
        // Met is met, whatever the floor says.
        assert_eq!(status(ten, Some(10.0), Some(&bare(4.5))), "met");
        assert_eq!(status(ten, Some(12.0), None), "met");
        // Missed, and the floor misses the target by more than the margin: say so.
        assert_eq!(
            status(ten, Some(3.0), Some(&bare(4.5))),
            "**missed** (out of reach in this run: the bare floor itself is 4.5× Python at 1 connection)"
        );
        // Just outside the margin (9.4 < 9.5), and just inside it (9.6).
        assert_eq!(
            status(ten, Some(3.0), Some(&bare(9.4))),
            "**missed** (out of reach in this run: the bare floor itself is 9.4× Python at 1 connection)"
        );
        assert_eq!(
            status(ten, Some(3.0), Some(&bare(9.6))),
            "**missed** (the bare floor reached only 9.6× Python at 1 connection in this run)"
        );
        // Missed where the floor reaches the target, or where there is no floor.
        assert_eq!(status(ten, Some(3.0), Some(&bare(20.0))), "**missed**");
        assert_eq!(status(ten, Some(3.0), None), "**missed**");
        assert_eq!(status(ten, None, Some(&bare(4.5))), "not measured");

        let xml_rs = |value: f64| Ceiling {
            value,
            shown: String::new(),
            floor: Floor::XmlRs,
            figure: format!("{value:.2}× dxr on `system.multicall` at 16 connections"),
        };
        let ahead = Bound::Above(1.0);
        assert_eq!(
            status(ahead, Some(0.5), Some(&xml_rs(0.64))),
            "**missed** (out of reach on xml-rs in this run: the xml-rs floor itself is 0.64× dxr on `system.multicall` at 16 connections)"
        );
        assert_eq!(
            status(ahead, Some(0.5), Some(&xml_rs(0.94))),
            "**missed** (out of reach on xml-rs in this run: the xml-rs floor itself is 0.94× dxr on `system.multicall` at 16 connections)"
        );
        assert_eq!(
            status(ahead, Some(0.5), Some(&xml_rs(0.96))),
            "**missed** (the xml-rs floor reached only 0.96× dxr on `system.multicall` at 16 connections in this run)"
        );
        // "Ahead" is strict: a floor level with dxr does not reach it, but is close.
        assert_eq!(
            status(ahead, Some(0.5), Some(&xml_rs(1.0))),
            "**missed** (the xml-rs floor reached only 1.00× dxr on `system.multicall` at 16 connections in this run)"
        );
        assert_eq!(status(ahead, Some(1.0), None), "**missed**");
        assert_eq!(status(Bound::Below(5_000.0), Some(651.0), None), "met");
        assert_eq!(
            status(Bound::Below(5_000.0), Some(5_000.0), None),
            "**missed**"
        );
    }

    #[test]
    fn out_of_reach_is_more_than_the_margin_away() {
        assert!(Bound::AtLeast(0.6).out_of_reach(0.56));
        assert!(!Bound::AtLeast(0.6).out_of_reach(0.58));
        assert!(Bound::Above(1.0).out_of_reach(0.949));
        assert!(!Bound::Above(1.0).out_of_reach(0.951));
        assert!(Bound::Below(100.0).out_of_reach(105.1));
        assert!(!Bound::Below(100.0).out_of_reach(104.9));
    }
}
