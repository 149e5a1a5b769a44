//! A full disk during operation: the write that does not fit answers fault 1
//! and changes nothing; reads, and writes that fit, go on being served. A cap
//! on the database's size (`max_page_count`) stands in for the full disk.

use pbx_storage_sqlite::Options;
use xmlrpc_codec::{Struct, Value};

use crate::support::{Demo, Scratch, open, string};

#[tokio::test]
async fn a_write_beyond_a_full_disk_is_fault_1_and_the_server_goes_on() {
    let scratch = Scratch::new();
    let mut options = Options::default();
    options.max_database_bytes = Some(160 * 1024);
    let demo = Demo::on(open(&scratch.dir, options)).await;
    let carol = &demo.carol;
    demo.ok(carol, "dict_set", vec![string("small"), string("v")])
        .await;
    demo.ok(carol, "set_favorites", vec![Value::Array(vec![])])
        .await;

    // Fill the database with values of 60 KB until one does not fit.
    let big = "x".repeat(60_000);
    let mut stored = Vec::new();
    let full = loop {
        let key = format!("big {}", stored.len());
        match demo
            .call(carol, "dict_set", vec![string(&key), string(&big)])
            .await
        {
            Ok(_) => stored.push(key),
            Err(fault) => break fault,
        }
        assert!(stored.len() < 10, "the cap was never reached");
    };
    assert_eq!(full.code, 1, "{full:?}");
    assert!(
        !full.string.contains("full"),
        "no detail for the client: {full:?}"
    );
    let missing = demo
        .call(
            carol,
            "dict_get",
            vec![string(&format!("big {}", stored.len()))],
        )
        .await;
    assert_eq!(
        missing.map_err(|f| f.code),
        Err(-1),
        "the failed write left nothing"
    );

    // All or nothing still holds for a dict_set_many that does not fit.
    let mut many = Struct::new();
    many.insert("tiny", string("t"));
    many.insert("another big one", string(&big));
    let fault = demo
        .call(carol, "dict_set_many", vec![Value::Struct(many)])
        .await;
    assert_eq!(fault.map_err(|f| f.code), Err(1));
    let tiny = demo.call(carol, "dict_get", vec![string("tiny")]).await;
    assert_eq!(tiny.map_err(|f| f.code), Err(-1));

    // Reads are served, and so are writes that need no new space.
    assert_eq!(
        demo.ok(carol, "dict_get", vec![string("small")]).await,
        string("v")
    );
    for key in &stored {
        assert_eq!(
            demo.ok(carol, "dict_get", vec![string(key)]).await,
            string(&big)
        );
    }
    demo.ok(carol, "get_all", vec![]).await;
    demo.ok(carol, "get_calls", vec![]).await;
    demo.ok(carol, "get_favorites", vec![]).await;
    demo.ok(carol, "dict_set", vec![string("small"), string("w")])
        .await;
    assert_eq!(
        demo.ok(carol, "dict_get", vec![string("small")]).await,
        string("w")
    );
    // Deleting makes room again.
    for key in &stored {
        demo.ok(carol, "dict_delete", vec![string(key)]).await;
    }
    demo.ok(carol, "dict_set", vec![string("big again"), string(&big)])
        .await;
}
