//! The client against Python's standard `SimpleXMLRPCServer`
//! (`tests/fixtures/server.py`, on 127.0.0.1 port 0) and against small raw TCP
//! servers for what a real server does not do on purpose; the examples run here.

mod blocking;
mod errors;
mod examples;
mod python;
mod stream;
mod support;
mod tls;
