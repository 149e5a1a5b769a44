//! `switchboard serve`: the reference server on the demo PBX or a configuration file.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::builder::BoolishValueParser;
use pbx_backend_memory::{Config, DEMO_CONFIG, MemoryPbx, Player, Scenario};
use pbx_server::{AppState, Metrics};
use pbx_storage_sqlite::SqliteStorage;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::log_format::{self, LogFormat, LogSink};
use crate::serve_security::{self, SecurityArgs};
use crate::serve_webhooks;
use tokio::net::TcpListener;

/// Where the demo configuration comes from, for messages.
const DEMO_ORIGIN: &str = "fixtures/demo.toml";

/// Every `serve` option can also come from the environment variable its help
/// names (`SWITCHBOARD_LISTEN`, ...), for service managers and containers; a
/// command-line option wins over its variable. Flags take `true`/`false`,
/// `1`/`0`, `yes`/`no` or `on`/`off` there.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (printed at start).
    #[arg(
        long,
        env = "SWITCHBOARD_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:3339"
    )]
    listen: String,
    /// The PBX to simulate, as a TOML file (see docs/configuration.md);
    /// default: the built-in demo PBX.
    #[arg(long, env = "SWITCHBOARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Switch the simulation controls off: every sim.* call answers fault -2
    /// (as `simulation = false` in the configuration does).
    #[arg(long, env = "SWITCHBOARD_NO_SIMULATION", value_parser = BoolishValueParser::new())]
    no_simulation: bool,
    /// Keep users' keys and groups' favorites in DIR, created on first start and
    /// locked while the server runs (default: $XDG_DATA_HOME/switchboard, else
    /// ~/.local/share/switchboard; on macOS ~/Library/Application Support/switchboard).
    // Not `conflicts_with = "ephemeral"`: clap would count
    // SWITCHBOARD_EPHEMERAL=false as given; `serve` checks it.
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep users' keys and favorites in memory only: they are lost when the
    /// server stops.
    #[arg(long, env = "SWITCHBOARD_EPHEMERAL", value_parser = BoolishValueParser::new())]
    ephemeral: bool,
    /// Play a scenario on the PBX: a built-in one (`office-day`) or a TOML file
    /// (see docs/scenarios.md). It is checked before the server starts.
    #[arg(long, env = "SWITCHBOARD_SCENARIO", value_name = "NAME|FILE")]
    scenario: Option<String>,
    /// Start the scenario over (from a reset group) each time it ends.
    #[arg(
        long = "loop",
        env = "SWITCHBOARD_LOOP",
        value_parser = BoolishValueParser::new(),
        requires = "scenario"
    )]
    repeat: bool,
    /// Play the scenario X times as fast as real time (0.5 = half as fast).
    #[arg(
        long,
        env = "SWITCHBOARD_SPEED",
        value_name = "X",
        default_value_t = 1.0,
        requires = "scenario"
    )]
    speed: f64,
    #[command(flatten)]
    security: SecurityArgs,
    #[command(flatten)]
    webhooks: serve_webhooks::WebhookArgs,
    /// Start even though the data directory's database is missing or empty
    /// while the directory shows it held one (restored wrongly, truncated,
    /// deleted): without this, such a start is refused so that lost data is
    /// noticed rather than served as an empty PBX.
    #[arg(long, env = "SWITCHBOARD_ACCEPT_EMPTY_DATABASE", value_parser = BoolishValueParser::new())]
    accept_empty_database: bool,
    /// Bytes of users' keys and groups' favorites the data directory's store
    /// holds in memory for reads (0: every read goes to the database; a user or
    /// group above an eighth of it is always read from the database).
    #[arg(long, env = "SWITCHBOARD_STORAGE_CACHE_BYTES", value_name = "BYTES", default_value_t = pbx_storage_sqlite::Options::default().cache_bytes)]
    storage_cache_bytes: usize,
    /// Serve Prometheus metrics at http://ADDR/metrics (and GET /health), on
    /// a listener of their own without authentication: give an address only
    /// the scraper reaches (docs/deploy.md). Default: no metrics.
    #[arg(long, env = "SWITCHBOARD_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Also serve Prometheus metrics at /metrics on the API's own listener, to
    /// a scraper sending `Authorization: Bearer TOKEN` with the token in FILE
    /// (at least 16 characters; the file readable by its owner only). Wrong
    /// tokens count as failed logins. Default: no /metrics there.
    #[arg(long, env = "SWITCHBOARD_METRICS_TOKEN_FILE", value_name = "FILE")]
    metrics_token_file: Option<PathBuf>,
    /// The log lines on stderr: `text` (one line per event, for people) or
    /// `json` (one JSON object per line, for log collectors).
    #[arg(
        long,
        env = "SWITCHBOARD_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    log_format: LogFormat,
    /// Check the configuration, the scenario and the TLS files, report every
    /// problem found, and exit (0: all good) without serving or touching the
    /// data directory.
    #[arg(long)]
    check: bool,
}

pub(crate) fn serve(args: ServeArgs) -> Result<()> {
    if args.ephemeral && args.data_dir.is_some() {
        return Err(crate::failure::Usage(
            "--ephemeral keeps no data directory: give it or --data-dir DIR, not both \
             (SWITCHBOARD_EPHEMERAL, SWITCHBOARD_DATA_DIR)"
                .into(),
        )
        .into());
    }
    if args.check {
        return check(&args);
    }
    let Loaded {
        config,
        pbx,
        warnings,
    } = load(args.config.as_deref())?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(log_format::layer(args.log_format, LogSink::stderr()))
        .init();
    if args.config.is_some() {
        warn_about_users(&config);
    }
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    // What the server needs of the configuration; the rest (as large as the PBX:
    // 30 MB for 2,000 groups of 50 extensions) is not kept while it serves.
    let endpoints = serve_webhooks::endpoints(&config);
    let try_user = try_user(&config);
    drop(config);
    let metrics_token = args
        .metrics_token_file
        .as_deref()
        .map(crate::metrics_token::read)
        .transpose()?;
    let webhook_metrics = pbx_webhooks::WebhookMetrics::new();
    let metrics = (args.metrics_listen.is_some() || metrics_token.is_some()).then(|| {
        let mut metrics = Metrics::new();
        webhook_metrics.register(metrics.registry_mut());
        Arc::new(metrics)
    });
    let (pbx, data_dir) = with_storage(pbx, &args, metrics.as_ref())?;
    let pbx = Arc::new(pbx);

    let server_config = args.security.server_config();
    let tls = args.security.tls()?;
    let simulation = !args.no_simulation && pbx.simulation_enabled();
    let scenario = scenario(&args, &pbx, simulation)?;
    let player = Arc::new(Player::new(pbx.clone()));
    let state = AppState::builder(pbx.clone(), server_config);
    let state = if simulation {
        state.simulator(player.clone())
    } else {
        state.simulation_switched_off()
    };
    let state = match metrics {
        Some(metrics) => state.metrics(metrics),
        None => state,
    };
    let state = match metrics_token {
        Some(token) => state.metrics_token(token),
        None => state,
    };
    let state = state.build();

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = TcpListener::bind(args.listen.as_str())
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let ops = match &args.metrics_listen {
            Some(at) => {
                let ops = TcpListener::bind(at.as_str())
                    .await
                    .with_context(|| format!("cannot listen on {at} (--metrics-listen)"))?;
                Some(ops)
            }
            None => None,
        };
        let metrics_addr = ops.as_ref().map(TcpListener::local_addr).transpose()?;
        // Before announcing the address: a signal right after it must find a handler.
        let shutdown = shutdown_signal()?;
        if let Some((scenario, options)) = scenario {
            tracing::info!(scenario = scenario.name(), group = %scenario.group(), "playing");
            player.start(scenario, options).await;
        }
        let webhooks =
            serve_webhooks::start(pbx.clone(), endpoints, &args.webhooks, webhook_metrics).await?;
        // Before the banner, whose first line tells scripts the server is up.
        serve_security::warn_if_exposed(addr, tls.is_some());
        let banner = Banner {
            addr,
            config: args.config.as_deref(),
            simulation,
            data_dir: data_dir.as_deref(),
            tls: tls.is_some(),
            try_user,
            metrics: metrics_addr,
            metrics_on_api: args.metrics_token_file.is_some(),
        };
        banner.print();
        let (stop_ops, ops_stopped) = tokio::sync::oneshot::channel::<()>();
        let ops = ops.map(|listener| {
            tokio::spawn(pbx_server::serve_ops(listener, state.clone(), async {
                let _ = ops_stopped.await;
            }))
        });
        let served = serve_security::serve(listener, state, tls, shutdown).await;
        drop(stop_ops);
        if let Some(ops) = ops {
            let _ = ops.await;
        }
        // Scenarios and webhooks end with the server, whether it stopped cleanly or not;
        // after a clean stop the webhooks first deliver what they hold, within
        // --webhook-drain (the API is closed by then: nothing new comes).
        player.stop_all().await;
        if served.is_ok() {
            webhooks.shutdown().await;
        } else {
            webhooks.shutdown_now().await;
        }
        served?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// A configuration as `serve` reads it.
struct Loaded {
    /// For the banner and the warnings.
    config: Config,
    /// The PBX it describes.
    pbx: MemoryPbx,
    /// What reading it found worth a warning (`file:line:col: ...`), never a secret.
    warnings: Vec<String>,
}

/// The configuration and the PBX it describes: the file's, or the built-in demo.
fn load(path: Option<&Path>) -> Result<Loaded> {
    let Some(path) = path else {
        let config =
            Config::from_toml_str(DEMO_CONFIG, DEMO_ORIGIN).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(Loaded {
            config,
            pbx: MemoryPbx::demo(),
            warnings: Vec::new(),
        });
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let origin = path.display().to_string();
    // Its message names the file, the line and the cause already.
    let (pbx, config, warnings) =
        MemoryPbx::from_toml_str_with_config(&text, &origin).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Loaded {
        config,
        pbx,
        warnings: warnings.iter().map(ToString::to_string).collect(),
    })
}

/// `serve --check`: every problem of the configuration, the scenario, the
/// speed and the TLS files, in one report; `Ok` when there is none. Opens no
/// listener and not the data directory (a running server holds its lock).
fn check(args: &ServeArgs) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    let loaded = match load(args.config.as_deref()) {
        Ok(loaded) => Some(loaded),
        Err(error) => {
            problems.extend(error.to_string().lines().map(str::to_owned));
            None
        }
    };
    let config_warnings = loaded
        .as_ref()
        .map(|loaded| loaded.warnings.clone())
        .unwrap_or_default();
    if let Some(Loaded { pbx, .. }) = &loaded {
        let simulation = !args.no_simulation && pbx.simulation_enabled();
        if let Err(error) = scenario(args, pbx, simulation) {
            problems.extend(error.to_string().lines().map(str::to_owned));
        }
    } else if args.scenario.is_some() {
        problems.push(
            "--scenario: not checked, since the configuration it plays on has problems".into(),
        );
    }
    if let Err(error) = args.security.tls() {
        problems.push(format!("{error:#}"));
    }
    problems.extend(args.webhooks.problems());
    if let Some(at) = &args.metrics_listen
        && at.parse::<SocketAddr>().is_err()
        && !at.contains(':')
    {
        problems.push(format!(
            "--metrics-listen {at:?}: not an address (HOST:PORT)"
        ));
    }
    if let Some(path) = &args.metrics_token_file
        && let Err(error) = crate::metrics_token::read(path)
    {
        problems.push(format!("{error:#}"));
    }
    if args.listen.parse::<SocketAddr>().is_err() && !args.listen.contains(':') {
        problems.push(format!(
            "--listen {:?}: not an address (HOST:PORT)",
            args.listen
        ));
    }
    if !problems.is_empty() {
        let warnings: String = config_warnings
            .iter()
            .map(|warning| format!("\nwarning: {warning}"))
            .collect();
        anyhow::bail!(
            "{} problem{} found:\n{}{warnings}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n")
        );
    }
    let Some(Loaded { config, .. }) = loaded else {
        return Ok(());
    };
    let mut out = std::io::stdout().lock();
    let what = match &args.config {
        Some(path) => path.display().to_string(),
        None => format!("the built-in demo ({DEMO_ORIGIN})"),
    };
    let _ = writeln!(out, "{what}: OK");
    // The demo's plain passwords are on purpose.
    let warnings = if args.config.is_some() {
        user_warnings(&config)
    } else {
        Vec::new()
    };
    for warning in warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    for warning in config_warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    Ok(())
}

/// What is worth a warning about who can log in: nobody, or with plain passwords.
fn user_warnings(config: &Config) -> Vec<&'static str> {
    let mut warnings = Vec::new();
    let users = config
        .groups
        .iter()
        .flat_map(|g| &g.extensions)
        .filter(|e| e.password.is_some() || e.password_hash.is_some())
        .count();
    if users == 0 {
        warnings.push(
            "no extension has a password or password_hash: nobody can log in, \
             every request will be answered 401",
        );
    }
    if config.allow_plain_passwords {
        warnings.push(
            "allow_plain_passwords is on: the configuration may hold passwords in clear \
             text; store hashes instead (switchboard hash-password, docs/security.md)",
        );
    }
    warnings
}

/// Logs [`user_warnings`] at start.
fn warn_about_users(config: &Config) {
    for warning in user_warnings(config) {
        tracing::warn!("{warning}");
    }
}

/// The `-u` of the banner's curl line: a user of the configuration with its
/// password when it is written in it, `NUMBER:PASSWORD` for a user with a
/// hashed password, `USER:PASSWORD` when there is no user at all.
fn try_user(config: &Config) -> String {
    let users = || {
        config
            .groups
            .iter()
            .flat_map(|g| &g.extensions)
            .filter(|e| e.password.is_some() || e.password_hash.is_some())
    };
    // The demo's best-known user first, else the first with a plain password.
    let plain = users()
        .filter(|e| e.password.is_some())
        .min_by_key(|e| e.number != "203");
    if let Some(user) = plain
        && let Some(password) = &user.password
        && !password.contains(|c: char| c == '\'' || c.is_control())
    {
        return format!("{}:{password}", user.number);
    }
    match users().next() {
        Some(user) => format!("{}:PASSWORD", user.number),
        None => "USER:PASSWORD".to_owned(),
    }
}

/// Plugs the data directory's durable storage into `pbx`, unless `--ephemeral`;
/// returns the directory.
fn with_storage(
    pbx: MemoryPbx,
    args: &ServeArgs,
    metrics: Option<&Arc<Metrics>>,
) -> Result<(MemoryPbx, Option<PathBuf>)> {
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
    let mut options = storage_options(args);
    if let Some(metrics) = metrics.cloned() {
        options.on_commit = Some(pbx_storage_sqlite::CommitObserver::new(move |commit| {
            metrics.storage_committed(commit.writes, commit.duration);
        }));
    }
    // Its message names the directory or file and the cause already.
    let storage = SqliteStorage::open_with(&dir, options).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((pbx.with_storage(Arc::new(storage)), Some(dir)))
}

/// The data directory's store options the flags set (the metrics hook aside).
fn storage_options(args: &ServeArgs) -> pbx_storage_sqlite::Options {
    let mut options = pbx_storage_sqlite::Options::default();
    options.accept_empty_database = args.accept_empty_database;
    options.cache_bytes = args.storage_cache_bytes;
    options
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
    /// `USER:PASSWORD` for the curl line ([`try_user`]).
    try_user: String,
    /// Where `--metrics-listen` serves.
    metrics: Option<SocketAddr>,
    /// Whether `/metrics` is on the API's listener too (`--metrics-token-file`).
    metrics_on_api: bool,
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
        writeln!(out, "console: {scheme}://{reachable}/console/")?;
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
        if let Some(metrics) = self.metrics {
            writeln!(out, "Metrics: http://{metrics}/metrics (health: /health)")?;
        }
        if self.metrics_on_api {
            writeln!(
                out,
                "Metrics: {scheme}://{reachable}/metrics with the bearer token of --metrics-token-file"
            )?;
        }
        writeln!(out, "Try it:")?;
        // A private CA (or a self-signed certificate) must be named to curl.
        let cacert = if self.tls { " --cacert CA.pem" } else { "" };
        writeln!(
            out,
            "  curl{cacert} -u '{}' -H 'Content-Type: text/xml' --data '<?xml version=\"1.0\"?><methodCall><methodName>get_extensions</methodName></methodCall>' {url}",
            self.try_user
        )?;
        if self.tls {
            writeln!(
                out,
                "  (CA.pem: the CA that signed --tls-cert, or that certificate itself when \
                 self-signed; leave --cacert out for a publicly trusted certificate)"
            )?;
        } else {
            writeln!(out, "  python3 fixtures/interop/sample.py {url}")?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_toml_str(text, "test.toml").expect("a valid configuration")
    }

    const PLAIN_201: &str = r#"
        allow_plain_passwords = true
        [[group]]
        name = "Acme"
        [[group.extension]]
        number = "201"
        name = "Alice"
        password = "alice-pw"
    "#;

    fn banner_text(try_user: String, tls: bool) -> String {
        let banner = Banner {
            addr: "127.0.0.1:3339".parse().expect("an address"),
            config: Some(Path::new("pbx.toml")),
            simulation: true,
            data_dir: None,
            tls,
            try_user,
            metrics: None,
            metrics_on_api: false,
        };
        let mut out = Vec::new();
        banner.details(&mut out).expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_storage_cache_bound_has_a_flag_and_the_stores_default() {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Args {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let parse = |extra: &[&str]| {
            let args = Args::try_parse_from(std::iter::once("serve").chain(extra.iter().copied()))
                .expect("valid flags");
            storage_options(&args.serve).cache_bytes
        };
        assert_eq!(
            parse(&[]),
            pbx_storage_sqlite::Options::default().cache_bytes
        );
        assert_eq!(parse(&["--storage-cache-bytes", "0"]), 0);
        assert_eq!(parse(&["--storage-cache-bytes", "1048576"]), 1 << 20);
        assert!(Args::try_parse_from(["serve", "--storage-cache-bytes", "-1"]).is_err());
    }

    #[test]
    fn the_try_it_line_uses_a_user_of_the_configuration_not_203() {
        let text = banner_text(try_user(&config(PLAIN_201)), false);
        assert!(text.contains("curl -u '201:alice-pw' "), "{text}");
        assert!(!text.contains("203"), "{text}");
        // The demo's own 203 stays the one shown for the demo.
        let demo = config(DEMO_CONFIG);
        assert_eq!(try_user(&demo), "203:203");
    }

    #[test]
    fn the_try_it_line_has_a_placeholder_password_when_passwords_are_hashed() {
        let hashed = config(&format!(
            r#"
            [[group]]
            name = "Acme"
            [[group.extension]]
            number = "204"
            name = "Dora"
            password_hash = "{}"
            "#,
            pbx_backend_memory::hash_password(
                "secret",
                pbx_backend_memory::HashCost {
                    memory_kib: 64,
                    iterations: 1,
                    parallelism: 1
                }
            )
            .expect("a hash")
        ));
        assert_eq!(try_user(&hashed), "204:PASSWORD");
        let nobody = config("[[group]]\nname = \"Acme\"\n");
        assert_eq!(try_user(&nobody), "USER:PASSWORD");
    }

    #[test]
    fn the_try_it_line_names_a_ca_under_tls() {
        let text = banner_text("201:x".into(), true);
        assert!(text.contains("curl --cacert CA.pem -u '201:x' "), "{text}");
        assert!(text.contains("https://127.0.0.1:3339/RPC2"), "{text}");
        let text = banner_text("201:x".into(), false);
        assert!(!text.contains("--cacert"), "{text}");
    }

    #[test]
    fn the_banner_names_the_operator_console() {
        let text = banner_text("201:x".into(), false);
        assert!(
            text.contains("console: http://127.0.0.1:3339/console/"),
            "{text}"
        );
        let text = banner_text("201:x".into(), true);
        assert!(
            text.contains("console: https://127.0.0.1:3339/console/"),
            "{text}"
        );
    }

    #[test]
    fn a_configuration_without_users_or_with_plain_passwords_is_warned_about() {
        let warnings = user_warnings(&config(PLAIN_201));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("allow_plain_passwords"),
            "{warnings:?}"
        );
        let warnings = user_warnings(&config("[[group]]\nname = \"Acme\"\n"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("nobody can log in"), "{warnings:?}");
    }
}
