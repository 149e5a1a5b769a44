//! What an application with its own method table registers into the router:
//! raw handlers answering a `Reply` of their own, its wording of the router's
//! faults, the listing order, reworded built-ins, large results a full
//! multicall does not run, and the answer written apart from the call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use xmlrpc_codec::{EncodeError, Fault, MethodCall, Struct, Value, ValueWriter, Written};
use xmlrpc_server::{Context, Error, Faults, LARGE_ANSWER_BYTES, Reply, Router};

use crate::{call, fault};

/// `n` records written straight into the answer, their size told before.
struct Records(usize);

impl Reply for Records {
    fn write(self: Box<Self>, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        w.array(|a| (0..self.0).try_for_each(|i| a.item(|w| w.int(i as i64))))
    }

    fn min_len(&self) -> usize {
        // `<value><int>0</int></value>` per record, at least.
        self.0 * 27
    }

    fn into_value(self: Box<Self>) -> Value {
        Value::Array((0..self.0).map(|i| Value::Int(i as i64)).collect())
    }
}

fn records_router(runs: Arc<AtomicUsize>) -> Router<Arc<AtomicUsize>> {
    Router::with_state(runs)
        .method_raw(
            "records",
            |runs: Arc<AtomicUsize>, _ctx, call: MethodCall| async move {
                runs.fetch_add(1, Ordering::Relaxed);
                match call.params.as_slice() {
                    [Value::Int(n)] => Ok(Records(*n as usize)),
                    _ => Err(Error::invalid_params("records(n)")),
                }
            },
        )
        .large_result("records")
        .method("ping", |(): ()| async move { Ok(true) })
}

fn body(name: &str, params: Vec<Value>) -> Vec<u8> {
    xmlrpc_codec::encode_method_call(&MethodCall::new(name, params)).unwrap()
}

fn entry(name: &str, params: Vec<Value>) -> Value {
    Value::Struct(Struct::from_iter([
        ("methodName", Value::from(name)),
        ("params", Value::Array(params)),
    ]))
}

#[tokio::test]
async fn a_raw_handler_answers_a_reply_written_in_place() {
    let router = records_router(Arc::default());
    let answer = call(&router, "records", vec![Value::Int(3)]).await;
    assert_eq!(
        answer,
        Ok(Value::Array(vec![
            Value::Int(0),
            Value::Int(1),
            Value::Int(2)
        ]))
    );
    let value = router
        .call(
            Context::new(),
            MethodCall::new("records", vec![Value::Int(2)]),
        )
        .await;
    assert_eq!(value, Ok(Value::Array(vec![Value::Int(0), Value::Int(1)])));
}

#[tokio::test]
async fn the_answer_is_written_apart_from_the_call_and_tells_its_size() {
    let router = records_router(Arc::default());
    let small = router
        .answer(Context::new(), &body("records", vec![Value::Int(2)]))
        .await;
    assert_eq!(small.method(), Some("records"));
    assert!(!small.is_large());
    let outcome = small.encode();
    assert_eq!(outcome.fault_code, None);
    assert_eq!(
        outcome.body,
        router
            .handle(Context::new(), &body("records", vec![Value::Int(2)]))
            .await
    );
    let many = LARGE_ANSWER_BYTES / 27 + 1;
    let large = router
        .answer(
            Context::new(),
            &body("records", vec![Value::Int(many as i64)]),
        )
        .await;
    assert!(large.estimated_len() >= LARGE_ANSWER_BYTES);
    assert!(large.is_large());
}

#[tokio::test]
async fn a_result_known_too_large_before_writing_is_refused_and_counted() {
    let router = records_router(Arc::default()).with_max_response_bytes(1000);
    let outcome = router
        .answer(Context::new(), &body("records", vec![Value::Int(100)]))
        .await
        .encode();
    assert_eq!(outcome.fault_code, Some(-32400));
    assert!(outcome.too_large);
}

#[tokio::test]
async fn a_full_multicall_does_not_run_the_large_results_after() {
    let runs = Arc::new(AtomicUsize::new(0));
    let router = records_router(runs.clone()).with_max_response_bytes(2000);
    let calls = vec![Value::Array(vec![
        entry("records", vec![Value::Int(100)]),
        entry("records", vec![Value::Int(1)]),
        entry("ping", vec![]),
    ])];
    let answer = call(&router, "system.multicall", calls).await.unwrap();
    let first = Fault::try_from(answer[0].clone()).unwrap();
    assert_eq!(first.code, -32400);
    let second = Fault::try_from(answer[1].clone()).unwrap();
    assert!(
        second
            .string
            .starts_with("system.multicall: call 2: not run: "),
        "{second}"
    );
    assert_eq!(answer[2], Value::Array(vec![Value::Bool(true)]));
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn an_application_words_the_routers_own_faults() {
    let mut faults = Faults::default();
    faults.no_such_method = |name| Fault::new(-1, format!("unknown: {name:?}"));
    faults.internal = || Fault::new(1, "oops");
    faults.not_well_formed = |_| Fault::new(-2, "bad xml");
    let router = Router::new()
        .method("fail", |(): ()| async move {
            Err::<i32, _>(Error::internal("disk on fire"))
        })
        .with_faults(faults);
    assert_eq!(
        fault(call(&router, "nope", vec![]).await),
        (-1, "unknown: \"nope\"".to_owned())
    );
    assert_eq!(
        fault(call(&router, "fail", vec![]).await),
        (1, "oops".to_owned())
    );
    let document = router.handle(Context::new(), b"<methodCall").await;
    let answer = xmlrpc_codec::decode_method_response(&document)
        .unwrap()
        .into_result()
        .unwrap_err();
    assert_eq!((answer.code, answer.string.as_str()), (-2, "bad xml"));
}

#[tokio::test]
async fn methods_are_listed_in_the_order_given_and_built_ins_reworded() {
    let router = Router::new()
        .method("b", |(): ()| async move { Ok(1) })
        .method("a", |(): ()| async move { Ok(2) })
        .list_order(["b", "a", "system.listMethods", "not.registered"])
        .help("system.listMethods", "Our own words.")
        .signatures("system.listMethods", [["array"], ["array"]]);
    let names: Vec<String> = router.method_names().map(str::to_owned).collect();
    assert_eq!(
        names[..3],
        [
            "b".to_owned(),
            "a".to_owned(),
            "system.listMethods".to_owned()
        ]
    );
    assert_eq!(names.len(), 7);
    assert_eq!(
        call(
            &router,
            "system.methodHelp",
            vec![Value::from("system.listMethods")]
        )
        .await,
        Ok(Value::from("Our own words."))
    );
    let sigs = call(
        &router,
        "system.methodSignature",
        vec![Value::from("system.listMethods")],
    )
    .await
    .unwrap();
    assert_eq!(sigs.as_array().map(<[Value]>::len), Some(2));
}
