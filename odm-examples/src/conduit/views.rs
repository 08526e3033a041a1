//! The API's JSON: what the handlers answer, with ids and dates as the spec spells them (see [`json`]),
//! and the few queries that fill in who follows and who favourites, one per page of results.

use std::collections::{HashMap, HashSet};

use odm_core::bson::{doc, oid::ObjectId, Bson, DateTime};
use odm_core::{Populated, Tenant};
use serde::Serialize;

use super::error::ApiResult;
use super::json;
use super::models::{Article, Comment, Favorite, Follow, User};

/// A user as they see themselves, with their token.
#[derive(Debug, Serialize)]
pub struct UserView {
    /// The e-mail address.
    pub email: String,
    /// The token to send back.
    pub token: String,
    /// The public name.
    pub username: String,
    /// The bio.
    pub bio: Option<String>,
    /// The picture's URL.
    pub image: Option<String>,
}

impl UserView {
    /// The view of `user` with `token`.
    pub fn new(user: &User, token: String) -> UserView {
        UserView {
            email: user.email.clone(),
            token,
            username: user.username.clone(),
            bio: user.bio.clone(),
            image: user.image.clone(),
        }
    }
}

/// A user as others see them.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// The public name.
    pub username: String,
    /// The bio.
    pub bio: Option<String>,
    /// The picture's URL.
    pub image: Option<String>,
    /// Whether the caller follows them.
    pub following: bool,
}

impl Profile {
    /// The profile of `user`, followed or not.
    pub fn new(user: &User, following: bool) -> Profile {
        Profile {
            username: user.username.clone(),
            bio: user.bio.clone(),
            image: user.image.clone(),
            following,
        }
    }
}

/// An article as the API shows it. Lists leave the body out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArticleView {
    /// The address.
    pub slug: String,
    /// The title.
    pub title: String,
    /// The summary.
    pub description: String,
    /// The text; absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The tags.
    pub tag_list: Vec<String>,
    /// When it was written.
    #[serde(serialize_with = "json::rfc3339")]
    pub created_at: DateTime,
    /// When it was last edited.
    #[serde(serialize_with = "json::rfc3339")]
    pub updated_at: DateTime,
    /// Whether the caller favourites it.
    pub favorited: bool,
    /// How many users favourite it.
    pub favorites_count: i64,
    /// Who wrote it.
    pub author: Profile,
}

/// A comment as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    /// The comment's number within its article.
    pub id: i64,
    /// When it was written.
    #[serde(serialize_with = "json::rfc3339")]
    pub created_at: DateTime,
    /// When it was last changed.
    #[serde(serialize_with = "json::rfc3339")]
    pub updated_at: DateTime,
    /// The text.
    pub body: String,
    /// Who wrote it.
    pub author: Profile,
}

/// Of `authors`, those the `viewer` follows (one query).
pub async fn followed(
    tenant: &Tenant,
    viewer: Option<ObjectId>,
    authors: impl IntoIterator<Item = ObjectId>,
) -> ApiResult<HashSet<ObjectId>> {
    let Some(viewer) = viewer else {
        return Ok(HashSet::new());
    };
    let authors: Vec<ObjectId> = authors.into_iter().collect();
    if authors.is_empty() {
        return Ok(HashSet::new());
    }
    let follows = tenant
        .model::<Follow>()
        .find(doc! { "follower": viewer, "followee": { "$in": authors } })
        .await?;
    Ok(follows
        .into_iter()
        .filter_map(|f| f.followee.id().as_object_id())
        .collect())
}

fn ref_id(id: &Bson) -> Option<ObjectId> {
    id.as_object_id()
}

/// The views of `articles`, found with their authors populated; `with_body` for single articles.
pub async fn articles(
    tenant: &Tenant,
    viewer: Option<ObjectId>,
    found: Populated<Article>,
    with_body: bool,
) -> ApiResult<Vec<ArticleView>> {
    let authors: HashSet<ObjectId> = found.iter().filter_map(|a| ref_id(a.author.id())).collect();
    let following = followed(tenant, viewer, authors).await?;
    let favorited: HashSet<ObjectId> = match viewer {
        Some(viewer) if !found.is_empty() => {
            let ids: Vec<ObjectId> = found.iter().filter_map(|a| a.id).collect();
            tenant
                .model::<Favorite>()
                .find(doc! { "user": viewer, "article": { "$in": ids } })
                .await?
                .into_iter()
                .filter_map(|f| ref_id(f.article.id()))
                .collect()
        }
        _ => HashSet::new(),
    };
    let mut views = Vec::with_capacity(found.len());
    for article in found.iter() {
        let Some(author) = found.get(&article.author) else {
            continue; // an author gone: the article is not shown
        };
        let author_id = ref_id(article.author.id());
        views.push(ArticleView {
            slug: article.slug.clone(),
            title: article.title.clone(),
            description: article.description.clone(),
            body: with_body.then(|| article.body.clone()),
            tag_list: article.tag_list.clone(),
            created_at: article.created_at.unwrap_or(DateTime::MIN),
            updated_at: article.updated_at.unwrap_or(DateTime::MIN),
            favorited: article.id.is_some_and(|id| favorited.contains(&id)),
            favorites_count: article.favorites_count,
            author: Profile::new(author, author_id.is_some_and(|id| following.contains(&id))),
        });
    }
    Ok(views)
}

/// The views of `comments`, found with their authors populated.
pub async fn comments(
    tenant: &Tenant,
    viewer: Option<ObjectId>,
    found: Populated<Comment>,
) -> ApiResult<Vec<CommentView>> {
    let authors: HashSet<ObjectId> = found.iter().filter_map(|c| ref_id(c.author.id())).collect();
    let following = followed(tenant, viewer, authors).await?;
    let mut profiles: HashMap<ObjectId, Profile> = HashMap::new();
    let mut views = Vec::with_capacity(found.len());
    for comment in found.iter() {
        let (Some(author), Some(author_id)) =
            (found.get(&comment.author), ref_id(comment.author.id()))
        else {
            continue;
        };
        let profile = profiles
            .entry(author_id)
            .or_insert_with(|| Profile::new(author, following.contains(&author_id)))
            .clone();
        views.push(CommentView {
            id: comment.number,
            created_at: comment.created_at.unwrap_or(DateTime::MIN),
            updated_at: comment.updated_at.unwrap_or(DateTime::MIN),
            body: comment.body.clone(),
            author: profile,
        });
    }
    Ok(views)
}
