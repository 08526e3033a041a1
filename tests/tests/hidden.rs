//! `#[field(hidden)]`: reads leave the field out unless asked (`with_hidden()`), the struct still decodes,
//! and a value read without it saves without erasing it.

use odm_core::prelude::*;
use odm_core::{Ref, UpdateBuilder};
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "users")]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    email: String,
    #[field(hidden)]
    password_hash: Option<String>,
    /// Not an `Option`: serde's default fills it when a read leaves it out.
    #[serde(default)]
    #[field(hidden)]
    risk: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "notes")]
struct Note {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    body: String,
    author: Ref<User>,
}

fn user(email: &str) -> User {
    User {
        id: None,
        email: email.into(),
        password_hash: Some(format!("hash-of-{email}")),
        risk: 7,
    }
}

/// What a read without the hidden fields gives.
fn read_without_hidden(u: &User) -> User {
    User {
        password_hash: None,
        risk: 0,
        ..u.clone()
    }
}

async fn stored_hash(users: &ModelHandle<User>, email: &str) -> Option<String> {
    let doc = users
        .collection()
        .unwrap()
        .clone_with_type::<Document>()
        .find_one(doc! { "email": email })
        .await
        .unwrap()
        .unwrap();
    doc.get_str("password_hash").ok().map(str::to_owned)
}

#[tokio::test]
async fn reads_leave_hidden_fields_out_unless_asked() {
    let users = connect("hidden_reads").await.model::<User>();
    let ann = users.create(user("ann")).await.unwrap();
    let bob = users.create(user("bob")).await.unwrap();
    let id = ann.id.unwrap();
    let f = User::fields();

    assert_eq!(
        users.find_by_id(id).await.unwrap(),
        Some(read_without_hidden(&ann))
    );
    assert_eq!(
        users.find_one(f.email.eq("ann")).await.unwrap(),
        Some(read_without_hidden(&ann))
    );
    assert_eq!(
        users.find(()).sort(f.email.asc()).await.unwrap(),
        [read_without_hidden(&ann), read_without_hidden(&bob)]
    );
    let mut streamed = Vec::new();
    let mut stream = users.find(()).sort(f.email.asc()).stream().await.unwrap();
    while let Some(u) = stream.next().await {
        streamed.push(u.unwrap());
    }
    assert_eq!(
        streamed,
        [read_without_hidden(&ann), read_without_hidden(&bob)]
    );
    let page = users.find(()).page_after(None, 10).await.unwrap();
    assert!(page.items.iter().all(|u| u.password_hash.is_none()));
    let (found, total) = users.find_and_count(users.find(())).await.unwrap();
    assert_eq!(total, 2);
    assert!(found.iter().all(|u| u.password_hash.is_none()));

    // Asked for.
    assert_eq!(
        users.find_by_id(id).with_hidden().await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        users
            .find(())
            .sort(f.email.asc())
            .with_hidden()
            .await
            .unwrap(),
        [ann.clone(), bob.clone()]
    );
    let page = users
        .find(())
        .with_hidden()
        .page_after(None, 10)
        .await
        .unwrap();
    assert!(page.items.iter().all(|u| u.password_hash.is_some()));
}

#[tokio::test]
async fn find_and_modify_returns_leave_hidden_fields_out_unless_asked() {
    let users = connect("hidden_find_and_modify").await.model::<User>();
    let ann = users.create(user("ann")).await.unwrap();
    let f = User::fields();
    let before = users
        .find_one_and_update(f.email.eq("ann"), UpdateBuilder::new().set(&f.risk, 8))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, read_without_hidden(&ann));
    let after = users
        .find_one_and_update(f.email.eq("ann"), UpdateBuilder::new().set(&f.risk, 9))
        .return_after()
        .with_hidden()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.password_hash.as_deref(), after.risk),
        (Some("hash-of-ann"), 9)
    );
    let deleted = users
        .find_one_and_delete(f.email.eq("ann"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.password_hash, None);
}

#[tokio::test]
async fn projections_that_exclude_keep_hidden_fields_out_and_inclusions_return_what_they_name() {
    let users = connect("hidden_projections").await.model::<User>();
    users.create(user("ann")).await.unwrap();
    let f = User::fields();
    let excluded = users.find(()).project(doc! { "email": 0 }).await.unwrap();
    assert_eq!(excluded.len(), 1);
    assert!(!excluded[0].contains_key("password_hash"), "{excluded:?}");
    assert!(!excluded[0].contains_key("risk"));
    let named = users
        .find(())
        .project(doc! { "email": 1, "password_hash": 1 })
        .await
        .unwrap();
    assert_eq!(named[0].get_str("password_hash").unwrap(), "hash-of-ann");
    let asked = users
        .find(())
        .with_hidden()
        .project(doc! { "email": 0 })
        .await
        .unwrap();
    assert_eq!(asked[0].get_str("password_hash").unwrap(), "hash-of-ann");
    let projected = users
        .find_one_and_update(f.email.eq("ann"), doc! { "$set": { "risk": 1 } })
        .project(doc! { "_id": 0 })
        .await
        .unwrap()
        .unwrap();
    assert!(!projected.contains_key("password_hash"));
}

#[tokio::test]
async fn populate_leaves_hidden_fields_of_the_referenced_documents_out() {
    let conn = connect("hidden_populate").await;
    let users = conn.model::<User>();
    let notes = conn.model::<Note>();
    let ann = users.create(user("ann")).await.unwrap();
    notes
        .create(Note {
            id: None,
            body: "hi".into(),
            author: Ref::to(&ann).unwrap(),
        })
        .await
        .unwrap();
    let f = Note::fields();
    let found = notes.find(()).populate(f.author.clone()).await.unwrap();
    let note = found.into_iter().next().unwrap();
    let author = found.get(&note.author).unwrap();
    assert_eq!(author, &read_without_hidden(&ann));
}

#[tokio::test]
async fn a_value_read_without_hidden_fields_saves_without_erasing_them() {
    let users = connect("hidden_save").await.model::<User>();
    let ann = users.create(user("ann")).await.unwrap();
    let mut read = users.find_by_id(ann.id.unwrap()).await.unwrap().unwrap();
    read.email = "ann2".into();
    users.save(&mut read).await.unwrap();
    assert_eq!(
        stored_hash(&users, "ann2").await.as_deref(),
        Some("hash-of-ann")
    );
    // `risk` was read as serde's default and written back as such: only `null` or missing is kept.
    let stored = users
        .find_by_id(ann.id.unwrap())
        .with_hidden()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.risk, 0);

    // A value that holds the field stores it.
    read.password_hash = Some("new-hash".into());
    users.save(&mut read).await.unwrap();
    assert_eq!(
        stored_hash(&users, "ann2").await.as_deref(),
        Some("new-hash")
    );

    // `replace_one` keeps it as `save` does.
    let mut replacement = read.clone();
    replacement.password_hash = None;
    replacement.email = "ann3".into();
    let f = User::fields();
    let result = users
        .replace_one(f.email.eq("ann2"), replacement)
        .await
        .unwrap();
    assert_eq!(result.matched_count, 1);
    assert_eq!(
        stored_hash(&users, "ann3").await.as_deref(),
        Some("new-hash")
    );
    // `find_one_and_replace` too.
    let mut replacement = users.find_one(f.email.eq("ann3")).await.unwrap().unwrap();
    replacement.email = "ann4".into();
    let after = users
        .find_one_and_replace(f.email.eq("ann3"), replacement)
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!((after.email.as_str(), after.password_hash), ("ann4", None));
    assert_eq!(
        stored_hash(&users, "ann4").await.as_deref(),
        Some("new-hash")
    );
    // A value whose string looks like a field path or an operator is stored as written.
    let mut odd = users.find_one(f.email.eq("ann4")).await.unwrap().unwrap();
    odd.email = "$password_hash".into();
    users.save(&mut odd).await.unwrap();
    let back = users
        .find_by_id(odd.id.unwrap())
        .with_hidden()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.email, "$password_hash");
    assert_eq!(back.password_hash.as_deref(), Some("new-hash"));
    assert_eq!(users.count(()).await.unwrap(), 1);
}

#[test]
fn the_schema_says_it() {
    assert!(User::SCHEMA.field("password_hash").unwrap().hidden);
    assert!(!User::SCHEMA.field("email").unwrap().hidden);
    assert_eq!(
        User::SCHEMA.hidden_projection(),
        Some(doc! { "password_hash": 0, "risk": 0 })
    );
    assert_eq!(Note::SCHEMA.hidden_projection(), None);
}
