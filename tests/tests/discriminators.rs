#![deny(warnings)]
//! Several kinds of document in one collection (Mongoose's discriminators), the Rust way:
//! `#[derive(Model)]` on a serde internally tagged enum. Each document stores its kind in the tag, reads
//! back as its variant, and `{Name}Kind` gives a typed filter on the tag. The `deny(warnings)` above makes
//! any warning in the generated code (`missing_docs` on the public `ActivityKind` and `ActivityFields`
//! included) fail this test's build.

use odm_core::bson::{doc, Bson, Document};
use odm_core::prelude::*;
use odm_core::schema::{BsonType, Literal, Rule};

use models::{Activity, ActivityKind};

/// Public, documented models: the generated `ActivityKind` and `ActivityFields` are public too.
pub mod models {
    use odm_core::prelude::*;

    /// What a visitor did on the site.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    #[model(collection = "activities", index(fields("kind", "-at")))]
    pub enum Activity {
        /// A click on the page.
        Click {
            /// Id.
            #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
            id: Option<ObjectId>,
            /// When, in ms since the epoch.
            at: i64,
            /// Horizontal position.
            #[field(range(min = 0, max = 4096))]
            x: i32,
            /// Vertical position.
            #[field(range(min = 0, max = 4096))]
            y: i32,
        },
        /// A page shown: `rename_all` stores it as `page_view`.
        PageView {
            /// Id.
            #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
            id: Option<ObjectId>,
            /// When, in ms since the epoch.
            at: i64,
            /// The page's path.
            #[field(length(min = 1, max = 200), index)]
            page: String,
            /// Where the visitor came from, if known.
            referrer: Option<String>,
        },
        /// A purchase, stored as `buy`, with its fields in camelCase.
        #[serde(rename = "buy", rename_all = "camelCase")]
        Purchase {
            /// Id.
            #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
            id: Option<ObjectId>,
            /// When, in ms since the epoch.
            at: i64,
            /// The amount, in cents.
            #[field(range(min = 1))]
            amount_cents: i64,
            /// The buyer's e-mail address.
            #[field(email)]
            buyer: String,
        },
    }
}

fn click(at: i64, x: i32) -> Activity {
    Activity::Click {
        id: None,
        at,
        x,
        y: 10,
    }
}

fn view(at: i64, page: &str) -> Activity {
    Activity::PageView {
        id: None,
        at,
        page: page.into(),
        referrer: None,
    }
}

fn purchase(at: i64, amount_cents: i64) -> Activity {
    Activity::Purchase {
        id: None,
        at,
        amount_cents,
        buyer: "ann@acme.io".into(),
    }
}

#[tokio::test]
async fn each_kind_is_stored_with_its_tag_and_read_back_as_its_variant() {
    let conn = odm_tests::connect("discriminators_read_back").await;
    let activities = conn.model::<Activity>();
    let created = activities.create(purchase(3, 1999)).await.unwrap();
    let id = match &created {
        Activity::Purchase { id: Some(id), .. } => *id,
        other => panic!("create sets the id of the variant it was given: {other:?}"),
    };
    activities
        .insert_many([click(1, 5), view(2, "/home"), click(4, 7)])
        .await
        .unwrap();

    let f = Activity::fields();
    let all = activities.find(()).sort(f.at.asc()).await.unwrap();
    let kinds: Vec<ActivityKind> = all.iter().map(Activity::kind).collect();
    assert_eq!(
        kinds,
        [
            ActivityKind::Click,
            ActivityKind::PageView,
            ActivityKind::Purchase,
            ActivityKind::Click
        ]
    );
    assert!(matches!(
        &all[0],
        Activity::Click {
            x: 5,
            y: 10,
            at: 1,
            id: Some(_)
        }
    ));
    assert!(matches!(&all[1], Activity::PageView { page, referrer: None, .. } if page == "/home"));
    assert_eq!(all[2], created);
    assert_eq!(
        activities.find_by_id(id).await.unwrap().as_ref(),
        Some(&created)
    );

    // The stored form is serde's: the tag's value follows `rename_all` and `rename`, the fields of
    // `Purchase` its own `rename_all`.
    let raw: Vec<Document> = {
        use futures_util::TryStreamExt;
        conn.database()
            .collection::<Document>("activities")
            .find(doc! {})
            .sort(doc! { "at": 1 })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    };
    let tags: Vec<&str> = raw.iter().map(|d| d.get_str("kind").unwrap()).collect();
    assert_eq!(tags, ["click", "page_view", "buy", "click"]);
    // An `i64` is stored as an Int64, whatever its size: MongoDB keeps the type it was given.
    assert_eq!(
        raw[2].get("amountCents"),
        Some(&Bson::Int64(1999)),
        "{:?}",
        raw[2]
    );
}

#[tokio::test]
async fn a_typed_filter_on_the_tag_returns_only_that_kind() {
    let conn = odm_tests::connect("discriminators_filter").await;
    let activities = conn.model::<Activity>();
    activities
        .insert_many([
            click(1, 5),
            view(2, "/home"),
            click(3, 300),
            purchase(4, 500),
            view(5, "/cart"),
            click(6, 20),
        ])
        .await
        .unwrap();
    let f = Activity::fields();

    let clicks = activities
        .find(f.kind.eq(ActivityKind::Click))
        .sort(f.at.asc())
        .await
        .unwrap();
    let xs: Vec<i32> = clicks
        .iter()
        .map(|a| match a {
            Activity::Click { x, .. } => *x,
            other => panic!("a filter on kind `click` returned {other:?}"),
        })
        .collect();
    assert_eq!(xs, [5, 300, 20]);

    for (kind, expected) in [
        (ActivityKind::Click, 3),
        (ActivityKind::PageView, 2),
        (ActivityKind::Purchase, 1),
    ] {
        assert_eq!(
            activities.count(f.kind.eq(kind)).await.unwrap(),
            expected,
            "{kind}"
        );
    }
    assert_eq!(
        activities
            .count(f.kind.in_([ActivityKind::PageView, ActivityKind::Purchase]))
            .await
            .unwrap(),
        3
    );
    // A field of one kind combines with the tag; documents of other kinds do not have it.
    let far = activities
        .find(f.kind.eq(ActivityKind::Click) & f.x.gt(10))
        .await
        .unwrap();
    assert_eq!(far.len(), 2);
    let cart = activities.find_one(f.page.eq("/cart")).await.unwrap();
    assert!(matches!(cart, Some(Activity::PageView { at: 5, .. })));

    // `distinct` on the tag reads back as the generated kinds.
    let mut stored: Vec<ActivityKind> = activities
        .distinct("kind", ())
        .await
        .unwrap()
        .into_iter()
        .map(|b| odm_core::bson::from_bson(b).unwrap())
        .collect();
    stored.sort_by_key(|k| k.as_str());
    assert_eq!(
        stored,
        [
            ActivityKind::Purchase,
            ActivityKind::Click,
            ActivityKind::PageView
        ]
    );
}

fn failing(err: &Error) -> Vec<(String, &'static str)> {
    match err {
        Error::Validation(e) => e.errors.iter().map(|f| (f.path.clone(), f.rule)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_rules_of_a_variant_apply_to_that_variant_only() {
    let conn = odm_tests::connect("discriminators_rules").await;
    let activities = conn.model::<Activity>();

    let err = activities.create(click(1, -3)).await.unwrap_err();
    assert_eq!(failing(&err), [("x".to_owned(), "range")]);
    let bad_purchase = Activity::Purchase {
        id: None,
        at: 2,
        amount_cents: 0,
        buyer: "nope".into(),
    };
    // Paths are stored names: `amountCents` by the variant's `rename_all`.
    let err = activities.create(bad_purchase).await.unwrap_err();
    assert_eq!(
        failing(&err),
        [
            ("amountCents".to_owned(), "range"),
            ("buyer".to_owned(), "email")
        ]
    );
    let err = activities.create(view(3, "")).await.unwrap_err();
    assert_eq!(failing(&err), [("page".to_owned(), "length")]);
    assert_eq!(
        activities.count(()).await.unwrap(),
        0,
        "nothing was written"
    );

    // The same values under another kind pass: `x` has no rule outside `Click`.
    activities.create(view(4, "/ok")).await.unwrap();
    activities.create(click(5, 4096)).await.unwrap();
    assert_eq!(activities.count(()).await.unwrap(), 2);
}

#[test]
fn the_schema_is_the_tag_then_the_union_of_the_variants_fields() {
    let schema = Activity::SCHEMA;
    assert_eq!(schema.collection, "activities");
    assert_eq!(schema.tag, Some("kind"));
    let stored: Vec<&str> = schema.fields.iter().map(|f| f.stored).collect();
    assert_eq!(
        stored,
        [
            "kind",
            "_id",
            "at",
            "x",
            "y",
            "page",
            "referrer",
            "amountCents",
            "buyer"
        ]
    );
    let kind = schema.field("kind").unwrap();
    assert_eq!(kind.rust_type, "ActivityKind");
    assert_eq!(kind.bson_type, Some(BsonType::String));
    assert_eq!(
        kind.rules,
        [Rule::OneOf(&[
            Literal::Text("click"),
            Literal::Text("page_view"),
            Literal::Text("buy")
        ])]
    );
    // Every kind stores `kind`, `_id` and `at`; the others are absent from some documents.
    let required: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| f.is_required())
        .map(|f| f.stored)
        .collect();
    assert_eq!(required, ["kind", "at"]);
    assert!(schema.field("x").unwrap().omittable);
    assert_eq!(
        schema.field("x").unwrap().rules,
        [Rule::Range {
            min: Some(0.0),
            max: Some(4096.0)
        }]
    );
    let keys: Vec<_> = schema.indexes.iter().map(|i| i.keys.to_vec()).collect();
    use odm_core::schema::IndexKey::{Asc, Desc};
    assert_eq!(
        keys,
        [vec![("page", Asc)], vec![("kind", Asc), ("at", Desc)]]
    );

    let json = Activity::json_schema();
    assert_eq!(
        json.get_array("required").unwrap(),
        &vec![Bson::from("_id"), "kind".into(), "at".into()]
    );
    let props = json.get_document("properties").unwrap();
    assert_eq!(
        props.get_document("kind").unwrap(),
        &doc! { "bsonType": "string", "enum": ["click", "page_view", "buy"] }
    );
    assert_eq!(
        props.get_document("amountCents").unwrap(),
        &doc! { "bsonType": ["int", "long"], "minimum": 1_i64 }
    );
}

#[test]
fn the_kinds_serialize_as_the_tag_values() {
    assert_eq!(
        ActivityKind::ALL,
        [
            ActivityKind::Click,
            ActivityKind::PageView,
            ActivityKind::Purchase
        ]
    );
    assert_eq!(ActivityKind::PageView.as_str(), "page_view");
    assert_eq!(ActivityKind::Purchase.to_string(), "buy");
    assert_eq!(
        odm_core::bson::to_bson(&ActivityKind::Purchase).unwrap(),
        Bson::from("buy")
    );
    let err = odm_core::bson::from_bson::<ActivityKind>(Bson::from("Purchase")).unwrap_err();
    assert!(err.to_string().contains("buy"), "{err}");
    assert_eq!(purchase(1, 2).kind(), ActivityKind::Purchase);

    let f = Activity::fields();
    assert_eq!(
        f.kind.eq(ActivityKind::PageView).as_document(),
        &doc! { "kind": { "$eq": "page_view" } }
    );
    assert_eq!(f.amount_cents.path(), "amountCents");
    let mut ann = purchase(1, 2);
    ann.set_id(Bson::ObjectId(ObjectId::new())).unwrap();
    assert!(matches!(ann.id().unwrap(), Bson::ObjectId(_)));
    assert!(matches!(view(1, "/").id().unwrap(), Bson::Null));
}

/// A ticket in one of two states, with timestamps and an optimistic version in every variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(tag = "state", rename_all = "snake_case")]
#[model(collection = "tickets", timestamps, version)]
enum Ticket {
    Open {
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        id: Option<ObjectId>,
        title: String,
        created_at: Option<DateTime>,
        updated_at: Option<DateTime>,
        #[serde(rename = "__v", default)]
        version: i64,
    },
    Closed {
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        id: Option<ObjectId>,
        title: String,
        reason: String,
        created_at: Option<DateTime>,
        updated_at: Option<DateTime>,
        #[serde(rename = "__v", default)]
        version: i64,
    },
}

#[tokio::test]
async fn timestamps_and_versions_apply_to_every_variant() {
    let conn = odm_tests::connect("discriminators_versions").await;
    let tickets = conn.model::<Ticket>();
    let mut ticket = Ticket::Open {
        id: None,
        title: "printer".into(),
        created_at: None,
        updated_at: None,
        version: 0,
    };
    tickets.save(&mut ticket).await.unwrap();
    let (id, created) = match &ticket {
        Ticket::Open {
            id: Some(id),
            created_at: Some(c),
            updated_at: Some(u),
            version: 0,
            ..
        } => {
            assert_eq!(c, u, "both set on insert");
            (*id, *c)
        }
        other => panic!("save sets the id, the timestamps and keeps version 0: {other:?}"),
    };
    let stale = ticket.clone();

    // The document changes kind; the version moves on, `created_at` stays.
    let mut closed = Ticket::Closed {
        id: Some(id),
        title: "printer".into(),
        reason: "fixed".into(),
        created_at: Some(created),
        updated_at: Some(created),
        version: 0,
    };
    tickets.save(&mut closed).await.unwrap();
    assert_eq!(closed.version(), Some(1));
    let stored = tickets.find_by_id(id).await.unwrap().unwrap();
    assert_eq!(stored.version(), Some(1));
    assert!(
        matches!(&stored, Ticket::Closed { reason, created_at: Some(c), .. } if reason == "fixed" && *c == created),
        "{stored:?}"
    );

    // The copy still at version 0 is refused.
    let mut stale = stale;
    let err = tickets.save(&mut stale).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { .. }), "{err:?}");
    assert_eq!(
        tickets
            .count(Ticket::fields().state.eq(TicketKind::Closed))
            .await
            .unwrap(),
        1
    );
}

/// serde's `rename_all_fields` names the fields of every variant; the enum's `rename_all` its tag values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
enum Payment {
    CardPayment {
        #[serde(rename = "_id")]
        id: i64,
        card_last4: String,
    },
    BankTransfer {
        #[serde(rename = "_id")]
        id: i64,
        iban_country: String,
    },
}

#[test]
fn stored_names_follow_rename_all_fields_and_the_tag_may_be_a_keyword() {
    let stored: Vec<&str> = Payment::SCHEMA.fields.iter().map(|f| f.stored).collect();
    assert_eq!(stored, ["type", "_id", "cardLast4", "ibanCountry"]);
    let f = Payment::fields();
    assert_eq!(f.r#type.path(), "type");
    assert_eq!(f.card_last4.path(), "cardLast4");
    assert_eq!(PaymentKind::BankTransfer.as_str(), "BANK_TRANSFER");
    let pay = Payment::CardPayment {
        id: 7,
        card_last4: "4242".into(),
    };
    assert_eq!(
        odm_core::bson::to_document(&pay).unwrap(),
        doc! { "type": "CARD_PAYMENT", "_id": 7_i64, "cardLast4": "4242" }
    );
    assert_eq!(pay.id().unwrap(), Bson::Int64(7));
}
