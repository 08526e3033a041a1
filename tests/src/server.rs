//! [`TestServer`]: a `secantusd-rs` process owned by one test, for the tests that break the server on
//! purpose (kill it, freeze it, restart it on the same storage).
//!
//! The shared server of `scripts/test-server` must stay up for every other test, so a fault test starts a
//! server of its own on a free loopback port with a throw-away storage directory. `secantusd-rs` keeps its
//! data in WiredTiger (MongoDB's storage engine), so a restart after a kill runs WiredTiger's own recovery.

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mongodb::bson::doc;
use mongodb::options::ClientOptions;
use mongodb::Client;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long a fresh or restarted server may take to answer `hello`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A `secantusd-rs` server process that belongs to the test that started it.
///
/// It listens on `127.0.0.1` on a port picked free at start and keeps its data in a temporary directory
/// that lives as long as the value. [`kill`](Self::kill), [`stop`](Self::stop), [`cont`](Self::cont) and
/// [`restart`](Self::restart) break and mend it; dropping it kills the process and removes the data.
#[derive(Debug)]
pub struct TestServer {
    binary: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl TestServer {
    /// The `secantusd-rs` binary: `ODM_SECANTUSD` (which `scripts/test-server run` exports), else the one
    /// `scripts/test-server install` builds into `${XDG_CACHE_HOME:-~/.cache}/odm-test-server`, if it
    /// exists.
    pub fn binary() -> Option<PathBuf> {
        let from_env = std::env::var_os("ODM_SECANTUSD").map(PathBuf::from);
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("odm-test-server/secantus/bin/secantusd-rs"));
        from_env.into_iter().chain(cache).find(|p| p.is_file())
    }

    /// Starts a server on a free loopback port with an empty storage directory and waits until it answers
    /// `hello`.
    ///
    /// # Panics
    /// When no binary is found, or the server does not answer within a minute (the panic shows its log).
    pub async fn start() -> TestServer {
        let binary = Self::binary().unwrap_or_else(|| {
            panic!(
                "no secantusd-rs binary: run the tests through `scripts/test-server run -- ...` (it builds \
                 the server once and exports ODM_SECANTUSD), set ODM_SECANTUSD, or run \
                 `scripts/test-server install`"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("odm-fault-server.")
            .tempdir()
            .expect("create a temporary directory for the server's data");
        std::fs::create_dir(dir.path().join("data")).expect("create the data directory");
        let port = free_port();
        let mut server = TestServer {
            binary,
            dir,
            port,
            child: None,
        };
        server.spawn().await;
        server
    }

    /// The server's URI, `mongodb://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on; it stays the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory the server keeps its WiredTiger files in; it stays the same across
    /// [`restart`](Self::restart).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The process id of the running server, if one runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the server wrote to its log and its standard streams so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Kills the server with SIGKILL, as a crash or an OOM kill would, and waits until it is gone. The data
    /// directory is kept for [`restart`](Self::restart).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A stopped process dies on SIGKILL too.
            let _ = signal(&child, Signal::SIGKILL);
            let _ = child.wait();
        }
    }

    /// Freezes the server with SIGSTOP: it keeps its sockets open but answers nothing, like a server
    /// stuck in a long GC pause or a network partition that drops packets silently.
    pub fn stop(&self) {
        let child = self.child.as_ref().expect("the server is not running");
        signal(child, Signal::SIGSTOP).expect("send SIGSTOP to the server");
        wait_stopped(child);
    }

    /// Wakes a server frozen by [`stop`](Self::stop) with SIGCONT.
    pub fn cont(&self) {
        let child = self.child.as_ref().expect("the server is not running");
        signal(child, Signal::SIGCONT).expect("send SIGCONT to the server");
    }

    /// Kills the server if it runs, starts it again on the same port and data directory, and waits until
    /// it answers `hello`.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let out = self.output_file();
        let err = out.try_clone().expect("clone the server's output file");
        // `--sync-on-commit`: a write is in WiredTiger's log on disk before it is acknowledged, as mongod
        // journals a write acknowledged with the default (majority) write concern of a replica set.
        // Without it, secantusd-rs loses writes it acknowledged to a SIGKILL (measured: two inserts
        // acknowledged just before the kill were both gone after the restart).
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(self.data_dir())
            .arg("--sync-on-commit")
            // Its working directory: the server reads a `secantusd.toml` found there.
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.child = Some(child);
        self.wait_for_hello().await;
    }

    fn output_file(&self) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("open the server's output file")
    }

    /// Polls `hello` with a short server selection timeout until the server answers.
    async fn wait_for_hello(&mut self) {
        let mut options = ClientOptions::parse(self.uri())
            .await
            .expect("parse the server's URI");
        options.server_selection_timeout = Some(Duration::from_millis(250));
        options.connect_timeout = Some(Duration::from_millis(250));
        options.direct_connection = Some(true);
        let client = Client::with_options(options).expect("build a client");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let answer = client
                .database("admin")
                .run_command(doc! { "hello": 1 })
                .await;
            match answer {
                Ok(_) => break,
                Err(e) => {
                    let child = self.child.as_mut().expect("the server was spawned");
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "the server on port {} exited with {status} before answering hello:\n{}",
                            self.port,
                            self.log()
                        );
                    }
                    if Instant::now() > deadline {
                        panic!(
                            "the server on port {} did not answer hello within {START_TIMEOUT:?}: {e}\n{}",
                            self.port,
                            self.log()
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        client.shutdown().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn signal(child: &Child, signal: Signal) -> nix::Result<()> {
    let pid = i32::try_from(child.id()).expect("a process id fits in an i32");
    kill(Pid::from_raw(pid), signal)
}

/// Waits until every thread of `child` is stopped. `kill` returns once SIGSTOP is sent, not once it has
/// taken effect: a server thread running on another core can still answer a request sent right after,
/// so a test that freezes the server waits for `/proc` to show each thread stopped (`T`), for at most
/// two seconds. Where `/proc` is absent, it returns at once.
fn wait_stopped(child: &Child) {
    let tasks = PathBuf::from(format!("/proc/{}/task", child.id()));
    let deadline = Instant::now() + Duration::from_secs(2);
    let all_stopped = || {
        let Ok(entries) = std::fs::read_dir(&tasks) else {
            return true;
        };
        entries.flatten().all(|task| {
            std::fs::read_to_string(task.path().join("stat"))
                // The state follows the command's closing parenthesis: `pid (comm) S ...`.
                .map(|stat| {
                    stat.rsplit_once(") ")
                        .is_some_and(|(_, rest)| rest.starts_with(['T', 't']))
                })
                .unwrap_or(true)
        })
    };
    while !all_stopped() {
        assert!(
            Instant::now() < deadline,
            "the server's threads did not stop within 2 s of SIGSTOP"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A port nothing listens on right now: bind port 0 and let the kernel pick one.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}
