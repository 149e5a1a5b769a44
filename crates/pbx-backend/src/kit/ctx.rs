//! [`Ctx`]: what a check works with, and the helpers that turn backend answers
//! into precise failure messages.

use std::sync::Arc;

use pbx_model::{Call, CallId, Entity};

use super::{Fixture, Target};
use crate::{BackendError, BackendResult, Caller, PbxBackend, Simulator};

/// What a check returns: `Err` holds the failure message.
pub(super) type CheckResult = Result<(), String>;

/// The start of an `Err` that means "skipped" (the backend lacks an optional
/// feature, e.g. live events), followed by why.
pub(crate) const SKIPPED: &str = "\u{0}skipped: ";

/// Fails the check with a formatted message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}
pub(super) use ensure;

/// The backend under test, its simulator and the fixture it was loaded with.
pub(crate) struct Ctx {
    pub(super) backend: Arc<dyn PbxBackend>,
    simulator: Option<Arc<dyn Simulator>>,
    pub(super) fixture: Fixture,
    /// Further fresh backends, for checks that compare backends.
    pub(super) more: Vec<Target>,
}

/// The variants of [`BackendError`], for comparing what was expected with what came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    NotFound,
    Conflict,
    LimitReached,
    PermissionDenied,
    InvalidInput,
    Unsupported,
    Internal,
}

impl Kind {
    pub(super) fn of(error: &BackendError) -> Kind {
        match error {
            BackendError::NotFound(_) => Kind::NotFound,
            BackendError::Conflict(_) => Kind::Conflict,
            BackendError::LimitReached(_) => Kind::LimitReached,
            BackendError::PermissionDenied(_) => Kind::PermissionDenied,
            BackendError::InvalidInput(_) => Kind::InvalidInput,
            BackendError::Unsupported(_) => Kind::Unsupported,
            BackendError::Internal(_) => Kind::Internal,
        }
    }
}

/// Describes an error as `NotFound("no such call")`.
pub(super) fn describe(error: &BackendError) -> String {
    match Kind::of(error) {
        Kind::Internal => format!("{error:?}"),
        kind => format!("{kind:?}({:?})", error.to_string()),
    }
}

/// The value of a call that must succeed, or a failure naming `what`.
pub(super) fn ok<T>(result: BackendResult<T>, what: &str) -> Result<T, String> {
    result.map_err(|e| format!("{what}: expected success, got {}", describe(&e)))
}

/// The error of a call that must fail with `kind`; its message on success.
pub(super) fn fails<T: std::fmt::Debug>(
    result: BackendResult<T>,
    kind: Kind,
    what: &str,
) -> Result<String, String> {
    match result {
        Ok(v) => Err(format!("{what}: expected {kind:?}, got success ({v:?})")),
        Err(e) if Kind::of(&e) == kind => Ok(e.to_string()),
        Err(e) => Err(format!("{what}: expected {kind:?}, got {}", describe(&e))),
    }
}

/// Checks that two answers are indistinguishable to a client.
///
/// `missing` is the answer about something that does not exist, asked with
/// `missing_input`; `hidden` the answer about something of another admin group,
/// asked with `hidden_input`. Each input lists what the caller typed, then
/// parts of it a message may echo (`["vm-301", "301"]`). Both answers must be
/// `NotFound`, their messages equal once the caller's own input is blanked out,
/// and the hidden one must not mention `secrets` (names and numbers of the
/// other group) beyond what the caller typed.
pub(super) fn indistinguishable<T: std::fmt::Debug, U: std::fmt::Debug>(
    missing: BackendResult<T>,
    missing_input: &[&str],
    hidden: BackendResult<U>,
    hidden_input: &[&str],
    secrets: &[&str],
    what: &str,
) -> CheckResult {
    let missing_shown = missing_input.first().copied().unwrap_or_default();
    let hidden_shown = hidden_input.first().copied().unwrap_or_default();
    let missing = fails(
        missing,
        Kind::NotFound,
        &format!("{what} with nonexistent {missing_shown:?}"),
    )?;
    let hidden = fails(
        hidden,
        Kind::NotFound,
        &format!("{what} with {hidden_shown:?} of another admin group"),
    )?;
    let blank_all = |message: &str, inputs: &[&str]| {
        inputs
            .iter()
            .fold(message.to_string(), |m, input| blank(&m, input))
    };
    let hidden_blanked = blank_all(&hidden, hidden_input);
    ensure!(
        blank_all(&missing, missing_input) == hidden_blanked,
        "{what}: the answer for another group's {hidden_shown:?} ({hidden:?}) differs from \
         the answer for nonexistent {missing_shown:?} ({missing:?}): it reveals the other group"
    );
    for secret in secrets {
        ensure!(
            !hidden_blanked.contains(secret),
            "{what}: the answer for another group's {hidden_shown:?} mentions {secret:?}: {hidden:?}"
        );
    }
    Ok(())
}

/// `message` with every whole-word occurrence of `input` replaced by `<input>`.
fn blank(message: &str, input: &str) -> String {
    if input.is_empty() {
        return message.to_string();
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let mut out = String::new();
    let mut rest = 0;
    for (at, _) in message.match_indices(input) {
        let before = message[..at].chars().next_back();
        let after = message[at + input.len()..].chars().next();
        if at >= rest && !word(before) && !word(after) {
            out.push_str(&message[rest..at]);
            out.push_str("<input>");
            rest = at + input.len();
        }
    }
    out.push_str(&message[rest..]);
    out
}

impl Ctx {
    pub(super) fn new(backend: Arc<dyn PbxBackend>, simulator: Option<Arc<dyn Simulator>>) -> Self {
        Self {
            backend,
            simulator,
            fixture: Fixture::standard(),
            more: Vec::new(),
        }
    }

    /// The same, with further fresh backends at hand.
    pub(super) fn with_more(mut self, more: Vec<Target>) -> Self {
        self.more = more;
        self
    }

    /// The simulator (checks that need one are skipped before they start without it).
    pub(super) fn sim(&self) -> Result<&dyn Simulator, String> {
        self.simulator
            .as_deref()
            .ok_or_else(|| "this check needs a Simulator".to_string())
    }

    /// Logs in as the fixture user `number` with their password.
    pub(super) async fn user(&self, number: &str) -> Result<Caller, String> {
        let password = self
            .fixture
            .extension(number)
            .and_then(|(_, e)| e.password.clone())
            .ok_or_else(|| format!("kit bug: {number} is no user of the fixture"))?;
        match self.backend.authenticate(number, &password).await {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(format!(
                "authenticate({number:?}, <its fixture password>) answered None: \
                 is the backend loaded with Fixture::standard()?"
            )),
            Err(e) => Err(format!("authenticate({number:?}): {}", describe(&e))),
        }
    }

    /// `get_extensions` for `caller`.
    pub(super) async fn entities(&self, caller: &Caller) -> Result<Vec<Entity>, String> {
        ok(
            self.backend.get_extensions(caller).await,
            &format!("get_extensions as {}", caller.number()),
        )
    }

    /// The entity dialled as `number`, as `caller` sees it.
    pub(super) async fn entity(&self, caller: &Caller, number: &str) -> Result<Entity, String> {
        self.entities(caller)
            .await?
            .into_iter()
            .find(|e| e.abbreviated == number)
            .ok_or_else(|| {
                format!(
                    "get_extensions as {} lists no entity {number:?}",
                    caller.number()
                )
            })
    }

    /// The presence of `number`'s entity, as "online"/"offline".
    pub(super) async fn presence(
        &self,
        caller: &Caller,
        number: &str,
    ) -> Result<&'static str, String> {
        Ok(self.entity(caller, number).await?.presence.as_str())
    }

    /// `get_calls` for `caller`.
    pub(super) async fn calls(&self, caller: &Caller) -> Result<Vec<Call>, String> {
        ok(
            self.backend.get_calls(caller).await,
            &format!("get_calls as {}", caller.number()),
        )
    }

    /// The record `id` as `caller` sees it; a failure when it is not listed.
    pub(super) async fn call(&self, caller: &Caller, id: &CallId) -> Result<Call, String> {
        let calls = self.calls(caller).await?;
        calls.iter().find(|c| &c.id == id).cloned().ok_or_else(|| {
            format!(
                "get_calls as {} does not list call {id}; it lists {}",
                caller.number(),
                show_calls(&calls)
            )
        })
    }

    /// Fails unless `caller`'s `get_calls` is empty.
    pub(super) async fn no_calls(&self, caller: &Caller, when: &str) -> CheckResult {
        let calls = self.calls(caller).await?;
        ensure!(
            calls.is_empty(),
            "{when}: get_calls as {} should be empty, lists {}",
            caller.number(),
            show_calls(&calls)
        );
        Ok(())
    }

    /// `sim.call` that must succeed.
    pub(super) async fn place(
        &self,
        caller: &Caller,
        from: &str,
        to: &str,
        via: Option<&str>,
    ) -> Result<CallId, String> {
        ok(
            self.sim()?.call(caller, from, to, via).await,
            &format!("sim.call({from:?}, {to:?}, {via:?}) as {}", caller.number()),
        )
    }

    /// `sim.answer` that must succeed.
    pub(super) async fn answer(
        &self,
        caller: &Caller,
        id: &CallId,
        member: Option<&str>,
    ) -> CheckResult {
        ok(
            self.sim()?.answer(caller, id, member).await,
            &format!("sim.answer({id}, {member:?})"),
        )
    }

    /// A call from `from` to `to`, answered: state `connected`.
    pub(super) async fn connected(
        &self,
        caller: &Caller,
        from: &str,
        to: &str,
    ) -> Result<CallId, String> {
        let id = self.place(caller, from, to, None).await?;
        self.answer(caller, &id, None).await?;
        let call = self.call(caller, &id).await?;
        ensure!(
            call.state.as_str() == "connected",
            "after sim.answer, call {from} → {to} should be connected: {}",
            show_call(&call)
        );
        Ok(id)
    }

    /// `get_parking_info` for `caller`.
    pub(super) async fn parking(&self, caller: &Caller) -> Result<pbx_model::ParkingInfo, String> {
        ok(
            self.backend.get_parking_info(caller).await,
            &format!("get_parking_info as {}", caller.number()),
        )
    }
}

/// A call record on one line: `c1 ringing +15550100(unknown #0) → 201(extension #1) via PSTN qcall=0 duration=0`.
pub(super) fn show_call(c: &Call) -> String {
    format!(
        "[{} {} {}({} #{} {:?}) → {}({} #{} {:?}) via {:?} qcall={} duration={}]",
        c.id,
        c.state.as_str(),
        c.from.number,
        c.from.kind.as_str(),
        c.from.id,
        c.from.name,
        c.to.number,
        c.to.kind.as_str(),
        c.to.id,
        c.to.name,
        c.via,
        u8::from(c.qcall),
        c.duration
    )
}

/// Call records, one after the other.
pub(super) fn show_calls(calls: &[Call]) -> String {
    if calls.is_empty() {
        "no calls".into()
    } else {
        calls.iter().map(show_call).collect::<Vec<_>>().join(", ")
    }
}

/// Fails unless `call`'s `side` party (`"from"` or `"to"`) is the entity `e`.
pub(super) fn expect_entity_party(call: &Call, side: &str, e: &Entity) -> CheckResult {
    let party = if side == "from" { &call.from } else { &call.to };
    ensure!(
        party.number == e.abbreviated
            && party.id == e.id
            && party.kind.as_str() == e.kind.as_str()
            && party.name == e.caller_id.name,
        "call {}: `{side}` should be {} {} (id {}, name {:?}), is number {:?} {} id {} name {:?}; record {}",
        call.id,
        e.kind.as_str(),
        e.abbreviated,
        e.id,
        e.caller_id.name,
        party.number,
        party.kind.as_str(),
        party.id,
        party.name,
        show_call(call)
    );
    Ok(())
}

/// Fails unless `call`'s `side` party is the outside number `number` (id 0, type unknown).
pub(super) fn expect_outside_party(call: &Call, side: &str, number: &str) -> CheckResult {
    let party = if side == "from" { &call.from } else { &call.to };
    ensure!(
        party.number == number && party.id.0 == 0 && party.kind.as_str() == "unknown",
        "call {}: `{side}` should be the outside number {number:?} with id 0 and type unknown, \
         is number {:?} id {} type {}; record {}",
        call.id,
        party.number,
        party.id,
        party.kind.as_str(),
        show_call(call)
    );
    Ok(())
}

/// Fails unless `call`'s `side` party is the voicemail box of extension `number`
/// (type `vm`; its number is `<number>` or `vm-<number>`).
pub(super) fn expect_voicemail_party(call: &Call, side: &str, number: &str) -> CheckResult {
    let party = if side == "from" { &call.from } else { &call.to };
    ensure!(
        party.kind.as_str() == "vm"
            && (party.number == number || party.number == format!("vm-{number}")),
        "call {}: `{side}` should be the voicemail box of {number} (type vm, number {number:?} \
         or \"vm-{number}\"), is number {:?} type {}; record {}",
        call.id,
        party.number,
        party.kind.as_str(),
        show_call(call)
    );
    Ok(())
}

/// Fails unless `call` is in one of `states`.
pub(super) fn expect_state(call: &Call, states: &[&str], when: &str) -> CheckResult {
    ensure!(
        states.contains(&call.state.as_str()),
        "{when}: call {} should be {}, is {}; record {}",
        call.id,
        states.join(" or "),
        call.state.as_str(),
        show_call(call)
    );
    Ok(())
}
