//! `conduit`: the RealWorld example API, multi-tenant, on this library.
//!
//! ```text
//! scripts/test-server run -- cargo run -p odm-examples --bin conduit
//! conduit [--listen 127.0.0.1:3000] [--uri mongodb://...] [--strategy database|collection|shared]
//!     [--prefix conduit_] [--jwt-secret ...] [--password-rounds 10000]
//! ```
//!
//! Tenants call `/t/{tenant}/api/...` (or `/api/...` with an `X-Tenant` header). The data lives in the
//! database `MONGODB_URI`'s path names (`conduit` when it names none): one collection set per tenant in
//! it (`collection`), one shared set with a tenant field (`shared`), or, with `database`, a database per
//! tenant named `{prefix}{tenant}`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use odm_core::{Connection, Strategy};
use odm_examples::conduit::{self, auth, AppState, Settings};

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    /// A database per tenant, named `{prefix}{tenant}`.
    Database,
    /// A collection set per tenant (`{tenant}.articles`, ...) in one database.
    Collection,
    /// One collection set for all tenants, each document carrying `tenant_id`.
    Shared,
}

#[derive(Parser)]
#[command(
    name = "conduit",
    about = "The RealWorld example API, multi-tenant, on odm"
)]
struct Cli {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The cluster's URI; its path names the database (`conduit` when it names none).
    #[arg(long, env = "MONGODB_URI", default_value = "mongodb://127.0.0.1:27017")]
    uri: String,
    /// Where each tenant's data lives.
    #[arg(long, value_enum, default_value = "database")]
    strategy: StrategyArg,
    /// With `--strategy database`: the prefix of the tenant databases.
    #[arg(long, default_value = "conduit_")]
    prefix: String,
    /// The secret that signs tokens; random (tokens die with the process) when not given.
    #[arg(long, env = "CONDUIT_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// How long a token lasts, in hours.
    #[arg(long, default_value_t = 24)]
    token_hours: u64,
    /// The PBKDF2-HMAC-SHA256 round count for new password hashes.
    #[arg(long, default_value_t = auth::DEFAULT_PASSWORD_ROUNDS)]
    password_rounds: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conduit: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The database a URI's path names, if any (`app` in `mongodb://host:27017/app?retryWrites=true`).
fn database_in_uri(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let (_, path) = rest.split_once('/')?;
    let name = path.split('?').next().unwrap_or_default();
    (!name.is_empty()).then_some(name)
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let conn = Connection::connect(&cli.uri).await?;
    let conn = if database_in_uri(&cli.uri).is_some() {
        conn
    } else {
        conn.use_db("conduit")?
    };
    let strategy = match cli.strategy {
        StrategyArg::Database => Strategy::database_per_tenant(cli.prefix),
        StrategyArg::Collection => Strategy::collection_per_tenant(),
        StrategyArg::Shared => Strategy::shared_collection(),
    };
    let ttl = Duration::from_secs(cli.token_hours * 3600);
    let keys = match cli.jwt_secret {
        Some(secret) => auth::Keys::new(secret.into_bytes(), ttl),
        None => auth::Keys::random(ttl),
    };
    let mut settings = Settings::new(strategy);
    settings.keys = keys;
    settings.password_rounds = cli.password_rounds;
    let state = AppState::new(conn.clone(), settings)?;
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    println!(
        "conduit listening on http://{} (database `{}`, strategy {}); try /t/demo/api/tags",
        listener.local_addr()?,
        conn.name(),
        state.directory.tenants().strategy().name(),
    );
    axum::serve(listener, conduit::app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::database_in_uri;

    #[test]
    fn the_database_is_the_uri_path() {
        assert_eq!(database_in_uri("mongodb://127.0.0.1:27017"), None);
        assert_eq!(database_in_uri("mongodb://127.0.0.1:27017/"), None);
        assert_eq!(database_in_uri("mongodb://h:1/app"), Some("app"));
        assert_eq!(
            database_in_uri("mongodb+srv://u:p@c.example.net/app?retryWrites=true"),
            Some("app")
        );
        assert_eq!(database_in_uri("mongodb://h1,h2/?replicaSet=rs"), None);
    }
}
