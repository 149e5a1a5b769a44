//! Queue calls: fan-out to ringing members, answer, drop.

use pbx_model::{Call, CallId};

use crate::Caller;
use crate::kit::ctx::{
    CheckResult, Ctx, ensure, expect_entity_party, expect_outside_party, expect_state, ok,
    show_call, show_calls,
};

/// The records of a queue call just placed from `from` to queue 600: the
/// incoming record `incoming` and the member records, by member number.
/// Fails unless they are exactly what SPEC.md describes for `members`.
pub(super) async fn expect_fan_out(
    ctx: &Ctx,
    caller: &Caller,
    incoming: &CallId,
    from: &str,
    members: &[&str],
    via: &str,
) -> Result<Vec<(String, CallId)>, String> {
    let calls = ctx.calls(caller).await?;
    let mut rest: Vec<&Call> = calls.iter().filter(|c| c.from.number == from).collect();
    let shown = show_calls(&calls);
    let Some(at) = rest.iter().position(|c| &c.id == incoming) else {
        return Err(format!(
            "the call to queue 600 has no record with the id {incoming} that sim.call returned \
             (the incoming record); get_calls lists {shown}"
        ));
    };
    let record = rest.remove(at);
    let queue = ctx.entity(caller, "600").await?;
    expect_entity_party(record, "to", &queue)?;
    ensure!(
        record.qcall && record.via == via,
        "the incoming record of a queue call should have qcall 1 and via {via:?}: {}",
        show_call(record)
    );

    let mut out = Vec::new();
    for member in members {
        let Some(at) = rest.iter().position(|c| c.to.number == *member) else {
            return Err(format!(
                "a call to queue 600 should have a record for ringing member {member} \
                 (members ringing: {members:?}); get_calls lists {shown}"
            ));
        };
        let r = rest.remove(at);
        expect_entity_party(r, "to", &ctx.entity(caller, member).await?)?;
        ensure!(
            r.qcall && r.via == via && r.state.as_str() == "ringing" && r.from == record.from,
            "the record of member {member} should be ringing, qcall 1, via {via:?}, from the \
             caller: {}",
            show_call(r)
        );
        out.push(((*member).to_string(), r.id.clone()));
    }
    ensure!(
        rest.is_empty(),
        "a call to queue 600 should ring exactly the online idle members {members:?}; extra \
         records: {}",
        rest.iter()
            .map(|c| show_call(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(out)
}

/// Incoming record plus one ringing record per online idle member, all qcall 1.
pub(super) async fn fan_out(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    let id = ctx.place(&alice, "+15550100", "600", None).await?;
    // 204 is offline: it does not ring.
    expect_fan_out(&ctx, &alice, &id, "+15550100", &["203", "206"], "PSTN").await?;
    ok(
        sim.hangup(&alice, &id).await,
        "sim.hangup of the incoming record",
    )?;
    ctx.no_calls(&alice, "after hanging up a queue call's incoming record")
        .await?;

    // 206 busy on a connected call: only 203 rings.
    let busy = ctx.connected(&alice, "202", "206").await?;
    let id = ctx.place(&alice, "+15550101", "600", None).await?;
    expect_fan_out(&ctx, &alice, &id, "+15550101", &["203"], "PSTN")
        .await
        .map_err(|e| format!("with member 206 on a connected call: {e}"))?;
    ctx.call(&alice, &busy).await?;
    let grace = ctx.user("301").await?;
    ctx.no_calls(&grace, "with only Alpha queue calls").await
}

/// A named member answers: the others and the incoming record end.
pub(super) async fn answer_by_member(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    let id = ctx.place(&alice, "+15550100", "600", None).await?;
    let members = expect_fan_out(&ctx, &alice, &id, "+15550100", &["203", "206"], "PSTN").await?;
    let answered = members
        .iter()
        .find(|(m, _)| m == "206")
        .map(|(_, id)| id.clone())
        .ok_or("kit bug: no record for 206")?;

    ensure!(
        sim.answer(&alice, &id, Some("204")).await.is_err(),
        "sim.answer of a queue call by 204, which is offline and not ringing, should fail"
    );
    ctx.answer(&alice, &id, Some("206")).await?;
    let calls = ctx.calls(&alice).await?;
    ensure!(
        calls.len() == 1 && calls[0].id == answered,
        "after member 206 answered, only its record {answered} should remain (the incoming \
         record and 203's end); get_calls lists {}",
        show_calls(&calls)
    );
    let call = &calls[0];
    expect_state(call, &["connected"], "the answered member record")?;
    expect_outside_party(call, "from", "+15550100")?;
    expect_entity_party(call, "to", &ctx.entity(&alice, "206").await?)?;
    ensure!(
        call.qcall && call.via == "PSTN",
        "the answered member record should keep qcall 1 and via \"PSTN\": {}",
        show_call(call)
    );
    Ok(())
}

/// Without a member, the first ringing member answers.
pub(super) async fn answer_default(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let id = ctx.place(&alice, "+15550100", "600", None).await?;
    expect_fan_out(&ctx, &alice, &id, "+15550100", &["203", "206"], "PSTN").await?;
    ctx.answer(&alice, &id, None).await?;
    let calls = ctx.calls(&alice).await?;
    ensure!(
        calls.len() == 1 && calls[0].to.number == "203" && calls[0].state.as_str() == "connected",
        "sim.answer of a queue call without a member: the first ringing member (203) should \
         answer and its record alone remain, connected; get_calls lists {}",
        show_calls(&calls)
    );
    Ok(())
}

/// Dropping the incoming record ends every record of the queue call.
pub(super) async fn drop_incoming(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let other = ctx.connected(&alice, "201", "202").await?;
    let id = ctx.place(&alice, "+15550100", "600", None).await?;
    expect_fan_out(&ctx, &alice, &id, "+15550100", &["203", "206"], "PSTN").await?;
    ok(
        ctx.backend.drop_call(&alice, &id).await,
        "drop of a queue call's incoming record",
    )?;
    let calls = ctx.calls(&alice).await?;
    ensure!(
        calls.len() == 1 && calls[0].id == other,
        "after dropping the incoming record of a queue call, all its records should end (and \
         the unrelated call {other} stay); get_calls lists {}",
        show_calls(&calls)
    );
    Ok(())
}
