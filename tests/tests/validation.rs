//! The field rules of `#[field(...)]` and `#[model(validate = ..)]`: every failing field is reported, with
//! its stored path, the rule's name, the value and a message. Pure: no server.

use odm_core::prelude::*;
use odm_core::validate::{FieldError, ValidationErrors};

#[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
struct Geo {
    #[field(range(min = -90, max = 90))]
    lat: f64,
    #[field(range(min = -180, max = 180))]
    lng: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
#[model(validate = address_consistent)]
struct Address {
    #[field(length(min = 1, max = 40))]
    city: String,
    #[field(regex = r"^\d{5}$")]
    zip: String,
    #[field(nested)]
    geo: Option<Geo>,
}

fn address_consistent(a: &Address) -> Result<(), String> {
    if a.city == "Nowhere" {
        Err("Nowhere has no post office".into())
    } else {
        Ok(())
    }
}

fn no_spaces(v: &str) -> Result<(), String> {
    if v.contains(' ') {
        Err("must not contain spaces".into())
    } else {
        Ok(())
    }
}

fn adult_admins(a: &Account) -> Result<(), String> {
    if a.role == "admin" && a.age < 18 {
        Err("an admin must be 18 or older".into())
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "accounts", validate = adult_admins)]
struct Account {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(email)]
    email: String,
    #[field(required, length(min = 2))]
    name: Option<String>,
    #[field(range(min = 0, max = 150))]
    age: i32,
    #[field(range(min = 0.0, max = 1.0))]
    score: Option<f64>,
    #[field(length(max = 3))]
    tags: Vec<String>,
    #[field(one_of("admin", "member"))]
    role: String,
    #[field(one_of(1, 2, 3))]
    tier: Option<u8>,
    #[field(regex = "^[a-z0-9-]+$")]
    slug: Option<String>,
    #[field(validate = no_spaces)]
    handle: String,
    #[field(nested)]
    address: Address,
    #[field(nested)]
    past: Vec<Address>,
    #[field(nested)]
    billing: Option<Address>,
}

fn address() -> Address {
    Address {
        city: "Lyon".into(),
        zip: "69001".into(),
        geo: Some(Geo {
            lat: 45.76,
            lng: 4.83,
        }),
    }
}

fn valid() -> Account {
    Account {
        id: None,
        email: "ann@acme.io".into(),
        name: Some("Ann".into()),
        age: 30,
        score: Some(0.5),
        tags: vec!["a".into(), "b".into()],
        role: "member".into(),
        tier: Some(2),
        slug: Some("ann-lee".into()),
        handle: "ann".into(),
        address: address(),
        past: vec![address(), address()],
        billing: None,
    }
}

/// The failures of `value`, as `(path, rule)` pairs in the order reported.
fn failures(value: &Account) -> Vec<(String, &'static str)> {
    match value.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.errors.iter().map(|f| (f.path.clone(), f.rule)).collect(),
    }
}

fn only_error(value: &Account) -> FieldError {
    let errors = value.validate().expect_err("the value should fail");
    assert_eq!(errors.errors.len(), 1, "{errors}");
    errors.errors.into_iter().next().unwrap()
}

fn p(path: &str, rule: &'static str) -> (String, &'static str) {
    (path.to_owned(), rule)
}

#[test]
fn a_valid_value_passes() {
    assert_eq!(valid().validate(), Ok(()));
    let mut v = valid();
    // `None` passes every rule but `required`.
    v.score = None;
    v.tier = None;
    v.slug = None;
    v.address.geo = None;
    assert_eq!(v.validate(), Ok(()));
}

#[test]
fn required() {
    let mut v = valid();
    v.name = None;
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.rule), ("name", "required"));
    assert_eq!(e.value, "none");
    assert_eq!(e.message, "is required");
}

#[test]
fn range_on_integers_and_options() {
    let mut v = valid();
    v.age = -3;
    let e = only_error(&v);
    assert_eq!(
        (e.path.as_str(), e.rule, e.value.as_str()),
        ("age", "range", "-3")
    );
    assert_eq!(e.message, "must be between 0 and 150");

    v.age = 151;
    assert_eq!(failures(&v), [p("age", "range")]);
    for ok in [0, 150] {
        v.age = ok;
        assert_eq!(failures(&v), [], "{ok} is inside the bounds");
    }

    v.score = Some(1.5);
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.value.as_str()), ("score", "1.5"));
    v.score = Some(f64::NAN);
    assert_eq!(failures(&v), [p("score", "range")], "NaN is never in range");
}

#[test]
fn length_counts_characters_and_elements() {
    let mut v = valid();
    // Two characters, four bytes: the rule counts characters.
    v.name = Some("été".chars().take(2).collect());
    assert_eq!(failures(&v), []);
    v.name = Some("é".into());
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.rule), ("name", "length"));
    assert_eq!(e.value, "a string of 1 character");
    assert_eq!(e.message, "must have at least 2 characters");

    let mut v = valid();
    v.tags = vec!["x".into(); 4];
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.rule), ("tags", "length"));
    assert_eq!(e.value, "a list of 4 elements");
    assert_eq!(e.message, "must have at most 3 elements");
}

#[test]
fn regex_and_email() {
    let mut v = valid();
    v.slug = Some("Not A Slug".into());
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.rule), ("slug", "regex"));
    assert_eq!(e.value, "\"Not A Slug\"");
    assert_eq!(e.message, "must match the pattern `^[a-z0-9-]+$`");

    for bad in ["ann", "ann@", "@acme.io", "ann@acme", "ann lee@acme.io"] {
        let mut v = valid();
        v.email = bad.into();
        assert_eq!(failures(&v), [p("email", "email")], "{bad}");
    }
}

#[test]
fn one_of_strings_and_numbers() {
    let mut v = valid();
    v.role = "owner".into();
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.rule), ("role", "one_of"));
    assert_eq!(e.value, "\"owner\"");
    assert_eq!(e.message, "must be one of `admin`, `member`");

    let mut v = valid();
    v.tier = Some(4);
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.value.as_str()), ("tier", "4"));
    v.tier = Some(3);
    assert_eq!(failures(&v), []);
}

#[test]
fn custom_field_validator() {
    let mut v = valid();
    v.handle = "ann lee".into();
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.rule), ("handle", "validate"));
    assert_eq!(e.message, "must not contain spaces");
    assert_eq!(e.value, "\"ann lee\"");
}

#[test]
fn document_validator_reports_an_empty_path() {
    let mut v = valid();
    v.role = "admin".into();
    v.age = 16;
    let e = only_error(&v);
    assert_eq!((e.path.as_str(), e.rule), ("", "validate"));
    assert_eq!(e.message, "an admin must be 18 or older");
    assert!(
        e.to_string().starts_with("`(document)` fails `validate`"),
        "{e}"
    );
}

#[test]
fn nested_paths() {
    let mut v = valid();
    v.address.zip = "6900".into();
    v.address.geo = Some(Geo {
        lat: 91.0,
        lng: 0.0,
    });
    v.past[1].city = String::new();
    v.past[1].geo.as_mut().unwrap().lng = -200.0;
    v.billing = Some(Address {
        city: "Nowhere".into(),
        ..address()
    });
    assert_eq!(
        failures(&v),
        [
            p("address.zip", "regex"),
            p("address.geo.lat", "range"),
            p("past.1.city", "length"),
            p("past.1.geo.lng", "range"),
            // The embedded type's own document rule reports the path of the embedded document.
            p("billing", "validate"),
        ]
    );
}

#[test]
fn every_failure_is_reported_at_once() {
    let v = Account {
        id: None,
        email: "nope".into(),
        name: None,
        age: 200,
        score: Some(-1.0),
        tags: vec![String::new(); 5],
        role: "root".into(),
        tier: Some(9),
        slug: Some("UPPER".into()),
        handle: "a b".into(),
        address: Address {
            city: String::new(),
            zip: "x".into(),
            geo: None,
        },
        past: Vec::new(),
        billing: None,
    };
    let errors: ValidationErrors = v.validate().unwrap_err();
    assert_eq!(errors.type_name, "Account");
    let got: Vec<(&str, &str)> = errors
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.rule))
        .collect();
    assert_eq!(
        got,
        [
            ("email", "email"),
            ("name", "required"),
            ("age", "range"),
            ("score", "range"),
            ("tags", "length"),
            ("role", "one_of"),
            ("tier", "one_of"),
            ("slug", "regex"),
            ("handle", "validate"),
            ("address.city", "length"),
            ("address.zip", "regex"),
        ]
    );
    assert_eq!(errors.at("age").count(), 1);
    let text = errors.to_string();
    assert!(
        text.starts_with("validation failed for `Account` (nothing was written), 11 problem(s): `email` fails `email`"),
        "{text}"
    );
}

#[test]
fn json_schema_of_the_model() {
    let schema = Account::json_schema();
    assert_eq!(schema.get_str("bsonType").unwrap(), "object");
    let required: Vec<&str> = schema
        .get_array("required")
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    // `name` is an `Option` with `required`: present and not null; the other `Option`s may be null.
    assert_eq!(
        required,
        ["_id", "email", "name", "age", "tags", "role", "handle", "address", "past"]
    );
    let props = schema.get_document("properties").unwrap();
    assert_eq!(
        props.get_document("_id").unwrap(),
        &doc! { "bsonType": "objectId" }
    );
    assert_eq!(
        props.get_document("email").unwrap(),
        &doc! { "bsonType": "string", "pattern": odm_core::schema::EMAIL_PATTERN }
    );
    assert_eq!(
        props.get_document("name").unwrap(),
        &doc! { "bsonType": "string", "minLength": 2_i64 }
    );
    assert_eq!(
        props.get_document("age").unwrap(),
        &doc! { "bsonType": ["int", "long"], "minimum": 0_i64, "maximum": 150_i64 }
    );
    assert_eq!(
        props.get_document("score").unwrap(),
        &doc! { "bsonType": ["double", "int", "long", "null"], "minimum": 0_i64, "maximum": 1_i64 }
    );
    assert_eq!(
        props.get_document("tags").unwrap(),
        &doc! { "bsonType": "array", "items": { "bsonType": "string" }, "maxItems": 3_i64 }
    );
    assert_eq!(
        props.get_document("role").unwrap(),
        &doc! { "bsonType": "string", "enum": ["admin", "member"] }
    );
    assert_eq!(
        props.get_document("tier").unwrap(),
        &doc! { "bsonType": ["int", "long", "null"], "enum": [1, 2, 3, Bson::Null] }
    );
    assert_eq!(
        props.get_document("slug").unwrap(),
        &doc! { "bsonType": ["string", "null"], "pattern": "^[a-z0-9-]+$" }
    );
    let geo = doc! {
        "bsonType": ["object", "null"],
        "required": ["lat", "lng"],
        "properties": {
            "lat": { "bsonType": ["double", "int", "long"], "minimum": -90_i64, "maximum": 90_i64 },
            "lng": { "bsonType": ["double", "int", "long"], "minimum": -180_i64, "maximum": 180_i64 },
        },
    };
    let address = doc! {
        "bsonType": "object",
        "required": ["city", "zip"],
        "properties": {
            "city": { "bsonType": "string", "minLength": 1_i64, "maxLength": 40_i64 },
            "zip": { "bsonType": "string", "pattern": r"^\d{5}$" },
            "geo": geo,
        },
    };
    assert_eq!(props.get_document("address").unwrap(), &address);
    assert_eq!(
        props.get_document("past").unwrap(),
        &doc! { "bsonType": "array", "items": address.clone() }
    );
    let mut billing = address;
    billing.insert("bsonType", vec![Bson::from("object"), Bson::from("null")]);
    assert_eq!(props.get_document("billing").unwrap(), &billing);
}

#[test]
fn custom_validator_on_a_type_without_debug() {
    #[derive(Clone, Serialize, Deserialize)]
    struct Opaque(u8);

    fn never(_: &Opaque) -> Result<(), String> {
        Err("never valid".into())
    }

    #[derive(Clone, Serialize, Deserialize, Model)]
    struct Holder {
        #[serde(rename = "_id")]
        id: i32,
        #[field(validate = never)]
        opaque: Opaque,
    }

    let h = Holder {
        id: 1,
        opaque: Opaque(0),
    };
    let e = h.validate().unwrap_err();
    assert_eq!(e.errors.len(), 1);
    let e = &e.errors[0];
    assert_eq!(
        (e.path.as_str(), e.rule, e.message.as_str()),
        ("opaque", "validate", "never valid")
    );
    // Without `Debug`, the value is described by its type.
    assert!(
        e.value.starts_with("a `") && e.value.ends_with("Opaque`"),
        "{}",
        e.value
    );
    assert_eq!((h.id, h.opaque.0), (1, 0));
}
