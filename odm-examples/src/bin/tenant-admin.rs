//! `tenant-admin`: fleet-wide chores for a database-per-tenant app. Copy it into your app and list your
//! models in [`sync_tenant`].
//!
//! ```text
//! tenant-admin sync-indexes --uri mongodb://127.0.0.1:27017 --prefix tenant_ [--dry-run] [--concurrency 8]
//!     [--tenant acme --tenant globex]
//! ```
//!
//! Without `--tenant`, the tenants are discovered from the database names that start with the prefix. Each
//! tenant's models get the indexes they declare (and lose the ones they do not); `--dry-run` only reports
//! what would change. A failing tenant is reported and the others go on; the exit status is 1 when any
//! tenant failed.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use odm_core::prelude::*;
use odm_core::{FleetReport, Strategy, Tenant, Tenants};

#[derive(Parser)]
#[command(
    name = "tenant-admin",
    about = "Fleet-wide chores for a database-per-tenant app"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Makes every tenant's indexes match the models' declarations.
    SyncIndexes(SyncArgs),
}

#[derive(Args)]
struct SyncArgs {
    /// The cluster's URI.
    #[arg(long, env = "MONGODB_URI")]
    uri: String,
    /// The prefix of the tenant databases (`tenant_` for `tenant_acme`).
    #[arg(long)]
    prefix: String,
    /// Report what would be created and dropped, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// How many tenants to work on at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Only these tenants (repeatable); all discovered tenants otherwise.
    #[arg(long = "tenant")]
    tenants: Vec<String>,
}

/// What changed (or would change) in one collection of a tenant.
struct CollectionChanges {
    collection: String,
    created: Vec<String>,
    dropped: Vec<String>,
}

/// The per-tenant step: one line per model of the app.
async fn sync_tenant(tenant: Tenant, dry_run: bool) -> odm_core::Result<Vec<CollectionChanges>> {
    Ok(vec![
        sync_model(tenant.model::<Account>(), dry_run).await?,
        sync_model(tenant.model::<Order>(), dry_run).await?,
    ])
}

async fn sync_model<T: Model>(
    handle: ModelHandle<T>,
    dry_run: bool,
) -> odm_core::Result<CollectionChanges> {
    let collection = handle.collection_name().into_owned();
    if dry_run {
        let diff = handle.diff_indexes().await?;
        Ok(CollectionChanges {
            collection,
            created: diff.to_create.into_iter().map(|i| i.name).collect(),
            dropped: diff.to_drop.into_iter().map(|i| i.name).collect(),
        })
    } else {
        let sync = handle.sync_indexes().await?;
        Ok(CollectionChanges {
            collection,
            created: sync.created,
            dropped: sync.dropped,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::SyncIndexes(args) => sync_indexes(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tenant-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn sync_indexes(args: SyncArgs) -> odm_core::Result<ExitCode> {
    let conn = Connection::connect(&args.uri).await?;
    let tenants = Tenants::with_cache(conn, Strategy::database_per_tenant(&args.prefix), 0)?;
    let ids = if args.tenants.is_empty() {
        tenants.discover().await?
    } else {
        args.tenants
    };
    // Hidden when stderr is not a terminal.
    let progress = ProgressBar::new(ids.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {elapsed} {msg}")
            .expect("progress template"),
    );
    let dry_run = args.dry_run;
    let report = tenants
        .for_each_in(&ids, args.concurrency, |tenant| {
            let progress = progress.clone();
            async move {
                let id = tenant.id().to_owned();
                let outcome = sync_tenant(tenant, dry_run).await;
                progress.set_message(id);
                progress.inc(1);
                outcome
            }
        })
        .await;
    progress.finish_and_clear();
    print_summary(&report, dry_run);
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_summary(report: &FleetReport<Vec<CollectionChanges>>, dry_run: bool) {
    let (create, drop) = if dry_run {
        ("would create", "would drop")
    } else {
        ("created", "dropped")
    };
    let mut changed = 0;
    for (id, collections) in &report.succeeded {
        let changes: Vec<String> = collections
            .iter()
            .filter(|c| !c.created.is_empty() || !c.dropped.is_empty())
            .map(|c| {
                let mut parts = Vec::new();
                if !c.created.is_empty() {
                    parts.push(format!("{create} {}", c.created.join(", ")));
                }
                if !c.dropped.is_empty() {
                    parts.push(format!("{drop} {}", c.dropped.join(", ")));
                }
                format!("{}: {}", c.collection, parts.join("; "))
            })
            .collect();
        if changes.is_empty() {
            println!("{id}: up to date");
        } else {
            changed += 1;
            println!("{id}: {}", changes.join(" | "));
        }
    }
    for (id, error) in &report.failed {
        println!("{id}: FAILED: {error}");
    }
    println!(
        "{} tenants: {} {}, {} up to date, {} failed",
        report.len(),
        changed,
        if dry_run { "to change" } else { "changed" },
        report.succeeded.len() - changed,
        report.failed.len()
    );
}

// The app's models: list yours here.

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "accounts")]
struct Account {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "orders", index(fields("account", "placed_at")))]
struct Order {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    account: ObjectId,
    placed_at: DateTime,
}
