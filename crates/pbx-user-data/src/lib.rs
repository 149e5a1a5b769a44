//! PBXpress user data on its own: users' `dict_*` keys and admin groups'
//! favorites, for any PBX backend.
//!
//! - [`Storage`]: where the data lives (one key space per user, one favorites
//!   list per group), with its error [`StorageError`]; [`MemoryStorage`] keeps
//!   it in memory, `pbx-storage-sqlite` on disk.
//! - [`StorageLimits`]: key and value sizes and the key quota.
//! - [`UserData`]: SPEC.md's rules on top of any store (empty and oversized
//!   keys and values, the quota, a `get_all` bounded in bytes, favorites'
//!   slots and membership), failing with [`UserDataError`]. The simulated PBX
//!   delegates to it, and so can any vendor's backend: `pbx-backend` turns a
//!   `UserDataError` into a `BackendError` with `?`.
//! - [`check_storage`]: the checks every store passes.
//!
//! It knows nothing of PBX calls, XML-RPC or HTTP, and needs neither the
//! simulator nor an async runtime of its own.
//!
//! ```
//! use pbx_model::{AdminGroupId, EntityId, EntityKind, EntityRef, Favorite, FavoriteSize};
//! use pbx_user_data::{ErrorKind, StorageLimits, UserData};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let data = UserData::in_memory(StorageLimits::default());
//! data.dict_set("201", "crm.url", "https://crm.example/").await?;
//! assert_eq!(data.dict_get("201", "crm.url").await?, "https://crm.example/");
//! assert_eq!(data.dict_get("202", "crm.url").await.unwrap_err().kind(), ErrorKind::NotFound);
//!
//! // The backend says which entities its group has.
//! let alpha = AdminGroupId::new("Alpha");
//! let ours = |e: EntityRef| e.kind == EntityKind::Extension && e.id.0 <= 6;
//! let favorite = |id| Favorite {
//!     entity: EntityRef { kind: EntityKind::Extension, id: EntityId(id) },
//!     slot: 1,
//!     size: FavoriteSize::Single,
//! };
//! data.set_favorites(&alpha, vec![favorite(2)], ours).await?;
//! let refused = data.set_favorites(&alpha, vec![favorite(99)], ours).await;
//! assert_eq!(refused.unwrap_err().to_string(), "no such extension: 99");
//! assert_eq!(data.get_favorites(&alpha, ours).await?, vec![favorite(2)]);
//!
//! // An answer is bounded in bytes (keys and values together).
//! assert_eq!(data.get_all("201", 1024).await?.len(), 1);
//! assert_eq!(data.get_all("201", 8).await.unwrap_err().kind(), ErrorKind::LimitReached);
//! # Ok::<(), pbx_user_data::UserDataError>(())
//! # }).unwrap();
//! ```

mod checks;
mod rules;
mod storage;

pub use checks::check_storage;
pub use rules::{ErrorKind, UserData, UserDataError};
pub use storage::{MemoryStorage, Storage, StorageError, StorageLimits};

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
