//! `aggregate`.

use futures_util::stream::BoxStream;
use mongodb::bson::Document;

use crate::error::Result;
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::{into_future, session_method, with_deleted_method};
use crate::session::Session;

/// The `aggregate` operation; await it for the documents, or call [`Aggregate::stream`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct Aggregate<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) pipeline: Vec<Document>,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> Aggregate<'a, T> {
    session_method!();
    settings_methods!(settings: read_preference, read_concern, write_concern, collation, max_time, hint);
    with_deleted_method!();

    /// Streams the resulting documents, each batch within the operation timeout. (Without a session.)
    pub async fn stream(self) -> Result<BoxStream<'static, Result<Document>>> {
        let handle = self.handle;
        crate::observe::observed!(handle, "aggregate", "aggregate", async move {
            let mut pipeline = handle.pipeline(self.session)?.overriding(self.settings);
            pipeline.include_deleted(self.with_deleted);
            pipeline.aggregate_stream(self.pipeline).await
        })
        .await
    }

    async fn run(self) -> Result<Vec<Document>> {
        let mut pipeline = self
            .handle
            .pipeline(self.session)?
            .overriding(self.settings);
        pipeline.include_deleted(self.with_deleted);
        pipeline.aggregate(self.pipeline).await
    }
}
into_future!(Aggregate, Vec<Document>, "aggregate", "aggregate");
