//! `tenant-admin`: the chores a platform team runs on a multi-tenant app. Copy it into your app and
//! list your models in [`MODELS`].
//!
//! ```text
//! tenant-admin [--uri URI] [--control-db control] [--placement NAME=SPEC]... COMMAND
//!
//!   list                                   every tenant of the catalogue, its placement, state and size
//!   top [--since 15m] [-n 20]              the busiest tenants over every process that publishes its
//!                                          counts (`Connection::publish_tenant_activity`), with sizes
//!   provision ID [--placement NAME]        collections, validators and indexes; recorded as active
//!   suspend ID --reason TEXT | resume ID   refuse the tenant's requests, or serve them again
//!   erase ID                               every document, then its namespaces; verified
//!   export ID DIR | import ID DIR [--placement NAME]
//!                                          mongodump's format (`.bson` + `.metadata.json`) per collection
//!   move ID TO | abort-move ID             live move to another placement, or roll back a stopped one
//!   migrate [--canary ID]... [--concurrency N] [--max-failures N] [--tenant ID]...
//!                                          the pending steps of `migrations()`, once per tenant
//!   sync-indexes [--tenant ID]...          every tenant's indexes as the models declare them
//! ```
//!
//! A placement SPEC is `shared` (one collection per model, a tenant field), `collection` (a collection
//! per tenant) or `database:PREFIX` (a database per tenant), optionally `@URI` for another cluster; the
//! default placements are `shared=shared` and `dedicated=database:tenant_`. Every command that changes
//! something takes `--dry-run`, which reports what it would do and changes nothing.
//!
//! Exit status: 0 done; 1 the command failed (the message says why; a failed move or import leaves the
//! source as it was); 2 bad usage; 3 the tenant is unknown or in a state that refuses the command
//! (nothing was changed).

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use odm_core::prelude::*;
use odm_core::{
    model_set, Fleet, FleetReport, MigrateOptions, Migrations, ModelSet, Strategy, Tenant,
    TenantState, Tenants, DUMP_MANIFEST,
};

#[derive(Parser)]
#[command(
    name = "tenant-admin",
    about = "The chores of a multi-tenant app: provision, erase, export, import, move, list, sync indexes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every tenant of the catalogue: placement, state, documents and bytes (largest first).
    List(FleetArgs),
    /// The busiest tenants of the service: operations, errors and time over a window, added up over
    /// every process that publishes its counts, with each tenant's placement and size.
    Top {
        #[command(flatten)]
        fleet: FleetArgs,
        /// How far back to count (`90s`, `15m`, `2h`).
        #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
        since: std::time::Duration,
        /// How many tenants.
        #[arg(short = 'n', long = "top", default_value_t = 20)]
        n: usize,
    },
    /// Records a tenant and creates its collections, validators and indexes (idempotent).
    Provision {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The tenant.
        id: String,
        /// Where to put it (the default placement otherwise).
        #[arg(long = "to")]
        to: Option<String>,
    },
    /// Refuses a tenant's requests until it is resumed.
    Suspend {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The tenant.
        id: String,
        /// Why, for the tenant's history.
        #[arg(long)]
        reason: String,
    },
    /// Serves a suspended tenant again.
    Resume {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The tenant.
        id: String,
    },
    /// Erases every document of a tenant and its namespaces, and verifies nothing is left.
    Erase {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The tenant.
        id: String,
    },
    /// Writes a tenant to a directory in mongodump's format.
    Export {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The tenant.
        id: String,
        /// The directory (created if missing).
        dir: std::path::PathBuf,
    },
    /// Makes a new tenant from an export.
    Import {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The new tenant.
        id: String,
        /// The directory `export` wrote.
        dir: std::path::PathBuf,
        /// Where to put it (the default placement otherwise).
        #[arg(long = "to")]
        to: Option<String>,
    },
    /// Moves a live tenant to another placement.
    Move {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The tenant.
        id: String,
        /// The destination placement.
        to: String,
    },
    /// Rolls back a move that failed or was stopped: the source stays, the partial copy goes.
    AbortMove {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The tenant.
        id: String,
    },
    /// Runs the pending migration steps of [`migrations`] on every active tenant (or those named).
    Migrate {
        #[command(flatten)]
        fleet: FleetArgs,
        /// Only these tenants (repeatable); every active tenant of the catalogue otherwise.
        #[arg(long = "tenant")]
        tenants: Vec<String>,
        /// Tenants migrated first (repeatable); if one fails, no other tenant is touched.
        #[arg(long = "canary")]
        canary: Vec<String>,
        /// How many tenants at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Stop starting tenants once this many failed.
        #[arg(long)]
        max_failures: Option<usize>,
    },
    /// Makes every tenant's indexes match the models' declarations.
    SyncIndexes(SyncArgs),
}

#[derive(Args)]
struct FleetArgs {
    /// The cluster's URI; its path names the app's database (`app` when it names none).
    #[arg(long, env = "MONGODB_URI")]
    uri: String,
    /// The database of the tenant catalogue.
    #[arg(long, default_value = "control")]
    control_db: String,
    /// A placement, `NAME=SPEC` (repeatable): SPEC is `shared`, `collection` or `database:PREFIX`,
    /// optionally followed by `@URI`. The first is the default placement.
    #[arg(long = "placement", default_values_t = ["shared=shared".to_owned(), "dedicated=database:tenant_".to_owned()])]
    placements: Vec<String>,
    /// Report what the command would do, and change nothing.
    #[arg(long)]
    dry_run: bool,
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

/// The models the app stores: every command works on each of them.
static MODELS: ModelSet = model_set![Account, Order];

/// The app's migration steps, in order: add yours at the end, and never change one that ran (bump its
/// version only to be told which tenants ran the old one).
fn migrations() -> Migrations {
    Migrations::new()
        .add_indexes::<Account>("account-indexes", 1)
        .add_indexes::<Order>("order-indexes", 1)
}

/// Exit status: the tenant is unknown or its state refuses the command; nothing changed.
const REFUSED: u8 = 3;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::SyncIndexes(args) => sync_indexes(args).await,
        command => fleet_command(command).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tenant-admin: {e}");
            match e {
                Error::UnknownTenant { .. }
                | Error::TenantUnavailable { .. }
                | Error::InvalidTenant { .. } => ExitCode::from(REFUSED),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// Builds the fleet of the command's placements, with a spinner for progress.
async fn open_fleet(args: &FleetArgs, progress: &ProgressBar) -> odm_core::Result<Fleet> {
    let conn = Connection::connect(&args.uri).await?;
    let conn = if conn.name().is_empty() || conn.name() == "test" {
        conn.use_db("app")?
    } else {
        conn
    };
    let control = conn.use_db(&args.control_db)?;
    let spinner = progress.clone();
    let mut builder = Fleet::builder(&control, MODELS).progress(move |p| {
        spinner.set_message(format!(
            "{} {} {}: {} documents",
            p.tenant,
            p.step,
            p.collection.unwrap_or(""),
            p.done
        ));
        spinner.tick();
    });
    for (i, placement) in args.placements.iter().enumerate() {
        let (name, spec) = placement.split_once('=').ok_or_else(|| {
            Error::InvalidStrategy(format!(
                "placement {placement:?} is not NAME=SPEC (e.g. `shared=shared`, `big=database:t_`)"
            ))
        })?;
        let (spec, uri) = match spec.split_once('@') {
            Some((spec, uri)) => (spec, Some(uri)),
            None => (spec, None),
        };
        let on = match uri {
            Some(uri) => Connection::connect(uri).await?,
            None => conn.clone(),
        };
        let strategy = match spec.split_once(':') {
            Some(("database", prefix)) => Strategy::database_per_tenant(prefix),
            None if spec == "shared" => Strategy::shared_collection(),
            None if spec == "collection" => Strategy::collection_per_tenant(),
            _ => {
                return Err(Error::InvalidStrategy(format!(
                    "placement spec {spec:?} is none of `shared`, `collection`, `database:PREFIX`"
                )))
            }
        };
        builder = builder.placement(name, Tenants::with_cache(on, strategy, 0)?);
        if i == 0 {
            builder = builder.default_placement(name);
        }
    }
    builder.build()
}

async fn fleet_command(command: Command) -> odm_core::Result<ExitCode> {
    // Hidden when stderr is not a terminal.
    let progress = ProgressBar::new_spinner();
    progress.enable_steady_tick(std::time::Duration::from_millis(120));
    let outcome = run_fleet_command(command, &progress).await;
    progress.finish_and_clear();
    outcome.map(|()| ExitCode::SUCCESS)
}

async fn run_fleet_command(command: Command, progress: &ProgressBar) -> odm_core::Result<()> {
    match command {
        Command::List(args) => {
            let fleet = open_fleet(&args, progress).await?;
            let mut listed = fleet.list().await?;
            listed.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.id.cmp(&b.0.id)));
            println!(
                "{:<24} {:<12} {:<12} {:>10} {:>12}",
                "TENANT", "PLACEMENT", "STATE", "DOCUMENTS", "BYTES"
            );
            for (record, usage) in listed {
                let state = match &record.moving {
                    Some(m) => format!("{} -> {}", record.state, m.to),
                    None => record.state.to_string(),
                };
                println!(
                    "{:<24} {:<12} {:<12} {:>10} {:>12}",
                    record.id, record.placement, state, usage.documents, usage.bytes
                );
            }
        }
        Command::Top { fleet, since, n } => {
            let fleet = open_fleet(&fleet, progress).await?;
            let top = fleet.top(since, n).await?;
            if top.is_empty() {
                println!(
                    "no activity published in the last {}: have the service's processes call `Connection::publish_tenant_activity`",
                    humantime::format_duration(since)
                );
                return Ok(());
            }
            println!(
                "{:<24} {:<12} {:>10} {:>8} {:>10} {:>10} {:>12}",
                "TENANT", "PLACEMENT", "OPS", "ERRORS", "MEAN MS", "DOCUMENTS", "BYTES"
            );
            for t in top {
                let a = &t.activity;
                let mean = a.time.as_secs_f64() * 1e3 / a.operations.max(1) as f64;
                let (tenant, placement) = match (&a.tenant, &t.record) {
                    (Some(id), Some(r)) => (id.as_str(), r.placement.as_str()),
                    (Some(id), None) => (id.as_str(), "(unknown)"),
                    (None, _) => ("(others)", "-"),
                };
                println!(
                    "{tenant:<24} {placement:<12} {:>10} {:>8} {mean:>10.2} {:>10} {:>12}",
                    a.operations, a.errors, t.usage.documents, t.usage.bytes
                );
            }
        }
        Command::Provision { fleet, id, to } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                let at = to
                    .as_deref()
                    .unwrap_or_else(|| fleet.placements().next().unwrap_or(""));
                fleet.placement(at)?.check(&id)?;
                let known = fleet.catalogue().get(&id).await?;
                println!(
                    "would provision {id} at {at} ({}): {}",
                    known.map_or("new".to_owned(), |r| format!(
                        "now {} at {}",
                        r.state, r.placement
                    )),
                    MODELS.collections().collect::<Vec<_>>().join(", ")
                );
            } else {
                let record = fleet.provision(&id, to.as_deref()).await?;
                println!("{id}: {} at {}", record.state, record.placement);
            }
        }
        Command::Suspend { fleet, id, reason } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                println!("would suspend {id}: {}", state_of(&fleet, &id).await?);
            } else {
                fleet.suspend(&id, &reason).await?;
                println!("{id}: suspended");
            }
        }
        Command::Resume { fleet, id } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                println!("would resume {id}: {}", state_of(&fleet, &id).await?);
            } else {
                fleet.resume(&id).await?;
                println!("{id}: active");
            }
        }
        Command::Erase { fleet, id } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                let usage = usage_of(&fleet, &id).await?;
                println!(
                    "would erase {id}: {} documents, {} bytes",
                    usage.documents, usage.bytes
                );
            } else {
                let report = fleet.erase(&id).await?;
                for (collection, n) in &report.deleted {
                    println!("{id}: {collection}: {n} deleted");
                }
                println!("{id}: erased, nothing left");
            }
        }
        Command::Export { fleet, id, dir } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                let usage = usage_of(&fleet, &id).await?;
                println!(
                    "would export {id} to {}: {} documents",
                    dir.display(),
                    usage.documents
                );
            } else {
                let report = fleet.export(&id, &dir).await?;
                for (collection, n, hash) in &report.collections {
                    println!("{id}: {collection}: {n} documents (hash {hash:016x})");
                }
            }
        }
        Command::Import { fleet, id, dir, to } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                let manifest =
                    std::fs::read_to_string(dir.join(DUMP_MANIFEST)).map_err(|e| Error::Dump {
                        path: dir.join(DUMP_MANIFEST),
                        reason: e.to_string(),
                    })?;
                println!(
                    "would import into {id}: {} bytes of manifest found; {}",
                    manifest.len(),
                    state_of(&fleet, &id)
                        .await
                        .unwrap_or_else(|_| "a new tenant".into())
                );
            } else {
                let report = fleet.import(&id, to.as_deref(), &dir).await?;
                println!("{id}: imported {} documents", report.documents());
            }
        }
        Command::Move { fleet, id, to } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                fleet.placement(&to)?;
                let usage = usage_of(&fleet, &id).await?;
                println!(
                    "would move {id} ({}) to {to}: {} documents",
                    state_of(&fleet, &id).await?,
                    usage.documents
                );
            } else {
                let report = fleet.move_tenant(&id, &to).await?;
                println!(
                    "{id}: moved {} -> {}: {} documents copied, {} changes caught up, requests held {:?} ({:?} waiting for the processes)",
                    report.from, report.to, report.copied, report.caught_up, report.pause, report.release
                );
            }
        }
        Command::AbortMove { fleet, id } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            if dry_run {
                println!(
                    "would roll back the move of {id}: {}",
                    state_of(&fleet, &id).await?
                );
            } else {
                fleet.abort_move(&id).await?;
                println!("{id}: move rolled back; active at its source");
            }
        }
        Command::Migrate {
            fleet,
            tenants,
            canary,
            concurrency,
            max_failures,
        } => {
            let dry_run = fleet.dry_run;
            let fleet = open_fleet(&fleet, progress).await?;
            let total = if tenants.is_empty() {
                fleet.catalogue().in_state(TenantState::Active).await?.len()
            } else {
                tenants.len()
            };
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {elapsed} {msg}")
                    .expect("progress template"),
            );
            let ticker = bar.clone();
            let options = MigrateOptions {
                concurrency,
                canary,
                max_failures,
                dry_run,
                tenants: (!tenants.is_empty()).then_some(tenants),
                progress: Some(std::sync::Arc::new(move |done, t| {
                    ticker.set_position(done as u64);
                    ticker.set_message(t.tenant.clone());
                })),
            };
            let report = migrations().run_fleet(&fleet, &options).await?;
            bar.finish_and_clear();
            for t in &report.tenants {
                match &t.error {
                    Some((step, e)) => println!(
                        "{}: FAILED at {}: {e}",
                        t.tenant,
                        step.unwrap_or("the ledger")
                    ),
                    None if dry_run => println!("{}: pending {}", t.tenant, list(&t.pending)),
                    None => println!("{}: ran {}", t.tenant, list(&t.applied)),
                }
            }
            for id in &report.not_run {
                println!("{id}: not run (the run stopped)");
            }
            let failed = report.failed().count();
            println!(
                "{} tenants: {} {}, {} failed, {} not run",
                report.tenants.len() + report.not_run.len(),
                report.tenants.len() - failed,
                if dry_run { "checked" } else { "migrated" },
                failed,
                report.not_run.len()
            );
            if !report.is_ok() {
                return Err(Error::Aborted("some tenants were not migrated".into()));
            }
        }
        Command::SyncIndexes(_) => unreachable!("handled by main"),
    }
    Ok(())
}

fn list(steps: &[&str]) -> String {
    if steps.is_empty() {
        "nothing".into()
    } else {
        steps.join(", ")
    }
}

async fn state_of(fleet: &Fleet, id: &str) -> odm_core::Result<String> {
    let record = fleet
        .catalogue()
        .get(id)
        .await?
        .ok_or_else(|| Error::UnknownTenant { id: id.to_owned() })?;
    Ok(format!("now {} at {}", record.state, record.placement))
}

async fn usage_of(fleet: &Fleet, id: &str) -> odm_core::Result<odm_core::Usage> {
    let listed = fleet.list().await?;
    listed
        .into_iter()
        .find(|(r, _)| r.id == id)
        .map(|(_, u)| u)
        .ok_or_else(|| Error::UnknownTenant { id: id.to_owned() })
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
