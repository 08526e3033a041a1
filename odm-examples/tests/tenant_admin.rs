//! `tenant-admin` as a script runs it: the binary against the server `MONGODB_URI` names, each test in
//! databases of its own. What a script relies on: exit status 0 done, 2 bad usage, 3 unknown tenant or a
//! state that refuses the command (nothing changed); `--dry-run` changes nothing; `list` and `top`
//! print one line per tenant.
//!
//! Run with `scripts/test-server run -- cargo test -p odm-examples --test tenant_admin`.

use std::process::{Command, Output};
use std::time::Duration;

use odm_core::prelude::*;
use odm_core::{Catalogue, Strategy, TenantState, Tenants};

fn uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned())
}

/// The server's URI with `db` as its path (the app's database), keeping any options.
fn uri_with_db(db: &str) -> String {
    let uri = uri();
    let (base, query) = match uri.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (uri.clone(), String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &base[..host_end])
}

/// A fleet of test `name`: its app database, control database and dedicated prefix are its own.
struct Admin {
    app: String,
    control: String,
    prefix: String,
}

impl Admin {
    async fn new(name: &str) -> Admin {
        let admin = Admin {
            app: format!("ta_{name}"),
            control: format!("ta_{name}_control"),
            prefix: format!("ta_{name}_"),
        };
        let conn = Connection::connect(&uri())
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test server at {}: {e}", uri()));
        for db in [&admin.app, &admin.control] {
            conn.use_db(db).unwrap().database().drop().await.unwrap();
        }
        admin
    }

    /// Runs `tenant-admin` with this fleet's databases and `args`.
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenant-admin"));
        let (first, rest) = args.split_first().expect("a command");
        command.arg(first);
        if !matches!(*first, "--help") {
            command
                .args(["--uri", &uri_with_db(&self.app)])
                .args(["--control-db", &self.control])
                .args(["--placement", "shared=shared"])
                .args([
                    "--placement",
                    &format!("dedicated=database:{}", self.prefix),
                ]);
        }
        command.args(rest);
        command.output().expect("tenant-admin runs")
    }

    async fn control(&self) -> Connection {
        Connection::connect(&uri())
            .await
            .unwrap()
            .use_db(&self.control)
            .unwrap()
    }
}

fn status(out: &Output) -> i32 {
    out.status.code().expect("an exit status")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The line of `tenant` in a table `list` or `top` printed, split on blanks.
fn row(out: &Output, tenant: &str) -> Option<Vec<String>> {
    stdout(out)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|cols| cols.first().map(String::as_str) == Some(tenant))
}

#[tokio::test]
async fn exit_statuses_tell_done_refused_and_bad_usage_apart() {
    let admin = Admin::new("exits").await;
    let catalogue = Catalogue::new(&admin.control().await);

    // (arguments, expected status, what the catalogue then says about "acme")
    let table: &[(&[&str], i32, Option<TenantState>)] = &[
        (&["provision", "acme", "--dry-run"], 0, None),
        (&["provision", "acme"], 0, Some(TenantState::Active)),
        (&["provision", "acme"], 0, Some(TenantState::Active)),
        (&["resume", "acme"], 3, Some(TenantState::Active)),
        (
            &["suspend", "acme", "--reason", "unpaid"],
            0,
            Some(TenantState::Suspended),
        ),
        (&["erase", "nobody"], 3, Some(TenantState::Suspended)),
        (
            &["move", "acme", "dedicated"],
            3,
            Some(TenantState::Suspended),
        ),
        (&["provision", "acme corp"], 3, Some(TenantState::Suspended)),
        (&["resume", "acme"], 0, Some(TenantState::Active)),
        (
            &["erase", "acme", "--dry-run"],
            0,
            Some(TenantState::Active),
        ),
        (&["suspend", "acme"], 2, Some(TenantState::Active)),
        (&["no-such-command"], 2, Some(TenantState::Active)),
        (&["move", "acme", "nowhere"], 1, Some(TenantState::Active)),
    ];
    for (args, expected, state) in table {
        let out = admin.run(args);
        assert_eq!(
            status(&out),
            *expected,
            "tenant-admin {args:?}: stdout {} stderr {}",
            stdout(&out),
            stderr(&out)
        );
        if *expected != 0 {
            assert!(
                !stderr(&out).trim().is_empty(),
                "{args:?} says why it failed"
            );
        }
        let record = catalogue.get("acme").await.unwrap();
        assert_eq!(record.map(|r| r.state), *state, "after {args:?}");
    }
}

#[tokio::test]
async fn list_prints_every_tenant_with_its_placement_and_state() {
    let admin = Admin::new("list").await;
    assert_eq!(status(&admin.run(&["provision", "small"])), 0);
    assert_eq!(
        status(&admin.run(&["provision", "big", "--to", "dedicated"])),
        0
    );
    assert_eq!(
        status(&admin.run(&["suspend", "small", "--reason", "r"])),
        0
    );

    let out = admin.run(&["list"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let big = row(&out, "big").expect("big listed");
    assert_eq!(big[1..3], ["dedicated".to_owned(), "active".to_owned()]);
    let small = row(&out, "small").expect("small listed");
    assert_eq!(small[1..3], ["shared".to_owned(), "suspended".to_owned()]);
}

#[tokio::test]
async fn top_ranks_the_tenants_the_processes_published() {
    let admin = Admin::new("top").await;
    for id in ["loud", "quiet"] {
        assert_eq!(status(&admin.run(&["provision", id])), 0);
    }
    let out = admin.run(&["top"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("no activity published"),
        "{}",
        stdout(&out)
    );

    // A service process: counts its tenants' operations and publishes them to the control database.
    let service = Connection::options(&uri())
        .tenant_activity(100)
        .connect()
        .await
        .unwrap()
        .use_db(&admin.app)
        .unwrap();
    let tenants = Tenants::new(service.clone(), Strategy::shared_collection()).unwrap();
    for (id, operations) in [("loud", 5), ("quiet", 2)] {
        let pings = tenants.get(id).unwrap().model::<Ping>();
        for _ in 0..operations {
            pings.count(doc! {}).await.unwrap();
        }
    }
    let publisher =
        service.publish_tenant_activity(&admin.control().await, Duration::from_secs(3600));
    publisher.publish_now().await.unwrap();

    let out = admin.run(&["top", "--since", "5m", "-n", "10"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let loud = row(&out, "loud").unwrap_or_else(|| panic!("loud in {text}"));
    let quiet = row(&out, "quiet").unwrap_or_else(|| panic!("quiet in {text}"));
    assert_eq!((loud[1].as_str(), loud[2].as_str()), ("shared", "5"));
    assert_eq!((quiet[1].as_str(), quiet[2].as_str()), ("shared", "2"));
    assert!(
        text.find("loud").unwrap() < text.find("quiet").unwrap(),
        "busiest first: {text}"
    );
    let out = admin.run(&["top", "-n", "1"]);
    assert!(row(&out, "quiet").is_none(), "{}", stdout(&out));
    assert_eq!(status(&admin.run(&["top", "--since", "soon"])), 2);
}

/// Any model: `top` counts operations whatever the model.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "pings")]
struct Ping {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
}
