//! The handler where scripts cannot reach: which methods exist, internal faults,
//! limits, introspection against the table, and the serialized round trip.

use std::sync::Arc;

use async_trait::async_trait;
use pbx_backend::{BackendError, BackendResult, Caller, PbxBackend};
use pbx_backend_memory::{DEMO_CONFIG, MemoryPbx, Player};
use pbx_handler::Handler;
use pbx_model::{AdminGroupId, Call, CallId, Entity, EntityId, Favorite, ParkingInfo};
use pbx_xmlrpc::{FaultCode, Group, INTERNAL_MESSAGE, Method, methods};
use xmlrpc_codec::{
    DateTime, Limits, MethodCall, Struct, Value, decode_method_response, encode_value,
};

use crate::{Demo, call_bytes};

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn names(value: &Value) -> Vec<String> {
    pbx_xmlrpc::parse_method_names(value).expect("listMethods answers names")
}

#[tokio::test]
async fn without_a_simulator_sim_methods_do_not_exist() {
    let demo = Demo::new();
    // A real PBX: no simulator given.
    let handler = Handler::new(demo.pbx.clone());
    let user = demo.user("203").await;
    let call = |name: &str, params: Vec<Value>| MethodCall::new(name, params);

    let listed = names(
        &call_bytes(&handler, &user, &call("system.listMethods", vec![]))
            .await
            .unwrap(),
    );
    assert!(listed.iter().all(|m| !m.starts_with("sim.")), "{listed:?}");
    let expected: Vec<&str> = methods()
        .iter()
        .filter(|m| m.group != Group::Simulation)
        .map(|m| m.name)
        .collect();
    assert_eq!(listed, expected);

    for spec in methods().iter().filter(|m| m.group == Group::Simulation) {
        let fault = call_bytes(&handler, &user, &call(spec.name, vec![]))
            .await
            .unwrap_err();
        assert_eq!(fault.code, -32601, "{}", spec.name);
        for about in ["system.methodHelp", "system.methodSignature"] {
            let fault = call_bytes(&handler, &user, &call(about, vec![s(spec.name)]))
                .await
                .unwrap_err();
            assert_eq!(fault.code, -32601, "{about}({})", spec.name);
        }
    }
    // Inside a multicall too, in place.
    let entry = Value::Struct(Struct::from_iter([
        ("methodName", s("sim.reset")),
        ("params", Value::Array(vec![])),
    ]));
    let value = call_bytes(
        &handler,
        &user,
        &call("system.multicall", vec![Value::Array(vec![entry])]),
    )
    .await
    .unwrap();
    let results = pbx_xmlrpc::parse_multicall(&value).unwrap();
    assert!(
        matches!(&results[..], [Err(f)] if f.code == -32601),
        "{results:?}"
    );
}

#[tokio::test]
async fn every_sim_method_is_refused_while_simulation_is_switched_off() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    let handler = Handler::new(demo.pbx.clone()).with_simulation_switched_off();
    let before = demo.pbx.get_calls(&user).await.unwrap();
    let sims: Vec<_> = methods()
        .iter()
        .filter(|m| m.group == Group::Simulation)
        .collect();
    assert!(sims.len() >= 10, "{sims:?}");
    for spec in sims {
        // Well-formed parameters (every required one of sim.* reads a
        // string), so that the call gets past decoding to the gate.
        let params = spec
            .params
            .iter()
            .filter(|p| !p.optional)
            .map(|_| s("201"))
            .collect();
        let fault = call_bytes(&handler, &user, &MethodCall::new(spec.name, params))
            .await
            .unwrap_err();
        assert_eq!(
            (fault.code, fault.string.as_str()),
            (-2, "simulation is switched off on this server"),
            "{}",
            spec.name
        );
    }
    assert_eq!(demo.pbx.get_calls(&user).await.unwrap(), before);
}

#[tokio::test]
async fn simulation_switched_off_answers_permission_denied() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    let sim_call = MethodCall::new("sim.call", vec![s("201"), s("202")]);

    // Switched off in the handler: listed, refused with -2.
    let handler = Handler::new(demo.pbx.clone()).with_simulation_switched_off();
    let listed = names(
        &call_bytes(
            &handler,
            &user,
            &MethodCall::new("system.listMethods", vec![]),
        )
        .await
        .unwrap(),
    );
    assert!(listed.iter().any(|m| m == "sim.call"));
    let fault = call_bytes(&handler, &user, &sim_call).await.unwrap_err();
    assert_eq!(fault.code, -2);

    // Switched off in the in-memory PBX's configuration: its own -2, mapped.
    let config = DEMO_CONFIG.replace("simulation = true", "simulation = false");
    let pbx = Arc::new(MemoryPbx::from_toml_str(&config, "demo-off.toml").unwrap());
    let user = pbx.authenticate("203", "203").await.unwrap().unwrap();
    let handler = Handler::new(pbx.clone()).with_simulator(Arc::new(Player::new(pbx)));
    let fault = call_bytes(&handler, &user, &sim_call).await.unwrap_err();
    assert_eq!(fault.code, -2, "{fault}");
}

/// A backend whose every operation fails internally, with details no client may see.
struct Broken;

const SECRET: &str = "connection to db.internal:5432 refused";

fn broken<T>() -> BackendResult<T> {
    Err(BackendError::internal(SECRET))
}

#[async_trait]
impl PbxBackend for Broken {
    async fn authenticate(&self, _: &str, _: &str) -> BackendResult<Option<Caller>> {
        broken()
    }
    async fn get_calls(&self, _: &Caller) -> BackendResult<Vec<Call>> {
        broken()
    }
    async fn get_extensions(&self, _: &Caller) -> BackendResult<Vec<Entity>> {
        broken()
    }
    async fn get_favorites(&self, _: &Caller) -> BackendResult<Vec<Favorite>> {
        broken()
    }
    async fn set_favorites(&self, _: &Caller, _: Vec<Favorite>) -> BackendResult<()> {
        broken()
    }
    async fn transfer(&self, _: &Caller, _: &CallId, _: &str) -> BackendResult<()> {
        broken()
    }
    async fn drop_call(&self, _: &Caller, _: &CallId) -> BackendResult<()> {
        broken()
    }
    async fn get_parking_info(&self, _: &Caller) -> BackendResult<ParkingInfo> {
        broken()
    }
    async fn park(&self, _: &Caller, _: &CallId, _: Option<u32>) -> BackendResult<u32> {
        broken()
    }
    async fn dict_set(&self, _: &Caller, _: &str, _: &str) -> BackendResult<()> {
        broken()
    }
    async fn dict_set_many(&self, _: &Caller, _: Vec<(String, String)>) -> BackendResult<()> {
        broken()
    }
    async fn dict_get(&self, _: &Caller, _: &str) -> BackendResult<String> {
        broken()
    }
    async fn dict_delete(&self, _: &Caller, _: &str) -> BackendResult<()> {
        broken()
    }
    async fn get_all(&self, _: &Caller, _: usize) -> BackendResult<Vec<(String, String)>> {
        broken()
    }
    async fn events(
        &self,
        _: &Caller,
        _: Option<&pbx_backend::EventId>,
    ) -> BackendResult<pbx_backend::Subscription> {
        broken()
    }
}

#[tokio::test]
async fn internal_errors_are_fault_1_without_detail() {
    let handler = Handler::new(Arc::new(Broken));
    let user = Caller::new("203", EntityId(3), AdminGroupId::new("Acme"));
    let mut seen = 0;
    for spec in methods().iter().filter(|m| m.group == Group::Pbx) {
        let params = example_params(spec.method);
        let body = xmlrpc_codec::encode_method_call(&MethodCall::new(spec.name, params)).unwrap();
        let outcome = handler.handle(&user, &body).await;
        let text = String::from_utf8(outcome.body.clone()).unwrap();
        assert!(!text.contains("5432"), "{text}");
        assert_eq!(outcome.fault_code, Some(1), "{}: {text}", spec.name);
        match decode_method_response(&outcome.body).unwrap() {
            xmlrpc_codec::MethodResponse::Fault(f) => {
                assert_eq!(f.string, INTERNAL_MESSAGE);
                assert!(FaultCode::is_internal(f.code));
            }
            other => panic!("{other:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 16);
}

/// Valid parameters for every PBX method.
fn example_params(method: Method) -> Vec<Value> {
    let object = Value::Array(vec![Value::Int(1)]);
    match method {
        Method::SetFavorites => vec![Value::Array(vec![])],
        Method::Transfer => vec![s("1"), s("202")],
        Method::Drop | Method::DictGet | Method::DictGetSerialized | Method::DictDelete => {
            vec![s("1")]
        }
        Method::Park => vec![s("1")],
        Method::DictSet => vec![s("k"), s("v")],
        Method::DictSetMany => vec![Value::Struct(Struct::new())],
        Method::DictSetSerialized => vec![s("k"), object],
        _ => vec![],
    }
}

/// A struct holding every XML-RPC core type, nested.
fn every_type() -> Value {
    let date = DateTime::new(2024, 1, 31, 12, 34, 56).unwrap();
    let inner = Struct::from_iter([
        ("empty array", Value::Array(vec![])),
        ("empty struct", Value::Struct(Struct::new())),
        (
            "deep",
            Value::Array(vec![Value::Array(vec![Value::Int(-7)])]),
        ),
    ]);
    Value::Struct(Struct::from_iter([
        ("int", Value::Int(-2_147_483_648)),
        ("boolean", Value::Bool(true)),
        (
            "string",
            s("Zoë <b>&amp;</b> \"quoted\" 'single' \t tab\nline € 𝄞"),
        ),
        ("carriage return", s("a\r\nb\rc")),
        ("empty string", s("")),
        ("double", Value::Double(-0.000_123_456_789_012_345_6)),
        ("big double", Value::Double(1.0e300)),
        ("dateTime", Value::DateTime(date)),
        ("base64", Value::Base64((0..=255).collect())),
        (
            "array",
            Value::Array(vec![Value::Int(1), s("two"), Value::Bool(false)]),
        ),
        ("struct", Value::Struct(inner)),
    ]))
}

#[tokio::test]
async fn a_struct_of_every_type_round_trips_through_storage() {
    let demo = Demo::new();
    let value = every_type();
    let stored = demo
        .call(
            "203",
            "dict_set_serialized",
            vec![s("every.type"), value.clone()],
        )
        .await;
    assert_eq!(stored, Ok(Value::Bool(true)));
    let back = demo
        .call("203", "dict_get_serialized", vec![s("every.type")])
        .await
        .unwrap();
    assert_eq!(back, value);
    // dict_get shows the canonical text, which decodes to the same value.
    let text = demo
        .call("203", "dict_get", vec![s("every.type")])
        .await
        .unwrap();
    assert_eq!(text, Value::String(encode_value(&value).unwrap()));
    // And an array at the top works as well as a struct.
    let array = Value::Array(vec![value.clone(), Value::Array(vec![])]);
    demo.call("203", "dict_set_serialized", vec![s("list"), array.clone()])
        .await
        .unwrap();
    assert_eq!(
        demo.call("203", "dict_get_serialized", vec![s("list")])
            .await,
        Ok(array)
    );
}

#[tokio::test]
async fn values_core_types_cannot_carry_are_refused_not_stored() {
    let demo = Demo::new();
    for bad in [Value::Nil, Value::Int(1 << 40)] {
        let obj = Value::Struct(Struct::from_iter([("x", bad)]));
        let fault = demo
            .call("203", "dict_set_serialized", vec![s("k"), obj])
            .await;
        let fault = match fault {
            Err(f) => f,
            Ok(v) => panic!("stored {v:?}"),
        };
        assert_eq!(fault.code, -32602, "{fault}");
    }
    assert_eq!(
        demo.call("203", "dict_get", vec![s("k")])
            .await
            .unwrap_err()
            .code,
        -1
    );
}

#[tokio::test]
async fn dict_get_serialized_of_extension_text_is_conflict() {
    // Text written with dict_set that decodes to what no answer can carry was an
    // internal error (fault 1) when the answer failed to encode.
    let demo = Demo::new();
    for text in [
        "<value><array><data><value><i8>5000000000</i8></value></data></array></value>",
        "<value><struct><member><name>x</name><value><nil/></value></member></struct></value>",
    ] {
        demo.call("203", "dict_set", vec![s("raw"), s(text)])
            .await
            .unwrap();
        let fault = demo
            .call("203", "dict_get_serialized", vec![s("raw")])
            .await
            .unwrap_err();
        assert_eq!(fault.code, -3, "{text}: {fault}");
    }
}

#[tokio::test]
async fn favorite_slot_beyond_i32_is_refused() {
    // A slot stored beyond what <int> carries made every later get_favorites of
    // the group fail with fault 1.
    let favorite = |slot: i64| {
        Value::Array(vec![Value::Struct(Struct::from_iter([
            ("id", Value::Int(1)),
            ("type", s("extension")),
            ("slot", Value::Int(slot)),
        ]))])
    };
    let demo = Demo::new();
    let fault = demo
        .call("203", "set_favorites", vec![favorite(3_000_000_000)])
        .await
        .unwrap_err();
    assert_eq!(fault.code, -32602, "{fault}");
    assert!(fault.string.contains("slot"), "{fault}");
    assert_eq!(
        demo.call("201", "get_favorites", vec![]).await,
        Ok(Value::Array(vec![]))
    );
    // The largest slot <int> carries is stored and read back.
    demo.call("203", "set_favorites", vec![favorite(i64::from(i32::MAX))])
        .await
        .unwrap();
    let back = demo.call("201", "get_favorites", vec![]).await.unwrap();
    assert!(format!("{back:?}").contains("2147483647"), "{back:?}");
}

#[tokio::test]
async fn storage_limits_are_fault_4_and_write_nothing() {
    let demo = Demo::new();
    let long = "x".repeat(64 * 1024 + 1);
    let fault = demo
        .call("203", "dict_set", vec![s("k"), s(&long)])
        .await
        .unwrap_err();
    assert_eq!(fault.code, -4);
    let many: Struct = (0..10_001).map(|i| (format!("k{i}"), s("v"))).collect();
    let fault = demo
        .call("203", "dict_set_many", vec![Value::Struct(many)])
        .await
        .unwrap_err();
    assert_eq!(fault.code, -4);
    assert_eq!(
        demo.call("203", "get_all", vec![]).await,
        Ok(Value::Struct(Struct::new()))
    );
}

#[tokio::test]
async fn multicall_is_bounded() {
    let demo = Demo::new();
    let handler = demo.handler.clone().with_max_multicall(2);
    let user = demo.user("203").await;
    let entry = Value::Struct(Struct::from_iter([
        ("methodName", s("get_all")),
        ("params", Value::Array(vec![])),
    ]));
    let call = |n: usize| {
        MethodCall::new(
            "system.multicall",
            vec![Value::Array(vec![entry.clone(); n])],
        )
    };
    assert!(call_bytes(&handler, &user, &call(2)).await.is_ok());
    let fault = call_bytes(&handler, &user, &call(3)).await.unwrap_err();
    assert_eq!(fault.code, -32602);
    assert_eq!(
        fault.string,
        "system.multicall: at most 2 calls per request, got 3"
    );
}

#[tokio::test]
async fn decoder_limits_apply_to_request_bodies() {
    let demo = Demo::new();
    let mut limits = Limits::default();
    limits.max_depth = 2;
    let handler = demo.handler.clone().with_limits(limits);
    let user = demo.user("203").await;
    let deep = Value::Array(vec![Value::Array(vec![Value::Array(vec![])])]);
    let fault = call_bytes(
        &handler,
        &user,
        &MethodCall::new("dict_set_serialized", vec![s("k"), deep]),
    )
    .await
    .unwrap_err();
    assert_eq!(fault.code, -32600, "{fault}");
    assert!(fault.string.contains("line 2, column"), "{fault}");
}

#[tokio::test]
async fn outcome_reports_method_and_fault_code() {
    let demo = Demo::new();
    let user = demo.user("203").await;
    let outcome = demo
        .handler
        .handle(
            &user,
            b"<methodCall><methodName>get_calls</methodName></methodCall>",
        )
        .await;
    assert_eq!(
        (outcome.method.as_deref(), outcome.fault_code),
        (Some("get_calls"), None)
    );
    let outcome = demo.handler.handle(&user, b"<methodCall>").await;
    assert_eq!((outcome.method, outcome.fault_code), (None, Some(-32700)));
    let outcome = demo.handler.handle(&user, b"").await;
    assert_eq!(outcome.fault_code, Some(-32700));
    let long = format!(
        "<methodCall><methodName>{}</methodName></methodCall>",
        "m".repeat(500)
    );
    let outcome = demo.handler.handle(&user, long.as_bytes()).await;
    assert_eq!(outcome.fault_code, Some(-32601));
    assert_eq!(outcome.method.map(|m| m.len()), Some(64));
}

#[tokio::test]
async fn introspection_follows_the_table() {
    let demo = Demo::new();
    let listed = names(
        &demo
            .call("203", "system.listMethods", vec![])
            .await
            .unwrap(),
    );
    let all: Vec<&str> = methods().iter().map(|m| m.name).collect();
    assert_eq!(listed, all);
    for spec in methods() {
        let help = demo
            .call("203", "system.methodHelp", vec![s(spec.name)])
            .await;
        assert_eq!(help, Ok(Value::String(spec.help_text())), "{}", spec.name);
        let sigs = demo
            .call("203", "system.methodSignature", vec![s(spec.name)])
            .await
            .unwrap();
        let sigs = pbx_xmlrpc::parse_signatures(&sigs).unwrap();
        let expected: Vec<Vec<String>> = spec
            .signatures()
            .into_iter()
            .map(|sig| sig.into_iter().map(String::from).collect())
            .collect();
        assert_eq!(sigs, expected, "{}", spec.name);
        // Every signature's arity is accepted by the method (no -32602 for the count).
        for sig in &expected {
            let arity = sig.len() - 1;
            assert!(spec.arity().contains(&arity), "{}: {sig:?}", spec.name);
        }
    }
    let caps = demo
        .call("203", "system.getCapabilities", vec![])
        .await
        .unwrap();
    let caps = pbx_xmlrpc::parse_capabilities(&caps).unwrap();
    let names: Vec<&str> = caps.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["faults_interop", "introspection", "multicall"]);
}

#[tokio::test]
async fn a_user_sees_only_their_own_group() {
    let demo = Demo::new();
    demo.call("203", "sim.call", vec![s("+15550100"), s("201")])
        .await
        .unwrap();
    demo.call("301", "sim.call", vec![s("+15035550100"), s("302")])
        .await
        .unwrap();
    for (user, prefix) in [("203", '2'), ("301", '3')] {
        let calls = demo.call(user, "get_calls", vec![]).await.unwrap();
        let calls = pbx_xmlrpc::parse_calls(&calls).unwrap();
        assert_eq!(calls.len(), 1, "{user}");
        assert!(calls[0].to.number.starts_with(prefix), "{user}: {calls:?}");
        let entities = demo.call(user, "get_extensions", vec![]).await.unwrap();
        let entities = pbx_xmlrpc::parse_extensions(&entities).unwrap();
        assert!(!entities.is_empty());
        // Extensions start with the group's digit; queues, attendants (6xx/8xx) are the group's too.
        let ext: Vec<&Entity> = entities
            .iter()
            .filter(|e| e.kind == pbx_model::EntityKind::Extension)
            .collect();
        assert!(
            ext.iter().all(|e| e.abbreviated.starts_with(prefix)),
            "{user}: {ext:?}"
        );
    }
    // Call ids are per group: Globex's first call is "1" as Acme's is. Acme's
    // second call, "2", is invisible to Globex exactly like a call that does not exist.
    let acme = demo
        .call("203", "sim.call", vec![s("+15550101"), s("202")])
        .await
        .unwrap();
    assert_eq!(acme, s("2"));
    let theirs = demo.call("301", "drop", vec![s("2")]).await.unwrap_err();
    let none = demo.call("301", "drop", vec![s("999")]).await.unwrap_err();
    assert_eq!(theirs, none);
    let calls = demo.call("203", "get_calls", vec![]).await.unwrap();
    assert_eq!(pbx_xmlrpc::parse_calls(&calls).unwrap().len(), 2);
}

/// The log written while `run` runs, at every level.
async fn captured_log<F: std::future::Future<Output = ()>>(run: F) -> String {
    use std::io::Write;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime is single-threaded: the default stays in place across awaits.
    let guard = tracing::subscriber::set_default(subscriber);
    run.await;
    drop(guard);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn the_log_names_calls_but_never_values() {
    let demo = Demo::new();
    let log = captured_log(async {
        demo.call("203", "dict_set", vec![s("pin"), s("secret-4711")])
            .await
            .unwrap();
        demo.call("203", "dict_get", vec![s("pin")]).await.unwrap();
    })
    .await;
    assert!(
        log.contains("dict_set") && log.contains("dict_get"),
        "{log}"
    );
    assert!(log.contains("203"), "{log}");
    assert!(!log.contains("secret-4711"), "{log}");

    // An internal error: the detail is logged (with the method), never sent.
    let handler = Handler::new(Arc::new(Broken));
    let user = Caller::new("203", EntityId(3), AdminGroupId::new("Acme"));
    let log = captured_log(async {
        let fault = call_bytes(&handler, &user, &MethodCall::new("get_calls", vec![]))
            .await
            .unwrap_err();
        assert_eq!(fault.string, INTERNAL_MESSAGE);
    })
    .await;
    assert!(log.contains(SECRET), "{log}");
    assert!(log.contains("get_calls"), "{log}");
}

#[tokio::test]
async fn the_size_hint_holds_a_list_answer_without_wasting_much() {
    let demo = Demo::new();
    for _ in 0..5 {
        demo.call("203", "sim.call", vec![s("+15550100"), s("201")])
            .await
            .expect("the demo places calls");
    }
    let user = demo.user("203").await;
    let replies = [
        pbx_xmlrpc::Reply::Extensions(demo.pbx.get_extensions(&user).await.unwrap()),
        pbx_xmlrpc::Reply::Calls(demo.pbx.get_calls(&user).await.unwrap()),
    ];
    for reply in replies {
        let hint = reply.size_hint();
        let written = xmlrpc_codec::Encoder::default()
            .method_response_with(|w| reply.clone().write(w))
            .unwrap()
            .len();
        assert!(written > 2_000, "a real list: {written} bytes");
        // Enough for the answer (no regrowth), and not several times too much.
        assert!(
            written <= hint && hint <= 4 * written,
            "{written} bytes written, {hint} estimated for {reply:?}"
        );
    }
}

#[test]
fn the_size_hint_is_capped() {
    use pbx_xmlrpc::Reply;
    assert_eq!(Reply::Done.size_hint(), 256);
    let entries = |n: usize| Reply::Entries(vec![(String::new(), String::new()); n]);
    assert_eq!(entries(1_000).size_hint(), 256 + 1_000 * 128);
    // 200,000 entries would be 25 MB at 128 bytes each.
    assert_eq!(entries(200_000).size_hint(), Reply::MAX_SIZE_HINT);
}

/// A long poll answers after its timeout with no events when nothing
/// happens, and at once with the event when one is pending (paused time: the
/// timeout passes without waiting).
#[tokio::test(start_paused = true)]
async fn get_events_waits_its_timeout_and_answers_at_once_when_an_event_is_pending() {
    use pbx_backend::{PbxBackend as _, Simulator as _};
    let pbx = Arc::new(pbx_backend_memory::MemoryPbx::demo());
    let handler = Handler::new(pbx.clone()).with_simulator(pbx.clone());
    let user = pbx.authenticate("203", "203").await.unwrap().unwrap();
    let call = |params: Vec<Value>| {
        let body =
            xmlrpc_codec::encode_method_call(&MethodCall::new("get_events", params)).unwrap();
        let handler = &handler;
        let user = &user;
        async move {
            let outcome = handler.handle(user, &body).await;
            match decode_method_response(&outcome.body).unwrap() {
                xmlrpc_codec::MethodResponse::Success(v) => v,
                other => panic!("{other:?}"),
            }
        }
    };
    let first = call(vec![Value::String(String::new()), Value::Int(0)]).await;
    let s = first.as_struct().unwrap();
    assert_eq!(s.get("reset"), Some(&Value::Bool(true)));
    let cursor = s.get("cursor").unwrap().clone();

    let idle = call(vec![cursor.clone(), Value::Int(1)]).await;
    let s = idle.as_struct().unwrap();
    assert_eq!(s.get("reset"), Some(&Value::Bool(false)));
    assert_eq!(s.get("events"), Some(&Value::Array(vec![])));
    assert_eq!(
        s.get("cursor"),
        Some(&cursor),
        "nothing came: the cursor stays"
    );

    pbx.call(&user, "+15550100", "203", None).await.unwrap();
    let pending = call(vec![cursor, Value::Int(60)]).await;
    let events = match pending.as_struct().unwrap().get("events") {
        Some(Value::Array(events)) => events.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(events.len(), 1, "{events:?}");
    let event = events[0].as_struct().unwrap();
    assert_eq!(
        event.get("type"),
        Some(&Value::String("call.created".into()))
    );
}

/// The PBX's methods are a registration into the generic router: whatever the
/// simulation, the router lists exactly the offered methods of the table, in
/// the table's order, and describes each from the table.
#[tokio::test]
async fn the_router_holds_exactly_the_offered_methods_in_table_order() {
    let demo = Demo::new();
    let handlers = [
        Handler::new(demo.pbx.clone()),
        Handler::new(demo.pbx.clone()).with_simulation_switched_off(),
        demo.handler.clone(),
    ];
    let user = demo.user("203").await;
    for handler in handlers {
        let offered: Vec<&str> = handler.offered_methods().map(|m| m.name).collect();
        let registered: Vec<&str> = handler.router().method_names().collect();
        assert_eq!(registered, offered);
        for spec in handler.offered_methods() {
            let help = handler
                .call(
                    &user,
                    &MethodCall::new("system.methodHelp", vec![s(spec.name)]),
                )
                .await;
            assert_eq!(help, Ok(Value::String(spec.help_text())), "{}", spec.name);
        }
    }
}
