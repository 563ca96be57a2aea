//! Load driver (not a test): `K` concurrent tasks calling `RedisLimiter::check` for
//! `DUR` seconds against a real Redis, reporting checks/s, mean latency, and the CPU
//! time per check of this process and of `redis-server` (from `/proc/<pid>/stat`;
//! the server's pid comes from `INFO server`, so it must run on this machine).
//!
//! ```text
//! cargo run --release -p wm-limits --example redis_load
//! K=1,8,32,128 ACCOUNTS=1,100 DUR=5 cargo run --release -p wm-limits --example redis_load
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run --release -p wm-limits --example redis_load
//! ```
//!
//! Without `REDIS_URL` a private `redis-server` is started (wm-testkit; the binary is
//! `WM_TEST_REDIS_SERVER` or `redis-server` from `PATH`). The runtime has two worker
//! threads, like the server on the two-core benchmark machine. Every account's limits
//! are high enough that nothing is denied.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::AsyncCommands as _;
use wm_limits::{Limiter, Limits, RedisLimiter};

const OPEN: Limits = Limits { per_minute: 60_000_000, daily: 1 << 52, monthly: 1 << 52 };

fn list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name}: not a number list")))
        .collect()
}

/// User + system CPU time of a process, in µs.
fn cpu_us(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/<pid>/stat");
    // Fields after the `(comm)`, which may contain spaces: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // CLK_TCK is 100 on Linux (x86_64, aarch64).
    ticks * 10_000.0
}

async fn redis_pid(url: &str) -> String {
    let mut conn = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO").arg("server").query_async(&mut conn).await.unwrap();
    let _: Option<String> = conn.get("wm:bench:warm").await.unwrap();
    info.lines().find_map(|l| l.strip_prefix("process_id:")).expect("INFO server has process_id").trim().to_owned()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let duration = Duration::from_secs_f64(std::env::var("DUR").ok().and_then(|v| v.parse().ok()).unwrap_or(5.0));
    let mut private = None;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            let server = wm_testkit::RedisServer::start().await;
            let url = server.url();
            private = Some(server);
            url
        }
    };
    let pid = redis_pid(&url).await;
    println!("redis {url} (pid {pid}), {duration:?} per run");
    println!(
        "{:>5} {:>8} {:>10} {:>10} {:>12} {:>12}",
        "K", "accounts", "checks/s", "mean µs", "client µs/ck", "redis µs/ck"
    );
    for accounts in list("ACCOUNTS", "1,64") {
        for k in list("K", "1,8,32,128") {
            let limiter = RedisLimiter::connect(&url).await.expect("connect");
            // Fresh accounts per run: nothing left over from earlier runs counts.
            let names: Arc<Vec<uuid::Uuid>> = Arc::new((0..accounts).map(|_| uuid::Uuid::new_v4()).collect());
            // Warm up (loads the script).
            for name in names.iter() {
                limiter.check(*name, &OPEN).await.expect("check");
            }
            let stop = Arc::new(AtomicBool::new(false));
            let done = Arc::new(AtomicU64::new(0));
            let latency_us = Arc::new(AtomicU64::new(0));
            let (self0, redis0, t0) = (cpu_us("self"), cpu_us(&pid), Instant::now());
            let mut tasks = tokio::task::JoinSet::new();
            for t in 0..k {
                let (limiter, names, stop, done, latency_us) =
                    (limiter.clone(), names.clone(), stop.clone(), done.clone(), latency_us.clone());
                tasks.spawn(async move {
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        let d = limiter.check(names[i % names.len()], &OPEN).await.expect("check");
                        assert!(d.is_allowed());
                        latency_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                        done.fetch_add(1, Ordering::Relaxed);
                        i += k;
                    }
                });
            }
            tokio::time::sleep(duration).await;
            stop.store(true, Ordering::Relaxed);
            tasks.join_all().await;
            let elapsed = t0.elapsed().as_secs_f64();
            let (self1, redis1) = (cpu_us("self"), cpu_us(&pid));
            let n = done.load(Ordering::Relaxed) as f64;
            println!(
                "{k:>5} {accounts:>8} {:>10.0} {:>10.1} {:>12.2} {:>12.2}",
                n / elapsed,
                latency_us.load(Ordering::Relaxed) as f64 / n,
                (self1 - self0) / n,
                (redis1 - redis0) / n
            );
            for name in names.iter() {
                limiter.reset(*name).await.expect("reset");
            }
        }
    }
    drop(private);
}
