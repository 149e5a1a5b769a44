//! The storage checks of `kit` against [`MemoryStorage`]: the same checks a
//! durable storage runs, so that both keep the same promises.

use pbx_backend_memory::{MemoryStorage, kit};

#[tokio::test]
async fn memory_storage_passes_the_storage_checks() {
    if let Err(failure) = kit::check_storage(&MemoryStorage::new()).await {
        panic!("{failure}");
    }
}
