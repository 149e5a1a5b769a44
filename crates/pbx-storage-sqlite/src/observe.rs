//! [`CommitObserver`]: what the writer reports after each commit, so that a
//! server can measure its storage (a histogram of commit times) without this
//! crate knowing any metrics library.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One group commit, as the writer reports it to [`Options::on_commit`](crate::Options::on_commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Commit {
    /// The writes in the transaction (each in its own savepoint), whether
    /// each succeeded or not.
    pub writes: usize,
    /// From `BEGIN` to the end of `COMMIT`, the fsync included (and, when the
    /// group failed as a whole, the retries of its writes one by one).
    pub duration: Duration,
}

/// A function called after every commit, on the writer thread: keep it quick
/// (count, observe a histogram), since the next commit waits for it. A panic
/// in it is caught and logged, and the writes are acknowledged as usual.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use pbx_storage_sqlite::{CommitObserver, Options};
///
/// let commits = Arc::new(AtomicUsize::new(0));
/// let counted = commits.clone();
/// let mut options = Options::default();
/// options.on_commit = Some(CommitObserver::new(move |_commit| {
///     counted.fetch_add(1, Ordering::Relaxed);
/// }));
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct CommitObserver(Arc<dyn Fn(&Commit) + Send + Sync>);

impl CommitObserver {
    /// An observer calling `observe` after each commit.
    pub fn new(observe: impl Fn(&Commit) + Send + Sync + 'static) -> Self {
        Self(Arc::new(observe))
    }

    pub(crate) fn committed(&self, commit: &Commit) {
        let observe = std::panic::AssertUnwindSafe(|| (self.0)(commit));
        if std::panic::catch_unwind(observe).is_err() {
            tracing::error!("the storage's commit observer panicked");
        }
    }
}

impl fmt::Debug for CommitObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CommitObserver(..)")
    }
}
