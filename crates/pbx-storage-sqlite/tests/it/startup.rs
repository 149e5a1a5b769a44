//! Every way a data directory can be unusable at start-up gives its own
//! one-line message naming the directory or file; a usable one is created,
//! versioned and locked.

use std::path::Path;

use pbx_storage_sqlite::{OpenError, Options, SCHEMA_VERSION, SqliteStorage};
use pbx_user_data::Storage;

use crate::support::Scratch;

/// Opening `dir` must fail; returns the message, checked to be one line that
/// names `names`.
fn fails(dir: &Path, options: Options, names: &Path) -> (OpenError, String) {
    let error = match SqliteStorage::open_with(dir, options) {
        Ok(storage) => panic!("expected a failure, opened {storage:?}"),
        Err(e) => e,
    };
    let message = error.to_string();
    assert!(!message.contains('\n'), "one line: {message:?}");
    assert!(
        message.contains(&names.display().to_string()),
        "{message:?} names {}",
        names.display()
    );
    (error, message)
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test]
async fn the_directory_is_created_on_first_start_with_the_current_schema() {
    let scratch = Scratch::new();
    let deep = scratch.dir.join("a/b");
    let storage = SqliteStorage::open(&deep).unwrap();
    storage
        .set("203".into(), "k".into(), "v".into(), 10)
        .await
        .unwrap();
    assert_eq!(storage.dir(), deep);
    drop(storage);
    let conn = raw(&deep.join(pbx_storage_sqlite::DATABASE_FILE));
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_second_storage_on_the_directory_is_refused_until_the_first_is_closed() {
    let scratch = Scratch::new();
    let first = scratch.open();
    let (error, message) = fails(&scratch.dir, Options::default(), &scratch.dir);
    assert!(matches!(error, OpenError::Locked { .. }), "{error:?}");
    assert!(
        message.contains("in use: another switchboard server"),
        "{message}"
    );
    assert!(
        message.contains(&format!("(pid {})", std::process::id())),
        "{message}"
    );
    drop(first);
    drop(scratch.open());
}

#[test]
fn a_file_in_place_of_the_directory_is_refused() {
    let scratch = Scratch::new();
    std::fs::write(&scratch.dir, "not a directory").unwrap();
    let (error, message) = fails(&scratch.dir, Options::default(), &scratch.dir);
    assert!(
        matches!(error, OpenError::NotADirectory { .. }),
        "{error:?}"
    );
    assert!(message.ends_with("is not a directory"), "{message}");

    let below = scratch.dir.join("data");
    let (error, message) = fails(&below, Options::default(), &below);
    assert!(
        matches!(
            error,
            OpenError::CreateDirectory { .. } | OpenError::Inaccessible { .. }
        ),
        "{error:?}"
    );
    assert!(
        message.starts_with("cannot create the data directory")
            || message.starts_with("cannot use the data directory"),
        "{message}"
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let scratch = Scratch::new();
    std::fs::create_dir(&scratch.dir).unwrap();
    std::fs::set_permissions(&scratch.dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads and writes whatever the mode says: there the case cannot be
    // made (the other unusable directories are covered above).
    let enforced = std::fs::read_dir(&scratch.dir).is_err();
    let outcome = SqliteStorage::open(&scratch.dir).map(drop);
    std::fs::set_permissions(&scratch.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if enforced {
        let error = outcome.expect_err("an unreadable directory is refused");
        let message = error.to_string();
        assert!(matches!(error, OpenError::Inaccessible { .. }), "{error:?}");
        assert!(
            message.starts_with(&format!(
                "cannot use the data directory {}: ",
                scratch.dir.display()
            )),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
    } else {
        outcome.expect("root opens a mode-000 directory");
    }
}

#[test]
fn garbage_in_the_database_file_is_reported_as_corrupt() {
    let scratch = Scratch::new();
    drop(scratch.open());
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(scratch.database(), garbage).unwrap();
    let (error, message) = fails(&scratch.dir, Options::default(), &scratch.database());
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error:?}");
    assert!(
        message.contains("is corrupt or not a switchboard database"),
        "{message}"
    );
    assert!(message.contains("restore it from a backup"), "{message}");
}

#[tokio::test]
async fn a_damaged_page_is_found_at_start_up() {
    let scratch = Scratch::new();
    {
        let storage = scratch.open();
        let entries = (0..400)
            .map(|i| (format!("key {i:04}"), "v".repeat(100)))
            .collect();
        storage.set_many("203".into(), entries, 1000).await.unwrap();
    }
    let mut bytes = std::fs::read(scratch.database()).unwrap();
    let page = 4096;
    assert!(bytes.len() > 4 * page, "several pages: {}", bytes.len());
    // Page 1 (the header and the schema) stays; the b-tree pages after it do not.
    for b in &mut bytes[page + 8..] {
        *b = 0xA5;
    }
    std::fs::write(scratch.database(), bytes).unwrap();
    let (error, _) = fails(&scratch.dir, Options::default(), &scratch.database());
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error:?}");
}

#[test]
fn another_programs_database_is_refused_not_migrated() {
    let scratch = Scratch::new();
    std::fs::create_dir(&scratch.dir).unwrap();
    raw(&scratch.database())
        .execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
        .unwrap();
    let (error, message) = fails(&scratch.dir, Options::default(), &scratch.database());
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error:?}");
    assert!(message.contains("not a switchboard database"), "{message}");
}

#[test]
fn a_database_from_a_newer_switchboard_is_refused() {
    let scratch = Scratch::new();
    drop(scratch.open());
    raw(&scratch.database())
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let (error, message) = fails(&scratch.dir, Options::default(), &scratch.database());
    assert!(
        matches!(error, OpenError::NewerSchema { found: 99, .. }),
        "{error:?}"
    );
    assert!(
        message.contains(&format!(
            "schema version 99, newer than this switchboard's {SCHEMA_VERSION}"
        )),
        "{message}"
    );
}

#[test]
fn too_little_free_space_at_start_up_is_a_full_disk() {
    // No disk has this much room: the check must refuse.
    let scratch = Scratch::new();
    let mut options = Options::default();
    options.min_free_bytes = u64::MAX;
    let (error, message) = fails(&scratch.dir, options, &scratch.dir);
    assert!(matches!(error, OpenError::DiskFull { .. }), "{error:?}");
    assert!(
        message.starts_with(&format!(
            "the disk holding {} is full (",
            scratch.dir.display()
        )),
        "{message}"
    );
    assert!(message.contains("KiB free, at least "), "{message}");
}

#[test]
fn a_full_disk_at_start_up_is_reported() {
    // A cap of one page stands in for a full disk: the schema cannot be written.
    let scratch = Scratch::new();
    let mut options = Options::default();
    options.max_database_bytes = Some(4096);
    let (error, message) = fails(&scratch.dir, options, &scratch.dir);
    assert!(matches!(error, OpenError::DiskFull { .. }), "{error:?}");
    assert!(
        message.starts_with(&format!(
            "the disk holding {} is full",
            scratch.dir.display()
        )),
        "{message}"
    );
}
