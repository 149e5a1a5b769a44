//! `get_calls`: visibility, parties, via, states, hangup, duration, voicemail routing.

use pbx_model::CallId;

use crate::kit::Target;
use crate::kit::ctx::{
    CheckResult, Ctx, Kind, ensure, expect_entity_party, expect_outside_party, expect_state,
    expect_voicemail_party, fails, indistinguishable, ok, show_calls,
};

/// A call with a party in the group is listed for every user of the group, and
/// for nobody else.
pub(super) async fn visibility(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("202").await?;
    let grace = ctx.user("301").await?;

    let inbound = ctx.place(&alice, "+15550100", "201", None).await?;
    let call = ctx.call(&bob, &inbound).await?;
    expect_outside_party(&call, "from", "+15550100")?;
    let e201 = ctx.entity(&alice, "201").await?;
    expect_entity_party(&call, "to", &e201)?;
    ctx.no_calls(
        &grace,
        "with only an Alpha call (+15550100 → 201) in the PBX",
    )
    .await?;

    let beta = ctx.place(&grace, "302", "301", None).await?;
    ctx.call(&grace, &beta).await?;
    for user in [&alice, &bob] {
        let calls = ctx.calls(user).await?;
        ensure!(
            calls.len() == 1 && calls[0].id == inbound,
            "get_calls as {} should list only Alpha's call {inbound}, lists {}",
            user.number(),
            show_calls(&calls)
        );
    }
    let calls = ctx.calls(&grace).await?;
    ensure!(
        calls.len() == 1 && calls[0].id == beta,
        "get_calls as 301 should list only Beta's call {beta}, lists {}",
        show_calls(&calls)
    );
    Ok(())
}

/// `via` names the connection carrying an inbound call.
pub(super) async fn inbound_via(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;

    let named = ctx
        .place(&alice, "+15550100", "201", Some("Alpha-DID"))
        .await?;
    let call = ctx.call(&alice, &named).await?;
    ensure!(
        call.via == "Alpha-DID" && !call.qcall,
        "inbound call placed via \"Alpha-DID\" should show via \"Alpha-DID\", qcall 0: {}",
        crate::kit::ctx::show_call(&call)
    );
    expect_outside_party(&call, "from", "+15550100")?;

    let default = ctx.place(&alice, "+15550101", "202", None).await?;
    let call = ctx.call(&alice, &default).await?;
    ensure!(
        call.via == "PSTN",
        "inbound call placed without via should use Alpha's first connection \"PSTN\", shows via {:?}",
        call.via
    );

    let beta = ctx.place(&grace, "+15550102", "301", None).await?;
    let call = ctx.call(&grace, &beta).await?;
    ensure!(
        call.via == "Beta-DID",
        "inbound call to Beta placed without via should use Beta's first connection \"Beta-DID\", shows via {:?}",
        call.via
    );

    let sim = ctx.sim()?;
    indistinguishable(
        sim.call(&alice, "+15550103", "206", Some("No-Such-Trunk"))
            .await,
        &["No-Such-Trunk"],
        sim.call(&alice, "+15550103", "206", Some("Beta-DID")).await,
        &["Beta-DID"],
        &["Beta", "Grace Green"],
        "sim.call(+15550103 → 206) via a connection",
    )?;
    let calls = ctx.calls(&alice).await?;
    ensure!(
        calls.len() == 2,
        "failed sim.call attempts must create no call; Alpha lists {}",
        show_calls(&calls)
    );
    Ok(())
}

/// An internal call: empty via, both parties entities, one record.
pub(super) async fn internal(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let id = ctx.place(&alice, "202", "201", None).await?;
    let calls = ctx.calls(&alice).await?;
    ensure!(
        calls.len() == 1,
        "an internal call 202 → 201 should be one record, get_calls lists {}",
        show_calls(&calls)
    );
    let call = ctx.call(&alice, &id).await?;
    ensure!(
        call.via.is_empty() && !call.qcall,
        "internal call 202 → 201 should have an empty via and qcall 0: {}",
        crate::kit::ctx::show_call(&call)
    );
    expect_entity_party(&call, "from", &ctx.entity(&alice, "202").await?)?;
    expect_entity_party(&call, "to", &ctx.entity(&alice, "201").await?)?;
    expect_state(&call, &["setup", "ringing"], "a new call")?;

    let to_attendant = ctx.place(&alice, "206", "800", None).await?;
    let call = ctx.call(&alice, &to_attendant).await?;
    expect_entity_party(&call, "to", &ctx.entity(&alice, "800").await?)?;
    ensure!(
        call.via.is_empty(),
        "internal call 206 → attendant 800 should have an empty via, has {:?}",
        call.via
    );
    Ok(())
}

/// ringing → connected → onhold → connected → gone.
pub(super) async fn states(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    let id = ctx.place(&alice, "+15550100", "201", None).await?;
    expect_state(
        &ctx.call(&alice, &id).await?,
        &["setup", "ringing"],
        "a new call",
    )?;
    ctx.answer(&alice, &id, None).await?;
    expect_state(
        &ctx.call(&alice, &id).await?,
        &["connected"],
        "after answer",
    )?;
    ok(sim.hold(&alice, &id).await, "sim.hold of a connected call")?;
    expect_state(&ctx.call(&alice, &id).await?, &["onhold"], "after hold")?;
    ok(sim.resume(&alice, &id).await, "sim.resume of a held call")?;
    expect_state(
        &ctx.call(&alice, &id).await?,
        &["connected"],
        "after resume",
    )?;
    ok(
        sim.hangup(&alice, &id).await,
        "sim.hangup of a connected call",
    )?;
    ctx.no_calls(&alice, "after hangup").await
}

/// Controls in the wrong state are Conflict; on unknown calls NotFound.
pub(super) async fn state_conflicts(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    let id = ctx.place(&alice, "+15550100", "201", None).await?;
    fails(
        sim.hold(&alice, &id).await,
        Kind::Conflict,
        "sim.hold of a ringing call",
    )?;
    fails(
        sim.resume(&alice, &id).await,
        Kind::Conflict,
        "sim.resume of a ringing call",
    )?;
    expect_state(
        &ctx.call(&alice, &id).await?,
        &["setup", "ringing"],
        "after refused hold/resume",
    )?;
    ctx.answer(&alice, &id, None).await?;
    fails(
        sim.answer(&alice, &id, None).await,
        Kind::Conflict,
        "sim.answer of a connected call",
    )?;
    fails(
        sim.resume(&alice, &id).await,
        Kind::Conflict,
        "sim.resume of a connected call",
    )?;
    ok(sim.hold(&alice, &id).await, "sim.hold of a connected call")?;
    fails(
        sim.hold(&alice, &id).await,
        Kind::Conflict,
        "sim.hold of a held call",
    )?;
    fails(
        sim.answer(&alice, &id, None).await,
        Kind::Conflict,
        "sim.answer of a held call",
    )?;
    expect_state(
        &ctx.call(&alice, &id).await?,
        &["onhold"],
        "after refused controls",
    )?;

    let nothing = CallId::new("no-such-call");
    fails(
        sim.answer(&alice, &nothing, None).await,
        Kind::NotFound,
        "sim.answer of an unknown call",
    )?;
    fails(
        sim.hold(&alice, &nothing).await,
        Kind::NotFound,
        "sim.hold of an unknown call",
    )?;
    fails(
        sim.resume(&alice, &nothing).await,
        Kind::NotFound,
        "sim.resume of an unknown call",
    )?;
    fails(
        sim.hangup(&alice, &nothing).await,
        Kind::NotFound,
        "sim.hangup of an unknown call",
    )?;
    Ok(())
}

/// Hangup ends a call in any state, and only that one.
pub(super) async fn hangup(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    let ringing = ctx.place(&alice, "+15550100", "201", None).await?;
    let connected = ctx.connected(&alice, "+15550101", "202").await?;
    let held = ctx.connected(&alice, "203", "206").await?;
    ok(sim.hold(&alice, &held).await, "sim.hold")?;

    for (id, what) in [
        (&ringing, "ringing"),
        (&held, "held"),
        (&connected, "connected"),
    ] {
        let before = ctx.calls(&alice).await?.len();
        ok(
            sim.hangup(&alice, id).await,
            &format!("sim.hangup of a {what} call"),
        )?;
        let calls = ctx.calls(&alice).await?;
        ensure!(
            calls.iter().all(|c| &c.id != id) && calls.len() + 1 == before,
            "after sim.hangup of the {what} call {id}, exactly that call should be gone; \
             get_calls lists {}",
            show_calls(&calls)
        );
        fails(
            sim.hangup(&alice, id).await,
            Kind::NotFound,
            &format!("sim.hangup of the {what} call that already ended"),
        )?;
    }
    Ok(())
}

/// `duration` never decreases over a call's life, and starts near zero.
pub(super) async fn duration(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    let id = ctx.place(&alice, "+15550100", "201", None).await?;
    let mut last = ctx.call(&alice, &id).await?.duration;
    ensure!(
        last <= 60,
        "a call just placed should have a duration of a few seconds at most, has {last}"
    );
    let mut step = |what: &'static str, now: u32| {
        let ok = now >= last;
        let before = last;
        last = now;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "duration decreased from {before} to {now} {what}: it counts whole seconds since \
                 the call was created"
            ))
        }
    };
    step(
        "on a second get_calls",
        ctx.call(&alice, &id).await?.duration,
    )?;
    ctx.answer(&alice, &id, None).await?;
    step("after answer", ctx.call(&alice, &id).await?.duration)?;
    ok(sim.hold(&alice, &id).await, "sim.hold")?;
    step("after hold", ctx.call(&alice, &id).await?.duration)?;
    ok(sim.resume(&alice, &id).await, "sim.resume")?;
    step("after resume", ctx.call(&alice, &id).await?.duration)?;
    ok(
        ctx.backend.transfer(&alice, &id, "202").await,
        "transfer to 202",
    )?;
    step(
        "after a transfer (the record keeps its id)",
        ctx.call(&alice, &id).await?.duration,
    )?;
    Ok(())
}

/// Offline destinations: voicemail when there is a box, Conflict otherwise.
pub(super) async fn voicemail(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;

    let id = ctx.place(&alice, "+15550100", "204", None).await?;
    let call = ctx.call(&alice, &id).await?;
    expect_voicemail_party(&call, "to", "204")
        .map_err(|e| format!("a call to offline 204, which has voicemail: {e}"))?;

    let direct = ctx.place(&alice, "202", "vm-201", None).await?;
    let call = ctx.call(&alice, &direct).await?;
    expect_voicemail_party(&call, "to", "201").map_err(|e| format!("a call to vm-201: {e}"))?;

    fails(
        sim.call(&alice, "+15550101", "205", None).await,
        Kind::Conflict,
        "sim.call to offline 205, which has no voicemail",
    )?;
    fails(
        sim.call(&alice, "+15550101", "vm-205", None).await,
        Kind::NotFound,
        "sim.call to vm-205 (205 has no voicemail box)",
    )?;
    let calls = ctx.calls(&alice).await?;
    ensure!(
        calls.len() == 2,
        "refused calls must create no record; get_calls lists {}",
        show_calls(&calls)
    );
    Ok(())
}

/// What Alpha sees of its own calls in [`ids_per_group`]: the ids `sim.call`
/// returned, then every id `get_calls` lists (queue members' records too), sorted.
type AlphaIds = (Vec<CallId>, Vec<CallId>);

/// The same calls of Alpha's on a fresh backend; with `busy`, Beta places,
/// answers, hangs up and resets calls before and between them.
async fn alpha_calls(ctx: &Ctx, busy: bool) -> Result<AlphaIds, String> {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;
    let sim = ctx.sim()?;
    let beta = async |round: usize| -> CheckResult {
        if !busy {
            return Ok(());
        }
        let mut placed = Vec::new();
        for to in ["301", "650", "850", "vm-301"] {
            let from = format!("+1555020{round}");
            placed.push(ctx.place(&grace, &from, to, None).await?);
        }
        ctx.answer(&grace, &placed[0], None).await?;
        for id in &placed {
            ok(sim.hangup(&grace, id).await, "sim.hangup as 301")?;
        }
        if round == 1 {
            ok(sim.reset(&grace).await, "sim.reset as 301")?;
        }
        Ok(())
    };
    let mut placed = Vec::new();
    for (round, (from, to)) in [
        ("+15550100", "202"),
        ("+15550101", "600"),
        ("+15550102", "201"),
    ]
    .into_iter()
    .enumerate()
    {
        beta(round).await?;
        placed.push(ctx.place(&alice, from, to, None).await?);
    }
    let mut listed: Vec<CallId> = ctx.calls(&alice).await?.into_iter().map(|c| c.id).collect();
    listed.sort();
    Ok((placed, listed))
}

/// Call ids are per group: the ids Alpha's calls get do not depend on how many
/// calls Beta placed in the meantime.
///
/// Compares three fresh backends: the same calls of Alpha's with Beta idle
/// (twice) and with Beta busy. A backend whose ids differ between the two idle
/// runs (random ids) gives this check nothing to compare, and passes.
pub(super) async fn ids_per_group(ctx: Ctx) -> CheckResult {
    let [again, busy] = ctx.more.as_slice() else {
        return Err(format!(
            "kit bug: ids_per_group needs 3 backends, has {}",
            1 + ctx.more.len()
        ));
    };
    let on = |t: &Target| Ctx::new(t.backend.clone(), t.simulator.clone());
    let first = alpha_calls(&ctx, false).await?;
    let second = alpha_calls(&on(again), false).await?;
    if first != second {
        return Ok(());
    }
    let third = alpha_calls(&on(busy), true).await?;
    ensure!(
        third == first,
        "Alpha's call ids depend on Beta's calls: with Beta idle, sim.call gave {:?} and \
         get_calls listed {:?} (the same on two fresh backends); with Beta placing calls in \
         between, sim.call gave {:?} and get_calls listed {:?}. Ids that count calls PBX-wide \
         tell one group how many calls another makes: number them per group",
        first.0,
        first.1,
        third.0,
        third.1
    );
    Ok(())
}
