//! [`Connection`]: one client (one pool) and a database on it; [`Connection::use_db`] switches databases
//! over the same pool, and [`Connection::model`] binds a model to the connection's database.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mongodb::options::ClientOptions;
use mongodb::{Client, Database};
use smol_str::SmolStr;

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::name::check_database_name;
use crate::observe::{
    TenantActivity, TenantActivityTable, TenantLabels, DEFAULT_TENANT_METRIC_LABELS,
};
use crate::session::Session;

/// The server selection and connect timeout used when neither the URI nor [`ConnectOptions`] sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many long database names (over [`INLINE_NAME_LEN`] bytes) [`Connection::use_db`] keeps interned per
/// client by default.
pub const DEFAULT_USE_DB_CACHE: usize = 100_000;

/// Database names up to this many bytes are stored inside the [`Connection`] itself: `use_db` of such a name
/// allocates nothing and touches no shared table. Longer names are interned per client.
pub const INLINE_NAME_LEN: usize = 23;

/// A handle on one database over a shared client (one connection pool).
///
/// Cheap to clone (one reference count, plus one for a database name over [`INLINE_NAME_LEN`] bytes),
/// `Send + Sync`, and every clone and every [`use_db`] of it shares
/// the same pool: a million tenant databases cost one pool, not a million. See the guide's
/// [connections](crate::guide::connections) chapter.
///
/// [`use_db`]: Connection::use_db
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    db: SmolStr,
}

pub(crate) struct Shared {
    client: Client,
    id: u64,
    /// Interned database names over [`INLINE_NAME_LEN`] bytes, so `use_db` of such a name seen before
    /// allocates nothing. Bounded: when full it starts over, which costs one allocation per name on its next
    /// use and keeps memory flat.
    names: RwLock<HashSet<Arc<str>, foldhash::fast::RandomState>>,
    names_capacity: usize,
    operation_timeout: Option<Duration>,
    slow_operation: Option<Duration>,
    /// The first seed host and its port, for the spans' `server.address` and `server.port`.
    server: Option<(Arc<str>, u16)>,
    tenant_labels: TenantLabels,
    /// Each tenant's operations, when [`ConnectOptions::tenant_activity`] asked for them.
    tenant_activity: Option<TenantActivityTable>,
}

static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

impl Connection {
    /// Connects to the server at `uri` and checks that it answers, like `mongoose.createConnection`.
    ///
    /// The database is the one in the URI's path (`mongodb://host/app` uses `app`), else `test`, like the
    /// driver. An unreachable server gives an error within the timeout ([`DEFAULT_TIMEOUT`] unless the URI
    /// sets `serverSelectionTimeoutMS`), never a hang.
    pub async fn connect(uri: &str) -> Result<Connection> {
        ConnectOptions::new(uri).connect().await
    }

    /// The options of a connection to `uri`, to set timeouts and pool sizes before connecting.
    pub fn options(uri: &str) -> ConnectOptions {
        ConnectOptions::new(uri)
    }

    /// A connection over a client you built yourself, on database `db`. Does no I/O.
    pub fn from_client(client: Client, db: &str) -> Result<Connection> {
        check_database_name(db)?;
        Ok(Connection {
            shared: Arc::new(Shared {
                client,
                id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
                names: RwLock::new(HashSet::default()),
                names_capacity: DEFAULT_USE_DB_CACHE,
                operation_timeout: None,
                slow_operation: None,
                server: None,
                tenant_labels: TenantLabels::new(DEFAULT_TENANT_METRIC_LABELS),
                tenant_activity: None,
            }),
            db: SmolStr::new(db),
        })
    }

    /// A connection to database `name` over the same client and pool, like Mongoose's
    /// `useDb(name, { useCache: true })`.
    ///
    /// Does no I/O; the database is created by the server on the first write. The name is checked against
    /// MongoDB's rules and a bad one gives [`Error::InvalidName`] naming the rule. Calling this per request
    /// allocates nothing: a name up to [`INLINE_NAME_LEN`] bytes is stored in the connection itself, and a
    /// longer one is interned on its first use.
    pub fn use_db(&self, name: &str) -> Result<Connection> {
        let db = if name.len() <= INLINE_NAME_LEN {
            check_database_name(name)?;
            SmolStr::new(name)
        } else {
            self.intern(name)?
        };
        Ok(Connection {
            shared: self.shared.clone(),
            db,
        })
    }

    /// The interned copy of a database name too long to store inline.
    #[cold]
    fn intern(&self, name: &str) -> Result<SmolStr> {
        let shared = &self.shared;
        if let Some(db) = shared.names.read().expect("names lock").get(name) {
            return Ok(SmolStr::from(db.clone()));
        }
        check_database_name(name)?;
        let db: Arc<str> = Arc::from(name);
        let mut names = shared.names.write().expect("names lock");
        if names.len() >= shared.names_capacity {
            names.clear();
        }
        names.insert(db.clone());
        drop(names);
        Ok(SmolStr::from(db))
    }

    /// Binds model `T` to this connection's database. Does no I/O and allocates nothing: it copies the
    /// connection (one reference count).
    pub fn model<T: Model>(&self) -> ModelHandle<T> {
        ModelHandle::new(self.clone())
    }

    /// The operation timeout set with [`ConnectOptions::operation_timeout`], shared by every connection of
    /// the client.
    pub fn operation_timeout(&self) -> Option<Duration> {
        self.shared.operation_timeout
    }

    /// The threshold set with [`ConnectOptions::slow_operation`], shared by every connection of the
    /// client.
    pub fn slow_operation(&self) -> Option<Duration> {
        self.shared.slow_operation
    }

    /// The first host of the URI's seed list and its port, as the spans' `server.address` and
    /// `server.port` (`None` for a connection made with [`from_client`](Self::from_client)).
    pub(crate) fn server_address(&self) -> Option<(&str, u16)> {
        self.shared.server.as_ref().map(|(h, p)| (&**h, *p))
    }

    /// The metric label of `tenant`: its id while the bound on tenant labels allows, else "other".
    pub(crate) fn tenant_metric_label(&self, tenant: &Arc<str>) -> metrics::SharedString {
        self.shared.tenant_labels.label(tenant)
    }

    /// Whether the client counts each tenant's operations ([`ConnectOptions::tenant_activity`]).
    pub(crate) fn counts_tenants(&self) -> bool {
        self.shared.tenant_activity.is_some()
    }

    /// Counts one operation of `tenant`, when the client counts them.
    pub(crate) fn count_tenant(&self, tenant: &Arc<str>, elapsed: Duration, failed: bool) {
        if let Some(table) = &self.shared.tenant_activity {
            table.record(tenant, elapsed, failed);
        }
    }

    /// The `n` busiest tenants on this client (every connection made from it with [`use_db`](Self::use_db)
    /// counts into one table): who is the noisy neighbour, from the library's own counts of each tenant
    /// handle's operations, since the connection was made or since
    /// [`reset_tenant_activity`](Self::reset_tenant_activity). Most operations first, then most time.
    ///
    /// Empty unless the connection was made with [`ConnectOptions::tenant_activity`]. The tenants past
    /// its bound are counted together in one entry, whose `tenant` is `None`. Operations on a handle
    /// bound straight to a connection are no tenant's and are not counted. Does no I/O.
    pub fn busiest_tenants(&self, n: usize) -> Vec<TenantActivity> {
        self.shared
            .tenant_activity
            .as_ref()
            .map_or_else(Vec::new, |table| table.busiest(n))
    }

    /// Every tenant's counts, started over in the same step, for publishing.
    pub(crate) fn take_tenant_activity(&self) -> Vec<TenantActivity> {
        self.shared
            .tenant_activity
            .as_ref()
            .map_or_else(Vec::new, |table| table.take())
    }

    /// Starts the counts of [`busiest_tenants`](Self::busiest_tenants) over, and frees every tenant's
    /// entry so the next tenants seen get one of their own: call it at the end of each window (say, each
    /// minute, after reading the busiest) to rank the tenants of that window. An operation that ends
    /// while the counts start over may be counted in neither window.
    pub fn reset_tenant_activity(&self) {
        if let Some(table) = &self.shared.tenant_activity {
            table.reset();
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.db
    }

    /// The driver's handle on the database.
    pub fn database(&self) -> Database {
        self.shared.client.database(&self.db)
    }

    /// The driver's client, shared by every connection made from this one with [`use_db`](Self::use_db).
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// `true` when both connections share one client (and pool).
    pub fn same_client(&self, other: &Connection) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Starts a session on this connection's client, for transactions and causally consistent reads.
    pub async fn start_session(&self) -> Result<Session> {
        let session = self.shared.client.start_session().await?;
        Ok(Session::new(session, self.shared.id))
    }

    pub(crate) fn client_id(&self) -> u64 {
        self.shared.id
    }

    /// How many connections (this one, its clones and every `use_db` of them) share the client.
    pub(crate) fn client_refs(&self) -> usize {
        Arc::strong_count(&self.shared)
    }

    /// Closes the client: ends its sessions and its pool. Every connection made from it with
    /// [`use_db`](Self::use_db) stops working too.
    pub async fn close(self) {
        self.shared.client.clone().shutdown().await;
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("database", &&*self.db)
            .field("client", &self.shared.id)
            .finish()
    }
}

/// Options of a new connection: timeouts, pool sizes and the `use_db` cache. Made by
/// [`Connection::options`].
#[derive(Debug, Clone)]
#[must_use = "options do nothing until `connect` is awaited"]
pub struct ConnectOptions {
    uri: String,
    timeout: Option<Duration>,
    max_pool_size: Option<u32>,
    min_pool_size: Option<u32>,
    app_name: Option<String>,
    use_db_cache: usize,
    verify: bool,
    operation_timeout: Option<Duration>,
    slow_operation: Option<Duration>,
    tenant_metric_labels: usize,
    tenant_activity: usize,
}

impl ConnectOptions {
    /// Options for `uri`, with the defaults.
    pub fn new(uri: &str) -> Self {
        ConnectOptions {
            uri: uri.to_owned(),
            timeout: None,
            max_pool_size: None,
            min_pool_size: None,
            app_name: None,
            use_db_cache: DEFAULT_USE_DB_CACHE,
            verify: true,
            operation_timeout: None,
            slow_operation: None,
            tenant_metric_labels: DEFAULT_TENANT_METRIC_LABELS,
            tenant_activity: 0,
        }
    }

    /// How long to wait for a server to answer, for the connect and every later operation's server
    /// selection. Overrides the URI's `serverSelectionTimeoutMS` and `connectTimeoutMS`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest any model operation may take, from the call to the last byte of the answer; past it the
    /// operation fails with [`Error::Timeout`](crate::Error::Timeout). Off by default.
    ///
    /// The driver has no socket timeout, so without this an operation already sent to a server that
    /// stops answering (frozen, not gone) waits until the driver's monitor notices, about a heartbeat
    /// (`heartbeatFrequencyMS`, 10 s) plus the server selection timeout. An `insert_many` applies it to
    /// each of its round trips and reports what is known stored.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Logs a `tracing` warning (target `odm`) for every model operation that takes `threshold` or more,
    /// with the operation's fields (database, collection, model, tenant, strategy, error kind) and its
    /// duration, whether or not the operations' spans are recorded. Off by default. The guide's
    /// [observability](crate::guide::observability) chapter shows it at work.
    pub fn slow_operation(mut self, threshold: Duration) -> Self {
        self.slow_operation = Some(threshold);
        self
    }

    /// How many tenants get a `tenant` label of their own in the operation metrics (the first seen);
    /// the operations of the others are counted under [`OTHER_TENANTS`](crate::observe::OTHER_TENANTS),
    /// so a million tenants cannot make a million series.
    /// [`DEFAULT_TENANT_METRIC_LABELS`](crate::observe::DEFAULT_TENANT_METRIC_LABELS) unless set.
    pub fn tenant_metric_labels(mut self, tenants: usize) -> Self {
        self.tenant_metric_labels = tenants;
        self
    }

    /// Counts each tenant's operations and their time, for [`Connection::busiest_tenants`], keeping
    /// counters of their own for the first `tenants` tenants seen (per window: see
    /// [`Connection::reset_tenant_activity`]) and counting the others together, so memory stays bounded.
    /// Off (0) by default; when on, an operation of a tenant handle reads the clock twice and adds to
    /// shared counters, whether or not anything else listens.
    pub fn tenant_activity(mut self, tenants: usize) -> Self {
        self.tenant_activity = tenants;
        self
    }

    /// The most sockets the pool opens per server (the driver's default is 10).
    pub fn max_pool_size(mut self, size: u32) -> Self {
        self.max_pool_size = Some(size);
        self
    }

    /// The sockets the pool keeps open per server even when idle.
    pub fn min_pool_size(mut self, size: u32) -> Self {
        self.min_pool_size = Some(size);
        self
    }

    /// The application name the server logs for this client.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// How many database names over [`INLINE_NAME_LEN`] bytes [`Connection::use_db`] keeps interned
    /// ([`DEFAULT_USE_DB_CACHE`]).
    pub fn use_db_cache(mut self, names: usize) -> Self {
        self.use_db_cache = names.max(1);
        self
    }

    /// Whether `connect` pings the server before returning (on by default). Off, the first operation finds
    /// out whether the server answers.
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Builds the client and, unless [`verify(false)`](Self::verify), checks that the server answers.
    pub async fn connect(self) -> Result<Connection> {
        let mut options = ClientOptions::parse(&self.uri).await?;
        if let Some(timeout) = self.timeout {
            options.server_selection_timeout = Some(timeout);
            options.connect_timeout = Some(timeout);
        } else {
            options
                .server_selection_timeout
                .get_or_insert(DEFAULT_TIMEOUT);
            options.connect_timeout.get_or_insert(DEFAULT_TIMEOUT);
        }
        if self.max_pool_size.is_some() {
            options.max_pool_size = self.max_pool_size;
        }
        if self.min_pool_size.is_some() {
            options.min_pool_size = self.min_pool_size;
        }
        if self.app_name.is_some() {
            options.app_name = self.app_name;
        }
        let server = options.hosts.first().and_then(|h| match h {
            mongodb::options::ServerAddress::Tcp { host, port } => {
                Some((Arc::<str>::from(host.as_str()), port.unwrap_or(27017)))
            }
            _ => None,
        });
        let db = options
            .default_database
            .clone()
            .unwrap_or_else(|| "test".to_owned());
        let client = Client::with_options(options)?;
        let mut conn = Connection::from_client(client, &db)?;
        let shared = Arc::get_mut(&mut conn.shared).expect("a new connection is not shared yet");
        shared.names_capacity = self.use_db_cache;
        shared.operation_timeout = self.operation_timeout;
        shared.slow_operation = self.slow_operation;
        shared.server = server;
        shared.tenant_labels.set_capacity(self.tenant_metric_labels);
        shared.tenant_activity =
            (self.tenant_activity > 0).then(|| TenantActivityTable::new(self.tenant_activity));
        if self.verify {
            conn.ping().await?;
        }
        Ok(conn)
    }
}

impl Connection {
    /// Asks the server to answer a `ping`.
    #[allow(clippy::disallowed_methods)] // a command about the server, not a model's data
    pub async fn ping(&self) -> Result<()> {
        self.database()
            .run_command(mongodb::bson::doc! { "ping": 1 })
            .await
            .map(drop)
            .map_err(Error::from)
    }
}
