//! Who is busy, and how big they are: the busiest tenants of the whole service, with their records and
//! sizes.

use std::time::Duration;

use super::{Fleet, TenantRecord, TenantState};
use crate::error::Result;
use crate::observe::{busiest_tenants_published, TenantActivity};
use crate::tenancy::Usage;

/// One of the busiest tenants, from [`Fleet::top`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TenantTop {
    /// Its operations over the window, added up over every process that published them.
    pub activity: TenantActivity,
    /// Its catalogue record; `None` for the entry of the tenants past the processes' bound, and for
    /// a tenant the catalogue does not know.
    pub record: Option<TenantRecord>,
    /// The documents and bytes it stores across the model set (zero once erased).
    pub usage: Usage,
}

impl Fleet {
    /// The `n` busiest tenants of the service over the last `since`, with each one's record and stored
    /// size: "who is the noisy neighbour, and how big is it". The activity is what the service's
    /// processes published into the fleet's control database with
    /// [`Connection::publish_tenant_activity`](crate::Connection::publish_tenant_activity); the sizes
    /// are read now (one grouped count per model and tenant). `tenant-admin top` prints it.
    pub async fn top(&self, since: Duration, n: usize) -> Result<Vec<TenantTop>> {
        let control = self.inner.catalogue.connection();
        let mut out = Vec::new();
        for activity in busiest_tenants_published(control, since, n).await? {
            let record = match &activity.tenant {
                Some(id) => self.inner.catalogue.get(id).await?,
                None => None,
            };
            let usage = match &record {
                Some(r) if r.state != TenantState::Erased => self.usage(r).await?,
                _ => Usage::default(),
            };
            out.push(TenantTop {
                activity,
                record,
                usage,
            });
        }
        Ok(out)
    }
}
