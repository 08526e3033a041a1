//! Work across the whole fleet: [`Tenants::discover`] reads the tenants back from the server's names
//! (or tenant fields), and [`Tenants::for_each`] runs a chore for each of them.

use std::collections::BTreeSet;
use std::future::Future;

use futures_util::stream::{self, StreamExt};
use mongodb::bson::{doc, Bson, Document};

use super::{Tenant, Tenants};
use crate::error::{Error, Result};

impl Tenants {
    /// The ids of the tenants that have data on the server, sorted: the databases named `{prefix}{id}`,
    /// the collections named `{prefix}{id}{separator}...`, or the distinct values of the tenant field in
    /// every collection of the database, by strategy. Names that do not hold a valid tenant id are
    /// skipped.
    #[allow(clippy::disallowed_methods)] // reads names and tenant ids across every tenant, by design
    pub async fn discover(&self) -> Result<Vec<String>> {
        let placement = self.placement();
        let conn = self.connection();
        let mut ids = BTreeSet::new();
        if placement.is_database_per_tenant() {
            for name in conn.client().list_database_names().await? {
                if let Some(id) = placement.tenant_of_database(&name) {
                    ids.insert(id.to_owned());
                }
            }
        } else {
            let db = conn.database();
            for name in db.list_collection_names().await? {
                if let Some(id) = placement.tenant_of_collection(&name) {
                    ids.insert(id.to_owned());
                }
                let Some(field) = placement.tenant_field() else {
                    continue;
                };
                if name.starts_with("system.") {
                    continue;
                }
                let coll = db.collection::<Document>(&name);
                for value in coll.distinct(field, doc! {}).await? {
                    if let Bson::String(id) = value {
                        ids.insert(id);
                    }
                }
            }
        }
        Ok(ids
            .into_iter()
            .filter(|id| self.check(id).is_ok())
            .collect())
    }

    /// Runs `f` for every tenant [`discover`](Self::discover) finds, at most `concurrency` at a time; see
    /// [`for_each_in`](Self::for_each_in).
    pub async fn for_each<F, Fut, R>(&self, concurrency: usize, f: F) -> Result<FleetReport<R>>
    where
        F: Fn(Tenant) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        let ids = self.discover().await?;
        Ok(self.for_each_in(ids, concurrency, f).await)
    }

    /// Runs `f` for every tenant in `ids`, at most `concurrency` at a time (at least one), and reports
    /// each tenant's outcome. A failure (or an invalid id) is recorded for its tenant and the others go on.
    ///
    /// The handles are built for the run and not cached, so a pass over the whole fleet does not push the
    /// tenants serving requests out of the cache.
    pub async fn for_each_in<I, S, F, Fut, R>(
        &self,
        ids: I,
        concurrency: usize,
        f: F,
    ) -> FleetReport<R>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
        F: Fn(Tenant) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        let f = &f;
        let outcomes: Vec<(String, Result<R>)> = stream::iter(ids)
            .map(|id| {
                let id = id.as_ref().to_owned();
                let tenant = self.build(&id);
                async move {
                    let outcome = match tenant {
                        Ok(tenant) => f(tenant).await,
                        Err(e) => Err(e),
                    };
                    (id, outcome)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut report = FleetReport {
            succeeded: Vec::new(),
            failed: Vec::new(),
        };
        for (id, outcome) in outcomes {
            match outcome {
                Ok(r) => report.succeeded.push((id, r)),
                Err(e) => report.failed.push((id, e)),
            }
        }
        report.succeeded.sort_by(|a, b| a.0.cmp(&b.0));
        report.failed.sort_by(|a, b| a.0.cmp(&b.0));
        report
    }
}

/// What a fleet-wide run did for each tenant, sorted by tenant id.
#[derive(Debug)]
pub struct FleetReport<R> {
    /// The tenants whose step succeeded, with what it returned.
    pub succeeded: Vec<(String, R)>,
    /// The tenants whose step failed (or whose id is invalid), with the error.
    pub failed: Vec<(String, Error)>,
}

impl<R> FleetReport<R> {
    /// `true` when no tenant failed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }

    /// How many tenants the run covered.
    pub fn len(&self) -> usize {
        self.succeeded.len() + self.failed.len()
    }

    /// `true` when the run covered no tenant.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
