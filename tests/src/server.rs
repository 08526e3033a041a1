//! [`TestServer`]: an NX-27017 process owned by one test, for the tests that break the server on purpose
//! (kill it, freeze it, restart it on the same data).
//!
//! The shared server of `scripts/test-server` must stay up for every other test, so a fault test starts a
//! server of its own on a free loopback port with a throw-away data directory.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mongodb::bson::doc;
use mongodb::options::ClientOptions;
use mongodb::Client;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long a fresh or restarted server may take to answer `hello`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// An NX-27017 server process that belongs to the test that started it.
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
    /// The NX-27017 binary: `ODM_NX_27017` (which `scripts/test-server run` exports), else
    /// `.venv/bin/nx-27017` at the repository root, if it exists.
    pub fn binary() -> Option<PathBuf> {
        let from_env = std::env::var_os("ODM_NX_27017").map(PathBuf::from);
        let in_repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/nx-27017");
        from_env
            .into_iter()
            .chain(Some(in_repo))
            .find(|p| p.is_file())
    }

    /// Why the tests that need a server of their own cannot run here, or `None` when they can.
    ///
    /// They are skipped only when no NX-27017 binary is found and `MONGODB_URI` names a server on another
    /// machine (the suite then runs against a remote deployment it must not break). With a local server
    /// and no binary, something is wrong with the setup, and [`start`](Self::start) fails loudly instead.
    pub fn skip_reason() -> Option<String> {
        if Self::binary().is_some() {
            return None;
        }
        let uri = std::env::var("MONGODB_URI").ok()?;
        let local = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|host| uri.contains(host));
        (!local).then(|| {
            format!(
                "no NX-27017 binary (set ODM_NX_27017 or run `scripts/test-server install`) and MONGODB_URI \
                 points at a remote server ({uri}), which these tests must not kill"
            )
        })
    }

    /// Starts a server, or prints why it cannot and returns `None` (see [`skip_reason`](Self::skip_reason)).
    /// `test` names the caller in the message.
    pub async fn start_or_skip(test: &str) -> Option<TestServer> {
        if let Some(reason) = Self::skip_reason() {
            // Straight to the process's stderr: the test harness captures `println!`, and a skip must show.
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
            return None;
        }
        Some(Self::start().await)
    }

    /// Starts a server on a free loopback port with an empty data directory and waits until it answers
    /// `hello`.
    ///
    /// # Panics
    /// When no binary is found, or the server does not answer within a minute (the panic shows its log).
    pub async fn start() -> TestServer {
        let binary = Self::binary().unwrap_or_else(|| {
            panic!(
                "no NX-27017 binary: run the tests through `scripts/test-server run -- ...` (it exports \
                 ODM_NX_27017), set ODM_NX_27017, or run `scripts/test-server install`"
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

    /// The directory the server keeps its databases in; it stays the same across
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
        ["server.log", "stdout.log"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(self.dir.path().join(f)).ok())
            .collect::<Vec<_>>()
            .join("\n")
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
        let child = Command::new(&self.binary)
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(["--host", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("--log-file")
            .arg(self.dir.path().join("server.log"))
            .arg("--pid-file")
            .arg(self.dir.path().join("server.pid"))
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
            .open(self.dir.path().join("stdout.log"))
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

/// A port nothing listens on right now: bind port 0 and let the kernel pick one.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}
