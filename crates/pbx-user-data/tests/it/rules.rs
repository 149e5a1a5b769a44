//! `UserData`'s rules: what every backend that delegates to it answers.

use pbx_model::{AdminGroupId, EntityId, EntityKind, EntityRef, Favorite, FavoriteSize};
use pbx_user_data::{ErrorKind, StorageLimits, UserData, UserDataError};

fn small() -> UserData {
    UserData::in_memory(StorageLimits {
        max_key_bytes: 4,
        max_value_bytes: 8,
        max_keys: 2,
    })
}

fn kind<T: std::fmt::Debug>(r: Result<T, UserDataError>) -> ErrorKind {
    r.expect_err("the operation must fail").kind()
}

fn fav(id: u32, slot: u32) -> Favorite {
    Favorite {
        entity: EntityRef {
            kind: EntityKind::Queue,
            id: EntityId(id),
        },
        slot,
        size: FavoriteSize::Double,
    }
}

#[tokio::test]
async fn keys_and_values_are_checked_before_the_store_sees_them() {
    let data = small();
    assert_eq!(
        kind(data.dict_set("u", "", "v").await),
        ErrorKind::InvalidInput
    );
    let long_key = data.dict_set("u", "12345", "v").await.unwrap_err();
    assert_eq!(long_key.kind(), ErrorKind::LimitReached);
    assert_eq!(long_key.to_string(), "key longer than 4 bytes");
    let long_value = data.dict_set("u", "k", "123456789").await.unwrap_err();
    assert_eq!(long_value.to_string(), "value longer than 8 bytes");
    // One bad pair refuses the whole batch.
    let batch = vec![("a".into(), "1".into()), ("b".into(), "123456789".into())];
    assert_eq!(
        kind(data.dict_set_many("u", batch).await),
        ErrorKind::LimitReached
    );
    assert_eq!(data.get_all("u", usize::MAX).await.unwrap(), vec![]);
}

#[tokio::test]
async fn the_quota_and_missing_keys_answer_in_api_terms() {
    let data = small();
    data.dict_set_many(
        "u",
        vec![("a".into(), "1".into()), ("b".into(), "2".into())],
    )
    .await
    .unwrap();
    let quota = data.dict_set("u", "c", "3").await.unwrap_err();
    assert!(matches!(
        quota,
        UserDataError::QuotaExceeded { max_keys: 2 }
    ));
    assert_eq!(quota.to_string(), "storage quota reached: at most 2 keys");
    let missing = data.dict_get("u", "zz").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(missing.to_string(), "no such key: zz");
    // A key too long to have been stored is simply not there.
    assert_eq!(
        kind(data.dict_get("u", "toolong").await),
        ErrorKind::NotFound
    );
    data.dict_delete("u", "toolong").await.unwrap();
    assert_eq!(
        kind(data.dict_delete("u", "").await),
        ErrorKind::InvalidInput
    );
    data.dict_delete("u", "a").await.unwrap();
    data.dict_set("u", "c", "3").await.unwrap();
    assert_eq!(
        data.get_all("u", usize::MAX).await.unwrap(),
        vec![("b".into(), "2".into()), ("c".into(), "3".into())]
    );
}

#[tokio::test]
async fn favorites_are_checked_against_the_backends_group() {
    let data = small();
    let group = AdminGroupId::new("Alpha");
    let ours = |e: EntityRef| e.id.0 < 10;
    data.set_favorites(&group, vec![fav(2, 3), fav(1, 1)], ours)
        .await
        .unwrap();
    let want = vec![fav(1, 1), fav(2, 3)];
    assert_eq!(data.get_favorites(&group, ours).await.unwrap(), want);

    let zero = data.set_favorites(&group, vec![fav(1, 0)], ours).await;
    assert!(matches!(zero, Err(UserDataError::SlotZero)));
    let twice = data
        .set_favorites(&group, vec![fav(1, 4), fav(2, 4)], ours)
        .await
        .unwrap_err();
    assert_eq!(twice.to_string(), "slot 4 is used twice");
    assert_eq!(twice.kind(), ErrorKind::InvalidInput);
    let foreign = data
        .set_favorites(&group, vec![fav(1, 1), fav(42, 2)], ours)
        .await
        .unwrap_err();
    assert_eq!(foreign.kind(), ErrorKind::NotFound);
    assert_eq!(foreign.to_string(), "no such queue: 42");
    assert_eq!(data.get_favorites(&group, ours).await.unwrap(), want);

    // Entities the group no longer has are not shown.
    let fewer = |e: EntityRef| e.id.0 == 2;
    assert_eq!(
        data.get_favorites(&group, fewer).await.unwrap(),
        vec![fav(2, 3)]
    );
    // Another group's list is its own.
    let other = AdminGroupId::new("Beta");
    assert_eq!(data.get_favorites(&other, ours).await.unwrap(), vec![]);
}
