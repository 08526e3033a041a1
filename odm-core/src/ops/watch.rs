//! Change streams: [`ModelHandle::watch`] gives the changes to a model's collection as typed events,
//! with the resume token exposed so a consumer can resume after a restart.

use std::future::IntoFuture;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::Stream;
use mongodb::bson::{self, Bson, Document};
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType};

pub use mongodb::change_stream::event::ResumeToken;

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;

use crate::ops::BoxFuture;

/// One change to a model's collection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChangeEvent<T> {
    /// A document was inserted.
    Insert(T),
    /// A document was updated in place.
    Update {
        /// The `_id` of the document (from the event's `documentKey`).
        id: Bson,
        /// The fields the update set, by stored path.
        updated_fields: Document,
        /// The fields the update removed.
        removed_fields: Vec<String>,
        /// The whole document after the update, with [`Watch::full_document_on_update`].
        full_document: Option<T>,
    },
    /// A document was replaced.
    Replace(T),
    /// A document was deleted.
    Delete {
        /// The `_id` of the deleted document (from the event's `documentKey`).
        id: Bson,
    },
    /// The stream ended for good (the collection was dropped or renamed); open a new one.
    Invalidate,
    /// Another kind of event (`drop`, `rename`, ...).
    Other(OperationType),
}

impl<T: Model> ModelHandle<T> {
    /// Watches the model's collection for changes made after the stream opens; await for a
    /// [`ChangeStream`]. Needs a server that runs change streams (a replica set or sharded cluster); see
    /// the guide's [change streams](crate::guide::change_streams) chapter.
    ///
    /// A handle confined to a tenant in a shared collection refuses: a delete event carries no tenant
    /// field, so its stream could not tell the tenant's deletes from other tenants'.
    pub fn watch(&self) -> Watch<'_, T> {
        Watch {
            handle: self,
            resume_after: None,
            full_document: false,
        }
    }
}

/// The `watch` operation; await it for a [`ChangeStream`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct Watch<'a, T> {
    handle: &'a ModelHandle<T>,
    resume_after: Option<ResumeToken>,
    full_document: bool,
}

impl<'a, T: Model> Watch<'a, T> {
    /// Starts after the event whose token is `token` (from [`ChangeStream::resume_token`]), so a
    /// consumer that stopped misses nothing.
    pub fn resume_after(mut self, token: ResumeToken) -> Self {
        self.resume_after = Some(token);
        self
    }

    /// Also delivers the whole current document with each update event.
    pub fn full_document_on_update(mut self) -> Self {
        self.full_document = true;
        self
    }

    async fn run(self) -> Result<ChangeStream<T>> {
        let mut pipeline = self.handle.pipeline(None)?;
        let inner = pipeline
            .watch(self.resume_after, self.full_document)
            .await?;
        Ok(ChangeStream {
            inner,
            _model: PhantomData,
        })
    }
}

impl<'a, T: Model> IntoFuture for Watch<'a, T> {
    type Output = Result<ChangeStream<T>>;
    type IntoFuture = BoxFuture<'a, Result<ChangeStream<T>>>;

    fn into_future(self) -> Self::IntoFuture {
        let handle = self.handle;
        let timeout = handle.connection().operation_timeout();
        Box::pin(crate::observe::observed!(
            handle,
            "watch",
            "aggregate",
            crate::ops::with_timeout(timeout, self.run())
        ))
    }
}

/// A stream of [`ChangeEvent`]s of model `T`. Poll it with `StreamExt::next`.
pub struct ChangeStream<T> {
    inner: mongodb::change_stream::ChangeStream<ChangeStreamEvent<Document>>,
    _model: PhantomData<fn() -> T>,
}

impl<T> ChangeStream<T> {
    /// The token to resume after the last event seen, for [`Watch::resume_after`]. Store it with what
    /// the consumer did with the event.
    pub fn resume_token(&self) -> Option<ResumeToken> {
        self.inner.resume_token()
    }
}

impl<T> std::fmt::Debug for ChangeStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeStream")
            .field("resume_token", &self.inner.resume_token())
            .finish()
    }
}

impl<T: Model> Stream for ChangeStream<T> {
    type Item = Result<ChangeEvent<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|event| event.map(|e| e.map_err(Error::from).and_then(convert::<T>)))
    }
}

fn decode<T: Model>(doc: Document) -> Result<T> {
    bson::from_document(doc).map_err(|source| Error::Deserialization {
        type_name: T::SCHEMA.type_name,
        source,
    })
}

fn full<T: Model>(doc: Option<Document>) -> Result<T> {
    match doc {
        Some(doc) => decode(doc),
        None => Err(Error::Deserialization {
            type_name: T::SCHEMA.type_name,
            source: serde::de::Error::custom("the change event carries no `fullDocument`"),
        }),
    }
}

fn convert<T: Model>(event: ChangeStreamEvent<Document>) -> Result<ChangeEvent<T>> {
    let id = event
        .document_key
        .as_ref()
        .and_then(|k| k.get("_id"))
        .cloned()
        .unwrap_or(Bson::Null);
    Ok(match event.operation_type {
        OperationType::Insert => ChangeEvent::Insert(full(event.full_document)?),
        OperationType::Update => {
            let (updated_fields, removed_fields) = match event.update_description {
                Some(u) => (u.updated_fields, u.removed_fields),
                None => Default::default(),
            };
            ChangeEvent::Update {
                id,
                updated_fields,
                removed_fields,
                full_document: event.full_document.map(decode).transpose()?,
            }
        }
        OperationType::Replace => ChangeEvent::Replace(full(event.full_document)?),
        OperationType::Delete => ChangeEvent::Delete { id },
        OperationType::Invalidate => ChangeEvent::Invalidate,
        other => ChangeEvent::Other(other),
    })
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{doc, oid::ObjectId};
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::schema::Schema;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Item {
        #[serde(rename = "_id")]
        id: ObjectId,
        n: i32,
    }

    impl Model for Item {
        const SCHEMA: &'static Schema = &Schema::new("Item", "items", &[]);
        type Fields = ();
        fn fields() {}
        fn id(&self) -> Result<Bson> {
            Ok(Bson::ObjectId(self.id))
        }
        fn set_id(&mut self, _: Bson) -> Result<()> {
            Ok(())
        }
    }

    fn event(doc: Document) -> Result<ChangeEvent<Item>> {
        convert(bson::from_document(doc).unwrap())
    }

    #[test]
    fn server_events_become_typed_events() {
        let id = ObjectId::new();
        let token = doc! { "_data": "t1" };
        let item = Item { id, n: 3 };
        assert_eq!(
            event(doc! { "_id": token.clone(), "operationType": "insert",
            "fullDocument": { "_id": id, "n": 3 }, "documentKey": { "_id": id } })
            .unwrap(),
            ChangeEvent::Insert(item.clone())
        );
        assert_eq!(
            event(doc! { "_id": token.clone(), "operationType": "update", "documentKey": { "_id": id },
                "updateDescription": { "updatedFields": { "n": 4 }, "removedFields": ["old"] } })
            .unwrap(),
            ChangeEvent::Update {
                id: Bson::ObjectId(id),
                updated_fields: doc! { "n": 4 },
                removed_fields: vec!["old".to_owned()],
                full_document: None,
            }
        );
        assert_eq!(
            event(doc! { "_id": token.clone(), "operationType": "replace",
            "fullDocument": { "_id": id, "n": 3 }, "documentKey": { "_id": id } })
            .unwrap(),
            ChangeEvent::Replace(item)
        );
        assert_eq!(
            event(doc! { "_id": token.clone(), "operationType": "delete", "documentKey": { "_id": id } })
                .unwrap(),
            ChangeEvent::Delete {
                id: Bson::ObjectId(id)
            }
        );
        assert_eq!(
            event(doc! { "_id": token.clone(), "operationType": "invalidate" }).unwrap(),
            ChangeEvent::Invalidate
        );
        let err = event(doc! { "_id": token, "operationType": "insert",
        "fullDocument": { "_id": id, "n": "three" }, "documentKey": { "_id": id } })
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Deserialization {
                    type_name: "Item",
                    ..
                }
            ),
            "{err}"
        );
    }
}
