//! Interop with Python's standard `xmlrpc.server.SimpleXMLRPCServer`: typed calls,
//! faults, multicall, introspection, auth, gzip, connection reuse.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xmlrpc_client::{Client, EncodeOptions, Error, Positional, Value};

use crate::support::PyServer;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ticket {
    id: i32,
    title: String,
    tags: Vec<String>,
    estimate: f64,
    open: bool,
}

#[tokio::test]
async fn typed_calls_round_trip_through_python() {
    let server = PyServer::start();
    let client = server.client();
    let sum: i32 = client.call("add", (2, 40)).await.unwrap();
    assert_eq!(sum, 42);
    let sum: f64 = client.call("add", (0.5, 0.25)).await.unwrap();
    assert_eq!(sum, 0.75);

    let ticket = Ticket {
        id: 7,
        title: "Crash on <nil/> & friends".into(),
        tags: vec!["interop".into(), "é".into()],
        estimate: 1.5,
        open: true,
    };
    let back: Ticket = client.call("echo", (&ticket,)).await.unwrap();
    assert_eq!(back, ticket);
    // The same struct as positional parameters: Python's add gets two ints.
    #[derive(Serialize)]
    struct Pair {
        a: i32,
        b: i32,
    }
    let sum: i32 = client
        .call("add", Positional(&Pair { a: 1, b: 2 }))
        .await
        .unwrap();
    assert_eq!(sum, 3);

    let value = client
        .call_value("echo", vec![Value::Base64(vec![0, 159, 255])])
        .await
        .unwrap();
    assert_eq!(value, Value::Base64(vec![0, 159, 255]));
}

#[tokio::test]
async fn python_faults_arrive_with_code_and_string() {
    let server = PyServer::start();
    let client = server.client();
    let err = client
        .call::<_, Value>("fail", (42, "the answer is a fault"))
        .await
        .unwrap_err();
    let Error::Fault(fault) = &err else {
        panic!("expected a fault, got {err:?}")
    };
    assert_eq!(
        (fault.code, fault.string.as_str()),
        (42, "the answer is a fault")
    );
    assert!(fault.is_conforming());
    assert_eq!(err.to_string(), "fault 42: the answer is a fault");

    // An exception in the method: Python's fault 1 with the exception's text.
    let err = client.call::<_, f64>("divide", (1, 0)).await.unwrap_err();
    assert_eq!(err.fault_code(), Some(1), "{err:?}");
    assert!(
        err.fault().unwrap().string.contains("ZeroDivisionError"),
        "{err}"
    );
    // An unknown method: also fault 1, naming it.
    let err = client.call::<_, Value>("nope", ()).await.unwrap_err();
    assert_eq!(err.fault_code(), Some(1), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
    // The connection survives faults.
    assert_eq!(client.call::<_, i32>("add", (1, 1)).await.unwrap(), 2);
}

#[tokio::test]
async fn multicall_gives_each_call_its_own_result_or_fault() {
    let server = PyServer::start();
    let client = server.client();
    let mut batch = client.multicall();
    let ok = batch.call("add", (1, 2)).unwrap();
    let fault = batch.call("fail", (-5, "not this one")).unwrap();
    let unknown = batch.call_value("no.such.method", vec![]);
    let echo = batch.call("echo", ("last",)).unwrap();
    assert_eq!(batch.len(), 4);
    let results = batch.send().await.unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results.get::<i32>(ok).unwrap(), 3);
    assert!(
        matches!(results.get::<Value>(fault), Err(Error::Fault(f)) if f.code == -5 && f.string == "not this one")
    );
    assert!(
        matches!(results.get::<Value>(unknown), Err(Error::Fault(f)) if f.string.contains("no.such.method"))
    );
    assert_eq!(results.get::<String>(echo).unwrap(), "last");
    assert_eq!(
        results.value(ok),
        Some(&Ok(Value::Int(3))),
        "the raw results are there too"
    );

    // An empty multicall sends nothing: the server counts one connection, the
    // one above.
    assert!(client.multicall().send().await.unwrap().is_empty());
    assert_eq!(client.call::<_, i32>("connections", ()).await.unwrap(), 1);
}

#[tokio::test]
async fn introspection_lists_and_describes_the_methods() {
    let server = PyServer::start();
    let client = server.client();
    let methods = client.list_methods().await.unwrap();
    for name in [
        "add",
        "echo",
        "supervisor.getState",
        "system.listMethods",
        "system.methodHelp",
        "system.methodSignature",
        "system.multicall",
    ] {
        assert!(methods.iter().any(|m| m == name), "{name} in {methods:?}");
    }
    assert_eq!(
        client.method_help("add").await.unwrap(),
        "add(a, b): the sum of two numbers."
    );
    assert_eq!(
        client.method_signature("add").await.unwrap(),
        Value::String("signatures not supported".into())
    );
}

#[tokio::test]
async fn credentials_from_the_url_are_percent_decoded() {
    let server = PyServer::with_auth("bob", "s@cret:é");
    let port_url = server.url();
    let url = port_url.replacen("http://", "http://bob:s%40cret%3A%C3%A9@", 1);
    let client = Client::builder(&url).no_proxy().build().unwrap();
    assert_eq!(client.user(), Some("bob"));
    assert_eq!(client.url().as_str(), port_url);
    assert_eq!(client.call::<_, i32>("add", (1, 2)).await.unwrap(), 3);

    // Wrong or missing credentials: 401.
    let wrong = Client::builder(&port_url)
        .basic_auth("bob", "guess")
        .no_proxy()
        .build()
        .unwrap();
    let err = wrong.call::<_, i32>("add", (1, 2)).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    let err = server.client().list_methods().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    // Credentials given to the builder win over the URL's.
    let client = Client::builder(&port_url.replacen("http://", "http://bob:nope@", 1))
        .basic_auth("bob", "s@cret:é")
        .no_proxy()
        .build()
        .unwrap();
    client.list_methods().await.unwrap();
}

#[tokio::test]
async fn requests_carry_basic_auth_gzip_and_the_user_agent() {
    let server = PyServer::with_auth("alice", "pw");
    let client = Client::builder(&server.url())
        .basic_auth("alice", "pw")
        .header("X-Api-Key", "k3y")
        .no_proxy()
        .build()
        .unwrap();
    let headers: BTreeMap<String, String> = client.call("request_headers", ()).await.unwrap();
    let header = |name: &str| headers.get(name).map_or("", String::as_str);
    assert_eq!(header("authorization"), "Basic YWxpY2U6cHc="); // alice:pw
    assert_eq!(header("content-type"), "text/xml");
    assert!(header("accept-encoding").contains("gzip"), "{headers:?}");
    assert!(
        header("user-agent").starts_with("xmlrpc-client/"),
        "{headers:?}"
    );
    assert_eq!(header("x-api-key"), "k3y");

    let plain = Client::builder(&server.url())
        .basic_auth("alice", "pw")
        .gzip(false)
        .user_agent("crm-sync/2")
        .no_proxy()
        .build()
        .unwrap();
    let headers: BTreeMap<String, String> = plain.call("request_headers", ()).await.unwrap();
    assert_eq!(headers.get("accept-encoding"), None, "{headers:?}");
    assert_eq!(headers["user-agent"], "crm-sync/2");
}

#[tokio::test]
async fn connections_are_kept_and_reused() {
    let server = PyServer::start();
    let client = server.client();
    for i in 0..5 {
        assert_eq!(client.call::<_, i32>("add", (i, 1)).await.unwrap(), i + 1);
    }
    // Clones share the pool.
    let clone = client.clone();
    assert_eq!(clone.call::<_, i32>("connections", ()).await.unwrap(), 1);
}

#[tokio::test]
async fn a_gzip_answer_is_bounded_after_inflation() {
    let server = PyServer::start();
    // 200 kB of one letter: Python gzips it (above 1400 bytes) to a few hundred.
    let big = "x".repeat(200_000);
    let back: String = server.client().call("echo", (&big,)).await.unwrap();
    assert_eq!(back.len(), big.len());

    let bounded = Client::builder(&server.url())
        .max_response_bytes(100_000)
        .no_proxy()
        .build()
        .unwrap();
    let err = bounded
        .call::<_, String>("echo", (&big,))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 100_000 }), "{err:?}");
    // Small answers still pass on the same client.
    assert_eq!(bounded.call::<_, i32>("add", (1, 1)).await.unwrap(), 2);
}

#[tokio::test]
async fn a_wrong_path_is_an_http_status() {
    let server = PyServer::start();
    let url = server.url().replace("/RPC2", "/nope");
    let err = Client::builder(&url)
        .no_proxy()
        .build()
        .unwrap()
        .list_methods()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 404, .. }), "{err:?}");
}

#[tokio::test]
async fn nil_is_sent_only_with_extensions_on() {
    let server = PyServer::start();
    // Core XML-RPC has no nil: refused before sending.
    let err = server
        .client()
        .call_value("echo", vec![Value::Nil])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Encode(_)), "{err:?}");

    let mut options = EncodeOptions::default();
    options.allow_extensions = true;
    let client = Client::builder(&server.url())
        .encode_options(options)
        .no_proxy()
        .build()
        .unwrap();
    let back = client.call_value("echo", vec![Value::Nil]).await.unwrap();
    assert_eq!(back, Value::Nil);
    // An `<i8>` parameter (Python reads it, though it never writes one).
    let ratio: f64 = client
        .call("divide", (1_i64 << 40, 1_i64 << 39))
        .await
        .unwrap();
    assert_eq!(ratio, 2.0);
}

#[tokio::test]
async fn params_and_results_of_the_wrong_shape_are_told_apart() {
    let server = PyServer::start();
    let client = server.client();
    // A struct is not a parameter list: refused before sending.
    #[derive(Serialize)]
    struct Query {
        id: i32,
    }
    let err = client
        .call::<_, Value>("echo", Query { id: 1 })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Serialize(_)), "{err:?}");
    // A result that does not fit the type asked for.
    let err = client.call::<_, String>("add", (1, 2)).await.unwrap_err();
    assert!(matches!(err, Error::Deserialize(_)), "{err:?}");
    assert!(err.to_string().contains("int 3"), "{err}");
    // Neither counted as a connection: only the second call went out.
    assert_eq!(client.call::<_, i32>("connections", ()).await.unwrap(), 1);
}
