//! [`Session`]: a driver session tied to the connection that started it.

use std::sync::Arc;

use mongodb::ClientSession;

use crate::error::Result;
use crate::tenancy::{InFlight, Scope};

/// A session started by [`Connection::start_session`](crate::Connection::start_session).
///
/// Model operations take it with `.session(&mut s)`; one started on another client is refused with
/// [`Error::ForeignSession`](crate::Error::ForeignSession), so an operation never silently runs outside the
/// transaction the caller meant.
pub struct Session {
    inner: ClientSession,
    client_id: u64,
    /// The leased tenant handles (of a [`Fleet`](crate::Fleet)) the session's operations used since
    /// [`Connection::transaction`](crate::Connection::transaction) started its transaction: checked again
    /// when it commits, so a commit never lands where a tenant was moved from. `None` outside one (a
    /// session of the caller's keeps nothing).
    leased: Option<Vec<Arc<Scope>>>,
}

impl Session {
    pub(crate) fn new(inner: ClientSession, client_id: u64) -> Self {
        Session {
            inner,
            client_id,
            leased: None,
        }
    }

    /// Notes that an operation of a leased tenant handle ran in the session.
    pub(crate) fn used(&mut self, scope: &Arc<Scope>) {
        if let Some(leased) = &mut self.leased {
            if scope.lease.is_some() && !leased.iter().any(|s| Arc::ptr_eq(s, scope)) {
                leased.push(scope.clone());
            }
        }
    }

    /// Starts noting the leased handles used, from none: a transaction of
    /// [`Connection::transaction`](crate::Connection::transaction) starts.
    pub(crate) fn track_leases(&mut self) {
        self.leased = Some(Vec::new());
    }

    /// Checks every lease the transaction's operations used, and counts the commit in flight on each
    /// until the returned guards drop: a lease over or revoked (the tenant is being moved or stopped)
    /// refuses the commit with [`Error::LeaseExpired`](crate::Error::LeaseExpired), and a cut-over waits
    /// for a commit already under way.
    pub(crate) fn check_leases(&self) -> Result<Vec<InFlight>> {
        let mut guards = Vec::new();
        for scope in self.leased.iter().flatten() {
            guards.extend(scope.check_lease()?);
        }
        Ok(guards)
    }

    /// The driver's session.
    pub fn inner(&mut self) -> &mut ClientSession {
        &mut self.inner
    }

    pub(crate) fn client_id(&self) -> u64 {
        self.client_id
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client_id)
            .finish()
    }
}
