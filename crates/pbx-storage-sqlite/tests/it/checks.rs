//! The storage checks every `Storage` passes (`pbx_backend_memory::kit`), on
//! SQLite, and again after the database was closed and opened.

use pbx_backend_memory::{Storage, kit};

use crate::support::Scratch;

#[tokio::test]
async fn sqlite_storage_passes_the_storage_checks() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    if let Err(failure) = kit::check_storage(&storage).await {
        panic!("{failure}");
    }
}

#[tokio::test]
async fn what_the_checks_wrote_is_there_after_reopening() {
    let scratch = Scratch::new();
    let users = ["s1", "p1", "v1", "a1", "q1", "n1", "d1"];
    let groups = ["G1", "G2"];
    let mut before = Vec::new();
    {
        let storage = scratch.open();
        kit::check_storage(&storage).await.expect("the checks pass");
        for user in users {
            before.push(format!(
                "{user}: {:?}",
                storage.all(user.into()).await.unwrap()
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
            storage.all(user.into()).await.unwrap()
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
