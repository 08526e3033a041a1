//! The Conduit service end to end: the app runs in-process on a free port against the server
//! `MONGODB_URI` names, each test in databases of its own, and a plain HTTP client drives it.
//!
//! Run with `scripts/test-server run -- cargo test -p odm-examples --test conduit`.

use std::collections::HashSet;

use odm_core::{Connection, Strategy};
use odm_examples::conduit::{app, AppState, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned())
}

/// A running service and a client for it.
struct Service {
    base: String,
    http: reqwest::Client,
}

/// What a call answered.
struct Reply {
    status: StatusCode,
    etag: Option<String>,
    body: Value,
}

impl Reply {
    fn errors(&self) -> Vec<String> {
        self.body["errors"]["body"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors body in {} {}", self.status, self.body))
            .iter()
            .map(|m| m.as_str().expect("a message").to_owned())
            .collect()
    }
}

/// Which strategy a test runs under.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Database,
    Collection,
    Shared,
}

/// Starts the service for test `name`, with its databases dropped first.
async fn start(name: &str, kind: Kind) -> Service {
    let conn = Connection::connect(&uri())
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test server at {}: {e}", uri()));
    let db = format!("conduit_{name}");
    let prefix = format!("conduit_{name}_");
    for tenant in ["", "a", "b"] {
        let conn = conn.use_db(&format!(
            "{}{tenant}",
            if tenant.is_empty() { &db } else { &prefix }
        ));
        conn.expect("database name")
            .database()
            .drop()
            .await
            .expect("drop");
    }
    let strategy = match kind {
        Kind::Database => Strategy::database_per_tenant(prefix),
        Kind::Collection => Strategy::collection_per_tenant(),
        Kind::Shared => Strategy::shared_collection(),
    };
    let mut settings = Settings::new(strategy);
    settings.password_rounds = 1000;
    let state = AppState::new(conn.use_db(&db).expect("database name"), settings).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    Service {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

impl Service {
    /// Calls `path` of tenant `tenant`'s API (`/t/{tenant}/api{path}`).
    async fn call(
        &self,
        method: Method,
        tenant: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send(method, &format!("/t/{tenant}/api{path}"), token, body, &[])
            .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Token {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().expect("text").to_owned());
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Reply { status, etag, body }
    }

    async fn get(&self, tenant: &str, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, tenant, path, token, None).await
    }

    async fn post(&self, tenant: &str, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, tenant, path, token, Some(body))
            .await
    }

    /// Registers `username` in `tenant` and returns the token.
    async fn register(&self, tenant: &str, username: &str) -> String {
        let reply = self
            .post(
                tenant,
                "/users",
                None,
                json!({ "user": { "username": username, "email": format!("{username}@example.com"), "password": "secret" } }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["user"]["token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// Writes an article and returns its slug.
    async fn article(&self, tenant: &str, token: &str, title: &str, tags: &[&str]) -> String {
        let reply = self
            .post(
                tenant,
                "/articles",
                Some(token),
                json!({ "article": { "title": title, "description": "about it", "body": "the text", "tagList": tags } }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["article"]["slug"]
            .as_str()
            .expect("a slug")
            .to_owned()
    }
}

fn is_rfc3339_millis(value: &Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    let b = text.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[23] == b'Z'
        && text[..4].parse::<u32>().is_ok_and(|y| y >= 2020)
}

#[tokio::test]
async fn users_register_log_in_and_edit_themselves() {
    let s = start("users", Kind::Database).await;
    let token = s.register("a", "ann").await;

    let me = s.get("a", "/user", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], "ann@example.com");
    assert_eq!(me.body["user"]["username"], "ann");
    assert_eq!(me.body["user"]["token"], token.as_str());
    assert!(me.body["user"].get("bio").is_some() && me.body["user"].get("image").is_some());

    // Log in with the address in another case: addresses are stored in lower case.
    let login = s
        .post(
            "a",
            "/users/login",
            None,
            json!({ "user": { "email": "ANN@example.com", "password": "secret" } }),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let wrong = s
        .post(
            "a",
            "/users/login",
            None,
            json!({ "user": { "email": "ann@example.com", "password": "nope" } }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.errors(), ["email or password is invalid"]);
    let unknown = s
        .post(
            "a",
            "/users/login",
            None,
            json!({ "user": { "email": "nobody@example.com", "password": "" } }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.errors(),
        wrong.errors(),
        "an unknown address reads like a wrong password"
    );

    let edited = s
        .call(
            Method::PUT,
            "a",
            "/user",
            Some(&token),
            Some(json!({ "user": { "bio": "I write", "image": "https://img.example/ann.png", "password": "new secret" } })),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["user"]["bio"], "I write");
    let old = s
        .post(
            "a",
            "/users/login",
            None,
            json!({ "user": { "email": "ann@example.com", "password": "secret" } }),
        )
        .await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    let new = s
        .post(
            "a",
            "/users/login",
            None,
            json!({ "user": { "email": "ann@example.com", "password": "new secret" } }),
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);

    // The X-Tenant header on /api reaches the same tenant as the /t/a path.
    let by_header = s
        .send(
            Method::GET,
            "/api/user",
            Some(&token),
            None,
            &[("X-Tenant", "a")],
        )
        .await;
    assert_eq!(by_header.status, StatusCode::OK);
    assert_eq!(by_header.body["user"]["username"], "ann");
    let registered = s
        .send(
            Method::POST,
            "/api/users",
            None,
            Some(json!({ "user": { "username": "cy", "email": "cy@example.com", "password": "pw" } })),
            &[("X-Tenant", "a")],
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED);
    assert_eq!(
        s.get("a", "/profiles/cy", None).await.status,
        StatusCode::OK
    );

    // Taking another user's name is 422.
    s.register("a", "bob").await;
    let taken = s
        .call(
            Method::PUT,
            "a",
            "/user",
            Some(&token),
            Some(json!({ "user": { "username": "bob" } })),
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(taken.errors(), ["username has already been taken"]);
}

#[tokio::test]
async fn profiles_follows_and_the_feed() {
    let s = start("follows", Kind::Shared).await;
    let ann = s.register("a", "ann").await;
    let bob = s.register("a", "bob").await;
    let slug = s.article("a", &bob, "Bob writes", &["news"]).await;

    let profile = s.get("a", "/profiles/bob", Some(&ann)).await;
    assert_eq!(profile.status, StatusCode::OK);
    assert_eq!(
        profile.body["profile"],
        json!({ "username": "bob", "bio": null, "image": null, "following": false })
    );

    let empty = s.get("a", "/articles/feed", Some(&ann)).await;
    assert_eq!(empty.body["articlesCount"], 0);

    let follow = s
        .post("a", "/profiles/bob/follow", Some(&ann), json!({}))
        .await;
    assert_eq!(follow.status, StatusCode::OK);
    assert_eq!(follow.body["profile"]["following"], true);
    // Following twice is the same as once.
    assert_eq!(
        s.post("a", "/profiles/bob/follow", Some(&ann), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        s.get("a", "/profiles/bob", Some(&ann)).await.body["profile"]["following"],
        true
    );
    assert_eq!(
        s.get("a", "/profiles/bob", None).await.body["profile"]["following"],
        false
    );

    let feed = s.get("a", "/articles/feed", Some(&ann)).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.body["articlesCount"], 1);
    assert_eq!(feed.body["articles"][0]["slug"], slug.as_str());
    assert_eq!(feed.body["articles"][0]["author"]["following"], true);
    assert!(
        feed.body["articles"][0].get("body").is_none(),
        "lists leave the body out"
    );

    let unfollow = s
        .call(
            Method::DELETE,
            "a",
            "/profiles/bob/follow",
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(unfollow.body["profile"]["following"], false);
    assert_eq!(
        s.get("a", "/articles/feed", Some(&ann)).await.body["articlesCount"],
        0
    );

    assert_eq!(
        s.post("a", "/profiles/ann/follow", Some(&ann), json!({}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        s.get("a", "/profiles/nobody", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("a", "/articles/feed", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn articles_lists_filters_and_pages() {
    let s = start("articles", Kind::Collection).await;
    let ann = s.register("a", "ann").await;
    let bob = s.register("a", "bob").await;
    let mut slugs = Vec::new();
    for i in 0..5 {
        slugs.push(
            s.article(
                "a",
                &ann,
                &format!("Ann's article {i}"),
                &["ann", if i % 2 == 0 { "even" } else { "odd" }],
            )
            .await,
        );
    }
    s.article("a", &bob, "Bob's only", &["bob"]).await;

    // The same title twice gets two slugs.
    // Tags come back trimmed, without blanks or repeats, in alphabetical order.
    let twin = s
        .article(
            "a",
            &bob,
            "Ann's article 0",
            &["zeta", " alpha ", "zeta", ""],
        )
        .await;
    assert_ne!(twin, slugs[0]);
    assert!(twin.starts_with("ann-s-article-0-"), "{twin}");
    let tags = s.get("a", &format!("/articles/{twin}"), None).await;
    assert_eq!(tags.body["article"]["tagList"], json!(["alpha", "zeta"]));

    let one = s.get("a", &format!("/articles/{}", slugs[0]), None).await;
    assert_eq!(one.status, StatusCode::OK);
    let article = &one.body["article"];
    assert_eq!(article["title"], "Ann's article 0");
    assert_eq!(article["body"], "the text");
    assert_eq!(article["tagList"], json!(["ann", "even"]));
    assert_eq!(article["author"]["username"], "ann");
    assert_eq!(article["favoritesCount"], 0);
    assert!(
        is_rfc3339_millis(&article["createdAt"]),
        "{}",
        article["createdAt"]
    );
    assert!(is_rfc3339_millis(&article["updatedAt"]));
    assert_eq!(one.etag.as_deref(), Some("\"0\""));

    let all = s.get("a", "/articles", None).await;
    assert_eq!(all.body["articlesCount"], 7);
    assert_eq!(all.body["articles"].as_array().unwrap().len(), 7);
    assert_eq!(
        all.body["articles"][0]["slug"],
        twin.as_str(),
        "newest first"
    );

    // Pages: 7 articles, 3 a page, newest first, no repeats and nothing missed.
    let mut seen = Vec::new();
    for offset in [0, 3, 6] {
        let page = s
            .get("a", &format!("/articles?limit=3&offset={offset}"), None)
            .await;
        assert_eq!(page.body["articlesCount"], 7);
        for a in page.body["articles"].as_array().unwrap() {
            seen.push(a["slug"].as_str().unwrap().to_owned());
        }
    }
    let listed: Vec<String> = all.body["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, listed);

    let by_author = s.get("a", "/articles?author=ann&limit=2", None).await;
    assert_eq!(by_author.body["articlesCount"], 5);
    assert_eq!(by_author.body["articles"].as_array().unwrap().len(), 2);
    let by_tag = s.get("a", "/articles?tag=even", None).await;
    assert_eq!(by_tag.body["articlesCount"], 3);
    let both = s.get("a", "/articles?tag=even&author=bob", None).await;
    assert_eq!(both.body["articlesCount"], 0);
    assert_eq!(
        s.get("a", "/articles?author=nobody", None).await.body["articlesCount"],
        0
    );

    let tags = s.get("a", "/tags", None).await;
    assert_eq!(
        tags.body["tags"],
        json!(["alpha", "ann", "bob", "even", "odd", "zeta"])
    );

    for bad in ["limit=0", "limit=x", "limit=101", "offset=-1"] {
        let reply = s.get("a", &format!("/articles?{bad}"), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Edit and delete by the author.
    let edited = s
        .call(
            Method::PUT,
            "a",
            &format!("/articles/{}", slugs[1]),
            Some(&ann),
            Some(json!({ "article": { "title": "A new title", "body": "new text" } })),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["article"]["slug"], "a-new-title");
    assert_eq!(edited.body["article"]["body"], "new text");
    assert_eq!(edited.etag.as_deref(), Some("\"1\""));
    assert_eq!(
        s.get("a", &format!("/articles/{}", slugs[1]), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let deleted = s
        .call(
            Method::DELETE,
            "a",
            "/articles/a-new-title",
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get("a", "/articles/a-new-title", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.get("a", "/articles", None).await.body["articlesCount"], 6);
}

#[tokio::test]
async fn favourites_and_comments() {
    let s = start("favourites", Kind::Database).await;
    let ann = s.register("a", "ann").await;
    let bob = s.register("a", "bob").await;
    let slug = s.article("a", &ann, "Dragons", &["dragons"]).await;
    let before =
        s.get("a", &format!("/articles/{slug}"), None).await.body["article"]["updatedAt"].clone();

    let fav = s
        .post(
            "a",
            &format!("/articles/{slug}/favorite"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(fav.status, StatusCode::OK);
    assert_eq!(fav.body["article"]["favorited"], true);
    assert_eq!(fav.body["article"]["favoritesCount"], 1);
    assert_eq!(
        fav.body["article"]["updatedAt"], before,
        "a favourite is not an edit"
    );
    let again = s
        .post(
            "a",
            &format!("/articles/{slug}/favorite"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(
        again.body["article"]["favoritesCount"], 1,
        "favouriting twice counts once"
    );

    let favourited = s.get("a", "/articles?favorited=bob", Some(&bob)).await;
    assert_eq!(favourited.body["articlesCount"], 1);
    assert_eq!(favourited.body["articles"][0]["favorited"], true);
    assert_eq!(
        s.get("a", "/articles?favorited=ann", None).await.body["articlesCount"],
        0
    );
    assert_eq!(
        s.get("a", &format!("/articles/{slug}"), Some(&ann))
            .await
            .body["article"]["favorited"],
        false
    );

    let unfav = s
        .call(
            Method::DELETE,
            "a",
            &format!("/articles/{slug}/favorite"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(unfav.body["article"]["favorited"], false);
    assert_eq!(unfav.body["article"]["favoritesCount"], 0);
    let twice = s
        .call(
            Method::DELETE,
            "a",
            &format!("/articles/{slug}/favorite"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(
        twice.body["article"]["favoritesCount"], 0,
        "never below zero"
    );

    let c1 = s
        .post(
            "a",
            &format!("/articles/{slug}/comments"),
            Some(&bob),
            json!({ "comment": { "body": "First!" } }),
        )
        .await;
    assert_eq!(c1.status, StatusCode::OK, "{}", c1.body);
    assert_eq!(c1.body["comment"]["id"], 1);
    assert_eq!(c1.body["comment"]["author"]["username"], "bob");
    assert!(is_rfc3339_millis(&c1.body["comment"]["createdAt"]));
    let c2 = s
        .post(
            "a",
            &format!("/articles/{slug}/comments"),
            Some(&ann),
            json!({ "comment": { "body": "Thanks" } }),
        )
        .await;
    assert_eq!(c2.body["comment"]["id"], 2);

    let list = s
        .get("a", &format!("/articles/{slug}/comments"), None)
        .await;
    let bodies: Vec<&str> = list.body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["First!", "Thanks"]);

    let forbidden = s
        .call(
            Method::DELETE,
            "a",
            &format!("/articles/{slug}/comments/1"),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let gone = s
        .call(
            Method::DELETE,
            "a",
            &format!("/articles/{slug}/comments/1"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = s
        .call(
            Method::DELETE,
            "a",
            &format!("/articles/{slug}/comments/1"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    // A deleted comment's number is not handed out again.
    let c3 = s
        .post(
            "a",
            &format!("/articles/{slug}/comments"),
            Some(&bob),
            json!({ "comment": { "body": "Again" } }),
        )
        .await;
    assert_eq!(c3.body["comment"]["id"], 3);

    let empty = s
        .post(
            "a",
            &format!("/articles/{slug}/comments"),
            Some(&bob),
            json!({ "comment": { "body": "" } }),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.errors()[0].starts_with("body"),
        "{:?}",
        empty.errors()
    );
}

#[tokio::test]
async fn errors_have_the_spec_codes_and_bodies() {
    let s = start("errors", Kind::Database).await;
    let ann = s.register("a", "ann").await;
    let bob = s.register("a", "bob").await;
    let slug = s.article("a", &ann, "Ann's", &[]).await;

    // 401: no token, a bad one, another scheme.
    for (method, path) in [
        (Method::GET, "/user"),
        (Method::PUT, "/user"),
        (Method::POST, "/articles"),
        (Method::GET, "/articles/feed"),
    ] {
        let reply = s
            .call(method.clone(), "a", path, None, Some(json!({})))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(reply.errors().len(), 1);
    }
    assert_eq!(
        s.get("a", "/user", Some("garbage")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let basic = s
        .send(
            Method::GET,
            "/t/a/api/user",
            None,
            None,
            &[("Authorization", "Basic YTpi")],
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);

    // 403: someone else's article.
    let edit = s
        .call(
            Method::PUT,
            "a",
            &format!("/articles/{slug}"),
            Some(&bob),
            Some(json!({ "article": { "body": "mine now" } })),
        )
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
    let delete = s
        .call(
            Method::DELETE,
            "a",
            &format!("/articles/{slug}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.get("a", &format!("/articles/{slug}"), None).await.body["article"]["body"],
        "the text"
    );

    // 404: unknown slugs everywhere.
    assert_eq!(
        s.get("a", "/articles/no-such-thing", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("a", "/articles/no-such-thing/comments", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let put = s
        .call(
            Method::PUT,
            "a",
            "/articles/no-such-thing",
            Some(&ann),
            Some(json!({ "article": { "body": "x" } })),
        )
        .await;
    assert_eq!(put.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.post(
            "a",
            "/articles/no-such-thing/favorite",
            Some(&ann),
            json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post(
            "a",
            "/articles/no-such-thing/comments",
            Some(&ann),
            json!({ "comment": { "body": "x" } })
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // 422: missing fields, broken rules, taken names, bodies that are not JSON.
    let missing = s
        .post(
            "a",
            "/users",
            None,
            json!({ "user": { "username": "cy", "password": "x" } }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.errors()[0].contains("email"),
        "{:?}",
        missing.errors()
    );
    let bad_email = s
        .post(
            "a",
            "/users",
            None,
            json!({ "user": { "username": "cy", "email": "not an address", "password": "x" } }),
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_email.errors()[0].starts_with("email"),
        "{:?}",
        bad_email.errors()
    );
    let taken = s
        .post(
            "a",
            "/users",
            None,
            json!({ "user": { "username": "ann", "email": "other@example.com", "password": "x" } }),
        )
        .await;
    assert_eq!(taken.errors(), ["username has already been taken"]);
    let taken = s
        .post(
            "a",
            "/users",
            None,
            json!({ "user": { "username": "cy", "email": "ANN@example.com", "password": "x" } }),
        )
        .await;
    assert_eq!(taken.errors(), ["email has already been taken"]);
    let no_password = s
        .post(
            "a",
            "/users",
            None,
            json!({ "user": { "username": "cy", "email": "cy@example.com", "password": "" } }),
        )
        .await;
    assert_eq!(no_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    let blank = s
        .post(
            "a",
            "/articles",
            Some(&ann),
            json!({ "article": { "title": "", "description": "d", "body": "" } }),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: HashSet<String> = blank
        .errors()
        .iter()
        .map(|e| e.split(':').next().unwrap().to_owned())
        .collect();
    assert!(
        fields.contains("title") && fields.contains("body"),
        "every failing field: {:?}",
        blank.errors()
    );
    let not_json = s
        .send(
            Method::POST,
            "/t/a/api/users",
            None,
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(not_json.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_json.errors().len(), 1);

    // 400: a tenant id the library refuses, or none at all, with the library's words.
    let bad = s.get("Acme", "/tags", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.errors()[0].starts_with("invalid tenant id \"Acme\""),
        "{:?}",
        bad.errors()
    );
    for id in ["admin", "a.b", &"x".repeat(200)] {
        let reply = s
            .send(Method::GET, "/api/tags", None, None, &[("X-Tenant", id)])
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{id}");
        assert!(
            reply.errors()[0].starts_with("invalid tenant id"),
            "{:?}",
            reply.errors()
        );
    }
    let none = s.send(Method::GET, "/api/tags", None, None, &[]).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    let both = s
        .send(
            Method::GET,
            "/t/a/api/tags",
            None,
            None,
            &[("X-Tenant", "b")],
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);

    // 400: an If-Match that is no ETag of ours; nothing is written.
    let path = format!("/t/a/api/articles/{slug}");
    let body = json!({ "article": { "body": "changed" } });
    let bad_etag = s
        .send(
            Method::PUT,
            &path,
            Some(&ann),
            Some(body),
            &[("If-Match", "\"abc\"")],
        )
        .await;
    assert_eq!(bad_etag.status, StatusCode::BAD_REQUEST);
    let stored = s.get("a", &format!("/articles/{slug}"), None).await;
    assert_eq!(stored.body["article"]["body"], "the text");
    assert_eq!(stored.etag.as_deref(), Some("\"0\""));
}

/// A user of tenant `b` reaches nothing of tenant `a`: not with `a`'s slugs and names on `b`'s API, not
/// with `b`'s token on `a`'s API. The same usernames and slugs live in both, apart.
async fn tenants_stay_apart(kind: Kind, name: &str) {
    let s = start(name, kind).await;
    let ann = s.register("a", "ann").await;
    let slug = s.article("a", &ann, "Secret plans", &["secret"]).await;
    s.post(
        "a",
        &format!("/articles/{slug}/comments"),
        Some(&ann),
        json!({ "comment": { "body": "internal" } }),
    )
    .await;
    let bob = s.register("b", "bob").await;

    // On b's API, a's things do not exist.
    assert_eq!(
        s.get("b", &format!("/articles/{slug}"), Some(&bob))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("b", &format!("/articles/{slug}/comments"), Some(&bob))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post(
            "b",
            &format!("/articles/{slug}/favorite"),
            Some(&bob),
            json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let comment = s
        .post(
            "b",
            &format!("/articles/{slug}/comments"),
            Some(&bob),
            json!({ "comment": { "body": "hi" } }),
        )
        .await;
    assert_eq!(comment.status, StatusCode::NOT_FOUND);
    let edit = s
        .call(
            Method::PUT,
            "b",
            &format!("/articles/{slug}"),
            Some(&bob),
            Some(json!({ "article": { "body": "x" } })),
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.call(
            Method::DELETE,
            "b",
            &format!("/articles/{slug}"),
            Some(&bob),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("b", "/profiles/ann", Some(&bob)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post("b", "/profiles/ann/follow", Some(&bob), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = s.get("b", "/articles", Some(&bob)).await;
    assert_eq!(listed.body["articlesCount"], 0);
    assert_eq!(
        s.get("b", "/articles?author=ann", None).await.body["articlesCount"],
        0
    );
    assert_eq!(
        s.get("b", "/articles?tag=secret", None).await.body["articlesCount"],
        0
    );
    assert_eq!(s.get("b", "/tags", None).await.body["tags"], json!([]));
    let header = s
        .send(
            Method::GET,
            &format!("/api/articles/{slug}"),
            None,
            None,
            &[("X-Tenant", "b")],
        )
        .await;
    assert_eq!(header.status, StatusCode::NOT_FOUND);
    let login = s
        .post(
            "b",
            "/users/login",
            None,
            json!({ "user": { "email": "ann@example.com", "password": "secret" } }),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);

    // A token is only good in its own tenant, even on a's own data.
    assert_eq!(
        s.get("a", "/user", Some(&bob)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.post(
            "a",
            &format!("/articles/{slug}/favorite"),
            Some(&bob),
            json!({})
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.post("a", "/profiles/ann/follow", Some(&bob), json!({}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let comment = s
        .post(
            "a",
            &format!("/articles/{slug}/comments"),
            Some(&bob),
            json!({ "comment": { "body": "hi" } }),
        )
        .await;
    assert_eq!(comment.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.get("b", "/user", Some(&ann)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The same names and slugs in b are b's own.
    let ann_b = s.register("b", "ann").await;
    let slug_b = s.article("b", &ann_b, "Secret plans", &[]).await;
    assert_eq!(slug_b, slug, "slugs are unique per tenant");
    // ...and unique within b: the indexes synced through the tenant hold there too.
    let again = s
        .post(
            "b",
            "/users",
            None,
            json!({ "user": { "username": "ann", "email": "ann2@example.com", "password": "x" } }),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.errors(), ["username has already been taken"]);
    let twin = s.article("b", &ann_b, "Secret plans", &[]).await;
    assert_ne!(twin, slug);
    assert_eq!(
        s.get("b", &format!("/articles/{slug}"), None).await.body["article"]["body"],
        "the text"
    );
    assert_eq!(
        s.get("b", &format!("/articles/{slug}/comments"), None)
            .await
            .body["comments"],
        json!([])
    );

    // And a's data is untouched by all of it.
    let a = s.get("a", &format!("/articles/{slug}"), None).await;
    assert_eq!(a.body["article"]["favoritesCount"], 0);
    assert_eq!(a.etag.as_deref(), Some("\"0\""));
    let comments = s
        .get("a", &format!("/articles/{slug}/comments"), None)
        .await;
    assert_eq!(comments.body["comments"].as_array().unwrap().len(), 1);
    assert_eq!(s.get("a", "/articles", None).await.body["articlesCount"], 1);
}

#[tokio::test]
async fn tenants_stay_apart_with_a_database_each() {
    tenants_stay_apart(Kind::Database, "apart_db").await;
}

#[tokio::test]
async fn tenants_stay_apart_with_collections_each() {
    tenants_stay_apart(Kind::Collection, "apart_coll").await;
}

#[tokio::test]
async fn tenants_stay_apart_in_shared_collections() {
    tenants_stay_apart(Kind::Shared, "apart_shared").await;
}

/// Editors that all read version 0 and say so with `If-Match`: one wins, the others get 409, and the
/// stored article is the winner's.
#[tokio::test]
async fn concurrent_edits_of_one_version_have_one_winner() {
    let s = start("edits_if_match", Kind::Shared).await;
    let ann = s.register("a", "ann").await;
    let slug = s.article("a", &ann, "Contested", &[]).await;
    let path = format!("/t/a/api/articles/{slug}");

    let edits = (0..8).map(|i| {
        let (s, ann, path) = (&s, &ann, &path);
        async move {
            let body = json!({ "article": { "body": format!("edit {i}") } });
            (
                i,
                s.send(
                    Method::PUT,
                    path,
                    Some(ann),
                    Some(body),
                    &[("If-Match", "\"0\"")],
                )
                .await,
            )
        }
    });
    let replies = futures_util::future::join_all(edits).await;
    let winners: Vec<usize> = replies
        .iter()
        .filter(|(_, r)| r.status == StatusCode::OK)
        .map(|(i, _)| *i)
        .collect();
    let conflicts = replies
        .iter()
        .filter(|(_, r)| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(winners.len(), 1, "exactly one edit of version 0 wins");
    assert_eq!(
        conflicts,
        7,
        "{:?}",
        replies
            .iter()
            .map(|(_, r)| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    for (_, reply) in &replies {
        if reply.status == StatusCode::CONFLICT {
            assert_eq!(reply.errors().len(), 1);
        }
    }

    let stored = s.get("a", &format!("/articles/{slug}"), None).await;
    assert_eq!(
        stored.body["article"]["body"],
        format!("edit {}", winners[0])
    );
    assert_eq!(stored.etag.as_deref(), Some("\"1\""));
}

/// Editors without `If-Match`: each edit is checked against the version its own request read, so every
/// reply is 200 or 409, and every 200 moved the version on by exactly one (no edit overwrote another
/// without a word).
#[tokio::test]
async fn concurrent_edits_never_lose_an_update() {
    let s = start("edits_plain", Kind::Database).await;
    let ann = s.register("a", "ann").await;
    let slug = s.article("a", &ann, "Busy", &[]).await;

    let edits = (0..10).map(|i| {
        let (s, ann, slug) = (&s, &ann, &slug);
        async move {
            let body = json!({ "article": { "description": format!("edit {i}") } });
            (
                i,
                s.call(
                    Method::PUT,
                    "a",
                    &format!("/articles/{slug}"),
                    Some(ann),
                    Some(body),
                )
                .await,
            )
        }
    });
    let replies = futures_util::future::join_all(edits).await;
    let mut succeeded = Vec::new();
    for (i, reply) in &replies {
        match reply.status {
            StatusCode::OK => succeeded.push(format!("edit {i}")),
            StatusCode::CONFLICT => {}
            other => panic!("edit {i}: {other} {}", reply.body),
        }
    }
    assert!(!succeeded.is_empty());
    let stored = s.get("a", &format!("/articles/{slug}"), None).await;
    assert_eq!(
        stored.etag,
        Some(format!("\"{}\"", succeeded.len())),
        "one version per successful edit"
    );
    let description = stored.body["article"]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        succeeded.contains(&description),
        "{description} is one of {succeeded:?}"
    );
}

/// Many users favouriting and commenting at once: the count matches the favourites and comment numbers
/// are never handed out twice, since each pair of writes is one transaction.
#[tokio::test]
async fn concurrent_favourites_and_comments_keep_counts_right() {
    let s = start("fans", Kind::Collection).await;
    let ann = s.register("a", "ann").await;
    let slug = s.article("a", &ann, "Popular", &[]).await;
    let mut fans = Vec::new();
    for i in 0..8 {
        fans.push(s.register("a", &format!("fan{i}")).await);
    }

    let (favorite, comment) = (
        format!("/articles/{slug}/favorite"),
        format!("/articles/{slug}/comments"),
    );
    let favourites = fans
        .iter()
        .map(|token| s.post("a", &favorite, Some(token), json!({})));
    for reply in futures_util::future::join_all(favourites).await {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let comments = fans.iter().map(|token| {
        s.post(
            "a",
            &comment,
            Some(token),
            json!({ "comment": { "body": "me too" } }),
        )
    });
    let mut numbers: Vec<i64> = futures_util::future::join_all(comments)
        .await
        .into_iter()
        .map(|reply| {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.body["comment"]["id"].as_i64().unwrap()
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<i64>>());

    let article = s.get("a", &format!("/articles/{slug}"), None).await;
    assert_eq!(article.body["article"]["favoritesCount"], 8);
    assert_eq!(
        article.etag.as_deref(),
        Some("\"0\""),
        "favourites and comments are not edits"
    );

    let unfavourites = fans[..3]
        .iter()
        .map(|token| s.call(Method::DELETE, "a", &favorite, Some(token), None));
    futures_util::future::join_all(unfavourites).await;
    assert_eq!(
        s.get("a", &format!("/articles/{slug}"), None).await.body["article"]["favoritesCount"],
        5
    );

    // Deleting the article takes its comments and favourites with it.
    assert_eq!(
        s.call(
            Method::DELETE,
            "a",
            &format!("/articles/{slug}"),
            Some(&ann),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let fan = &fans[5];
    assert_eq!(
        s.get("a", "/articles?favorited=fan5", Some(fan)).await.body["articlesCount"],
        0
    );
    assert_eq!(
        s.get("a", &format!("/articles/{slug}/comments"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
