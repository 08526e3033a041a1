//! `#[field(default = ..)]`: a `None` takes its default on every insert path and through the
//! `$setOnInsert` of every upsert path, and the schema tells it.

use odm_core::prelude::*;
use odm_core::{UpdateBuilder, Write};
use odm_tests::connect;

fn default_plan() -> String {
    "free".to_owned()
}

const START_CREDITS: i64 = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "accounts")]
struct Account {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    email: String,
    /// A string literal, turned into the field's type.
    #[field(default = "member", one_of("member", "admin"))]
    role: Option<String>,
    /// A function, called on every insert.
    #[field(default = default_plan)]
    plan: Option<String>,
    /// A constant.
    #[field(default = START_CREDITS, range(min = 0))]
    credits: Option<i64>,
    /// An expression.
    #[field(default = vec!["new".to_owned()])]
    tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[field(default = 1.5)]
    score: Option<f64>,
    /// No default: stays `None`.
    note: Option<String>,
}

fn account(email: &str) -> Account {
    Account {
        id: None,
        email: email.into(),
        role: None,
        plan: None,
        credits: None,
        tags: None,
        score: None,
        note: None,
    }
}

fn defaulted(email: &str) -> Account {
    Account {
        role: Some("member".into()),
        plan: Some("free".into()),
        credits: Some(100),
        tags: Some(vec!["new".into()]),
        score: Some(1.5),
        ..account(email)
    }
}

/// The stored document, read raw.
async fn stored(accounts: &ModelHandle<Account>, email: &str) -> Document {
    accounts
        .collection()
        .unwrap()
        .clone_with_type::<Document>()
        .find_one(doc! { "email": email })
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no document for {email}"))
}

#[tokio::test]
async fn create_fills_every_none_with_its_default_and_returns_it() {
    let accounts = connect("defaults_create").await.model::<Account>();
    let created = accounts.create(account("a")).await.unwrap();
    assert_eq!(
        Account {
            id: None,
            ..created.clone()
        },
        defaulted("a")
    );
    let doc = stored(&accounts, "a").await;
    assert_eq!(doc.get_str("role").unwrap(), "member");
    assert_eq!(doc.get_str("plan").unwrap(), "free");
    assert_eq!(doc.get_i64("credits").unwrap(), 100);
    assert_eq!(doc.get_f64("score").unwrap(), 1.5);
    assert_eq!(doc.get("note"), Some(&Bson::Null));
    let read = accounts.find_by_id(created.id.unwrap()).await.unwrap();
    assert_eq!(read, Some(created));
}

#[tokio::test]
async fn a_value_that_is_set_is_kept() {
    let accounts = connect("defaults_kept").await.model::<Account>();
    let mut given = account("b");
    given.role = Some("admin".into());
    given.credits = Some(0);
    let created = accounts.create(given).await.unwrap();
    assert_eq!(created.role.as_deref(), Some("admin"));
    assert_eq!(created.credits, Some(0));
    assert_eq!(created.plan.as_deref(), Some("free"));
    assert_eq!(
        stored(&accounts, "b").await.get_str("role").unwrap(),
        "admin"
    );
}

#[tokio::test]
async fn insert_many_and_save_of_a_new_value_take_defaults_and_a_later_save_keeps_none() {
    let accounts = connect("defaults_insert_many_save")
        .await
        .model::<Account>();
    let many = accounts
        .insert_many([account("c1"), account("c2")])
        .await
        .unwrap();
    for (value, email) in many.iter().zip(["c1", "c2"]) {
        assert_eq!(
            Account {
                id: None,
                ..value.clone()
            },
            defaulted(email)
        );
        assert_eq!(
            stored(&accounts, email).await.get_i64("credits").unwrap(),
            100
        );
    }

    let mut saved = account("d");
    accounts.save(&mut saved).await.unwrap();
    assert_eq!(saved.plan.as_deref(), Some("free"));
    assert_eq!(
        stored(&accounts, "d").await.get_str("plan").unwrap(),
        "free"
    );

    // A stored value is not new: clearing a field with a default stores `None` (Mongoose applies
    // defaults when a document is created, not on every save).
    saved.plan = None;
    accounts.save(&mut saved).await.unwrap();
    assert_eq!(saved.plan, None);
    assert_eq!(stored(&accounts, "d").await.get("plan"), Some(&Bson::Null));
}

#[tokio::test]
async fn a_bulk_insert_takes_defaults() {
    let accounts = connect("defaults_bulk_insert").await.model::<Account>();
    accounts
        .bulk_write([Write::insert_one(account("e"))])
        .await
        .unwrap();
    assert_eq!(
        stored(&accounts, "e").await.get_str("role").unwrap(),
        "member"
    );
}

#[tokio::test]
async fn an_upsert_that_inserts_sets_the_defaults_the_update_and_filter_leave_out() {
    let accounts = connect("defaults_upsert").await.model::<Account>();
    let f = Account::fields();
    accounts
        .update_one(
            f.email.eq("u"),
            UpdateBuilder::new().set(&f.role, Some("admin".to_owned())),
        )
        .upsert(true)
        .await
        .unwrap();
    let doc = stored(&accounts, "u").await;
    // Written by the update: not overwritten.
    assert_eq!(doc.get_str("role").unwrap(), "admin");
    assert_eq!(doc.get_str("plan").unwrap(), "free");
    assert_eq!(doc.get_i64("credits").unwrap(), 100);
    assert_eq!(doc.get_array("tags").unwrap(), &vec![Bson::from("new")]);
    assert!(!doc.contains_key("note"));

    // A field the filter names is stored from the filter.
    accounts
        .update_one(
            doc! { "email": "v", "plan": "pro" },
            doc! { "$inc": { "credits": 5i64 } },
        )
        .upsert(true)
        .await
        .unwrap();
    let doc = stored(&accounts, "v").await;
    assert_eq!(doc.get_str("plan").unwrap(), "pro");
    assert_eq!(doc.get_i64("credits").unwrap(), 5);
    assert_eq!(doc.get_str("role").unwrap(), "member");
}

#[tokio::test]
async fn an_upsert_that_matches_leaves_the_stored_values() {
    let accounts = connect("defaults_upsert_match").await.model::<Account>();
    let mut existing = account("w");
    existing.plan = Some("pro".into());
    accounts.create(existing).await.unwrap();
    accounts
        .update_one(doc! { "email": "w" }, doc! { "$unset": { "role": "" } })
        .upsert(true)
        .await
        .unwrap();
    let doc = stored(&accounts, "w").await;
    assert_eq!(doc.get_str("plan").unwrap(), "pro");
    assert!(!doc.contains_key("role"), "{doc:?}");
}

#[tokio::test]
async fn find_one_and_update_and_bulk_upserts_set_defaults() {
    let accounts = connect("defaults_fam_bulk").await.model::<Account>();
    let after = accounts
        .find_one_and_update(doc! { "email": "x" }, doc! { "$set": { "note": "hi" } })
        .upsert(true)
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Account {
            id: None,
            note: Some("hi".into()),
            ..defaulted("x")
        },
        Account { id: None, ..after }
    );

    accounts
        .bulk_write([
            Write::update_one(doc! { "email": "y" }, doc! { "$set": { "note": "bulk" } }).upsert(),
        ])
        .await
        .unwrap();
    let doc = stored(&accounts, "y").await;
    assert_eq!(doc.get_str("role").unwrap(), "member");
    assert_eq!(doc.get_i64("credits").unwrap(), 100);
}

#[test]
fn the_schema_tells_the_defaults() {
    let role = Account::SCHEMA.field("role").unwrap();
    assert_eq!(role.default.unwrap().expr, "\"member\"");
    assert_eq!(
        (role.default.unwrap().value)().unwrap(),
        Bson::from("member")
    );
    let credits = Account::SCHEMA.field("credits").unwrap();
    assert_eq!(credits.default.unwrap().expr, "START_CREDITS");
    assert_eq!(
        Account::SCHEMA.field("plan").unwrap().default.unwrap().expr,
        "default_plan"
    );
    assert!(Account::SCHEMA.field("note").unwrap().default.is_none());

    // `$jsonSchema` has no `default` keyword: the default is in the description.
    let schema = Account::json_schema();
    let props = schema.get_document("properties").unwrap();
    assert_eq!(
        props
            .get_document("credits")
            .unwrap()
            .get_str("description")
            .unwrap(),
        "default: START_CREDITS"
    );
    assert!(props
        .get_document("note")
        .unwrap()
        .get("description")
        .is_none());
}

/// A validator with draft 4's `default` keyword is refused ("$jsonSchema keyword 'default' is not
/// currently supported", code 9, by mongod and by SecantusDB alike); the one the library builds is not.
#[tokio::test]
async fn the_server_accepts_the_json_schema_with_defaults_as_a_validator() {
    let conn = connect("defaults_validator").await;
    conn.database()
        .create_collection("accounts")
        .validator(doc! { "$jsonSchema": Account::json_schema() })
        .await
        .unwrap();
    let accounts = conn.model::<Account>();
    accounts.create(account("z")).await.unwrap();
    assert_eq!(
        stored(&accounts, "z").await.get_str("role").unwrap(),
        "member"
    );
}
