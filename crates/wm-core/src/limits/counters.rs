//! `whitemagic_plan_requests_total{plan, outcome}`: counted per thread, published as sums.
//!
//! Every metered request counts once. Incrementing the registry's counter on every request
//! would have all cores write one cache line in turn (~0.13 µs a request on two busy cores,
//! docs/PERFORMANCE.md). Instead each thread counts the built-in plans on cache lines of its
//! own, and [`PlanCounters::publish`] adds the sums to the registered counters before every
//! `/metrics` render, so a scrape always sees every request counted so far.
//! Custom plans (rare) are counted in the registry directly.

use super::shard;
use super::{BUILTIN_PLANS, builtin_plan, plan_label};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock};
use wm_domain::plan::PlanName;

/// The `outcome` label, by slot.
const OUTCOMES: [&str; 2] = ["admitted", "limited"];

/// One thread's unpublished counts: `[plan][outcome]`, alone on its cache lines (128 bytes:
/// the adjacent-line prefetcher pairs lines).
#[derive(Default)]
#[repr(align(128))]
struct Pending([[AtomicU64; 2]; BUILTIN_PLANS.len()]);

/// The request counters of every plan.
pub(super) struct PlanCounters {
    pending: Box<[Pending]>,
    /// The built-in plans' counters, registered when first published.
    builtin: [OnceLock<[metrics::Counter; 2]>; BUILTIN_PLANS.len()],
    custom: RwLock<Vec<(PlanName, [metrics::Counter; 2])>>,
}

impl Default for PlanCounters {
    fn default() -> Self {
        Self {
            pending: (0..shard::COUNT).map(|_| Pending::default()).collect(),
            builtin: Default::default(),
            custom: RwLock::default(),
        }
    }
}

impl PlanCounters {
    /// Counts one request of `plan`, admitted or limited.
    pub fn count(&self, plan: &PlanName, admitted: bool) {
        let slot = usize::from(!admitted);
        if let Some(i) = builtin_plan(plan) {
            self.pending[shard::home()].0[i][slot].fetch_add(1, Ordering::Relaxed);
            return;
        }
        {
            let known = self.custom.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, counters)) = known.iter().find(|(p, _)| p == plan) {
                return counters[slot].increment(1);
            }
        }
        let counters = register(plan_label(plan));
        counters[slot].increment(1);
        self.custom.write().unwrap_or_else(PoisonError::into_inner).push((plan.clone(), counters));
    }

    /// Adds the built-in plans' counts since the last call to the registered counters.
    pub fn publish(&self) {
        for (i, counters) in self.builtin.iter().enumerate() {
            for slot in 0..OUTCOMES.len() {
                let n: u64 = self.pending.iter().map(|p| p.0[i][slot].swap(0, Ordering::Relaxed)).sum();
                if n > 0 {
                    let register_plan = || register(metrics::SharedString::const_str(BUILTIN_PLANS[i]));
                    counters.get_or_init(register_plan)[slot].increment(n);
                }
            }
        }
    }
}

fn register(label: metrics::SharedString) -> [metrics::Counter; 2] {
    OUTCOMES.map(
        |outcome| metrics::counter!("whitemagic_plan_requests_total", "plan" => label.clone(), "outcome" => outcome),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_exporter_prometheus::PrometheusBuilder;

    fn value(rendered: &str, plan: &str, outcome: &str) -> Option<u64> {
        let series = format!(r#"whitemagic_plan_requests_total{{plan="{plan}",outcome="{outcome}"}} "#);
        rendered.lines().find_map(|l| l.strip_prefix(&series)).map(|v| v.parse().unwrap())
    }

    #[test]
    fn counts_from_many_threads_are_published_exactly() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let counters = PlanCounters::default();
        let (free, custom) = (PlanName::free(), PlanName::parse("team-42").unwrap());
        metrics::with_local_recorder(&recorder, || {
            std::thread::scope(|s| {
                for _ in 0..2 * shard::COUNT {
                    s.spawn(|| (0..100).for_each(|i| counters.count(&free, i % 10 != 0)));
                }
            });
            // The recorder is this thread's: custom plans register when they first count.
            (0..100).for_each(|i| counters.count(&custom, i % 2 == 0));
            assert_eq!(value(&handle.render(), "free", "admitted"), None, "not published yet");
            counters.publish();
        });
        let threads = 2 * shard::COUNT as u64;
        let rendered = handle.render();
        assert_eq!(value(&rendered, "free", "admitted"), Some(90 * threads), "{rendered}");
        assert_eq!(value(&rendered, "free", "limited"), Some(10 * threads), "{rendered}");
        assert_eq!(value(&rendered, "team-42", "admitted"), Some(50), "{rendered}");
        assert_eq!(value(&rendered, "team-42", "limited"), Some(50), "{rendered}");
        assert_eq!(value(&rendered, "pro", "admitted"), None, "plans without requests have no series");

        counters.count(&free, true);
        counters.publish();
        counters.publish();
        assert_eq!(value(&handle.render(), "free", "admitted"), Some(90 * threads + 1), "published once");
    }
}
