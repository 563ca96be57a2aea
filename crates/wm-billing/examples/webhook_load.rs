//! Load generator for signed Stripe webhooks (a benchmark, not a test). Run by
//! `scripts/bench/webhooks` against a release `whitemagic serve`:
//!
//! ```text
//! webhook_load <base url> <stripe secret> <purchase|renewal|duplicate> <events> <concurrency> [run id]
//! ```
//!
//! - `purchase`: distinct `checkout.session.completed` events, each for a new customer (creates
//!   the account, a key and claim link, the customer link and the subscription);
//! - `renewal`: distinct `invoice.paid` renewals of the subscriptions a `purchase` run with the
//!   same run id created (updates the subscription);
//! - `duplicate`: one purchase event delivered again and again (exactly one has an effect).
//!
//! Every request is signed with the current time. Prints events/s and latency percentiles.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wm_billing::sign_stripe;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn purchase(run: &str, i: usize) -> Value {
    json!({
        "id": format!("evt_{run}_buy_{i}"), "object": "event", "type": "checkout.session.completed",
        "created": now(), "livemode": false,
        "data": { "object": {
            "id": format!("cs_{run}_{i}"), "object": "checkout.session", "customer": format!("cus_{run}_{i}"),
            "customer_details": { "email": format!("bench-{run}-{i}@example.com") },
            "subscription": format!("sub_{run}_{i}"), "payment_status": "paid",
            "line_items": { "data": [{ "price": { "id": "price_bench", "product": "prod_bench" } }] }
        } }
    })
}

fn renewal(run: &str, i: usize) -> Value {
    json!({
        "id": format!("evt_{run}_renew_{i}"), "object": "event", "type": "invoice.paid", "created": now(),
        "livemode": false,
        "data": { "object": {
            "id": format!("in_{run}_{i}"), "object": "invoice", "customer": format!("cus_{run}_{i}"),
            "subscription": format!("sub_{run}_{i}"), "billing_reason": "subscription_cycle", "status": "paid",
            "lines": { "data": [{ "price": { "id": "price_bench", "product": "prod_bench" },
                                  "period": { "end": now() + 60 * 86_400 } }] }
        } }
    })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: webhook_load <base> <secret> <purchase|renewal|duplicate> <events> <concurrency> [run id]");
        std::process::exit(2);
    }
    let (base, secret, mode) = (args[1].clone(), args[2].clone(), args[3].clone());
    let events: usize = args[4].parse().expect("events");
    let concurrency: usize = args[5].parse().expect("concurrency");
    let run = args.get(6).cloned().unwrap_or_else(|| format!("r{}", now()));
    let url = format!("{base}/webhooks/stripe");
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    let next = Arc::new(AtomicUsize::new(0));
    let statuses = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<String, usize>::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, secret, mode, run, next, statuses) =
                (http.clone(), url.clone(), secret.clone(), mode.clone(), run.clone(), next.clone(), statuses.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= events {
                        return latencies;
                    }
                    let event = match mode.as_str() {
                        "purchase" => purchase(&run, i),
                        "renewal" => renewal(&run, i),
                        _ => purchase(&run, 0),
                    };
                    let body = serde_json::to_vec(&event).expect("json");
                    let sig = sign_stripe(&body, &secret, now());
                    let t = Instant::now();
                    let res = http
                        .post(&url)
                        .header("stripe-signature", sig)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    latencies.push(t.elapsed());
                    let key = match res {
                        Ok(r) if r.status().is_success() => {
                            let v: Value = r.json().await.unwrap_or(Value::Null);
                            v["status"].as_str().unwrap_or("?").to_owned()
                        }
                        Ok(r) => format!("http {}", r.status().as_u16()),
                        Err(e) => format!("error {e}"),
                    };
                    *statuses.lock().expect("lock").entry(key).or_default() += 1;
                }
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(events);
    for w in workers {
        latencies.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{mode}: {events} deliveries, concurrency {concurrency}, {:.2} s, {:.0} events/s, p50 {:.1} ms, p99 {:.1} ms, outcomes {:?}",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        statuses.lock().expect("lock"),
    );
}
