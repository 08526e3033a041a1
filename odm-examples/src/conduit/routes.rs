//! The handlers of the RealWorld API, each reading and writing through the request's tenant.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use odm_core::bson::{doc, oid::ObjectId, Document};
use odm_core::prelude::*;
use odm_core::{Ref, Tenant};
use serde::Deserialize;
use serde_json::json;

use super::auth::{hash_password, verify_password};
use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, Body, MaybeUser};
use super::models::{Article, Comment, Favorite, Follow, User};
use super::tenant::CurrentTenant;
use super::views::{self, ArticleView, Profile, UserView};
use super::AppState;

/// The API's routes, relative to its root (`/api` or `/t/{tenant}/api`).
pub(super) fn api() -> Router<AppState> {
    Router::new()
        .route("/users", post(register))
        .route("/users/login", post(login))
        .route("/user", get(current_user).put(update_user))
        .route("/profiles/{username}", get(profile))
        .route("/profiles/{username}/follow", post(follow).delete(unfollow))
        .route("/articles", get(list_articles).post(create_article))
        .route("/articles/feed", get(feed))
        .route(
            "/articles/{slug}",
            get(get_article).put(update_article).delete(delete_article),
        )
        .route(
            "/articles/{slug}/favorite",
            post(favorite).delete(unfavorite),
        )
        .route(
            "/articles/{slug}/comments",
            get(list_comments).post(add_comment),
        )
        .route("/articles/{slug}/comments/{id}", delete(delete_comment))
        .route("/tags", get(tags))
}

#[derive(Deserialize)]
struct UserBody<T> {
    user: T,
}

#[derive(Deserialize)]
struct ArticleBody<T> {
    article: T,
}

#[derive(Deserialize)]
struct CommentBody {
    comment: NewComment,
}

#[derive(Deserialize)]
struct NewUser {
    username: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct UserChanges {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    bio: Option<String>,
    image: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewArticle {
    title: String,
    description: String,
    body: String,
    #[serde(default)]
    tag_list: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArticleChanges {
    title: Option<String>,
    description: Option<String>,
    body: Option<String>,
    tag_list: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct NewComment {
    body: String,
}

#[derive(Deserialize)]
struct UserPath {
    username: String,
}

#[derive(Deserialize)]
struct SlugPath {
    slug: String,
}

#[derive(Deserialize)]
struct CommentPath {
    slug: String,
    id: String,
}

#[derive(Deserialize)]
struct ListQuery {
    tag: Option<String>,
    author: Option<String>,
    favorited: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// The largest page a list answers.
const MAX_LIMIT: i64 = 100;

fn json_with(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

async fn hash(state: &AppState, password: String) -> ApiResult<String> {
    if password.is_empty() || password.len() > 1024 {
        return Err(ApiError::unprocessable(
            "password: must be 1 to 1024 bytes long",
        ));
    }
    let rounds = state.password_rounds;
    tokio::task::spawn_blocking(move || hash_password(&password, rounds))
        .await
        .map_err(|e| ApiError::internal(&e))
}

fn user_id(user: &User) -> ApiResult<ObjectId> {
    user.id
        .ok_or_else(|| ApiError::internal(&"a stored user without an id"))
}

async fn register(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Body(body): Body<UserBody<NewUser>>,
) -> ApiResult<Response> {
    let NewUser {
        username,
        email,
        password,
    } = body.user;
    let password_hash = hash(&state, password).await?;
    let user = tenant
        .model::<User>()
        .create(User {
            id: None,
            email: email.trim().to_lowercase(),
            username: username.trim().to_owned(),
            password_hash,
            bio: None,
            image: None,
            created_at: None,
            updated_at: None,
        })
        .await?;
    let token = state.keys.issue(tenant.id(), &user_id(&user)?.to_hex());
    Ok(json_with(
        StatusCode::CREATED,
        json!({ "user": UserView::new(&user, token) }),
    ))
}

async fn login(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Body(body): Body<UserBody<Login>>,
) -> ApiResult<Response> {
    let Login { email, password } = body.user;
    let invalid = || ApiError::new(StatusCode::UNAUTHORIZED, "email or password is invalid");
    let user = tenant
        .model::<User>()
        .find_one(User::fields().email.eq(email.trim().to_lowercase()))
        .await?;
    // An unknown address costs the same hashing as a wrong password, so the time of the answer does
    // not tell which addresses are registered.
    let stored = match &user {
        Some(user) => user.password_hash.clone(),
        None => state.unknown_user_hash.to_string(),
    };
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let user = user.filter(|_| matches).ok_or_else(invalid)?;
    let token = state.keys.issue(tenant.id(), &user_id(&user)?.to_hex());
    Ok(json_with(
        StatusCode::OK,
        json!({ "user": UserView::new(&user, token) }),
    ))
}

async fn current_user(me: AuthUser) -> Json<serde_json::Value> {
    Json(json!({ "user": UserView::new(&me.user, me.token) }))
}

async fn update_user(
    State(state): State<AppState>,
    me: AuthUser,
    Body(body): Body<UserBody<UserChanges>>,
) -> ApiResult<Json<serde_json::Value>> {
    let changes = body.user;
    let mut set = Document::new();
    if let Some(email) = changes.email {
        set.insert("email", email.trim().to_lowercase());
    }
    if let Some(username) = changes.username {
        set.insert("username", username.trim());
    }
    if let Some(password) = changes.password {
        set.insert("password_hash", hash(&state, password).await?);
    }
    if let Some(bio) = changes.bio {
        set.insert("bio", bio);
    }
    if let Some(image) = changes.image {
        set.insert("image", image);
    }
    let users = me.tenant.model::<User>();
    if !set.is_empty() {
        users
            .update_one(doc! { "_id": me.id }, doc! { "$set": set })
            .await?;
    }
    let user = users
        .find_by_id(me.id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(json!({ "user": UserView::new(&user, me.token) })))
}

async fn find_user(tenant: &Tenant, username: &str) -> ApiResult<User> {
    tenant
        .model::<User>()
        .find_one(User::fields().username.eq(username))
        .await?
        .ok_or_else(|| ApiError::not_found("profile"))
}

async fn follows(tenant: &Tenant, follower: ObjectId, followee: ObjectId) -> ApiResult<bool> {
    Ok(tenant
        .model::<Follow>()
        .exists(doc! { "follower": follower, "followee": followee })
        .await?)
}

async fn profile(
    CurrentTenant(tenant): CurrentTenant,
    viewer: MaybeUser,
    Path(path): Path<UserPath>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = find_user(&tenant, &path.username).await?;
    let following = match viewer.id() {
        Some(viewer) => follows(&tenant, viewer, user_id(&user)?).await?,
        None => false,
    };
    Ok(Json(json!({ "profile": Profile::new(&user, following) })))
}

async fn follow(me: AuthUser, Path(path): Path<UserPath>) -> ApiResult<Json<serde_json::Value>> {
    let user = find_user(&me.tenant, &path.username).await?;
    let them = user_id(&user)?;
    if them == me.id {
        return Err(ApiError::unprocessable("you cannot follow yourself"));
    }
    let created = me
        .tenant
        .model::<Follow>()
        .create(Follow {
            id: None,
            follower: Ref::new(me.id),
            followee: Ref::new(them),
        })
        .await;
    match created {
        Ok(_) | Err(Error::DuplicateKey { .. }) => {} // following already: the same answer
        Err(e) => return Err(e.into()),
    }
    Ok(Json(json!({ "profile": Profile::new(&user, true) })))
}

async fn unfollow(me: AuthUser, Path(path): Path<UserPath>) -> ApiResult<Json<serde_json::Value>> {
    let user = find_user(&me.tenant, &path.username).await?;
    me.tenant
        .model::<Follow>()
        .delete_one(doc! { "follower": me.id, "followee": user_id(&user)? })
        .await?;
    Ok(Json(json!({ "profile": Profile::new(&user, false) })))
}

/// `limit` and `offset` of a list query: 1 to [`MAX_LIMIT`] (20 by default) and 0 or more.
fn page(query: &ListQuery) -> ApiResult<(i64, u64)> {
    let limit = match &query.limit {
        None => 20,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::unprocessable(format!("limit: must be an integer from 1 to {MAX_LIMIT}"))
            })?,
    };
    let offset = match &query.offset {
        None => 0,
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| ApiError::unprocessable("offset: must be an integer of 0 or more"))?,
    };
    Ok((limit, offset))
}

/// A page of articles that match `filter`, newest first, and how many match in all.
async fn article_page(
    tenant: &Tenant,
    viewer: Option<ObjectId>,
    filter: Document,
    (limit, offset): (i64, u64),
) -> ApiResult<Json<serde_json::Value>> {
    let articles = tenant.model::<Article>();
    let count = articles.count(filter.clone()).await?;
    let found = articles
        .find(filter)
        .sort(doc! { "created_at": -1, "_id": -1 })
        .skip(offset)
        .limit(limit)
        .populate(Article::fields().author.clone())
        .await?;
    let views = views::articles(tenant, viewer, found, false).await?;
    Ok(Json(json!({ "articles": views, "articlesCount": count })))
}

fn empty_page() -> Json<serde_json::Value> {
    Json(json!({ "articles": [], "articlesCount": 0 }))
}

async fn list_articles(
    CurrentTenant(tenant): CurrentTenant,
    viewer: MaybeUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(query) = query?;
    let page = page(&query)?;
    let mut filter = Document::new();
    if let Some(tag) = &query.tag {
        filter.insert("tag_list", tag);
    }
    if let Some(author) = &query.author {
        let Some(author) = tenant
            .model::<User>()
            .find_one(User::fields().username.eq(author))
            .await?
        else {
            return Ok(empty_page());
        };
        filter.insert("author", user_id(&author)?);
    }
    if let Some(fan) = &query.favorited {
        let Some(fan) = tenant
            .model::<User>()
            .find_one(User::fields().username.eq(fan))
            .await?
        else {
            return Ok(empty_page());
        };
        let ids: Vec<_> = tenant
            .model::<Favorite>()
            .find(doc! { "user": user_id(&fan)? })
            .await?
            .into_iter()
            .map(|f| f.article.into_id())
            .collect();
        filter.insert("_id", doc! { "$in": ids });
    }
    article_page(&tenant, viewer.id(), filter, page).await
}

async fn feed(
    me: AuthUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(query) = query?;
    let page = page(&query)?;
    let followees: Vec<_> = me
        .tenant
        .model::<Follow>()
        .find(doc! { "follower": me.id })
        .await?
        .into_iter()
        .map(|f| f.followee.into_id())
        .collect();
    article_page(
        &me.tenant,
        Some(me.id),
        doc! { "author": { "$in": followees } },
        page,
    )
    .await
}

/// The slug of a title: lower-case letters and digits, words joined by `-`.
pub(super) fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(200).collect();
    if slug.is_empty() {
        "article".to_owned()
    } else {
        slug
    }
}

fn with_suffix(base: &str) -> String {
    let mut bytes = [0u8; 3];
    getrandom::fill(&mut bytes).expect("the system's random source");
    format!("{base}-{:02x}{:02x}{:02x}", bytes[0], bytes[1], bytes[2])
}

fn slug_taken(e: &Error) -> bool {
    matches!(e, Error::DuplicateKey { index, message, .. }
        if index.as_deref().map_or(message.contains("slug"), |i| i.contains("slug")))
}

/// Tags trimmed, without blanks or repeats, in alphabetical order (the order the spec's clients
/// expect back).
fn clean_tags(tags: Vec<String>) -> Vec<String> {
    let mut clean: Vec<String> = tags
        .into_iter()
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| !tag.is_empty())
        .collect();
    clean.sort();
    clean.dedup();
    clean
}

/// The article with `filter`, its view, and its version.
async fn load_article(
    tenant: &Tenant,
    viewer: Option<ObjectId>,
    filter: Document,
) -> ApiResult<(ArticleView, i64)> {
    let found = tenant
        .model::<Article>()
        .find(filter)
        .limit(1)
        .populate(Article::fields().author.clone())
        .await?;
    let version = found.items().first().map(|a| a.version);
    let view = views::articles(tenant, viewer, found, true)
        .await?
        .into_iter()
        .next();
    match (view, version) {
        (Some(view), Some(version)) => Ok((view, version)),
        _ => Err(ApiError::not_found("article")),
    }
}

fn article_response(status: StatusCode, view: ArticleView, version: i64) -> Response {
    let mut response = json_with(status, json!({ "article": view }));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

async fn article_by_slug(tenant: &Tenant, slug: &str) -> ApiResult<Article> {
    tenant
        .model::<Article>()
        .find_one(Article::fields().slug.eq(slug))
        .await?
        .ok_or_else(|| ApiError::not_found("article"))
}

fn article_id(article: &Article) -> ApiResult<ObjectId> {
    article
        .id
        .ok_or_else(|| ApiError::internal(&"a stored article without an id"))
}

fn is_author(article: &Article, me: &AuthUser) -> bool {
    article.author.id().as_object_id() == Some(me.id)
}

async fn create_article(
    me: AuthUser,
    Body(body): Body<ArticleBody<NewArticle>>,
) -> ApiResult<Response> {
    let NewArticle {
        title,
        description,
        body,
        tag_list,
    } = body.article;
    let base = slugify(&title);
    let mut article = Article {
        id: Some(ObjectId::new()),
        slug: base.clone(),
        title,
        description,
        body,
        tag_list: clean_tags(tag_list),
        author: Ref::new(me.id),
        favorites_count: 0,
        comments_made: 0,
        version: 0,
        created_at: None,
        updated_at: None,
    };
    let articles = me.tenant.model::<Article>();
    let mut attempts = 0;
    let created = loop {
        match articles.create(article.clone()).await {
            Ok(created) => break created,
            Err(e) if slug_taken(&e) && attempts < 5 => {
                attempts += 1;
                article.slug = with_suffix(&base);
            }
            Err(e) => return Err(e.into()),
        }
    };
    let (view, version) = load_article(
        &me.tenant,
        Some(me.id),
        doc! { "_id": article_id(&created)? },
    )
    .await?;
    Ok(article_response(StatusCode::CREATED, view, version))
}

async fn get_article(
    CurrentTenant(tenant): CurrentTenant,
    viewer: MaybeUser,
    Path(path): Path<SlugPath>,
) -> ApiResult<Response> {
    let (view, version) = load_article(&tenant, viewer.id(), doc! { "slug": path.slug }).await?;
    Ok(article_response(StatusCode::OK, view, version))
}

/// The version an `If-Match: "N"` header names, if any.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "If-Match: must be an ETag this API gave, such as \"3\"",
            )
        })
}

/// Edits an article, only if it is still at the version the caller read (`If-Match`) or, without that
/// header, at the version this request read: of two editors of one version, one wins and the other gets
/// 409, so no edit is lost without a word.
async fn update_article(
    me: AuthUser,
    Path(path): Path<SlugPath>,
    headers: HeaderMap,
    Body(body): Body<ArticleBody<ArticleChanges>>,
) -> ApiResult<Response> {
    let article = article_by_slug(&me.tenant, &path.slug).await?;
    if !is_author(&article, &me) {
        return Err(ApiError::forbidden("only the author may edit an article"));
    }
    let id = article_id(&article)?;
    let expected = if_match(&headers)?.unwrap_or(article.version);
    let changes = body.article;
    let mut set = Document::new();
    let mut base = None;
    if let Some(title) = changes.title {
        if title != article.title {
            let slug = slugify(&title);
            set.insert("slug", &slug);
            base = Some(slug);
        }
        set.insert("title", title);
    }
    if let Some(description) = changes.description {
        set.insert("description", description);
    }
    if let Some(body) = changes.body {
        set.insert("body", body);
    }
    if let Some(tags) = changes.tag_list {
        set.insert("tag_list", clean_tags(tags));
    }
    let articles = me.tenant.model::<Article>();
    let mut attempts = 0;
    loop {
        let updated = articles
            .find_one_and_update(doc! { "_id": id }, doc! { "$set": set.clone() })
            .if_version(expected)
            .return_after()
            .await;
        match (updated, &base) {
            (Ok(Some(_)), _) => break,
            (Ok(None), _) => return Err(ApiError::not_found("article")),
            (Err(e), Some(base)) if slug_taken(&e) && attempts < 5 => {
                attempts += 1;
                set.insert("slug", with_suffix(base));
            }
            (Err(e), _) => return Err(e.into()),
        }
    }
    let (view, version) = load_article(&me.tenant, Some(me.id), doc! { "_id": id }).await?;
    Ok(article_response(StatusCode::OK, view, version))
}

/// Deletes an article with its comments and favourites, all or nothing.
async fn delete_article(me: AuthUser, Path(path): Path<SlugPath>) -> ApiResult<StatusCode> {
    let article = article_by_slug(&me.tenant, &path.slug).await?;
    if !is_author(&article, &me) {
        return Err(ApiError::forbidden("only the author may delete an article"));
    }
    let id = article_id(&article)?;
    let (articles, comments, favorites) = (
        me.tenant.model::<Article>(),
        me.tenant.model::<Comment>(),
        me.tenant.model::<Favorite>(),
    );
    me.tenant
        .connection()
        .transaction(|tx| {
            let (articles, comments, favorites) = (&articles, &comments, &favorites);
            async move {
                let mut s = tx.session().await;
                articles
                    .delete_one(doc! { "_id": id })
                    .session(&mut s)
                    .await?;
                comments
                    .delete_many(doc! { "article": id })
                    .session(&mut s)
                    .await?;
                favorites
                    .delete_many(doc! { "article": id })
                    .session(&mut s)
                    .await?;
                Ok(())
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why a transaction gave up: the article went away under it.
#[derive(Debug)]
struct ArticleGone;

impl std::fmt::Display for ArticleGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the article is gone")
    }
}

impl std::error::Error for ArticleGone {}

fn gone_to_404(e: Error) -> ApiError {
    match e {
        Error::Aborted(reason) if reason.downcast_ref::<ArticleGone>().is_some() => {
            ApiError::not_found("article")
        }
        other => other.into(),
    }
}

/// Favourites an article: the favourite and the article's count move together, in one transaction.
/// The article's `updated_at` is kept (`timestamps(false)`): a favourite is not an edit.
async fn favorite(me: AuthUser, Path(path): Path<SlugPath>) -> ApiResult<Response> {
    let id = article_id(&article_by_slug(&me.tenant, &path.slug).await?)?;
    let (articles, favorites) = (me.tenant.model::<Article>(), me.tenant.model::<Favorite>());
    let user = me.id;
    me.tenant
        .connection()
        .transaction(|tx| {
            let (articles, favorites) = (&articles, &favorites);
            async move {
                let mut s = tx.session().await;
                let pair = doc! { "user": user, "article": id };
                if favorites.exists(pair).session(&mut s).await? {
                    return Ok(());
                }
                let counted = articles
                    .update_one(
                        doc! { "_id": id },
                        doc! { "$inc": { "favorites_count": 1 } },
                    )
                    .timestamps(false)
                    .session(&mut s)
                    .await?;
                if counted.matched_count == 0 {
                    return Err(Error::abort(ArticleGone));
                }
                favorites
                    .create(Favorite {
                        id: None,
                        user: Ref::new(user),
                        article: Ref::new(id),
                    })
                    .session(&mut s)
                    .await?;
                Ok(())
            }
        })
        .await
        .map_err(gone_to_404)?;
    let (view, version) = load_article(&me.tenant, Some(me.id), doc! { "_id": id }).await?;
    Ok(article_response(StatusCode::OK, view, version))
}

/// Takes a favourite back, with the count, in one transaction.
async fn unfavorite(me: AuthUser, Path(path): Path<SlugPath>) -> ApiResult<Response> {
    let id = article_id(&article_by_slug(&me.tenant, &path.slug).await?)?;
    let (articles, favorites) = (me.tenant.model::<Article>(), me.tenant.model::<Favorite>());
    let user = me.id;
    me.tenant
        .connection()
        .transaction(|tx| {
            let (articles, favorites) = (&articles, &favorites);
            async move {
                let mut s = tx.session().await;
                let deleted = favorites
                    .delete_one(doc! { "user": user, "article": id })
                    .session(&mut s)
                    .await?;
                if deleted.deleted_count == 0 {
                    return Ok(());
                }
                let counted = articles
                    .update_one(
                        doc! { "_id": id },
                        doc! { "$inc": { "favorites_count": -1 } },
                    )
                    .timestamps(false)
                    .session(&mut s)
                    .await?;
                if counted.matched_count == 0 {
                    return Err(Error::abort(ArticleGone));
                }
                Ok(())
            }
        })
        .await
        .map_err(gone_to_404)?;
    let (view, version) = load_article(&me.tenant, Some(me.id), doc! { "_id": id }).await?;
    Ok(article_response(StatusCode::OK, view, version))
}

async fn list_comments(
    CurrentTenant(tenant): CurrentTenant,
    viewer: MaybeUser,
    Path(path): Path<SlugPath>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = article_id(&article_by_slug(&tenant, &path.slug).await?)?;
    let found = tenant
        .model::<Comment>()
        .find(doc! { "article": id })
        .sort(doc! { "number": 1 })
        .populate(Comment::fields().author.clone())
        .await?;
    let views = views::comments(&tenant, viewer.id(), found).await?;
    Ok(Json(json!({ "comments": views })))
}

/// Comments on an article. The comment's number comes from the article's counter, moved in the same
/// transaction as the comment is written, so numbers are never handed out twice.
async fn add_comment(
    me: AuthUser,
    Path(path): Path<SlugPath>,
    Body(body): Body<CommentBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = article_id(&article_by_slug(&me.tenant, &path.slug).await?)?;
    let (articles, comments) = (me.tenant.model::<Article>(), me.tenant.model::<Comment>());
    let (user, text) = (me.id, body.comment.body);
    let comment = me
        .tenant
        .connection()
        .transaction(|tx| {
            let (articles, comments, text) = (&articles, &comments, text.clone());
            async move {
                let mut s = tx.session().await;
                let article = articles
                    .find_one_and_update(
                        doc! { "_id": id },
                        doc! { "$inc": { "comments_made": 1 } },
                    )
                    .timestamps(false)
                    .return_after()
                    .session(&mut s)
                    .await?;
                let number = article
                    .ok_or_else(|| Error::abort(ArticleGone))?
                    .comments_made;
                comments
                    .create(Comment {
                        id: None,
                        number,
                        article: Ref::new(id),
                        author: Ref::new(user),
                        body: text,
                        created_at: None,
                        updated_at: None,
                    })
                    .session(&mut s)
                    .await
            }
        })
        .await
        .map_err(gone_to_404)?;
    let found = comments
        .find(doc! { "_id": comment.id })
        .populate(Comment::fields().author.clone())
        .await?;
    let view = views::comments(&me.tenant, Some(me.id), found)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("comment"))?;
    Ok(Json(json!({ "comment": view })))
}

async fn delete_comment(me: AuthUser, Path(path): Path<CommentPath>) -> ApiResult<StatusCode> {
    let number: i64 = path
        .id
        .parse()
        .map_err(|_| ApiError::not_found("comment"))?;
    let id = article_id(&article_by_slug(&me.tenant, &path.slug).await?)?;
    let comments = me.tenant.model::<Comment>();
    let comment = comments
        .find_one(doc! { "article": id, "number": number })
        .await?
        .ok_or_else(|| ApiError::not_found("comment"))?;
    if comment.author.id().as_object_id() != Some(me.id) {
        return Err(ApiError::forbidden("only the author may delete a comment"));
    }
    comments.delete_one(doc! { "_id": comment.id }).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn tags(CurrentTenant(tenant): CurrentTenant) -> ApiResult<Json<serde_json::Value>> {
    let mut tags: Vec<String> = tenant
        .model::<Article>()
        .distinct("tag_list", ())
        .await?
        .into_iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    tags.sort();
    Ok(Json(json!({ "tags": tags })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        assert_eq!(
            slugify("How to train your dragon"),
            "how-to-train-your-dragon"
        );
        assert_eq!(slugify("  Ça marche? Oui!  "), "ça-marche-oui");
        assert_eq!(slugify("!!!"), "article");
        assert_eq!(slugify(&"a".repeat(300)).len(), 200);
    }
}
