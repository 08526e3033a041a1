//! [`Connections`]: tenants spread over several clusters, served by a bounded set of clients.
//!
//! A resolver maps each tenant to the URI of its cluster; the registry opens one client per URI, at most
//! `max_clients` at once, and closes the least recently used idle one when it needs room for another.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;
use mongodb::event::cmap::CmapEvent;
use mongodb::event::EventHandler;
use mongodb::options::ClientOptions;
use mongodb::Client;

use crate::connection::{Connection, DEFAULT_TIMEOUT};
use crate::error::{Error, Result};
use crate::tenancy::{check_tenant_id, Strategy, Tenant, Tenants, DEFAULT_TENANT_CACHE};

/// How many clients a registry keeps open unless told otherwise.
pub const DEFAULT_MAX_CLIENTS: usize = 16;

/// The most sockets each client's pool opens per server unless told otherwise (the driver's default).
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// How long [`Connections::tenant`] waits for an open client to become idle when every slot is taken,
/// unless told otherwise.
pub const DEFAULT_IDLE_WAIT: Duration = Duration::from_secs(10);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Resolver = Arc<dyn Fn(&str) -> BoxFuture<Result<String>> + Send + Sync>;

/// A registry of clients for tenants that live on several clusters, with a bound on clients and sockets.
///
/// ```no_run
/// # use odm_core::{Connections, Strategy, Result};
/// # async fn run() -> Result<()> {
/// let registry = Connections::builder(Strategy::database_per_tenant("tenant_"))
///     .resolver(|tenant: &str| {
///         let shard = if tenant < "m" { "a" } else { "b" };
///         Ok(format!("mongodb://cluster-{shard}.internal:27017/app"))
///     })
///     .max_clients(8)
///     .max_pool_size(20)
///     .build()?;
/// let acme = registry.tenant("acme").await?;
/// # Ok(()) }
/// ```
///
/// # The socket bound
///
/// Each open client keeps, per server of its cluster, a pool of at most `max_pool_size` sockets, plus the
/// driver's monitoring sockets (at most two per server). So the registry holds at most
///
/// ```text
/// max_clients × servers_per_cluster × (max_pool_size + 2)
/// ```
///
/// sockets at any moment: 8 clients on 3-member replica sets with pools of 20 is at most 528.
/// [`stats`](Connections::stats) reports the pools and pooled sockets open now.
///
/// # Idle clients
///
/// A client is idle when no [`Tenant`], [`ModelHandle`](crate::ModelHandle) or [`Connection`] made from
/// it is alive outside the registry. A client in use is never closed: when every slot is taken by a
/// client in use, [`tenant`](Connections::tenant) waits (up to [`idle_wait`](ConnectionsBuilder::idle_wait))
/// for one to become idle, then gives [`Error::RegistryFull`]. So hold tenant handles for a request, not
/// for the life of the process.
#[derive(Clone)]
pub struct Connections {
    inner: Arc<Registry>,
}

struct Registry {
    strategy: Strategy,
    resolver: Resolver,
    max_clients: usize,
    pool_size: u32,
    tenant_cache: usize,
    timeout: Duration,
    idle_wait: Duration,
    /// Open clients by URI, most recently used first.
    clients: Mutex<LruCache<String, Tenants>>,
    /// Held while a client is opened or closed, so that two tasks never open the same URI twice and the
    /// bound holds while a slot is being made.
    opening: tokio::sync::Mutex<()>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    pools: AtomicUsize,
    sockets: AtomicUsize,
    opened: AtomicU64,
    evictions: AtomicU64,
}

/// What a [`Connections`] registry holds now, and has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistryStats {
    /// Clients open now (at most `max_clients`).
    pub clients: usize,
    /// The bound on open clients.
    pub max_clients: usize,
    /// Connection pools open now, one per client and server.
    pub pools: usize,
    /// Pooled sockets open now, across every client (monitoring sockets not included).
    pub sockets: usize,
    /// The bound on each pool's sockets.
    pub max_pool_size: u32,
    /// Clients opened since the registry was built.
    pub opened: u64,
    /// Clients closed to make room for another.
    pub evictions: u64,
}

/// Settings of a [`Connections`] registry. Made by [`Connections::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConnectionsBuilder {
    strategy: Strategy,
    resolver: Option<Resolver>,
    max_clients: usize,
    pool_size: u32,
    tenant_cache: usize,
    timeout: Duration,
    idle_wait: Duration,
}

impl Connections {
    /// A registry whose tenants are placed by `strategy` on the cluster their resolver names.
    pub fn builder(strategy: Strategy) -> ConnectionsBuilder {
        ConnectionsBuilder {
            strategy,
            resolver: None,
            max_clients: DEFAULT_MAX_CLIENTS,
            pool_size: DEFAULT_POOL_SIZE,
            tenant_cache: DEFAULT_TENANT_CACHE,
            timeout: DEFAULT_TIMEOUT,
            idle_wait: DEFAULT_IDLE_WAIT,
        }
    }

    /// The tenant `id`, on the client of the cluster the resolver names for it: an open client when there
    /// is one for that URI, else a new one (closing the least recently used idle client first when
    /// `max_clients` are open).
    ///
    /// The id is checked before the resolver sees it; a bad one gives [`Error::InvalidTenant`].
    pub async fn tenant(&self, id: &str) -> Result<Tenant> {
        check_tenant_id(id)?;
        let reg = &self.inner;
        let uri = (reg.resolver)(id).await?;
        if let Some(tenant) = self.open_tenant(&uri, id) {
            return tenant;
        }
        let _opening = reg.opening.lock().await;
        if let Some(tenant) = self.open_tenant(&uri, id) {
            return tenant;
        }
        self.make_room().await?;
        let tenants = self.open(&uri).await?;
        let mut clients = reg.clients.lock().expect("registry lock");
        clients.put(uri, tenants.clone());
        drop(clients);
        if crate::observe::metrics_on() {
            crate::observe::registry_gauges(&self.stats());
        }
        tenants.get(id)
    }

    /// The tenant from the client already open for `uri`, if any. The handle is made under the lock, so
    /// that a client is never judged idle while a handle of it is being handed out.
    fn open_tenant(&self, uri: &str, id: &str) -> Option<Result<Tenant>> {
        let mut clients = self.inner.clients.lock().expect("registry lock");
        clients.get(uri).map(|tenants| tenants.get(id))
    }

    /// Closes idle clients, least recently used first, until there is room for one more.
    async fn make_room(&self) -> Result<()> {
        let reg = &self.inner;
        let deadline = tokio::time::Instant::now() + reg.idle_wait;
        loop {
            let evicted = {
                let mut clients = reg.clients.lock().expect("registry lock");
                if clients.len() < reg.max_clients {
                    return Ok(());
                }
                let idle = clients
                    .iter()
                    .rev()
                    .find(|(_, t)| t.connection().client_refs() <= t.client_refs_held())
                    .map(|(uri, _)| uri.clone());
                idle.and_then(|uri| clients.pop(&uri))
            };
            match evicted {
                Some(tenants) => {
                    reg.counters.evictions.fetch_add(1, Ordering::Relaxed);
                    let client = tenants.connection().client().clone();
                    drop(tenants);
                    // Idle means no handle is out; a stream still open is given the wait to finish.
                    let _ = tokio::time::timeout(reg.idle_wait, client.shutdown()).await;
                }
                None if tokio::time::Instant::now() >= deadline => {
                    return Err(Error::RegistryFull {
                        max_clients: reg.max_clients,
                        waited: reg.idle_wait,
                    })
                }
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    async fn open(&self, uri: &str) -> Result<Tenants> {
        let reg = &self.inner;
        let mut options = ClientOptions::parse(uri).await?;
        options.max_pool_size = Some(reg.pool_size);
        options.server_selection_timeout = Some(reg.timeout);
        options.connect_timeout = Some(reg.timeout);
        let counters = reg.counters.clone();
        options.cmap_event_handler = Some(EventHandler::callback(move |event| {
            let (counter, up) = match event {
                CmapEvent::PoolCreated(_) => (&counters.pools, true),
                CmapEvent::PoolClosed(_) => (&counters.pools, false),
                CmapEvent::ConnectionCreated(_) => (&counters.sockets, true),
                CmapEvent::ConnectionClosed(_) => (&counters.sockets, false),
                _ => return,
            };
            if up {
                counter.fetch_add(1, Ordering::Relaxed);
            } else {
                counter.fetch_sub(1, Ordering::Relaxed);
            }
        }));
        let db = options
            .default_database
            .clone()
            .unwrap_or_else(|| "test".to_owned());
        let client = Client::with_options(options)?;
        let conn = Connection::from_client(client.clone(), &db)?;
        let tenants = match Tenants::with_cache(conn, reg.strategy.clone(), reg.tenant_cache) {
            Ok(tenants) => tenants,
            Err(e) => {
                client.shutdown().await;
                return Err(e);
            }
        };
        if let Err(e) = tenants.connection().ping().await {
            drop(tenants);
            client.shutdown().immediate(true).await;
            return Err(e);
        }
        reg.counters.opened.fetch_add(1, Ordering::Relaxed);
        Ok(tenants)
    }

    /// What the registry holds now, and has done.
    pub fn stats(&self) -> RegistryStats {
        let reg = &self.inner;
        RegistryStats {
            clients: reg.clients.lock().expect("registry lock").len(),
            max_clients: reg.max_clients,
            pools: reg.counters.pools.load(Ordering::Relaxed),
            sockets: reg.counters.sockets.load(Ordering::Relaxed),
            max_pool_size: reg.pool_size,
            opened: reg.counters.opened.load(Ordering::Relaxed),
            evictions: reg.counters.evictions.load(Ordering::Relaxed),
        }
    }

    /// The URIs of the clients open now, most recently used first, with passwords and secret options
    /// replaced by `****` (see [`redact_uri`]), so they are safe to log.
    pub fn open_uris(&self) -> Vec<String> {
        let clients = self.inner.clients.lock().expect("registry lock");
        clients.iter().map(|(uri, _)| redact_uri(uri)).collect()
    }

    /// Closes every client. Handles made from them stop working.
    pub async fn close(&self) {
        let _opening = self.inner.opening.lock().await;
        let clients: Vec<Client> = {
            let mut clients = self.inner.clients.lock().expect("registry lock");
            let all = clients
                .iter()
                .map(|(_, t)| t.connection().client().clone())
                .collect();
            clients.clear();
            all
        };
        for client in clients {
            client.shutdown().immediate(true).await;
        }
    }
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("strategy", &self.inner.strategy)
            .field("stats", &self.stats())
            .finish()
    }
}

impl ConnectionsBuilder {
    /// Maps a tenant id (already checked) to the URI of its cluster. The URI's path names the database
    /// the strategy works in (for collection per tenant and shared collection), else `test`. The registry
    /// keeps one client per distinct URI string, so return the same string for every tenant of a cluster.
    pub fn resolver<F>(mut self, resolve: F) -> Self
    where
        F: Fn(&str) -> Result<String> + Send + Sync + 'static,
    {
        self.resolver = Some(Arc::new(move |id| {
            let uri = resolve(id);
            Box::pin(async move { uri })
        }));
        self
    }

    /// Like [`resolver`](Self::resolver), for a resolver that does I/O (a catalog lookup).
    pub fn resolver_async<F, Fut>(mut self, resolve: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String>> + Send + 'static,
    {
        self.resolver = Some(Arc::new(move |id| Box::pin(resolve(id.to_owned()))));
        self
    }

    /// The most clients open at once (at least one; default [`DEFAULT_MAX_CLIENTS`]).
    pub fn max_clients(mut self, n: usize) -> Self {
        self.max_clients = n;
        self
    }

    /// The most sockets each client's pool opens per server (default [`DEFAULT_POOL_SIZE`]).
    pub fn max_pool_size(mut self, n: u32) -> Self {
        self.pool_size = n;
        self
    }

    /// How many tenant handles each client keeps cached (default
    /// [`DEFAULT_TENANT_CACHE`](crate::DEFAULT_TENANT_CACHE)).
    pub fn tenant_cache(mut self, n: usize) -> Self {
        self.tenant_cache = n;
        self
    }

    /// The connect and server selection timeout of every client (default
    /// [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long [`Connections::tenant`] waits for a client to become idle when all are in use (default
    /// [`DEFAULT_IDLE_WAIT`]).
    pub fn idle_wait(mut self, wait: Duration) -> Self {
        self.idle_wait = wait;
        self
    }

    /// Builds the registry. Opens no client yet.
    pub fn build(self) -> Result<Connections> {
        let resolver = self.resolver.ok_or_else(|| {
            Error::InvalidStrategy(
                "a Connections registry needs a resolver from tenant id to URI; call `.resolver(...)`"
                    .into(),
            )
        })?;
        if self.max_clients == 0 || self.pool_size == 0 {
            return Err(Error::InvalidStrategy(
                "`max_clients` and `max_pool_size` must be at least 1".into(),
            ));
        }
        Ok(Connections {
            inner: Arc::new(Registry {
                strategy: self.strategy,
                resolver,
                max_clients: self.max_clients,
                pool_size: self.pool_size,
                tenant_cache: self.tenant_cache,
                timeout: self.timeout,
                idle_wait: self.idle_wait,
                clients: Mutex::new(LruCache::unbounded()),
                opening: tokio::sync::Mutex::new(()),
                counters: Arc::default(),
            }),
        })
    }
}

impl std::fmt::Debug for ConnectionsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionsBuilder")
            .field("strategy", &self.strategy)
            .field("max_clients", &self.max_clients)
            .field("max_pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

/// Connection-string options whose values are secrets.
const SECRET_OPTIONS: &[&str] = &["authmechanismproperties", "tlscertificatekeyfilepassword"];

/// `uri` with its password and the values of secret options (`authMechanismProperties`,
/// `tlsCertificateKeyFilePassword`) replaced by `****`, for logs and reports. The user name, hosts,
/// database and other options stay.
pub fn redact_uri(uri: &str) -> String {
    let (scheme, rest) = match uri.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, uri),
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:****@{hosts}"),
            None => format!("{userinfo}@{hosts}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let options: Vec<String> = query
                .split('&')
                .map(|option| match option.split_once('=') {
                    Some((key, _))
                        if SECRET_OPTIONS.contains(&key.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{key}=****")
                    }
                    _ => option.to_owned(),
                })
                .collect();
            format!("{path}?{}", options.join("&"))
        }
        None => tail.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_uri;

    #[test]
    fn passwords_and_secret_options_are_redacted() {
        assert_eq!(
            redact_uri("mongodb://app:s3cr%40t@db1:27017,db2/tenants?replicaSet=rs&tlsCertificateKeyFilePassword=pw"),
            "mongodb://app:****@db1:27017,db2/tenants?replicaSet=rs&tlsCertificateKeyFilePassword=****"
        );
        assert_eq!(
            redact_uri("mongodb+srv://u:p@cluster.example.net/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok"),
            "mongodb+srv://u:****@cluster.example.net/?authMechanism=MONGODB-AWS&authMechanismProperties=****"
        );
        assert_eq!(
            redact_uri("mongodb://x509user@h/?authMechanism=MONGODB-X509"),
            "mongodb://x509user@h/?authMechanism=MONGODB-X509"
        );
        assert_eq!(
            redact_uri("mongodb://127.0.0.1:27017"),
            "mongodb://127.0.0.1:27017"
        );
    }
}
