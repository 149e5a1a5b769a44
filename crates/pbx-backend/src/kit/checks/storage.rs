//! The storage plugin: `dict_*`, `get_all`.

use crate::Caller;
use crate::kit::ctx::{CheckResult, Ctx, Kind, ensure, fails, ok};

/// `caller`'s whole key space, which must equal `want`.
async fn expect_all(ctx: &Ctx, caller: &Caller, want: &[(&str, &str)], when: &str) -> CheckResult {
    let got = ok(
        ctx.backend.get_all(caller, usize::MAX).await,
        &format!("get_all as {}", caller.number()),
    )?;
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    want.sort();
    ensure!(
        got == want,
        "{when}: get_all as {} should be {}, is {}",
        caller.number(),
        show(&want),
        show(&got)
    );
    Ok(())
}

/// Key/value pairs, long values shortened.
fn show(entries: &[(String, String)]) -> String {
    let short = |s: &str| {
        if s.len() > 40 {
            format!("<{} bytes>", s.len())
        } else {
            format!("{s:?}")
        }
    };
    let parts: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}: {}", short(k), short(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// `dict_get` that must answer `want`.
async fn expect_value(ctx: &Ctx, caller: &Caller, key: &str, want: &str) -> CheckResult {
    let got = ok(
        ctx.backend.dict_get(caller, key).await,
        &format!("dict_get({key:?}) as {}", caller.number()),
    )?;
    ensure!(
        got == want,
        "dict_get({key:?}) as {} should be {want:?}, is {got:?}",
        caller.number()
    );
    Ok(())
}

/// Set, get, overwrite, delete.
pub(super) async fn round_trip(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let b = &ctx.backend;
    expect_all(&ctx, &alice, &[], "in the fixture").await?;
    fails(
        b.dict_get(&alice, "greeting").await,
        Kind::NotFound,
        "dict_get of a missing key",
    )?;
    ok(b.dict_set(&alice, "greeting", "hello").await, "dict_set")?;
    expect_value(&ctx, &alice, "greeting", "hello").await?;
    ok(
        b.dict_set(&alice, "greeting", "hi").await,
        "dict_set overwriting",
    )?;
    expect_value(&ctx, &alice, "greeting", "hi").await?;

    let (key, value) = (
        "ключ/🔑 key with spaces",
        "värde ✓\r\nline 2 <b>&amp;</b>\t ",
    );
    ok(
        b.dict_set(&alice, key, value).await,
        "dict_set of Unicode text",
    )?;
    expect_value(&ctx, &alice, key, value).await?;
    ok(
        b.dict_set(&alice, "empty", "").await,
        "dict_set of an empty value",
    )?;
    expect_value(&ctx, &alice, "empty", "").await?;
    expect_all(
        &ctx,
        &alice,
        &[("greeting", "hi"), (key, value), ("empty", "")],
        "after three dict_set",
    )
    .await?;

    ok(b.dict_delete(&alice, "greeting").await, "dict_delete")?;
    fails(
        b.dict_get(&alice, "greeting").await,
        Kind::NotFound,
        "dict_get of a deleted key",
    )?;
    ok(
        b.dict_delete(&alice, "greeting").await,
        "dict_delete of a key that no longer exists (must succeed)",
    )?;
    ok(
        b.dict_delete(&alice, "never-set").await,
        "dict_delete of a key that never existed (must succeed)",
    )?;
    expect_all(
        &ctx,
        &alice,
        &[(key, value), ("empty", "")],
        "after dict_delete",
    )
    .await
}

/// One key space per user, even within a group.
pub(super) async fn per_user(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("202").await?;
    let grace = ctx.user("301").await?;
    let b = &ctx.backend;
    ok(
        b.dict_set(&alice, "note", "alice's").await,
        "dict_set as 201",
    )?;
    fails(
        b.dict_get(&bob, "note").await,
        Kind::NotFound,
        "dict_get as 202 of a key only 201 set",
    )?;
    fails(
        b.dict_get(&grace, "note").await,
        Kind::NotFound,
        "dict_get as 301 of a key only 201 set",
    )?;
    expect_all(&ctx, &bob, &[], "after only 201 stored a key").await?;
    ok(b.dict_set(&bob, "note", "bob's").await, "dict_set as 202")?;
    expect_value(&ctx, &alice, "note", "alice's").await?;
    expect_value(&ctx, &bob, "note", "bob's").await?;
    ok(b.dict_delete(&bob, "note").await, "dict_delete as 202")?;
    expect_value(&ctx, &alice, "note", "alice's").await?;
    ok(
        b.dict_set_many(&grace, vec![("note".into(), "grace's".into())])
            .await,
        "dict_set_many as 301",
    )?;
    expect_all(
        &ctx,
        &alice,
        &[("note", "alice's")],
        "after 202 and 301 wrote the same key",
    )
    .await?;
    expect_all(&ctx, &bob, &[], "after 202 deleted its key").await?;
    expect_all(
        &ctx,
        &grace,
        &[("note", "grace's")],
        "after 301 wrote its key",
    )
    .await
}

/// All entries or nothing.
pub(super) async fn set_many_atomic(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let b = &ctx.backend;
    let limits = ctx.fixture.storage;
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    };
    ok(
        b.dict_set_many(&alice, pairs(&[("a", "1"), ("b", "2"), ("a", "3")]))
            .await,
        "dict_set_many with a repeated key",
    )?;
    expect_all(
        &ctx,
        &alice,
        &[("a", "3"), ("b", "2")],
        "after dict_set_many (last value of a repeated key wins)",
    )
    .await?;
    ok(
        b.dict_set_many(&alice, Vec::new()).await,
        "dict_set_many of nothing",
    )?;

    let too_long_value = "v".repeat(limits.max_value_bytes + 1);
    let mut batch = pairs(&[("c", "new"), ("a", "changed")]);
    batch.push(("d".into(), too_long_value));
    fails(
        b.dict_set_many(&alice, batch).await,
        Kind::LimitReached,
        "dict_set_many with one value over max_value_bytes",
    )?;
    expect_all(
        &ctx,
        &alice,
        &[("a", "3"), ("b", "2")],
        "after a refused dict_set_many (value too long): nothing written",
    )
    .await?;

    let too_long_key = "k".repeat(limits.max_key_bytes + 1);
    let mut batch = pairs(&[("c", "new"), ("b", "changed")]);
    batch.push((too_long_key, "x".into()));
    fails(
        b.dict_set_many(&alice, batch).await,
        Kind::LimitReached,
        "dict_set_many with one key over max_key_bytes",
    )?;
    expect_all(
        &ctx,
        &alice,
        &[("a", "3"), ("b", "2")],
        "after a refused dict_set_many (key too long): nothing written",
    )
    .await
}

/// Key and value sizes, in UTF-8 bytes.
pub(super) async fn size_limits(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let b = &ctx.backend;
    let limits = ctx.fixture.storage;

    let longest_key = "k".repeat(limits.max_key_bytes);
    ok(
        b.dict_set(&alice, &longest_key, "x").await,
        &format!(
            "dict_set with a key of exactly max_key_bytes ({})",
            limits.max_key_bytes
        ),
    )?;
    expect_value(&ctx, &alice, &longest_key, "x").await?;
    let long_key = "k".repeat(limits.max_key_bytes + 1);
    fails(
        b.dict_set(&alice, &long_key, "x").await,
        Kind::LimitReached,
        "dict_set with a key one byte over max_key_bytes",
    )?;
    // 'é' is two bytes: the limit counts bytes, not characters.
    let wide_ok = "é".repeat(limits.max_key_bytes / 2);
    ok(
        b.dict_set(&alice, &wide_ok, "x").await,
        "dict_set with a key of max_key_bytes bytes in two-byte characters",
    )?;
    let wide_long = "é".repeat(limits.max_key_bytes / 2 + 1);
    fails(
        b.dict_set(&alice, &wide_long, "x").await,
        Kind::LimitReached,
        "dict_set with a key of max_key_bytes / 2 + 1 two-byte characters (bytes over the limit)",
    )?;

    let largest = "v".repeat(limits.max_value_bytes);
    ok(
        b.dict_set(&alice, "big", &largest).await,
        &format!(
            "dict_set with a value of exactly max_value_bytes ({})",
            limits.max_value_bytes
        ),
    )?;
    expect_value(&ctx, &alice, "big", &largest).await?;
    fails(
        b.dict_set(&alice, "big", &format!("{largest}v")).await,
        Kind::LimitReached,
        "dict_set overwriting with a value one byte over max_value_bytes",
    )?;
    expect_value(&ctx, &alice, "big", &largest)
        .await
        .map_err(|e| format!("a refused overwrite must keep the old value: {e}"))?;
    // '€' is three bytes.
    let wide = "€".repeat(limits.max_value_bytes / 3 + 1);
    fails(
        b.dict_set(&alice, "wide", &wide).await,
        Kind::LimitReached,
        "dict_set with a value of three-byte characters whose bytes exceed max_value_bytes",
    )?;
    fails(
        b.dict_get(&alice, "wide").await,
        Kind::NotFound,
        "dict_get of a refused key",
    )?;
    expect_all(
        &ctx,
        &alice,
        &[(&longest_key, "x"), (&wide_ok, "x"), ("big", &largest)],
        "after the refused writes",
    )
    .await
}

/// At most `max_keys` keys per user.
pub(super) async fn key_quota(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("202").await?;
    let b = &ctx.backend;
    let max = ctx.fixture.storage.max_keys;
    let key = |i: usize| format!("key-{i:05}");

    for i in 0..max {
        ok(
            b.dict_set(&alice, &key(i), "x").await,
            &format!("dict_set of key {} of a quota of {max}", i + 1),
        )?;
    }
    fails(
        b.dict_set(&alice, &key(max), "x").await,
        Kind::LimitReached,
        &format!("dict_set of key {} with a quota of {max} keys", max + 1),
    )?;
    fails(
        b.dict_get(&alice, &key(max)).await,
        Kind::NotFound,
        "dict_get of the refused key",
    )?;
    ok(
        b.dict_set(&alice, &key(0), "overwritten").await,
        "dict_set overwriting a key at the quota",
    )?;
    fails(
        b.dict_set_many(&alice, vec![(key(0), "y".into()), (key(max), "y".into())])
            .await,
        Kind::LimitReached,
        "dict_set_many adding a key at the quota",
    )?;
    expect_value(&ctx, &alice, &key(0), "overwritten")
        .await
        .map_err(|e| format!("a refused dict_set_many must write nothing: {e}"))?;
    ok(
        b.dict_set_many(&alice, vec![(key(1), "y".into()), (key(2), "y".into())])
            .await,
        "dict_set_many overwriting keys at the quota",
    )?;
    ok(b.dict_delete(&alice, &key(3)).await, "dict_delete")?;
    ok(
        b.dict_set(&alice, &key(max), "x").await,
        "dict_set of a new key after a delete made room",
    )?;
    let count = ok(b.get_all(&alice, usize::MAX).await, "get_all")?.len();
    ensure!(
        count == max,
        "get_all should list {max} keys, lists {count}"
    );

    // The quota is per user, and a batch beyond it writes nothing.
    let batch: Vec<(String, String)> = (0..=max).map(|i| (key(i), "b".into())).collect();
    fails(
        b.dict_set_many(&bob, batch).await,
        Kind::LimitReached,
        &format!(
            "dict_set_many of {} new keys with a quota of {max}",
            max + 1
        ),
    )?;
    expect_all(
        &ctx,
        &bob,
        &[],
        "after a refused dict_set_many beyond the quota",
    )
    .await?;
    let batch: Vec<(String, String)> = (0..max).map(|i| (key(i), "b".into())).collect();
    ok(
        b.dict_set_many(&bob, batch).await,
        &format!("dict_set_many of {max} keys as 202 while 201 is at its quota"),
    )
}

/// get_all is sorted by key.
pub(super) async fn get_all_sorted(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let b = &ctx.backend;
    let keys = ["b", "a", "C", "a2", "é", "10", "9", "a1", "B"];
    for (i, k) in keys.iter().enumerate() {
        ok(b.dict_set(&alice, k, &i.to_string()).await, "dict_set")?;
    }
    let got = ok(b.get_all(&alice, usize::MAX).await, "get_all")?;
    let mut want: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ((*k).to_string(), i.to_string()))
        .collect();
    want.sort();
    ensure!(
        got == want,
        "get_all should list every key with its value, sorted by key (byte order): {}, is {}",
        show(&want),
        show(&got)
    );
    Ok(())
}

/// get_all within a bound on the keys' and values' bytes: refused beyond it.
pub(super) async fn get_all_bounded(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let b = &ctx.backend;
    // 6 + 11 + 4 + 6 = 27 bytes of UTF-8 ('é' is two bytes, '€' three).
    ok(b.dict_set(&alice, "crm.é", "https://x.y").await, "dict_set")?;
    ok(b.dict_set(&alice, "note", "12 €").await, "dict_set")?;
    let got = ok(
        b.get_all(&alice, 27).await,
        "get_all within exactly the 27 bytes its keys and values take",
    )?;
    ensure!(
        got.len() == 2,
        "get_all within 27 bytes should list both keys, lists {}",
        show(&got)
    );
    fails(
        b.get_all(&alice, 26).await,
        Kind::LimitReached,
        "get_all of 27 bytes of keys and values within 26",
    )?;
    let bob = ctx.user("202").await?;
    let none = ok(
        b.get_all(&bob, 0).await,
        "get_all within 0 bytes of a user with no keys",
    )?;
    ensure!(
        none.is_empty(),
        "202 has no keys, get_all lists {}",
        show(&none)
    );
    // The refusal changed nothing.
    expect_all(
        &ctx,
        &alice,
        &[("crm.é", "https://x.y"), ("note", "12 €")],
        "after a refused get_all",
    )
    .await
}
