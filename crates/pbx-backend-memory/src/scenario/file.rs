//! The TOML form of a scenario and its checks against the PBX, reported with
//! file, line and column through the configuration's [`SourceMap`].

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::time::{Distribution, Millis};
use super::{Action, Scenario, ScenarioError, Step, Traffic};
use crate::MemoryPbx;
use crate::config::SourceMap;
use crate::config::file::NumberText;
use crate::directory::{Group, Local};
use crate::live::Dest;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    #[serde(default)]
    description: String,
    group: Option<Spanned<String>>,
    seed: Option<u64>,
    duration: Option<Spanned<Millis>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    traffic: Vec<Spanned<RawTraffic>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: Option<Spanned<Millis>>,
    after: Option<Spanned<Millis>>,
    // The action: exactly one of these.
    call: Option<Spanned<String>>,
    answer: Option<Spanned<String>>,
    hold: Option<Spanned<String>>,
    resume: Option<Spanned<String>>,
    transfer: Option<Spanned<String>>,
    park: Option<Spanned<String>>,
    hangup: Option<Spanned<String>>,
    offline: Option<Spanned<NumberText>>,
    online: Option<Spanned<NumberText>>,
    // Their arguments.
    from: Option<Spanned<NumberText>>,
    to: Option<Spanned<NumberText>>,
    via: Option<Spanned<String>>,
    by: Option<Spanned<NumberText>>,
    slot: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    connection: Option<Spanned<String>>,
    calls_per_hour: Spanned<f64>,
    start: Option<Spanned<Millis>>,
    stop: Option<Spanned<Millis>>,
    callers: Option<Spanned<String>>,
    #[serde(default)]
    queues: Vec<Spanned<NumberText>>,
    #[serde(default)]
    extensions: Vec<Spanned<NumberText>>,
    queue_share: Option<Spanned<f64>>,
    answer_probability: Option<Spanned<f64>>,
    ring_time: Option<Spanned<RawDistribution>>,
    talk_time: Option<Spanned<RawDistribution>>,
    hold_probability: Option<Spanned<f64>>,
    hold_time: Option<Spanned<RawDistribution>>,
    park_probability: Option<Spanned<f64>>,
    park_time: Option<Spanned<RawDistribution>>,
    transfer_probability: Option<Spanned<f64>>,
    #[serde(default)]
    transfer_to: Vec<Spanned<NumberText>>,
    voicemail_time: Option<Spanned<RawDistribution>>,
}

/// A distribution: a plain time (fixed) or a table naming one.
enum RawDistribution {
    Fixed(Millis),
    Table(RawDistributionTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistributionTable {
    dist: String,
    value: Option<Millis>,
    min: Option<Millis>,
    max: Option<Millis>,
    mean: Option<Millis>,
}

impl<'de> Deserialize<'de> for RawDistribution {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawDistribution;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a time (fixed) or a table such as { dist = \"uniform\", min = \"5s\", max = \"20s\" }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Millis::deserialize(serde::de::value::StrDeserializer::new(v))
                    .map(RawDistribution::Fixed)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Millis::deserialize(serde::de::value::I64Deserializer::new(v))
                    .map(RawDistribution::Fixed)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Millis::deserialize(serde::de::value::F64Deserializer::new(v))
                    .map(RawDistribution::Fixed)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                RawDistributionTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawDistribution::Table)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// What a scenario may act on: its group, or the group a user is in.
pub(crate) enum Scope<'a> {
    /// The group the scenario names, or the PBX's first.
    Named,
    /// Exactly this group (a user's): a scenario naming another is refused.
    Only(&'a pbx_model::AdminGroupId),
}

/// Problems found so far, and whether one of them is a name the group lacks.
struct Report<'a> {
    map: &'a SourceMap,
    problems: Vec<crate::Problem>,
    unknown_names: bool,
}

impl Report<'_> {
    fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems
            .push(self.map.problem_at(Some(span.start), message.into()));
    }

    fn unknown(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.unknown_names = true;
        self.at(span, message);
    }
}

/// Parses and checks a scenario against `pbx`.
pub(crate) fn load(
    text: &str,
    origin: &str,
    pbx: &MemoryPbx,
    scope: Scope<'_>,
) -> Result<Scenario, ScenarioError> {
    let map = SourceMap::new(origin, text);
    let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError::Invalid {
        problems: vec![map.problem_at(
            e.span().map(|s| s.start),
            crate::toml_message::plain(e.message()),
        )],
        unknown_names: false,
    })?;
    let mut report = Report {
        map: &map,
        problems: Vec::new(),
        unknown_names: false,
    };
    let dir = pbx.directory();
    let g = match (&raw.group, scope) {
        (Some(name), scope) => {
            let found = dir
                .groups
                .iter()
                .position(|g| g.id.as_str() == name.get_ref());
            match (found, scope) {
                (Some(g), Scope::Named) => Some(g),
                (Some(g), Scope::Only(only)) if &dir.groups[g].id == only => Some(g),
                _ => {
                    report.unknown(
                        name.span(),
                        format!("no such admin group: {:?}", name.get_ref()),
                    );
                    None
                }
            }
        }
        (None, Scope::Named) => (!dir.groups.is_empty()).then_some(0),
        (None, Scope::Only(only)) => dir.group_index(only),
    };
    let Some(g) = g else {
        if report.problems.is_empty() {
            report
                .problems
                .push(map.problem_at(None, "the PBX has no admin group".into()));
        }
        return Err(report.finish());
    };
    let group = &dir.groups[g];
    let checker = Checker { pbx, group };
    let duration = raw.duration.as_ref().map(|d| d.get_ref().0);
    if let Some(d) = &raw.duration
        && d.get_ref().0 == 0
    {
        report.at(d.span(), "the duration must be longer than 0s");
    }
    let steps = checker.steps(raw.step, duration, &mut report);
    let traffic = raw
        .traffic
        .into_iter()
        .filter_map(|t| checker.traffic(t, duration, &mut report))
        .collect();
    if !report.problems.is_empty() {
        return Err(report.finish());
    }
    Ok(Scenario {
        name: raw.name.unwrap_or_else(|| origin.to_string()),
        description: raw.description,
        group_id: group.id.clone(),
        seed: raw.seed.unwrap_or(1),
        duration,
        steps,
        traffic,
    })
}

impl Report<'_> {
    fn finish(mut self) -> ScenarioError {
        self.problems.sort_by_key(|p| (p.line, p.column));
        ScenarioError::Invalid {
            problems: self.problems,
            unknown_names: self.unknown_names,
        }
    }
}

struct Checker<'a> {
    pbx: &'a MemoryPbx,
    group: &'a Group,
}

/// Where a label was placed, and whether the call is still up.
struct Label {
    line_span: Range<usize>,
    up: bool,
}

const ACTIONS: &str = "call, answer, hold, resume, transfer, park, hangup, offline or online";

impl Checker<'_> {
    fn group_name(&self) -> &str {
        self.group.id.as_str()
    }

    fn extension(&self, number: &Spanned<NumberText>, report: &mut Report<'_>) -> Option<String> {
        let n = &number.get_ref().0;
        match self.group.numbers.get(n) {
            Some(Local::Extension(_)) => Some(n.clone()),
            _ => {
                report.unknown(
                    number.span(),
                    format!("no such extension in group {:?}: {n}", self.group_name()),
                );
                None
            }
        }
    }

    /// A destination a call can be placed to: an extension, queue, attendant or
    /// voicemail box of the group.
    fn callable(&self, number: &Spanned<NumberText>, report: &mut Report<'_>) -> Option<String> {
        let n = &number.get_ref().0;
        match self.pbx.destination(self.group, n) {
            Ok(Dest::Local(_)) => Some(n.clone()),
            _ => {
                report.unknown(
                    number.span(),
                    format!(
                        "no extension, queue, attendant or voicemail box {n} in group {:?}",
                        self.group_name()
                    ),
                );
                None
            }
        }
    }

    /// A transfer destination: anything `transfer` accepts.
    fn reachable(&self, number: &Spanned<NumberText>, report: &mut Report<'_>) -> Option<String> {
        let n = &number.get_ref().0;
        match self.pbx.destination(self.group, n) {
            Ok(_) => Some(n.clone()),
            Err(e) => {
                report.unknown(
                    number.span(),
                    format!("{e} (group {:?})", self.group_name()),
                );
                None
            }
        }
    }

    fn connection(&self, name: &Spanned<String>, report: &mut Report<'_>) -> Option<String> {
        if self
            .group
            .connections
            .iter()
            .any(|c| &c.name == name.get_ref())
        {
            Some(name.get_ref().clone())
        } else {
            report.unknown(
                name.span(),
                format!(
                    "no such connection in group {:?}: {:?}",
                    self.group_name(),
                    name.get_ref()
                ),
            );
            None
        }
    }

    fn steps(
        &self,
        raw: Vec<Spanned<RawStep>>,
        duration: Option<u64>,
        report: &mut Report<'_>,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut previous = 0u64;
        let mut labels: HashMap<String, Label> = HashMap::new();
        for spanned in raw {
            let span = spanned.span();
            let s = spanned.into_inner();
            let at = match (&s.at, &s.after) {
                (Some(_), Some(after)) => {
                    report.at(after.span(), "a step has `at` or `after`, not both");
                    previous
                }
                (Some(at), None) => {
                    if at.get_ref().0 < previous {
                        report.at(
                            at.span(),
                            format!(
                                "this step at {} lies before the previous one (at {}): steps must be in time order",
                                at.get_ref(),
                                Millis(previous)
                            ),
                        );
                        previous
                    } else {
                        at.get_ref().0
                    }
                }
                (None, Some(after)) => previous.saturating_add(after.get_ref().0),
                (None, None) => previous,
            };
            previous = at;
            if let Some(d) = duration
                && at > d
            {
                let where_ =
                    s.at.as_ref()
                        .or(s.after.as_ref())
                        .map_or(span.clone(), Spanned::span);
                report.at(
                    where_,
                    format!(
                        "this step at {} lies beyond the scenario's duration ({})",
                        Millis(at),
                        Millis(d)
                    ),
                );
            }
            if let Some(action) = self.action(s, span, &mut labels, report) {
                steps.push(Step { at, action });
            }
        }
        steps
    }

    fn action(
        &self,
        s: RawStep,
        span: Range<usize>,
        labels: &mut HashMap<String, Label>,
        report: &mut Report<'_>,
    ) -> Option<Action> {
        let present: Vec<&str> = [
            ("call", s.call.is_some()),
            ("answer", s.answer.is_some()),
            ("hold", s.hold.is_some()),
            ("resume", s.resume.is_some()),
            ("transfer", s.transfer.is_some()),
            ("park", s.park.is_some()),
            ("hangup", s.hangup.is_some()),
            ("offline", s.offline.is_some()),
            ("online", s.online.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let action = match present.as_slice() {
            [one] => *one,
            [] => {
                report.at(span, format!("a step needs an action: {ACTIONS}"));
                return None;
            }
            many => {
                report.at(
                    span,
                    format!("a step has one action, this one has {}", many.join(" and ")),
                );
                return None;
            }
        };
        // Arguments that do not belong to the action.
        let misplaced = |name: &str,
                         present: Option<Range<usize>>,
                         allowed: &[&str],
                         report: &mut Report<'_>| {
            if let Some(at) = present
                && !allowed.contains(&action)
            {
                report.at(
                    at,
                    format!(
                        "`{name}` does not belong to a {action} step (only to {})",
                        allowed.join(", ")
                    ),
                );
            }
        };
        misplaced(
            "from",
            s.from.as_ref().map(Spanned::span),
            &["call"],
            report,
        );
        misplaced(
            "to",
            s.to.as_ref().map(Spanned::span),
            &["call", "transfer"],
            report,
        );
        misplaced("via", s.via.as_ref().map(Spanned::span), &["call"], report);
        misplaced("by", s.by.as_ref().map(Spanned::span), &["answer"], report);
        misplaced(
            "slot",
            s.slot.as_ref().map(Spanned::span),
            &["park"],
            report,
        );

        let mut use_label = |label: &Spanned<String>, ends: bool, report: &mut Report<'_>| {
            let name = label.get_ref();
            match labels.get_mut(name) {
                Some(l) if l.up => {
                    if ends {
                        l.up = false;
                    }
                }
                Some(l) => {
                    let line = report
                        .map
                        .problem_at(Some(l.line_span.start), String::new())
                        .line;
                    report.at(
                        label.span(),
                        format!(
                            "call {name:?} was hung up before this step (line {})",
                            line.unwrap_or(0)
                        ),
                    );
                }
                None => report.at(
                    label.span(),
                    format!("no call labelled {name:?} was placed before this step"),
                ),
            }
            Arc::<str>::from(name.as_str())
        };
        let missing = |what: &str, report: &mut Report<'_>| {
            report.at(span.clone(), format!("a {action} step needs `{what}`"));
        };
        Some(match action {
            "call" => {
                let label = s.call?;
                let from = match &s.from {
                    Some(from) => self.caller_number(from, s.via.as_ref(), report),
                    None => {
                        missing("from", report);
                        None
                    }
                };
                let to = match &s.to {
                    Some(to) => self.callable(to, report),
                    None => {
                        missing("to", report);
                        None
                    }
                };
                let via = s.via.as_ref().and_then(|v| self.connection(v, report));
                let name = label.get_ref().clone();
                if name.is_empty() {
                    report.at(label.span(), "a call label must not be empty");
                }
                if let Some(l) = labels.get(&name)
                    && l.up
                {
                    let line = report
                        .map
                        .problem_at(Some(l.line_span.start), String::new())
                        .line;
                    report.at(
                        label.span(),
                        format!(
                            "call label {name:?} is already in use (placed at line {}); hang that call up first or pick another label",
                            line.unwrap_or(0)
                        ),
                    );
                }
                labels.insert(
                    name.clone(),
                    Label {
                        line_span: label.span(),
                        up: true,
                    },
                );
                Action::Call {
                    label: name.into(),
                    from: from?,
                    to: to?,
                    via,
                }
            }
            "answer" => {
                let label = use_label(s.answer.as_ref()?, false, report);
                let by = match &s.by {
                    Some(by) => Some(self.extension(by, report)?),
                    None => None,
                };
                Action::Answer {
                    label,
                    by,
                    pick: None,
                }
            }
            "hold" => Action::Hold(use_label(s.hold.as_ref()?, false, report)),
            "resume" => Action::Resume(use_label(s.resume.as_ref()?, false, report)),
            "hangup" => Action::Hangup(use_label(s.hangup.as_ref()?, true, report)),
            "transfer" => {
                let label = use_label(s.transfer.as_ref()?, false, report);
                let Some(to) = &s.to else {
                    missing("to", report);
                    return None;
                };
                Action::Transfer {
                    label,
                    to: self.reachable(to, report)?,
                }
            }
            "park" => {
                let label = use_label(s.park.as_ref()?, false, report);
                let slot = s.slot.as_ref().map(|slot| (slot.span(), *slot.get_ref()));
                if let Some((at, n)) = &slot
                    && (*n == 0 || *n as usize > self.group.slots())
                {
                    report.at(
                        at.clone(),
                        format!(
                            "no parking slot {n} in group {:?} (slots 1 to {})",
                            self.group_name(),
                            self.group.slots()
                        ),
                    );
                }
                Action::Park {
                    label,
                    slot: slot.map(|(_, n)| n),
                }
            }
            "offline" => Action::Offline(self.extension(s.offline.as_ref()?, report)?),
            "online" => Action::Online(self.extension(s.online.as_ref()?, report)?),
            _ => return None,
        })
    }

    /// Who places a call: an extension of the group (no `via`), or an outside
    /// number (over `via` or the group's first connection).
    fn caller_number(
        &self,
        from: &Spanned<NumberText>,
        via: Option<&Spanned<String>>,
        report: &mut Report<'_>,
    ) -> Option<String> {
        let n = &from.get_ref().0;
        match self.group.numbers.get(n) {
            Some(Local::Extension(_)) => {
                if let Some(via) = via {
                    report.at(
                        via.span(),
                        "a call from an extension has no connection (`via`)",
                    );
                }
                Some(n.clone())
            }
            None if self.group.is_outside_number(n) => {
                if self.group.connections.is_empty() {
                    report.unknown(
                        from.span(),
                        format!(
                            "group {:?} has no external connection to carry a call from {n}",
                            self.group_name()
                        ),
                    );
                }
                Some(n.clone())
            }
            _ => {
                report.unknown(
                    from.span(),
                    format!(
                        "no such extension or outside number in group {:?}: {n} (outside numbers are `+` and digits, or longer than any extension number)",
                        self.group_name()
                    ),
                );
                None
            }
        }
    }

    fn traffic(
        &self,
        spanned: Spanned<RawTraffic>,
        duration: Option<u64>,
        report: &mut Report<'_>,
    ) -> Option<Traffic> {
        let span = spanned.span();
        let t = spanned.into_inner();
        let before = report.problems.len();
        let connection = match &t.connection {
            Some(c) => self.connection(c, report).unwrap_or_default(),
            None => match self.group.connections.first() {
                Some(c) => c.name.clone(),
                None => {
                    report.unknown(
                        span.clone(),
                        format!(
                            "group {:?} has no external connection for traffic",
                            self.group_name()
                        ),
                    );
                    String::new()
                }
            },
        };
        let rate = *t.calls_per_hour.get_ref();
        if !(rate.is_finite() && rate > 0.0 && rate <= 36_000.0) {
            report.at(
                t.calls_per_hour.span(),
                format!("calls_per_hour must be above 0 and at most 36000, not {rate}"),
            );
        }
        let probability =
            |p: &Option<Spanned<f64>>, name: &str, default: f64, report: &mut Report<'_>| match p {
                Some(p) => {
                    let v = *p.get_ref();
                    if !(0.0..=1.0).contains(&v) {
                        report.at(
                            p.span(),
                            format!("{name} must lie between 0 and 1, not {v}"),
                        );
                    }
                    v
                }
                None => default,
            };
        let queues: Vec<String> = t
            .queues
            .iter()
            .filter_map(|q| {
                let n = &q.get_ref().0;
                match self.group.numbers.get(n) {
                    Some(Local::Queue(_)) => Some(n.clone()),
                    _ => {
                        report.unknown(
                            q.span(),
                            format!("no such queue in group {:?}: {n}", self.group_name()),
                        );
                        None
                    }
                }
            })
            .collect();
        let extensions: Vec<(String, bool)> = t
            .extensions
            .iter()
            .filter_map(|e| {
                let n = self.extension(e, report)?;
                let voicemail = match self.group.numbers.get(&n) {
                    Some(&Local::Extension(i)) => self.group.extensions[i].voicemail,
                    _ => false,
                };
                Some((n, voicemail))
            })
            .collect();
        if t.queues.is_empty() && t.extensions.is_empty() {
            report.at(
                span.clone(),
                "traffic needs somewhere to go: `queues`, `extensions` or both",
            );
        }
        let default_share = if t.extensions.is_empty() {
            1.0
        } else if t.queues.is_empty() {
            0.0
        } else {
            0.5
        };
        let queue_share = probability(&t.queue_share, "queue_share", default_share, report);
        if let Some(share) = &t.queue_share {
            let v = *share.get_ref();
            if (v > 0.0 && t.queues.is_empty()) || (v < 1.0 && t.extensions.is_empty()) {
                report.at(share.span(), format!("queue_share {v} needs both `queues` and `extensions` (or 1 with queues only, 0 with extensions only)"));
            }
        }
        let answer_probability =
            probability(&t.answer_probability, "answer_probability", 0.9, report);
        let hold_probability = probability(&t.hold_probability, "hold_probability", 0.0, report);
        let park_probability = probability(&t.park_probability, "park_probability", 0.0, report);
        let transfer_probability =
            probability(&t.transfer_probability, "transfer_probability", 0.0, report);
        if park_probability + transfer_probability > 1.0 {
            let at = t
                .park_probability
                .as_ref()
                .map_or(span.clone(), Spanned::span);
            report.at(at, "park_probability and transfer_probability together must not exceed 1 (a call is parked or transferred, not both)");
        }
        let transfer_to: Vec<String> = t
            .transfer_to
            .iter()
            .filter_map(|n| self.reachable(n, report))
            .collect();
        if transfer_probability > 0.0 && t.transfer_to.is_empty() && t.extensions.is_empty() {
            let at = t
                .transfer_probability
                .as_ref()
                .map_or(span.clone(), Spanned::span);
            report.at(
                at,
                "transfers need `transfer_to` (or `extensions`) to transfer to",
            );
        }
        if park_probability > 0.0 && self.group.slots() == 0 {
            let at = t
                .park_probability
                .as_ref()
                .map_or(span.clone(), Spanned::span);
            report.at(
                at,
                format!("group {:?} has no parking lot", self.group_name()),
            );
        }
        if park_probability > 0.0 && t.extensions.is_empty() && t.transfer_to.is_empty() {
            let at = t
                .park_probability
                .as_ref()
                .map_or(span.clone(), Spanned::span);
            report.at(
                at,
                "parked calls are picked up by `extensions` (or `transfer_to`): give some",
            );
        }
        let callers = match &t.callers {
            Some(c) => {
                let prefix = c.get_ref();
                let digits = prefix.strip_prefix('+').unwrap_or(prefix);
                if !prefix.starts_with('+')
                    || digits.is_empty()
                    || digits.len() > 12
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    report.at(c.span(), format!("callers must be `+` and 1 to 12 digits (4 random digits are appended), not {prefix:?}"));
                }
                prefix.clone()
            }
            None => "+1555010".to_string(),
        };
        let start = t.start.as_ref().map_or(0, |s| s.get_ref().0);
        let stop = t.stop.as_ref().map(|s| s.get_ref().0).or(duration);
        if let (Some(stop_at), Some(s)) = (&t.stop, stop)
            && s <= start
        {
            report.at(
                stop_at.span(),
                format!(
                    "traffic stops ({}) before it starts ({})",
                    Millis(s),
                    Millis(start)
                ),
            );
        }
        if let (Some(d), Some(s)) = (duration, &t.stop)
            && s.get_ref().0 > d
        {
            report.at(
                s.span(),
                format!(
                    "traffic stops ({}) after the scenario ends ({})",
                    s.get_ref(),
                    Millis(d)
                ),
            );
        }
        let dist = |d: &Option<Spanned<RawDistribution>>,
                    name: &str,
                    default: Distribution,
                    report: &mut Report<'_>| match d {
            Some(d) => distribution(d, name, report).unwrap_or(default),
            None => default,
        };
        let traffic = Traffic {
            connection,
            calls_per_hour: rate,
            start,
            stop,
            callers,
            queues,
            extensions,
            queue_share,
            answer_probability,
            ring_time: dist(
                &t.ring_time,
                "ring_time",
                Distribution::Uniform(3_000, 15_000),
                report,
            ),
            talk_time: dist(
                &t.talk_time,
                "talk_time",
                Distribution::Exponential {
                    mean: 180_000.0,
                    max: Some(1_800_000),
                },
                report,
            ),
            hold_probability,
            hold_time: dist(
                &t.hold_time,
                "hold_time",
                Distribution::Uniform(10_000, 60_000),
                report,
            ),
            park_probability,
            park_time: dist(
                &t.park_time,
                "park_time",
                Distribution::Uniform(20_000, 120_000),
                report,
            ),
            transfer_probability,
            transfer_to,
            voicemail_time: dist(
                &t.voicemail_time,
                "voicemail_time",
                Distribution::Uniform(10_000, 40_000),
                report,
            ),
        };
        (report.problems.len() == before).then_some(traffic)
    }
}

fn distribution(
    d: &Spanned<RawDistribution>,
    name: &str,
    report: &mut Report<'_>,
) -> Option<Distribution> {
    let table = match d.get_ref() {
        RawDistribution::Fixed(ms) => return Some(Distribution::Fixed(ms.0)),
        RawDistribution::Table(t) => t,
    };
    let mut bad = |message: String| {
        report.at(d.span(), format!("{name}: {message}"));
        None
    };
    let fields = [
        ("value", table.value),
        ("min", table.min),
        ("max", table.max),
        ("mean", table.mean),
    ];
    let (needs, allows): (&[&str], &[&str]) = match table.dist.as_str() {
        "fixed" => (&["value"], &["value"]),
        "uniform" => (&["min", "max"], &["min", "max"]),
        "exponential" => (&["mean"], &["mean", "max"]),
        other => {
            return bad(format!(
                "unknown distribution {other:?} (expected fixed, uniform or exponential)"
            ));
        }
    };
    for (field, value) in fields {
        if value.is_some() && !allows.contains(&field) {
            return bad(format!(
                "`{field}` does not apply to a {} distribution",
                table.dist
            ));
        }
        if value.is_none() && needs.contains(&field) {
            return bad(format!("a {} distribution needs `{field}`", table.dist));
        }
    }
    let ms = |v: Option<Millis>| v.map_or(0, |m| m.0);
    match table.dist.as_str() {
        "fixed" => Some(Distribution::Fixed(ms(table.value))),
        "uniform" => {
            let (min, max) = (ms(table.min), ms(table.max));
            if min > max {
                return bad(format!(
                    "uniform: min ({}) is above max ({})",
                    Millis(min),
                    Millis(max)
                ));
            }
            Some(Distribution::Uniform(min, max))
        }
        _ => {
            let mean = ms(table.mean);
            if mean == 0 {
                return bad("exponential: the mean must be above 0s".into());
            }
            if let Some(max) = table.max
                && max.0 == 0
            {
                return bad("exponential: max must be above 0s".into());
            }
            Some(Distribution::Exponential {
                mean: mean as f64,
                max: table.max.map(|m| m.0),
            })
        }
    }
}
