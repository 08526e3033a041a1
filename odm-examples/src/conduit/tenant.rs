//! Which tenant a request is for: an axum extractor to copy into your service.
//!
//! A request names its tenant in the path (`/t/{tenant}/api/...`, a route parameter named `tenant`) or,
//! on routes without that parameter, in the `X-Tenant` header. [`CurrentTenant`] reads it, checks it with
//! the library's rules ([`odm_core::Tenants::get`]: a bad id is 400 with the library's message, before any
//! database name is built from it), makes sure the tenant's indexes exist the first time this process
//! sees the tenant, and hands the handler an [`odm_core::Tenant`] whose models reach only that tenant's
//! data:
//!
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use odm_core::{Connection, Strategy, Tenants};
//! use odm_examples::conduit::tenant::{CurrentTenant, TenantDirectory};
//!
//! async fn count_users(CurrentTenant(tenant): CurrentTenant) -> Json<u64> {
//!     let users = tenant.model::<odm_examples::conduit::models::User>();
//!     Json(users.count(()).await.unwrap_or(0))
//! }
//!
//! # async fn run() -> odm_core::Result<()> {
//! let conn = Connection::connect("mongodb://127.0.0.1:27017/app").await?;
//! let tenants = Tenants::new(conn, Strategy::database_per_tenant("app_"))?;
//! let directory = TenantDirectory::new(tenants, |tenant| {
//!     Box::pin(async move { odm_examples::conduit::models::sync_indexes(&tenant).await })
//! });
//! let api = Router::new().route("/users/count", get(count_users));
//! let app: Router = Router::new()
//!     .nest("/t/{tenant}/api", api.clone()) // the tenant in the path
//!     .nest("/api", api)                    // or in the `X-Tenant` header
//!     .with_state(directory);
//! # let _ = app; Ok(()) }
//! ```
//!
//! The state only has to give a [`TenantDirectory`] through [`FromRef`], so the extractor works in an
//! app state of your own too.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use odm_core::{Tenant, Tenants};
use tokio::sync::OnceCell;

/// The header that names the tenant on routes without a `{tenant}` path parameter.
pub const TENANT_HEADER: &str = "x-tenant";

/// The route parameter that names the tenant.
pub const TENANT_PARAM: &str = "tenant";

/// What the directory runs once per tenant and process before the tenant's first request: typically
/// `sync_indexes` of every model.
pub type Prepare =
    Arc<dyn Fn(Tenant) -> Pin<Box<dyn Future<Output = odm_core::Result<()>> + Send>> + Send + Sync>;

/// The tenants of the service, and which of them this process has prepared. Cheap to clone.
///
/// The set of prepared tenants grows by one small entry per tenant id the process meets; a service that
/// accepts any valid id (as `conduit` does) should check ids against its own list of customers first.
#[derive(Clone)]
pub struct TenantDirectory {
    tenants: Tenants,
    prepare: Prepare,
    prepared: Arc<Mutex<HashMap<String, Arc<OnceCell<()>>>>>,
}

impl TenantDirectory {
    /// A directory over `tenants` that runs `prepare` for each tenant before its first request (once per
    /// process; a failed preparation is tried again by the next request).
    pub fn new<F, Fut>(tenants: Tenants, prepare: F) -> TenantDirectory
    where
        F: Fn(Tenant) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = odm_core::Result<()>> + Send + 'static,
    {
        TenantDirectory {
            tenants,
            prepare: Arc::new(move |tenant| Box::pin(prepare(tenant))),
            prepared: Arc::default(),
        }
    }

    /// The tenants.
    pub fn tenants(&self) -> &Tenants {
        &self.tenants
    }

    /// The tenant `id`, checked and prepared.
    pub async fn get(&self, id: &str) -> Result<Tenant, TenantRejection> {
        let tenant = self
            .tenants
            .get(id)
            .map_err(|e| TenantRejection::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let cell = {
            let mut prepared = self.prepared.lock().expect("the directory's lock");
            prepared.entry(id.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| (self.prepare)(tenant.clone()))
            .await
            .map_err(|e| {
                eprintln!("conduit: preparing tenant `{id}` failed: {e}");
                TenantRejection::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the tenant's data is not ready; try again",
                )
            })?;
        Ok(tenant)
    }
}

/// The tenant of the request, checked and prepared. See the [module docs](self).
#[derive(Clone)]
pub struct CurrentTenant(pub Tenant);

impl<S> FromRequestParts<S> for CurrentTenant
where
    S: Send + Sync,
    TenantDirectory: FromRef<S>,
{
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = tenant_id(parts).await?;
        let directory = TenantDirectory::from_ref(state);
        Ok(CurrentTenant(directory.get(&id).await?))
    }
}

/// The tenant id a request names: the `{tenant}` path parameter, else the `X-Tenant` header. A request
/// that names two different tenants, or none, is refused.
pub async fn tenant_id(parts: &mut Parts) -> Result<String, TenantRejection> {
    let from_path = match RawPathParams::from_request_parts(parts, &()).await {
        Ok(params) => params
            .iter()
            .find(|(name, _)| *name == TENANT_PARAM)
            .map(|(_, value)| value.to_owned()),
        Err(_) => None,
    };
    let from_header = match parts.headers.get(TENANT_HEADER) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| TenantRejection::bad_request("the X-Tenant header is not text"))?
                .to_owned(),
        ),
        None => None,
    };
    match (from_path, from_header) {
        (Some(path), Some(header)) if path != header => Err(TenantRejection::bad_request(format!(
            "the path names tenant `{path}` but the X-Tenant header names `{header}`"
        ))),
        (Some(id), _) | (None, Some(id)) => Ok(id),
        (None, None) => Err(TenantRejection::bad_request(
            "no tenant: call /t/{tenant}/api/... or send the X-Tenant header",
        )),
    }
}

/// Why no tenant could be had: 400 for a missing or bad id, 503 when the tenant could not be prepared.
/// Answers `{"errors": {"body": ["..."]}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRejection {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, in words.
    pub message: String,
}

impl TenantRejection {
    /// A rejection with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> TenantRejection {
        TenantRejection {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> TenantRejection {
        TenantRejection::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for TenantRejection {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "errors": { "body": [self.message] } });
        (self.status, Json(body)).into_response()
    }
}
