//! What durability costs: acknowledged `dict_set`s per second with 1 and with
//! 16 concurrent clients (group commit at work), and `dict_get`s per second,
//! through `MemoryPbx` on `SqliteStorage` in a data directory on the target
//! directory's disk (real fsyncs), with `MemoryStorage` alongside as the floor.
//!
//! `cargo bench -p pbx-storage-sqlite --bench sqlite`; results in
//! docs/benchmarks.md ("Durable storage").

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pbx_backend::{Caller, PbxBackend};
use pbx_backend_memory::MemoryPbx;
use pbx_storage_sqlite::SqliteStorage;

/// Keys each client cycles through (overwrites after the first round, so that
/// the quota never interferes).
const KEYS: u64 = 500;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime")
}

struct Setup {
    pbx: Arc<MemoryPbx>,
    /// Users 201..=210 of the demo, one per client slot (cycled).
    users: Vec<Caller>,
}

fn setup(rt: &tokio::runtime::Runtime, pbx: MemoryPbx) -> Setup {
    let pbx = Arc::new(pbx);
    let users = rt.block_on(async {
        let mut users = Vec::new();
        for n in ["201", "203"] {
            let user = pbx
                .authenticate(n, n)
                .await
                .expect("answers")
                .expect("a demo user");
            users.push(user);
        }
        users
    });
    Setup { pbx, users }
}

/// `iters` calls of `op` split over `clients` concurrent tasks; the wall time.
fn concurrent<F, Fut>(
    rt: &tokio::runtime::Runtime,
    s: &Setup,
    clients: u64,
    iters: u64,
    op: F,
) -> Duration
where
    F: Fn(Arc<MemoryPbx>, Caller, u64, u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let (pbx, user) = (s.pbx.clone(), s.users[(c as usize) % s.users.len()].clone());
                let n = iters / clients + u64::from(c < iters % clients);
                tokio::spawn(async move {
                    for i in 0..n {
                        op(pbx.clone(), user.clone(), c, i).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("a client task");
        }
        start.elapsed()
    })
}

async fn set(pbx: Arc<MemoryPbx>, user: Caller, client: u64, i: u64) {
    let key = format!("bench.{client}.{}", i % KEYS);
    // A value that differs from the stored one: SQLite skips writing a row
    // that does not change, and the commit would then need no fsync.
    let value = format!("value {i:>12} of client {client:>2}");
    pbx.dict_set(&user, &key, &value).await.expect("dict_set");
}

async fn get(pbx: Arc<MemoryPbx>, user: Caller, client: u64, i: u64) {
    let key = format!("bench.{client}.{}", i % KEYS);
    pbx.dict_get(&user, &key).await.expect("dict_get");
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a directory on the target's disk");
    let storage = SqliteStorage::open(root.path().join("data")).expect("a data directory");
    let sqlite = setup(&rt, MemoryPbx::demo().with_storage(Arc::new(storage)));
    let memory = setup(&rt, MemoryPbx::demo());
    // Every key the get benchmarks read.
    for s in [&sqlite, &memory] {
        concurrent(&rt, s, 16, 16 * KEYS, set);
    }

    let mut group = c.benchmark_group("durable storage");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for clients in [1, 16] {
        group.bench_function(format!("sqlite dict_set, {clients} clients"), |b| {
            b.iter_custom(|iters| concurrent(&rt, &sqlite, clients, iters, set))
        });
    }
    for clients in [1, 16] {
        group.bench_function(format!("sqlite dict_get, {clients} clients"), |b| {
            b.iter_custom(|iters| concurrent(&rt, &sqlite, clients, iters, get))
        });
    }
    for clients in [1, 16] {
        group.bench_function(format!("memory dict_set, {clients} clients"), |b| {
            b.iter_custom(|iters| concurrent(&rt, &memory, clients, iters, set))
        });
        group.bench_function(format!("memory dict_get, {clients} clients"), |b| {
            b.iter_custom(|iters| concurrent(&rt, &memory, clients, iters, get))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
