//! Introspection and the generic `call`.

use pbx_client::{FaultCode, Value};

use crate::support::{Server, fault_code};

#[tokio::test]
async fn introspection_describes_the_binding_table() {
    let server = Server::start().await;
    let client = server.client("203");
    let names = client.list_methods().await.unwrap();
    for name in [
        "get_calls",
        "dict_get_serialized",
        "sim.call",
        "system.multicall",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    // Exactly the binding's table (simulation is on).
    assert_eq!(names.len(), pbx_xmlrpc::methods().len());

    let help = client.method_help("transfer").await.unwrap();
    assert!(!help.is_empty());
    let signatures = client.method_signature("park").await.unwrap();
    assert_eq!(
        signatures,
        pbx_xmlrpc::Method::Park
            .spec()
            .signatures()
            .into_iter()
            .map(|s| s.into_iter().map(str::to_string).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    );
    assert!(signatures.iter().all(|s| s[0] == "int"));
    assert_eq!(fault_code(client.method_help("nope").await), -32601);

    let capabilities = client.get_capabilities().await.unwrap();
    assert!(
        capabilities.iter().any(|c| c.name == "multicall"),
        "{capabilities:?}"
    );
}

#[tokio::test]
async fn call_reaches_any_method_and_faults_keep_their_shape() {
    let server = Server::start().await;
    let client = server.client("203");
    assert_eq!(
        client.call("get_calls", vec![]).await.unwrap(),
        Value::Array(vec![])
    );
    let err = client
        .call(
            "transfer",
            vec![Value::String("1".into()), Value::Array(vec![])],
        )
        .await
        .unwrap_err();
    assert!(err.is_fault(FaultCode::InvalidParams), "{err}");
    assert_eq!(
        err.to_string(),
        "fault -32602: transfer: parameter 2 (destination): expected string, got array"
    );
    assert_eq!(
        fault_code(client.call("no.such.method", vec![]).await),
        -32601
    );
    assert_eq!(fault_code(client.call("park", vec![]).await), -32602);
}
