//! Tests of the user-data layer: the storage checks on the in-memory store,
//! the rules of `UserData`, and what a bounded `get_all` costs.

mod rules;
mod size;

use pbx_user_data::{MemoryStorage, check_storage};

#[tokio::test]
async fn memory_storage_passes_the_storage_checks() {
    if let Err(failure) = check_storage(&MemoryStorage::new()).await {
        panic!("{failure}");
    }
}
