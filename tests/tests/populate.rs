//! References and populate: one query per path (counted with the driver's command monitoring), dangling
//! references reported, and never a document of another tenant's database.

mod query_models;

use std::sync::{Arc, Mutex};

use odm_core::bson::{doc, oid::ObjectId, Document};
use odm_core::mongodb::event::command::CommandEvent;
use odm_core::mongodb::event::EventHandler;
use odm_core::mongodb::options::ClientOptions;
use odm_core::mongodb::Client;
use odm_core::{Connection, Model, Ref};
use query_models::{Post, User};

/// The commands the client sent: `(database, command name, command)`.
type Sent = Arc<Mutex<Vec<(String, String, Document)>>>;

/// A connection on a client whose every command is recorded, on a fresh database `db`.
async fn monitored(db: &str) -> (Connection, Sent) {
    let sent: Sent = Arc::default();
    let mut options = ClientOptions::parse(odm_tests::uri()).await.unwrap();
    let log = sent.clone();
    options.command_event_handler = Some(EventHandler::callback(move |event| {
        if let CommandEvent::Started(e) = event {
            log.lock().unwrap().push((e.db, e.command_name, e.command));
        }
    }));
    let conn = Connection::from_client(Client::with_options(options).unwrap(), db).unwrap();
    conn.database().drop().await.unwrap();
    (conn, sent)
}

fn finds(sent: &Sent) -> Vec<(String, String)> {
    sent.lock()
        .unwrap()
        .iter()
        .filter(|(_, name, _)| name == "find")
        .map(|(db, _, cmd)| (db.clone(), cmd.get_str("find").unwrap().to_owned()))
        .collect()
}

fn post(title: &str, author: &Ref<User>, reviewers: &[&Ref<User>]) -> Post {
    Post {
        id: None,
        title: title.to_owned(),
        author: author.clone(),
        reviewers: reviewers.iter().map(|r| (*r).clone()).collect(),
    }
}

#[tokio::test]
async fn populate_sends_one_find_per_path_and_reports_dangling_refs() {
    let db = "populate_one_find_per_path";
    let (conn, sent) = monitored(db).await;
    let users = conn.model::<User>();
    let posts = conn.model::<Post>();
    let ann = users.create(User::new("ann@acme.io", 30)).await.unwrap();
    let bob = users.create(User::new("bob@acme.io", 40)).await.unwrap();
    let (ann_ref, bob_ref) = (Ref::to(&ann).unwrap(), Ref::to(&bob).unwrap());
    let ghost: Ref<User> = Ref::new(ObjectId::new());
    posts
        .insert_many([
            post("one", &ann_ref, &[&bob_ref, &ghost]),
            post("two", &bob_ref, &[&ann_ref, &bob_ref]),
            post("three", &ghost, &[]),
            post("four", &ann_ref, &[]),
        ])
        .await
        .unwrap();
    sent.lock().unwrap().clear();

    let f = Post::fields();
    let found = posts
        .find(())
        .sort(f.title.asc())
        .populate(f.author.clone())
        .populate(f.reviewers.clone())
        .await
        .unwrap();

    // One find for the posts, then one `$in` find per path, however many posts.
    let sent_finds = finds(&sent);
    assert_eq!(
        sent_finds,
        [
            (db.to_owned(), "posts".to_owned()),
            (db.to_owned(), "users".to_owned()),
            (db.to_owned(), "users".to_owned()),
        ]
    );
    let in_lists: Vec<usize> = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, name, cmd)| name == "find" && cmd.get_str("find") == Ok("users"))
        .map(|(_, _, cmd)| {
            cmd.get_document("filter")
                .unwrap()
                .get_document("_id")
                .unwrap()
                .get_array("$in")
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(in_lists, [3, 3], "each id once per path");

    let titles: Vec<&str> = found.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["four", "one", "three", "two"]);
    let one = &found.items()[1];
    assert_eq!(found.get(&one.author).unwrap().email, "ann@acme.io");
    let reviewers: Vec<Option<&str>> = one
        .reviewers
        .iter()
        .map(|r| found.get(r).map(|u| u.email.as_str()))
        .collect();
    assert_eq!(reviewers, [Some("bob@acme.io"), None]);
    assert!(found.get(&found.items()[2].author).is_none());

    let mut unresolved: Vec<(&str, &odm_core::bson::Bson)> = found
        .unresolved()
        .iter()
        .map(|u| (u.path.as_str(), &u.id))
        .collect();
    unresolved.sort_by_key(|(path, _)| *path);
    assert_eq!(
        unresolved,
        [("author", ghost.id()), ("reviewers", ghost.id())]
    );
}

#[tokio::test]
async fn populate_with_no_references_sends_no_extra_query() {
    let db = "populate_no_refs";
    let (conn, sent) = monitored(db).await;
    let posts = conn.model::<Post>();
    sent.lock().unwrap().clear();
    let found = posts
        .find(())
        .populate(Post::fields().author)
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(finds(&sent).len(), 1);
}

#[tokio::test]
async fn populate_never_reads_another_tenants_database() {
    let (root, sent) = monitored("populate_tenant_root").await;
    let tenant_a = root.use_db("populate_tenant_a").unwrap();
    let tenant_b = root.use_db("populate_tenant_b").unwrap();
    tenant_a.database().drop().await.unwrap();
    tenant_b.database().drop().await.unwrap();

    // Tenant B has a user whose `_id` tenant A's post references; tenant A has no such user.
    let mut secret = User::new("secret@tenant-b.io", 50);
    let shared_id = ObjectId::new();
    secret.id = Some(shared_id);
    tenant_b.model::<User>().create(secret).await.unwrap();
    let a_posts = tenant_a.model::<Post>();
    let mine = tenant_a
        .model::<User>()
        .create(User::new("ann@tenant-a.io", 30))
        .await
        .unwrap();
    a_posts
        .insert_many([
            post("leak?", &Ref::new(shared_id), &[]),
            post("mine", &Ref::to(&mine).unwrap(), &[]),
        ])
        .await
        .unwrap();
    sent.lock().unwrap().clear();

    let found = a_posts
        .find(())
        .sort(Post::fields().title.asc())
        .populate(Post::fields().author)
        .await
        .unwrap();
    assert!(found.get(&found.items()[0].author).is_none());
    assert_eq!(
        found.get(&found.items()[1].author).unwrap().email,
        "ann@tenant-a.io"
    );
    assert_eq!(found.unresolved().len(), 1);
    assert_eq!(found.unresolved()[0].id, shared_id.into());
    // Every find went to tenant A's database.
    let sent_finds = finds(&sent);
    assert_eq!(sent_finds.len(), 2);
    assert!(
        sent_finds.iter().all(|(db, _)| db == "populate_tenant_a"),
        "{sent_finds:?}"
    );
}

#[tokio::test]
async fn refs_store_the_bare_id_and_filter_by_it() {
    let conn = odm_tests::connect("populate_ref_storage").await;
    let users = conn.model::<User>();
    let posts = conn.model::<Post>();
    let ann = users.create(User::new("ann@acme.io", 30)).await.unwrap();
    let ann_ref = Ref::to(&ann).unwrap();
    posts.create(post("p", &ann_ref, &[])).await.unwrap();
    let raw = posts
        .collection()
        .expect("the collection of an unconfined handle")
        .clone_with_type::<Document>()
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.get_object_id("author").unwrap(), ann.id.unwrap());
    let typed = Post::fields().author.eq(ann_ref.clone());
    assert_eq!(
        typed.as_document(),
        &doc! { "author": { "$eq": ann.id.unwrap() } }
    );
    // The typed filter finds what the raw one MongoDB users write finds: the post, by ObjectId equality
    // on a field other than `_id`; the id's hex string is another type and matches nothing.
    assert_eq!(
        posts
            .count(doc! { "author": ann.id.unwrap() })
            .await
            .unwrap(),
        1
    );
    assert_eq!(posts.count(typed.clone()).await.unwrap(), 1);
    assert_eq!(
        posts
            .count(doc! { "author": ann.id.unwrap().to_hex() })
            .await
            .unwrap(),
        0
    );
    // A bare ObjectId is accepted for a reference field.
    assert_eq!(Post::fields().author.eq(ann.id.unwrap()), typed);
    assert!(Ref::<User>::to(&User::new("no-id@acme.io", 1)).is_err());
}

#[tokio::test]
async fn populate_runs_in_the_transactions_session() {
    let conn = odm_tests::connect("populate_in_transaction").await;
    conn.database().create_collection("users").await.unwrap();
    conn.database().create_collection("posts").await.unwrap();
    let users = conn.model::<User>();
    let posts = conn.model::<Post>();
    let authors = conn
        .transaction(|tx| {
            let (users, posts) = (&users, &posts);
            async move {
                let mut s = tx.session().await;
                let ann = users
                    .create(User::new("ann@acme.io", 30))
                    .session(&mut s)
                    .await?;
                let ann_ref = Ref::to(&ann)?;
                posts
                    .create(post("p", &ann_ref, &[]))
                    .session(&mut s)
                    .await?;
                let found = posts
                    .find(())
                    .populate(Post::fields().author)
                    .session(&mut s)
                    .await?;
                Ok(found
                    .iter()
                    .map(|p| found.get(&p.author).map(|u| u.email.clone()))
                    .collect::<Vec<_>>())
            }
        })
        .await
        .unwrap();
    assert_eq!(authors, [Some("ann@acme.io".to_owned())]);
}
