//! `switchboard serve`: the reference server on the demo PBX or a configuration file.

use std::io::IsTerminal as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use pbx_backend_memory::{Config, DEMO_CONFIG, MemoryPbx};
use pbx_server::{AppState, ServerConfig};
use pbx_xmlrpc::Handler;
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
}

pub(crate) fn serve(args: ServeArgs) -> Result<()> {
    let pbx = Arc::new(match &args.config {
        // Its message names the file, the line and the cause already.
        Some(path) => MemoryPbx::from_toml_file(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => MemoryPbx::demo(),
    });
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let config = ServerConfig::default();
    // The HTTP layer bounds documents (413); the decoder takes what it lets through.
    let mut limits = xmlrpc_codec::Limits::default();
    limits.max_document_bytes = config.max_decompressed_bytes;
    let simulation = !args.no_simulation && pbx.simulation_enabled();
    let handler = Handler::new(pbx.clone()).with_limits(limits);
    let handler = if simulation {
        handler.with_simulator(pbx)
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
        print_banner(addr, args.config.as_deref(), simulation);
        pbx_server::serve(listener, state, shutdown).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Completes at the first SIGINT or SIGTERM (Ctrl-C elsewhere). The handlers are
/// installed when this is called, not when the future is first polled.
fn shutdown_signal() -> Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// The first line is for scripts (`listening on URL`); the rest for people.
fn print_banner(addr: SocketAddr, config: Option<&std::path::Path>, simulation: bool) {
    println!("listening on http://{addr}/RPC2");
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
    let url = format!("http://{reachable}/RPC2");
    let simulation = if simulation { "on" } else { "off" };
    match config {
        Some(path) => {
            println!("PBX: {} (simulation {simulation})", path.display());
            println!("Users: the extensions with a password in that file.");
        }
        None => {
            println!("PBX: the built-in demo, {DEMO_ORIGIN} (simulation {simulation})");
            println!("Demo users (user/password): {}", demo_users());
        }
    }
    println!("Try it:");
    println!(
        "  curl -u 203:203 -H 'Content-Type: text/xml' --data '<?xml version=\"1.0\"?><methodCall><methodName>get_extensions</methodName></methodCall>' {url}"
    );
    println!("  python3 fixtures/interop/sample.py {url}");
    println!("Stop with Ctrl-C.");
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
