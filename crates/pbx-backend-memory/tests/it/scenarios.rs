//! The flows integrators care about, step by step, as a client sees them
//! through `get_calls` and `get_parking_info`, with exact durations.

use std::collections::BTreeMap;

use pbx_backend::{PbxBackend, Simulator};
use pbx_model::{CallId, CallState, PartyKind};

use crate::support::{Demo, kind, shown};

/// An outside caller rings the sales queue; 202 answers; the operator (203)
/// parks the call, transfers it to 205, who answers; then it is dropped.
#[tokio::test]
async fn inbound_queue_call_is_answered_parked_transferred_and_dropped() {
    let d = Demo::new().await;
    let (pbx, op) = (&d.pbx, &d.carol);

    // Queue 600 = 201..204; 204 is offline, so 201, 202 and 203 ring.
    let incoming = pbx.call(op, "+15550100", "600", None).await.unwrap();
    let calls = d.calls(op).await;
    assert_eq!(
        shown(&calls),
        [
            "ringing unknown:+15550100 -> extension:201 via=\"PSTN\" q=1",
            "ringing unknown:+15550100 -> extension:202 via=\"PSTN\" q=1",
            "ringing unknown:+15550100 -> extension:203 via=\"PSTN\" q=1",
            "ringing unknown:+15550100 -> queue:600 via=\"PSTN\" q=1",
        ]
    );
    assert_eq!(calls[0].id, incoming, "the incoming record comes first");
    assert!(calls.iter().all(|c| c.duration == 0));
    assert_eq!(
        d.presence(op, "600").await,
        "offline",
        "every online member is ringing"
    );

    d.advance(7);
    let leg_202 = calls
        .iter()
        .find(|c| c.to.number == "202")
        .unwrap()
        .id
        .clone();
    pbx.answer(op, &incoming, Some("202")).await.unwrap();
    let calls = d.calls(op).await;
    assert_eq!(
        shown(&calls),
        ["connected unknown:+15550100 -> extension:202 via=\"PSTN\" q=1"]
    );
    assert_eq!(calls[0].id, leg_202, "the answered member record goes on");
    assert_eq!(
        calls[0].duration, 7,
        "the call's age counts from the caller's first ring"
    );
    assert_eq!(calls[0].to.name, "Bob Brown");
    assert_eq!(
        d.presence(op, "600").await,
        "online",
        "201 and 203 are idle again"
    );

    // The operator parks it: 203 is no party, so 202 (`to`) is released.
    d.advance(60);
    assert_eq!(pbx.park(op, &leg_202, None).await.unwrap(), 1);
    let info = pbx.get_parking_info(op).await.unwrap();
    assert_eq!(info.parking_extension, "700");
    assert_eq!(info.slots, 10);
    assert_eq!(info.parked_calls, BTreeMap::from([(1, leg_202.clone())]));
    let call = d.call(op, &leg_202).await;
    assert_eq!(call.state, CallState::Parked);
    assert_eq!(call.from.number, "+15550100");
    assert_eq!(
        (call.to.number.as_str(), call.to.kind),
        ("700", PartyKind::Unknown)
    );
    assert_eq!(call.to.name, "Parking slot 1");
    assert_eq!(call.via, "PSTN");
    assert_eq!(call.duration, 67);
    assert_eq!(d.presence(op, "202").await, "online");

    // Transferred to 205: out of parking, ringing 205, same record.
    d.advance(30);
    pbx.transfer(op, &leg_202, "205").await.unwrap();
    assert!(
        pbx.get_parking_info(op)
            .await
            .unwrap()
            .parked_calls
            .is_empty()
    );
    let call = d.call(op, &leg_202).await;
    assert_eq!(
        crate::support::show(&call),
        "ringing unknown:+15550100 -> extension:205 via=\"PSTN\" q=0"
    );
    assert_eq!(call.duration, 97);
    pbx.answer(op, &leg_202, None).await.unwrap();
    assert_eq!(d.call(op, &leg_202).await.state, CallState::Connected);

    d.advance(3);
    assert_eq!(d.call(op, &leg_202).await.duration, 100);
    pbx.drop_call(op, &leg_202).await.unwrap();
    assert!(d.calls(op).await.is_empty());
    assert_eq!(kind(pbx.drop_call(op, &leg_202).await), "not found");
    // Globex saw none of it.
    assert!(d.calls(&d.hank).await.is_empty());
}

/// An internal call is held and resumed, then sent to voicemail and outside.
#[tokio::test]
async fn internal_call_hold_resume_voicemail_and_outbound_transfer() {
    let d = Demo::new().await;
    let (pbx, alice) = (&d.pbx, &d.alice);
    let id = pbx.call(alice, "201", "207", None).await.unwrap();
    assert_eq!(
        crate::support::show(&d.call(alice, &id).await),
        "ringing extension:201 -> extension:207 via=\"\" q=0"
    );
    assert_eq!(kind(pbx.hold(alice, &id).await), "conflict");
    pbx.answer(alice, &id, Some("207")).await.unwrap();
    pbx.hold(alice, &id).await.unwrap();
    assert_eq!(d.call(alice, &id).await.state, CallState::OnHold);
    pbx.resume(alice, &id).await.unwrap();
    assert_eq!(d.call(alice, &id).await.state, CallState::Connected);

    // 201 transfers its own call: 201 (`from`) is released, 207 goes to 202's box.
    pbx.transfer(alice, &id, "vm-202").await.unwrap();
    let call = d.call(alice, &id).await;
    assert_eq!(
        crate::support::show(&call),
        "ringing vm:vm-202 -> extension:207 via=\"\" q=0"
    );
    assert_eq!(call.from.name, "Bob Brown");

    // The operator (203, no party) sends the `to` side on... which is 207's
    // side: the voicemail box would stay, and a box cannot be transferred.
    assert_eq!(
        kind(pbx.transfer(&d.carol, &id, "+4930123456").await),
        "conflict"
    );

    // An outside number goes out over the first outbound connection.
    let id = pbx.call(alice, "208", "210", None).await.unwrap();
    pbx.transfer(&d.carol, &id, "+4930123456").await.unwrap();
    assert_eq!(
        crate::support::show(&d.call(alice, &id).await),
        "ringing extension:208 -> unknown:+4930123456 via=\"PSTN\" q=0"
    );
    // Long digit strings count as outside numbers too.
    pbx.transfer(&d.carol, &id, "0049301234").await.unwrap();
    assert_eq!(d.call(alice, &id).await.to.number, "0049301234");
    // Globex has no outbound connection.
    let g = pbx.call(&d.hank, "301", "302", None).await.unwrap();
    assert_eq!(
        kind(pbx.transfer(&d.hank, &g, "+4930123456").await),
        "not found"
    );
}

/// Offline destinations go to voicemail or fail; an offline phone cannot dial.
#[tokio::test]
async fn offline_extensions_divert_to_voicemail() {
    let d = Demo::new().await;
    let (pbx, u) = (&d.pbx, &d.carol);
    let id = pbx.call(u, "+15550100", "204", None).await.unwrap();
    let call = d.call(u, &id).await;
    assert_eq!(
        (call.to.kind, call.to.number.as_str()),
        (PartyKind::Voicemail, "vm-204")
    );
    assert_eq!(call.to.name, "Dan Dorsey");
    assert_eq!(
        kind(pbx.call(u, "+15550100", "206", None).await),
        "conflict"
    );
    assert_eq!(kind(pbx.call(u, "204", "201", None).await), "conflict");
    assert_eq!(kind(pbx.call(u, "201", "201", None).await), "conflict");
    // A transfer to an offline extension follows the same rule.
    let id = pbx.call(u, "+15550101", "201", None).await.unwrap();
    assert_eq!(kind(pbx.transfer(u, &id, "206").await), "conflict");
    pbx.transfer(u, &id, "204").await.unwrap();
    assert_eq!(d.call(u, &id).await.to.number, "vm-204");
}

/// A queue call waits while nobody is free, and rings members as they come free.
#[tokio::test]
async fn a_waiting_queue_call_rings_members_as_they_become_available() {
    let d = Demo::new().await;
    let (pbx, u) = (&d.pbx, &d.carol);
    // Queue 601 = 205 (online), 206 (offline), 207 (online). Keep both busy.
    let a = pbx.call(u, "205", "201", None).await.unwrap();
    let b = pbx.call(u, "207", "202", None).await.unwrap();
    assert_eq!(d.presence(u, "601").await, "offline");
    let q = pbx.call(u, "+15550100", "601", None).await.unwrap();
    assert_eq!(
        d.calls(u).await.len(),
        3,
        "only the incoming record: nobody can ring"
    );
    assert_eq!(kind(pbx.answer(u, &q, None).await), "conflict");

    pbx.register(u, "206").await.unwrap();
    let ringing: Vec<String> = d
        .calls(u)
        .await
        .iter()
        .filter(|c| c.qcall && c.to.kind == PartyKind::Extension)
        .map(|c| c.to.number.clone())
        .collect();
    assert_eq!(ringing, ["206"]);

    // 206 declines (its record is dropped): it is not rung again for this call.
    let leg = d
        .calls(u)
        .await
        .into_iter()
        .find(|c| c.to.number == "206")
        .unwrap();
    pbx.drop_call(u, &leg.id).await.unwrap();
    let calls = d.calls(u).await;
    assert!(calls.iter().any(|c| c.id == q), "the caller still waits");
    assert!(!calls.iter().any(|c| c.to.number == "206"));

    // 205 hangs up its other call and rings at once.
    pbx.hangup(u, &a).await.unwrap();
    let calls = d.calls(u).await;
    let leg = calls
        .iter()
        .find(|c| c.to.number == "205")
        .expect("205 rings");
    assert_eq!(
        crate::support::show(leg),
        "ringing unknown:+15550100 -> extension:205 via=\"PSTN\" q=1"
    );
    // 207 unregisters while busy; when its call ends it stays quiet.
    pbx.unregister(u, "207").await.unwrap();
    pbx.hangup(u, &b).await.unwrap();
    assert!(!d.calls(u).await.iter().any(|c| c.to.number == "207"));

    // Hanging up any record of a waiting queue call ends all of them.
    let leg = leg.id.clone();
    pbx.hangup(u, &leg).await.unwrap();
    assert!(d.calls(u).await.is_empty());
}

/// Answering a member's own record, and transferring a ringing queue call.
#[tokio::test]
async fn queue_records_can_be_answered_or_transferred_one_by_one() {
    let d = Demo::new().await;
    let (pbx, u) = (&d.pbx, &d.carol);
    let q = pbx.call(u, "+15550100", "600", None).await.unwrap();
    let leg_201 = d
        .calls(u)
        .await
        .into_iter()
        .find(|c| c.to.number == "201")
        .unwrap()
        .id;
    assert_eq!(kind(pbx.answer(u, &leg_201, Some("204")).await), "conflict");
    assert_eq!(
        kind(pbx.answer(u, &leg_201, Some("301")).await),
        "not found"
    );
    pbx.answer(u, &leg_201, None).await.unwrap();
    let calls = d.calls(u).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].id.clone(), calls[0].state),
        (leg_201, CallState::Connected)
    );

    // A ringing queue call transferred elsewhere stops ringing the queue.
    let q2 = pbx.call(u, "+15550101", "600", None).await.unwrap();
    assert_eq!(d.calls(u).await.len(), 4, "202 and 203 ring; 201 is busy");
    pbx.transfer(u, &q2, "800").await.unwrap();
    let calls = d.calls(u).await;
    assert_eq!(
        shown(&calls),
        [
            "connected unknown:+15550100 -> extension:201 via=\"PSTN\" q=1",
            "ringing unknown:+15550101 -> attendant:800 via=\"PSTN\" q=0",
        ]
    );
    assert_ne!(q, q2);

    // ...and a transfer to a queue makes it a queue call again (same id).
    pbx.transfer(u, &q2, "600").await.unwrap();
    let calls = d.calls(u).await;
    assert_eq!(calls.iter().filter(|c| c.qcall).count(), 4);
    assert_eq!(d.call(u, &q2).await.to.number, "600");
}

/// Parking: explicit slots, conflicts, a full lot, pick-up by dialling the slot.
#[tokio::test]
async fn parking_slots_and_pick_up() {
    let d = Demo::new().await;
    let (pbx, u) = (&d.pbx, &d.hank);
    // Globex: lot 750..754 (5 slots). 301, 302, 304 online.
    let mut ids = Vec::new();
    for (i, to) in ["301", "302", "304", "301", "302", "304"]
        .iter()
        .enumerate()
    {
        let id = pbx
            .call(u, &format!("+1555010{i}"), to, None)
            .await
            .unwrap();
        pbx.answer(u, &id, None).await.unwrap();
        ids.push(id);
    }
    assert_eq!(pbx.park(u, &ids[0], Some(3)).await.unwrap(), 3);
    assert_eq!(kind(pbx.park(u, &ids[1], Some(3)).await), "conflict");
    assert_eq!(
        kind(pbx.park(u, &ids[0], None).await),
        "conflict",
        "already parked"
    );
    assert_eq!(kind(pbx.park(u, &ids[1], Some(0)).await), "invalid input");
    assert_eq!(kind(pbx.park(u, &ids[1], Some(6)).await), "invalid input");
    assert_eq!(pbx.park(u, &ids[1], None).await.unwrap(), 1);
    // Transferring to a slot's number parks there.
    pbx.transfer(u, &ids[2], "751").await.unwrap();
    assert_eq!(pbx.park(u, &ids[3], None).await.unwrap(), 4);
    assert_eq!(pbx.park(u, &ids[4], None).await.unwrap(), 5);
    assert_eq!(kind(pbx.park(u, &ids[5], None).await), "limit reached");
    let info = pbx.get_parking_info(u).await.unwrap();
    let slots: Vec<(u32, CallId)> = info.parked_calls.into_iter().collect();
    assert_eq!(
        slots,
        [
            (1, ids[1].clone()),
            (2, ids[2].clone()),
            (3, ids[0].clone()),
            (4, ids[3].clone()),
            (5, ids[4].clone()),
        ]
    );

    // 304 dials slot 3 (752) and picks the caller up.
    pbx.hangup(u, &ids[5]).await.unwrap();
    let picked = pbx.call(u, "304", "752", None).await.unwrap();
    assert_eq!(picked, ids[0]);
    assert_eq!(
        crate::support::show(&d.call(u, &picked).await),
        "connected unknown:+15550100 -> extension:304 via=\"Globex-DID\" q=0"
    );
    assert_eq!(
        kind(pbx.call(u, "304", "752", None).await),
        "conflict",
        "slot is empty now"
    );
    assert_eq!(
        kind(pbx.call(u, "+15550199", "750", None).await),
        "conflict"
    );
    assert!(
        !pbx.get_parking_info(u)
            .await
            .unwrap()
            .parked_calls
            .contains_key(&3)
    );
    // Acme's lot is untouched.
    assert!(
        pbx.get_parking_info(&d.carol)
            .await
            .unwrap()
            .parked_calls
            .is_empty()
    );
}

/// Whoever asks, a call of another group is "not found", like one that never was.
#[tokio::test]
async fn other_groups_calls_are_not_found() {
    let d = Demo::new().await;
    let pbx = &d.pbx;
    let theirs = pbx.call(&d.hank, "+15550100", "301", None).await.unwrap();
    let never = CallId::new("999999");
    for id in [&theirs, &never] {
        let msgs = [
            pbx.transfer(&d.carol, id, "202")
                .await
                .unwrap_err()
                .to_string(),
            pbx.drop_call(&d.carol, id).await.unwrap_err().to_string(),
            pbx.park(&d.carol, id, None).await.unwrap_err().to_string(),
            pbx.answer(&d.carol, id, None)
                .await
                .unwrap_err()
                .to_string(),
            pbx.hangup(&d.carol, id).await.unwrap_err().to_string(),
        ];
        assert!(msgs.iter().all(|m| m == "no such call"), "{msgs:?}");
    }
    assert_eq!(d.calls(&d.hank).await.len(), 1);
    assert!(d.calls(&d.carol).await.is_empty());
    // Numbers of other groups are as unknown as numbers nobody has.
    let mine = pbx.call(&d.carol, "+15550100", "201", None).await.unwrap();
    let a = pbx
        .transfer(&d.carol, &mine, "301")
        .await
        .unwrap_err()
        .to_string();
    let b = pbx
        .transfer(&d.carol, &mine, "399")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(a.replace("301", "X"), b.replace("399", "X"));
    let a = pbx
        .call(&d.carol, "301", "201", None)
        .await
        .unwrap_err()
        .to_string();
    let b = pbx
        .call(&d.carol, "399", "201", None)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(a.replace("301", "X"), b.replace("399", "X"));
}

/// Reset ends only the caller's group's calls; ids never repeat.
#[tokio::test]
async fn reset_restores_the_group_and_ids_stay_unique() {
    let d = Demo::new().await;
    let (pbx, u) = (&d.pbx, &d.carol);
    let mut seen = std::collections::HashSet::new();
    let g = pbx.call(&d.hank, "+15550100", "301", None).await.unwrap();
    seen.insert(g.clone());
    for _ in 0..3 {
        let id = pbx.call(u, "+15550100", "600", None).await.unwrap();
        pbx.unregister(u, "201").await.unwrap();
        pbx.register(u, "204").await.unwrap();
        for c in d.calls(u).await {
            assert!(seen.insert(c.id.clone()) || c.id == id, "{} repeated", c.id);
        }
        pbx.reset(u).await.unwrap();
        assert!(d.calls(u).await.is_empty());
        assert_eq!(d.presence(u, "201").await, "online");
        assert_eq!(d.presence(u, "204").await, "offline");
    }
    assert_eq!(d.calls(&d.hank).await.len(), 1);
}
