//! The checks every [`Storage`] passes: [`check_storage`].
//!
//! [`MemoryStorage`](crate::MemoryStorage) runs them in this crate's tests,
//! and a durable store (`pbx-storage-sqlite`) in its own, so that every store
//! keeps the same promises.
//!
//! ```
//! use pbx_user_data::{MemoryStorage, check_storage};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! check_storage(&MemoryStorage::new()).await?;
//! # Ok::<(), String>(())
//! # }).unwrap();
//! ```

use pbx_model::{EntityId, EntityKind, EntityRef, Favorite, FavoriteSize};

use crate::{Storage, StorageError};

/// Runs every storage check against `storage`, which must be empty. Checks use
/// users and groups of their own, so they do not see each other. `Err` names
/// the first check that failed and why.
pub async fn check_storage(storage: &dyn Storage) -> Result<(), String> {
    missing_keys_are_none(storage)
        .await
        .map_err(in_check("missing keys"))?;
    set_overwrites(storage).await.map_err(in_check("set"))?;
    key_spaces_are_per_user(storage)
        .await
        .map_err(in_check("key spaces"))?;
    values_are_kept_exactly(storage)
        .await
        .map_err(in_check("values"))?;
    all_is_sorted_by_key(storage)
        .await
        .map_err(in_check("all"))?;
    quota_counts_only_new_keys(storage)
        .await
        .map_err(in_check("quota"))?;
    set_many_is_all_or_nothing(storage)
        .await
        .map_err(in_check("set_many"))?;
    delete_frees_quota(storage)
        .await
        .map_err(in_check("delete"))?;
    favorites_are_replaced_whole(storage)
        .await
        .map_err(in_check("favorites"))?;
    all_is_bounded(storage)
        .await
        .map_err(in_check("all within max_bytes"))?;
    Ok(())
}

fn in_check(name: &'static str) -> impl Fn(String) -> String {
    move |e| format!("storage check {name:?}: {e}")
}

type Checked = Result<(), String>;

fn s(text: &str) -> String {
    text.to_owned()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (s(k), s(v))).collect()
}

fn ok<T>(what: &str, r: Result<T, StorageError>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: unexpected error: {e}"))
}

/// Every key of `user`'s, without a bound.
async fn all(st: &dyn Storage, user: String) -> Result<Vec<(String, String)>, StorageError> {
    st.all(user, usize::MAX).await
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Checked {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}

fn expect_quota(what: &str, r: Result<(), StorageError>, max: usize) -> Checked {
    match r {
        Err(StorageError::QuotaExceeded { max_keys }) if max_keys == max => Ok(()),
        other => Err(format!(
            "{what}: got {other:?}, expected QuotaExceeded {{ max_keys: {max} }}"
        )),
    }
}

async fn missing_keys_are_none(st: &dyn Storage) -> Checked {
    expect_eq(
        "get of a user with no keys",
        ok("get", st.get(s("m1"), s("k")).await)?,
        None,
    )?;
    expect_eq(
        "all of a user with no keys",
        ok("all", all(st, s("m1")).await)?,
        vec![],
    )?;
    ok("delete of a missing key", st.delete(s("m1"), s("k")).await)?;
    ok("set_many of nothing", st.set_many(s("m1"), vec![], 0).await)?;
    expect_eq(
        "all after writing nothing",
        ok("all", all(st, s("m1")).await)?,
        vec![],
    )
}

async fn set_overwrites(st: &dyn Storage) -> Checked {
    ok("set", st.set(s("s1"), s("k"), s("1"), 10).await)?;
    expect_eq(
        "get after set",
        ok("get", st.get(s("s1"), s("k")).await)?,
        Some(s("1")),
    )?;
    ok("overwrite", st.set(s("s1"), s("k"), s("2"), 10).await)?;
    expect_eq(
        "get after overwrite",
        ok("get", st.get(s("s1"), s("k")).await)?,
        Some(s("2")),
    )?;
    expect_eq(
        "all after overwrite",
        ok("all", all(st, s("s1")).await)?,
        pairs(&[("k", "2")]),
    )
}

async fn key_spaces_are_per_user(st: &dyn Storage) -> Checked {
    ok("set", st.set(s("p1"), s("k"), s("mine"), 10).await)?;
    ok("set", st.set(s("p2"), s("k"), s("theirs"), 10).await)?;
    expect_eq(
        "p1's key",
        ok("get", st.get(s("p1"), s("k")).await)?,
        Some(s("mine")),
    )?;
    ok("delete", st.delete(s("p2"), s("k")).await)?;
    expect_eq(
        "p1's key after p2 deleted theirs",
        ok("get", st.get(s("p1"), s("k")).await)?,
        Some(s("mine")),
    )?;
    expect_eq("p2's keys", ok("all", all(st, s("p2")).await)?, vec![])
}

async fn values_are_kept_exactly(st: &dyn Storage) -> Checked {
    let big = "x".repeat(64 * 1024);
    let values = [
        ("empty", ""),
        ("spaces", "  both ends  "),
        ("lines", "a\r\nb\nc\rd\t"),
        ("unicode", "Grüße, 世界 👋 \u{202e}"),
        ("markup", "<value><string>&amp;</string></value>"),
        ("big", big.as_str()),
    ];
    for (key, value) in values {
        ok("set", st.set(s("v1"), s(key), s(value), 100).await)?;
    }
    for (key, value) in values {
        expect_eq(
            key,
            ok("get", st.get(s("v1"), s(key)).await)?,
            Some(s(value)),
        )?;
    }
    let unicode_key = "clé 🔑 end";
    ok("set", st.set(s("v1"), s(unicode_key), s("k"), 100).await)?;
    expect_eq(
        "a key with unicode",
        ok("get", st.get(s("v1"), s(unicode_key)).await)?,
        Some(s("k")),
    )
}

async fn all_is_sorted_by_key(st: &dyn Storage) -> Checked {
    let keys = ["b", "a", "é", "B", "a.b", "aa", "Z", "~", "10", "9"];
    for k in keys {
        ok("set", st.set(s("a1"), s(k), format!("v{k}"), 100).await)?;
    }
    let mut want: Vec<(String, String)> = keys.iter().map(|k| (s(k), format!("v{k}"))).collect();
    want.sort();
    expect_eq(
        "all, in byte order of the keys",
        ok("all", all(st, s("a1")).await)?,
        want,
    )
}

async fn quota_counts_only_new_keys(st: &dyn Storage) -> Checked {
    ok(
        "within quota",
        st.set_many(s("q1"), pairs(&[("a", "1"), ("b", "2")]), 2)
            .await,
    )?;
    ok(
        "an overwrite at the quota",
        st.set(s("q1"), s("a"), s("3"), 2).await,
    )?;
    expect_quota(
        "a new key at the quota",
        st.set(s("q1"), s("c"), s("9"), 2).await,
        2,
    )?;
    expect_quota(
        "an overwrite with a new key at the quota",
        st.set_many(s("q1"), pairs(&[("a", "9"), ("c", "9")]), 2)
            .await,
        2,
    )?;
    expect_eq(
        "keys after refused writes",
        ok("all", all(st, s("q1")).await)?,
        pairs(&[("a", "3"), ("b", "2")]),
    )?;
    // A quota lowered below what a user holds still allows overwrites.
    ok(
        "an overwrite above a lowered quota",
        st.set(s("q1"), s("b"), s("4"), 1).await,
    )?;
    expect_quota(
        "a new key above a lowered quota",
        st.set(s("q1"), s("d"), s("9"), 1).await,
        1,
    )
}

async fn set_many_is_all_or_nothing(st: &dyn Storage) -> Checked {
    ok(
        "set_many",
        st.set_many(s("n1"), pairs(&[("a", "1")]), 3).await,
    )?;
    expect_quota(
        "three new keys with room for two",
        st.set_many(s("n1"), pairs(&[("x", "1"), ("y", "2"), ("z", "3")]), 3)
            .await,
        3,
    )?;
    expect_eq(
        "keys after a refused set_many",
        ok("all", all(st, s("n1")).await)?,
        pairs(&[("a", "1")]),
    )?;
    // A repeated new key counts once and keeps its last value.
    ok(
        "a repeated key",
        st.set_many(
            s("n1"),
            pairs(&[("c", "1"), ("c", "2"), ("a", "x"), ("d", "4")]),
            3,
        )
        .await,
    )?;
    expect_eq(
        "keys after a set_many with a repeated key",
        ok("all", all(st, s("n1")).await)?,
        pairs(&[("a", "x"), ("c", "2"), ("d", "4")]),
    )
}

async fn delete_frees_quota(st: &dyn Storage) -> Checked {
    ok("set", st.set(s("d1"), s("a"), s("1"), 1).await)?;
    expect_quota("a second key", st.set(s("d1"), s("b"), s("2"), 1).await, 1)?;
    ok("delete", st.delete(s("d1"), s("a")).await)?;
    expect_eq(
        "get after delete",
        ok("get", st.get(s("d1"), s("a")).await)?,
        None,
    )?;
    ok(
        "a key in the freed room",
        st.set(s("d1"), s("b"), s("2"), 1).await,
    )?;
    ok("delete again", st.delete(s("d1"), s("a")).await)?;
    expect_eq(
        "all after delete",
        ok("all", all(st, s("d1")).await)?,
        pairs(&[("b", "2")]),
    )
}

async fn favorites_are_replaced_whole(st: &dyn Storage) -> Checked {
    let fav = |slot, kind, id, size| Favorite {
        entity: EntityRef {
            kind,
            id: EntityId(id),
        },
        slot,
        size,
    };
    let (ext, queue, att) = (
        EntityKind::Extension,
        EntityKind::Queue,
        EntityKind::Attendant,
    );
    let (single, double) = (FavoriteSize::Single, FavoriteSize::Double);
    expect_eq(
        "a group with no favorites",
        ok("favorites", st.favorites(s("G1")).await)?,
        vec![],
    )?;
    let list = vec![
        fav(3, queue, 7, double),
        fav(1, ext, 7, single),
        fav(2, att, 1, single),
    ];
    ok("replace", st.replace_favorites(s("G1"), list).await)?;
    let sorted = vec![
        fav(1, ext, 7, single),
        fav(2, att, 1, single),
        fav(3, queue, 7, double),
    ];
    expect_eq(
        "favorites, by slot",
        ok("favorites", st.favorites(s("G1")).await)?,
        sorted.clone(),
    )?;
    ok(
        "another group's",
        st.replace_favorites(s("G2"), vec![fav(9, ext, 1, double)])
            .await,
    )?;
    expect_eq(
        "G1's after G2 replaced theirs",
        ok("favorites", st.favorites(s("G1")).await)?,
        sorted,
    )?;
    ok(
        "replace",
        st.replace_favorites(s("G1"), vec![fav(5, ext, 2, single)])
            .await,
    )?;
    expect_eq(
        "after a replacement",
        ok("favorites", st.favorites(s("G1")).await)?,
        vec![fav(5, ext, 2, single)],
    )?;
    ok("clear", st.replace_favorites(s("G1"), vec![]).await)?;
    expect_eq(
        "after clearing",
        ok("favorites", st.favorites(s("G1")).await)?,
        vec![],
    )?;
    expect_eq(
        "G2's",
        ok("favorites", st.favorites(s("G2")).await)?,
        vec![fav(9, ext, 1, double)],
    )
}

async fn all_is_bounded(st: &dyn Storage) -> Checked {
    // 1 + 5 + 2 + 1 = 9 bytes; "é" is two bytes of UTF-8.
    ok("set", st.set(s("b1"), s("a"), s("12345"), 10).await)?;
    ok("set", st.set(s("b1"), s("é"), s("x"), 10).await)?;
    let whole = pairs(&[("a", "12345"), ("é", "x")]);
    expect_eq(
        "all within exactly its size",
        ok("all", st.all(s("b1"), 9).await)?,
        whole,
    )?;
    match st.all(s("b1"), 8).await {
        Err(StorageError::TooLarge { max_bytes: 8 }) => {}
        other => {
            return Err(format!(
                "all of 9 bytes within 8: got {other:?}, expected TooLarge {{ max_bytes: 8 }}"
            ));
        }
    }
    expect_eq(
        "all of a user with no keys within 0 bytes",
        ok("all", st.all(s("b2"), 0).await)?,
        vec![],
    )
}
