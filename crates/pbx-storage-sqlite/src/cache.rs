//! The read cache: users' keys and groups' favorites held in memory, so that a
//! read of data already read once costs a lock and a lookup instead of two
//! thread hand-offs and a SQLite query.
//!
//! The storage is the only writer of its directory (the lock says so), so the
//! database changes only through the writer thread, which tells the cache what
//! each transaction did once it ended ([`Cache::committed`]): a write committed
//! is applied; a write that failed for another reason than the quota drops the
//! entry (the next read asks the database); a refused quota changed nothing,
//! and neither did a batch the witness refused before it began (not told). A
//! read never sees a value before its write is committed, and a read after an
//! acknowledgement sees it, since the cache is told before the writer replies.
//! A write committed and then refused (the files went missing meanwhile) is
//! applied too: the readers' connections would show it as well.
//!
//! Entries are loaded lazily, one whole user (or group) at a time, by the
//! reader threads. A load can race with a commit: the reader's snapshot may
//! predate it. Every commit bumps a counter of the name's bucket, and a load is
//! kept only when that counter did not move while it read, so a stale snapshot
//! answers its own (concurrent) read but never enters the cache.
//!
//! Memory is bounded ([`Options::cache_bytes`](crate::Options::cache_bytes)):
//! a user or group larger than an eighth of the bound is never held (its reads
//! go to the database), and entries are dropped, oldest load first, to make
//! room for a new one.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

use pbx_model::Favorite;
use pbx_user_data::StorageError;
use rusqlite::Connection;

use crate::ops::{self, WriteOp};

/// Buckets of the commit counters: a commit to one name invalidates the
/// loads of the names that share its bucket, so more buckets means fewer
/// loads thrown away under heavy writes.
const BUCKETS: usize = 1024;

/// What a name and its entry cost beyond their text, roughly: map nodes,
/// `String` headers, the eviction queue's copy of the name.
const OVERHEAD: usize = 96;

/// A user's keys, as loaded (sorted by key, as `all` answers them).
pub(crate) type Keys = BTreeMap<String, String>;

/// What the cache holds of one user or group.
#[derive(Debug)]
enum Slot<T> {
    /// The whole of its data, as committed.
    Held(T),
    /// Known to be larger than an entry may be: read from the database.
    TooLarge,
}

/// Which of the two name spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Space {
    Users,
    Groups,
}

/// The read cache of one storage.
#[derive(Debug)]
pub(crate) struct Cache {
    max_bytes: usize,
    max_entry_bytes: usize,
    hasher: RandomState,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<String, (Slot<Keys>, usize)>,
    groups: HashMap<String, (Slot<Vec<Favorite>>, usize)>,
    /// Names in the order they were loaded, for eviction; a name may be
    /// listed after its entry is gone (skipped then).
    order: VecDeque<(Space, String)>,
    bytes: usize,
    commits: Vec<u64>,
}

/// A cache lookup's outcome.
pub(crate) enum Lookup<T> {
    /// Answered from memory.
    Hit(T),
    /// Not held: load it, then [`Cache::keep_user`] / [`Cache::keep_group`]
    /// with this ticket.
    Miss(Ticket),
    /// Too large to hold: read from the database.
    Bypass,
}

/// The commit counter of a name's bucket when its load began.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    bucket: usize,
    commits: u64,
}

/// What a reader thread loaded for a user: all the keys, or `None` when they
/// take more than an entry may.
pub(crate) type LoadedUser = Option<Keys>;

impl Cache {
    /// A cache of at most `max_bytes` (0: hold nothing).
    pub(crate) fn new(max_bytes: usize) -> Cache {
        Cache {
            max_bytes,
            max_entry_bytes: max_bytes / 8,
            hasher: RandomState::new(),
            inner: Mutex::new(Inner {
                commits: vec![0; BUCKETS],
                ..Inner::default()
            }),
        }
    }

    /// The most one user's keys may take to be held: what a load reads at most.
    pub(crate) fn max_entry_bytes(&self) -> usize {
        self.max_entry_bytes
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change below is made whole under the lock before it is
        // released; a panic in between cannot happen on these plain maps, and
        // if it did the worst is an entry that is dropped at the next commit.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bucket(&self, space: Space, name: &str) -> usize {
        let mut h = self.hasher.build_hasher();
        space.hash(&mut h);
        name.hash(&mut h);
        (h.finish() % BUCKETS as u64) as usize
    }

    fn ticket(&self, inner: &Inner, space: Space, name: &str) -> Ticket {
        let bucket = self.bucket(space, name);
        Ticket {
            bucket,
            commits: inner.commits[bucket],
        }
    }

    /// Looks `user` up, answering with `read` over the held keys.
    pub(crate) fn user<T>(&self, user: &str, read: impl FnOnce(&Keys) -> T) -> Lookup<T> {
        if self.max_bytes == 0 {
            return Lookup::Bypass;
        }
        let inner = self.lock();
        match inner.users.get(user) {
            Some((Slot::Held(keys), _)) => Lookup::Hit(read(keys)),
            Some((Slot::TooLarge, _)) => Lookup::Bypass,
            None => Lookup::Miss(self.ticket(&inner, Space::Users, user)),
        }
    }

    /// Looks `group`'s favorites up.
    pub(crate) fn group(&self, group: &str) -> Lookup<Vec<Favorite>> {
        if self.max_bytes == 0 {
            return Lookup::Bypass;
        }
        let inner = self.lock();
        match inner.groups.get(group) {
            Some((Slot::Held(list), _)) => Lookup::Hit(list.clone()),
            Some((Slot::TooLarge, _)) => Lookup::Bypass,
            None => Lookup::Miss(self.ticket(&inner, Space::Groups, group)),
        }
    }

    /// Keeps what a load of `user` read, unless a commit touched its bucket
    /// since `ticket` was taken.
    pub(crate) fn keep_user(&self, user: &str, ticket: Ticket, loaded: &LoadedUser) {
        let mut inner = self.lock();
        if inner.commits[ticket.bucket] != ticket.commits || inner.users.contains_key(user) {
            return;
        }
        let (slot, bytes) = match loaded {
            Some(keys) => (Slot::Held(keys.clone()), user_bytes(user, keys)),
            None => (Slot::TooLarge, OVERHEAD + user.len()),
        };
        inner.bytes += bytes;
        inner.users.insert(user.to_owned(), (slot, bytes));
        inner.order.push_back((Space::Users, user.to_owned()));
        self.shrink(&mut inner);
    }

    /// Keeps what a load of `group` read, unless a commit touched its bucket
    /// since `ticket` was taken.
    pub(crate) fn keep_group(&self, group: &str, ticket: Ticket, loaded: &[Favorite]) {
        let mut inner = self.lock();
        if inner.commits[ticket.bucket] != ticket.commits || inner.groups.contains_key(group) {
            return;
        }
        let bytes = group_bytes(group, loaded);
        let slot = if bytes > self.max_entry_bytes {
            Slot::TooLarge
        } else {
            Slot::Held(loaded.to_vec())
        };
        inner.bytes += bytes;
        inner.groups.insert(group.to_owned(), (slot, bytes));
        inner.order.push_back((Space::Groups, group.to_owned()));
        self.shrink(&mut inner);
    }

    /// What the writer learnt from a batch, before it replies to anyone:
    /// `outcomes[i]` is the final outcome of `ops[i]` (missing ones were not
    /// acknowledged either way).
    pub(crate) fn committed(&self, ops: &[&WriteOp], outcomes: &[Result<(), StorageError>]) {
        if self.max_bytes == 0 {
            return;
        }
        let mut inner = self.lock();
        for (i, op) in ops.iter().enumerate() {
            let (space, name) = match op {
                WriteOp::Set { user, .. } | WriteOp::Delete { user, .. } => (Space::Users, user),
                WriteOp::ReplaceFavorites { group, .. } => (Space::Groups, group),
            };
            let bucket = self.bucket(space, name);
            inner.commits[bucket] = inner.commits[bucket].wrapping_add(1);
            match outcomes.get(i) {
                Some(Ok(())) => self.apply(&mut inner, op),
                // Refused before anything was written.
                Some(Err(StorageError::QuotaExceeded { .. })) => {}
                // Not known to be as the database is: forget it.
                _ => forget(&mut inner, space, name),
            }
        }
        self.shrink(&mut inner);
    }

    fn apply(&self, inner: &mut Inner, op: &WriteOp) {
        match op {
            WriteOp::Set { user, entries, .. } => {
                let Some((Slot::Held(keys), bytes)) = inner.users.get_mut(user) else {
                    return;
                };
                for (key, value) in entries {
                    keys.insert(key.clone(), value.clone());
                }
                let now = user_bytes(user, keys);
                let before = std::mem::replace(bytes, now);
                inner.bytes = inner.bytes - before + now;
                if now > self.max_entry_bytes {
                    forget(inner, Space::Users, user);
                }
            }
            WriteOp::Delete { user, key } => {
                let Some((Slot::Held(keys), bytes)) = inner.users.get_mut(user) else {
                    return;
                };
                keys.remove(key);
                let now = user_bytes(user, keys);
                let before = std::mem::replace(bytes, now);
                inner.bytes = inner.bytes - before + now;
            }
            WriteOp::ReplaceFavorites { group, favorites } => {
                if !inner.groups.contains_key(group) {
                    return;
                }
                let mut list = favorites.clone();
                // As the database answers them.
                list.sort_by_key(|f| f.slot);
                let now = group_bytes(group, &list);
                if now > self.max_entry_bytes {
                    forget(inner, Space::Groups, group);
                    return;
                }
                if let Some((slot, bytes)) = inner.groups.get_mut(group) {
                    *slot = Slot::Held(list);
                    let before = std::mem::replace(bytes, now);
                    inner.bytes = inner.bytes - before + now;
                }
            }
        }
    }

    /// Drops the oldest loads until the cache fits its bound.
    fn shrink(&self, inner: &mut Inner) {
        while inner.bytes > self.max_bytes {
            let Some((space, name)) = inner.order.pop_front() else {
                break;
            };
            forget(inner, space, &name);
        }
        // Names whose entries were dropped by a failed write stay queued until
        // they come up; keep the queue within a few times the entries held.
        let held = inner.users.len() + inner.groups.len();
        if inner.order.len() > 4 * held + 64 {
            let Inner {
                order,
                users,
                groups,
                ..
            } = inner;
            order.retain(|(space, name)| match space {
                Space::Users => users.contains_key(name),
                Space::Groups => groups.contains_key(name),
            });
        }
    }

    /// How many bytes the cache counts as held, for tests.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

fn forget(inner: &mut Inner, space: Space, name: &str) {
    let bytes = match space {
        Space::Users => inner.users.remove(name).map(|(_, b)| b),
        Space::Groups => inner.groups.remove(name).map(|(_, b)| b),
    };
    inner.bytes -= bytes.unwrap_or(0);
}

fn user_bytes(user: &str, keys: &Keys) -> usize {
    keys.iter().fold(OVERHEAD + user.len(), |n, (k, v)| {
        n.saturating_add(OVERHEAD + k.len() + v.len())
    })
}

fn group_bytes(group: &str, list: &[Favorite]) -> usize {
    OVERHEAD + group.len() + std::mem::size_of_val(list)
}

/// A reader thread's load of `user`: every key, or `None` when they take more
/// than `max_bytes` (counted in SQL first, so a full quota is not copied).
pub(crate) fn load_user(
    conn: &Connection,
    user: &str,
    max_bytes: usize,
) -> rusqlite::Result<LoadedUser> {
    Ok(ops::all(conn, user, max_bytes)?.map(|all| all.into_iter().collect()))
}

/// The keys' and values' bytes, as [`Storage::all`](pbx_user_data::Storage::all)
/// counts them against its bound: `None` when `keys` pass `max_bytes`.
pub(crate) fn all(keys: &Keys, max_bytes: usize) -> Option<Vec<(String, String)>> {
    let mut total = 0usize;
    for (k, v) in keys {
        total = total.saturating_add(k.len()).saturating_add(v.len());
        if total > max_bytes {
            return None;
        }
    }
    Some(keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

#[cfg(test)]
mod tests {
    use pbx_model::{EntityId, EntityKind, EntityRef, FavoriteSize};

    use super::*;

    fn set(user: &str, key: &str, value: &str) -> WriteOp {
        WriteOp::Set {
            user: user.into(),
            entries: vec![(key.into(), value.into())],
            max_keys: 100,
        }
    }

    fn keys(pairs: &[(&str, &str)]) -> LoadedUser {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        )
    }

    fn get(cache: &Cache, user: &str, key: &str) -> Option<Option<String>> {
        match cache.user(user, |keys| keys.get(key).cloned()) {
            Lookup::Hit(v) => Some(v),
            _ => None,
        }
    }

    fn load(cache: &Cache, user: &str, loaded: &LoadedUser) {
        let Lookup::Miss(ticket) = cache.user(user, |_| ()) else {
            panic!("{user} is held already");
        };
        cache.keep_user(user, ticket, loaded);
    }

    #[test]
    fn a_load_that_raced_a_commit_is_not_kept() {
        let cache = Cache::new(1 << 20);
        let Lookup::Miss(ticket) = cache.user("203", |_| ()) else {
            panic!("empty cache");
        };
        // The reader's snapshot predates this commit.
        let op = set("203", "k", "new");
        cache.committed(&[&op], &[Ok(())]);
        cache.keep_user("203", ticket, &keys(&[("k", "old")]));
        assert_eq!(get(&cache, "203", "k"), None, "the stale load was kept");

        load(&cache, "203", &keys(&[("k", "new")]));
        assert_eq!(get(&cache, "203", "k"), Some(Some("new".into())));
    }

    #[test]
    fn only_committed_writes_change_what_is_held() {
        let cache = Cache::new(1 << 20);
        load(&cache, "203", &keys(&[("k", "v1")]));
        let (a, b, c) = (
            set("203", "k", "v2"),
            set("203", "q", "x"),
            set("203", "k", "v3"),
        );
        cache.committed(
            &[&a, &b],
            &[Ok(()), Err(StorageError::QuotaExceeded { max_keys: 1 })],
        );
        assert_eq!(get(&cache, "203", "k"), Some(Some("v2".into())));
        assert_eq!(get(&cache, "203", "q"), Some(None));

        // A failed commit: the entry is dropped, the next read asks the database.
        let failure = StorageError::Failed("disk".into());
        cache.committed(&[&c], &[Err(failure)]);
        assert_eq!(get(&cache, "203", "k"), None);
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = Cache::new(8 * 1024);
        for i in 0..100 {
            let user = format!("u{i}");
            load(&cache, &user, &keys(&[("key", &"v".repeat(200))]));
            assert!(cache.bytes() <= 8 * 1024, "{} after {user}", cache.bytes());
        }
        // The latest loads are held, the oldest were dropped.
        assert!(get(&cache, "u99", "key").is_some());
        assert!(get(&cache, "u0", "key").is_none());

        // A user larger than an entry may be is read from the database.
        load(&cache, "big", &None);
        assert!(matches!(cache.user("big", |_| ()), Lookup::Bypass));
        // And a held user that grows past it stops being held.
        load(&cache, "grows", &keys(&[]));
        let op = set("grows", "k", &"v".repeat(2000));
        cache.committed(&[&op], &[Ok(())]);
        assert!(matches!(cache.user("grows", |_| ()), Lookup::Miss(_)));
        assert!(cache.bytes() <= 8 * 1024);
    }

    #[test]
    fn favorites_are_held_sorted_by_slot_as_the_database_answers() {
        let cache = Cache::new(1 << 20);
        let Lookup::Miss(ticket) = cache.group("G") else {
            panic!("empty cache");
        };
        cache.keep_group("G", ticket, &[]);
        let favorite = |slot| Favorite {
            entity: EntityRef {
                kind: EntityKind::Extension,
                id: EntityId(7),
            },
            slot,
            size: FavoriteSize::Single,
        };
        let op = WriteOp::ReplaceFavorites {
            group: "G".into(),
            favorites: vec![favorite(3), favorite(1)],
        };
        cache.committed(&[&op], &[Ok(())]);
        let Lookup::Hit(list) = cache.group("G") else {
            panic!("G is held");
        };
        assert_eq!(list, vec![favorite(1), favorite(3)]);
    }

    #[test]
    fn a_zero_bound_holds_nothing() {
        let cache = Cache::new(0);
        assert!(matches!(cache.user("203", |_| ()), Lookup::Bypass));
        assert!(matches!(cache.group("G"), Lookup::Bypass));
    }
}
