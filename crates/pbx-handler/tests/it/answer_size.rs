//! The bound on an answer's size (`Handler::with_max_response_bytes`): a
//! result, or a multicall of them, that would pass it is fault -4 with a
//! message naming the bound, decided before the answer is written whenever the
//! result's text tells, and never at the cost of the full answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use pbx_backend::{BackendError, BackendResult, Caller, PbxBackend};
use pbx_backend_memory::{MemoryPbx, MemoryStorage, Storage, StorageError};
use pbx_handler::{Handler, LARGE_ANSWER_BYTES};
use pbx_model::{AdminGroupId, Call, CallId, Entity, EntityId, Favorite, ParkingInfo};
use pbx_xmlrpc::{FaultCode, Method, Reply};
use xmlrpc_codec::{
    Encoder, MethodCall, MethodResponse, Struct, Value, decode_method_response, encode_value,
};

use crate::Demo;

const MIB: usize = 1 << 20;

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

/// Stores `keys` values of `value_bytes` bytes of `fill` for `user`.
async fn fill(demo: &Demo, user: &Caller, keys: usize, value_bytes: usize, fill: char) {
    let pairs = (0..keys)
        .map(|i| (format!("key-{i:05}"), fill.to_string().repeat(value_bytes)))
        .collect();
    demo.pbx
        .dict_set_many(user, pairs)
        .await
        .expect("the values fit the storage limits");
}

fn body(call: &MethodCall) -> Vec<u8> {
    let mut body = Vec::new();
    Encoder::default().method_call(call, &mut body).unwrap();
    body
}

fn get_all_times(n: usize) -> MethodCall {
    let entry = Value::Struct(Struct::from_iter([
        ("methodName", s("get_all")),
        ("params", Value::Array(vec![])),
    ]));
    MethodCall::new("system.multicall", vec![Value::Array(vec![entry; n])])
}

fn is_size_fault(code: i32, message: &str, max: usize) -> bool {
    code == FaultCode::LimitReached.code()
        && message.contains(&format!("exceed {max} bytes (max_response_bytes)"))
}

#[tokio::test]
async fn a_multicall_of_get_all_cannot_amplify_the_answer() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    // 640 KiB of text: two of them pass a 1 MiB bound.
    fill(&demo, &user, 40, 16 << 10, 'v').await;
    let max = MIB;
    let handler = Handler::new(demo.pbx.clone()).with_max_response_bytes(max);

    // The report's request: a small multicall naming get_all many times over.
    let request = body(&get_all_times(80));
    assert!(request.len() < 16 << 10);
    let outcome = handler.handle(&user, &request).await;
    assert!(
        outcome.body.len() <= max,
        "an answer of {} bytes passed the bound of {max}",
        outcome.body.len()
    );
    let MethodResponse::Success(value) = decode_method_response(&outcome.body).unwrap() else {
        panic!("the multicall itself succeeds: its sub-calls fail in place");
    };
    let results = pbx_xmlrpc::parse_multicall(&value).unwrap();
    assert_eq!(results.len(), 80);
    // The first fits and is whole; every other one is the size fault, in place.
    let first = pbx_xmlrpc::parse_entries(results[0].as_ref().unwrap()).unwrap();
    assert_eq!(first.len(), 40);
    for (i, result) in results.iter().enumerate().skip(1) {
        let fault = result.as_ref().unwrap_err();
        assert!(
            is_size_fault(fault.code, &fault.string, max),
            "call {}: {fault:?}",
            i + 1
        );
        assert!(
            fault
                .string
                .starts_with(&format!("system.multicall: call {}: ", i + 1)),
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn get_all_at_full_quota_is_refused_with_a_clear_fault_not_built() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    // 4 MiB of values against a 1 MiB bound.
    fill(&demo, &user, 64, 64 << 10, 'q').await;
    let max = MIB;
    let handler = Handler::new(demo.pbx.clone()).with_max_response_bytes(max);

    let answer = handler
        .answer(&user, &body(&MethodCall::new("get_all", vec![])))
        .await;
    // Refused from the result's size alone: what is left to write is a short
    // fault, not four megabytes of entries.
    assert!(
        answer.estimated_len() < 1024,
        "{} bytes",
        answer.estimated_len()
    );
    assert!(!answer.is_large());
    let outcome = answer.encode();
    assert_eq!(outcome.fault_code, Some(-4));
    let MethodResponse::Fault(fault) = decode_method_response(&outcome.body).unwrap() else {
        panic!("expected a fault");
    };
    assert!(is_size_fault(fault.code, &fault.string, max), "{fault:?}");

    // The default bound (16 MiB) takes the same data whole.
    let outcome = Handler::new(demo.pbx.clone())
        .handle(&user, &body(&MethodCall::new("get_all", vec![])))
        .await;
    assert_eq!(outcome.fault_code, None);
    assert!(outcome.body.len() > 4 * MIB);
}

/// A store that counts the bytes of keys and values its `all` copies out.
#[derive(Debug, Default)]
struct CountingStore {
    inner: MemoryStorage,
    copied: AtomicUsize,
}

#[async_trait]
impl Storage for CountingStore {
    async fn get(&self, user: String, key: String) -> Result<Option<String>, StorageError> {
        self.inner.get(user, key).await
    }
    async fn set(&self, u: String, k: String, v: String, max: usize) -> Result<(), StorageError> {
        self.inner.set(u, k, v, max).await
    }
    async fn set_many(
        &self,
        user: String,
        entries: Vec<(String, String)>,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        self.inner.set_many(user, entries, max_keys).await
    }
    async fn delete(&self, user: String, key: String) -> Result<(), StorageError> {
        self.inner.delete(user, key).await
    }
    async fn all(&self, user: String, max: usize) -> Result<Vec<(String, String)>, StorageError> {
        let all = self.inner.all(user, max).await?;
        let bytes: usize = all.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.copied.fetch_add(bytes, Ordering::SeqCst);
        Ok(all)
    }
    async fn favorites(&self, group: String) -> Result<Vec<Favorite>, StorageError> {
        self.inner.favorites(group).await
    }
    async fn replace_favorites(&self, g: String, f: Vec<Favorite>) -> Result<(), StorageError> {
        self.inner.replace_favorites(g, f).await
    }
}

#[tokio::test]
async fn get_all_at_full_quota_does_not_copy_the_users_data() {
    let store = Arc::new(CountingStore::default());
    let pbx = Arc::new(MemoryPbx::demo().with_storage(store.clone()));
    let user = pbx.authenticate("203", "203").await.unwrap().unwrap();
    // A full quota, scaled down: 64 values of 64 KiB (4 MiB) against 1 MiB.
    let pairs = (0..64)
        .map(|i| (format!("key-{i:05}"), "q".repeat(64 << 10)))
        .collect();
    pbx.dict_set_many(&user, pairs).await.unwrap();
    let max = MIB;
    let handler = Handler::new(pbx.clone()).with_max_response_bytes(max);
    let get_all = body(&MethodCall::new("get_all", vec![]));

    let outcome = handler.handle(&user, &get_all).await;
    let MethodResponse::Fault(fault) = decode_method_response(&outcome.body).unwrap() else {
        panic!("expected a fault");
    };
    assert!(is_size_fault(fault.code, &fault.string, max), "{fault:?}");
    // Refused by the store from the sizes alone: not a byte of the user's
    // data was copied, where the answer used to hold all of it first.
    assert_eq!(store.copied.load(Ordering::SeqCst), 0);

    // Each sub-call of a multicall too.
    let outcome = handler.handle(&user, &body(&get_all_times(50))).await;
    assert!(outcome.body.len() <= max);
    assert_eq!(store.copied.load(Ordering::SeqCst), 0);

    // Within a bound that holds it, it is copied once, whole.
    let outcome = Handler::new(pbx.clone())
        .with_max_response_bytes(8 * MIB)
        .handle(&user, &get_all)
        .await;
    assert_eq!(outcome.fault_code, None);
    assert!(store.copied.load(Ordering::SeqCst) >= 4 * MIB);
}

#[tokio::test]
async fn an_answer_that_grows_past_the_bound_when_escaped_is_a_fault_too() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    // 384 KiB of `&`, each written `&amp;`: 1.9 MiB on the wire.
    fill(&demo, &user, 6, 64 << 10, '&').await;
    let max = MIB;
    let handler = Handler::new(demo.pbx.clone()).with_max_response_bytes(max);

    let outcome = handler
        .handle(&user, &body(&MethodCall::new("get_all", vec![])))
        .await;
    let MethodResponse::Fault(fault) = decode_method_response(&outcome.body).unwrap() else {
        panic!("expected a fault");
    };
    assert!(is_size_fault(fault.code, &fault.string, max), "{fault:?}");

    // In a multicall the whole answer is that fault: its sub-calls fitted by
    // their text, and the written answer did not.
    let outcome = handler.handle(&user, &body(&get_all_times(2))).await;
    assert_eq!(outcome.fault_code, Some(-4));
    assert!(outcome.body.len() < 1024);
}

#[tokio::test]
async fn a_large_answer_says_so_and_a_small_one_does_not() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    let handler = Handler::new(demo.pbx.clone());
    let get_all = body(&MethodCall::new("get_all", vec![]));
    assert!(!handler.answer(&user, &get_all).await.is_large());
    fill(&demo, &user, 8, 64 << 10, 'x').await;
    let answer = handler.answer(&user, &get_all).await;
    assert!(answer.estimated_len() >= LARGE_ANSWER_BYTES);
    assert!(answer.is_large());
    assert_eq!(answer.method(), Some("get_all"));
}

/// The floor a result is refused on never passes what the result takes on the
/// wire, for every list the demo PBX answers: nothing that fits is refused.
#[tokio::test]
async fn the_size_floor_never_passes_the_written_result() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    fill(&demo, &user, 3, 100, '<').await;
    demo.call("203", "sim.call", vec![s("201"), s("202")])
        .await
        .unwrap();
    for method in [
        Method::GetCalls,
        Method::GetExtensions,
        Method::GetFavorites,
        Method::GetParkingInfo,
        Method::GetAll,
        Method::ListMethods,
        Method::GetCapabilities,
    ] {
        let value = demo.call("203", method.name(), vec![]).await.unwrap();
        let reply = Reply::from_value(method, &value).unwrap();
        let written = encode_value(&value).unwrap().len();
        assert!(
            reply.min_len() <= written,
            "{}: floor {} > {written}",
            method.name(),
            reply.min_len()
        );
    }
}

#[tokio::test]
async fn an_answer_shown_for_debugging_holds_no_stored_value() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    demo.pbx
        .dict_set(&user, "pin", "secret-value-4711")
        .await
        .unwrap();
    let answer = Handler::new(demo.pbx.clone())
        .answer(&user, &body(&MethodCall::new("get_all", vec![])))
        .await;
    let shown = format!("{answer:?}");
    assert!(shown.contains("get_all"), "{shown}");
    assert!(!shown.contains("secret-value-4711"), "{shown}");
}

/// A backend whose user holds `keys` values of 64 KiB, counting the `get_all`s
/// it runs; `dict_set` succeeds, everything else is an internal error.
struct Counting {
    keys: usize,
    get_alls: AtomicUsize,
}

fn unused<T>() -> BackendResult<T> {
    Err(BackendError::internal("not used by this test"))
}

#[async_trait]
impl PbxBackend for Counting {
    async fn authenticate(&self, _: &str, _: &str) -> BackendResult<Option<Caller>> {
        unused()
    }
    async fn get_calls(&self, _: &Caller) -> BackendResult<Vec<Call>> {
        unused()
    }
    async fn get_extensions(&self, _: &Caller) -> BackendResult<Vec<Entity>> {
        unused()
    }
    async fn get_favorites(&self, _: &Caller) -> BackendResult<Vec<Favorite>> {
        unused()
    }
    async fn set_favorites(&self, _: &Caller, _: Vec<Favorite>) -> BackendResult<()> {
        unused()
    }
    async fn transfer(&self, _: &Caller, _: &CallId, _: &str) -> BackendResult<()> {
        unused()
    }
    async fn drop_call(&self, _: &Caller, _: &CallId) -> BackendResult<()> {
        unused()
    }
    async fn get_parking_info(&self, _: &Caller) -> BackendResult<ParkingInfo> {
        unused()
    }
    async fn park(&self, _: &Caller, _: &CallId, _: Option<u32>) -> BackendResult<u32> {
        unused()
    }
    async fn dict_set(&self, _: &Caller, _: &str, _: &str) -> BackendResult<()> {
        Ok(())
    }
    async fn dict_set_many(&self, _: &Caller, _: Vec<(String, String)>) -> BackendResult<()> {
        unused()
    }
    async fn dict_get(&self, _: &Caller, _: &str) -> BackendResult<String> {
        unused()
    }
    async fn dict_delete(&self, _: &Caller, _: &str) -> BackendResult<()> {
        unused()
    }
    // Ignores the bound, like a backend that copies everything: the binding
    // still refuses what does not fit.
    async fn get_all(&self, _: &Caller, _: usize) -> BackendResult<Vec<(String, String)>> {
        self.get_alls.fetch_add(1, Ordering::SeqCst);
        Ok((0..self.keys)
            .map(|i| (format!("key-{i:05}"), "v".repeat(64 << 10)))
            .collect())
    }
}

#[tokio::test]
async fn once_the_answer_is_full_a_multicall_runs_no_more_reads() {
    let backend = Arc::new(Counting {
        keys: 10,
        get_alls: AtomicUsize::new(0),
    });
    let max = MIB;
    let handler = Handler::new(backend.clone()).with_max_response_bytes(max);
    let user = Caller::new("203", EntityId(3), AdminGroupId::new("Acme"));
    let entry = |name: &str, params: Vec<Value>| {
        Value::Struct(Struct::from_iter([
            ("methodName", s(name)),
            ("params", Value::Array(params)),
        ]))
    };
    let get_all = entry("get_all", vec![]);
    let mut calls = vec![get_all.clone(); 2];
    calls.push(entry("dict_set", vec![s("k"), s("v")]));
    calls.extend(vec![get_all; 50]);
    let outcome = handler
        .handle(
            &user,
            &body(&MethodCall::new(
                "system.multicall",
                vec![Value::Array(calls)],
            )),
        )
        .await;
    let MethodResponse::Success(value) = decode_method_response(&outcome.body).unwrap() else {
        panic!("the multicall itself succeeds");
    };
    let results = pbx_xmlrpc::parse_multicall(&value).unwrap();
    assert_eq!(results.len(), 53);
    // 640 KiB each: the first fits, the second does not, and no later get_all
    // is run, while the change in between still is.
    assert_eq!(backend.get_alls.load(Ordering::SeqCst), 2);
    assert!(results[0].is_ok());
    assert_eq!(results[2].as_ref().unwrap(), &Value::Bool(true));
    for (i, result) in results.iter().enumerate().skip(3) {
        let fault = result.as_ref().unwrap_err();
        assert!(is_size_fault(fault.code, &fault.string, max), "{fault:?}");
        assert!(
            fault
                .string
                .starts_with(&format!("system.multicall: call {}: not run: ", i + 1)),
            "{fault:?}"
        );
    }
}
