//! The request parts handlers take besides the tenant: the caller ([`AuthUser`], [`MaybeUser`]) and a
//! JSON body whose errors are the API's ([`Body`]).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::Json;
use odm_core::bson::oid::ObjectId;
use odm_core::Tenant;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::models::User;
use super::tenant::CurrentTenant;
use super::AppState;

/// The signed-in caller: the request's tenant, the user its token names in that tenant, and the token.
/// 401 without a token, with a bad or expired one, with one of another tenant, or for a user gone.
#[derive(Clone)]
pub struct AuthUser {
    /// The request's tenant.
    pub tenant: Tenant,
    /// The caller.
    pub user: User,
    /// The caller's id.
    pub id: ObjectId,
    /// The token the request carried.
    pub token: String,
}

/// The caller when the request carries a token, `None` when it carries none; a bad token is still 401.
#[derive(Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl MaybeUser {
    /// The caller's id, if any.
    pub fn id(&self) -> Option<ObjectId> {
        self.0.as_ref().map(|u| u.id)
    }
}

/// The token of an `Authorization: Token <jwt>` header (`Bearer` is accepted too).
fn token(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(ApiError::unauthorized)?;
    if !scheme.eq_ignore_ascii_case("token") && !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized());
    }
    Ok(Some(token.trim().to_owned()))
}

async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
    token: String,
) -> Result<AuthUser, ApiError> {
    let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state)
        .await
        .map_err(|r| ApiError::new(r.status, r.message))?;
    let claims = state
        .keys
        .verify(&token)
        .ok_or_else(ApiError::unauthorized)?;
    if claims.tenant != tenant.id() {
        return Err(ApiError::unauthorized());
    }
    let id = ObjectId::parse_str(&claims.sub).map_err(|_| ApiError::unauthorized())?;
    let user = tenant
        .model::<User>()
        .find_by_id(id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(AuthUser {
        tenant,
        user,
        id,
        token,
    })
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token(parts)?.ok_or_else(ApiError::unauthorized)?;
        authenticate(parts, state, token).await
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match token(parts)? {
            Some(token) => Ok(MaybeUser(Some(authenticate(parts, state, token).await?))),
            None => Ok(MaybeUser(None)),
        }
    }
}

/// A JSON body; a body that is not JSON, or not of the expected shape, is 422 with serde's message.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Body(value))
    }
}
