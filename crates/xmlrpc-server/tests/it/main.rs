//! The integration tests of xmlrpc-server, in one binary: the router's core
//! (`router`), what an application with its own method table registers
//! (`registration`), its HTTP service (`http`), Python's `xmlrpc.client` against it
//! (`python`) and the examples (`examples`).

// The examples' code, built here so that their routers and clients are tested.
#[path = "../../examples/calculator_multicall.rs"]
#[allow(dead_code, unreachable_pub)]
mod multicall;

mod examples;
mod http;
mod python;
mod registration;
mod router;

use xmlrpc_codec::{Fault, MethodCall, Value, decode_method_response, encode_method_call};
use xmlrpc_server::{Context, Router};

/// Calls `name` through [`Router::handle`], as an HTTP layer would: the decoded answer.
async fn call<S: Clone + Send + Sync + 'static>(
    router: &Router<S>,
    name: &str,
    params: Vec<Value>,
) -> Result<Value, Fault> {
    call_with(router, Context::new(), name, params).await
}

/// [`call`] with a context.
async fn call_with<S: Clone + Send + Sync + 'static>(
    router: &Router<S>,
    ctx: Context,
    name: &str,
    params: Vec<Value>,
) -> Result<Value, Fault> {
    let body = encode_method_call(&MethodCall::new(name, params)).unwrap();
    let answer = router.handle(ctx, &body).await;
    decode_method_response(&answer)
        .unwrap_or_else(|e| panic!("the answer must decode: {e}"))
        .into_result()
}

/// `(code, string)` of a fault, for short assertions.
fn fault(result: Result<Value, Fault>) -> (i32, String) {
    let fault = result.expect_err("a fault");
    (fault.code, fault.string)
}
