//! `system.multicall`: raw and typed.

use pbx_client::{Fault, FaultCode, MethodCall, Value, requests};

use crate::support::Server;

#[tokio::test]
async fn multicall_returns_each_fault_in_place() {
    let server = Server::start().await;
    let client = server.client("203");
    client.dict_set("k", "v").await.unwrap();
    let results = client
        .multicall(vec![
            MethodCall::new("dict_get", vec![Value::String("k".into())]),
            MethodCall::new("dict_get", vec![Value::String("missing".into())]),
            MethodCall::new("system.multicall", vec![Value::Array(vec![])]),
            MethodCall::new("get_calls", vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], Ok(Value::String("v".into())));
    assert!(
        matches!(&results[1], Err(Fault { code: -1, .. })),
        "{results:?}"
    );
    assert!(
        matches!(&results[2], Err(Fault { code: -32600, .. })),
        "no nesting: {results:?}"
    );
    assert_eq!(results[3], Ok(Value::Array(vec![])));
}

#[tokio::test]
async fn a_typed_batch_reads_each_result_as_its_type() {
    let server = Server::start().await;
    let client = server.client("203");
    let id = client.sim_call("+15550100", "203", None).await.unwrap();

    let mut batch = client.batch();
    let set = batch.push(requests::dict_set("note", "call back"));
    let note = batch.push(requests::dict_get("note"));
    let missing = batch.push(requests::dict_get("missing"));
    let calls = batch.push(requests::get_calls());
    let lot = batch.push(requests::get_parking_info());
    let hangup = batch.push(requests::sim_hangup(&id));
    assert_eq!(batch.len(), 6);
    let results = batch.send().await.unwrap();

    results.get(&set).unwrap();
    assert_eq!(results.get(&note).unwrap(), "call back");
    assert!(
        results
            .get(&missing)
            .unwrap_err()
            .is_fault(FaultCode::NotFound)
    );
    assert_eq!(results.get(&calls).unwrap()[0].id, id);
    assert_eq!(results.get(&lot).unwrap().slots, 10);
    results.get(&hangup).unwrap();
    assert_eq!(client.get_calls().await.unwrap(), []);
}

#[tokio::test]
async fn an_empty_batch_sends_nothing() {
    // No server at all: an empty batch needs none.
    let client = pbx_client::Client::new("http://pbx.invalid/RPC2").unwrap();
    let batch = client.batch();
    assert!(batch.is_empty());
    assert!(batch.send().await.unwrap().is_empty());
}
