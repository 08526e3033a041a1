//! The guide: chapters on using the library, from a first model to deploying against Atlas. Every code
//! block is a doctest; those that need a server run against `MONGODB_URI` (`scripts/test-server run --
//! cargo test -p odm-core --doc` starts one), each in a database of its own.
//!
//! 1. [Getting started](getting_started): the two commands, then a first model.
//! 2. [Defining models](defining_models): every `#[model]` and `#[field]` attribute, embedded documents,
//!    and the schema docs the derive writes.
//! 3. [Connections and `use_db`](connections): one pool, many databases.
//! 4. [Tenancy](tenancy): a database, a collection or a field per tenant, and when to pick each.
//! 5. [Queries](queries): typed and raw filters, updates, sorts and projections.
//! 6. [Validation](validation): rules, what a failure reports, and the server-side `$jsonSchema`.
//! 7. [Indexes](indexes): declaring them, `diff_indexes` and `sync_indexes`.
//! 8. [Saving and versions](saving): `save`, `VersionConflict`, timestamps, and `prepare` for writes of
//!    your own.
//! 9. [Hooks](hooks): code of the model's own around its writes.
//! 10. [References and populate](populate): `Ref<T>` and one query per path.
//! 11. [Transactions](transactions): all or nothing, with the driver's retry rules.
//! 12. [Change streams](change_streams): typed events and resume tokens.
//! 13. [Errors](errors): every variant and what to do about it.
//! 14. [Deploying](deploying): replica sets, sharded clusters, Atlas, and the connection budget.
//! 15. [Observability](observability): a span per operation labelled by tenant, slow-operation
//!     warnings, metrics that cannot blow up on a million tenants, and who stores the most.
//! 16. [Coming from Mongoose](coming_from_mongoose): a side-by-side table.
//!
//! A further chapter, *Web services* (`docs/web-services.md`), builds a multi-tenant HTTP API with axum on
//! the library; it lives in the documentation of `odm-examples` (`odm_examples::conduit`), beside the
//! `conduit` service its examples come from, since they need axum.

// `odm-core/docs` is a link to the repository's `docs/`: the chapters have one source, and `cargo package`
// copies them into the crate, so the guide builds from the published crate too.

#[doc = include_str!("../docs/getting-started.md")]
pub mod getting_started {}

#[doc = include_str!("../docs/defining-models.md")]
pub mod defining_models {}

#[doc = include_str!("../docs/connections.md")]
pub mod connections {}

#[doc = include_str!("../docs/tenancy.md")]
pub mod tenancy {}

#[doc = include_str!("../docs/lifecycle.md")]
pub mod lifecycle {}

#[doc = include_str!("../docs/migrations.md")]
pub mod migrations {}

#[doc = include_str!("../docs/queries.md")]
pub mod queries {}

#[doc = include_str!("../docs/validation.md")]
pub mod validation {}

#[doc = include_str!("../docs/indexes.md")]
pub mod indexes {}

#[doc = include_str!("../docs/saving.md")]
pub mod saving {}

#[doc = include_str!("../docs/hooks.md")]
pub mod hooks {}

#[doc = include_str!("../docs/populate.md")]
pub mod populate {}

#[doc = include_str!("../docs/transactions.md")]
pub mod transactions {}

#[doc = include_str!("../docs/change-streams.md")]
pub mod change_streams {}

#[doc = include_str!("../docs/errors.md")]
pub mod errors {}

#[doc = include_str!("../docs/deploying.md")]
pub mod deploying {}

#[doc = include_str!("../docs/observability.md")]
pub mod observability {}

#[doc = include_str!("../docs/coming-from-mongoose.md")]
pub mod coming_from_mongoose {}
