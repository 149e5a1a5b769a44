//! The SQL of every operation: writes as [`WriteOp`]s the writer thread applies
//! inside a savepoint, reads as plain functions of a connection.

use std::collections::BTreeSet;

use pbx_model::{EntityId, EntityKind, EntityRef, Favorite, FavoriteSize};
use rusqlite::{Connection, OptionalExtension as _, params};

/// One acknowledged write.
#[derive(Debug)]
pub(crate) enum WriteOp {
    /// `set` and `set_many`: upserts, all or nothing, within the quota.
    Set {
        user: String,
        entries: Vec<(String, String)>,
        max_keys: usize,
    },
    /// `delete`.
    Delete { user: String, key: String },
    /// `replace_favorites`.
    ReplaceFavorites {
        group: String,
        favorites: Vec<Favorite>,
    },
}

/// Why a write was not applied.
#[derive(Debug)]
pub(crate) enum ApplyError {
    /// The quota would be exceeded; nothing was written.
    Quota { max_keys: usize },
    /// The database failed.
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        ApplyError::Sql(e)
    }
}

impl WriteOp {
    /// The method's name, for logs and errors.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            WriteOp::Set { entries, .. } if entries.len() == 1 => "set",
            WriteOp::Set { .. } => "set_many",
            WriteOp::Delete { .. } => "delete",
            WriteOp::ReplaceFavorites { .. } => "replace_favorites",
        }
    }

    /// Applies the write; the caller wraps it in a savepoint and rolls it back
    /// on error.
    pub(crate) fn apply(&self, conn: &Connection) -> Result<(), ApplyError> {
        match self {
            WriteOp::Set {
                user,
                entries,
                max_keys,
            } => {
                let mut exists =
                    conn.prepare_cached("SELECT 1 FROM dict WHERE user = ?1 AND key = ?2")?;
                let mut added = BTreeSet::new();
                for (key, _) in entries {
                    if !exists.exists(params![user, key])? {
                        added.insert(key.as_str());
                    }
                }
                if !added.is_empty() {
                    let held: i64 = conn
                        .prepare_cached("SELECT count(*) FROM dict WHERE user = ?1")?
                        .query_row([user], |r| r.get(0))?;
                    let held = usize::try_from(held).unwrap_or(usize::MAX);
                    if held.saturating_add(added.len()) > *max_keys {
                        return Err(ApplyError::Quota {
                            max_keys: *max_keys,
                        });
                    }
                }
                let mut upsert = conn.prepare_cached(
                    "INSERT INTO dict (user, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user, key) DO UPDATE SET value = excluded.value",
                )?;
                // In order, so that a repeated key keeps its last value.
                for (key, value) in entries {
                    upsert.execute(params![user, key, value])?;
                }
                Ok(())
            }
            WriteOp::Delete { user, key } => {
                conn.prepare_cached("DELETE FROM dict WHERE user = ?1 AND key = ?2")?
                    .execute(params![user, key])?;
                Ok(())
            }
            WriteOp::ReplaceFavorites { group, favorites } => {
                conn.prepare_cached("DELETE FROM favorites WHERE admin_group = ?1")?
                    .execute([group])?;
                let mut insert = conn.prepare_cached(
                    "INSERT INTO favorites (admin_group, slot, kind, entity_id, size)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for f in favorites {
                    insert.execute(params![
                        group,
                        f.slot,
                        f.entity.kind.as_str(),
                        f.entity.id.0,
                        f.size.as_str()
                    ])?;
                }
                Ok(())
            }
        }
    }
}

pub(crate) fn get(conn: &Connection, user: &str, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM dict WHERE user = ?1 AND key = ?2")?
        .query_row([user, key], |r| r.get(0))
        .optional()
}

/// Every key of `user`'s with its value, sorted by key; `None` when they take
/// more than `max_bytes` bytes together.
pub(crate) fn all(
    conn: &Connection,
    user: &str,
    max_bytes: usize,
) -> rusqlite::Result<Option<Vec<(String, String)>>> {
    // Summed in SQL first, so that a refused answer copies nothing out of
    // the database (a full quota is hundreds of megabytes).
    let total: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(octet_length(key) + octet_length(value)), 0)
             FROM dict WHERE user = ?1",
        )?
        .query_row([user], |r| r.get(0))?;
    if usize::try_from(total).map_or(true, |total| total > max_bytes) {
        return Ok(None);
    }
    // BINARY collation: byte order of UTF-8, the order of Rust's `String`.
    let mut select =
        conn.prepare_cached("SELECT key, value FROM dict WHERE user = ?1 ORDER BY key")?;
    let mut rows = select.query([user])?;
    let (mut all, mut used) = (Vec::new(), 0usize);
    while let Some(row) = rows.next()? {
        let (key, value): (String, String) = (row.get(0)?, row.get(1)?);
        // A write committed between the two statements may have grown the
        // data: the bound still holds for what is copied.
        used = used.saturating_add(key.len()).saturating_add(value.len());
        if used > max_bytes {
            return Ok(None);
        }
        all.push((key, value));
    }
    Ok(Some(all))
}

pub(crate) fn favorites(conn: &Connection, group: &str) -> rusqlite::Result<Vec<Favorite>> {
    conn.prepare_cached(
        "SELECT slot, kind, entity_id, size FROM favorites
         WHERE admin_group = ?1 ORDER BY slot",
    )?
    .query_map([group], |r| {
        Ok(Favorite {
            slot: r.get(0)?,
            entity: EntityRef {
                kind: name::<EntityKind>(r, 1)?,
                id: EntityId(r.get(2)?),
            },
            size: name::<FavoriteSize>(r, 3)?,
        })
    })?
    .collect()
}

/// Column `i` as one of a closed set of names. The schema's CHECKs admit only
/// known names; a row edited by hand past them is reported, not guessed at.
fn name<T>(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(i)?;
    text.parse().map_err(|e: T::Err| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}
