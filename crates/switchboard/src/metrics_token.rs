//! `serve --metrics-token-file`: the bearer token that opens `GET /metrics`
//! on the API's listener, read from a file only its owner may read.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use pbx_server::{MAX_METRICS_TOKEN_CHARS, MetricsToken};

/// The token in `path`: its text without surrounding whitespace (as
/// Prometheus reads its `credentials_file`), checked by [`MetricsToken::new`].
pub(crate) fn read(path: &Path) -> Result<MetricsToken> {
    let shown = path.display();
    let metadata = std::fs::metadata(path)
        .with_context(|| format!("--metrics-token-file: cannot read {shown}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "--metrics-token-file: {shown} is open to others (mode {:03o}); it must be \
                 readable by its owner only: chmod 600 {shown}",
                mode & 0o777
            );
        }
    }
    // A token is short: a large file is a wrong path, not a token.
    if metadata.len() > (MAX_METRICS_TOKEN_CHARS as u64) * 2 {
        bail!(
            "--metrics-token-file: {shown} holds {} bytes; a token has at most \
             {MAX_METRICS_TOKEN_CHARS} characters",
            metadata.len()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--metrics-token-file: cannot read {shown}"))?;
    MetricsToken::new(text.trim()).with_context(|| format!("--metrics-token-file {shown}"))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn file(text: &str, mode: u32) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn a_token_file_is_trimmed_and_must_be_private_and_long_enough() {
        let (_dir, path) = file("0123456789abcdef-token\n", 0o600);
        read(&path).expect("a good token file");

        let (_dir, path) = file("0123456789abcdef-token\n", 0o644);
        let error = format!("{:#}", read(&path).unwrap_err());
        assert!(
            error.contains("mode 644") && error.contains("chmod 600"),
            "{error}"
        );

        let (_dir, path) = file("short\n", 0o600);
        let error = format!("{:#}", read(&path).unwrap_err());
        assert!(error.contains("at least 16"), "{error}");
        assert!(!error.contains("short"), "the token stays out: {error}");

        let error = format!("{:#}", read(Path::new("/nonexistent/token")).unwrap_err());
        assert!(error.contains("/nonexistent/token"), "{error}");
    }
}
