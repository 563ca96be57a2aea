//! Load generator for the memory engine — a benchmark, not a test. Driven by
//! `scripts/bench/memories-load` against a running `whitemagic serve` (127.0.0.1 only).
//!
//! 1. creates `--others` + 1 enterprise accounts and a key for each through the admin API;
//! 2. seeds every other account with `--other-memories` memories (`POST /memories/batch`);
//! 3. seeds the main account with `--main - --singles` memories in batches of 100, then creates
//!    `--singles` more one by one (`POST /memories`), so it ends at exactly `--main`;
//! 4. runs `--searches` `POST /search` queries (words, phrases, prefixes, tag filters) from
//!    `--search-clients` concurrent clients, after a short unmeasured warm-up; then the same
//!    queries open loop at each of `--search-rates` per second (latency from the scheduled send).
//!
//! Memories are generated deterministically from `--seed`: titles, tags and markdown bodies of
//! a few hundred bytes over a generated vocabulary of 8,000 words whose frequencies follow
//! Zipf–Mandelbrot (`1/(rank+30)`: the most frequent word is in about a third of the memories,
//! most words are rare), and queries draw their words from the same distribution. Prints a report and a final `RESULT {json}` line.
//!
//! Usage: `memories_load --base http://127.0.0.1:PORT --admin-key KEY [--main 50000] ...`; with
//! `--print-queries 1` it only prints the measured search requests (to replay or EXPLAIN them).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Command-line options (all `--name value`).
#[derive(Debug, Clone)]
struct Opts {
    base: String,
    admin_key: String,
    label: String,
    others: usize,
    other_memories: usize,
    main: usize,
    singles: usize,
    searches: usize,
    writers: usize,
    /// Concurrent search clients; a list (`4,1`) measures the same searches once per count.
    search_clients: Vec<usize>,
    /// Open-loop search phases: queries sent at this many per second whatever the answers'
    /// pace, latency counted from each query's scheduled time (so a slow server is not hidden
    /// by the client waiting for it); one phase per rate.
    search_rates: Vec<usize>,
    limit: u32,
    seed: u64,
    max_secs: u64,
    /// Only search, as the account holding this key (data seeded by an earlier run).
    search_key: Option<String>,
    /// Print the measured search requests (one JSON line each) and exit: to replay or EXPLAIN them.
    print_queries: bool,
    /// A shell command run after seeding, before the searches (the script gathers PostgreSQL's
    /// statistics with it, as autovacuum would within a minute).
    before_search: Option<String>,
}

impl Opts {
    fn parse() -> Self {
        let mut o = Opts {
            base: String::new(),
            admin_key: std::env::var("WM_BENCH_ADMIN_KEY").unwrap_or_default(),
            label: "server".into(),
            others: 100,
            other_memories: 100,
            main: 50_000,
            singles: 2_000,
            searches: 2_000,
            writers: 4,
            search_clients: vec![4],
            search_rates: Vec::new(),
            limit: 20,
            seed: 42,
            max_secs: 1_800,
            search_key: None,
            print_queries: false,
            before_search: None,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        for pair in args.chunks(2) {
            let [name, value] = pair else { usage(&format!("missing value after {}", pair[0])) };
            let num = || value.parse::<usize>().unwrap_or_else(|_| usage(&format!("{name}: not a number")));
            let list = || -> Vec<usize> {
                value
                    .split(',')
                    .map(|n| n.trim().parse::<usize>().map(|n| n.max(1)))
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|_| usage(&format!("{name}: not a list of numbers")))
            };
            match name.as_str() {
                "--base" => o.base = value.trim_end_matches('/').to_owned(),
                "--admin-key" => o.admin_key = value.clone(),
                "--label" => o.label = value.clone(),
                "--others" => o.others = num(),
                "--other-memories" => o.other_memories = num(),
                "--main" => o.main = num(),
                "--singles" => o.singles = num(),
                "--searches" => o.searches = num(),
                "--writers" => o.writers = num().max(1),
                "--search-clients" => o.search_clients = list(),
                "--search-rates" => o.search_rates = if value.is_empty() { Vec::new() } else { list() },
                "--limit" => o.limit = u32::try_from(num()).unwrap_or(20),
                "--seed" => o.seed = num() as u64,
                "--max-secs" => o.max_secs = num() as u64,
                "--search-key" => o.search_key = Some(value.clone()),
                "--print-queries" => o.print_queries = value == "1" || value == "true",
                "--before-search" => o.before_search = Some(value.clone()),
                other => usage(&format!("unknown option {other}")),
            }
        }
        if o.print_queries {
            return o;
        }
        if o.base.is_empty() || o.admin_key.is_empty() {
            usage("--base and --admin-key (or WM_BENCH_ADMIN_KEY) are required");
        }
        let host = o.base.trim_start_matches("http://");
        if !(host.starts_with("127.0.0.1:") || host.starts_with("localhost:")) {
            usage("--base must be http://127.0.0.1:PORT");
        }
        o.singles = o.singles.min(o.main);
        o
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("memories_load: {msg}");
    eprintln!(
        "usage: memories_load --base http://127.0.0.1:PORT --admin-key KEY [--label L] [--others 100] \
         [--other-memories 100] [--main 50000] [--singles 2000] [--searches 2000] [--writers 4] \
         [--search-clients 4] [--search-rates 100,200] [--limit 20] [--seed 42] [--max-secs 1800] [--search-key KEY] \
         [--print-queries 1] [--before-search CMD]"
    );
    std::process::exit(2)
}

// ---------------------------------------------------------------------------------------------
// Deterministic data: a SplitMix64 generator, a Zipf-distributed vocabulary, memories, queries.

struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Real words first (the most frequent ranks), then generated ones for the long tail.
const COMMON: &[&str] = &[
    "deploy",
    "database",
    "user",
    "service",
    "api",
    "request",
    "error",
    "config",
    "release",
    "test",
    "cache",
    "query",
    "server",
    "client",
    "token",
    "memory",
    "search",
    "index",
    "migration",
    "schema",
    "latency",
    "timeout",
    "retry",
    "queue",
    "worker",
    "job",
    "build",
    "pipeline",
    "docker",
    "kubernetes",
    "cluster",
    "node",
    "network",
    "storage",
    "backup",
    "restore",
    "incident",
    "alert",
    "metric",
    "dashboard",
    "log",
    "trace",
    "customer",
    "invoice",
    "payment",
    "subscription",
    "plan",
    "billing",
    "email",
    "notification",
    "webhook",
    "session",
    "login",
    "password",
    "permission",
    "role",
    "admin",
    "account",
    "project",
    "team",
    "meeting",
    "decision",
    "design",
    "review",
    "refactor",
    "bug",
    "fix",
    "feature",
    "roadmap",
    "sprint",
    "estimate",
    "frontend",
    "backend",
    "mobile",
    "browser",
    "router",
    "handler",
    "endpoint",
    "payload",
    "response",
    "header",
    "cookie",
    "cors",
    "proxy",
    "certificate",
    "domain",
    "dns",
    "firewall",
    "secret",
    "vault",
    "rotation",
    "encryption",
    "hash",
    "signature",
    "audit",
    "compliance",
    "policy",
    "privacy",
    "export",
    "import",
    "report",
    "analytics",
    "experiment",
    "rollout",
    "rollback",
    "canary",
    "downtime",
    "outage",
    "postmortem",
    "runbook",
    "oncall",
    "escalation",
    "threshold",
    "capacity",
    "scaling",
    "replica",
    "shard",
    "partition",
    "transaction",
    "lock",
    "deadlock",
    "isolation",
    "consistency",
    "snapshot",
    "vacuum",
    "compaction",
    "throughput",
    "benchmark",
    "profile",
    "allocation",
    "leak",
    "thread",
    "async",
    "runtime",
    "compiler",
    "dependency",
    "upgrade",
    "version",
    "changelog",
    "license",
    "contract",
    "vendor",
    "budget",
    "hiring",
    "onboarding",
    "feedback",
    "interview",
    "mentor",
    "goal",
    "milestone",
    "deadline",
    "launch",
    "preference",
    "summary",
    "insight",
    "pattern",
    "heuristic",
    "lesson",
    "proven",
    "context",
    "agent",
    "prompt",
    "model",
    "embedding",
    "vector",
    "ranking",
    "relevance",
    "tokenizer",
    "dataset",
    "evaluation",
];

/// Stop words sprinkled into prose (never queried).
const GLUE: &[&str] = &["the", "a", "of", "and", "to", "in", "with", "for", "on", "is", "was", "after", "before"];

const TAGS: &[&str] = &[
    "deploy",
    "postgres",
    "sqlite",
    "incident",
    "decision",
    "frontend",
    "backend",
    "api",
    "security",
    "billing",
    "customer",
    "meeting",
    "todo",
    "idea",
    "bug",
    "performance",
    "infra",
    "release",
    "design",
    "research",
    "heuristic",
    "pattern",
    "proven",
    "insight",
    "user_preference",
    "project_alpha",
    "project_beta",
    "oncall",
    "docs",
    "testing",
    "hiring",
    "roadmap",
    "ml",
    "data",
    "mobile",
    "web",
    "legal",
    "finance",
    "support",
    "ops",
];

struct Vocab {
    words: Vec<String>,
    /// Cumulative Zipf–Mandelbrot weights over `words` (rank order).
    cdf: Vec<f64>,
    tag_cdf: Vec<f64>,
}

impl Vocab {
    fn new(size: usize) -> Self {
        const ONSETS: &[&str] =
            &["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr"];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
        let mut words: Vec<String> = COMMON.iter().map(|w| (*w).to_owned()).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        let mut rng = Rng::new(7, 7);
        while words.len() < size {
            let syllables = rng.range(2, 4);
            let mut w = String::new();
            for _ in 0..syllables {
                w.push_str(ONSETS[rng.below(ONSETS.len())]);
                w.push_str(VOWELS[rng.below(VOWELS.len())]);
            }
            if rng.chance(0.4) {
                w.push_str(["n", "r", "s", "x", "l"][rng.below(5)]);
            }
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        Vocab { cdf: zipf_cdf(words.len(), 30.0), tag_cdf: zipf_cdf(TAGS.len(), 1.0), words }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        &self.words[pick(&self.cdf, rng)]
    }

    fn tag(&self, rng: &mut Rng) -> &'static str {
        TAGS[pick(&self.tag_cdf, rng)]
    }

    /// `lo..=hi` words, some joined by stop words, capitalized.
    fn sentence(&self, rng: &mut Rng, lo: usize, hi: usize) -> String {
        let words = rng.range(lo, hi);
        let mut s = String::new();
        for i in 0..words {
            if i > 0 {
                s.push(' ');
                if rng.chance(0.3) {
                    s.push_str(GLUE[rng.below(GLUE.len())]);
                    s.push(' ');
                }
            }
            s.push_str(self.word(rng));
        }
        capitalize(&s)
    }

    /// A memory: title, 1–4 tags, a markdown body of ~300–700 bytes, sometimes long-term.
    fn memory(&self, rng: &mut Rng, n: usize) -> Value {
        let title = self.sentence(rng, 3, 8);
        let mut tags: Vec<&str> = Vec::new();
        for _ in 0..rng.range(1, 4) {
            let t = self.tag(rng);
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let mut body = format!("## {}\n\n", self.sentence(rng, 2, 5));
        for _ in 0..rng.range(2, 3) {
            body.push_str(&format!("{}. ", self.sentence(rng, 6, 14)));
        }
        body.push_str("\n\n");
        for _ in 0..rng.range(2, 4) {
            body.push_str(&format!("- {}\n", self.sentence(rng, 3, 7)));
        }
        body.push('\n');
        body.push_str(&format!("{}.\n", self.sentence(rng, 8, 16)));
        let kind = if rng.chance(0.15) { "long_term" } else { "short_term" };
        json!({ "title": title, "content": body, "tags": tags, "type": kind, "metadata": { "source": "bench", "n": n } })
    }

    /// A search request of a random kind, as (kind, body).
    fn query(&self, rng: &mut Rng, limit: u32) -> (&'static str, Value) {
        let roll = rng.unit();
        let (kind, text, tags) = if roll < 0.30 {
            ("word", self.word(rng).to_owned(), vec![])
        } else if roll < 0.55 {
            let n = rng.range(2, 3);
            ("words", (0..n).map(|_| self.word(rng).to_owned()).collect::<Vec<_>>().join(" "), vec![])
        } else if roll < 0.70 {
            // Two neighbouring words of a sentence the generator could have written.
            let s = self.sentence(rng, 2, 2).to_lowercase();
            ("phrase", format!("\"{s}\""), vec![])
        } else if roll < 0.85 {
            let w = self.word(rng);
            let cut = rng.range(3.min(w.len()), w.len().saturating_sub(1).max(3.min(w.len())));
            let prefix: String = w.chars().take(cut).collect();
            if rng.chance(0.5) {
                ("prefix", format!("{prefix}*"), vec![])
            } else {
                ("word+prefix", format!("{} {prefix}*", self.word(rng)), vec![])
            }
        } else {
            ("word+tag", self.word(rng).to_owned(), vec![self.tag(rng)])
        };
        (kind, json!({ "query": text, "tags": tags, "limit": limit }))
    }
}

/// Zipf–Mandelbrot weights `1 / (rank + q)`: the usual model of word frequencies. With the
/// vocabulary's content words (stop words are the separate `GLUE`), `q` flattens the head
/// so the most frequent word is in about a third of the memories, not in every one.
fn zipf_cdf(n: usize, q: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (0..n)
        .map(|r| {
            acc += 1.0 / (r as f64 + q);
            acc
        })
        .collect();
    let total = acc;
    cdf.iter_mut().for_each(|c| *c /= total);
    cdf
}

fn pick(cdf: &[f64], rng: &mut Rng) -> usize {
    let u = rng.unit();
    cdf.partition_point(|c| *c < u).min(cdf.len() - 1)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing and measurement.

struct Ctx {
    http: reqwest::Client,
    opts: Opts,
    vocab: Vocab,
    deadline: Instant,
    errors: AtomicUsize,
}

impl Ctx {
    /// POST `body` with `key`; (status, parsed body, latency).
    async fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value, Duration) {
        let started = Instant::now();
        let res = self.http.post(format!("{}{path}", self.opts.base)).bearer_auth(key).json(body).send().await;
        let (status, value) = match res {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({ "transport_error": e.to_string() })),
        };
        let took = started.elapsed();
        if !(200..300).contains(&status) {
            let n = self.errors.fetch_add(1, Ordering::Relaxed);
            if n < 5 {
                eprintln!("  ! POST {path} -> {status}: {}", truncate(&value.to_string(), 300));
            }
        }
        (status, value, took)
    }

    fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Runs jobs `0..n` on `clients` concurrent tasks; each returns a sample. Stops at the deadline.
async fn run_jobs<T, F, Fut>(ctx: &Arc<Ctx>, n: usize, clients: usize, job: F) -> (Vec<T>, Duration)
where
    T: Send + 'static,
    F: Fn(Arc<Ctx>, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (ctx, next, job) = (ctx.clone(), next.clone(), job.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || ctx.expired() {
                        break;
                    }
                    out.push(job(ctx.clone(), i).await);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.expect("worker panicked"));
    }
    (all, started.elapsed())
}

/// Runs searches `0..n` open loop: search `i` is sent at `i / rate` seconds whatever the pace
/// of the answers, and its latency runs from that scheduled time to the answer (a backlog
/// counts against the server, as it would for its users). Stops sending at the deadline.
async fn run_paced<F, Fut>(ctx: &Arc<Ctx>, n: usize, rate: usize, job: F) -> (Vec<SearchSample>, Duration)
where
    F: Fn(Arc<Ctx>, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = SearchSample> + Send + 'static,
{
    let job = Arc::new(job);
    let started = tokio::time::Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let due = started + period * i as u32;
        tokio::time::sleep_until(due).await;
        if ctx.expired() {
            break;
        }
        let (ctx, job) = (ctx.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            let (kind, ok, hits, _) = job(ctx, i).await;
            (kind, ok, hits, due.elapsed())
        }));
    }
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        all.push(t.await.expect("search task panicked"));
    }
    (all, started.elapsed())
}

/// One measured search: kind of query, 200 or not, hits, latency.
type SearchSample = (&'static str, bool, u64, Duration);

#[derive(Debug, Clone, Copy, Default)]
struct Pct {
    n: usize,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

fn percentiles(samples: &[Duration]) -> Pct {
    if samples.is_empty() {
        return Pct::default();
    }
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    Pct {
        n: ms.len(),
        p50: at(0.50),
        p90: at(0.90),
        p95: at(0.95),
        p99: at(0.99),
        max: ms[ms.len() - 1],
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
    }
}

fn pct_json(p: &Pct) -> Value {
    let r = |x: f64| (x * 100.0).round() / 100.0;
    json!({ "n": p.n, "p50_ms": r(p.p50), "p90_ms": r(p.p90), "p95_ms": r(p.p95), "p99_ms": r(p.p99), "max_ms": r(p.max), "mean_ms": r(p.mean) })
}

fn show(name: &str, p: &Pct) {
    println!(
        "  {name:<14} n={:<6} p50={:>7.2} p90={:>7.2} p95={:>7.2} p99={:>7.2} max={:>8.2} ms",
        p.n, p.p50, p.p90, p.p95, p.p99, p.max
    );
}

// ---------------------------------------------------------------------------------------------

/// One account: its id and API key.
#[derive(Clone)]
struct Account {
    key: String,
}

async fn create_accounts(ctx: &Arc<Ctx>, run: u64) -> Vec<Account> {
    let total = ctx.opts.others + 1;
    let (made, took) = run_jobs(ctx, total, ctx.opts.writers, move |ctx, i| async move {
        let admin = ctx.opts.admin_key.clone();
        let email = format!("bench-{run}-{i}@example.com");
        let (s, user, _) =
            ctx.post("/api/v1/admin/users", &admin, &json!({ "email": email, "plan": "enterprise" })).await;
        assert_eq!(s, 201, "create user {email}: {user}");
        let id = user["id"].as_str().expect("user id").to_owned();
        let (s, key, _) =
            ctx.post(&format!("/api/v1/admin/users/{id}/keys"), &admin, &json!({ "name": "bench" })).await;
        assert_eq!(s, 201, "create key for {email}: {key}");
        (i, Account { key: key["key"].as_str().expect("raw key").to_owned() })
    })
    .await;
    let mut made = made;
    made.sort_by_key(|(i, _)| *i);
    println!("accounts: {} created (users + keys) in {:.1} s", made.len(), took.as_secs_f64());
    made.into_iter().map(|(_, a)| a).collect()
}

/// Seeds `count` memories into `key`'s account in batches of 100: (memories created, elapsed, per-batch latencies).
async fn seed_batches(ctx: &Arc<Ctx>, jobs: Vec<(String, usize, usize)>) -> (usize, Duration, Vec<Duration>) {
    let jobs = Arc::new(jobs);
    let n = jobs.len();
    let (done, took) = run_jobs(ctx, n, ctx.opts.writers, move |ctx, i| {
        let jobs = jobs.clone();
        async move {
            let (key, stream, count) = &jobs[i];
            let mut rng = Rng::new(ctx.opts.seed, *stream as u64);
            let memories: Vec<Value> = (0..*count).map(|k| ctx.vocab.memory(&mut rng, stream * 1000 + k)).collect();
            let (s, _, lat) = ctx.post("/api/v1/memories/batch", key, &json!({ "memories": memories })).await;
            (if s == 201 { *count } else { 0 }, lat)
        }
    })
    .await;
    let created = done.iter().map(|(c, _)| c).sum();
    (created, took, done.into_iter().map(|(_, l)| l).collect())
}

/// Random stream of the measured searches (`--print-queries` prints the same ones).
const MEASURED_QUERIES: u64 = 3_000_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let opts = Opts::parse();
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let ctx = Arc::new(Ctx {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client"),
        deadline: Instant::now() + Duration::from_secs(opts.max_secs),
        vocab: Vocab::new(8_000),
        errors: AtomicUsize::new(0),
        opts,
    });
    let o = ctx.opts.clone();
    if o.print_queries {
        for i in 0..o.searches {
            let mut rng = Rng::new(o.seed, MEASURED_QUERIES + i as u64);
            let (kind, body) = ctx.vocab.query(&mut rng, o.limit);
            println!("{}", json!({ "kind": kind, "body": body }));
        }
        return;
    }
    println!(
        "== memories load [{}]: main account {} memories ({} as single creates), {} other accounts x {}, \
         {} searches, {} writers, {} search clients, open loop at {} searches/s",
        o.label,
        o.main,
        o.singles,
        o.others,
        o.other_memories,
        o.searches,
        o.writers,
        o.search_clients.iter().map(usize::to_string).collect::<Vec<_>>().join(" then "),
        o.search_rates.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
    );
    let mut result = json!({ "label": o.label, "params": {
        "main": o.main, "singles": o.singles, "others": o.others, "other_memories": o.other_memories,
        "searches": o.searches, "writers": o.writers, "search_clients": o.search_clients, "search_rates": o.search_rates, "limit": o.limit, "seed": o.seed,
    }});

    let main_key = if let Some(key) = o.search_key.clone() {
        println!("search only, on data seeded earlier");
        key
    } else {
        let accounts = create_accounts(&ctx, run).await;
        let (main, others) = accounts.split_first().expect("at least the main account");

        // Other accounts: `other_memories` each, in batches of up to 100.
        let mut jobs = Vec::new();
        for (a, acc) in others.iter().enumerate() {
            let mut left = o.other_memories;
            let mut b = 0;
            while left > 0 {
                let count = left.min(100);
                jobs.push((acc.key.clone(), 1_000_000 + a * 1_000 + b, count));
                left -= count;
                b += 1;
            }
        }
        let (created, took, _) = seed_batches(&ctx, jobs).await;
        let other_rate = created as f64 / took.as_secs_f64().max(1e-9);
        println!(
            "other accounts: {created} memories in {:.1} s = {other_rate:.0} memories/s (batches of 100)",
            took.as_secs_f64()
        );
        result["other_seed"] =
            json!({ "memories": created, "secs": took.as_secs_f64(), "per_sec": other_rate.round() });

        // Main account, batches: every batch is 100 memories (the last may be smaller).
        let batched = o.main - o.singles;
        let jobs: Vec<_> =
            (0..batched.div_ceil(100)).map(|b| (main.key.clone(), b, (batched - b * 100).min(100))).collect();
        let (created, took, lat) = seed_batches(&ctx, jobs).await;
        let batch_rate = created as f64 / took.as_secs_f64().max(1e-9);
        let batch_lat = percentiles(&lat);
        println!(
            "main account, batches of 100: {created} memories in {:.1} s = {batch_rate:.0} memories/s",
            took.as_secs_f64()
        );
        show("batch latency", &batch_lat);
        result["batch_create"] = json!({ "memories": created, "secs": took.as_secs_f64(), "per_sec": batch_rate.round(), "latency": pct_json(&batch_lat) });

        // Main account, single creates (the account ends at exactly `main` memories).
        let key = main.key.clone();
        let (singles, took) = run_jobs(&ctx, o.singles, o.writers, move |ctx, i| {
            let key = key.clone();
            async move {
                let mut rng = Rng::new(ctx.opts.seed, 500_000 + i as u64);
                let body = ctx.vocab.memory(&mut rng, 900_000 + i);
                let (s, _, lat) = ctx.post("/api/v1/memories", &key, &body).await;
                (s == 201, lat)
            }
        })
        .await;
        let ok = singles.iter().filter(|(ok, _)| *ok).count();
        let single_rate = ok as f64 / took.as_secs_f64().max(1e-9);
        let single_lat = percentiles(&singles.iter().map(|(_, l)| *l).collect::<Vec<_>>());
        println!(
            "main account, single POST /memories: {ok} in {:.1} s = {single_rate:.0} memories/s",
            took.as_secs_f64()
        );
        show("single latency", &single_lat);
        result["single_create"] = json!({ "memories": ok, "secs": took.as_secs_f64(), "per_sec": single_rate.round(), "latency": pct_json(&single_lat) });
        main.key.clone()
    };

    if let Some(cmd) = &o.before_search {
        let started = Instant::now();
        let status = std::process::Command::new("sh").arg("-c").arg(cmd).status().expect("run --before-search");
        assert!(status.success(), "--before-search failed: {status}");
        println!("before search: `{cmd}` in {:.1} s", started.elapsed().as_secs_f64());
    }

    // Search: warm-up (not measured), then the measured run.
    let search = |offset: u64| {
        let key = main_key.clone();
        move |ctx: Arc<Ctx>, i: usize| {
            let key = key.clone();
            async move {
                let mut rng = Rng::new(ctx.opts.seed, offset + i as u64);
                let (kind, body) = ctx.vocab.query(&mut rng, ctx.opts.limit);
                let (s, res, lat) = ctx.post("/api/v1/search", &key, &body).await;
                (kind, s == 200, res["count"].as_u64().unwrap_or(0), lat)
            }
        }
    };
    run_jobs(&ctx, o.searches.min(200), o.search_clients[0], search(2_000_000)).await;
    for (round, &clients) in o.search_clients.iter().enumerate() {
        let (found, took) = run_jobs(&ctx, o.searches, clients, search(MEASURED_QUERIES)).await;
        let mut summary = search_report(&found, took, &format!("{clients} clients"));
        summary["clients"] = json!(clients);
        result[if round == 0 { "search".to_owned() } else { format!("search_{clients}_clients") }] = summary;
    }
    for &rate in &o.search_rates {
        let (found, took) = run_paced(&ctx, o.searches, rate, search(MEASURED_QUERIES)).await;
        let mut summary = search_report(&found, took, &format!("open loop, {rate} queries/s offered"));
        summary["offered_per_sec"] = json!(rate);
        result[format!("search_at_{rate}_per_sec")] = summary;
    }

    let errors = ctx.errors.load(Ordering::Relaxed);
    result["errors"] = json!(errors);
    result["truncated"] = json!(ctx.expired());
    if ctx.expired() {
        println!("!! stopped at the --max-secs deadline: numbers cover only what ran");
    }
    println!("errors (non-2xx or transport): {errors}");
    println!("RESULT {result}");
    if errors > 0 {
        std::process::exit(1);
    }
}

/// Prints one measured search run (overall and by kind of query) and returns it as JSON.
fn search_report(found: &[SearchSample], took: Duration, how: &str) -> Value {
    let qps = found.len() as f64 / took.as_secs_f64().max(1e-9);
    let all = percentiles(&found.iter().map(|f| f.3).collect::<Vec<_>>());
    println!("search: {} queries in {:.1} s = {qps:.0} queries/s ({how})", found.len(), took.as_secs_f64());
    show("all", &all);
    let mut kinds: BTreeMap<&str, (Vec<Duration>, u64, usize)> = BTreeMap::new();
    for (kind, _, hits, lat) in found {
        let e = kinds.entry(kind).or_default();
        e.0.push(*lat);
        e.1 += hits;
        e.2 += usize::from(*hits == 0);
    }
    let mut by_kind = serde_json::Map::new();
    for (kind, (lats, hits, empty)) in &kinds {
        let p = percentiles(lats);
        show(kind, &p);
        let mut v = pct_json(&p);
        v["mean_hits"] = json!((*hits as f64 / lats.len() as f64 * 10.0).round() / 10.0);
        v["empty"] = json!(empty);
        by_kind.insert((*kind).to_owned(), v);
    }
    let failed = found.iter().filter(|f| !f.1).count();
    json!({ "queries": found.len(), "failed": failed, "secs": took.as_secs_f64(),
        "per_sec": qps.round(), "latency": pct_json(&all), "by_kind": by_kind })
}
