//! The shared test Redis, and private Redis servers a test can kill and restart.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{free_port, required_env};

/// How long a private server may take to answer PING after being started.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// `WM_TEST_REDIS_URL` (the shared test Redis); panics with instructions when unset.
pub fn redis_url() -> String {
    required_env("WM_TEST_REDIS_URL")
}

/// A private `redis-server` on a free 127.0.0.1 port, run as a child process.
///
/// The binary is `WM_TEST_REDIS_SERVER`, else `redis-server` from `PATH`. Nothing
/// is persisted. The server is killed when this value is dropped.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    bin: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server and waits until it answers PING (panics if it does not).
    pub async fn start() -> RedisServer {
        let bin = std::env::var_os("WM_TEST_REDIS_SERVER")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("redis-server"), PathBuf::from);
        let dir = std::env::temp_dir().join(format!("wm-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("wm-testkit: cannot create {}: {e}", dir.display()));
        let mut server = RedisServer { port: free_port(), bin, dir, child: None };
        server.spawn().await;
        server
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server abruptly (SIGKILL) and waits for it to be gone; from now
    /// on connections to [`url`](Self::url) are refused. No-op when already stopped.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (killing it first if it runs)
    /// and waits until it answers PING. The data is gone, as after a crash, unless a
    /// snapshot was saved (`SAVE`): the server loads it, as one with RDB persistence does.
    pub async fn restart(&mut self) {
        self.kill().await;
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let log_path = self.dir.join("redis.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("wm-testkit: cannot open {}: {e}", log_path.display()));
        let log_err = log.try_clone().unwrap_or_else(|e| panic!("wm-testkit: cannot clone a file handle: {e}"));
        let port = self.port.to_string();
        let mut child = Command::new(&self.bin)
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--daemonize", "no", "--dir"])
            .arg(&self.dir)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "wm-testkit: cannot run {}: {e}. Set WM_TEST_REDIS_SERVER or install \
                     redis-server (scripts/test does both).",
                    self.bin.display()
                )
            });

        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "wm-testkit: redis-server on port {} exited ({status}); log:\n{}",
                    self.port,
                    read_log(&log_path)
                );
            }
            if ping(self.port).await {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "wm-testkit: redis-server on port {} did not answer PING within {:?}; log:\n{}",
                    self.port,
                    START_TIMEOUT,
                    read_log(&log_path)
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.child = Some(child);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// True when a Redis on 127.0.0.1:`port` answers a raw PING with +PONG.
async fn ping(port: u16) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n").await.ok()?;
        let mut buf = [0u8; 7];
        stream.read_exact(&mut buf).await.ok()?;
        Some(&buf == b"+PONG\r\n")
    };
    tokio::time::timeout(Duration::from_secs(1), attempt).await.ok().flatten().unwrap_or(false)
}

fn read_log(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
