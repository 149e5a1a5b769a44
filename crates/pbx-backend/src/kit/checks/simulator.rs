//! The simulation controls: scoping, presence, reset.

use pbx_model::{CallId, Favorite, FavoriteSize};

use crate::kit::ctx::{
    CheckResult, Ctx, Kind, ensure, expect_entity_party, expect_state, fails, indistinguishable,
    ok, show_calls,
};

/// Nothing of another group can be driven, and the answers say nothing about it.
pub(super) async fn scoping(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;
    let sim = ctx.sim()?;
    let secrets = ["Beta", "Grace", "Heidi", "Support"];

    for (missing, hidden) in [
        ("299", "301"),
        ("698", "650"),
        ("898", "850"),
        ("vm-299", "vm-301"),
    ] {
        indistinguishable(
            sim.call(&alice, "+15550100", missing, None).await,
            &[missing, missing.trim_start_matches("vm-")],
            sim.call(&alice, "+15550100", hidden, None).await,
            &[hidden, hidden.trim_start_matches("vm-")],
            &secrets,
            "sim.call(+15550100 → …) as 201",
        )?;
    }
    let m = fails(
        sim.call(&alice, "301", "201", None).await,
        Kind::NotFound,
        "sim.call as 201 from Beta's extension 301",
    )?;
    for secret in secrets {
        ensure!(
            !m.contains(secret),
            "sim.call as 201 from Beta's 301: the message reveals {secret:?}: {m:?}"
        );
    }
    ctx.no_calls(&alice, "after refused sim.call attempts")
        .await?;

    for (missing, hidden) in [("299", "301"), ("299", "303")] {
        indistinguishable(
            sim.register(&alice, missing).await,
            &[missing],
            sim.register(&alice, hidden).await,
            &[hidden],
            &secrets,
            "sim.register as 201",
        )?;
        indistinguishable(
            sim.unregister(&alice, missing).await,
            &[missing],
            sim.unregister(&alice, hidden).await,
            &[hidden],
            &secrets,
            "sim.unregister as 201",
        )?;
    }
    for (number, want) in [("301", "online"), ("303", "offline")] {
        let is = ctx.presence(&grace, number).await?;
        ensure!(
            is == want,
            "Beta's {number} should still be {want} after Alpha's refused (un)register, is {is}"
        );
    }

    let beta = ctx.place(&grace, "+15550100", "301", None).await?;
    let nothing = CallId::new("no-such-call");
    let beta_secrets = ["301", "Grace", "Beta", "+15550100"];
    indistinguishable(
        sim.answer(&alice, &nothing, None).await,
        &[nothing.as_str()],
        sim.answer(&alice, &beta, None).await,
        &[beta.as_str()],
        &beta_secrets,
        "sim.answer as 201",
    )?;
    expect_state(
        &ctx.call(&grace, &beta).await?,
        &["setup", "ringing"],
        "Beta's call after Alpha's refused answer",
    )?;
    ctx.answer(&grace, &beta, None).await?;
    indistinguishable(
        sim.hold(&alice, &nothing).await,
        &[nothing.as_str()],
        sim.hold(&alice, &beta).await,
        &[beta.as_str()],
        &beta_secrets,
        "sim.hold as 201",
    )?;
    ok(sim.hold(&grace, &beta).await, "sim.hold as 301")?;
    indistinguishable(
        sim.resume(&alice, &nothing).await,
        &[nothing.as_str()],
        sim.resume(&alice, &beta).await,
        &[beta.as_str()],
        &beta_secrets,
        "sim.resume as 201",
    )?;
    indistinguishable(
        sim.hangup(&alice, &nothing).await,
        &[nothing.as_str()],
        sim.hangup(&alice, &beta).await,
        &[beta.as_str()],
        &beta_secrets,
        "sim.hangup as 201",
    )?;
    expect_state(
        &ctx.call(&grace, &beta).await?,
        &["onhold"],
        "Beta's call after Alpha's refused controls",
    )
}

/// register/unregister drive presence, and routing follows it.
pub(super) async fn register(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("202").await?;
    let sim = ctx.sim()?;

    ok(sim.register(&alice, "204").await, "sim.register(204)")?;
    let is = ctx.presence(&bob, "204").await?;
    ensure!(
        is == "online",
        "after sim.register(204), 204 should be online, is {is}"
    );
    let id = ctx.place(&alice, "+15550100", "204", None).await?;
    let call = ctx.call(&alice, &id).await?;
    expect_entity_party(&call, "to", &ctx.entity(&alice, "204").await?)
        .map_err(|e| format!("a call to 204 once registered rings its phone: {e}"))?;
    expect_state(&call, &["setup", "ringing"], "a call to registered 204")?;

    ok(sim.unregister(&alice, "206").await, "sim.unregister(206)")?;
    let is = ctx.presence(&bob, "206").await?;
    ensure!(
        is == "offline",
        "after sim.unregister(206), 206 should be offline, is {is}"
    );
    fails(
        sim.call(&alice, "+15550101", "206", None).await,
        Kind::Conflict,
        "sim.call to 206 after it unregistered (it has no voicemail)",
    )?;

    ok(sim.unregister(&alice, "201").await, "sim.unregister(201)")?;
    let is = ctx.presence(&alice, "201").await?;
    ensure!(
        is == "offline",
        "after sim.unregister(201), 201 should be offline, is {is}"
    );
    ok(sim.register(&alice, "201").await, "sim.register(201)")?;
    let is = ctx.presence(&alice, "201").await?;
    ensure!(
        is == "online",
        "after sim.register(201), 201 should be online, is {is}"
    );
    Ok(())
}

/// reset: the group's calls end and configured presence returns; user data and
/// other groups stay.
pub(super) async fn reset(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;
    let sim = ctx.sim()?;
    let b = &ctx.backend;

    ok(b.dict_set(&alice, "crm", "kept").await, "dict_set")?;
    let favorites = vec![Favorite {
        entity: ctx.entity(&alice, "202").await?.entity_ref(),
        slot: 1,
        size: FavoriteSize::Single,
    }];
    ok(
        b.set_favorites(&alice, favorites.clone()).await,
        "set_favorites",
    )?;
    ok(sim.register(&alice, "204").await, "sim.register(204)")?;
    ok(sim.unregister(&alice, "202").await, "sim.unregister(202)")?;
    ctx.place(&alice, "+15550100", "600", None).await?;
    let parked = ctx.connected(&alice, "+15550101", "201").await?;
    ok(b.park(&alice, &parked, None).await, "park")?;
    ctx.place(&alice, "203", "206", None).await?;
    let beta = ctx.place(&grace, "+15550102", "301", None).await?;

    ok(sim.reset(&alice).await, "sim.reset as 201")?;

    ctx.no_calls(&alice, "after sim.reset").await?;
    let info = ctx.parking(&alice).await?;
    ensure!(
        info.parked_calls.is_empty(),
        "after sim.reset the parking lot should be empty, parked_calls is {:?}",
        info.parked_calls
    );
    for (number, want) in [("204", "offline"), ("202", "online"), ("600", "online")] {
        let is = ctx.presence(&alice, number).await?;
        ensure!(
            is == want,
            "after sim.reset, {number} should be back to its configured {want}, is {is}"
        );
    }
    let value = ok(b.dict_get(&alice, "crm").await, "dict_get after sim.reset")?;
    ensure!(
        value == "kept",
        "sim.reset must not touch storage: \"crm\" is now {value:?}"
    );
    let got = ok(
        b.get_favorites(&alice).await,
        "get_favorites after sim.reset",
    )?;
    ensure!(
        got == favorites,
        "sim.reset must not touch favorites: they were {favorites:?}, are {got:?}"
    );
    let calls = ctx.calls(&grace).await?;
    ensure!(
        calls.len() == 1 && calls[0].id == beta,
        "Alpha's sim.reset must not touch Beta: Beta's call {beta} should remain, get_calls as \
         301 lists {}",
        show_calls(&calls)
    );
    ctx.connected(&alice, "+15550100", "201")
        .await
        .map_err(|e| format!("after sim.reset new calls work: {e}"))?;
    Ok(())
}
