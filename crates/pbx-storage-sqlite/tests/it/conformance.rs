//! The conformance kit of `pbx-backend` against the memory PBX with its user
//! data in SQLite: the durable configuration `switchboard serve` runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pbx_backend::kit::{self, Fixture, Target};
use pbx_backend_memory::MemoryPbx;
use pbx_storage_sqlite::{Options, SqliteStorage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_pbx_on_sqlite_passes_the_conformance_kit() {
    let root = tempfile::tempdir().unwrap();
    let next = AtomicUsize::new(0);
    let report = kit::run(|| {
        // A fresh data directory per check: checks must not see each other's data.
        let dir = root
            .path()
            .join(next.fetch_add(1, Ordering::Relaxed).to_string());
        async move {
            let mut options = Options::default();
            options.readers = 1;
            let storage = match SqliteStorage::open_with(&dir, options) {
                Ok(storage) => storage,
                Err(e) => panic!("{e}"),
            };
            let pbx = match MemoryPbx::new(pbx_backend_memory::kit::config(&Fixture::standard())) {
                Ok(pbx) => Arc::new(pbx.with_storage(Arc::new(storage))),
                Err(e) => panic!("the kit's standard fixture is a valid configuration: {e}"),
            };
            Target::new(pbx.clone(), Some(pbx))
        }
    })
    .await;
    report.assert_all_passed();
    assert!(report.passed().count() > 0, "{report}");
}
