//! `find_one`, `find_by_id`, `find` and projected finds.

use futures_util::stream::BoxStream;
use mongodb::bson::Document;
use mongodb::options::{FindOneOptions, FindOptions};

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::observe::observed;
use crate::ops::settings::settings_methods;
use crate::ops::{into_future, session_method, with_deleted_method};
use crate::query::{Filter, Projection, Sort};
use crate::session::Session;

/// The `find_one` and `find_by_id` operations; await them for an `Option`.
#[must_use = "an operation does nothing until it is awaited"]
pub struct FindOne<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) options: FindOneOptions,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> FindOne<'a, T> {
    session_method!();
    settings_methods!(options: read_preference, read_concern, collation, max_time, hint);
    with_deleted_method!();

    /// Which document comes first when several match.
    pub fn sort(mut self, sort: impl Into<Sort<T>>) -> Self {
        self.options.sort = Some(sort.into().into_document());
        self
    }

    /// Reads the hidden fields (`#[field(hidden)]`) too, which reads leave out otherwise.
    pub fn with_hidden(mut self) -> Self {
        self.options.projection = None;
        self
    }

    /// Awaits the document and turns "none" into [`Error::NotFound`]; bounded by the operation timeout
    /// like the plain await.
    pub fn required(self) -> Required<'a, T> {
        Required { find: self }
    }

    async fn run(self) -> Result<Option<T>> {
        let FindOne {
            handle,
            filter,
            options,
            session,
            with_deleted,
        } = self;
        let mut pipeline = handle.pipeline(session)?;
        pipeline.include_deleted(with_deleted);
        let raw = pipeline.find_one(filter.into_document()?, options).await?;
        raw.map(|doc| T::from_document(&doc)).transpose()
    }
}
into_future!(FindOne, Option<T>, "find_one", "find");

/// A `find_one` that must find a document; await it for the document or [`Error::NotFound`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct Required<'a, T> {
    find: FindOne<'a, T>,
}

impl<'a, T: Model> Required<'a, T> {
    /// The handle, for the operation timeout.
    fn handle(&self) -> &'a ModelHandle<T> {
        self.find.handle
    }

    async fn run(self) -> Result<T> {
        let collection = self.find.handle.collection_name().into_owned();
        let filter = self.find.filter.as_document().clone();
        self.find
            .run()
            .await?
            .ok_or(Error::NotFound { collection, filter })
    }
}

impl<'a, T: Model> std::future::IntoFuture for Required<'a, T> {
    type Output = Result<T>;
    type IntoFuture = crate::ops::BoxFuture<'a, Result<T>>;

    fn into_future(self) -> Self::IntoFuture {
        let handle = self.handle();
        let timeout = handle.connection().operation_timeout();
        Box::pin(observed!(
            handle,
            "find_one",
            "find",
            crate::ops::with_timeout(timeout, self.run())
        ))
    }
}

/// The `find` operation; await it for a `Vec`, or call [`Find::stream`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct Find<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) options: FindOptions,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> Find<'a, T> {
    session_method!();
    settings_methods!(options: read_preference, read_concern, collation, max_time, hint);
    with_deleted_method!();

    /// The order of the results.
    pub fn sort(mut self, sort: impl Into<Sort<T>>) -> Self {
        self.options.sort = Some(sort.into().into_document());
        self
    }

    /// Skips the first `n` results.
    pub fn skip(mut self, n: u64) -> Self {
        self.options.skip = Some(n);
        self
    }

    /// Returns at most `n` results.
    pub fn limit(mut self, n: i64) -> Self {
        self.options.limit = Some(n);
        self
    }

    /// How many documents the server sends per batch.
    pub fn batch_size(mut self, n: u32) -> Self {
        self.options.batch_size = Some(n);
        self
    }

    /// Reads the hidden fields (`#[field(hidden)]`) too, which reads leave out otherwise. Call it before
    /// [`project`](Self::project) for a projection that leaves fields out to keep the hidden ones.
    pub fn with_hidden(mut self) -> Self {
        self.options.projection = None;
        self
    }

    /// Returns only the fields of `projection`, as documents: a projected document no longer has the
    /// model's shape, so typed reads never see one. A projection that leaves fields out leaves the hidden
    /// fields out too (unless [`with_hidden`](Self::with_hidden) came first); one that names the fields
    /// to return returns what it names.
    pub fn project(self, projection: impl Into<Projection<T>>) -> Projected<'a, T> {
        let mut projection = projection.into().into_document();
        if self.options.projection.is_some() {
            projection = T::SCHEMA.hide_in(projection);
        }
        Projected {
            find: self,
            projection,
        }
    }

    /// Streams the results, a batch at a time, for reads too large to hold at once. The first batch
    /// comes within the operation timeout, and so does each later one. Reads in a session are awaited
    /// as a `Vec` instead.
    pub async fn stream(self) -> Result<BoxStream<'static, Result<T>>> {
        let Find {
            handle,
            filter,
            options,
            session,
            with_deleted,
        } = self;
        observed!(handle, "find", "find", async move {
            let mut pipeline = handle.pipeline(session)?;
            pipeline.include_deleted(with_deleted);
            // Each document is decoded in place in the cursor's batch, without a copy.
            pipeline
                .find_stream(filter.into_document()?, options, T::from_document)
                .await
        })
        .await
    }

    async fn run(self) -> Result<Vec<T>> {
        let Find {
            handle,
            filter,
            options,
            session,
            with_deleted,
        } = self;
        let mut pipeline = handle.pipeline(session)?;
        pipeline.include_deleted(with_deleted);
        let mut out = Vec::new();
        pipeline
            .find(filter.into_document()?, options, |raw| {
                out.push(T::from_document(raw)?);
                Ok(())
            })
            .await?;
        Ok(out)
    }
}
into_future!(Find, Vec<T>, "find", "find");

/// A find with a projection; await it for the projected `Document`s.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Projected<'a, T> {
    find: Find<'a, T>,
    projection: Document,
}

impl<'a, T: Model> Projected<'a, T> {
    fn handle(&self) -> &'a ModelHandle<T> {
        self.find.handle
    }

    async fn run(self) -> Result<Vec<Document>> {
        let Find {
            handle,
            filter,
            mut options,
            session,
            with_deleted,
        } = self.find;
        options.projection = Some(self.projection);
        let mut pipeline = handle.pipeline(session)?;
        pipeline.include_deleted(with_deleted);
        let mut out = Vec::new();
        pipeline
            .find(filter.into_document()?, options, |raw| {
                out.push(crate::ops::to_document(T::SCHEMA.type_name, raw)?);
                Ok(())
            })
            .await?;
        Ok(out)
    }
}

impl<'a, T: Model> std::future::IntoFuture for Projected<'a, T> {
    type Output = Result<Vec<Document>>;
    type IntoFuture = crate::ops::BoxFuture<'a, Result<Vec<Document>>>;

    fn into_future(self) -> Self::IntoFuture {
        let handle = self.handle();
        let timeout = handle.connection().operation_timeout();
        Box::pin(observed!(
            handle,
            "find",
            "find",
            crate::ops::with_timeout(timeout, self.run())
        ))
    }
}
