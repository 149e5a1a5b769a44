//! `transfer`: which party is released, destinations, scoping.

use pbx_model::{Call, CallId};

use super::queue::expect_fan_out;
use crate::Caller;
use crate::kit::ctx::{
    CheckResult, Ctx, Kind, ensure, expect_entity_party, expect_outside_party, expect_state,
    expect_voicemail_party, fails, indistinguishable, ok, show_call,
};

/// Transfers `id` as `caller` and returns the record afterwards (same id).
async fn transfer(
    ctx: &Ctx,
    caller: &Caller,
    id: &CallId,
    destination: &str,
) -> Result<Call, String> {
    ok(
        ctx.backend.transfer(caller, id, destination).await,
        &format!(
            "transfer of call {id} to {destination:?} as {}",
            caller.number()
        ),
    )?;
    ctx.call(caller, id)
        .await
        .map_err(|e| format!("after transfer to {destination:?} the record keeps its id: {e}"))
}

/// Fails unless the call `id` is still exactly `before`, apart from its duration.
async fn unchanged(ctx: &Ctx, caller: &Caller, before: &Call, after_what: &str) -> CheckResult {
    let mut now = ctx.call(caller, &before.id).await?;
    now.duration = before.duration;
    ensure!(
        &now == before,
        "{after_what} must change nothing, but call {} went from {} to {}",
        before.id,
        show_call(before),
        show_call(&now)
    );
    Ok(())
}

/// The user's own extension is the released party.
pub(super) async fn own_extension_released(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let e202 = ctx.entity(&alice, "202").await?;

    // 201 is the `to` party: it is released, the outside caller goes on to 202.
    let id = ctx.connected(&alice, "+15550100", "201").await?;
    let call = transfer(&ctx, &alice, &id, "202").await?;
    expect_outside_party(&call, "from", "+15550100")?;
    expect_entity_party(&call, "to", &e202)
        .map_err(|e| format!("user 201 transferred its own call to 202 (201 released): {e}"))?;
    expect_state(&call, &["ringing"], "after transfer to 202")?;
    ensure!(
        call.via == "PSTN",
        "a transfer inside the PBX keeps the inbound call's via \"PSTN\": {}",
        show_call(&call)
    );
    ctx.answer(&alice, &id, None).await?;
    expect_state(
        &ctx.call(&alice, &id).await?,
        &["connected"],
        "after the transfer destination 202 answered",
    )?;

    // 201 is the `from` party: it is released and replaced by 202; 206 goes on.
    let id = ctx.connected(&alice, "201", "206").await?;
    let call = transfer(&ctx, &alice, &id, "202").await?;
    expect_entity_party(&call, "from", &e202).map_err(|e| {
        format!("user 201 transferred its call 201 → 206 to 202; 201's side is replaced: {e}")
    })?;
    expect_entity_party(&call, "to", &ctx.entity(&alice, "206").await?)?;
    expect_state(&call, &["ringing"], "after transfer to 202")?;
    Ok(())
}

/// When the user is no party, the `to` party is released.
pub(super) async fn to_party_released(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("202").await?;

    let id = ctx.connected(&alice, "+15550100", "206").await?;
    let call = transfer(&ctx, &bob, &id, "203").await?;
    expect_outside_party(&call, "from", "+15550100")?;
    expect_entity_party(&call, "to", &ctx.entity(&bob, "203").await?).map_err(|e| {
        format!("user 202, no party of +15550100 → 206, transferred it to 203: {e}")
    })?;
    expect_state(&call, &["ringing"], "after transfer to 203")?;

    let id = ctx.connected(&alice, "203", "206").await?;
    let call = transfer(&ctx, &alice, &id, "202").await?;
    expect_entity_party(&call, "from", &ctx.entity(&alice, "203").await?)?;
    expect_entity_party(&call, "to", &ctx.entity(&alice, "202").await?)
        .map_err(|e| format!("user 201, no party of 203 → 206, transferred it to 202: {e}"))?;
    expect_state(&call, &["ringing"], "after transfer to 202")?;
    Ok(())
}

/// `vm-<number>` reaches that extension's voicemail box.
pub(super) async fn to_voicemail(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let id = ctx.connected(&alice, "+15550100", "206").await?;
    let before = ctx.call(&alice, &id).await?;
    fails(
        ctx.backend.transfer(&alice, &id, "vm-205").await,
        Kind::NotFound,
        "transfer to vm-205 (205 has no voicemail box)",
    )?;
    unchanged(&ctx, &alice, &before, "a refused transfer").await?;
    let call = transfer(&ctx, &alice, &id, "vm-204").await?;
    expect_outside_party(&call, "from", "+15550100")?;
    expect_voicemail_party(&call, "to", "204")
        .map_err(|e| format!("after transfer to vm-204: {e}"))?;
    Ok(())
}

/// A queue destination turns the call into a queue call.
pub(super) async fn to_queue(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let id = ctx.connected(&alice, "+15550100", "202").await?;
    ok(
        ctx.backend.transfer(&alice, &id, "600").await,
        "transfer to queue 600",
    )?;
    expect_fan_out(&ctx, &alice, &id, "+15550100", &["203", "206"], "PSTN")
        .await
        .map_err(|e| {
            format!(
                "after transferring +15550100 → 202 to queue 600 (the record keeps its id and \
                 becomes the incoming record): {e}"
            )
        })?;
    Ok(())
}

/// An outside destination goes out over the group's outbound connection.
pub(super) async fn outbound(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let id = ctx.connected(&alice, "202", "206").await?;
    let call = transfer(&ctx, &alice, &id, "+15550177").await?;
    expect_entity_party(&call, "from", &ctx.entity(&alice, "202").await?)?;
    expect_outside_party(&call, "to", "+15550177")?;
    ensure!(
        call.via == "PSTN",
        "a call transferred to outside number +15550177 should carry the outbound connection \
         \"PSTN\" in via: {}",
        show_call(&call)
    );
    expect_state(&call, &["ringing"], "after transfer to an outside number")?;
    Ok(())
}

/// A group without an outbound connection cannot transfer outside.
pub(super) async fn no_outbound_connection(ctx: Ctx) -> CheckResult {
    let grace = ctx.user("301").await?;
    let id = ctx.connected(&grace, "302", "301").await?;
    let before = ctx.call(&grace, &id).await?;
    fails(
        ctx.backend.transfer(&grace, &id, "+15550177").await,
        Kind::NotFound,
        "transfer to an outside number in group Beta, which has no outbound connection",
    )?;
    unchanged(&ctx, &grace, &before, "a refused transfer").await
}

/// Another group's number is no destination, and says nothing about it.
pub(super) async fn other_group_destination(ctx: Ctx) -> CheckResult {
    let grace = ctx.user("301").await?;
    let id = ctx.connected(&grace, "+15550100", "301").await?;
    let before = ctx.call(&grace, &id).await?;
    let b = &ctx.backend;
    // Beta has no outbound connection, so any number outside Beta is "not found".
    for (missing, hidden) in [
        ("399", "201"),
        ("698", "600"),
        ("898", "800"),
        ("798", "700"),
    ] {
        indistinguishable(
            b.transfer(&grace, &id, missing).await,
            &[missing],
            b.transfer(&grace, &id, hidden).await,
            &[hidden],
            &["Alpha", "Alice", "Sales"],
            "transfer as 301",
        )?;
    }
    indistinguishable(
        b.transfer(&grace, &id, "vm-399").await,
        &["vm-399", "399"],
        b.transfer(&grace, &id, "vm-201").await,
        &["vm-201", "201"],
        &["Alpha", "Alice"],
        "transfer as 301",
    )?;
    unchanged(&ctx, &grace, &before, "refused transfers").await?;

    // Alpha has an outbound connection; other groups' numbers must still not be reached.
    let alice = ctx.user("201").await?;
    let id = ctx.connected(&alice, "+15550100", "206").await?;
    let before = ctx.call(&alice, &id).await?;
    for hidden in ["301", "650", "850"] {
        fails(
            b.transfer(&alice, &id, hidden).await,
            Kind::NotFound,
            &format!("transfer as 201 to Beta's {hidden}"),
        )
        .and_then(|m| {
            ensure!(
                !m.contains("Beta") && !m.contains("Grace"),
                "transfer as 201 to Beta's {hidden}: the message reveals Beta: {m:?}"
            );
            Ok(())
        })?;
    }
    indistinguishable(
        b.transfer(&alice, &id, "vm-299").await,
        &["vm-299", "299"],
        b.transfer(&alice, &id, "vm-301").await,
        &["vm-301", "301"],
        &["Beta", "Grace"],
        "transfer as 201",
    )?;
    unchanged(&ctx, &alice, &before, "refused transfers").await
}

/// Another group's call cannot be transferred, and says nothing about it.
pub(super) async fn other_group_call(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;
    let beta = ctx.connected(&grace, "+15550100", "301").await?;
    let before = ctx.call(&grace, &beta).await?;
    let nothing = CallId::new("no-such-call");
    indistinguishable(
        ctx.backend.transfer(&alice, &nothing, "202").await,
        &[nothing.as_str()],
        ctx.backend.transfer(&alice, &beta, "202").await,
        &[beta.as_str()],
        &["301", "Grace", "Beta", "+15550100"],
        "transfer as 201 of a call",
    )?;
    unchanged(&ctx, &grace, &before, "a refused transfer").await
}

/// Transferring a parked call takes it out of parking.
pub(super) async fn parked_call(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let id = ctx.connected(&alice, "+15550100", "206").await?;
    let slot = ok(ctx.backend.park(&alice, &id, None).await, "park")?;
    expect_state(&ctx.call(&alice, &id).await?, &["parked"], "after park")?;
    let call = transfer(&ctx, &alice, &id, "202").await?;
    expect_outside_party(&call, "from", "+15550100")?;
    expect_entity_party(&call, "to", &ctx.entity(&alice, "202").await?)
        .map_err(|e| format!("after transferring a parked call to 202: {e}"))?;
    expect_state(&call, &["ringing"], "a parked call after transfer to 202")?;
    let info = ctx.parking(&alice).await?;
    ensure!(
        info.parked_calls.is_empty(),
        "after transferring the call parked in slot {slot}, the lot should be empty; \
         parked_calls is {:?}",
        info.parked_calls
    );
    Ok(())
}
