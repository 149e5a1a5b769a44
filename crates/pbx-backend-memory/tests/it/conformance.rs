//! The conformance kit of `pbx-backend` against the in-memory PBX.
//!
//! Added by the conformance-kit work (issue 3): it loads a fresh [`MemoryPbx`]
//! with [`Fixture::standard`] (through `pbx_backend_memory::kit::config`, which
//! durable storages reuse) for every check and expects them all to pass.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pbx_backend::kit::{self, Fixture, Outcome, Target};
use pbx_backend::{BackendResult, Caller, PbxBackend, Simulator};
use pbx_backend_memory::MemoryPbx;
use pbx_model::{Call, CallId, Entity, Favorite, ParkingInfo};

/// A fresh memory PBX loaded with the standard fixture, as backend and simulator.
async fn target() -> Target {
    let pbx = match MemoryPbx::new(pbx_backend_memory::kit::config(&Fixture::standard())) {
        Ok(pbx) => Arc::new(pbx),
        Err(e) => panic!("the kit's standard fixture is a valid configuration: {e}"),
    };
    Target::new(pbx.clone(), Some(pbx))
}

#[tokio::test]
async fn the_memory_pbx_passes_the_conformance_kit() {
    kit::run(target).await.assert_all_passed();
}

#[tokio::test]
async fn without_a_simulator_call_checks_are_skipped_and_the_rest_pass() {
    let report = kit::run(|| async {
        let Target { backend, .. } = target().await;
        Target::new(backend, None)
    })
    .await;
    report.assert_all_passed();
    assert!(report.skipped().count() > 0, "{report}");
    assert!(report.passed().count() > 0, "{report}");
}

/// The memory PBX behind call ids counted across the whole PBX, as they were
/// before issue 18: each record gets the next PBX-wide number when first seen.
struct PbxWideCallIds {
    inner: Arc<MemoryPbx>,
    ids: Mutex<PbxWideIds>,
}

#[derive(Default)]
struct PbxWideIds {
    /// (group, the memory PBX's id) → the id shown.
    shown: HashMap<(String, CallId), CallId>,
    /// The id shown → (group, the memory PBX's id).
    inner: HashMap<CallId, (String, CallId)>,
}

impl PbxWideCallIds {
    fn outer(&self, caller: &Caller, id: CallId) -> CallId {
        let mut ids = self.ids.lock().unwrap();
        let key = (caller.group().as_str().to_owned(), id);
        if let Some(shown) = ids.shown.get(&key) {
            return shown.clone();
        }
        let shown = CallId::new((ids.shown.len() + 1).to_string());
        ids.shown.insert(key.clone(), shown.clone());
        ids.inner.insert(shown.clone(), key);
        shown
    }

    /// The memory PBX's id of `id` in the caller's group, or one it never has.
    fn memory_id(&self, caller: &Caller, id: &CallId) -> CallId {
        let ids = self.ids.lock().unwrap();
        match ids.inner.get(id) {
            Some((group, inner)) if group == caller.group().as_str() => inner.clone(),
            _ => CallId::new("unknown"),
        }
    }

    fn outer_calls(&self, caller: &Caller, calls: Vec<Call>) -> Vec<Call> {
        calls
            .into_iter()
            .map(|mut c| {
                c.id = self.outer(caller, c.id);
                c
            })
            .collect()
    }
}

#[async_trait]
impl PbxBackend for PbxWideCallIds {
    async fn authenticate(&self, user: &str, password: &str) -> BackendResult<Option<Caller>> {
        self.inner.authenticate(user, password).await
    }
    async fn get_calls(&self, caller: &Caller) -> BackendResult<Vec<Call>> {
        let calls = self.inner.get_calls(caller).await?;
        Ok(self.outer_calls(caller, calls))
    }
    async fn get_extensions(&self, caller: &Caller) -> BackendResult<Vec<Entity>> {
        self.inner.get_extensions(caller).await
    }
    async fn get_favorites(&self, caller: &Caller) -> BackendResult<Vec<Favorite>> {
        self.inner.get_favorites(caller).await
    }
    async fn set_favorites(&self, caller: &Caller, favorites: Vec<Favorite>) -> BackendResult<()> {
        self.inner.set_favorites(caller, favorites).await
    }
    async fn transfer(&self, caller: &Caller, call: &CallId, to: &str) -> BackendResult<()> {
        let call = self.memory_id(caller, call);
        self.inner.transfer(caller, &call, to).await
    }
    async fn drop_call(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        let call = self.memory_id(caller, call);
        self.inner.drop_call(caller, &call).await
    }
    async fn get_parking_info(&self, caller: &Caller) -> BackendResult<ParkingInfo> {
        let mut info = self.inner.get_parking_info(caller).await?;
        for id in info.parked_calls.values_mut() {
            *id = self.outer(caller, id.clone());
        }
        Ok(info)
    }
    async fn park(&self, caller: &Caller, call: &CallId, slot: Option<u32>) -> BackendResult<u32> {
        let call = self.memory_id(caller, call);
        self.inner.park(caller, &call, slot).await
    }
    async fn dict_set(&self, caller: &Caller, key: &str, value: &str) -> BackendResult<()> {
        self.inner.dict_set(caller, key, value).await
    }
    async fn dict_set_many(
        &self,
        caller: &Caller,
        entries: Vec<(String, String)>,
    ) -> BackendResult<()> {
        self.inner.dict_set_many(caller, entries).await
    }
    async fn dict_get(&self, caller: &Caller, key: &str) -> BackendResult<String> {
        self.inner.dict_get(caller, key).await
    }
    async fn dict_delete(&self, caller: &Caller, key: &str) -> BackendResult<()> {
        self.inner.dict_delete(caller, key).await
    }
    async fn get_all(&self, caller: &Caller, max: usize) -> BackendResult<Vec<(String, String)>> {
        self.inner.get_all(caller, max).await
    }
}

#[async_trait]
impl Simulator for PbxWideCallIds {
    async fn call(
        &self,
        caller: &Caller,
        from: &str,
        to: &str,
        via: Option<&str>,
    ) -> BackendResult<CallId> {
        let id = self.inner.call(caller, from, to, via).await?;
        let shown = self.outer(caller, id);
        // Then the other records this call made (queue members'), in order.
        let calls = self.inner.get_calls(caller).await?;
        self.outer_calls(caller, calls);
        Ok(shown)
    }
    async fn answer(
        &self,
        caller: &Caller,
        call: &CallId,
        member: Option<&str>,
    ) -> BackendResult<()> {
        let call = self.memory_id(caller, call);
        self.inner.answer(caller, &call, member).await
    }
    async fn hold(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        let call = self.memory_id(caller, call);
        self.inner.hold(caller, &call).await
    }
    async fn resume(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        let call = self.memory_id(caller, call);
        self.inner.resume(caller, &call).await
    }
    async fn hangup(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        let call = self.memory_id(caller, call);
        self.inner.hangup(caller, &call).await
    }
    async fn register(&self, caller: &Caller, number: &str) -> BackendResult<()> {
        self.inner.register(caller, number).await
    }
    async fn unregister(&self, caller: &Caller, number: &str) -> BackendResult<()> {
        self.inner.unregister(caller, number).await
    }
    async fn reset(&self, caller: &Caller) -> BackendResult<()> {
        self.inner.reset(caller).await
    }
}

#[tokio::test]
async fn the_kit_catches_call_ids_that_count_another_groups_calls() {
    let report = kit::run(|| async {
        let inner = match MemoryPbx::new(pbx_backend_memory::kit::config(&Fixture::standard())) {
            Ok(pbx) => Arc::new(pbx),
            Err(e) => panic!("the kit's standard fixture is a valid configuration: {e}"),
        };
        let pbx = Arc::new(PbxWideCallIds {
            inner,
            ids: Mutex::default(),
        });
        Target::new(pbx.clone(), Some(pbx))
    })
    .await;
    let failed: Vec<&str> = report.failed().map(|c| c.name.as_str()).collect();
    assert_eq!(failed, ["calls.ids_per_group"], "{report}");
    let Some(Outcome::Failed(message)) = report.outcome("calls.ids_per_group") else {
        unreachable!("it failed");
    };
    assert!(message.contains("depend on Beta's calls"), "{message}");
}
