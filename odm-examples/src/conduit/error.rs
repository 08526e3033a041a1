//! The API's errors and their HTTP form: a status and `{"errors": {"body": ["..."]}}`.
//!
//! [`odm_core::Error`]s map here in one place: a failed rule is 422 with every failing field, a duplicate
//! unique key is 422 naming the field, a version conflict is 409, a bad tenant id is 400. Anything else
//! is 500 with a generic message (the detail goes to the log, never to the client).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use odm_core::Error;

/// An error the API answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The messages of the `errors.body` list.
    pub messages: Vec<String>,
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with one message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            messages: vec![message.into()],
        }
    }

    /// 401: no token, or one that is not valid here.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid token is required: send `Authorization: Token <jwt>`",
        )
    }

    /// 403: the caller may not do this to someone else's data.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 404: nothing of that name in this tenant.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// 422: the request's content is not acceptable.
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 500, with the detail logged rather than sent.
    pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        eprintln!("conduit: internal error: {detail}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Validation(v) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                messages: v
                    .errors
                    .iter()
                    .map(|f| {
                        let field = f.path.strip_prefix("tag_list").map_or(f.path.as_str(), |_| "tagList");
                        if field.is_empty() { f.message.clone() } else { format!("{field}: {}", f.message) }
                    })
                    .collect(),
            },
            Error::DuplicateKey { ref index, .. } => {
                let index = index.as_deref().unwrap_or_default();
                let field = ["email", "username", "slug"]
                    .into_iter()
                    .find(|f| index.contains(f))
                    .unwrap_or("value");
                ApiError::unprocessable(format!("{field} has already been taken"))
            }
            Error::VersionConflict { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "the article was changed by someone else since it was read: read it again and retry",
            ),
            Error::InvalidTenant { .. } => ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
            other => ApiError::internal(&other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> ApiError {
        ApiError::unprocessable(e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::unprocessable(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "errors": { "body": self.messages } });
        (self.status, Json(body)).into_response()
    }
}
