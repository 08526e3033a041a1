//! Change streams: typed events for changes made after the stream opened, and resuming after a token,
//! also after the server was killed and restarted.

mod query_models;

use std::time::Duration;

use futures_util::StreamExt;
use odm_core::bson::{doc, Bson};
use odm_core::{ChangeEvent, ChangeStream, Connection, Model, UpdateBuilder};
use odm_tests::TestServer;
use query_models::User;

async fn open(watch: odm_core::Watch<'_, User>) -> ChangeStream<User> {
    watch
        .await
        .unwrap_or_else(|e| panic!("cannot open a change stream: {e}"))
}

async fn next(stream: &mut ChangeStream<User>) -> ChangeEvent<User> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a change event within 10 s")
        .expect("the stream is open")
        .expect("a decodable change event")
}

#[tokio::test]
async fn a_change_stream_sees_an_insert_made_after_it_opened() {
    let conn = odm_tests::connect("watch_sees_insert").await;
    let users = conn.model::<User>();
    users.create(User::new("before@acme.io", 1)).await.unwrap();
    let mut stream = open(users.watch()).await;

    let ann = users.create(User::new("ann@acme.io", 30)).await.unwrap();
    match next(&mut stream).await {
        ChangeEvent::Insert(user) => assert_eq!(user, ann),
        other => panic!("expected an insert, got {other:?}"),
    }
    assert!(stream.resume_token().is_some());

    users
        .update_one(
            User::fields().email.eq("ann@acme.io"),
            UpdateBuilder::new().set(&User::fields().age, 31),
        )
        .await
        .unwrap();
    match next(&mut stream).await {
        ChangeEvent::Update {
            id, updated_fields, ..
        } => {
            assert_eq!(id, Bson::ObjectId(ann.id.unwrap()));
            // MongoDB lists the set fields by their stored names.
            assert_eq!(updated_fields, doc! { "years": 31 });
        }
        other => panic!("expected an update, got {other:?}"),
    }

    users
        .delete_one(User::fields().email.eq("ann@acme.io"))
        .await
        .unwrap();
    match next(&mut stream).await {
        ChangeEvent::Delete { id } => assert_eq!(id, Bson::ObjectId(ann.id.unwrap())),
        other => panic!("expected a delete, got {other:?}"),
    }
}

#[tokio::test]
async fn a_change_stream_resumes_after_a_token() {
    let conn = odm_tests::connect("watch_resumes").await;
    let users = conn.model::<User>();
    let mut stream = open(users.watch()).await;
    users.create(User::new("one@acme.io", 1)).await.unwrap();
    assert!(matches!(next(&mut stream).await, ChangeEvent::Insert(u) if u.email == "one@acme.io"));
    let token = stream.resume_token().expect("a token after an event");
    drop(stream);

    // Written while nobody watches.
    users.create(User::new("two@acme.io", 2)).await.unwrap();

    let mut resumed = open(users.watch().resume_after(token)).await;
    match next(&mut resumed).await {
        ChangeEvent::Insert(user) => assert_eq!(user.email, "two@acme.io"),
        other => panic!("expected the missed insert, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_stream_resumes_after_the_server_restarts() {
    // A server of its own (`secantusd-rs` over WiredTiger): killed and restarted on the same storage, it
    // keeps its oplog, so a token taken before the kill still resumes.
    let mut server = TestServer::start().await;
    let users = Connection::options(&server.uri())
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap()
        .use_db("watch_resumes_after_restart")
        .unwrap()
        .model::<User>();
    let mut stream = open(users.watch()).await;
    users.create(User::new("one@acme.io", 1)).await.unwrap();
    assert!(matches!(next(&mut stream).await, ChangeEvent::Insert(u) if u.email == "one@acme.io"));
    let token = stream.resume_token().expect("a token after an event");
    // Written before the crash, while nobody reads the stream.
    users.create(User::new("two@acme.io", 2)).await.unwrap();
    drop(stream);

    server.kill();
    server.restart().await;

    users.create(User::new("three@acme.io", 3)).await.unwrap();
    let mut resumed = open(users.watch().resume_after(token)).await;
    for expected in ["two@acme.io", "three@acme.io"] {
        match next(&mut resumed).await {
            ChangeEvent::Insert(user) => assert_eq!(user.email, expected),
            other => panic!("expected the insert of {expected}, got {other:?}"),
        }
    }
}
