//! The client configuration file and its named profiles, and how every
//! connection setting is chosen: the command line, else the environment, else the
//! profile, else the default.
//!
//! ```toml
//! # $XDG_CONFIG_HOME/switchboard/client.toml (or --client-config FILE)
//! default = "office"          # the profile used when none is named
//!
//! [profile.office]
//! url = "https://pbx.example.com:3339/RPC2"
//! user = "203"
//! password_command = "pass show pbx/203"   # its first line of output
//! ca = "office-ca.pem"                     # relative to this file's folder
//! timeout = 5                              # seconds
//!
//! [profile.lab]
//! url = "http://127.0.0.1:3339/RPC2"
//! user = "201"
//! password_file = "~/.config/switchboard/lab.password"   # chmod 600
//! ```
//!
//! The file holds no password itself: a command prints it (a password manager),
//! or a file holds it, which like an ssh key must not be readable by the group or
//! others. A profile's password is used only for the profile's user: `--user 201`
//! with the profile of 203 does not send 203's password.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use serde::Deserialize;

use crate::cli::{DEFAULT_URL, Remote};
use crate::failure::Usage;

/// How long a client waits for each answer when nothing says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variables read.
pub(crate) const ENV_URL: &str = "SWITCHBOARD_URL";
pub(crate) const ENV_USER: &str = "SWITCHBOARD_USER";
pub(crate) const ENV_PASSWORD: &str = "SWITCHBOARD_PASSWORD";
pub(crate) const ENV_CA: &str = "SWITCHBOARD_CA";
pub(crate) const ENV_PROFILE: &str = "SWITCHBOARD_PROFILE";

/// Everything needed to make the client, once every source has been consulted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Connection {
    pub(crate) url: String,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) ca: Option<PathBuf>,
    pub(crate) timeout: Duration,
}

/// The client configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    /// The profile used when none is named.
    default: Option<String>,
    #[serde(default)]
    profile: BTreeMap<String, Profile>,
}

/// One named profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    url: Option<String>,
    user: Option<String>,
    password_command: Option<String>,
    password_file: Option<PathBuf>,
    ca: Option<PathBuf>,
    timeout: Option<f64>,
}

/// The default place of the client configuration file.
pub(crate) fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("switchboard").join("client.toml"))
}

/// The connection `remote` asks for, with the process's environment and the
/// configuration file at its default place.
pub(crate) fn connection(remote: &Remote) -> Result<Connection> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    resolve(remote, &env, default_path())
}

/// The connection: `remote` (the command line) first, then `env`, then the
/// profile, then the defaults.
pub(crate) fn resolve(
    remote: &Remote,
    env: &dyn Fn(&str) -> Option<String>,
    default_file: Option<PathBuf>,
) -> Result<Connection> {
    let named = remote.profile.clone().or_else(|| env(ENV_PROFILE));
    let (profile, base) = match &remote.client_config {
        Some(path) => load(path, named.as_deref(), true)?,
        None => match default_file {
            Some(path) => load(&path, named.as_deref(), false)?,
            None if named.is_some() => {
                return Err(Usage(
                    "--profile needs a client configuration file, and this system has no \
                     configuration folder: give --client-config FILE"
                        .into(),
                )
                .into());
            }
            None => (None, PathBuf::new()),
        },
    };
    let profile = profile.unwrap_or_default();

    let url_given = remote.url.clone().or_else(|| env(ENV_URL));
    let user_given = remote.user.clone().or_else(|| env(ENV_USER));
    let password_given = remote.password.clone().or_else(|| env(ENV_PASSWORD));
    // Credentials in a URL given on the command line or in the environment beat
    // the profile's user, as any setting given there does.
    let url_has_user = url_given
        .as_deref()
        .is_some_and(|url| crate::remote::url_user(url).is_some());
    let url = url_given
        .or_else(|| profile.url.clone())
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let profile_user = if url_has_user {
        None
    } else {
        profile.user.clone()
    };
    let user = user_given.clone().or_else(|| profile_user.clone());
    // The profile's password goes with the profile's user only.
    let password = match password_given {
        Some(password) => Some(password),
        None if !url_has_user && (user_given.is_none() || user == profile_user) => {
            profile_password(&profile, &base)?
        }
        None => None,
    };
    let ca = remote
        .ca
        .clone()
        .or_else(|| env(ENV_CA).map(PathBuf::from))
        .or_else(|| profile.ca.as_ref().map(|ca| relative_to(&base, ca)));
    let timeout = match (remote.timeout, profile.timeout) {
        (Some(timeout), _) => timeout,
        (None, Some(seconds)) => Duration::from_secs_f64(seconds),
        (None, None) => DEFAULT_TIMEOUT,
    };
    Ok(Connection {
        url,
        user,
        password,
        ca,
        timeout,
    })
}

/// The profile `named` (or the file's default) of the file at `path`, and the
/// folder relative paths in it start from. A missing file is an error when it was
/// named or a profile was asked for; otherwise it is no profile.
fn load(path: &Path, named: Option<&str>, required: bool) -> Result<(Option<Profile>, PathBuf)> {
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return match named {
                None => Ok((None, base)),
                Some(name) => Err(Usage(format!(
                    "no profile {name:?}: there is no client configuration file {}",
                    path.display()
                ))
                .into()),
            };
        }
        Err(e) => {
            return Err(anyhow!(
                "cannot read the client configuration file {}: {e}",
                path.display()
            ));
        }
    };
    let file: ClientFile = toml::from_str(&text).map_err(|e| located(path, &text, &e))?;
    for (name, profile) in &file.profile {
        check(path, &text, name, profile)?;
    }
    let name = match named {
        Some(name) => Some(name.to_owned()),
        None => file.default.clone().or_else(|| {
            file.profile
                .contains_key("default")
                .then(|| "default".into())
        }),
    };
    let Some(name) = name else {
        return Ok((None, base));
    };
    match file.profile.get(&name) {
        Some(profile) => Ok((Some(profile.clone()), base)),
        None => {
            let known: Vec<&str> = file.profile.keys().map(String::as_str).collect();
            let known = if known.is_empty() {
                "it has none".to_owned()
            } else {
                format!("it has {}", known.join(", "))
            };
            Err(Usage(format!("{}: no profile {name:?} ({known})", path.display())).into())
        }
    }
}

/// A profile's settings that parse but cannot work.
fn check(path: &Path, text: &str, name: &str, profile: &Profile) -> Result<()> {
    let at = |what: &str| {
        let line = line_of(text, &format!("[profile.{name}]"))
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        anyhow!("{}{line}: profile {name}: {what}", path.display())
    };
    if profile.password_command.is_some() && profile.password_file.is_some() {
        return Err(at("give password_command or password_file, not both"));
    }
    if let Some(timeout) = profile.timeout
        && !(timeout.is_finite() && timeout > 0.0 && timeout <= 86_400.0)
    {
        return Err(at("timeout must be more than 0 and at most 86400 seconds"));
    }
    Ok(())
}

/// The 1-based line of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(start))
        .map(|i| i + 1)
}

/// A TOML error as `FILE:LINE:COLUMN: message`, on one line.
fn located(path: &Path, text: &str, error: &toml::de::Error) -> anyhow::Error {
    let message = error.message().replace('\n', " ");
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            anyhow!("{}:{line}:{column}: {message}", path.display())
        }
        None => anyhow!("{}: {message}", path.display()),
    }
}

/// `~/x` from the home folder, a relative path from `base`.
fn relative_to(base: &Path, path: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    if path.is_relative() {
        base.join(path)
    } else {
        path.to_path_buf()
    }
}

/// The profile's password, from its command or its file.
fn profile_password(profile: &Profile, base: &Path) -> Result<Option<String>> {
    if let Some(command) = &profile.password_command {
        return password_from_command(command).map(Some);
    }
    if let Some(file) = &profile.password_file {
        return password_from_file(&relative_to(base, file)).map(Some);
    }
    Ok(None)
}

/// The first line the command prints (what `pass show` prints first).
fn password_from_command(command: &str) -> Result<String> {
    #[cfg(unix)]
    let mut shell = {
        let mut shell = std::process::Command::new("sh");
        shell.arg("-c").arg(command);
        shell
    };
    #[cfg(not(unix))]
    let mut shell = {
        let mut shell = std::process::Command::new("cmd");
        shell.arg("/C").arg(command);
        shell
    };
    let output = shell
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run the password_command {command:?}"))?;
    if !output.status.success() {
        bail!(
            "the password_command {command:?} failed ({}); its messages are above",
            output.status
        );
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| anyhow!("the password_command {command:?} printed no UTF-8 text"))?;
    first_line(&text).ok_or_else(|| anyhow!("the password_command {command:?} printed no password"))
}

/// The first line of a password file, which only its owner may read.
fn password_from_file(path: &Path) -> Result<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read the password_file {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "the password_file {} is open to others (mode {:03o}); \
                 it must be readable by its owner only: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the password_file {}", path.display()))?;
    first_line(&text)
        .ok_or_else(|| anyhow!("the password_file {} holds no password", path.display()))
}

fn first_line(text: &str) -> Option<String> {
    let line = text.lines().next()?.trim_end_matches('\r');
    (!line.is_empty()).then(|| line.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const FILE: &str = "default = \"office\"\n\n\
        [profile.office]\nurl = \"http://office:3339/RPC2\"\nuser = \"203\"\n\
        password_command = \"echo s3cret; echo second-line\"\nca = \"ca.pem\"\ntimeout = 5\n\n\
        [profile.lab]\nurl = \"http://lab/RPC2\"\nuser = \"201\"\n";

    #[test]
    fn flags_beat_the_environment_which_beats_the_profile_which_beats_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "client.toml", FILE);
        let none = env_of(&[]);

        // The default profile.
        let c = resolve(&Remote::default(), &none, Some(file.clone())).unwrap();
        assert_eq!(c.url, "http://office:3339/RPC2");
        assert_eq!(c.user.as_deref(), Some("203"));
        assert_eq!(c.password.as_deref(), Some("s3cret"));
        assert_eq!(c.ca, Some(dir.path().join("ca.pem")));
        assert_eq!(c.timeout, Duration::from_secs(5));

        // The environment over the profile, a flag over the environment.
        let env = env_of(&[(ENV_URL, "http://env/RPC2"), (ENV_PROFILE, "lab")]);
        let c = resolve(&Remote::default(), &env, Some(file.clone())).unwrap();
        assert_eq!(c.url, "http://env/RPC2");
        assert_eq!(c.user.as_deref(), Some("201"));
        assert_eq!(c.password, None);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        let flags = Remote {
            url: Some("http://flag/RPC2".into()),
            profile: Some("office".into()),
            timeout: Some(Duration::from_secs(1)),
            ..Remote::default()
        };
        let c = resolve(&flags, &env, Some(file.clone())).unwrap();
        assert_eq!(c.url, "http://flag/RPC2");
        assert_eq!(c.user.as_deref(), Some("203"));
        assert_eq!(c.timeout, Duration::from_secs(1));

        // No file at all: the defaults.
        let c = resolve(
            &Remote::default(),
            &none,
            Some(dir.path().join("none.toml")),
        )
        .unwrap();
        assert_eq!(c.url, DEFAULT_URL);
        assert_eq!((c.user, c.password, c.ca), (None, None, None));
    }

    #[test]
    fn a_profiles_password_goes_with_its_own_user_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "client.toml", FILE);
        let other = Remote {
            user: Some("201".into()),
            ..Remote::default()
        };
        let c = resolve(&other, &env_of(&[]), Some(file.clone())).unwrap();
        assert_eq!(c.user.as_deref(), Some("201"));
        assert_eq!(c.password, None);
        // Credentials in a URL given on the command line replace the profile's.
        let in_url = Remote {
            url: Some("http://205:pw@h/RPC2".into()),
            ..Remote::default()
        };
        let c = resolve(&in_url, &env_of(&[]), Some(file)).unwrap();
        assert_eq!((c.user, c.password), (None, None));
    }

    #[test]
    fn errors_in_the_file_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "client.toml",
            "[profile.office]\nurl = \"http://x/\"\npasword_command = \"x\"\n",
        );
        let error = resolve(&Remote::default(), &env_of(&[]), Some(file.clone()))
            .unwrap_err()
            .to_string();
        let at = format!("{}:3:1: ", file.display());
        assert!(error.starts_with(&at), "{error}");
        assert!(error.contains("pasword_command"), "{error}");

        let both = write(
            dir.path(),
            "both.toml",
            "\n[profile.x]\npassword_command = \"a\"\npassword_file = \"b\"\n",
        );
        let error = resolve(&Remote::default(), &env_of(&[]), Some(both.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("{}:2: profile x: ", both.display())),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_profile_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "client.toml", FILE);
        let error = resolve(
            &Remote::default(),
            &env_of(&[(ENV_PROFILE, "home")]),
            Some(file),
        )
        .unwrap_err();
        assert!(error.downcast_ref::<Usage>().is_some());
        assert!(error.to_string().contains("it has lab, office"), "{error}");
        let error = resolve(
            &Remote::default(),
            &env_of(&[(ENV_PROFILE, "home")]),
            Some(dir.path().join("missing.toml")),
        )
        .unwrap_err();
        assert!(error.to_string().contains("missing.toml"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_password_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let secret = write(dir.path(), "pw", "hunter2\n");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = write(
            dir.path(),
            "client.toml",
            "[profile.default]\nuser = \"203\"\npassword_file = \"pw\"\n",
        );
        let error = resolve(&Remote::default(), &env_of(&[]), Some(file.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mode 644") && error.contains("chmod 600"),
            "{error}"
        );
        assert!(!error.contains("hunter2"), "{error}");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = resolve(&Remote::default(), &env_of(&[]), Some(file)).unwrap();
        assert_eq!(c.password.as_deref(), Some("hunter2"));
    }
}
