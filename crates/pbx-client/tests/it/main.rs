//! The client against the real server (the axum router served on `127.0.0.1:0`
//! over the demo PBX with its simulator), method by method, and against small raw
//! TCP servers for what a real server does not do on purpose: never answer, hang
//! up, answer garbage.

mod batch;
mod errors;
mod events;
mod pbx;
mod sim;
mod storage;
mod support;
mod system;
mod tls;
