//! The schema and its migrations, versioned by `PRAGMA user_version`.
//!
//! `MIGRATIONS[n]` takes a database from version `n` to `n + 1`, in one
//! transaction together with the new `user_version`: a crash in the middle
//! leaves the old version, whole. Migrations are only ever appended.

use rusqlite::{Connection, TransactionBehavior};

/// The schema version this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Marks the file as ours (`PRAGMA application_id`, "SWBD"), so that another
/// program's SQLite file in the data directory is refused, not migrated.
pub(crate) const APPLICATION_ID: i64 = 0x5357_4244;

const MIGRATIONS: &[&str] = &[
    // 1: users' keys and groups' favorites.
    "
    CREATE TABLE dict (
        user  TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (user, key)
    );
    CREATE TABLE favorites (
        admin_group TEXT    NOT NULL,
        slot        INTEGER NOT NULL CHECK (slot >= 1),
        kind        TEXT    NOT NULL CHECK (kind IN ('extension', 'queue', 'attendant')),
        entity_id   INTEGER NOT NULL,
        size        TEXT    NOT NULL CHECK (size IN ('single', 'double')),
        PRIMARY KEY (admin_group, slot)
    );
    CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ",
];

/// What [`check`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// Ours at `version` (0: a new, empty file).
    Ours { version: i64 },
    /// Written by a newer build.
    Newer { version: i64 },
    /// Some other program's database.
    Foreign { detail: String },
}

/// Reads the file's identity and version.
pub(crate) fn check(conn: &Connection) -> rusqlite::Result<Found> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let application_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok(match application_id {
        APPLICATION_ID if version > SCHEMA_VERSION => Found::Newer { version },
        APPLICATION_ID => Found::Ours { version },
        0 if version == 0 && tables == 0 => Found::Ours { version: 0 },
        other => Found::Foreign {
            detail: format!(
                "application id {other:#x}, schema version {version}, {tables} schema objects"
            ),
        },
    })
}

/// Brings a database of ours from `from` to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        let to = version as i64 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", to)?;
        tx.commit()?;
        // Upgrading data is news for the operator; creating the schema is not.
        if from > 0 {
            tracing::info!(from, to, "storage schema migrated");
        } else {
            tracing::debug!(version = to, "storage schema created");
        }
    }
    Ok(())
}
