//! The blocking client, outside and inside an async runtime.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/blocking.rs"]
mod example;

use xmlrpc_client::{Error, blocking};

use crate::support::PyServer;

#[test]
fn the_blocking_example_runs_without_a_runtime() {
    let server = PyServer::start();
    let client = blocking::Client::new(&server.url()).unwrap();
    let (sum, methods, sums) = example::run(&client).unwrap();
    assert_eq!((sum, sums), (42, vec![2, 4]));
    assert!(methods > 5);
    // Faults and reuse behave as in the async client: one connection for all.
    let err = client.call::<_, i32>("fail", (3, "no")).unwrap_err();
    assert_eq!(err.fault_code(), Some(3));
    assert_eq!(client.call::<_, i32>("connections", ()).unwrap(), 1);
}

#[test]
fn a_blocking_client_shared_by_threads_answers_each() {
    let server = PyServer::start();
    let client = blocking::Client::new(&server.url()).unwrap();
    let sums: Vec<i32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let client = client.clone();
                s.spawn(move || client.call::<_, i32>("add", (i, 100)).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sums, [100, 101, 102, 103]);
}

#[tokio::test]
async fn the_blocking_client_inside_a_runtime_is_an_error_not_a_panic() {
    let client = blocking::Client::new("http://127.0.0.1:9/RPC2").unwrap();
    let err = client.call::<_, i32>("add", (1, 2)).unwrap_err();
    assert!(matches!(err, Error::BlockingInAsync), "{err:?}");
    // Dropping it here does not panic either.
    drop(client);
}
