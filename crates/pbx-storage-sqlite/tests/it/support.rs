//! Helpers shared by the tests: fresh data directories, the demo PBX on a
//! storage, and XML-RPC calls through the binding.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pbx_backend::{Caller, PbxBackend};
use pbx_backend_memory::{MemoryPbx, Player};
use pbx_handler::Handler;
use pbx_storage_sqlite::{Options, SqliteStorage};
use tempfile::TempDir;
use xmlrpc_codec::{Fault, MethodCall, Value};

/// A temporary directory holding a data directory that does not exist yet.
pub(crate) struct Scratch {
    _root: TempDir,
    pub(crate) dir: PathBuf,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("data");
        Scratch { _root: root, dir }
    }

    pub(crate) fn open(&self) -> SqliteStorage {
        open(&self.dir, Options::default())
    }

    pub(crate) fn database(&self) -> PathBuf {
        self.dir.join(pbx_storage_sqlite::DATABASE_FILE)
    }
}

pub(crate) fn open(dir: &Path, options: Options) -> SqliteStorage {
    SqliteStorage::open_with(dir, options)
        .unwrap_or_else(|e| panic!("opening {}: {e}", dir.display()))
}

/// The demo PBX keeping its user data in `storage`, behind the binding.
pub(crate) struct Demo {
    pub(crate) handler: Handler,
    /// 203 (Acme).
    pub(crate) carol: Caller,
    /// 301 (Globex).
    pub(crate) hank: Caller,
}

impl Demo {
    pub(crate) async fn on(storage: SqliteStorage) -> Demo {
        let pbx = Arc::new(MemoryPbx::demo().with_storage(Arc::new(storage)));
        let user = |n: &'static str| {
            let pbx = pbx.clone();
            async move {
                pbx.authenticate(n, n)
                    .await
                    .expect("authenticate answers")
                    .expect("a demo user")
            }
        };
        Demo {
            handler: Handler::new(pbx.clone()).with_simulator(Arc::new(Player::new(pbx.clone()))),
            carol: user("203").await,
            hank: user("301").await,
        }
    }

    /// Calls `method` as `caller` through the binding.
    pub(crate) async fn call(
        &self,
        caller: &Caller,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Value, Fault> {
        self.handler
            .call(caller, &MethodCall::new(method, params))
            .await
    }

    /// Like [`call`](Self::call), but the call must succeed.
    pub(crate) async fn ok(&self, caller: &Caller, method: &str, params: Vec<Value>) -> Value {
        match self.call(caller, method, params).await {
            Ok(v) => v,
            Err(fault) => panic!("{method}: fault {}: {}", fault.code, fault.string),
        }
    }
}

pub(crate) fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}
