//! `get_extensions`: visibility, records, derived presence.

use std::collections::{BTreeMap, BTreeSet};

use pbx_model::{Entity, EntityRef};

use crate::Caller;
use crate::kit::Group;
use crate::kit::ctx::{CheckResult, Ctx, ensure, ok};

/// The numbers of a fixture group, with the kind each must be listed as.
fn expected_kinds(group: &Group) -> BTreeMap<&str, &'static str> {
    let mut out = BTreeMap::new();
    for e in &group.extensions {
        out.insert(e.number.as_str(), "extension");
    }
    for q in &group.queues {
        out.insert(q.number.as_str(), "queue");
    }
    for a in &group.attendants {
        out.insert(a.number.as_str(), "attendant");
    }
    out
}

/// Each user sees exactly their own group's entities.
pub(super) async fn visibility(ctx: Ctx) -> CheckResult {
    for (user, group_name) in [("201", "Alpha"), ("301", "Beta")] {
        // (type, id) pairs are unique within what a group sees; another group
        // may use the same pairs (ids per group leak nothing about it).
        let mut seen_refs: BTreeMap<EntityRef, String> = BTreeMap::new();
        let caller = ctx.user(user).await?;
        let group = ctx
            .fixture
            .group(group_name)
            .ok_or("kit bug: fixture group missing")?;
        let expected = expected_kinds(group);
        let listed = ctx.entities(&caller).await?;

        let mut numbers = BTreeSet::new();
        for e in &listed {
            ensure!(
                numbers.insert(e.abbreviated.as_str()),
                "get_extensions as {user} lists {} more than once",
                e.abbreviated
            );
            match expected.get(e.abbreviated.as_str()) {
                None => {
                    return Err(format!(
                        "get_extensions as {user} (group {group_name}) lists {} {:?}, which is \
                         not an entity of {group_name}",
                        e.kind.as_str(),
                        e.abbreviated
                    ));
                }
                Some(kind) => ensure!(
                    e.kind.as_str() == *kind,
                    "get_extensions as {user} lists {} as {}, expected {kind}",
                    e.abbreviated,
                    e.kind.as_str()
                ),
            }
            if let Some(other) = seen_refs.insert(e.entity_ref(), e.abbreviated.clone()) {
                return Err(format!(
                    "{} {} and {other} share the (type, id) pair ({}, {}): ids must be unique per \
                     type within a group",
                    e.kind.as_str(),
                    e.abbreviated,
                    e.kind.as_str(),
                    e.id
                ));
            }
        }
        let missing: Vec<_> = expected.keys().filter(|n| !numbers.contains(*n)).collect();
        ensure!(
            missing.is_empty(),
            "get_extensions as {user} (group {group_name}) misses {missing:?}"
        );
    }

    // Every user of a group sees the same list.
    let alice = ctx.user("201").await?;
    let bob = ctx.user("202").await?;
    let by_number = |mut v: Vec<Entity>| {
        v.sort_by(|a, b| a.abbreviated.cmp(&b.abbreviated));
        v
    };
    let a = by_number(ctx.entities(&alice).await?);
    let b = by_number(ctx.entities(&bob).await?);
    ensure!(
        a == b,
        "users 201 and 202 of the same group get different get_extensions lists:\n{a:?}\n{b:?}"
    );
    Ok(())
}

/// Record fields and the configured presence.
pub(super) async fn records(ctx: Ctx) -> CheckResult {
    for (user, group_name) in [("201", "Alpha"), ("301", "Beta")] {
        let caller = ctx.user(user).await?;
        let group = ctx
            .fixture
            .group(group_name)
            .ok_or("kit bug: fixture group missing")?;
        let listed = ctx.entities(&caller).await?;
        let find = |number: &str| {
            listed
                .iter()
                .find(|e| e.abbreviated == number)
                .ok_or_else(|| format!("get_extensions as {user} lists no {number:?}"))
        };

        for x in &group.extensions {
            let e = find(&x.number)?;
            ensure!(
                e.caller_id.name == x.name && e.caller_id.phone == x.phone,
                "extension {}: callerid should be {{phone: {:?}, name: {:?}}}, is {{phone: {:?}, name: {:?}}}",
                x.number,
                x.phone,
                x.name,
                e.caller_id.phone,
                e.caller_id.name
            );
            ensure!(
                e.voicemail == x.voicemail,
                "extension {}: voicemail should be {}, is {}",
                x.number,
                u8::from(x.voicemail),
                u8::from(e.voicemail)
            );
            ensure!(
                e.email == x.email,
                "extension {}: email should be {:?}, is {:?}",
                x.number,
                x.email,
                e.email
            );
            let want = if x.online { "online" } else { "offline" };
            ensure!(
                e.presence.as_str() == want,
                "extension {}: its phone is configured {want}, but its state is {}",
                x.number,
                e.presence.as_str()
            );
        }

        for q in &group.queues {
            let e = find(&q.number)?;
            ensure!(
                e.caller_id.name == q.name,
                "queue {}: callerid.name should be {:?}, is {:?}",
                q.number,
                q.name,
                e.caller_id.name
            );
            let any_online = q
                .members
                .iter()
                .any(|m| group.extensions.iter().any(|x| &x.number == m && x.online));
            let want = if any_online { "online" } else { "offline" };
            ensure!(
                e.presence.as_str() == want,
                "queue {} (members {:?}, no calls): state should be {want}, is {}",
                q.number,
                q.members,
                e.presence.as_str()
            );
        }

        for a in &group.attendants {
            let e = find(&a.number)?;
            ensure!(
                e.caller_id.name == a.name,
                "attendant {}: callerid.name should be {:?}, is {:?}",
                a.number,
                a.name,
                e.caller_id.name
            );
            let (want, period) = if a.always_active {
                ("online", "active all week, 00:00-24:00")
            } else {
                ("offline", "active on no weekday")
            };
            ensure!(
                e.presence.as_str() == want,
                "attendant {} ({period}): state should be {want}, is {}",
                a.number,
                e.presence.as_str()
            );
        }
    }
    Ok(())
}

/// Queue 600 (members 203 online, 204 offline, 206 online) goes offline when
/// its online members are busy or unregistered, and back online when one is free.
pub(super) async fn queue_presence(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let sim = ctx.sim()?;
    expect_600(&ctx, &alice, "online", "with 203 and 206 online and idle").await?;
    let first = ctx.connected(&alice, "201", "203").await?;
    expect_600(
        &ctx,
        &alice,
        "online",
        "with 203 on a connected call but 206 idle",
    )
    .await?;
    let second = ctx.connected(&alice, "202", "206").await?;
    expect_600(
        &ctx,
        &alice,
        "offline",
        "with both online members (203, 206) on connected calls",
    )
    .await?;
    ok(sim.hangup(&alice, &first).await, "sim.hangup of 201 → 203")?;
    expect_600(&ctx, &alice, "online", "after 203's call ended").await?;
    ok(sim.hangup(&alice, &second).await, "sim.hangup of 202 → 206")?;

    ok(sim.unregister(&alice, "203").await, "sim.unregister(203)")?;
    ok(sim.unregister(&alice, "206").await, "sim.unregister(206)")?;
    expect_600(&ctx, &alice, "offline", "with every member unregistered").await?;
    ok(sim.register(&alice, "204").await, "sim.register(204)")?;
    expect_600(&ctx, &alice, "online", "after member 204 registered").await?;
    Ok(())
}

async fn expect_600(ctx: &Ctx, alice: &Caller, want: &str, when: &str) -> CheckResult {
    let is = ctx.presence(alice, "600").await?;
    ensure!(
        is == want,
        "queue 600 (members 203, 204, 206) {when}: state should be {want}, is {is}"
    );
    Ok(())
}
