//! The storage checks every `Storage` passes (`pbx_user_data::check_storage`), on
//! SQLite, and again after the database was closed and opened.

use pbx_user_data::{Storage, check_storage};

use crate::support::Scratch;

#[tokio::test]
async fn sqlite_storage_passes_the_storage_checks() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    if let Err(failure) = check_storage(&storage).await {
        panic!("{failure}");
    }
}

#[tokio::test]
async fn what_the_checks_wrote_is_there_after_reopening() {
    let scratch = Scratch::new();
    let users = ["s1", "p1", "v1", "a1", "q1", "n1", "d1", "b1"];
    let groups = ["G1", "G2"];
    let mut before = Vec::new();
    {
        let storage = scratch.open();
        check_storage(&storage).await.expect("the checks pass");
        for user in users {
            before.push(format!(
                "{user}: {:?}",
                storage.all(user.into(), usize::MAX).await.unwrap()
            ));
        }
        for group in groups {
            before.push(format!(
                "{group}: {:?}",
                storage.favorites(group.into()).await.unwrap()
            ));
        }
    }
    let storage = scratch.open();
    let mut after = Vec::new();
    for user in users {
        after.push(format!(
            "{user}: {:?}",
            storage.all(user.into(), usize::MAX).await.unwrap()
        ));
    }
    for group in groups {
        after.push(format!(
            "{group}: {:?}",
            storage.favorites(group.into()).await.unwrap()
        ));
    }
    assert_eq!(after, before);
    assert!(
        before.iter().any(|line| line.contains("Grüße")),
        "{before:?}"
    );
}
