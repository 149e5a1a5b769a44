//! Durable storage against `--ephemeral` on `dict_get`: two switchboards on the
//! peer fixture, one keeping its user data in a data directory (as `serve` runs
//! out of the box), one in memory, measured in alternation so that whatever else
//! the machine runs weighs on both alike.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::fixtures::*;
use crate::load::{Measured, Target};
use crate::processes::*;

/// Rounds of alternation; each side's figure is its median round.
pub(crate) const ROUNDS: usize = 3;

/// One connection count: durable and in-memory `dict_get`.
#[derive(Debug, Clone)]
pub(crate) struct Durability {
    pub(crate) connections: usize,
    pub(crate) durable: Measured,
    pub(crate) ephemeral: Measured,
}

impl Durability {
    /// Durable requests/s as a share of in-memory.
    pub(crate) fn share(&self) -> Option<f64> {
        crate::report::ratio(
            Some(self.durable.per_second()),
            Some(self.ephemeral.per_second()),
        )
    }
}

pub(crate) fn measure_durability(
    switchboard: &Path,
    work: &Path,
    warmup: Duration,
    window: Duration,
) -> Result<Vec<Durability>> {
    let start = |storage, name| -> Result<Server> {
        let config = work.join(format!("{name}.toml"));
        std::fs::write(&config, pbx_toml(&[BENCH]))?;
        let server = Server::start(name, &mut serve(switchboard, &config, storage)?, work)?;
        set_up(server.addr, BENCH)?;
        Ok(server)
    };
    let durable = start(Storage::Durable, "durable")?;
    let ephemeral = start(Storage::Ephemeral, "ephemeral")?;
    let call = CALLS[0];
    let mut rows = Vec::new();
    for connections in CONNECTIONS {
        let mut runs: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            for (i, server) in [&durable, &ephemeral].into_iter().enumerate() {
                let target = Target::for_call(server.addr, call, true, false);
                let measured =
                    crate::load::drive(&target, connections, warmup, window / ROUNDS as u32)?;
                println!(
                    "{:16} dict_get c={connections:2}: {:9.0} req/s  p50 {:6} µs  p99 {:6} µs",
                    server.name,
                    measured.per_second(),
                    measured.latency.p50,
                    measured.latency.p99,
                );
                runs[i].push(measured);
            }
        }
        let [durable, ephemeral] = runs.map(median);
        rows.push(Durability {
            connections,
            durable,
            ephemeral,
        });
    }
    Ok(rows)
}

/// The run with the median rate.
fn median(mut runs: Vec<Measured>) -> Measured {
    runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    runs.swap_remove(runs.len() / 2)
}
