//! Python's standard `xmlrpc.client` against the server, over a real socket:
//! values of every type, faults, `MultiCall`, introspection, gzip requests.

use serde_json::{Value as Json, json};
use xmlrpc_codec::Value;
use xmlrpc_server::Router;

use crate::examples::{spawn, spawn_calculator};

/// Runs `script` with `python3`, the server's URL as its argument: the JSON it prints.
async fn python(script: &str, url: &str) -> Json {
    let output = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(url)
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python3 failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

const CALCULATOR: &str = r#"
import json, sys, xmlrpc.client as c

def fault_of(f):
    try:
        return ["ok", f()]
    except c.Fault as e:
        return ["fault", e.faultCode, e.faultString]

p = c.ServerProxy(sys.argv[1])
out = {
    "add": p.add(2, 3),
    "sub": p.sub(2, 5),
    "total_add": p.total.add(5),
    "total_get": p.total.get(),
    "div0": fault_of(lambda: p.div(1, 0)),
    "missing": fault_of(lambda: p.add(1)),
    "wrong_type": fault_of(lambda: p.add(1, "two")),
    "no_such": fault_of(lambda: p.mul(2, 3)),
}
m = c.MultiCall(p)
m.add(1, 2)
m.div(4, 0)
m.total.add(10)
m.nope()
results = m()
out["multicall"] = [fault_of(lambda i=i: results[i]) for i in range(4)]
out["list"] = p.system.listMethods()
out["help"] = p.system.methodHelp("div")
out["signature"] = p.system.methodSignature("add")
out["capabilities"] = sorted(p.system.getCapabilities().keys())
t = c.Transport()
t.encode_threshold = 0  # gzip every request
out["gzip_add"] = c.ServerProxy(sys.argv[1], transport=t).add(40, 2)
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_xmlrpc_client_calls_the_calculator() {
    let addr = spawn_calculator().await;
    let out = python(CALCULATOR, &format!("http://{addr}/RPC2")).await;
    assert_eq!(out["add"], 5);
    assert_eq!(out["sub"], -3);
    assert_eq!(out["total_add"], 5);
    assert_eq!(out["total_get"], 5);
    assert_eq!(out["div0"], json!(["fault", 1, "division by zero"]));
    assert_eq!(out["missing"][1], -32602);
    assert_eq!(
        out["wrong_type"],
        json!([
            "fault",
            -32602,
            "parameter 2: expected i32, found string \"two\""
        ])
    );
    assert_eq!(
        out["no_such"],
        json!(["fault", -32601, "no such method: mul"])
    );
    assert_eq!(
        out["multicall"],
        json!([
            ["ok", 3],
            ["fault", 1, "division by zero"],
            ["ok", 15],
            ["fault", -32601, "no such method: nope"],
        ])
    );
    assert_eq!(
        out["list"],
        json!([
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
        ])
    );
    assert_eq!(
        out["help"],
        "a / b, rounded toward zero; fault 1 when b is 0"
    );
    assert_eq!(out["signature"], json!([["int", "int", "int"]]));
    assert_eq!(
        out["capabilities"],
        json!(["faults_interop", "introspection", "multicall"])
    );
    assert_eq!(out["gzip_add"], 42);
}

const ECHO: &str = r#"
import datetime, json, sys, xmlrpc.client as c

p = c.ServerProxy(sys.argv[1], use_builtin_types=True)
sent = {
    "int": -2147483648,
    "bool": True,
    # No \r: Python writes it raw, and XML reads a raw \r\n as \n.
    "string": "<a & b>\n \u00e9\u20ac\U0001F600 ]]>",
    "empty": "",
    "double": 0.1,
    "bytes": b"\x00\xff binary",
    "when": datetime.datetime(2026, 12, 7, 4, 5, 6),
    "list": [1, [2, []], {"k": "v"}],
    "struct": {"nested": {"deeper": [True, False]}},
}
back = p.echo(sent)
print(json.dumps({"equal": back == sent, "back": repr(back), "types": sorted(back.keys())}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_values_of_every_type_round_trip_through_a_handler() {
    let router = Router::new().method("echo", |(v,): (Value,)| async move { Ok(v) });
    let addr = spawn(router).await;
    let out = python(ECHO, &format!("http://{addr}/")).await;
    assert_eq!(out["equal"], true, "{}", out["back"]);
}
