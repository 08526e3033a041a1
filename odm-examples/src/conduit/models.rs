//! The service's data: five models, each bound per tenant. Unique keys (e-mail, username, slug, one
//! follow per pair, one favourite per pair, one comment number per article) are indexes the models
//! declare; synced through a tenant handle they are unique within the tenant, whatever the strategy.

use odm_core::prelude::*;
use odm_core::Ref;

/// A registered user.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "users", timestamps)]
pub struct User {
    /// The user's id.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    /// The address the user logs in with; unique in the tenant.
    #[field(unique, email, length(max = 254))]
    pub email: String,
    /// The public name; unique in the tenant.
    #[field(unique, length(min = 1, max = 64))]
    pub username: String,
    /// The password's hash (see [`crate::conduit::auth::hash_password`]).
    pub password_hash: String,
    /// What the user says about themselves.
    #[field(length(max = 2000))]
    pub bio: Option<String>,
    /// The URL of the user's picture.
    #[field(length(max = 2000))]
    pub image: Option<String>,
    /// When the user registered.
    pub created_at: Option<DateTime>,
    /// When the user last changed.
    pub updated_at: Option<DateTime>,
}

/// An article. Edits are version-checked: two editors of one version cannot both win.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    collection = "articles",
    timestamps,
    version,
    index(fields("-created_at")),
    index(fields("author", "-created_at")),
    index(fields("tag_list"))
)]
pub struct Article {
    /// The article's id.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    /// The article's address: made from the title, unique in the tenant.
    #[field(unique, length(min = 1, max = 250))]
    pub slug: String,
    /// The title.
    #[field(length(min = 1, max = 200))]
    pub title: String,
    /// A one-line summary.
    #[field(length(max = 1000))]
    pub description: String,
    /// The text, in Markdown.
    #[field(length(min = 1, max = 100_000))]
    pub body: String,
    /// The tags, in the order given.
    #[field(length(max = 20))]
    pub tag_list: Vec<String>,
    /// Who wrote it.
    pub author: Ref<User>,
    /// How many users favourite it; moved with the [`Favorite`] documents in one transaction.
    #[serde(default)]
    pub favorites_count: i64,
    /// How many comments were ever made on it: the next comment's number is one more.
    #[serde(default)]
    pub comments_made: i64,
    /// The version the optimistic checks compare (`__v`).
    #[serde(rename = "__v", default)]
    pub version: i64,
    /// When it was written.
    pub created_at: Option<DateTime>,
    /// When it was last edited.
    pub updated_at: Option<DateTime>,
}

/// A comment on an article.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    collection = "comments",
    timestamps,
    index(fields("article", "number"), unique)
)]
pub struct Comment {
    /// The comment's id.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    /// The comment's number within its article: the `id` of the API.
    pub number: i64,
    /// The article it is on.
    pub article: Ref<Article>,
    /// Who wrote it.
    pub author: Ref<User>,
    /// The text.
    #[field(length(min = 1, max = 10_000))]
    pub body: String,
    /// When it was written.
    pub created_at: Option<DateTime>,
    /// When it was last changed.
    pub updated_at: Option<DateTime>,
}

/// One user following another.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    collection = "follows",
    index(fields("follower", "followee"), unique),
    index(fields("followee"))
)]
pub struct Follow {
    /// The follow's id.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    /// Who follows.
    pub follower: Ref<User>,
    /// Who is followed.
    pub followee: Ref<User>,
}

/// One user favouriting one article.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    collection = "favorites",
    index(fields("user", "article"), unique),
    index(fields("article"))
)]
pub struct Favorite {
    /// The favourite's id.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    /// Who favourites.
    pub user: Ref<User>,
    /// The article.
    pub article: Ref<Article>,
}

/// Creates the indexes of every model for one tenant: run once per tenant before its first request.
pub async fn sync_indexes(tenant: &odm_core::Tenant) -> odm_core::Result<()> {
    tenant.model::<User>().sync_indexes().await?;
    tenant.model::<Article>().sync_indexes().await?;
    tenant.model::<Comment>().sync_indexes().await?;
    tenant.model::<Follow>().sync_indexes().await?;
    tenant.model::<Favorite>().sync_indexes().await?;
    Ok(())
}
