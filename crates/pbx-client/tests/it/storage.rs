//! The storage plugin: `dict_*` and `get_all`.

use pbx_client::{FaultCode, Struct, Value};

use crate::support::{Server, fault_code};

#[tokio::test]
async fn set_get_many_all_and_delete() {
    let server = Server::start().await;
    let client = server.client("203");
    assert_eq!(fault_code(client.dict_get("colour").await), -1);
    client.dict_set("colour", "blue").await.unwrap();
    assert_eq!(client.dict_get("colour").await.unwrap(), "blue");

    let pairs = vec![
        ("layout".to_string(), "grid".to_string()),
        ("ünïcode".to_string(), "<&>\r\n".to_string()),
    ];
    client.dict_set_many(&pairs).await.unwrap();
    assert_eq!(client.dict_get("ünïcode").await.unwrap(), "<&>\r\n");
    let mut all = client.get_all().await.unwrap();
    all.sort();
    assert_eq!(
        all,
        [
            ("colour".to_string(), "blue".to_string()),
            pairs[0].clone(),
            pairs[1].clone()
        ]
    );

    client.dict_delete("colour").await.unwrap();
    assert_eq!(fault_code(client.dict_get("colour").await), -1);
    client.dict_delete("colour").await.unwrap();

    // Personal: another user of the same group sees none of it.
    assert_eq!(server.client("201").get_all().await.unwrap(), []);
}

#[tokio::test]
async fn serialized_values_round_trip() {
    let server = Server::start().await;
    let client = server.client("203");
    let value = Value::Struct(Struct::from_iter([
        (
            "list",
            Value::Array(vec![Value::Int(1), Value::String("two".into())]),
        ),
        ("flag", Value::Bool(true)),
        ("ratio", Value::Double(0.5)),
    ]));
    client.dict_set_serialized("console", &value).await.unwrap();
    assert_eq!(client.dict_get_serialized("console").await.unwrap(), value);
    let text = client.dict_get("console").await.unwrap();
    assert!(text.starts_with("<value>"), "{text}");

    client.dict_set("plain", "just text").await.unwrap();
    let err = client.dict_get_serialized("plain").await.unwrap_err();
    assert!(err.is_fault(FaultCode::Conflict), "{err}");
    assert_eq!(fault_code(client.dict_get_serialized("missing").await), -1);
}

#[tokio::test]
async fn limits_are_fault_minus_4_and_nothing_is_written() {
    let server = Server::start().await;
    let client = server.client("203");
    let long_key = "k".repeat(300);
    let err = client.dict_set(&long_key, "v").await.unwrap_err();
    assert!(err.is_fault(FaultCode::LimitReached), "{err}");
    let pairs = vec![
        ("fine".to_string(), "v".to_string()),
        (long_key, "v".to_string()),
    ];
    assert_eq!(fault_code(client.dict_set_many(&pairs).await), -4);
    assert_eq!(client.get_all().await.unwrap(), []);
}
