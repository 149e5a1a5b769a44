//! The examples, run as CI runs them: the calculator served on a free port, and
//! the multicall example's client against it.

use tokio::net::TcpListener;
use xmlrpc_codec::{Fault, Value};

use crate::multicall::{self, calculator};

/// The calculator example's server on a free port: its address.
pub(crate) async fn spawn_calculator() -> std::net::SocketAddr {
    spawn(calculator::router()).await
}

/// `router` served as the calculator example serves it, on a free port.
pub(crate) async fn spawn<S: Clone + Send + Sync + 'static>(
    router: xmlrpc_server::Router<S>,
) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(calculator::serve(listener, router));
    addr
}

#[tokio::test]
async fn the_multicall_example_gets_each_result_in_its_place() {
    let addr = spawn_calculator().await;
    let results = multicall::run(addr).await.unwrap();
    assert_eq!(
        results,
        [
            Ok(Value::Int(5)),
            Err(Fault::new(calculator::ARITHMETIC, "division by zero")),
            Ok(Value::Int(5)),
            Err(Fault::new(-32601, "no such method: no.such.method")),
        ]
    );
    // The total is the server's state: a second run adds to it.
    let again = multicall::run(addr).await.unwrap();
    assert_eq!(again[2], Ok(Value::Int(10)));
}

#[tokio::test]
async fn the_calculator_answers_over_a_real_connection() {
    let addr = spawn_calculator().await;
    let body = xmlrpc_codec::encode_method_call(&xmlrpc_codec::MethodCall::new(
        "sub",
        xmlrpc_codec::to_params(&(10, 4)).unwrap(),
    ))
    .unwrap();
    let answer = multicall::post(addr, body).await.unwrap();
    let result = xmlrpc_codec::decode_method_response(&answer)
        .unwrap()
        .into_result();
    assert_eq!(result, Ok(Value::Int(6)));
}
