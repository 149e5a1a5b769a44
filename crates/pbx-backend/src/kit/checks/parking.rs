//! `park` and `get_parking_info`.

use std::collections::BTreeMap;

use pbx_model::{CallId, ParkingInfo};

use crate::Caller;
use crate::kit::ctx::{CheckResult, Ctx, Kind, ensure, expect_state, fails, indistinguishable, ok};

/// Fails unless `caller`'s lot holds exactly `expected` (slot → call).
async fn expect_parked(
    ctx: &Ctx,
    caller: &Caller,
    expected: &[(u32, &CallId)],
    when: &str,
) -> CheckResult {
    let info = ctx.parking(caller).await?;
    let want: BTreeMap<u32, CallId> = expected
        .iter()
        .map(|(slot, id)| (*slot, (*id).clone()))
        .collect();
    ensure!(
        info.parked_calls == want,
        "{when}: parked_calls as {} should be {want:?}, is {:?}",
        caller.number(),
        info.parked_calls
    );
    Ok(())
}

/// `count` connected inbound calls to online Alpha extensions.
async fn connected_calls(ctx: &Ctx, caller: &Caller, count: usize) -> Result<Vec<CallId>, String> {
    let mut out = Vec::new();
    for (i, to) in ["201", "202", "203", "206"].iter().take(count).enumerate() {
        out.push(ctx.connected(caller, &format!("+1555010{i}"), to).await?);
    }
    Ok(out)
}

/// The lot as the fixture configures it, per group.
pub(super) async fn info(ctx: Ctx) -> CheckResult {
    for (user, first, slots) in [("201", "700", 3), ("202", "700", 3), ("301", "750", 2)] {
        let caller = ctx.user(user).await?;
        let info = ctx.parking(&caller).await?;
        let want = ParkingInfo {
            parking_extension: first.into(),
            slots,
            parked_calls: BTreeMap::new(),
        };
        ensure!(
            info == want,
            "get_parking_info as {user} should be {want:?}, is {info:?}"
        );
    }
    Ok(())
}

/// No slot: the lowest free one.
pub(super) async fn lowest_free_slot(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let ids = connected_calls(&ctx, &alice, 3).await?;
    let b = &ctx.backend;
    let slot = ok(b.park(&alice, &ids[0], None).await, "park without a slot")?;
    ensure!(
        slot == 1,
        "park without a slot in an empty lot should take slot 1, took {slot}"
    );
    expect_state(&ctx.call(&alice, &ids[0]).await?, &["parked"], "after park")?;
    expect_parked(&ctx, &alice, &[(1, &ids[0])], "after parking in slot 1").await?;

    let slot = ok(b.park(&alice, &ids[1], Some(3)).await, "park in slot 3")?;
    ensure!(slot == 3, "park in slot 3 should answer 3, answered {slot}");
    let slot = ok(b.park(&alice, &ids[2], None).await, "park without a slot")?;
    ensure!(
        slot == 2,
        "park without a slot with slots 1 and 3 taken should take slot 2, took {slot}"
    );
    expect_parked(
        &ctx,
        &alice,
        &[(1, &ids[0]), (2, &ids[2]), (3, &ids[1])],
        "after parking three calls",
    )
    .await?;
    let grace = ctx.user("301").await?;
    expect_parked(&ctx, &grace, &[], "Beta's lot while Alpha's is full").await
}

/// A named slot; a taken one is Conflict.
pub(super) async fn explicit_slot(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let ids = connected_calls(&ctx, &alice, 2).await?;
    let b = &ctx.backend;
    let slot = ok(b.park(&alice, &ids[0], Some(2)).await, "park in slot 2")?;
    ensure!(slot == 2, "park in slot 2 should answer 2, answered {slot}");
    expect_state(&ctx.call(&alice, &ids[0]).await?, &["parked"], "after park")?;
    fails(
        b.park(&alice, &ids[1], Some(2)).await,
        Kind::Conflict,
        "park in slot 2, taken",
    )?;
    expect_state(
        &ctx.call(&alice, &ids[1]).await?,
        &["connected"],
        "a call refused parking",
    )?;
    expect_parked(&ctx, &alice, &[(2, &ids[0])], "after a refused park").await
}

/// A full lot is LimitReached.
pub(super) async fn full(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let ids = connected_calls(&ctx, &alice, 4).await?;
    let b = &ctx.backend;
    for id in &ids[..3] {
        ok(b.park(&alice, id, None).await, "park")?;
    }
    fails(
        b.park(&alice, &ids[3], None).await,
        Kind::LimitReached,
        "park without a slot in a full lot",
    )?;
    expect_state(
        &ctx.call(&alice, &ids[3]).await?,
        &["connected"],
        "a call refused parking",
    )?;
    expect_parked(
        &ctx,
        &alice,
        &[(1, &ids[0]), (2, &ids[1]), (3, &ids[2])],
        "after a refused park",
    )
    .await
}

/// Slots outside 1..=slots are InvalidInput.
pub(super) async fn slot_out_of_range(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let ids = connected_calls(&ctx, &alice, 1).await?;
    let b = &ctx.backend;
    for slot in [0, 4, 700, u32::MAX] {
        fails(
            b.park(&alice, &ids[0], Some(slot)).await,
            Kind::InvalidInput,
            &format!("park in slot {slot} of a lot of 3 slots"),
        )?;
    }
    expect_state(
        &ctx.call(&alice, &ids[0]).await?,
        &["connected"],
        "a call refused parking",
    )?;
    expect_parked(&ctx, &alice, &[], "after refused parks").await
}

/// Another group's call cannot be parked, and says nothing about it.
pub(super) async fn other_group_call(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;
    let beta = ctx.connected(&grace, "+15550100", "301").await?;
    let nothing = CallId::new("no-such-call");
    for slot in [None, Some(1)] {
        indistinguishable(
            ctx.backend.park(&alice, &nothing, slot).await,
            &[nothing.as_str()],
            ctx.backend.park(&alice, &beta, slot).await,
            &[beta.as_str()],
            &["301", "Grace", "Beta", "+15550100", "750"],
            &format!("park as 201 in slot {slot:?}"),
        )?;
    }
    expect_state(
        &ctx.call(&grace, &beta).await?,
        &["connected"],
        "Beta's call after Alpha's refused park",
    )?;
    expect_parked(&ctx, &alice, &[], "Alpha's lot after refused parks").await?;
    expect_parked(&ctx, &grace, &[], "Beta's lot after Alpha's refused parks").await
}

/// A parked call that ends frees its slot.
pub(super) async fn freed_on_hangup(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let ids = connected_calls(&ctx, &alice, 2).await?;
    let b = &ctx.backend;
    ok(b.park(&alice, &ids[0], None).await, "park")?;
    ok(
        ctx.sim()?.hangup(&alice, &ids[0]).await,
        "sim.hangup of a parked call",
    )?;
    expect_parked(&ctx, &alice, &[], "after the parked call hung up").await?;
    let slot = ok(b.park(&alice, &ids[1], None).await, "park")?;
    ensure!(
        slot == 1,
        "after the call in slot 1 hung up, park without a slot should take slot 1 again, took {slot}"
    );
    Ok(())
}
