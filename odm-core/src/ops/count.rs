//! `count`, `exists` and `distinct`.

use mongodb::bson::{doc, Bson};
use mongodb::options::FindOneOptions;

use crate::error::Result;
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::{into_future, session_method, with_deleted_method};
use crate::query::Filter;
use crate::session::Session;

/// The `count` operation; await it for the number of matching documents.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Count<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> Count<'a, T> {
    session_method!();
    settings_methods!(settings: read_preference, read_concern, collation, max_time, hint);
    with_deleted_method!();

    async fn run(self) -> Result<u64> {
        let mut pipeline = self
            .handle
            .pipeline(self.session)?
            .overriding(self.settings);
        pipeline.include_deleted(self.with_deleted);
        pipeline.count(self.filter.into_document()?).await
    }
}
into_future!(Count, u64, "count", "aggregate");

/// The `exists` operation; await it for `true` when a document matches.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Exists<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> Exists<'a, T> {
    session_method!();
    settings_methods!(settings: read_preference, read_concern, collation, max_time, hint);
    with_deleted_method!();

    async fn run(self) -> Result<bool> {
        let mut pipeline = self
            .handle
            .pipeline(self.session)?
            .overriding(self.settings);
        pipeline.include_deleted(self.with_deleted);
        let mut options = FindOneOptions::default();
        options.projection = Some(doc! { "_id": 1 });
        let found = pipeline
            .find_one(self.filter.into_document()?, options)
            .await?;
        Ok(found.is_some())
    }
}
into_future!(Exists, bool, "exists", "aggregate");

/// The `distinct` operation; await it for the distinct values, as BSON.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Distinct<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) field: String,
    pub(crate) filter: Filter<T>,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> Distinct<'a, T> {
    session_method!();
    settings_methods!(settings: read_preference, read_concern, collation, max_time);
    with_deleted_method!();

    async fn run(self) -> Result<Vec<Bson>> {
        let mut pipeline = self
            .handle
            .pipeline(self.session)?
            .overriding(self.settings);
        pipeline.include_deleted(self.with_deleted);
        pipeline
            .distinct(&self.field, self.filter.into_document()?)
            .await
    }
}
into_future!(Distinct, Vec<Bson>, "distinct", "distinct");
