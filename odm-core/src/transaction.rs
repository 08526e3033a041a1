//! [`Connection::transaction`]: runs a closure in a transaction, with the driver's retry rules.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::ops::with_timeout;
use crate::session::Session;

/// How long [`Connection::transaction`] keeps retrying, like the driver's `with_transaction`.
pub const TRANSACTION_RETRY_LIMIT: Duration = Duration::from_secs(120);

/// The transaction a [`Connection::transaction`] closure runs in. Cheap to clone.
///
/// Pass its session to every operation that belongs to the transaction:
/// `users.create(u).session(&mut tx.session().await)`. An operation without it runs outside the
/// transaction; one on a model bound to another client is refused with [`Error::ForeignSession`].
#[derive(Clone)]
pub struct Transaction {
    session: Arc<tokio::sync::Mutex<Session>>,
    conn: Connection,
}

impl Transaction {
    /// The transaction's session, locked for the caller until the guard is dropped.
    pub async fn session(&self) -> SessionGuard<'_> {
        SessionGuard(self.session.lock().await)
    }

    /// The connection that runs the transaction.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("database", &self.conn.name())
            .finish()
    }
}

/// The session of a [`Transaction`], borrowed; it dereferences to [`Session`].
pub struct SessionGuard<'a>(tokio::sync::MutexGuard<'a, Session>);

impl Deref for SessionGuard<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl DerefMut for SessionGuard<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.0
    }
}

impl std::fmt::Debug for SessionGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn has_label(e: &Error, label: &str) -> bool {
    match e {
        Error::Driver(d) => d.contains_label(label),
        Error::PartialWrite { source, .. } => has_label(source, label),
        _ => false,
    }
}

impl Connection {
    /// Runs `f` in a transaction and commits it; an error from `f` aborts it, so nothing `f` wrote in
    /// the transaction stays.
    ///
    /// Follows the driver's rules: the whole closure runs again while the error is labelled
    /// `TransientTransactionError`, and the commit is retried while its outcome is labelled
    /// `UnknownTransactionCommitResult`, for at most [`TRANSACTION_RETRY_LIMIT`]. So `f` may run more
    /// than once: keep side effects outside the database out of it. The guide's
    /// [transactions](crate::guide::transactions) chapter has a runnable example.
    ///
    /// The commit is an operation of the tenant handles `f` used: when one came from a
    /// [`Fleet`](crate::Fleet) and its lease is over or revoked (the tenant is being moved, suspended
    /// or erased), the transaction is aborted and the answer is [`Error::LeaseExpired`](crate::Error::LeaseExpired);
    /// a move's cut-over waits for a commit already under way. (A commit made on the driver's session
    /// directly, `session.inner().commit_transaction()`, is not checked.)
    ///
    /// ```no_run
    /// # use odm_core::prelude::*;
    /// # async fn run<T: Model + Clone>(conn: Connection, a: T, b: T) -> odm_core::Result<()> {
    /// let accounts = conn.model::<T>();
    /// conn.transaction(|tx| {
    ///     let (accounts, a, b) = (&accounts, a.clone(), b.clone());
    ///     async move {
    ///         let mut s = tx.session().await;
    ///         accounts.create(a).session(&mut s).await?;
    ///         accounts.create(b).session(&mut s).await?;
    ///         Ok(())
    ///     }
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<R, F, Fut>(&self, mut f: F) -> Result<R>
    where
        F: FnMut(Transaction) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        let started = Instant::now();
        let tx = Transaction {
            session: Arc::new(tokio::sync::Mutex::new(self.start_session().await?)),
            conn: self.clone(),
        };
        let timeout = self.operation_timeout();
        'attempt: loop {
            with_timeout(timeout, async {
                let mut session = tx.session().await;
                session.track_leases();
                Ok(session.inner().start_transaction().await?)
            })
            .await?;
            let value = match f(tx.clone()).await {
                Ok(value) => value,
                Err(e) => {
                    // The abort fails when the closure ended the transaction itself; `e` is what counts.
                    let _ = with_timeout(timeout, async {
                        Ok(tx.session().await.inner().abort_transaction().await?)
                    })
                    .await;
                    if has_label(&e, TRANSIENT_TRANSACTION_ERROR)
                        && started.elapsed() < TRANSACTION_RETRY_LIMIT
                    {
                        crate::observe::transaction_retry("transient_transaction_error");
                        continue 'attempt;
                    }
                    return Err(e);
                }
            };
            loop {
                // The commit is bounded like every operation; a timed-out commit's outcome is unknown,
                // so it is reported, not retried.
                let committed = with_timeout(timeout, async {
                    let mut session = tx.session().await;
                    // A tenant handle's lease is checked again, and the commit counted in flight, so a
                    // move's cut-over either refuses the commit or waits for it.
                    let _in_flight = match session.check_leases() {
                        Ok(guards) => guards,
                        Err(e) => {
                            let _ = session.inner().abort_transaction().await;
                            return Err(e);
                        }
                    };
                    Ok(session.inner().commit_transaction().await?)
                })
                .await;
                match committed {
                    Ok(()) => return Ok(value),
                    Err(e) if started.elapsed() >= TRANSACTION_RETRY_LIMIT => return Err(e),
                    Err(e) if has_label(&e, UNKNOWN_TRANSACTION_COMMIT_RESULT) => {
                        crate::observe::transaction_retry("unknown_commit_result");
                        continue;
                    }
                    Err(e) if has_label(&e, TRANSIENT_TRANSACTION_ERROR) => {
                        crate::observe::transaction_retry("transient_transaction_error");
                        continue 'attempt;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}
