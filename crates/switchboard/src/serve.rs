//! `switchboard serve`: the reference server on the demo PBX or a configuration file.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use pbx_backend_memory::{Config, DEMO_CONFIG, MemoryPbx, Player, Scenario};
use pbx_server::AppState;
use pbx_storage_sqlite::SqliteStorage;
use pbx_xmlrpc::Handler;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::log_format::{self, LogSink};
use crate::serve_security::{self, SecurityArgs};
use tokio::net::TcpListener;

/// Where the demo configuration comes from, for messages.
const DEMO_ORIGIN: &str = "fixtures/demo.toml";

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3339")]
    listen: String,
    /// The PBX to simulate, as a TOML file (see docs/configuration.md);
    /// default: the built-in demo PBX.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Switch the simulation controls off: every sim.* call answers fault -2
    /// (as `simulation = false` in the configuration does).
    #[arg(long)]
    no_simulation: bool,
    /// Keep users' keys and groups' favorites in DIR, created on first start and
    /// locked while the server runs (default: $XDG_DATA_HOME/switchboard, else
    /// ~/.local/share/switchboard; on macOS ~/Library/Application Support/switchboard).
    #[arg(long, value_name = "DIR", conflicts_with = "ephemeral")]
    data_dir: Option<PathBuf>,
    /// Keep users' keys and favorites in memory only: they are lost when the
    /// server stops.
    #[arg(long)]
    ephemeral: bool,
    /// Play a scenario on the PBX: a built-in one (`office-day`) or a TOML file
    /// (see docs/scenarios.md). It is checked before the server starts.
    #[arg(long, value_name = "NAME|FILE")]
    scenario: Option<String>,
    /// Start the scenario over (from a reset group) each time it ends.
    #[arg(long = "loop", requires = "scenario")]
    repeat: bool,
    /// Play the scenario X times as fast as real time (0.5 = half as fast).
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "scenario")]
    speed: f64,
    #[command(flatten)]
    security: SecurityArgs,
    /// Start even though the data directory's database is missing or empty
    /// while the directory shows it held one (restored wrongly, truncated,
    /// deleted): without this, such a start is refused so that lost data is
    /// noticed rather than served as an empty PBX.
    #[arg(long)]
    accept_empty_database: bool,
}

pub(crate) fn serve(args: ServeArgs) -> Result<()> {
    let pbx = match &args.config {
        // Its message names the file, the line and the cause already.
        Some(path) => MemoryPbx::from_toml_file(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => MemoryPbx::demo(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(log_format::layer(LogSink::stderr()))
        .init();
    let (pbx, data_dir) = with_storage(pbx, &args)?;
    let pbx = Arc::new(pbx);

    let config = args.security.server_config();
    let tls = args.security.tls()?;
    // The HTTP layer bounds documents (413); the decoder takes what it lets through.
    let mut limits = xmlrpc_codec::Limits::default();
    limits.max_document_bytes = config.max_decompressed_bytes;
    let simulation = !args.no_simulation && pbx.simulation_enabled();
    let scenario = scenario(&args, &pbx, simulation)?;
    let player = Arc::new(Player::new(pbx.clone()));
    let handler = Handler::new(pbx.clone())
        .with_limits(limits)
        .with_max_response_bytes(args.security.max_response_bytes());
    let handler = if simulation {
        handler.with_simulator(player.clone())
    } else {
        handler.with_simulation_switched_off()
    };
    let state = AppState::new(handler, config);

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = TcpListener::bind(args.listen.as_str())
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        // Before announcing the address: a signal right after it must find a handler.
        let shutdown = shutdown_signal()?;
        if let Some((scenario, options)) = scenario {
            tracing::info!(scenario = scenario.name(), group = %scenario.group(), "playing");
            player.start(scenario, options).await;
        }
        // Before the banner, whose first line tells scripts the server is up.
        serve_security::warn_if_exposed(addr, tls.is_some());
        let banner = Banner {
            addr,
            config: args.config.as_deref(),
            simulation,
            data_dir: data_dir.as_deref(),
            tls: tls.is_some(),
        };
        banner.print();
        let served = serve_security::serve(listener, state, tls, shutdown).await;
        // Scenarios end with the server, whether it stopped cleanly or not.
        player.stop_all().await;
        served?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Plugs the data directory's durable storage into `pbx`, unless `--ephemeral`;
/// returns the directory.
fn with_storage(pbx: MemoryPbx, args: &ServeArgs) -> Result<(MemoryPbx, Option<PathBuf>)> {
    if args.ephemeral {
        return Ok((pbx, None));
    }
    let dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir().context(
            "no default data directory (neither XDG_DATA_HOME nor HOME is set): \
             give --data-dir DIR, or --ephemeral",
        )?,
    };
    // Absolute, so that messages and the banner name it unambiguously.
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let mut options = pbx_storage_sqlite::Options::default();
    options.accept_empty_database = args.accept_empty_database;
    // Its message names the directory or file and the cause already.
    let storage = SqliteStorage::open_with(&dir, options).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((pbx.with_storage(Arc::new(storage)), Some(dir)))
}

/// `$XDG_DATA_HOME/switchboard`, else `~/.local/share/switchboard` (the
/// platform's equivalent elsewhere).
fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("switchboard"))
}

/// The scenario of `--scenario`, checked against `pbx` before anything runs.
fn scenario(
    args: &ServeArgs,
    pbx: &MemoryPbx,
    simulation: bool,
) -> Result<Option<(Scenario, pbx_backend_memory::PlayOptions)>> {
    let Some(what) = &args.scenario else {
        return Ok(None);
    };
    anyhow::ensure!(
        simulation,
        "--scenario needs the simulation controls, which are switched off"
    );
    anyhow::ensure!(
        args.speed.is_finite() && args.speed > 0.0 && args.speed <= 1e6,
        "--speed must be above 0 and at most 1000000, not {}",
        args.speed
    );
    // Its message names the file, the line and the problem already.
    let scenario = Scenario::builtin_or_file(what, pbx).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut options = pbx_backend_memory::PlayOptions::default();
    options.speed = args.speed;
    options.repeat = args.repeat;
    Ok(Some((scenario, options)))
}

/// Completes at the first SIGINT, SIGTERM or SIGHUP (Ctrl-C elsewhere). The
/// handlers are installed when this is called, not when the future is first
/// polled.
///
/// SIGHUP stops the server as SIGTERM does, finishing the requests in flight:
/// there is no configuration to reload yet, and its default action (ending the
/// process at once, as when the terminal of a `serve` started by hand closes)
/// would cut those requests off.
fn shutdown_signal() -> Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        Ok(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
                _ = hangup.recv() => "SIGHUP",
            };
            tracing::info!(signal = name, "stopping");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// What the start banner shows.
struct Banner<'a> {
    addr: SocketAddr,
    config: Option<&'a Path>,
    simulation: bool,
    data_dir: Option<&'a Path>,
    tls: bool,
}

impl Banner<'_> {
    fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/RPC2", self.addr)
    }

    /// Prints the banner on stdout. An stdout that cannot be written (a full
    /// disk, `serve | head -1` once `head` has gone) stops neither the server
    /// nor the banner's other lines: the server serves on, and says so on stderr
    /// when even the `listening on` line could not be written.
    fn print(&self) {
        let mut out = std::io::stdout().lock();
        let first = writeln!(out, "listening on {}", self.url()).and_then(|()| out.flush());
        if let Err(error) = first {
            tracing::warn!(
                url = %self.url(),
                %error,
                "cannot write the banner to stdout; serving on"
            );
        }
        // The rest is for people; a reader that took only the first line is fine.
        let _ = self.details(&mut out).and_then(|()| out.flush());
    }

    /// Every line but the first.
    fn details(&self, out: &mut impl Write) -> std::io::Result<()> {
        let scheme = if self.tls { "https" } else { "http" };
        let addr = self.addr;
        // A wildcard address is not one to connect to: show the loopback one.
        let reachable = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
            }
            _ => addr,
        };
        let url = format!("{scheme}://{reachable}/RPC2");
        let simulation = if self.simulation { "on" } else { "off" };
        match self.config {
            Some(path) => {
                writeln!(out, "PBX: {} (simulation {simulation})", path.display())?;
                writeln!(out, "Users: the extensions with a password in that file.")?;
            }
            None => {
                writeln!(
                    out,
                    "PBX: the built-in demo, {DEMO_ORIGIN} (simulation {simulation})"
                )?;
                writeln!(out, "Demo users (user/password): {}", demo_users())?;
            }
        }
        match self.data_dir {
            Some(dir) => writeln!(
                out,
                "Data: {} (keys and favorites survive restarts)",
                dir.display()
            )?,
            None => writeln!(
                out,
                "Data: in memory only (--ephemeral): lost when the server stops"
            )?,
        }
        writeln!(out, "Try it:")?;
        writeln!(
            out,
            "  curl -u 203:203 -H 'Content-Type: text/xml' --data '<?xml version=\"1.0\"?><methodCall><methodName>get_extensions</methodName></methodCall>' {url}"
        )?;
        writeln!(out, "  python3 fixtures/interop/sample.py {url}")?;
        writeln!(out, "Stop with Ctrl-C (or SIGTERM, SIGHUP).")
    }
}

/// `201/201, 203/203 (Acme); 301/301 (Globex)`, read from the demo configuration.
fn demo_users() -> String {
    let Ok(config) = Config::from_toml_str(DEMO_CONFIG, DEMO_ORIGIN) else {
        return "see fixtures/demo.toml".to_owned();
    };
    config
        .groups
        .iter()
        .map(|group| {
            let users: Vec<String> = group
                .extensions
                .iter()
                .filter_map(|e| Some(format!("{}/{}", e.number, e.password.as_ref()?)))
                .collect();
            format!("{} ({})", users.join(", "), group.name)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
