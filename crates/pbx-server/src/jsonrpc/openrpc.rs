//! `rpc.discover`: the OpenRPC 1.2 document of the methods this server offers,
//! generated from the binding's method table, as `system.listMethods` lists them.

use pbx_handler::Handler;
use pbx_xmlrpc::{FaultCode, MethodSpec, XmlRpcType};
use serde_json::{Value as Json, json};

/// The OpenRPC version the document follows.
pub(crate) const OPENRPC_VERSION: &str = "1.2.6";

/// The document: every method `handler` offers, in table order.
pub(crate) fn document(handler: &Handler) -> Json {
    json!({
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "PBXpress API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The PBXpress integration API over JSON-RPC 2.0: the XML-RPC \
                methods with positional params; a fault is an error with the same code.",
        },
        "methods": handler.offered_methods().map(method).collect::<Vec<_>>(),
    })
}

fn method(spec: &MethodSpec) -> Json {
    let summary = spec.help.lines().next().unwrap_or_default();
    let params: Vec<Json> = spec
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "description": p.doc,
                "required": !p.optional,
                "schema": schema(p.types),
            })
        })
        .collect();
    // The faults particular to the method, then the two every method may answer.
    let mut errors: Vec<Json> = spec
        .faults
        .iter()
        .map(|(code, when)| json!({"code": code.code(), "message": when}))
        .collect();
    for code in [FaultCode::InvalidParams, FaultCode::Internal] {
        if !spec.faults.iter().any(|(c, _)| *c == code) {
            errors.push(json!({"code": code.code(), "message": code.meaning()}));
        }
    }
    json!({
        "name": spec.name,
        "summary": summary,
        "description": spec.help,
        "paramStructure": "by-position",
        "params": params,
        "result": {
            "name": "result",
            "description": spec.result_doc,
            "schema": schema(spec.result),
        },
        "errors": errors,
    })
}

/// The JSON Schema of a value of one of `types`, as the JSON mapping writes it.
fn schema(types: &[XmlRpcType]) -> Json {
    let mut schemas: Vec<Json> = types.iter().map(|t| one(*t)).collect();
    match schemas.len() {
        1 => schemas.remove(0),
        _ => json!({ "oneOf": schemas }),
    }
}

fn one(t: XmlRpcType) -> Json {
    match t {
        XmlRpcType::Int => json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}),
        XmlRpcType::Boolean => json!({"type": "boolean"}),
        XmlRpcType::Double => json!({"type": "number"}),
        XmlRpcType::DateTime => json!({"type": "string", "format": "date-time"}),
        XmlRpcType::Base64 => json!({"type": "string", "contentEncoding": "base64"}),
        XmlRpcType::Struct => json!({"type": "object"}),
        XmlRpcType::Array => json!({"type": "array"}),
        // String, and whatever the table grows into.
        _ => json!({"type": "string"}),
    }
}
