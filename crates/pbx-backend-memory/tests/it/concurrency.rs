//! Many callers at once: operations stay atomic and snapshots consistent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pbx_backend::{Caller, PbxBackend, Simulator};
use pbx_backend_memory::MemoryPbx;
use pbx_model::{CallState, PartyKind};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// Drives calls through queue 600 (Acme) or 650 (Globex): ring, answer,
/// park, transfer, drop, as fast as it can.
async fn operator(pbx: &MemoryPbx, user: &Caller, queue: &str, to: &str, rounds: u32) {
    for i in 0..rounds {
        let Ok(id) = pbx.call(user, &format!("+1555{i:06}"), queue, None).await else {
            continue;
        };
        if pbx.answer(user, &id, None).await.is_err() {
            let _ = pbx.hangup(user, &id).await;
            continue;
        }
        let answered = match pbx.get_calls(user).await {
            Ok(calls) => calls.into_iter().find(|c| {
                c.from.number == format!("+1555{i:06}") && c.state == CallState::Connected
            }),
            Err(_) => None,
        };
        let Some(call) = answered else { continue };
        let _ = pbx.park(user, &call.id, None).await;
        let _ = pbx.transfer(user, &call.id, to).await;
        let _ = pbx.drop_call(user, &call.id).await;
    }
}

#[test]
fn concurrent_operators_and_readers_see_consistent_states() {
    let pbx = Arc::new(MemoryPbx::demo());
    let (acme, globex) = block_on(async {
        (
            pbx.authenticate("203", "203").await.unwrap().unwrap(),
            pbx.authenticate("301", "301").await.unwrap().unwrap(),
        )
    });
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = [acme.clone(), globex.clone()]
        .into_iter()
        .map(|user| {
            let (pbx, stop) = (pbx.clone(), stop.clone());
            std::thread::spawn(move || {
                block_on(async {
                    let mut snapshots = 0u32;
                    while !stop.load(Ordering::Relaxed) || snapshots == 0 {
                        let calls = pbx.get_calls(&user).await.unwrap();
                        let mut ids: Vec<_> = calls.iter().map(|c| &c.id).collect();
                        ids.sort();
                        ids.dedup();
                        assert_eq!(ids.len(), calls.len(), "an id listed twice");
                        for c in &calls {
                            // A parked call always shows its slot; nothing else does.
                            let in_slot =
                                c.to.kind == PartyKind::Unknown && c.to.name.starts_with("Parking");
                            assert_eq!(c.state == CallState::Parked, in_slot, "{c:?}");
                            // Nothing of the other group shows up.
                            for p in [&c.from, &c.to] {
                                if p.kind == PartyKind::Extension {
                                    assert_eq!(&p.number[..1], &user.number()[..1], "{c:?}");
                                }
                            }
                        }
                        snapshots += 1;
                    }
                })
            })
        })
        .collect();
    let writers: Vec<_> = [
        (acme.clone(), "600", "205"),
        (acme, "600", "207"),
        (globex.clone(), "650", "301"),
        (globex, "650", "vm-302"),
    ]
    .into_iter()
    .map(|(user, queue, to)| {
        let pbx = pbx.clone();
        std::thread::spawn(move || block_on(operator(&pbx, &user, queue, to, 200)))
    })
    .collect();
    for w in writers {
        w.join().expect("an operator thread");
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("a reader thread");
    }
    pbx.check_consistency().unwrap();
}
