//! The catalogue of tenants: one document per tenant in a control database, saying where the tenant
//! lives, what state it is in, and what happened to it.

use mongodb::bson::{doc, DateTime, Document};
use serde::{Deserialize, Serialize};

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::handle::ModelHandle;

/// What a tenant of the catalogue can do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TenantState {
    /// Its collections are being created; it serves no request yet.
    Provisioning,
    /// It serves requests where its placement says.
    Active,
    /// It is being moved to another placement ([`TenantRecord::moving`] says where and how far); it
    /// serves requests from its source until the cut-over, which holds its requests for a bounded time.
    Moving,
    /// It is refused until resumed (an unpaid bill, an abuse report).
    Suspended,
    /// Its data is being erased; it serves no request.
    Erasing,
    /// Its data is gone; the record stays, with its history.
    Erased,
}

impl TenantState {
    /// The state's name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::Provisioning => "provisioning",
            TenantState::Active => "active",
            TenantState::Moving => "moving",
            TenantState::Suspended => "suspended",
            TenantState::Erasing => "erasing",
            TenantState::Erased => "erased",
        }
    }
}

impl std::fmt::Display for TenantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a move has come ([`TenantRecord::moving`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MovePhase {
    /// The snapshot is being copied and the changes followed; the source serves every request.
    Copy,
    /// The tenant's requests are held while the last changes are copied and the copy verified.
    #[serde(rename = "cutover")]
    CutOver,
}

/// A move under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MoveRecord {
    /// The destination placement.
    pub to: String,
    /// How far it has come.
    pub phase: MovePhase,
    /// When it started.
    pub started_at: DateTime,
}

/// One entry of a tenant's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TenantEvent {
    /// When.
    pub at: DateTime,
    /// The state the tenant entered.
    pub state: TenantState,
    /// Its placement then.
    pub placement: String,
    /// What happened, in a few words (`"provisioned"`, `"moved from shared"`, a suspension's reason).
    pub note: String,
}

/// A tenant in the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, crate::Model)]
#[model(collection = "tenants", version, timestamps)]
#[non_exhaustive]
pub struct TenantRecord {
    /// The tenant id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The placement that holds its data: a name given to
    /// [`FleetBuilder::placement`](crate::FleetBuilder::placement).
    pub placement: String,
    /// What it can do now.
    pub state: TenantState,
    /// The move under way, in state [`TenantState::Moving`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moving: Option<MoveRecord>,
    /// A placement that still holds a copy of the tenant's data to delete: the source of a move that
    /// switched over and has not finished cleaning up (the tenant serves from its placement meanwhile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
    /// What happened to it, oldest first.
    #[serde(default)]
    pub history: Vec<TenantEvent>,
    /// When it was first recorded.
    pub created_at: Option<DateTime>,
    /// When its record last changed.
    pub updated_at: Option<DateTime>,
    /// The record's version, bumped by every change.
    #[serde(rename = "__v", default)]
    pub version: i64,
}

/// The catalogue's collection in a control database: [`TenantRecord`]s, read and changed only through
/// state transitions that name the state they start from, so two processes cannot both move, erase or
/// resume one tenant.
#[derive(Debug, Clone)]
pub struct Catalogue {
    records: ModelHandle<TenantRecord>,
}

impl Catalogue {
    /// The catalogue in `conn`'s database (collection `tenants`). Does no I/O.
    pub fn new(conn: &Connection) -> Catalogue {
        Catalogue {
            records: conn.model::<TenantRecord>(),
        }
    }

    /// The connection to the control database that holds the catalogue.
    pub fn connection(&self) -> &Connection {
        self.records.connection()
    }

    /// The tenant's record, if the catalogue has one.
    pub async fn get(&self, id: &str) -> Result<Option<TenantRecord>> {
        self.records.find_by_id(id).await
    }

    /// Every record, sorted by id.
    pub async fn list(&self) -> Result<Vec<TenantRecord>> {
        self.records.find(doc! {}).sort(doc! { "_id": 1 }).await
    }

    /// The records in `state`, sorted by id.
    pub async fn in_state(&self, state: TenantState) -> Result<Vec<TenantRecord>> {
        self.records
            .find(doc! { "state": state.as_str() })
            .sort(doc! { "_id": 1 })
            .await
    }

    /// Records a new tenant in state [`TenantState::Provisioning`] (an erased one too, at `placement`);
    /// any other existing record is returned as it is.
    pub(crate) async fn record(&self, id: &str, placement: &str) -> Result<TenantRecord> {
        let now = DateTime::now();
        let record = TenantRecord {
            id: id.to_owned(),
            placement: placement.to_owned(),
            state: TenantState::Provisioning,
            moving: None,
            cleanup: None,
            history: vec![TenantEvent {
                at: now,
                state: TenantState::Provisioning,
                placement: placement.to_owned(),
                note: "recorded".into(),
            }],
            created_at: None,
            updated_at: None,
            version: 0,
        };
        match self.records.create(record).await {
            Ok(record) => Ok(record),
            Err(Error::DuplicateKey { .. }) => {
                let existing = self
                    .get(id)
                    .await?
                    .ok_or_else(|| Error::UnknownTenant { id: id.to_owned() })?;
                if existing.state != TenantState::Erased {
                    return Ok(existing);
                }
                // An erased tenant's id can serve a new tenant; its record keeps the history.
                self.transition(
                    id,
                    &[TenantState::Erased],
                    TenantState::Provisioning,
                    doc! { "placement": placement },
                    "recorded again",
                )
                .await
            }
            Err(e) => Err(e),
        }
    }

    /// Moves the tenant from one of `from` to `to`, setting `set` too, and adds an event to its
    /// history. Refused with [`Error::TenantUnavailable`] when the tenant is in another state (another
    /// process got there first).
    pub(crate) async fn transition(
        &self,
        id: &str,
        from: &[TenantState],
        to: TenantState,
        mut set: Document,
        note: &str,
    ) -> Result<TenantRecord> {
        let states: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let current = self
            .get(id)
            .await?
            .ok_or_else(|| Error::UnknownTenant { id: id.to_owned() })?;
        let placement = set
            .get_str("placement")
            .map(str::to_owned)
            .unwrap_or_else(|_| current.placement.clone());
        let now = DateTime::now();
        set.insert("state", to.as_str());
        let event = doc! { "at": now, "state": to.as_str(), "placement": placement, "note": note };
        let updated = self
            .records
            .find_one_and_update(
                doc! { "_id": id, "state": { "$in": &states } },
                doc! { "$set": set, "$push": { "history": event }, "$inc": { "__v": 1 } },
            )
            .return_after()
            .await?;
        updated.ok_or_else(|| Error::TenantUnavailable {
            id: id.to_owned(),
            state: current.state.to_string(),
            why: format!(
                "it is {}, and this needs it {}",
                current.state,
                states.join(" or ")
            ),
        })
    }

    /// Sets fields of a record in its current state, with no event (a move's phase), and returns the
    /// record as it is after.
    pub(crate) async fn set(
        &self,
        id: &str,
        state: TenantState,
        set: Document,
    ) -> Result<TenantRecord> {
        let updated = self
            .records
            .find_one_and_update(
                doc! { "_id": id, "state": state.as_str() },
                doc! { "$set": set, "$inc": { "__v": 1 } },
            )
            .return_after()
            .await?;
        updated.ok_or_else(|| Error::TenantUnavailable {
            id: id.to_owned(),
            state: "changed".into(),
            why: format!("it is no longer {state}: another process changed it"),
        })
    }

    /// The records of the tenants `ids` that the catalogue has.
    pub(crate) async fn records(&self, ids: &[String]) -> Result<Vec<TenantRecord>> {
        self.records.find(doc! { "_id": { "$in": ids } }).await
    }

    /// Follows every change to the catalogue's records, each with the record as it is after.
    pub(crate) async fn watch(&self) -> Result<crate::ChangeStream<TenantRecord>> {
        self.records.watch().full_document_on_update().await
    }
}
