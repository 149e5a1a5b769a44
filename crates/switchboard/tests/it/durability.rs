//! Durable storage end to end: what the server acknowledged survives a restart
//! and a SIGKILL in the middle of a storm of concurrent writes; the data
//! directory is created, locked, and refused with one line when unusable; data
//! lost outside the server (the directory deleted, the lock file deleted, the
//! database truncated) is refused, never served or acknowledged.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pbx_client::Client;
use pbx_model::{EntityKind, Favorite, FavoriteSize};
use xmlrpc_codec::MethodResponse;

use super::{PATIENCE, Server, call, fails, wait};

/// Acknowledged writes the storm reaches before the server is killed.
const ACKNOWLEDGED_BEFORE_KILL: usize = 150;

/// Concurrent writers in the storm.
const WRITERS: usize = 8;

/// A bound on each writer, should the server never be killed.
const MAX_WRITES_EACH: u64 = 5_000;

impl Server {
    /// Kills the server with SIGKILL: no shutdown, no flush; returns its stderr.
    fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL");
        let status = wait(&mut self.child);
        assert!(!status.success(), "killed: {status}");
        self.stderr.take().expect("collected once").join().unwrap()
    }

    /// A client of this server logged in as `user` (password = number, as in the demo).
    fn client(&self, user: &str) -> Client {
        let url = self
            .url
            .replacen("http://", &format!("http://{user}:{user}@"), 1);
        Client::builder(&url)
            .timeout(PATIENCE)
            .build()
            .expect("a client")
    }
}

fn data_dir(root: &tempfile::TempDir) -> String {
    root.path().join("data").display().to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_server_keeps_its_data_in_the_data_directory_it_creates() {
    let server = Server::start(&[]);
    let data = server.data.as_ref().expect("the helper's own directory");
    let db = data.path().join("data/switchboard.db");
    assert!(db.is_file(), "{} created on first start", db.display());
    assert!(data.path().join("data/switchboard.lock").is_file());
    server.stop();
}

#[cfg(target_os = "linux")]
#[test]
fn the_default_data_directory_is_under_xdg_data_home() {
    let home = tempfile::tempdir().unwrap();
    let mut child = super::switchboard()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("XDG_DATA_HOME", home.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    // The banner up to its data line.
    while !banner.contains("Data: ") {
        let before = banner.len();
        std::io::BufRead::read_line(&mut stdout, &mut banner).unwrap();
        assert!(banner.len() > before, "the banner ended: {banner}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let dir = home.path().join("switchboard");
    assert!(
        banner.contains(&format!("Data: {} ", dir.display())),
        "{banner}"
    );
    assert!(dir.join("switchboard.db").is_file());
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused_in_one_line() {
    let root = tempfile::tempdir().unwrap();
    let dir = data_dir(&root);
    let first = Server::start(&["--data-dir", &dir]);
    let stderr = fails(&["serve", "--listen", "127.0.0.1:0", "--data-dir", &dir]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "switchboard: the data directory {dir} is in use: another switchboard server holds its lock"
        )),
        "{stderr}"
    );
    // The first one is unharmed.
    assert!(matches!(
        call(&first.url, "get_all"),
        MethodResponse::Success(_)
    ));
    first.stop();
    // And once it is gone, the directory is free.
    Server::start(&["--data-dir", &dir]).stop();
}

#[test]
fn ephemeral_keeps_nothing_and_conflicts_with_data_dir() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(&["--ephemeral"]);
    assert!(server.data.is_none());
    server.stop();
    let stderr = super::switchboard()
        .args(["serve", "--ephemeral", "--data-dir", &data_dir(&root)])
        .output()
        .unwrap();
    assert_eq!(stderr.status.code(), Some(2), "a usage error");
    assert!(!root.path().join("data").exists());
}

/// Start-up failures, one line each naming the directory or the file.
#[test]
fn an_unusable_data_directory_is_one_line_and_a_failure() {
    let root = tempfile::tempdir().unwrap();
    let serve = |dir: &Path| {
        let dir = dir.display().to_string();
        let stderr = fails(&["serve", "--listen", "127.0.0.1:0", "--data-dir", &dir]);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&dir), "{stderr} names {dir}");
        stderr
    };

    // A file where the directory should be.
    let file = root.path().join("file");
    std::fs::write(&file, "").unwrap();
    let stderr = serve(&file);
    assert!(stderr.ends_with("is not a directory\n"), "{stderr}");

    // A database that is garbage.
    let garbage = root.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("switchboard.db"), vec![0x5a; 8192]).unwrap();
    let stderr = serve(&garbage);
    assert!(
        stderr.contains("is corrupt or not a switchboard database"),
        "{stderr}"
    );

    // A database from a newer switchboard.
    let newer = root.path().join("newer");
    let dir = newer.display().to_string();
    Server::start(&["--data-dir", &dir]).stop();
    let db = newer.join("switchboard.db");
    set_user_version(&db, 1000);
    let stderr = serve(&newer);
    assert!(
        stderr.contains("has schema version 1000, newer than this switchboard's"),
        "{stderr}"
    );
}

/// Sets the database's schema version as a newer switchboard would, with the
/// `sqlite3` format's header field (offset 60, big-endian), to need no SQLite here.
fn set_user_version(db: &Path, version: u32) {
    let mut bytes = std::fs::read(db).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"), "a closed database");
    bytes[60..64].copy_from_slice(&version.to_be_bytes());
    std::fs::write(db, bytes).unwrap();
}

/// What one writer of the storm did: every write it sent, whether acknowledged.
#[derive(Debug, Default)]
struct Log {
    /// `dict_set` of a fresh key: key → value.
    set: Vec<(String, String, bool)>,
    /// `dict_set_many` of three fresh keys.
    many: Vec<(Vec<(String, String)>, bool)>,
    /// The last acknowledged overwrite of the writer's counter key.
    counter: Option<u64>,
    /// The last acknowledged favorites list (its slot encodes its number).
    favorites: Option<u32>,
}

/// One writer: writes until the server is gone, logging every outcome. The
/// writer that sees the storm's [`ACKNOWLEDGED_BEFORE_KILL`]th acknowledgement
/// kills the server at once, while the others' writes are in flight.
async fn writer(
    client: Client,
    id: usize,
    acked: Arc<AtomicUsize>,
    server: Arc<Mutex<Server>>,
    extension: Favorite,
) -> Log {
    let mut log = Log::default();
    let ack = || {
        if acked.fetch_add(1, Ordering::SeqCst) + 1 == ACKNOWLEDGED_BEFORE_KILL {
            let mut server = server.lock().unwrap_or_else(PoisonError::into_inner);
            server.child.kill().expect("SIGKILL");
        }
    };
    for i in 0..MAX_WRITES_EACH {
        let outcome = match i % 4 {
            0 => {
                let (key, value) = (format!("w{id}.set.{i}"), format!("value {id}/{i} ✓"));
                let result = client.dict_set(&key, &value).await;
                log.set.push((key, value, result.is_ok()));
                result
            }
            1 => {
                let entries: Vec<(String, String)> = ["a", "b", "c"]
                    .iter()
                    .map(|part| (format!("w{id}.many.{i}.{part}"), format!("{id}/{i}/{part}")))
                    .collect();
                let result = client.dict_set_many(&entries).await;
                log.many.push((entries, result.is_ok()));
                result
            }
            2 => {
                let result = client
                    .dict_set(&format!("w{id}.counter"), &i.to_string())
                    .await;
                if result.is_ok() {
                    log.counter = Some(i);
                }
                result
            }
            _ => {
                // Only writer 0 writes its group's favorites; the others overwrite keys.
                if id == 0 {
                    let slot = u32::try_from(i).unwrap() + 1;
                    let list = [Favorite {
                        slot,
                        ..extension.clone()
                    }];
                    let result = client.set_favorites(&list).await;
                    if result.is_ok() {
                        log.favorites = Some(slot);
                    }
                    result
                } else {
                    client
                        .dict_set(&format!("w{id}.counter"), &i.to_string())
                        .await
                        .inspect(|()| log.counter = Some(i))
                }
            }
        };
        match outcome {
            Ok(()) => ack(),
            // The server is gone: the storm is over for this writer.
            Err(_) => break,
        }
    }
    log
}

/// The users writing in the storm: two key spaces of Acme, one of Globex.
const USERS: [&str; 3] = ["203", "201", "301"];

fn user_of(writer: usize) -> &'static str {
    USERS[writer % USERS.len()]
}

#[test]
fn every_acknowledged_write_survives_sigkill_mid_storm() {
    let root = tempfile::tempdir().unwrap();
    let dir = data_dir(&root);
    let server = Server::start(&["--data-dir", &dir]);
    let runtime = runtime();

    let extension = runtime.block_on(async {
        let entity = server
            .client("203")
            .get_extensions()
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.kind == EntityKind::Extension)
            .expect("an extension");
        Favorite {
            entity: entity.entity_ref(),
            slot: 1,
            size: FavoriteSize::Single,
        }
    });

    let acked = Arc::new(AtomicUsize::new(0));
    let clients: Vec<Client> = (0..WRITERS).map(|id| server.client(user_of(id))).collect();
    let server = Arc::new(Mutex::new(server));
    let writers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(id, client)| {
            let (acked, server) = (acked.clone(), server.clone());
            runtime.spawn(writer(client, id, acked, server, extension.clone()))
        })
        .collect();
    let logs: Vec<Log> = runtime.block_on(async {
        let mut logs = Vec::new();
        for w in writers {
            logs.push(w.await.unwrap());
        }
        logs
    });
    let server = Arc::into_inner(server).expect("the writers are done");
    let stderr = server
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .kill();
    assert!(
        acked.load(Ordering::SeqCst) >= ACKNOWLEDGED_BEFORE_KILL,
        "the storm ended before the kill; stderr:\n{stderr}"
    );

    // The same directory, after the crash.
    let server = Server::start(&["--data-dir", &dir]);
    let stored: BTreeMap<&str, BTreeMap<String, String>> = runtime.block_on(async {
        let mut stored = BTreeMap::new();
        for user in USERS {
            let all = server.client(user).get_all().await.unwrap();
            stored.insert(user, all.into_iter().collect());
        }
        stored
    });
    let favorites = runtime
        .block_on(server.client("203").get_favorites())
        .unwrap();

    let mut checked = 0;
    for (id, log) in logs.iter().enumerate() {
        let keys = &stored[user_of(id)];
        for (key, value, acknowledged) in &log.set {
            if *acknowledged {
                assert_eq!(
                    keys.get(key),
                    Some(value),
                    "acknowledged dict_set of {key} lost"
                );
                checked += 1;
            }
        }
        for (entries, acknowledged) in &log.many {
            let present: Vec<bool> = entries
                .iter()
                .map(|(k, v)| keys.get(k) == Some(v))
                .collect();
            if *acknowledged {
                assert!(
                    present.iter().all(|p| *p),
                    "acknowledged dict_set_many lost: {entries:?} {present:?}"
                );
                checked += 1;
            } else {
                assert!(
                    present.iter().all(|p| *p) || present.iter().all(|p| !*p),
                    "half a dict_set_many: {entries:?} {present:?}"
                );
            }
        }
        if let Some(last) = log.counter {
            let stored: u64 = keys[&format!("w{id}.counter")].parse().unwrap();
            assert!(
                stored >= last,
                "writer {id}'s counter went back from {last} to {stored}"
            );
        }
        if let Some(slot) = log.favorites {
            assert_eq!(favorites.len(), 1, "{favorites:?}");
            assert!(
                favorites[0].slot >= slot,
                "favorites went back from slot {slot}: {favorites:?}"
            );
        }
    }
    // Every other write of each writer is a fresh dict_set or dict_set_many.
    assert!(
        checked >= ACKNOWLEDGED_BEFORE_KILL / 2 - WRITERS,
        "only {checked} checked"
    );
    server.stop();
}

#[test]
fn a_clean_restart_keeps_keys_and_favorites() {
    let root = tempfile::tempdir().unwrap();
    let dir = data_dir(&root);
    let runtime = runtime();
    let server = Server::start(&["--data-dir", &dir]);
    let (written, favorites) = runtime.block_on(async {
        let client = server.client("203");
        client
            .dict_set("crm.url", "https://crm.example/")
            .await
            .unwrap();
        let pairs = vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), String::new()),
        ];
        client.dict_set_many(&pairs).await.unwrap();
        client.dict_delete("a").await.unwrap();
        let entity = client.get_extensions().await.unwrap()[0].entity_ref();
        let favorites = vec![Favorite {
            entity,
            slot: 4,
            size: FavoriteSize::Double,
        }];
        client.set_favorites(&favorites).await.unwrap();
        (client.get_all().await.unwrap(), favorites)
    });
    server.stop();

    let server = Server::start(&["--data-dir", &dir]);
    runtime.block_on(async {
        let client = server.client("203");
        assert_eq!(client.get_all().await.unwrap(), written);
        assert_eq!(client.get_favorites().await.unwrap(), favorites);
        assert!(
            client
                .get_all()
                .await
                .unwrap()
                .iter()
                .all(|(k, _)| k != "a")
        );
    });
    server.stop();
}

#[test]
fn writes_are_refused_when_the_data_directory_is_deleted() {
    let root = tempfile::tempdir().unwrap();
    let dir = data_dir(&root);
    let runtime = runtime();
    let server = Server::start(&["--data-dir", &dir]);
    runtime.block_on(async {
        let client = server.client("203");
        client.dict_set("before", "1").await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // Not one of them may be acknowledged: none would survive a restart.
        for i in 0..20 {
            let error = client
                .dict_set(&format!("k{i}"), "v")
                .await
                .expect_err("a write into a deleted data directory is refused");
            assert_eq!(error.fault_code(), Some(1), "{error}");
        }
    });
    let log = server.stop();
    let loud: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" ERROR ") && l.contains("was deleted while the server ran"))
        .collect();
    assert_eq!(loud.len(), 1, "said once, loudly: {log}");
    assert!(loud[0].contains("writes are refused from now on"), "{log}");
}

#[test]
fn a_deleted_lock_file_does_not_let_a_second_server_start() {
    let root = tempfile::tempdir().unwrap();
    let dir = data_dir(&root);
    let first = Server::start(&["--data-dir", &dir]);
    std::fs::remove_file(Path::new(&dir).join("switchboard.lock")).unwrap();
    let stderr = fails(&["serve", "--listen", "127.0.0.1:0", "--data-dir", &dir]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("switchboard: the data directory {dir} is in use")),
        "{stderr}"
    );
    assert!(
        matches!(call(&first.url, "get_all"), MethodResponse::Success(_)),
        "the first one is unharmed"
    );
    first.stop();
}

#[test]
fn a_database_truncated_to_nothing_is_refused_at_start() {
    let root = tempfile::tempdir().unwrap();
    let dir = data_dir(&root);
    Server::start(&["--data-dir", &dir]).stop();
    let database = Path::new(&dir).join("switchboard.db");
    std::fs::File::create(&database).unwrap(); // truncates
    let stderr = fails(&["serve", "--listen", "127.0.0.1:0", "--data-dir", &dir]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "switchboard: the database {} is empty, but ",
            database.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--accept-empty-database"), "{stderr}");
    // When told, it starts, empty.
    let server = Server::start(&["--data-dir", &dir, "--accept-empty-database"]);
    assert!(matches!(
        call(&server.url, "get_all"),
        MethodResponse::Success(_)
    ));
    server.stop();
}
