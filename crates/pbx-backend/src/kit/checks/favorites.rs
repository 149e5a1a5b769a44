//! `get_favorites` / `set_favorites`.

use pbx_model::{EntityId, EntityRef, Favorite, FavoriteSize};

use crate::Caller;
use crate::kit::ctx::{CheckResult, Ctx, Kind, ensure, fails, indistinguishable, ok};

fn fav(entity: EntityRef, slot: u32, size: FavoriteSize) -> Favorite {
    Favorite { entity, slot, size }
}

/// The (type, id) of `number` as `caller` sees it.
async fn entity_ref(ctx: &Ctx, caller: &Caller, number: &str) -> Result<EntityRef, String> {
    Ok(ctx.entity(caller, number).await?.entity_ref())
}

/// `caller`'s favorites, which must equal `want` (sorted by slot).
async fn expect_favorites(
    ctx: &Ctx,
    caller: &Caller,
    want: &[Favorite],
    when: &str,
) -> CheckResult {
    let got = ok(
        ctx.backend.get_favorites(caller).await,
        &format!("get_favorites as {}", caller.number()),
    )?;
    let mut sorted = want.to_vec();
    sorted.sort_by_key(|f| f.slot);
    ensure!(
        got == sorted,
        "{when}: get_favorites as {} should be {sorted:?} (by slot), is {got:?}",
        caller.number()
    );
    Ok(())
}

/// A valid list for Alpha: 201 (double, slot 1), queue 600 (slot 2), attendant 800 (slot 5).
async fn alpha_list(ctx: &Ctx, caller: &Caller) -> Result<Vec<Favorite>, String> {
    Ok(vec![
        fav(
            entity_ref(ctx, caller, "800").await?,
            5,
            FavoriteSize::Single,
        ),
        fav(
            entity_ref(ctx, caller, "201").await?,
            1,
            FavoriteSize::Double,
        ),
        fav(
            entity_ref(ctx, caller, "600").await?,
            2,
            FavoriteSize::Single,
        ),
    ])
}

/// set replaces the whole list; get returns it by slot.
pub(super) async fn round_trip(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let b = &ctx.backend;
    expect_favorites(
        &ctx,
        &alice,
        &[],
        "in the fixture, before any set_favorites",
    )
    .await?;
    let list = alpha_list(&ctx, &alice).await?;
    ok(b.set_favorites(&alice, list.clone()).await, "set_favorites")?;
    expect_favorites(&ctx, &alice, &list, "after set_favorites").await?;

    let replacement = vec![fav(
        entity_ref(&ctx, &alice, "206").await?,
        3,
        FavoriteSize::Double,
    )];
    ok(
        b.set_favorites(&alice, replacement.clone()).await,
        "set_favorites with a new list",
    )?;
    expect_favorites(&ctx, &alice, &replacement, "after replacing the list").await?;
    ok(
        b.set_favorites(&alice, Vec::new()).await,
        "set_favorites([])",
    )?;
    expect_favorites(&ctx, &alice, &[], "after set_favorites([])").await
}

/// One list per group, shared by its users, invisible to other groups.
pub(super) async fn shared_by_group(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let bob = ctx.user("202").await?;
    let grace = ctx.user("301").await?;
    let b = &ctx.backend;
    let list = alpha_list(&ctx, &alice).await?;
    ok(
        b.set_favorites(&alice, list.clone()).await,
        "set_favorites as 201",
    )?;
    expect_favorites(&ctx, &bob, &list, "after 201 set Alpha's favorites").await?;
    expect_favorites(&ctx, &grace, &[], "after 201 set Alpha's favorites").await?;

    let beta = vec![fav(
        entity_ref(&ctx, &grace, "650").await?,
        1,
        FavoriteSize::Single,
    )];
    ok(
        b.set_favorites(&grace, beta.clone()).await,
        "set_favorites as 301",
    )?;
    expect_favorites(&ctx, &grace, &beta, "after 301 set Beta's favorites").await?;
    expect_favorites(&ctx, &alice, &list, "after 301 set Beta's favorites").await?;

    let changed = vec![fav(
        entity_ref(&ctx, &bob, "202").await?,
        4,
        FavoriteSize::Single,
    )];
    ok(
        b.set_favorites(&bob, changed.clone()).await,
        "set_favorites as 202",
    )?;
    expect_favorites(
        &ctx,
        &alice,
        &changed,
        "after 202 replaced Alpha's favorites",
    )
    .await
}

/// Duplicate slots and slot 0 are refused, changing nothing.
pub(super) async fn invalid_slots(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let b = &ctx.backend;
    let list = alpha_list(&ctx, &alice).await?;
    ok(b.set_favorites(&alice, list.clone()).await, "set_favorites")?;
    let e202 = entity_ref(&ctx, &alice, "202").await?;
    let e203 = entity_ref(&ctx, &alice, "203").await?;

    let duplicate = vec![
        fav(e202, 7, FavoriteSize::Single),
        fav(e203, 7, FavoriteSize::Double),
    ];
    fails(
        b.set_favorites(&alice, duplicate).await,
        Kind::InvalidInput,
        "set_favorites with two favorites in slot 7",
    )?;
    expect_favorites(
        &ctx,
        &alice,
        &list,
        "after a refused set_favorites (duplicate slot)",
    )
    .await?;

    let zero = vec![
        fav(e202, 1, FavoriteSize::Single),
        fav(e203, 0, FavoriteSize::Single),
    ];
    fails(
        b.set_favorites(&alice, zero).await,
        Kind::InvalidInput,
        "set_favorites with a favorite in slot 0",
    )?;
    expect_favorites(
        &ctx,
        &alice,
        &list,
        "after a refused set_favorites (slot 0)",
    )
    .await
}

/// Another group's entity is NotFound, exactly like one that does not exist.
pub(super) async fn other_group_entity(ctx: Ctx) -> CheckResult {
    let alice = ctx.user("201").await?;
    let grace = ctx.user("301").await?;
    let b = &ctx.backend;
    let alpha_favorites = alpha_list(&ctx, &alice).await?;
    ok(
        b.set_favorites(&alice, alpha_favorites.clone()).await,
        "set_favorites as 201",
    )?;
    let beta_favorites = vec![fav(
        entity_ref(&ctx, &grace, "302").await?,
        3,
        FavoriteSize::Single,
    )];
    ok(
        b.set_favorites(&grace, beta_favorites.clone()).await,
        "set_favorites as 301",
    )?;
    refuses_foreign(
        &ctx,
        (&alice, "202", &alpha_favorites),
        (&grace, &["301", "650", "850"]),
        &["Beta", "Grace", "Support"],
    )
    .await?;
    // Alpha's 206 and 801 have no counterpart in Beta even with ids per group.
    refuses_foreign(
        &ctx,
        (&grace, "302", &beta_favorites),
        (&alice, &["206", "801"]),
        &["Alpha", "Frank", "Night"],
    )
    .await
}

/// `viewer` (with an entity `mine` of its own and its current `list`) names
/// each of `numbers` of `other`'s group by (type, id): NotFound exactly like
/// an id nobody has, and the list stays. A (type, id) that also names one of
/// the viewer's own entities (ids per group) is the viewer's to list; then only
/// the nonexistent id is checked.
async fn refuses_foreign(
    ctx: &Ctx,
    (viewer, mine, list): (&Caller, &str, &[Favorite]),
    (other, numbers): (&Caller, &[&str]),
    secrets: &[&str],
) -> CheckResult {
    let b = &ctx.backend;
    let mine = entity_ref(ctx, viewer, mine).await?;
    let own = ctx.entities(viewer).await?;
    let theirs = ctx.entities(other).await?;
    for number in numbers {
        let hidden = entity_ref(ctx, other, number).await?;
        // An id of the same kind that no group uses.
        let unused = own
            .iter()
            .chain(&theirs)
            .filter(|e| e.kind == hidden.kind)
            .map(|e| e.id.0)
            .max()
            .unwrap_or(0)
            .saturating_add(1000);
        let missing = EntityRef {
            kind: hidden.kind,
            id: EntityId(unused),
        };
        // A slot number that is neither id, so that blanking the id out of a
        // message cannot blank the slot too.
        let slot = (2..)
            .find(|s| *s != hidden.id.0 && *s != unused)
            .unwrap_or(2);
        let with = |e: EntityRef| {
            vec![
                fav(mine, 1, FavoriteSize::Single),
                fav(e, slot, FavoriteSize::Double),
            ]
        };
        let what = format!(
            "set_favorites as {} naming an entity of type {} by id",
            viewer.number(),
            hidden.kind.as_str()
        );
        if own.iter().any(|e| e.entity_ref() == hidden) {
            fails(
                b.set_favorites(viewer, with(missing)).await,
                Kind::NotFound,
                &format!("{what} with nonexistent {unused:?}"),
            )?;
        } else {
            let mut secrets = secrets.to_vec();
            secrets.push(number);
            indistinguishable(
                b.set_favorites(viewer, with(missing)).await,
                &[&unused.to_string()],
                b.set_favorites(viewer, with(hidden)).await,
                &[&hidden.id.to_string()],
                &secrets,
                &what,
            )?;
        }
        expect_favorites(
            ctx,
            viewer,
            list,
            &format!("after a refused set_favorites naming {number} of another group"),
        )
        .await?;
    }
    Ok(())
}
