//! [`Session`]: a driver session tied to the connection that started it.

use mongodb::ClientSession;

/// A session started by [`Connection::start_session`](crate::Connection::start_session).
///
/// Model operations take it with `.session(&mut s)`; one started on another client is refused with
/// [`Error::ForeignSession`](crate::Error::ForeignSession), so an operation never silently runs outside the
/// transaction the caller meant.
pub struct Session {
    inner: ClientSession,
    client_id: u64,
}

impl Session {
    pub(crate) fn new(inner: ClientSession, client_id: u64) -> Self {
        Session { inner, client_id }
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
