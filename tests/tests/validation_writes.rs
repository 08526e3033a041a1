//! Every write that takes a value validates it first and, on failure, writes nothing.

use odm_core::mongodb::error::{ErrorKind, WriteFailure};
use odm_core::prelude::*;
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Embedded)]
struct Address {
    city: String,
    #[field(regex = r"^\d{5}$")]
    zip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "customers", version)]
struct Customer {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(email)]
    email: String,
    #[field(range(min = 0, max = 150))]
    age: i32,
    #[field(nested)]
    address: Address,
    #[field(length(max = 3))]
    tags: Vec<String>,
    #[serde(rename = "__v", default)]
    version: i64,
}

fn valid() -> Customer {
    Customer {
        id: None,
        email: "ann@acme.io".into(),
        age: 30,
        address: Address {
            city: "Lyon".into(),
            zip: "69001".into(),
        },
        tags: vec!["a".into()],
        version: 0,
    }
}

fn invalid() -> Customer {
    Customer {
        email: "nope".into(),
        age: -1,
        address: Address {
            city: "Lyon".into(),
            zip: "6900".into(),
        },
        tags: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        ..valid()
    }
}

fn failing_paths(err: &Error) -> Vec<(String, &'static str)> {
    match err {
        Error::Validation(e) => e.errors.iter().map(|f| (f.path.clone(), f.rule)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

const ALL_FAILURES: [(&str, &str); 4] = [
    ("email", "email"),
    ("age", "range"),
    ("address.zip", "regex"),
    ("tags", "length"),
];

fn expected() -> Vec<(String, &'static str)> {
    ALL_FAILURES
        .iter()
        .map(|(p, r)| (p.to_string(), *r))
        .collect()
}

#[tokio::test]
async fn create_reports_every_failing_field_and_writes_nothing() {
    let conn = connect("valw_create").await;
    let customers = conn.model::<Customer>();
    let err = customers.create(invalid()).await.unwrap_err();
    assert_eq!(failing_paths(&err), expected());
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(customers.count(()).await.unwrap(), 0);
    // The same checks without I/O.
    let err = customers.validate(&invalid()).unwrap_err();
    assert_eq!(failing_paths(&err), expected());
    customers.validate(&valid()).unwrap();
}

#[tokio::test]
async fn insert_many_with_one_invalid_element_writes_none_and_names_it() {
    let conn = connect("valw_insert_many").await;
    let customers = conn.model::<Customer>();
    let err = customers
        .insert_many([valid(), valid(), invalid(), valid()])
        .await
        .unwrap_err();
    match &err {
        Error::Validation(e) => assert_eq!(e.index, Some(2)),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("element 2"), "{err}");
    assert_eq!(customers.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn replace_and_save_refuse_invalid_values_and_keep_the_stored_one() {
    let conn = connect("valw_replace").await;
    let customers = conn.model::<Customer>();
    let stored = customers.create(valid()).await.unwrap();
    let id = stored.id.unwrap();

    let err = customers
        .replace_one(
            doc! { "_id": id },
            Customer {
                id: Some(id),
                ..invalid()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(failing_paths(&err), expected());

    let mut bad = Customer {
        id: Some(id),
        ..invalid()
    };
    let err = customers.save(&mut bad).await.unwrap_err();
    assert_eq!(failing_paths(&err), expected());
    assert_eq!(bad.version, 0, "a refused save does not bump the version");

    assert_eq!(customers.find_by_id(id).await.unwrap().unwrap(), stored);
}

#[tokio::test]
async fn sync_schema_applies_the_json_schema_as_the_validator() {
    let conn = connect("valw_sync_schema").await;
    let customers = conn.model::<Customer>();
    // Creates the collection with the validator, then updates it with collMod.
    customers.sync_schema().await.unwrap();
    customers.sync_schema().await.unwrap();
    let specs: Vec<Document> = conn
        .database()
        .run_command(doc! { "listCollections": 1, "filter": { "name": "customers" } })
        .await
        .unwrap()
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap()
        .iter()
        .filter_map(|b| b.as_document().cloned())
        .collect();
    assert_eq!(specs.len(), 1, "the collection exists");
    // MongoDB lists the validator under options.validator.
    let validator = specs[0]
        .get_document("options")
        .and_then(|o| o.get_document("validator"))
        .expect("the collection has a validator");
    assert_eq!(
        validator.get_document("$jsonSchema").unwrap(),
        &Customer::json_schema()
    );
    // A raw write that breaks a rule is refused by the server itself: DocumentValidationFailure (121).
    let raw = conn.database().collection::<Document>("customers");
    let err = raw
        .insert_one(doc! { "email": "ann@acme.io", "age": -1, "tags": [],
        "address": { "city": "x", "zip": "00000" } })
        .await
        .unwrap_err();
    let code = match &*err.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code,
        other => panic!("expected a write error, got {other:?}"),
    };
    assert_eq!(code, 121, "{err}");
    assert_eq!(raw.count_documents(doc! {}).await.unwrap(), 0);
    // A valid one passes the server's check too.
    raw.insert_one(doc! { "email": "ann@acme.io", "age": 30, "tags": [],
    "address": { "city": "x", "zip": "00000" }, "__v": 0_i64 })
        .await
        .unwrap();
}

#[tokio::test]
async fn updates_that_break_a_rule_write_nothing() {
    let conn = connect("valw_updates").await;
    let customers = conn.model::<Customer>();
    let stored = customers.create(valid()).await.unwrap();
    let id = stored.id.unwrap();

    let err = customers
        .update_one(
            doc! { "_id": id },
            doc! { "$set": { "age": -1, "email": "nope", "address.zip": "1", "tags": ["a", "b", "c", "d"] } },
        )
        .await
        .unwrap_err();
    assert_eq!(
        failing_paths(&err),
        [
            ("age".to_string(), "range"),
            ("email".to_string(), "email"),
            ("address.zip".to_string(), "regex"),
            ("tags".to_string(), "length"),
        ]
    );
    // A whole embedded document is checked field by field.
    let err = customers
        .update_many(
            (),
            doc! { "$set": { "address": { "city": "Lyon", "zip": "x" } } },
        )
        .await
        .unwrap_err();
    assert_eq!(failing_paths(&err), [("address.zip".to_string(), "regex")]);
    // A required field cannot be unset.
    let err = customers
        .update_one(doc! { "_id": id }, doc! { "$unset": { "email": "" } })
        .await
        .unwrap_err();
    assert_eq!(failing_paths(&err), [("email".to_string(), "required")]);
    // The typed builder goes through the same check.
    let f = Customer::fields();
    let err = customers
        .update_one(
            doc! { "_id": id },
            odm_core::UpdateBuilder::new().set(&f.age, 200),
        )
        .await
        .unwrap_err();
    assert_eq!(failing_paths(&err), [("age".to_string(), "range")]);

    assert_eq!(customers.find_by_id(id).await.unwrap().unwrap(), stored);

    // A valid update goes through.
    customers
        .update_one(
            doc! { "_id": id },
            doc! { "$set": { "age": 31, "address.zip": "75001" } },
        )
        .await
        .unwrap();
    let updated = customers.find_by_id(id).await.unwrap().unwrap();
    assert_eq!((updated.age, updated.address.zip.as_str()), (31, "75001"));
}
