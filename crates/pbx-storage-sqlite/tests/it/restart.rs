//! A restart keeps everything: keys written every way the API offers (every
//! XML-RPC value type through `dict_set_serialized`), deletions, favorites.
//! Driven through the binding, as a client would.

use xmlrpc_codec::{DateTime, Struct, Value};

use crate::support::{Demo, Scratch, string};

/// One value of every XML-RPC core type, with the edge cases of each, nested.
fn every_type() -> Value {
    let mut inner = Struct::new();
    inner.insert("empty array", Value::Array(vec![]));
    inner.insert("empty struct", Value::Struct(Struct::new()));
    inner.insert(
        "deep",
        Value::Array(vec![Value::Array(vec![Value::Struct({
            let mut s = Struct::new();
            s.insert("leaf", Value::Int(1));
            s
        })])]),
    );
    let mut all = Struct::new();
    all.insert("int", Value::Int(42));
    all.insert("int min", Value::Int(i32::MIN.into()));
    all.insert("int max", Value::Int(i32::MAX.into()));
    all.insert("true", Value::Bool(true));
    all.insert("false", Value::Bool(false));
    all.insert("string", string("Grüße, 世界 👋 <&> \"' \t\r\n  "));
    all.insert("empty string", string(""));
    all.insert("double", Value::Double(0.1));
    all.insert("double tiny", Value::Double(-5e-324));
    all.insert("double huge", Value::Double(1.7976931348623157e308));
    all.insert("double zero", Value::Double(-0.0));
    all.insert(
        "datetime",
        Value::DateTime(DateTime::new(1999, 12, 31, 23, 59, 60).unwrap()),
    );
    all.insert("base64", Value::Base64((0..=255u8).collect()));
    all.insert("empty base64", Value::Base64(vec![]));
    all.insert("nested", Value::Struct(inner));
    all.insert(
        "mixed array",
        Value::Array(vec![
            Value::Int(-1),
            string("two"),
            Value::Bool(true),
            Value::Double(4.5),
        ]),
    );
    Value::Struct(all)
}

fn pairs(list: &[(&str, &str)]) -> Value {
    let mut s = Struct::new();
    for (k, v) in list {
        s.insert(*k, string(v));
    }
    Value::Struct(s)
}

fn favorite(id: &Value, kind: &str, slot: i64, size: &str) -> Value {
    let mut s = Struct::new();
    s.insert("id", id.clone());
    s.insert("type", string(kind));
    s.insert("slot", Value::Int(slot));
    s.insert("size", string(size));
    Value::Struct(s)
}

/// The first entity of `kind` in `get_extensions`' answer: its id.
fn first_id(extensions: &Value, kind: &str) -> Value {
    let Value::Array(records) = extensions else {
        panic!("get_extensions: {extensions:?}")
    };
    records
        .iter()
        .find_map(|r| match r {
            Value::Struct(s) if s.get("type") == Some(&string(kind)) => s.get("id").cloned(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {kind} in {extensions:?}"))
}

#[tokio::test]
async fn a_restart_keeps_every_key_every_value_type_and_the_favorites() {
    let scratch = Scratch::new();
    let value = every_type();
    let array = Value::Array(vec![value.clone(), Value::Array(vec![]), string("end")]);

    let (stored_text, all_before, favorites_before, hank_before) = {
        let demo = Demo::on(scratch.open()).await;
        let carol = &demo.carol;
        demo.ok(
            carol,
            "dict_set_serialized",
            vec![string("obj"), value.clone()],
        )
        .await;
        demo.ok(
            carol,
            "dict_set_serialized",
            vec![string("arr"), array.clone()],
        )
        .await;
        demo.ok(carol, "dict_set", vec![string("plain"), string("v")])
            .await;
        demo.ok(carol, "dict_set", vec![string("gone"), string("v")])
            .await;
        demo.ok(carol, "dict_delete", vec![string("gone")]).await;
        demo.ok(
            carol,
            "dict_set_many",
            vec![pairs(&[("m1", "1"), ("m2", ""), ("plain", "w")])],
        )
        .await;
        demo.ok(
            &demo.hank,
            "dict_set",
            vec![string("plain"), string("hank's")],
        )
        .await;

        let extensions = demo.ok(carol, "get_extensions", vec![]).await;
        let favorites = Value::Array(vec![
            favorite(&first_id(&extensions, "queue"), "queue", 2, "double"),
            favorite(
                &first_id(&extensions, "extension"),
                "extension",
                1,
                "single",
            ),
        ]);
        demo.ok(carol, "set_favorites", vec![favorites]).await;

        (
            demo.ok(carol, "dict_get", vec![string("obj")]).await,
            demo.ok(carol, "get_all", vec![]).await,
            demo.ok(carol, "get_favorites", vec![]).await,
            demo.ok(&demo.hank, "get_all", vec![]).await,
        )
    };

    // A new PBX on the same directory: the server after a restart.
    let demo = Demo::on(scratch.open()).await;
    let carol = &demo.carol;
    assert_eq!(
        demo.ok(carol, "dict_get_serialized", vec![string("obj")])
            .await,
        value
    );
    assert_eq!(
        demo.ok(carol, "dict_get_serialized", vec![string("arr")])
            .await,
        array
    );
    assert_eq!(
        demo.ok(carol, "dict_get", vec![string("obj")]).await,
        stored_text
    );
    assert_eq!(
        demo.ok(carol, "dict_get", vec![string("plain")]).await,
        string("w")
    );
    assert_eq!(
        demo.ok(carol, "dict_get", vec![string("m2")]).await,
        string("")
    );
    let gone = demo.call(carol, "dict_get", vec![string("gone")]).await;
    assert_eq!(gone.map_err(|f| f.code), Err(-1));
    assert_eq!(demo.ok(carol, "get_all", vec![]).await, all_before);
    assert_eq!(demo.ok(&demo.hank, "get_all", vec![]).await, hank_before);
    let favorites = demo.ok(carol, "get_favorites", vec![]).await;
    assert_eq!(favorites, favorites_before);
    let Value::Array(list) = &favorites else {
        panic!("{favorites:?}")
    };
    assert_eq!(list.len(), 2, "{favorites:?}");
    // Globex shares nothing of Acme's.
    assert_eq!(
        demo.ok(&demo.hank, "get_favorites", vec![]).await,
        Value::Array(vec![])
    );
}
