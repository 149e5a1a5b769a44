//! `get_calls` and `get_extensions` of the in-memory PBX cost what the caller's
//! own group holds, not what the whole PBX holds.
//!
//! One PBX with a big group (10,000 entities: 9,000 extensions, 500 queues, 500
//! attendants; 2,000 calls), a small group (10 extensions, 1 queue; 5 calls) and
//! 50 other groups (201 entities, 50 calls each) that a background thread keeps
//! busy placing, answering and hanging up calls the whole time. The same small
//! group is also measured alone in a PBX of its own: its figures should match.
//!
//! Groups and ids: `get_calls`, `get_extensions` × `big group in big PBX`,
//! `small group in big PBX`, `small group alone`.

// The background load's rate goes to stderr so that a run shows it was busy.
#![allow(clippy::print_stderr)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pbx_backend::{Caller, PbxBackend, Simulator};
use pbx_backend_memory::{
    ActivityPeriod, AttendantConfig, Config, ConnectionConfig, ExtensionConfig, GroupConfig,
    MemoryPbx, ParkingConfig, QueueConfig, SimulationLimits,
};

const BUSY_GROUPS: usize = 50;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// A group named `name` with `extensions` extensions numbered from `first`,
/// `queues` queues of 10 members and `attendants` always-active attendants
/// numbered after them. Its first extension is a user (password "pw").
fn group(name: &str, first: u32, extensions: u32, queues: u32, attendants: u32) -> GroupConfig {
    let mut g = GroupConfig::new(name);
    for i in 0..extensions {
        let mut e = ExtensionConfig::new((first + i).to_string(), format!("{name} user {i}"));
        e.email = format!("user{i}@{name}.example");
        e.voicemail = i % 2 == 0;
        e.password = (i == 0).then(|| "pw".to_string());
        g.extensions.push(e);
    }
    let mut next = first + extensions;
    for q in 0..queues {
        let members = (0..10).map(|m| (first + (q * 10 + m) % extensions).to_string());
        g.queues.push(QueueConfig::new(
            next.to_string(),
            format!("{name} queue {q}"),
            members,
        ));
        next += 1;
    }
    for a in 0..attendants {
        g.attendants.push(AttendantConfig::new(
            next.to_string(),
            format!("{name} attendant {a}"),
            ActivityPeriod::always(),
        ));
        next += 1;
    }
    g.parking = Some(ParkingConfig {
        first_number: next.to_string(),
        slots: 10,
    });
    g.connections.push(ConnectionConfig {
        name: "Trunk".into(),
        outbound: true,
    });
    g
}

fn small_group() -> GroupConfig {
    group("small", 300_000, 10, 1, 0)
}

async fn user(pbx: &MemoryPbx, number: u32) -> Caller {
    pbx.authenticate(&number.to_string(), "pw")
        .await
        .expect("authenticate")
        .expect("a user")
}

/// Places `calls` calls in the group whose extensions start at `first`: half
/// internal, half inbound; every other one answered.
async fn fill(pbx: &MemoryPbx, caller: &Caller, first: u32, calls: u32) {
    for i in 0..calls {
        let to = (first + calls + i).to_string();
        let from = if i % 2 == 0 {
            (first + i).to_string()
        } else {
            format!("+1555{i:07}")
        };
        let id = pbx.call(caller, &from, &to, None).await.expect("sim.call");
        if i % 4 < 2 {
            pbx.answer(caller, &id, None).await.expect("sim.answer");
        }
    }
}

struct Setup {
    pbx: Arc<MemoryPbx>,
    big: Caller,
    small: Caller,
    alone: Arc<MemoryPbx>,
    alone_user: Caller,
}

fn setup(rt: &tokio::runtime::Runtime) -> Setup {
    let mut groups = vec![group("big", 100_000, 9_000, 500, 500), small_group()];
    for k in 0..BUSY_GROUPS {
        groups.push(group(
            &format!("busy{k}"),
            400_000 + 1_000 * k as u32,
            200,
            1,
            0,
        ));
    }
    let pbx = Arc::new(
        MemoryPbx::new(Config {
            groups,
            // The big group holds 2,000 calls, beyond the default bound.
            simulation_limits: SimulationLimits {
                max_live_calls: SimulationLimits::MAX_LIVE_CALLS,
                ..SimulationLimits::default()
            },
            ..Config::default()
        })
        .expect("a valid configuration"),
    );
    let alone = Arc::new(
        MemoryPbx::new(Config {
            groups: vec![small_group()],
            ..Config::default()
        })
        .expect("a valid configuration"),
    );
    rt.block_on(async {
        let big = user(&pbx, 100_000).await;
        fill(&pbx, &big, 100_000, 2_000).await;
        let small = user(&pbx, 300_000).await;
        fill(&pbx, &small, 300_000, 5).await;
        for k in 0..BUSY_GROUPS as u32 {
            let u = user(&pbx, 400_000 + 1_000 * k).await;
            fill(&pbx, &u, 400_000 + 1_000 * k, 50).await;
        }
        let alone_user = user(&alone, 300_000).await;
        fill(&alone, &alone_user, 300_000, 5).await;
        assert_eq!(pbx.get_calls(&big).await.expect("get_calls").len(), 2_000);
        assert_eq!(
            pbx.get_extensions(&big)
                .await
                .expect("get_extensions")
                .len(),
            10_000
        );
        Setup {
            pbx: pbx.clone(),
            big,
            small,
            alone: alone.clone(),
            alone_user,
        }
    })
}

/// Keeps the 50 busy groups busy until `stop`: in each in turn, a call comes
/// in, is answered, and is hung up. Returns the number of operations.
fn busy(pbx: Arc<MemoryPbx>, stop: Arc<AtomicBool>, ops: Arc<AtomicU64>) {
    let rt = runtime();
    rt.block_on(async {
        let mut users = Vec::new();
        for k in 0..BUSY_GROUPS as u32 {
            users.push((user(&pbx, 400_000 + 1_000 * k).await, 400_000 + 1_000 * k));
        }
        let mut i = 0u32;
        while !stop.load(Ordering::Relaxed) {
            let (u, first) = &users[i as usize % BUSY_GROUPS];
            let to = (first + 100 + i % 100).to_string();
            if let Ok(id) = pbx.call(u, "+15550100", &to, None).await {
                let _ = pbx.answer(u, &id, None).await;
                let _ = pbx.get_calls(u).await;
                let _ = pbx.hangup(u, &id).await;
                ops.fetch_add(4, Ordering::Relaxed);
            }
            i = i.wrapping_add(1);
        }
    });
}

fn lists(c: &mut Criterion) {
    let rt = runtime();
    let s = setup(&rt);
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let background = {
        let (pbx, stop, ops) = (s.pbx.clone(), stop.clone(), ops.clone());
        std::thread::spawn(move || busy(pbx, stop, ops))
    };

    let cases: [(&str, &Arc<MemoryPbx>, &Caller); 3] = [
        ("big group in big PBX", &s.pbx, &s.big),
        ("small group in big PBX", &s.pbx, &s.small),
        ("small group alone", &s.alone, &s.alone_user),
    ];
    let mut calls = c.benchmark_group("get_calls");
    for (id, pbx, user) in cases {
        calls.bench_function(id, |b| {
            b.iter(|| {
                rt.block_on(pbx.get_calls(black_box(user)))
                    .expect("get_calls")
            });
        });
    }
    calls.finish();
    let mut extensions = c.benchmark_group("get_extensions");
    for (id, pbx, user) in cases {
        extensions.bench_function(id, |b| {
            b.iter(|| {
                rt.block_on(pbx.get_extensions(black_box(user)))
                    .expect("get_extensions")
            });
        });
    }
    extensions.finish();

    stop.store(true, Ordering::Relaxed);
    let _ = background.join();
    let per_second = ops.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    eprintln!("background load on the {BUSY_GROUPS} busy groups: {per_second:.0} operations/s");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = lists
}
criterion_main!(benches);
