//! Two tenants on one connection through `use_db`, a second connection to another database, and the same
//! model bound to all three: each sees only its own documents.
//!
//! Runs against `MONGODB_URI`, or a local server started by `scripts/test-server`:
//! `scripts/test-server run -- cargo run -p odm-examples --example multi_tenant`.
//!
//! With `RUST_LOG` set it prints the span of every operation as it closes, with its database,
//! collection, model, tenant and time: `RUST_LOG=odm=info cargo run -p odm-examples --example
//! multi_tenant`.

use odm_core::prelude::*;
use odm_core::{Strategy, Tenants};

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "users", timestamps)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique, email)]
    email: String,
    #[field(range(min = 0, max = 150))]
    age: i32,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
}

impl User {
    fn new(email: &str, age: i32) -> Self {
        User {
            id: None,
            email: email.into(),
            age,
            created_at: None,
            updated_at: None,
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .init();
    }
    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
    // Operations slower than 50 ms are logged as warnings, with their tenant.
    let conn = Connection::options(&uri)
        .slow_operation(std::time::Duration::from_millis(50))
        .connect()
        .await?;

    // Two tenants over one pool, and a second connection (its own pool) to a third database.
    let acme = conn.use_db("example_tenant_acme")?;
    let globex = conn.use_db("example_tenant_globex")?;
    let other = Connection::connect(&uri)
        .await?
        .use_db("example_reporting")?;

    let tenants = [("acme", &acme), ("globex", &globex), ("reporting", &other)];
    for (_, db) in &tenants {
        db.database().drop().await.map_err(Error::from)?;
        db.model::<User>().sync_indexes().await?;
    }

    // The same compiled schema, bound to each connection: no I/O, no per-tenant model.
    acme.model::<User>()
        .insert_many([User::new("ann@acme.io", 30), User::new("bob@acme.io", 17)])
        .await?;
    globex
        .model::<User>()
        .create(User::new("cid@globex.com", 44))
        .await?;
    other
        .model::<User>()
        .create(User::new("dee@report.org", 52))
        .await?;

    for (name, db) in &tenants {
        let users = db.model::<User>();
        let adults = users
            .find(doc! { "age": { "$gte": 18 } })
            .sort(doc! { "age": -1 })
            .await?;
        let emails: Vec<&str> = adults.iter().map(|u| u.email.as_str()).collect();
        println!(
            "{name:>9} (database {:<22}) sees {} user(s), adults: {emails:?}",
            db.name(),
            users.count(()).await?
        );
    }

    // A rule broken on the way in is reported per field, and nothing is written.
    match acme
        .model::<User>()
        .create(User::new("not-an-email", 200))
        .await
    {
        Err(Error::Validation(errors)) => println!("rejected: {errors}"),
        other => println!("unexpected: {other:?}"),
    }
    // A unique index refuses a second document with the same e-mail.
    match acme
        .model::<User>()
        .create(User::new("ann@acme.io", 31))
        .await
    {
        Err(e @ Error::DuplicateKey { .. }) => println!("rejected: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    for (_, db) in &tenants {
        db.database().drop().await.map_err(Error::from)?;
    }
    // The same through `Tenants`: every span of a tenant handle names the tenant and the strategy.
    let shared = Tenants::new(
        conn.use_db("example_shared")?,
        Strategy::shared_collection(),
    )?;
    shared
        .connection()
        .database()
        .drop()
        .await
        .map_err(Error::from)?;
    for id in ["acme", "globex"] {
        let users = shared.get(id)?.model::<User>();
        users.create(User::new(&format!("ops@{id}.io"), 40)).await?;
        println!(
            "{id} in a shared collection: {} user(s)",
            users.count(()).await?
        );
    }

    Ok(())
}
