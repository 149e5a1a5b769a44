//! Configuration errors name the file, the line and the problem.
//!
//! Each `fixtures/config/bad/<name>.toml` must fail to load with exactly the
//! message in `<name>.expected` next to it. `UPDATE_EXPECT=1 cargo test`
//! rewrites the expected files; review the diff.

use std::path::{Path, PathBuf};

use pbx_backend_memory::{Config, ConfigError, MemoryPbx};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/config")
}

/// The error of loading `text` as `origin`, through every entry point.
fn error_of(text: &str, origin: &str) -> String {
    let Err(e) = MemoryPbx::from_toml_str(text, origin) else {
        panic!("{origin}: loads, but should fail");
    };
    let Err(again) = Config::from_toml_str(text, origin) else {
        panic!("{origin}: Config::from_toml_str accepts what MemoryPbx refuses");
    };
    assert_eq!(e.to_string(), again.to_string(), "{origin}");
    let Err(both) = MemoryPbx::from_toml_str_with_config(text, origin) else {
        panic!("{origin}: from_toml_str_with_config accepts what from_toml_str refuses");
    };
    assert_eq!(e.to_string(), both.to_string(), "{origin}");
    e.to_string()
}

#[test]
fn every_bad_configuration_is_reported_with_file_line_and_problem() {
    let dir = fixtures().join("bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/config/bad")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "fixtures missing from {}", dir.display());
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut mismatches = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let message = error_of(&text, &name);
        for line in message.lines() {
            let mut parts = line.splitn(4, ':');
            let (origin, l, c) = (parts.next(), parts.next(), parts.next());
            assert_eq!(origin, Some(name.as_str()), "{line}");
            assert!(
                l.is_some_and(|l| l.parse::<usize>().is_ok())
                    && c.is_some_and(|c| c.parse::<usize>().is_ok())
                    && parts.next().is_some_and(|m| m.len() > 5),
                "not `file:line:column: problem`: {line}"
            );
        }
        let expected_file = file.with_extension("expected");
        if update {
            std::fs::write(&expected_file, format!("{message}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|_| panic!("{} is missing (UPDATE_EXPECT=1)", expected_file.display()));
        if expected.trim_end() != message {
            mismatches.push(format!(
                "{name}:\n  expected: {}\n  actual:   {message}",
                expected.trim_end()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn a_file_is_named_by_its_path() {
    let path = fixtures().join("bad/duplicate-number.toml");
    let e = MemoryPbx::from_toml_file(&path).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:13:10: ", path.display())), "{e}");

    let missing = fixtures().join("bad/no-such-file.toml");
    let e = MemoryPbx::from_toml_file(&missing).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
    assert!(
        e.to_string().starts_with(&missing.display().to_string()),
        "{e}"
    );
}

#[test]
fn a_configuration_built_in_code_is_checked_too() {
    use pbx_backend_memory::{ExtensionConfig, GroupConfig, QueueConfig};
    let mut acme = GroupConfig::new("Acme");
    acme.extensions.push(ExtensionConfig::new("201", "Alice"));
    acme.queues
        .push(QueueConfig::new("600", "Sales", ["201", "202"]));
    let config = Config {
        groups: vec![acme],
        ..Config::default()
    };
    let e = MemoryPbx::new(config).unwrap_err().to_string();
    assert_eq!(
        e,
        "configuration: queue 600 of group \"Acme\": member \"202\" is not an extension of group \"Acme\""
    );
}

/// The example in docs/configuration.md is a working configuration.
#[test]
fn the_documented_example_loads() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md"),
    )
    .unwrap();
    let start = doc.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let config = Config::from_toml_str(&doc[start..end], "docs/configuration.md")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!config.groups.is_empty());
}

/// A `secret_file` the group or others may read is loaded, with a warning
/// at its line that names the file, its mode and the fix, never the secret.
#[cfg(unix)]
#[test]
fn a_webhook_secret_file_open_to_others_is_warned_about_not_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    const SECRET: &str = "the secret of a webhook, in a file";
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("hook.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let config = dir.path().join("pbx.toml");
    let text = r#"[[group]]
name = "Acme"

[[group.webhook]]
url = "https://crm.example.com/hook"
secret_file = "hook.secret"
"#;
    let origin = config.display().to_string();
    for (mode, warned) in [
        (0o644, true),
        (0o640, true),
        (0o604, true),
        (0o600, false),
        (0o400, false),
    ] {
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(mode)).unwrap();
        let (loaded, warnings) = Config::from_toml_str_with_warnings(text, &origin)
            .unwrap_or_else(|e| panic!("mode {mode:o}: {e}"));
        assert_eq!(
            loaded.groups[0].webhooks[0].secret.as_bytes(),
            SECRET.as_bytes(),
            "mode {mode:o}: the secret is loaded all the same"
        );
        if !warned {
            assert!(warnings.is_empty(), "mode {mode:o}: {warnings:?}");
            continue;
        }
        let [warning] = warnings.as_slice() else {
            panic!("mode {mode:o}: one warning, not {warnings:?}");
        };
        let warning = warning.to_string();
        let shown = secret.display();
        for part in [
            format!("{origin}:6:15: group \"Acme\": webhook secret_file {shown}"),
            format!("(mode {mode:03o})"),
            format!("chmod 600 {shown}"),
        ] {
            assert!(warning.contains(&part), "{part} in {warning}");
        }
        assert!(!warning.contains(SECRET), "{warning}");
    }
    // A secret written in the configuration itself has no file to check.
    let inline = text.replace(
        "secret_file = \"hook.secret\"",
        &format!("secret = \"{SECRET}\""),
    );
    let (_, warnings) = Config::from_toml_str_with_warnings(&inline, &origin).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
}
