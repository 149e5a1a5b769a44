//! Measuring: the peer table (each server on each call and connection count) and
//! switchboard's scaling table.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use hyper::body::Bytes;

use crate::client::KeepAlive;
use crate::fixtures::*;
use crate::load::{Measured, Target};
use crate::processes::*;

/// The calls of the scaling table.
pub(crate) const SCALING_CALLS: [&str; 2] = ["get_extensions", "get_calls"];
/// One server's rows and memory.
#[derive(Debug)]
pub(crate) struct PeerResult {
    pub(crate) server: &'static str,
    /// `(call, connections, measurement)`.
    pub(crate) rows: Vec<(&'static str, usize, Measured)>,
    pub(crate) idle_rss_kib: u64,
    pub(crate) peak_rss_kib: u64,
}

pub(crate) fn measure_peer(
    server: Server,
    calls: &[Call],
    auth: bool,
    floor: bool,
    warmup: Duration,
    window: Duration,
) -> Result<PeerResult> {
    std::thread::sleep(Duration::from_millis(300));
    let idle_rss_kib = server.memory()?.0;
    let mut rows = Vec::new();
    for call in calls {
        let target = Target::for_call(server.addr, *call, auth, floor);
        for connections in CONNECTIONS {
            let measured = crate::load::drive(&target, connections, warmup, window)?;
            println!(
                "{:16} {:18} c={connections:2}: {:9.0} req/s  p50 {:6} µs  p99 {:6} µs  max {:7} µs  errors {}  reconnects {}",
                server.name,
                call.name,
                measured.per_second(),
                measured.latency.p50,
                measured.latency.p99,
                measured.latency.max,
                measured.errors,
                measured.reconnects,
            );
            rows.push((call.name, connections, measured));
        }
    }
    let peak_rss_kib = server.memory()?.1;
    Ok(PeerResult {
        server: server.name,
        rows,
        idle_rss_kib,
        peak_rss_kib,
    })
}

impl Target {
    /// `call` as the peer table sends it: to `/RPC2/<call>` on a floor (it serves
    /// the answer the path names), else to `/RPC2`; as the bench user when `auth`.
    pub(crate) fn for_call(addr: SocketAddr, call: Call, auth: bool, floor: bool) -> Target {
        Target {
            addr,
            path: if floor {
                format!("/RPC2/{}", call.name)
            } else {
                "/RPC2".to_owned()
            },
            authorization: auth.then(|| BENCH.authorization()),
            body: Bytes::from(request_body(call.name)),
        }
    }
}

/// The scaling measurements: `(label, method, result bytes, measurement)`.
pub(crate) type Scaling = Vec<(String, &'static str, usize, Measured)>;

/// `methods` (of `get_extensions` and `get_calls`) as the caller's group grows, and
/// the small group alone, among idle neighbours and among busy ones. One connection.
pub(crate) fn measure_scaling(
    switchboard: &Path,
    methods: &[&'static str],
    work: &Path,
    warmup: Duration,
    window: Duration,
) -> Result<Scaling> {
    let mut rows = Vec::new();
    let measure = |server: &Server, group: Group, label: String, rows: &mut Scaling| {
        let mut client = KeepAlive::new(server.addr);
        for &method in methods {
            let body = rpc(&mut client, &group.authorization(), &request_body(method))?;
            let target = Target {
                addr: server.addr,
                path: "/RPC2".to_owned(),
                authorization: Some(group.authorization()),
                body: Bytes::from(request_body(method)),
            };
            let measured = crate::load::drive(&target, 1, warmup, window)?;
            println!(
                "scaling {label:40} {method:15}: p50 {:6} µs  p99 {:6} µs  {:7.0} req/s",
                measured.latency.p50,
                measured.latency.p99,
                measured.per_second()
            );
            rows.push((label.clone(), method, body.len(), measured));
        }
        anyhow::Ok(())
    };

    let alone = work.join("small-alone.toml");
    std::fs::write(&alone, pbx_toml(&[SMALL]))?;
    let server = Server::start(
        "switchboard (small group alone)",
        &mut serve(switchboard, &alone, Storage::Ephemeral)?,
        work,
    )?;
    set_up(server.addr, SMALL)?;
    measure(&server, SMALL, "small, alone in its PBX".into(), &mut rows)?;
    drop(server);

    let shared = work.join("scaling.toml");
    std::fs::write(&shared, pbx_toml(&[SMALL, MEDIUM, LARGE]))?;
    let server = Server::start(
        "switchboard (scaling)",
        &mut serve(switchboard, &shared, Storage::Ephemeral)?,
        work,
    )?;
    for group in [SMALL, MEDIUM, LARGE] {
        set_up(server.addr, group)?;
    }
    for group in [SMALL, MEDIUM, LARGE] {
        let label = format!(
            "{}: {} entities, {} calls",
            group.name.to_lowercase(),
            group.entities,
            group.calls
        );
        measure(&server, group, label, &mut rows)?;
    }
    // Neighbours busy: two connections read the large group's calls the whole time.
    let busy = Target {
        addr: server.addr,
        path: "/RPC2".to_owned(),
        authorization: Some(LARGE.authorization()),
        body: Bytes::from(request_body("get_calls")),
    };
    let neighbours = std::thread::spawn(move || {
        crate::load::drive(&busy, 2, Duration::ZERO, (warmup + window) * 2 + warmup)
    });
    measure(
        &server,
        SMALL,
        "small, large group busy (2 conns of its get_calls)".into(),
        &mut rows,
    )?;
    let neighbours = neighbours
        .join()
        .map_err(|_| anyhow::anyhow!("the neighbour load panicked"))??;
    println!(
        "neighbour load: {:.0} req/s of the large group's get_calls",
        neighbours.per_second()
    );
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_goes_to_its_path_with_its_credentials() {
        let addr = "127.0.0.1:8080".parse().unwrap();
        let dict_get = CALLS[0];
        let switchboard = Target::for_call(addr, dict_get, true, false);
        assert_eq!(switchboard.path, "/RPC2");
        assert_eq!(
            switchboard.authorization.as_deref(),
            Some("Basic MTAwMDpiZW5jaA==")
        );
        assert_eq!(switchboard.body, request_body("dict_get").as_bytes());
        let floor = Target::for_call(addr, dict_get, false, true);
        assert_eq!(
            (floor.path.as_str(), floor.authorization),
            ("/RPC2/dict_get", None)
        );
    }
}
