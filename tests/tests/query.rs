//! Typed filters, updates, sorts and projections against the server.

mod query_models;

use odm_core::bson::{doc, Bson, Document};
use odm_core::{Error, Filter, Model, ModelHandle, Projection, Sort, UpdateBuilder};
use query_models::{Address, User};

async fn seed(test: &str) -> ModelHandle<User> {
    let conn = odm_tests::connect(test).await;
    let users = conn.model::<User>();
    let mut ann = User::new("ann@acme.io", 30);
    ann.nick = Some("annie".into());
    ann.tags = vec!["admin".into(), "ops".into()];
    ann.score = 9.5;
    let mut bob = User::new("bob@acme.io", 17);
    bob.nick = Some("bobby".into());
    bob.tags = vec!["ops".into()];
    bob.score = 4.0;
    bob.address = Address {
        city: "Paris".into(),
        zip: "75001".into(),
    };
    let mut cat = User::new("cat@acme.io", 65);
    cat.score = 7.25;
    users.insert_many([ann, bob, cat]).await.unwrap();
    users
}

async fn emails(users: &ModelHandle<User>, filter: Filter<User>) -> Vec<String> {
    let mut found: Vec<String> = users
        .find(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn every_filter_operator_matches_on_the_server() {
    let users = seed("query_every_filter_operator").await;
    let f = User::fields();
    let e = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    assert_eq!(emails(&users, f.age.eq(30)).await, e(&["ann@acme.io"]));
    assert_eq!(
        emails(&users, f.age.ne(30)).await,
        e(&["bob@acme.io", "cat@acme.io"])
    );
    assert_eq!(
        emails(&users, f.age.gt(17)).await,
        e(&["ann@acme.io", "cat@acme.io"])
    );
    assert_eq!(
        emails(&users, f.age.gte(30)).await,
        e(&["ann@acme.io", "cat@acme.io"])
    );
    assert_eq!(emails(&users, f.age.lt(30)).await, e(&["bob@acme.io"]));
    assert_eq!(
        emails(&users, f.age.lte(30)).await,
        e(&["ann@acme.io", "bob@acme.io"])
    );
    assert_eq!(
        emails(
            &users,
            f.email.in_(["bob@acme.io", "cat@acme.io", "nobody"])
        )
        .await,
        e(&["bob@acme.io", "cat@acme.io"])
    );
    assert_eq!(
        emails(&users, f.age.nin([17, 65])).await,
        e(&["ann@acme.io"])
    );
    // `nick` is an `Option<String>`: the filter takes a `String`/`&str`.
    assert_eq!(
        emails(&users, f.nick.eq("annie")).await,
        e(&["ann@acme.io"])
    );
    // Cat's `None` is stored as null, which `$exists` counts as present (MongoDB: `$exists: true` matches
    // documents that contain the field, including those where it is null); `$eq: null` matches both a
    // null and a missing field. After the unset, only cat lacks `nick`.
    assert_eq!(
        emails(&users, f.nick.exists(true)).await,
        e(&["ann@acme.io", "bob@acme.io", "cat@acme.io"])
    );
    assert_eq!(
        emails(&users, doc! { "nick": null }.into()).await,
        e(&["cat@acme.io"])
    );
    users
        .update_one(
            f.email.eq("cat@acme.io"),
            UpdateBuilder::new().unset(&f.nick),
        )
        .await
        .unwrap();
    assert_eq!(
        emails(&users, f.nick.exists(true)).await,
        e(&["ann@acme.io", "bob@acme.io"])
    );
    assert_eq!(
        emails(&users, f.nick.exists(false)).await,
        e(&["cat@acme.io"])
    );
    assert_eq!(
        emails(&users, f.email.regex("^(ann|cat)@", "")).await,
        e(&["ann@acme.io", "cat@acme.io"])
    );
    assert_eq!(
        emails(&users, f.email.regex("^ANN", "i")).await,
        e(&["ann@acme.io"])
    );
    assert_eq!(
        emails(&users, f.tags.contains("ops")).await,
        e(&["ann@acme.io", "bob@acme.io"])
    );
    assert_eq!(emails(&users, f.tags.size(0)).await, e(&["cat@acme.io"]));
    assert_eq!(emails(&users, f.score.gt(7.0)).await.len(), 2);
    // Nested paths use the stored names (`address.postcode`, renamed in the embedded struct).
    assert_eq!(
        emails(&users, f.address.city.eq("Paris")).await,
        e(&["bob@acme.io"])
    );
    assert_eq!(f.address.zip.path(), "address.postcode");
    assert_eq!(
        emails(&users, f.address.zip.eq("75001")).await,
        e(&["bob@acme.io"])
    );
}

#[tokio::test]
async fn filters_combine_with_methods_and_operators() {
    let users = seed("query_filters_combine").await;
    let f = User::fields();
    let e = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let adults_below_65 = f.age.gte(18) & f.age.lt(65);
    assert_eq!(emails(&users, adults_below_65).await, e(&["ann@acme.io"]));
    assert_eq!(
        emails(&users, f.age.gte(18).and(f.age.lt(65))).await,
        e(&["ann@acme.io"])
    );
    assert_eq!(
        emails(&users, f.age.lt(18) | f.age.gt(60)).await,
        e(&["bob@acme.io", "cat@acme.io"])
    );
    assert_eq!(
        emails(&users, f.age.lt(18).or(f.age.gt(60))).await,
        e(&["bob@acme.io", "cat@acme.io"])
    );
    assert_eq!(
        emails(&users, !f.tags.contains("ops")).await,
        e(&["cat@acme.io"])
    );
    assert_eq!(
        emails(&users, f.tags.contains("ops").not() & !f.age.eq(30)).await,
        e(&["cat@acme.io"])
    );
    // A raw document and a typed filter combine.
    let raw: Filter<User> = doc! { "years": { "$gt": 20 } }.into();
    assert_eq!(
        emails(&users, raw & f.tags.contains("ops")).await,
        e(&["ann@acme.io"])
    );
}

#[tokio::test]
async fn user_values_never_become_operators() {
    let users = seed("query_values_stay_values").await;
    let f = User::fields();
    // A string that looks like an operator or a query is compared as a string.
    assert!(emails(&users, f.email.eq("$where")).await.is_empty());
    assert!(emails(&users, f.email.eq(r#"{"$gt": ""}"#))
        .await
        .is_empty());
    assert!(emails(&users, f.email.gt("$")).await.len() == 3);
    assert!(emails(&users, f.email.in_(["$where", "$ne"]))
        .await
        .is_empty());
    // A document value stays a document behind `$eq`: compared as a whole (MongoDB: field by field, in
    // order), never read as an operator.
    let address: odm_core::Field<User, Document> = odm_core::Field::new("address");
    assert_eq!(
        address.eq(doc! { "$gt": "" }).as_document(),
        &doc! { "address": { "$eq": { "$gt": "" } } }
    );
    assert!(emails(&users, address.eq(doc! { "$gt": "" }))
        .await
        .is_empty());
    assert_eq!(
        emails(
            &users,
            address.eq(doc! { "city": "Paris", "postcode": "75001" })
        )
        .await,
        ["bob@acme.io"]
    );
}

#[tokio::test]
async fn raw_documents_work_beside_typed_forms() {
    let users = seed("query_raw_documents").await;
    let found = users
        .find(doc! { "years": { "$gte": 30 } })
        .sort(doc! { "years": -1 })
        .await
        .unwrap();
    let ages: Vec<i32> = found.iter().map(|u| u.age).collect();
    assert_eq!(ages, [65, 30]);
    users
        .update_one(
            doc! { "email": "bob@acme.io" },
            doc! { "$set": { "years": 18 } },
        )
        .await
        .unwrap();
    assert_eq!(
        users
            .find_one(User::fields().email.eq("bob@acme.io"))
            .await
            .unwrap()
            .unwrap()
            .age,
        18
    );
}

#[tokio::test]
async fn every_update_operator_applies_on_the_server() {
    let users = seed("query_every_update_operator").await;
    let f = User::fields();
    let ann = f.email.eq("ann@acme.io");

    let update = UpdateBuilder::new()
        .set(&f.nick, "ann-marie")
        .set(&f.address.city, "Nice")
        .inc(&f.age, 2)
        .inc(&f.score, -0.5)
        .push(&f.tags, "dev")
        .current_date(&f.seen_at);
    let result = users.update_one(ann.clone(), update).await.unwrap();
    assert_eq!(result.modified_count, 1);
    // One operator per path and update: MongoDB refuses two that touch `tags` at once.
    users
        .update_one(ann.clone(), UpdateBuilder::new().add_to_set(&f.tags, "ops"))
        .await
        .unwrap();
    users
        .update_one(ann.clone(), UpdateBuilder::new().add_to_set(&f.tags, "qa"))
        .await
        .unwrap();
    let got = users.find_one(ann.clone()).await.unwrap().unwrap();
    assert_eq!(got.nick.as_deref(), Some("ann-marie"));
    assert_eq!(got.address.city, "Nice");
    assert_eq!(got.address.zip, "69001");
    assert_eq!(got.age, 32);
    assert_eq!(got.score, 9.0);
    assert_eq!(got.tags, ["admin", "ops", "dev", "qa"]);
    assert!(got.seen_at.is_some());
    // `set` stores a value with its type: a date stays a BSON date.
    let when = odm_core::bson::DateTime::from_millis(1_700_000_000_000);
    users
        .update_one(
            ann.clone(),
            UpdateBuilder::new().set(&f.seen_at, Some(when)),
        )
        .await
        .unwrap();
    let stored = users
        .collection()
        .expect("the collection of an unconfined handle")
        .clone_with_type::<Document>()
        .find_one(doc! { "email": "ann@acme.io" })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get("seen_at"), Some(&Bson::DateTime(when)));

    users
        .update_one(
            ann.clone(),
            UpdateBuilder::new().pull(&f.tags, "ops").unset(&f.nick),
        )
        .await
        .unwrap();
    let raw = users
        .find(ann.clone())
        .project(Projection::new().include(&f.tags).include(&f.nick))
        .await
        .unwrap();
    assert_eq!(raw.len(), 1);
    assert_eq!(
        raw[0].get_array("tags").unwrap(),
        &vec![Bson::from("admin"), Bson::from("dev"), Bson::from("qa")]
    );
    assert!(!raw[0].contains_key("nick"), "{:?}", raw[0]);

    // A pushed value that looks like an update modifier is stored as a value.
    users
        .update_one(ann.clone(), UpdateBuilder::new().push(&f.tags, "$each"))
        .await
        .unwrap();
    let got = users.find_one(ann.clone()).await.unwrap().unwrap();
    assert_eq!(got.tags.last().map(String::as_str), Some("$each"));

    let many = users
        .update_many(f.age.lt(100), UpdateBuilder::new().inc(&f.age, 1))
        .await
        .unwrap();
    assert_eq!(many.modified_count, 3);
}

#[tokio::test]
async fn sorts_order_results_and_combine() {
    let users = seed("query_sorts").await;
    let f = User::fields();
    let by_age: Vec<i32> = users
        .find(())
        .sort(f.age.desc())
        .await
        .unwrap()
        .iter()
        .map(|u| u.age)
        .collect();
    assert_eq!(by_age, [65, 30, 17]);
    let by_age: Vec<i32> = users
        .find(())
        .sort(f.age.asc())
        .limit(2)
        .await
        .unwrap()
        .iter()
        .map(|u| u.age)
        .collect();
    assert_eq!(by_age, [17, 30]);

    users.create(User::new("abe@acme.io", 30)).await.unwrap();
    let tuple: Sort<User> = (f.age.desc(), f.email.asc()).into();
    let order: Vec<String> = users
        .find(f.age.eq(30))
        .sort(tuple)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(order, ["abe@acme.io", "ann@acme.io"]);
    let order: Vec<String> = users
        .find(f.age.eq(30))
        .sort(f.age.desc().then(f.email.desc()))
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(order, ["ann@acme.io", "abe@acme.io"]);
    let first = users
        .find_one(())
        .sort(f.score.desc())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.email, "ann@acme.io");
}

#[tokio::test]
async fn projections_return_only_the_named_fields() {
    let users = seed("query_projections").await;
    let f = User::fields();
    let docs = users
        .find(f.age.gte(30))
        .sort(f.age.asc())
        .project(Projection::new().include(&f.email).include(&f.tags))
        .await
        .unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].get_str("email").unwrap(), "ann@acme.io");
    let mut keys: Vec<&str> = docs[0].keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["_id", "email", "tags"]);
    let docs = users
        .find(f.age.eq(17))
        .project(Projection::new().exclude(&f.tags).exclude(&f.id))
        .await
        .unwrap();
    assert!(!docs[0].contains_key("tags") && !docs[0].contains_key("_id"));
    assert_eq!(docs[0].get_str("email").unwrap(), "bob@acme.io");
    // Nested paths project by their stored dotted path, and MongoDB returns them nested.
    assert_eq!(
        Projection::<User>::new()
            .include(&f.address.city)
            .exclude(&f.id)
            .into_document(),
        doc! { "address.city": 1, "_id": 0 }
    );
    let docs = users
        .find(f.age.eq(17))
        .project(Projection::new().include(&f.address.city).exclude(&f.id))
        .await
        .unwrap();
    assert_eq!(docs, [doc! { "address": { "city": "Paris" } }]);
    let docs = users
        .find(f.age.eq(17))
        .project(
            Projection::new()
                .exclude(&f.address.zip)
                .exclude(&f.id)
                .exclude(&f.tags),
        )
        .await
        .unwrap();
    assert_eq!(
        docs[0].get_document("address").unwrap(),
        &doc! { "city": "Paris" }
    );
    assert_eq!(docs[0].get_str("email").unwrap(), "bob@acme.io");
}

#[tokio::test]
async fn a_value_that_cannot_be_encoded_fails_without_a_round_trip() {
    let users = seed("query_encoding_error").await;
    let big: odm_core::Field<User, u64> = odm_core::Field::new("years");
    let err = users.find(big.gt(u64::MAX)).await.unwrap_err();
    assert!(matches!(err, Error::Serialization { .. }), "{err}");
    let err = users
        .update_many((), UpdateBuilder::new().set(&big, u64::MAX))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Serialization { .. }), "{err}");
    assert_eq!(users.count(User::fields().age.eq(30)).await.unwrap(), 1);
}

#[test]
fn typed_forms_name_stored_paths() {
    let f = User::fields();
    assert_eq!(f.age.path(), "years");
    assert_eq!(
        f.age.gte(18).into_document().unwrap(),
        doc! { "years": { "$gte": 18 } }
    );
    assert_eq!(
        UpdateBuilder::new()
            .set(&f.nick, "x")
            .set(&f.age, 3)
            .build()
            .unwrap(),
        odm_core::Update::Document(doc! { "$set": { "nick": "x", "years": 3 } })
    );
}

#[tokio::test]
async fn a_tagged_enum_model_reads_back_each_kind_and_filters_on_the_tag() {
    use query_models::{Event, EventKind};
    let conn = odm_tests::connect("query_tagged_enum").await;
    let events = conn.model::<Event>();
    events
        .insert_many([
            Event::Click {
                id: None,
                at: 1,
                x: 10,
                y: 20,
            },
            Event::View {
                id: None,
                at: 2,
                page: "/home".into(),
            },
            Event::Click {
                id: None,
                at: 3,
                x: 5,
                y: 6,
            },
        ])
        .await
        .unwrap();
    let f = Event::fields();
    let all = events.find(()).sort(f.at.asc()).await.unwrap();
    assert!(matches!(
        &all[..],
        [Event::Click { x: 10, .. }, Event::View { page, .. }, Event::Click { x: 5, .. }] if page == "/home"
    ));
    assert_eq!(
        f.kind.eq(EventKind::Click).as_document(),
        &doc! { "kind": { "$eq": "click" } }
    );
    let clicks = events.find(f.kind.eq(EventKind::Click)).await.unwrap();
    assert_eq!(clicks.len(), 2);
    assert!(clicks.iter().all(|e| matches!(e, Event::Click { .. })));
    let views = events
        .count(f.kind.ne(EventKind::Click) & f.page.eq("/home"))
        .await
        .unwrap();
    assert_eq!(views, 1);
    let far_right = events
        .find(f.kind.eq(EventKind::Click) & f.x.gt(7))
        .await
        .unwrap();
    assert_eq!(far_right.len(), 1);
}
