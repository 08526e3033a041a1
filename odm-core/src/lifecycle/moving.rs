//! Moving a live tenant from one placement to another: copy a snapshot while following the tenant's
//! changes, cut over (hold the tenant's requests in every process, copy the last changes, verify),
//! switch the catalogue, then delete the source.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::change_stream::event::ChangeStreamEvent;
use mongodb::change_stream::ChangeStream;
use tracing::Instrument;

use super::dump::{census, neutral};
use super::{pipeline, Fleet, TenantState};
use crate::error::{Error, Result};
use crate::schema::Schema;
use crate::tenancy::Tenant;

/// How many documents a move copies per `insert`.
const COPY_BATCH: usize = 1000;

/// How many changed documents a catch-up re-reads and writes per round trip.
const CATCH_UP_BATCH: usize = 500;

/// What [`Fleet::move_tenant`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MoveReport {
    /// The tenant.
    pub tenant: String,
    /// The placement it left.
    pub from: String,
    /// The placement it is in now.
    pub to: String,
    /// Documents copied by the snapshot.
    pub copied: u64,
    /// Changes made during the move and copied after the snapshot (re-reads of changed documents).
    pub caught_up: u64,
    /// How long the snapshot copy took.
    pub copy_time: Duration,
    /// How long the tenant's requests were held: from the cut-over's start to the switch.
    pub pause: Duration,
    /// The part of the pause spent waiting for every process to let go of the source: until each
    /// acknowledged (when following the catalogue), or its leases ended.
    pub release: Duration,
    /// Per collection: the documents and content hash found the same at both ends before the switch.
    pub verified: Vec<(&'static str, u64, u64)>,
}

/// One collection's change stream, read to learn which `_id`s changed.
struct Follow {
    schema: &'static Schema,
    stream: ChangeStream<ChangeStreamEvent<Document>>,
}

impl Fleet {
    /// Moves the tenant to placement `to` while it keeps serving: see the guide's
    /// [lifecycle](crate::guide::lifecycle) and tenancy chapters. Writes made through the fleet during
    /// the move land exactly once at the destination; requests are held only during the cut-over.
    ///
    /// The cut-over marks the tenant in the catalogue, then waits until no process can still write to
    /// the source: when the fleets [follow](super::FleetBuilder::follow) the catalogue (the default),
    /// until every registered process acknowledged that it revoked its handles on the tenant and its
    /// operations on it ended, and for a process that does not acknowledge, until its leases have
    /// ended (a lease and a 250 ms grace at most); without following, a lease and the grace. Then it
    /// copies the last changes, verifies both ends and switches. [`MoveReport::pause`] is the whole
    /// cut-over, [`MoveReport::release`] its wait.
    ///
    /// A move that fails leaves the source authoritative and the tenant active there (the partial copy
    /// is deleted). A move interrupted by a crash (of the process or the server) leaves the tenant
    /// `moving`: call `move_tenant` again to resume it (it starts the copy again) or
    /// [`abort_move`](Self::abort_move) to roll it back. Interrupted after the switch, it leaves the
    /// tenant active at the destination with [`TenantRecord::cleanup`](super::TenantRecord::cleanup)
    /// naming the source: `move_tenant` to the same destination deletes the leftover copy.
    pub async fn move_tenant(&self, id: &str, to: &str) -> Result<MoveReport> {
        let span = tracing::info_span!(target: "odm", "odm.fleet.move", tenant = id, to);
        async {
            self.placement(to)?.check(id)?;
            let record = self
                .catalogue()
                .get(id)
                .await?
                .ok_or_else(|| Error::UnknownTenant { id: id.to_owned() })?;
            let from = record.placement.clone();
            if let Some(leftover) = &record.cleanup {
                // A move that switched over and stopped before deleting its source: finish it.
                self.cleanup(id, leftover).await?;
                if from == to {
                    return Ok(MoveReport {
                        tenant: id.to_owned(),
                        from: leftover.clone(),
                        to: to.to_owned(),
                        copied: 0,
                        caught_up: 0,
                        copy_time: Duration::ZERO,
                        pause: Duration::ZERO,
                        release: Duration::ZERO,
                        verified: Vec::new(),
                    });
                }
            }
            match (&record.state, &record.moving) {
                (TenantState::Active, _) if from == to => {
                    return Err(Error::TenantUnavailable {
                        id: id.to_owned(),
                        state: "active".into(),
                        why: format!("it is already at `{to}`"),
                    })
                }
                (TenantState::Active, _) => {
                    let moving = doc! {
                        "to": to, "phase": "copy", "started_at": super::now(),
                    };
                    self.catalogue()
                        .transition(
                            id,
                            &[TenantState::Active],
                            TenantState::Moving,
                            doc! { "moving": moving },
                            &format!("moving to {to}"),
                        )
                        .await?;
                }
                (TenantState::Moving, Some(m)) if m.to == to => {
                    self.catalogue()
                        .set(id, TenantState::Moving, doc! { "moving.phase": "copy" })
                        .await?;
                }
                _ => return Err(super::unavailable(&record)),
            }
            match self.run_move(id, &from, to).await {
                Ok(report) => Ok(report),
                Err(e) => {
                    // The source stays authoritative: the partial copy goes, the tenant serves again.
                    // A failure of the rollback itself (the server gone) leaves the tenant `moving`,
                    // for `abort_move` or a new `move_tenant` to finish.
                    if self.abort_move(id).await.is_err() {
                        tracing::warn!(target: "odm", tenant = id, "the move failed and could not be rolled back yet; run `abort_move` or `move_tenant` again");
                    }
                    Err(e)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Rolls back a move that failed or was interrupted: deletes the partial copy at the destination
    /// and makes the tenant active at its source again.
    pub async fn abort_move(&self, id: &str) -> Result<()> {
        let record = self
            .catalogue()
            .get(id)
            .await?
            .ok_or_else(|| Error::UnknownTenant { id: id.to_owned() })?;
        let Some(moving) = record
            .moving
            .filter(|_| record.state == TenantState::Moving)
        else {
            return Err(Error::TenantUnavailable {
                id: id.to_owned(),
                state: record.state.to_string(),
                why: "no move of it is under way".into(),
            });
        };
        let dest = self.at(&moving.to, id)?;
        self.clear(&dest).await?;
        self.catalogue()
            .transition(
                id,
                &[TenantState::Moving],
                TenantState::Active,
                doc! { "moving": Bson::Null },
                &format!("move to {} rolled back", moving.to),
            )
            .await?;
        self.forget(id);
        Ok(())
    }

    async fn run_move(&self, id: &str, from: &str, to: &str) -> Result<MoveReport> {
        let source = self.at(from, id)?;
        let dest = self.at(to, id)?;
        self.clear(&dest).await?;
        self.provision_models(&dest).await?;

        // Follow first, then copy: a change made during the copy is in the stream, and copying it
        // again after is harmless (each changed `_id` is re-read from the source).
        let mut follows = Vec::new();
        for schema in self.stored().map(|m| m.schema) {
            let stream = pipeline(&source, schema)?.watch_keys().await?;
            follows.push(Follow { schema, stream });
        }
        let started = Instant::now();
        let mut copied = 0;
        for schema in self.stored().map(|m| m.schema) {
            copied += self.copy(&source, &dest, schema).await?;
        }
        let copy_time = started.elapsed();

        // Catch up while the tenant serves, until a pass finds little to do.
        let mut caught_up = 0;
        for _ in 0..20 {
            let n = self.catch_up(&source, &dest, &mut follows).await?;
            caught_up += n;
            if n < 100 {
                break;
            }
        }

        // Cut over: every process stops writing to the source, at once when it follows the
        // catalogue and acknowledges, within a lease when not.
        let paused = Instant::now();
        let since = self.stamp().await?;
        let marked = self
            .catalogue()
            .set(id, TenantState::Moving, doc! { "moving.phase": "cutover" })
            .await?;
        let release = self
            .release(id, marked.version, since, Instant::now())
            .await?;
        // Writes acknowledged before the release are in the streams: drain them until quiet.
        loop {
            let n = self.catch_up(&source, &dest, &mut follows).await?;
            caught_up += n;
            if n == 0 {
                break;
            }
        }
        let mut verified = Vec::new();
        for schema in self.stored().map(|m| m.schema) {
            self.report(id, "verify", Some(schema.collection), 0);
            let (at_source, at_dest) =
                futures_util::future::try_join(census(&source, schema), census(&dest, schema))
                    .await?;
            if at_source != at_dest {
                return Err(Error::TenantUnavailable {
                    id: id.to_owned(),
                    state: "moving".into(),
                    why: format!(
                        "the copy of `{}` does not match its source ({} documents, hash {:016x}, against {} and {:016x}); the move was rolled back",
                        schema.collection, at_dest.0, at_dest.1, at_source.0, at_source.1
                    ),
                });
            }
            verified.push((schema.collection, at_source.0, at_source.1));
        }
        // Switch: the destination serves from now on; the source is only a copy to delete.
        self.catalogue()
            .transition(
                id,
                &[TenantState::Moving],
                TenantState::Active,
                doc! { "placement": to, "moving": Bson::Null, "cleanup": from },
                &format!("moved from {from}"),
            )
            .await?;
        self.forget(id);
        let pause = paused.elapsed();
        drop(follows);
        self.cleanup(id, from).await?;
        Ok(MoveReport {
            tenant: id.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            copied,
            caught_up,
            copy_time,
            pause,
            release,
            verified,
        })
    }

    /// Deletes the copy of the tenant left at `placement` by a move, and clears the record's note of it.
    async fn cleanup(&self, id: &str, placement: &str) -> Result<()> {
        self.report(id, "cleanup", None, 0);
        let stale = self.at(placement, id)?;
        self.clear(&stale).await?;
        self.catalogue()
            .set(id, TenantState::Active, doc! { "cleanup": Bson::Null })
            .await
            .map(drop)
    }

    /// Deletes every document of the tenant at a placement, and the namespaces that are its own.
    async fn clear(&self, tenant: &Tenant) -> Result<()> {
        self.erase_at(tenant).await.map(drop)
    }

    /// Copies the snapshot of one collection, in batches.
    async fn copy(&self, source: &Tenant, dest: &Tenant, schema: &'static Schema) -> Result<u64> {
        let field = source.confine().tenant_field().map(str::to_owned);
        let mut p = pipeline(source, schema)?;
        let mut docs = p
            .find_stream(doc! {}, Default::default(), |raw| Ok(raw.to_owned()))
            .await?;
        let mut batch = Vec::with_capacity(COPY_BATCH);
        let mut n = 0;
        while let Some(raw) = docs.next().await {
            batch.push(neutral(&raw?, field.as_deref())?);
            if batch.len() == COPY_BATCH {
                n += self
                    .insert_batch(dest, schema, std::mem::take(&mut batch))
                    .await?;
                self.report(source.id(), "copy", Some(schema.collection), n);
            }
        }
        n += self.insert_batch(dest, schema, batch).await?;
        self.report(source.id(), "copy", Some(schema.collection), n);
        Ok(n)
    }

    /// Reads what the streams hold now and copies each changed document again (or deletes it at the
    /// destination when the source no longer has it). Returns how many `_id`s it copied.
    async fn catch_up(
        &self,
        source: &Tenant,
        dest: &Tenant,
        follows: &mut [Follow],
    ) -> Result<u64> {
        let field = source.confine().tenant_field().map(str::to_owned);
        // The streams are read together: each waits a moment on the server when it has nothing.
        let changed = futures_util::future::try_join_all(follows.iter_mut().map(|follow| async {
            let mut ids = BTreeSet::new();
            let mut keys = Vec::new();
            while let Some(event) = follow.stream.next_if_any().await? {
                if let Some(id) = event.document_key.and_then(|mut k| k.remove("_id")) {
                    if ids.insert(format!("{id:?}")) {
                        keys.push(id);
                    }
                }
            }
            Ok::<_, Error>(keys)
        }))
        .await?;
        let mut n = 0;
        for (follow, keys) in follows.iter().zip(changed) {
            for chunk in keys.chunks(CATCH_UP_BATCH) {
                n += self
                    .recopy(source, dest, follow.schema, chunk, field.as_deref())
                    .await?;
            }
            self.report(source.id(), "catch-up", Some(follow.schema.collection), n);
        }
        Ok(n)
    }

    /// Copies the documents with the given `_id`s again, in one read and two writes: the destination's
    /// copies go, and those still at the source are inserted afresh (nothing reads the destination
    /// before the switch, so it need not change in place). Returns how many `_id`s it handled.
    async fn recopy(
        &self,
        source: &Tenant,
        dest: &Tenant,
        schema: &'static Schema,
        ids: &[Bson],
        tenant_field: Option<&str>,
    ) -> Result<u64> {
        let mut found = Vec::new();
        pipeline(source, schema)?
            .find(doc! { "_id": { "$in": ids } }, Default::default(), |raw| {
                found.push(neutral(raw, tenant_field)?);
                Ok(())
            })
            .await?;
        pipeline(dest, schema)?
            .delete(doc! { "_id": { "$in": ids } }, true)
            .await?;
        self.insert_batch(dest, schema, found).await?;
        Ok(ids.len() as u64)
    }
}
