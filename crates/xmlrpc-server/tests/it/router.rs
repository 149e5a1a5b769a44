//! The router's core, through `Router::handle`: typed handlers, faults, state and
//! context, introspection, multicall and the answer's bound.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use xmlrpc_codec::{
    EncodeOptions, Fault, Limits, MethodCall, MethodResponse, Struct, Value,
    decode_method_response, encode_method_response, to_params,
};
use xmlrpc_server::{Context, Error, Router};

use crate::multicall::calculator;
use crate::{call, call_with, fault};

fn entry(name: &str, params: Vec<Value>) -> Value {
    Value::Struct(Struct::from_iter([
        ("methodName", Value::from(name)),
        ("params", Value::Array(params)),
    ]))
}

fn multicall(entries: Vec<Value>) -> Vec<Value> {
    vec![Value::Array(entries)]
}

#[tokio::test]
async fn typed_handlers_answer_their_results() {
    let router = calculator::router();
    assert_eq!(
        call(&router, "add", to_params(&(2, 3)).unwrap()).await,
        Ok(Value::Int(5))
    );
    assert_eq!(
        call(&router, "sub", to_params(&(2, 5)).unwrap()).await,
        Ok(Value::Int(-3))
    );
    assert_eq!(
        call(&router, "div", to_params(&(7, 2)).unwrap()).await,
        Ok(Value::Int(3))
    );
}

#[tokio::test]
async fn a_handler_fault_reaches_the_client_with_its_code() {
    let router = calculator::router();
    let answer = call(&router, "div", to_params(&(1, 0)).unwrap()).await;
    assert_eq!(fault(answer), (1, "division by zero".to_owned()));
    let answer = call(&router, "add", to_params(&(i32::MAX, 1)).unwrap()).await;
    assert_eq!(
        fault(answer),
        (1, "the result does not fit in 32 bits".to_owned())
    );
}

#[tokio::test]
async fn parameters_that_do_not_decode_are_fault_32602_naming_the_parameter() {
    let router = calculator::router();
    let missing = fault(call(&router, "add", to_params(&(1,)).unwrap()).await);
    assert_eq!(missing.0, -32602);
    assert!(
        missing.1.starts_with("parameter 2: missing"),
        "{}",
        missing.1
    );

    let wrong = fault(call(&router, "add", to_params(&(1, "x")).unwrap()).await);
    assert_eq!(
        wrong,
        (
            -32602,
            r#"parameter 2: expected i32, found string "x""#.to_owned()
        )
    );

    let extra = fault(call(&router, "add", to_params(&(1, 2, 3)).unwrap()).await);
    assert_eq!(
        extra,
        (-32602, "expected at most 2 parameters, found 3".to_owned())
    );
}

#[tokio::test]
async fn a_struct_parameter_decodes_into_a_struct() {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Order {
        item: String,
        quantity: u32,
    }
    let router = Router::new().method("order.total", |(order,): (Order,)| async move {
        Ok(format!("{} x {}", order.quantity, order.item))
    });
    let order = Order {
        item: "tea".into(),
        quantity: 3,
    };
    let answer = call(&router, "order.total", to_params(&(&order,)).unwrap()).await;
    assert_eq!(answer, Ok(Value::from("3 x tea")));
    let bad = Value::Struct(Struct::from_iter([("item", Value::from("tea"))]));
    let (code, message) = fault(call(&router, "order.total", vec![bad]).await);
    assert_eq!(code, -32602);
    assert!(message.contains("quantity"), "{message}");
}

#[tokio::test]
async fn an_unknown_method_is_fault_32601() {
    let answer = call(&calculator::router(), "mul", to_params(&(2, 3)).unwrap()).await;
    assert_eq!(fault(answer), (-32601, "no such method: mul".to_owned()));
}

#[tokio::test]
async fn a_malformed_request_is_fault_32700_and_an_invalid_one_32600() {
    let router = calculator::router();
    let answer = |body: &'static [u8]| {
        let router = router.clone();
        async move {
            let document = router.handle(Context::new(), body).await;
            fault(decode_method_response(&document).unwrap().into_result())
        }
    };
    let (code, message) = answer(b"<methodCall><methodName>add</methodName>").await;
    assert_eq!(code, -32700);
    assert!(message.contains("1:"), "the position is given: {message}");
    assert_eq!(answer(b"").await.0, -32700);
    assert_eq!(answer(b"<methodResponse/>").await.0, -32600);
    let doctype = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><methodCall/>";
    assert!(matches!(answer(doctype).await.0, -32700 | -32600));
}

#[tokio::test]
async fn a_request_beyond_the_limits_is_refused_with_a_fault_naming_the_limit() {
    let mut limits = Limits::default();
    limits.max_depth = 2;
    let router = Router::new()
        .method("echo", |(v,): (Value,)| async move { Ok(v) })
        .with_limits(limits);
    let deep = Value::Array(vec![Value::Array(vec![Value::Array(vec![])])]);
    let (code, message) = fault(call(&router, "echo", vec![deep]).await);
    assert_eq!(code, -32600);
    assert!(message.contains("Limits::max_depth"), "{message}");
}

#[tokio::test]
async fn state_is_shared_between_calls() {
    let router = calculator::router();
    assert_eq!(
        call(&router, "total.add", to_params(&(5,)).unwrap()).await,
        Ok(Value::Int(5))
    );
    assert_eq!(
        call(&router, "total.add", to_params(&(-2,)).unwrap()).await,
        Ok(Value::Int(3))
    );
    assert_eq!(call(&router, "total.get", vec![]).await, Ok(Value::Int(3)));
    // A clone of the router shares the state, as the service's clones do.
    let clone = router.clone();
    assert_eq!(call(&clone, "total.get", vec![]).await, Ok(Value::Int(3)));
}

#[derive(Clone)]
struct User(String);

fn whoami() -> Router<()> {
    Router::new().method_with_context("whoami", |(), ctx: Context, (): ()| async move {
        let user = ctx
            .get::<User>()
            .ok_or_else(|| Error::fault(401, "not logged in"))?;
        Ok(user.0.clone())
    })
}

#[tokio::test]
async fn the_context_reaches_the_handler() {
    let router = whoami();
    let mut ctx = Context::new();
    ctx.insert(User("alice".into()));
    assert_eq!(
        call_with(&router, ctx.clone(), "whoami", vec![]).await,
        Ok(Value::from("alice"))
    );
    assert_eq!(
        fault(call(&router, "whoami", vec![]).await),
        (401, "not logged in".to_owned())
    );
    // Each call of a multicall sees it too.
    let answer = call_with(
        &router,
        ctx,
        "system.multicall",
        multicall(vec![entry("whoami", vec![]), entry("whoami", vec![])]),
    )
    .await;
    let one = Value::Array(vec![Value::from("alice")]);
    assert_eq!(answer, Ok(Value::Array(vec![one.clone(), one])));
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_internal_error_answers_a_generic_fault_and_logs_its_detail() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let router = Router::new().method("shop.buy", |(): ()| async move {
        Err::<i32, _>(Error::internal("connection to db.internal:5432 refused"))
    });
    let answer = call(&router, "shop.buy", vec![]).await;
    assert_eq!(fault(answer), (-32603, "internal server error".to_owned()));
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("ERROR"), "{log}");
    assert!(log.contains("shop.buy"), "{log}");
    assert!(
        log.contains("connection to db.internal:5432 refused"),
        "{log}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_method_name_cannot_forge_a_log_line() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let answer = call(&Router::new(), "x\nERROR forged line", vec![]).await;
    assert_eq!(fault(answer).0, -32601);
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains(r"x\nERROR forged line"), "{log}");
    assert!(!log.lines().any(|line| line.starts_with("ERROR")), "{log}");
}

#[tokio::test]
async fn a_result_xml_rpc_cannot_carry_is_an_internal_fault_not_a_broken_document() {
    let router = Router::new()
        .method("nan", |(): ()| async move { Ok(f64::NAN) })
        .method("nothing", |(): ()| async move { Ok(()) })
        .method("control", |(): ()| async move { Ok("bell \u{7}") });
    for name in ["nan", "nothing", "control"] {
        let answer = call(&router, name, vec![]).await;
        assert_eq!(
            fault(answer),
            (-32603, "internal server error".to_owned()),
            "{name}"
        );
    }
    // With the extensions on, `()` is `<nil/>`.
    // In a multicall, in its place.
    let answer = call(
        &router,
        "system.multicall",
        multicall(vec![entry("nan", vec![])]),
    )
    .await;
    let in_place = Fault::try_from(answer.unwrap()[0].clone()).unwrap();
    assert_eq!(in_place, Fault::new(-32603, "internal server error"));
    let mut options = EncodeOptions::default();
    options.allow_extensions = true;
    let router = router.with_encode_options(options);
    assert_eq!(call(&router, "nothing", vec![]).await, Ok(Value::Nil));
}

#[tokio::test]
async fn a_panicking_handler_costs_only_its_own_call() {
    let router = Router::new()
        .method("boom", |(): ()| async move {
            let items: Vec<i32> = Vec::new();
            Ok(items[3])
        })
        .method(
            "boom.early",
            |(): ()| -> std::future::Ready<Result<i32, Error>> { panic!("before any future") },
        )
        .method("fine", |(): ()| async move { Ok(1) });
    for name in ["boom", "boom.early"] {
        let answer = call(&router, name, vec![]).await;
        assert_eq!(
            fault(answer),
            (-32603, "internal server error".to_owned()),
            "{name}"
        );
    }
    let answer = call(
        &router,
        "system.multicall",
        multicall(vec![entry("boom", vec![]), entry("fine", vec![])]),
    )
    .await
    .unwrap();
    assert_eq!(Fault::try_from(answer[0].clone()).unwrap().code, -32603);
    assert_eq!(answer[1], Value::Array(vec![Value::Int(1)]));
}

#[tokio::test]
async fn list_methods_names_every_method_built_ins_included() {
    let answer = call(&calculator::router(), "system.listMethods", vec![]).await;
    let names: Vec<Value> = [
        "add",
        "div",
        "sub",
        "system.getCapabilities",
        "system.listMethods",
        "system.methodHelp",
        "system.methodSignature",
        "system.multicall",
        "total.add",
        "total.get",
    ]
    .into_iter()
    .map(Value::from)
    .collect();
    assert_eq!(answer, Ok(Value::Array(names)));
}

#[tokio::test]
async fn method_help_and_signature_answer_what_was_declared() {
    let router = calculator::router().method("bare", |(): ()| async move { Ok(true) });
    let help = |name: &str| call(&router, "system.methodHelp", vec![Value::from(name)]);
    assert_eq!(
        help("div").await,
        Ok(Value::from(
            "a / b, rounded toward zero; fault 1 when b is 0"
        ))
    );
    assert_eq!(help("bare").await, Ok(Value::from("")));
    assert!(
        help("system.multicall")
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .contains("methodName")
    );

    let signature = |name: &str| call(&router, "system.methodSignature", vec![Value::from(name)]);
    let int = || Value::from("int");
    assert_eq!(
        signature("add").await,
        Ok(Value::Array(vec![Value::Array(vec![int(), int(), int()])]))
    );
    assert_eq!(signature("bare").await, Ok(Value::from("undef")));
    assert_eq!(
        signature("system.methodHelp").await,
        Ok(Value::Array(vec![Value::Array(vec![
            Value::from("string"),
            Value::from("string")
        ])]))
    );
}

#[tokio::test]
async fn introspecting_an_unknown_method_is_fault_32601() {
    let router = calculator::router();
    for method in ["system.methodHelp", "system.methodSignature"] {
        let answer = call(&router, method, vec![Value::from("mul")]).await;
        assert_eq!(fault(answer), (-32601, "no such method: mul".to_owned()));
    }
}

#[tokio::test]
async fn system_methods_check_their_parameters() {
    let router = calculator::router();
    let answer = call(&router, "system.listMethods", vec![Value::Int(1)]).await;
    assert_eq!(fault(answer).0, -32602);
    let answer = call(&router, "system.methodHelp", vec![]).await;
    assert_eq!(fault(answer).0, -32602);
    let answer = call(&router, "system.methodSignature", vec![Value::Int(1)]).await;
    assert_eq!(fault(answer).0, -32602);
}

#[tokio::test]
async fn get_capabilities_lists_the_three_specs_and_added_ones() {
    let router = calculator::router().capability("calculator", "https://example.com/calc", 2);
    let answer = call(&router, "system.getCapabilities", vec![])
        .await
        .unwrap();
    let caps = answer.as_struct().unwrap();
    let names: Vec<&str> = caps.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        ["calculator", "faults_interop", "introspection", "multicall"]
    );
    assert_eq!(
        answer["faults_interop"]["specVersion"],
        Value::Int(20010516)
    );
    assert_eq!(
        answer["calculator"]["specUrl"],
        Value::from("https://example.com/calc")
    );
}

#[tokio::test]
async fn multicall_runs_calls_in_order_with_each_fault_in_place() {
    let router = calculator::router();
    let answer = call(
        &router,
        "system.multicall",
        multicall(vec![
            entry("total.add", to_params(&(1,)).unwrap()),
            entry("div", to_params(&(1, 0)).unwrap()),
            entry("total.add", to_params(&(2,)).unwrap()),
            entry("no.such", vec![]),
            entry("total.get", vec![]),
        ]),
    )
    .await
    .unwrap();
    let Value::Array(results) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(results[0], Value::Array(vec![Value::Int(1)]));
    assert_eq!(
        Fault::try_from(results[1].clone()),
        Ok(Fault::new(1, "division by zero"))
    );
    assert_eq!(results[2], Value::Array(vec![Value::Int(3)]));
    assert_eq!(Fault::try_from(results[3].clone()).unwrap().code, -32601);
    assert_eq!(results[4], Value::Array(vec![Value::Int(3)]));
}

#[tokio::test]
async fn a_nested_multicall_is_refused_in_its_place() {
    let router = calculator::router();
    let inner = multicall(vec![entry("add", to_params(&(1, 1)).unwrap())]);
    let answer = call(
        &router,
        "system.multicall",
        multicall(vec![
            entry("system.multicall", inner),
            entry("add", to_params(&(1, 1)).unwrap()),
        ]),
    )
    .await
    .unwrap();
    let nested = Fault::try_from(answer[0].clone()).unwrap();
    assert_eq!(nested.code, -32600);
    assert_eq!(
        nested.string,
        "system.multicall: call 1: system.multicall cannot be nested"
    );
    assert_eq!(answer[1], Value::Array(vec![Value::Int(2)]));
}

#[tokio::test]
async fn malformed_multicall_entries_fail_alone() {
    let router = calculator::router();
    let no_params = Value::Struct(Struct::from_iter([(
        "methodName",
        Value::from("total.get"),
    )]));
    let answer = call(
        &router,
        "system.multicall",
        multicall(vec![
            Value::from("add"),
            Value::Struct(Struct::from_iter([("methodName", Value::Int(3))])),
            Value::Struct(Struct::from_iter([
                ("methodName", Value::from("add")),
                ("params", Value::Int(3)),
            ])),
            no_params,
        ]),
    )
    .await
    .unwrap();
    for i in 0..3 {
        let f = Fault::try_from(answer[i].clone()).unwrap();
        assert_eq!(f.code, -32602, "{f}");
        assert!(
            f.string
                .starts_with(&format!("system.multicall: call {}:", i + 1)),
            "{f}"
        );
    }
    // A missing `params` is no parameters.
    assert_eq!(answer[3], Value::Array(vec![Value::Int(0)]));
}

#[tokio::test]
async fn a_multicall_not_given_one_array_is_fault_32602() {
    let router = calculator::router();
    for params in [
        vec![],
        vec![Value::Int(1)],
        vec![Value::Array(vec![]), Value::Array(vec![])],
    ] {
        let answer = call(&router, "system.multicall", params).await;
        assert_eq!(fault(answer).0, -32602);
    }
    assert_eq!(
        call(&router, "system.multicall", multicall(vec![])).await,
        Ok(Value::Array(vec![]))
    );
}

#[tokio::test]
async fn a_multicall_beyond_its_bound_runs_none_of_its_calls() {
    let runs = Arc::new(AtomicUsize::new(0));
    let router = Router::with_state(Arc::clone(&runs))
        .method_with_state("tick", |runs: Arc<AtomicUsize>, (): ()| async move {
            Ok(runs.fetch_add(1, Ordering::SeqCst) as i32)
        })
        .with_max_multicall(3);
    let ticks = |n| multicall((0..n).map(|_| entry("tick", vec![])).collect());
    let (code, message) = fault(call(&router, "system.multicall", ticks(4)).await);
    assert_eq!(code, -32602);
    assert_eq!(
        message,
        "system.multicall: at most 3 calls per request, got 4"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert!(call(&router, "system.multicall", ticks(3)).await.is_ok());
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_default_multicall_bound_is_1000_calls() {
    let router = calculator::router();
    let adds = |n| {
        multicall(
            (0..n)
                .map(|_| entry("add", to_params(&(1, 1)).unwrap()))
                .collect(),
        )
    };
    assert!(call(&router, "system.multicall", adds(1000)).await.is_ok());
    assert_eq!(
        fault(call(&router, "system.multicall", adds(1001)).await).0,
        -32602
    );
}

#[tokio::test]
async fn the_multicall_document_is_what_the_codec_writes_for_the_same_results() {
    let router = calculator::router().method("text", |(): ()| async move { Ok("a < b & \r") });
    let params = multicall(vec![
        entry("add", to_params(&(1, 2)).unwrap()),
        entry("div", to_params(&(1, 0)).unwrap()),
        entry("text", vec![]),
        Value::Int(7),
    ]);
    let call = MethodCall::new("system.multicall", params);
    let body = xmlrpc_codec::encode_method_call(&call).unwrap();
    let document = router.handle(Context::new(), &body).await;
    let tree = router.call(Context::new(), call).await.unwrap();
    assert_eq!(
        String::from_utf8(document).unwrap(),
        String::from_utf8(encode_method_response(&MethodResponse::Success(tree)).unwrap()).unwrap()
    );
}

#[tokio::test]
async fn a_multicall_fault_string_xml_cannot_carry_is_replaced_not_lost() {
    let router = Router::new().method("bell", |(): ()| async move {
        Err::<i32, _>(Error::fault(7, "ring \u{7} bell"))
    });
    let answer = call(
        &router,
        "system.multicall",
        multicall(vec![entry("bell", vec![])]),
    )
    .await;
    let f = Fault::try_from(answer.unwrap()[0].clone()).unwrap();
    assert_eq!((f.code, f.string.as_str()), (7, "ring \u{FFFD} bell"));
}

fn text_router(max_response_bytes: usize) -> Router<()> {
    Router::new()
        .method("text", |(n,): (usize,)| async move { Ok("x".repeat(n)) })
        .with_max_response_bytes(max_response_bytes)
}

#[tokio::test]
async fn an_answer_beyond_max_response_bytes_is_fault_32400() {
    let router = text_router(1000);
    // The document around a string is 130 bytes or so.
    assert!(
        call(&router, "text", to_params(&(800,)).unwrap())
            .await
            .is_ok()
    );
    let (code, message) = fault(call(&router, "text", to_params(&(1000,)).unwrap()).await);
    assert_eq!(code, -32400);
    assert_eq!(
        message,
        "the answer would exceed the server's limit of 1000 bytes"
    );
}

#[tokio::test]
async fn a_fault_beyond_max_response_bytes_is_fault_32400_too() {
    let router = Router::new()
        .method("complain", |(n,): (usize,)| async move {
            Err::<i32, _>(Error::fault(9, "!".repeat(n)))
        })
        .with_max_response_bytes(1000);
    assert_eq!(
        fault(call(&router, "complain", to_params(&(500,)).unwrap()).await).0,
        9
    );
    let (code, _) = fault(call(&router, "complain", to_params(&(1000,)).unwrap()).await);
    assert_eq!(code, -32400);
}

#[tokio::test]
async fn multicall_results_count_together_against_max_response_bytes() {
    let router = text_router(1500);
    let texts = multicall(
        (0..3)
            .map(|_| entry("text", to_params(&(400,)).unwrap()))
            .collect(),
    );
    let body =
        xmlrpc_codec::encode_method_call(&MethodCall::new("system.multicall", texts)).unwrap();
    let document = router.handle(Context::new(), &body).await;
    assert!(document.len() <= 1500, "{} bytes", document.len());
    let answer = decode_method_response(&document)
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(answer[0][0].as_str().map(str::len), Some(400));
    assert_eq!(answer[1][0].as_str().map(str::len), Some(400));
    let third = Fault::try_from(answer[2].clone()).unwrap();
    assert_eq!(third.code, -32400);
    assert!(
        third.string.starts_with("system.multicall: call 3: "),
        "{third}"
    );
}

#[tokio::test]
async fn a_multicall_whose_faults_alone_do_not_fit_is_one_fault() {
    let router = text_router(400);
    let texts = multicall(
        (0..5)
            .map(|_| entry("text", to_params(&(300,)).unwrap()))
            .collect(),
    );
    let (code, _) = fault(call(&router, "system.multicall", texts).await);
    assert_eq!(code, -32400);
}

fn panic_message(build: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(build)).expect_err("the builder must refuse");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn builder_mistakes_are_refused_at_start_up_with_the_name() {
    let add = |(a, b): (i32, i32)| async move { Ok(a + b) };
    let twice = panic_message(|| {
        let _ = Router::new().method("add", add).method("add", add);
    });
    assert_eq!(twice, "xmlrpc-server: `add` is registered twice");
    let built_in = panic_message(|| {
        let _ = Router::new().method("system.multicall", add);
    });
    assert_eq!(built_in, "xmlrpc-server: `system.multicall` is built in");
    let unknown = panic_message(|| {
        let _ = Router::new().help("ad", "typo");
    });
    assert_eq!(
        unknown,
        "xmlrpc-server: `ad` is described but not registered"
    );
}
