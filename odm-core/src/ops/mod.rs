//! The operations on a bound model, one family per file, each a `#[must_use]` builder that runs when
//! awaited. Every one of them reaches the server through [`pipeline::Pipeline`], and nothing else here
//! talks to the driver.

use std::future::Future;
use std::pin::Pin;

pub(crate) mod aggregate;
pub(crate) mod bulk;
pub(crate) mod count;
pub(crate) mod delete;
pub(crate) mod find;
pub(crate) mod find_and_modify;
pub(crate) mod indexes;
pub(crate) mod insert;
pub(crate) mod page;
pub(crate) mod pipeline;
pub(crate) mod populate;
pub(crate) mod settings;
pub(crate) mod update;
pub(crate) mod watch;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Adds `.session(&mut s)` to a builder with a `session: Option<&'a mut Session>` field.
macro_rules! session_method {
    () => {
        /// Runs the operation in `session` (and its transaction, if one is open). A session of another
        /// client is refused with [`Error::ForeignSession`](crate::Error::ForeignSession).
        pub fn session(mut self, session: &'a mut crate::session::Session) -> Self {
            self.session = Some(session);
            self
        }
    };
}
pub(crate) use session_method;

/// Adds `.with_deleted()` to a builder with a `with_deleted: bool` field.
macro_rules! with_deleted_method {
    () => {
        /// Includes the soft-deleted documents of a `#[model(soft_delete)]` model, which the operation
        /// skips otherwise. No effect on other models.
        pub fn with_deleted(mut self) -> Self {
            self.with_deleted = true;
            self
        }
    };
}
pub(crate) use with_deleted_method;

/// Implements `IntoFuture` for a builder through its `async fn run(self)`, bounded by the connection's
/// operation timeout as a whole (the pipeline bounds each of its round trips too), and observed as the
/// operation `$name` sending mainly `$command` (its span, metrics and slow warning: [`crate::observe`]).
macro_rules! into_future {
    ($builder:ident, $output:ty, $name:literal, $command:literal) => {
        impl<'a, T: crate::model::Model> std::future::IntoFuture for $builder<'a, T> {
            type Output = crate::error::Result<$output>;
            type IntoFuture = crate::ops::BoxFuture<'a, crate::error::Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                let handle = self.handle;
                let timeout = handle.connection().operation_timeout();
                Box::pin(crate::observe::observed!(
                    handle,
                    $name,
                    $command,
                    crate::ops::with_timeout(timeout, self.run())
                ))
            }
        }
    };
    // For builders that reach their handle through a `handle()` method.
    ($builder:ident, $output:ty, $name:literal, $command:literal, via_handle) => {
        impl<'a, T: crate::model::Model> std::future::IntoFuture for $builder<'a, T> {
            type Output = crate::error::Result<$output>;
            type IntoFuture = crate::ops::BoxFuture<'a, crate::error::Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                let handle = self.handle();
                let timeout = handle.connection().operation_timeout();
                Box::pin(crate::observe::observed!(
                    handle,
                    $name,
                    $command,
                    crate::ops::with_timeout(timeout, self.run())
                ))
            }
        }
    };
    // For operations that bound each of their round trips themselves (`insert_many`).
    ($builder:ident, $output:ty, $name:literal, $command:literal, deadline_inside) => {
        impl<'a, T: crate::model::Model> std::future::IntoFuture for $builder<'a, T> {
            type Output = crate::error::Result<$output>;
            type IntoFuture = crate::ops::BoxFuture<'a, crate::error::Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                let handle = self.handle;
                Box::pin(crate::observe::observed!(
                    handle,
                    $name,
                    $command,
                    self.run()
                ))
            }
        }
    };
}
pub(crate) use into_future;

/// Runs `op`, failing with [`Error::Timeout`](crate::Error::Timeout) when it has not finished within
/// `timeout`.
pub(crate) async fn with_timeout<O>(
    timeout: Option<std::time::Duration>,
    op: impl Future<Output = crate::error::Result<O>>,
) -> crate::error::Result<O> {
    match timeout {
        None => op.await,
        Some(after) => tokio::time::timeout(after, op)
            .await
            .unwrap_or(Err(crate::error::Error::Timeout { after })),
    }
}

/// The count `key` of a server reply or an aggregation's row (an `int`, a `long` or a `double`,
/// as servers and `$sum` give them); 0 when it is missing or negative.
pub(crate) fn count_in(reply: &mongodb::bson::Document, key: &str) -> u64 {
    use mongodb::bson::Bson;
    match reply.get(key) {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Double(n)) if *n > 0.0 => *n as u64,
        _ => 0,
    }
}

/// A raw document as a `Document`, for reads that return documents (projections, aggregations).
pub(crate) fn to_document(
    type_name: &'static str,
    raw: &mongodb::bson::RawDocument,
) -> crate::error::Result<mongodb::bson::Document> {
    mongodb::bson::Document::try_from(raw).map_err(|e| crate::error::Error::Deserialization {
        type_name,
        source: <mongodb::bson::de::Error as serde::de::Error>::custom(e),
    })
}
