//! Conduit: the RealWorld example API (a Medium-like blog: users, profiles, articles, comments, tags,
//! favourites and a feed), served for many tenants over one connection pool.
//!
//! Every request names its tenant, by path (`/t/{tenant}/api/...`) or by the `X-Tenant` header on
//! `/api/...`; [`tenant::CurrentTenant`] turns that into an [`odm_core::Tenant`], and every handler reads
//! and writes through models bound to it, so one tenant's users, tokens, slugs and comments never reach
//! another's. Where the data lives is the [`odm_core::Strategy`] given to [`AppState::new`].
//!
//! The pieces: [`models`] (the data), [`tenant`] (request to tenant), [`auth`] (passwords and tokens),
//! [`json`] (serde helpers for ids and dates), [`error`] (errors as HTTP). [`app`] builds the router;
//! the `conduit` binary serves it.
#![doc = include_str!("../../../docs/web-services.md")]

pub mod auth;
pub mod error;
pub mod extract;
pub mod json;
pub mod models;
mod routes;
pub mod tenant;
pub mod views;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use odm_core::{Connection, Strategy, Tenants};

use self::tenant::TenantDirectory;

/// What every handler can reach: the tenants and the token keys. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The tenants, and which of them are prepared.
    pub directory: TenantDirectory,
    /// The keys that sign and check tokens.
    pub keys: Arc<auth::Keys>,
    /// The PBKDF2 round count for new password hashes.
    pub password_rounds: u32,
    /// A hash of no one's password, checked when a login names an unknown address.
    pub unknown_user_hash: Arc<str>,
}

impl FromRef<AppState> for TenantDirectory {
    fn from_ref(state: &AppState) -> TenantDirectory {
        state.directory.clone()
    }
}

/// How the service is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where each tenant's data lives.
    pub strategy: Strategy,
    /// The token keys.
    pub keys: auth::Keys,
    /// The PBKDF2 round count for new password hashes.
    pub password_rounds: u32,
}

impl Settings {
    /// Settings with `strategy`, random token keys (tokens die with the process) and the default
    /// password round count.
    pub fn new(strategy: Strategy) -> Settings {
        Settings {
            strategy,
            keys: auth::Keys::random(auth::DEFAULT_TOKEN_TTL),
            password_rounds: auth::DEFAULT_PASSWORD_ROUNDS,
        }
    }
}

impl AppState {
    /// The state over `conn` (whose database holds the data of the collection-per-tenant and shared
    /// strategies). Fails when the strategy cannot make valid names.
    pub fn new(conn: Connection, settings: Settings) -> odm_core::Result<AppState> {
        let tenants = Tenants::new(conn, settings.strategy)?;
        let directory = TenantDirectory::new(tenants, |tenant| async move {
            models::sync_indexes(&tenant).await
        });
        Ok(AppState {
            directory,
            keys: Arc::new(settings.keys),
            password_rounds: settings.password_rounds,
            unknown_user_hash: auth::hash_password("", settings.password_rounds).into(),
        })
    }
}

/// The service's router: the API under `/t/{tenant}/api` and, with the `X-Tenant` header, under `/api`.
pub fn app(state: AppState) -> Router {
    let api = routes::api();
    Router::new()
        .nest("/t/{tenant}/api", api.clone())
        .nest("/api", api)
        .with_state(state)
}
