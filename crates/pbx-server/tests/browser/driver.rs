//! Headless Chromium through chromedriver: installed from Debian's packages
//! when missing (as root, one install at a time), started on a free port,
//! and stopped with its browser when the guard drops.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};

/// How long the driver may take to come up; never reached when things work.
const STARTUP: Duration = Duration::from_secs(60);

/// Why the browser could not be had, in words that say what to do.
pub(crate) type Missing = String;

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

fn browser_binary() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(on_path)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// Installs Chromium and chromedriver from Debian when either is missing.
/// Several test runs at once install once: `flock` serialises them, and the
/// one that waited finds the packages there.
fn ensure_installed() -> Result<(), Missing> {
    if on_path("chromedriver").is_some() && browser_binary().is_some() {
        return Ok(());
    }
    let what = "the console's browser tests need Chromium and chromedriver: \
                install Debian's `chromium` and `chromium-driver` packages \
                (`apt-get update && apt-get install -y chromium chromium-driver`)";
    if !is_root() || on_path("apt-get").is_none() || on_path("flock").is_none() {
        return Err(format!(
            "{what}; they cannot be installed here (that needs root, apt-get and flock)"
        ));
    }
    let script = "command -v chromedriver >/dev/null && command -v chromium >/dev/null || \
                  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
                  -o DPkg::Lock::Timeout=600 chromium chromium-driver; }";
    let status = Command::new("flock")
        .args(["/tmp/switchboard-chromium-install.lock", "sh", "-c", script])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("{what}; running apt-get failed: {e}"))?;
    if !status.success() || on_path("chromedriver").is_none() {
        return Err(format!("{what}; installing them failed ({status})"));
    }
    Ok(())
}

/// A running chromedriver and the browser session it drives. Dropping it
/// kills the driver; [`Browser::stop`] quits the browser first.
pub(crate) struct Browser {
    driver: Child,
    pub(crate) client: Option<Client>,
}

impl Browser {
    pub(crate) async fn start() -> Result<Self, Missing> {
        tokio::task::spawn_blocking(ensure_installed)
            .await
            .map_err(|e| e.to_string())??;
        let mut command = Command::new("chromedriver");
        command
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut driver = command
            .spawn()
            .map_err(|e| format!("starting chromedriver failed: {e}"))?;
        let stdout = driver.stdout.take().expect("piped");
        let mut browser = Self {
            driver,
            client: None,
        };
        let port = tokio::time::timeout(
            STARTUP,
            tokio::task::spawn_blocking(move || {
                // "ChromeDriver was started successfully on port 40613."
                let mut lines = std::io::BufReader::new(stdout).lines();
                let port = lines.by_ref().map_while(Result::ok).find_map(|line| {
                    let rest = line.split("started successfully on port ").nth(1)?;
                    rest.trim_end_matches('.').trim().parse::<u16>().ok()
                });
                // Keep reading, or the driver blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                port
            }),
        )
        .await
        .map_err(|_| "chromedriver did not say its port".to_owned())?
        .map_err(|e| e.to_string())?
        .ok_or("chromedriver ended without saying its port")?;
        let url = format!("http://127.0.0.1:{port}");
        wait_ready(&url).await?;
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1400,1000",
                    "--force-device-scale-factor=1",
                ],
                "binary": browser_binary().unwrap_or_default(),
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .map_err(|e| format!("starting a browser session failed: {e}"))?;
        browser.client = Some(client);
        Ok(browser)
    }

    /// Ends the session (the browser quits), then the driver.
    pub(crate) async fn stop(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The session was closed by `stop` (the browser quit with it) unless
        // the harness itself failed; the driver goes now either way.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Waits until the driver's `/status` says `ready`.
async fn wait_ready(url: &str) -> Result<(), Missing> {
    use http_body_util::BodyExt as _;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<axum::body::Bytes>>();
    let uri: hyper::Uri = format!("{url}/status").parse().map_err(|_| "bad url")?;
    let ready = async {
        loop {
            if let Ok(response) = client.get(uri.clone()).await
                && let Ok(body) = response.into_body().collect().await
                && let Ok(status) = serde_json::from_slice::<serde_json::Value>(&body.to_bytes())
                && status["value"]["ready"] == true
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(STARTUP, ready)
        .await
        .map_err(|_| "chromedriver never said it was ready".to_owned())
}
