//! `system.multicall` from both ends: the calculator's server, and a bare HTTP
//! client (hyper) that sends four calls in one request and reads each call's
//! result or fault in its place.
//!
//! ```text
//! cargo run -p xmlrpc-server --example calculator_multicall                  # its own server on a free port
//! cargo run -p xmlrpc-server --example calculator_multicall 127.0.0.1:8080   # a running calculator
//! ```
//!
//! It runs to completion, so the crate's tests run it ([`run`]) as CI does.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use xmlrpc_codec::{
    Fault, MethodCall, Struct, Value, decode_method_response, encode_method_call, to_params,
};

#[path = "calculator.rs"]
#[allow(dead_code)]
pub mod calculator;

/// Any failure of the example's client (the server's faults are results).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One `{methodName, params}` entry of a multicall.
fn entry(name: &str, params: Vec<Value>) -> Value {
    Value::Struct(Struct::from_iter([
        ("methodName", Value::from(name)),
        ("params", Value::Array(params)),
    ]))
}

/// POSTs `body` to `addr` over a fresh HTTP/1.1 connection: the answer's body.
pub async fn post(addr: SocketAddr, body: Vec<u8>) -> Result<Bytes, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = http::Request::post("/RPC2")
        .header(http::header::HOST, addr.to_string())
        .header(http::header::CONTENT_TYPE, "text/xml")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(request).await?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("HTTP {}", response.status()).into());
    }
    Ok(response.into_body().collect().await?.to_bytes())
}

/// Sends `add(2, 3)`, `div(1, 0)`, `total.add(5)` and `no.such.method()` in one
/// `system.multicall` to the server at `addr`: each call's result or fault, in order.
pub async fn run(addr: SocketAddr) -> Result<Vec<Result<Value, Fault>>, BoxError> {
    let calls = Value::Array(vec![
        entry("add", to_params(&(2, 3))?),
        entry("div", to_params(&(1, 0))?),
        entry("total.add", to_params(&(5,))?),
        entry("no.such.method", vec![]),
    ]);
    let body = encode_method_call(&MethodCall::new("system.multicall", vec![calls]))?;
    let answer = decode_method_response(&post(addr, body).await?)?.into_result()?;
    let Value::Array(results) = answer else {
        return Err(format!("system.multicall answered {answer:?}, not an array").into());
    };
    // Each result is an array of one value, or a fault struct.
    results
        .into_iter()
        .map(|result| match result {
            Value::Array(mut one) if one.len() == 1 => Ok(Ok(one.remove(0))),
            other => Ok(Err(Fault::try_from(other)?)),
        })
        .collect()
}

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let addr = match std::env::args().nth(1) {
        Some(addr) => addr.parse()?,
        None => {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            tokio::spawn(calculator::serve(listener, calculator::router()));
            addr
        }
    };
    for (i, result) in run(addr).await?.into_iter().enumerate() {
        match result {
            Ok(value) => println!("call {}: {value:?}", i + 1),
            Err(fault) => println!("call {}: {fault}", i + 1),
        }
    }
    Ok(())
}
