//! HTTPS with a private CA, hashed passwords made by `hash-password`, and the
//! warning about plain HTTP on a public address.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Output, Stdio};

use super::{Server, collect, root, switchboard};

fn tls_fixture(name: &str) -> String {
    root()
        .join("fixtures/client-tls")
        .join(name)
        .display()
        .to_string()
}

/// Runs `switchboard ARGS` with `input` on stdin.
fn run(args: &[&str], input: &str) -> Output {
    let mut child = switchboard()
        .args(args)
        .env_remove("SWITCHBOARD_URL")
        .env_remove("SWITCHBOARD_USER")
        .env_remove("SWITCHBOARD_PASSWORD")
        .env_remove("SWITCHBOARD_CA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn https_serves_clients_that_trust_its_ca_and_no_others() {
    let cert = tls_fixture("server.pem");
    let key = tls_fixture("server.key.pem");
    let server = Server::start(&["--ephemeral", "--tls-cert", &cert, "--tls-key", &key]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let ca = tls_fixture("ca.pem");
    let url = server.url.clone();
    let trusted = run(
        &[
            "extensions",
            "--json",
            "--url",
            &url,
            "--user",
            "203",
            "--password",
            "203",
            "--ca",
            &ca,
        ],
        "",
    );
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted.stderr));
    assert!(text(&trusted.stdout).contains("Carol Chen"));
    // Without the CA the certificate is not trusted: a connection error.
    let untrusted = run(
        &[
            "extensions",
            "--url",
            &url,
            "--user",
            "203",
            "--password",
            "203",
        ],
        "",
    );
    assert_eq!(
        untrusted.status.code(),
        Some(3),
        "{}",
        text(&untrusted.stderr)
    );
    // A CA file that holds no certificate is a usage error.
    let not_pem = run(
        &[
            "extensions",
            "--url",
            &url,
            "--user",
            "203",
            "--password",
            "203",
            "--ca",
            &key,
        ],
        "",
    );
    assert_eq!(not_pem.status.code(), Some(2), "{}", text(&not_pem.stderr));
    let stderr = server.stop();
    assert!(!stderr.contains("plain HTTP"), "{stderr}");
}

#[test]
fn hash_password_reads_stdin_and_its_hash_logs_in() {
    let cheap = ["hash-password", "--memory-kib", "64", "--iterations", "1"];
    let hashed = run(&cheap, "correct horse\n");
    assert_eq!(hashed.status.code(), Some(0), "{}", text(&hashed.stderr));
    let phc = text(&hashed.stdout).trim().to_owned();
    assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
    assert!(!phc.contains("correct horse"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pbx.toml");
    std::fs::write(
        &config,
        format!(
            "[[group]]\nname = \"Acme\"\n\n[[group.extension]]\nnumber = \"201\"\n\
             name = \"Alice\"\npassword_hash = \"{phc}\"\n"
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let server = Server::start(&["--ephemeral", "--config", &config]);
    let url = server.url.clone();
    let as_201 = |password: &str| {
        run(
            &[
                "extensions",
                "--url",
                &url,
                "--user",
                "201",
                "--password",
                password,
            ],
            "",
        )
        .status
        .code()
    };
    assert_eq!(as_201("correct horse"), Some(0));
    assert_eq!(as_201("correct horse"), Some(0)); // from the cache this time
    assert_eq!(as_201("wrong"), Some(4));
    // An empty password is refused; so is a plain password without permission.
    assert_eq!(run(&["hash-password"], "\n").status.code(), Some(2));
    std::fs::write(
        dir.path().join("plain.toml"),
        "[[group]]\nname = \"Acme\"\n\n[[group.extension]]\nnumber = \"201\"\nname = \"Alice\"\npassword = \"pw\"\n",
    )
    .unwrap();
    let plain = dir.path().join("plain.toml").display().to_string();
    let refused = super::fails(&["serve", "--ephemeral", "--config", &plain]);
    assert!(refused.contains("allow_plain_passwords"), "{refused}");
    server.stop();
}

#[test]
fn plain_http_on_a_public_address_warns_at_start() {
    let mut child = switchboard()
        .args(["serve", "--ephemeral", "--listen", "0.0.0.0:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let stderr = collect(child.stderr.take().unwrap());
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("listening on http://0.0.0.0:"), "{first}");
    let _ = child.kill();
    let _ = child.wait();
    let stderr = stderr.join().unwrap();
    assert!(stderr.contains("warning: serving plain HTTP"), "{stderr}");
}
