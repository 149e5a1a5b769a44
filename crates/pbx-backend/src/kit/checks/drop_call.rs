//! `drop`.

use pbx_model::CallId;

use crate::kit::ctx::{
    CheckResult, Ctx, Kind, ensure, expect_state, fails, indistinguishable, ok, show_calls,
};

/// Drop ends the call it names in any state, and nothing else.
pub(super) async fn ends_call(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    let ringing = ctx.place(&alice, "+15550100", "201", None).await?;
    let connected = ctx.connected(&alice, "+15550101", "202").await?;
    let held = ctx.connected(&alice, "+15550102", "203").await?;
    ok(sim.hold(&alice, &held).await, "sim.hold")?;
    let parked = ctx.connected(&alice, "+15550103", "206").await?;
    let slot = ok(ctx.backend.park(&alice, &parked, None).await, "park")?;
    expect_state(&ctx.call(&alice, &parked).await?, &["parked"], "after park")?;

    for (id, what) in [
        (&ringing, "ringing"),
        (&held, "held"),
        (&parked, "parked"),
        (&connected, "connected"),
    ] {
        let before = ctx.calls(&alice).await?.len();
        ok(
            ctx.backend.drop_call(&alice, id).await,
            &format!("drop of a {what} call"),
        )?;
        let calls = ctx.calls(&alice).await?;
        ensure!(
            calls.iter().all(|c| &c.id != id) && calls.len() + 1 == before,
            "after drop of the {what} call {id}, exactly that call should be gone; get_calls \
             lists {}",
            show_calls(&calls)
        );
        fails(
            ctx.backend.drop_call(&alice, id).await,
            Kind::NotFound,
            &format!("drop of the {what} call that already ended"),
        )?;
    }
    let info = ctx.parking(&alice).await?;
    ensure!(
        info.parked_calls.is_empty(),
        "dropping the call parked in slot {slot} should free the slot; parked_calls is {:?}",
        info.parked_calls
    );
    Ok(())
}

/// An unknown call and another group's call get the same NotFound.
pub(super) async fn not_found(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;
    let beta = ctx.connected(&grace, "+15550100", "301").await?;
    let nothing = CallId::new("no-such-call");
    indistinguishable(
        ctx.backend.drop_call(&alice, &nothing).await,
        &[nothing.as_str()],
        ctx.backend.drop_call(&alice, &beta).await,
        &[beta.as_str()],
        &["301", "Grace", "Beta", "+15550100"],
        "drop as 201",
    )?;
    expect_state(
        &ctx.call(&grace, &beta).await?,
        &["connected"],
        "Beta's call after Alpha's refused drop",
    )
}
