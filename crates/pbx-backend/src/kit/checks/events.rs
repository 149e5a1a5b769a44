//! Live events (`PbxBackend::events`): order, scoping, whole records, replay
//! and reset. A backend that offers no events has these checks skipped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pbx_model::{AdminGroupId, Call, CallId, EntityRef, Favorite, FavoriteSize};

use crate::events::{Delivery, Event, EventData, EventId, EventKind, Subscription};
use crate::kit::ctx::{CheckResult, Ctx, SKIPPED, describe, ensure, ok, show_call};
use crate::{BackendError, Caller};

/// How many times a check lets other tasks run while it waits for events a
/// backend delivers asynchronously, before it takes what came as all.
const PATIENCE: usize = 1_000;

/// Lets other tasks run once (on any executor).
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

async fn subscribe(
    ctx: &Ctx,
    caller: &Caller,
    after: Option<&EventId>,
) -> Result<Subscription, String> {
    match ctx.backend.events(caller, after).await {
        Ok(sub) => Ok(sub),
        Err(BackendError::Unsupported(m)) => Err(format!("{SKIPPED}{m}")),
        Err(e) => Err(format!(
            "events({after:?}) as {}: {}",
            caller.number(),
            describe(&e)
        )),
    }
}

/// What `sub` delivers until `done` holds for it (or the backend stays
/// silent for [`PATIENCE`] rounds), plus whatever is pending then.
async fn collect(sub: &mut Subscription, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
    let mut got = Vec::new();
    for _ in 0..PATIENCE {
        while let Some(d) = sub.try_next() {
            got.push(d);
        }
        if done(&got) {
            break;
        }
        YieldNow(false).await;
    }
    got
}

fn events(got: &[Delivery]) -> Result<Vec<&Event>, String> {
    got.iter()
        .map(|d| match d {
            Delivery::Event(e) => Ok(e),
            Delivery::Reset => Err("a live subscriber got a Reset it had no reason for".into()),
        })
        .collect()
}

fn call_of(e: &Event) -> Option<&Call> {
    match &e.data {
        EventData::Call(c) => Some(c),
        _ => None,
    }
}

fn about<'a>(e: &'a Event, id: &CallId) -> Option<&'a Call> {
    call_of(e).filter(|c| &c.id == id)
}

fn ended(id: &CallId) -> impl Fn(&[Delivery]) -> bool + '_ {
    move |got| {
        got.iter().any(|d| {
            matches!(d, Delivery::Event(e) if e.kind == EventKind::CallEnded && about(e, id).is_some())
        })
    }
}

fn show(got: &[Delivery]) -> String {
    let lines: Vec<String> = got
        .iter()
        .map(|d| match d {
            Delivery::Event(e) => match call_of(e) {
                Some(c) => format!("{} {} {}", e.id, e.kind, show_call(c)),
                None => format!("{} {}", e.id, e.kind),
            },
            Delivery::Reset => "Reset".into(),
        })
        .collect();
    format!("[{}]", lines.join("; "))
}

/// A call placed, answered and hung up as 201: its events, and the
/// subscription that got them.
async fn a_call(
    ctx: &Ctx,
    alice: &Caller,
    sub: &mut Subscription,
) -> Result<(CallId, Vec<Delivery>), String> {
    let id = ctx.place(alice, "+15550100", "201", None).await?;
    ctx.answer(alice, &id, None).await?;
    ok(ctx.sim()?.hangup(alice, &id).await, "sim.hangup")?;
    let got = collect(sub, ended(&id)).await;
    Ok((id, got))
}

/// created, then updated (connected), then ended, each a whole record.
pub(super) async fn call_lifecycle(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let mut sub = subscribe(&ctx, &alice, None).await?;
    ensure!(
        sub.is_reset(),
        "a subscription without a cursor should start with a reset (read the state first)"
    );
    let id = ctx.place(&alice, "+15550100", "201", None).await?;
    let got = collect(&mut sub, |got| {
        got.iter()
            .any(|d| matches!(d, Delivery::Event(e) if e.kind == EventKind::CallCreated))
    })
    .await;
    let first = events(&got)?;
    let created = first
        .iter()
        .find(|e| e.kind == EventKind::CallCreated)
        .and_then(|e| about(e, &id))
        .ok_or_else(|| {
            format!(
                "after sim.call, no call.created for {id}: got {}",
                show(&got)
            )
        })?;
    let listed = ctx.call(&alice, &id).await?;
    ensure!(
        Call {
            duration: listed.duration,
            ..created.clone()
        } == listed,
        "call.created should carry the whole record get_calls lists: event {}, get_calls {}",
        show_call(created),
        show_call(&listed)
    );
    ctx.answer(&alice, &id, None).await?;
    ok(ctx.sim()?.hangup(&alice, &id).await, "sim.hangup")?;
    let rest = collect(&mut sub, ended(&id)).await;
    let all: Vec<Delivery> = got.iter().chain(&rest).cloned().collect();
    let kinds: Vec<(EventKind, String)> = events(&all)?
        .into_iter()
        .filter_map(|e| about(e, &id).map(|c| (e.kind, c.state.as_str().to_owned())))
        .collect();
    ensure!(
        kinds.first().map(|k| k.0) == Some(EventKind::CallCreated)
            && kinds.last().map(|k| k.0) == Some(EventKind::CallEnded)
            && kinds
                .iter()
                .any(|(k, s)| *k == EventKind::CallUpdated && s == "connected")
            && kinds
                .iter()
                .filter(|(k, _)| *k == EventKind::CallCreated)
                .count()
                == 1,
        "a call placed, answered and hung up should give call.created, call.updated (connected), call.ended, in order: got {}",
        show(&all)
    );
    let mut ids: Vec<&str> = events(&all)?.iter().map(|e| e.id.as_str()).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    ensure!(
        ids.len() == n,
        "event ids should be distinct: got {}",
        show(&all)
    );
    Ok(())
}

/// Another group's subscriber gets nothing of a group's changes.
pub(super) async fn scoping(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("301").await?;
    let mut theirs = subscribe(&ctx, &bob, None).await?;
    let start = theirs.cursor().clone();
    let mut ours = subscribe(&ctx, &alice, None).await?;
    let (_, got) = a_call(&ctx, &alice, &mut ours).await?;
    ensure!(
        !got.is_empty(),
        "the group's subscriber got no events of its call"
    );
    let leaked = collect(&mut theirs, |_| false).await;
    ensure!(
        leaked.is_empty(),
        "a subscriber of another group got events of a group's call: {}",
        show(&leaked)
    );
    let mut again = subscribe(&ctx, &bob, Some(&start)).await?;
    let replayed = collect(&mut again, |_| false).await;
    ensure!(
        !again.is_reset() && replayed.is_empty(),
        "another group's cursor should still resume with nothing to replay: reset {}, got {}",
        again.is_reset(),
        show(&replayed)
    );
    Ok(())
}

/// A cursor replays exactly the events after it, in order, with the same ids.
pub(super) async fn replay(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let mut sub = subscribe(&ctx, &alice, None).await?;
    let (_, got) = a_call(&ctx, &alice, &mut sub).await?;
    let all = events(&got)?;
    ensure!(
        all.len() >= 2,
        "a call's life should give several events, got {}",
        show(&got)
    );
    let mut again = subscribe(&ctx, &alice, Some(&all[0].id)).await?;
    ensure!(
        !again.is_reset(),
        "resuming after the first event of a call just made should not be a reset"
    );
    let last = all[all.len() - 1].id.clone();
    let replayed = collect(&mut again, |g| {
        g.iter()
            .any(|d| matches!(d, Delivery::Event(e) if e.id == last))
    })
    .await;
    let want: Vec<(&EventId, EventKind)> = all[1..].iter().map(|e| (&e.id, e.kind)).collect();
    let came: Vec<(&EventId, EventKind)> =
        events(&replayed)?.iter().map(|e| (&e.id, e.kind)).collect();
    ensure!(
        came == want,
        "resuming after {} should replay exactly the later events {}, got {}",
        all[0].id,
        show(&got[1..]),
        show(&replayed)
    );
    ensure!(
        again.cursor() == &last,
        "after the replay the cursor should be {last}, is {}",
        again.cursor()
    );
    Ok(())
}

/// An unknown cursor is a reset, then live events as usual.
pub(super) async fn unknown_cursor(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let mut sub = subscribe(&ctx, &alice, Some(&EventId::new("no-such-cursor"))).await?;
    ensure!(sub.is_reset(), "an unknown cursor should be a reset");
    let (id, got) = a_call(&ctx, &alice, &mut sub).await?;
    ensure!(
        events(&got)?
            .iter()
            .any(|e| e.kind == EventKind::CallCreated && about(e, &id).is_some()),
        "after a reset, live events should follow: got {}",
        show(&got)
    );
    Ok(())
}

/// `group_events`, the subscription of the operator's consumers (webhooks):
/// what a user of the group gets, nothing of another group.
pub(super) async fn group(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("301").await?;
    let mut as_user = subscribe(&ctx, &alice, None).await?;
    let as_group = |group: AdminGroupId| {
        let backend = ctx.backend.clone();
        async move {
            match backend.group_events(&group, None).await {
                Ok(sub) => Ok(sub),
                Err(BackendError::Unsupported(m)) => Err(format!("{SKIPPED}{m}")),
                Err(e) => Err(format!("group_events({group}): {}", describe(&e))),
            }
        }
    };
    let mut ours = as_group(alice.group().clone()).await?;
    let mut theirs = as_group(bob.group().clone()).await?;
    ensure!(
        ours.is_reset(),
        "group_events without a cursor should start with a reset"
    );
    let (id, got) = a_call(&ctx, &alice, &mut as_user).await?;
    let got_by_group = collect(&mut ours, ended(&id)).await;
    let ids = |d: &[Delivery]| -> Result<Vec<EventId>, String> {
        Ok(events(d)?.iter().map(|e| e.id.clone()).collect())
    };
    ensure!(
        ids(&got)? == ids(&got_by_group)?,
        "group_events should get exactly the user's events {}, got {}",
        show(&got),
        show(&got_by_group)
    );
    let leaked = collect(&mut theirs, |_| false).await;
    ensure!(
        leaked.is_empty(),
        "group_events of another group got events of a group's call: {}",
        show(&leaked)
    );
    let unknown = AdminGroupId::new("no such group (conformance kit)");
    match ctx.backend.group_events(&unknown, None).await {
        Err(BackendError::NotFound(_)) => Ok(()),
        Err(e) => Err(format!(
            "group_events of an unknown group should be NotFound, was {}",
            describe(&e)
        )),
        Ok(_) => {
            Err("group_events of an unknown group should be NotFound, was a subscription".into())
        }
    }
}

/// set_favorites gives favorites.updated with the list as get_favorites shows it.
pub(super) async fn favorites(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let mut sub = subscribe(&ctx, &alice, None).await?;
    let entity: EntityRef = ctx.entity(&alice, "202").await?.entity_ref();
    let list = vec![
        Favorite {
            entity,
            slot: 3,
            size: FavoriteSize::Single,
        },
        Favorite {
            entity: ctx.entity(&alice, "201").await?.entity_ref(),
            slot: 1,
            size: FavoriteSize::Single,
        },
    ];
    ok(
        ctx.backend.set_favorites(&alice, list).await,
        "set_favorites",
    )?;
    let shown = ok(ctx.backend.get_favorites(&alice).await, "get_favorites")?;
    let got = collect(&mut sub, |g| !g.is_empty()).await;
    let fav: Vec<&Vec<Favorite>> = events(&got)?
        .iter()
        .filter(|e| e.kind == EventKind::FavoritesUpdated)
        .filter_map(|e| match &e.data {
            EventData::Favorites(f) => Some(f),
            _ => None,
        })
        .collect();
    ensure!(
        fav == [&shown],
        "set_favorites should give one favorites.updated with the list as get_favorites shows it ({shown:?}): got {fav:?}"
    );
    Ok(())
}
