//! The conformance suite: behaviour every backend must show. Each backend crate runs it with
//! `wm_store::conformance_tests!(make_store)`, where `make_store` returns a migrated, empty store.

mod accounts;
mod billing;
mod memories;
mod plans;
mod schema;

pub use accounts::*;
pub use billing::*;
pub use memories::*;
pub use plans::*;
pub use schema::*;

/// Polls every future concurrently on the current task (so all of them have started before any
/// finishes) and returns their outputs in order.
pub(crate) async fn join_all<T>(futures: Vec<std::pin::Pin<Box<dyn Future<Output = T> + Send + '_>>>) -> Vec<T> {
    let mut pending: Vec<_> = futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(f) = slot
                && let std::task::Poll::Ready(r) = f.as_mut().poll(cx)
            {
                *out = Some(r);
                *slot = None;
            }
        }
        if pending.iter().all(Option::is_none) { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    done.into_iter().map(|r| r.expect("every future finished")).collect()
}

/// Expands to one `#[tokio::test]` per conformance case, each on a fresh store from `$make`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@cases $make;
            schema_migrations_round_trip,
            users_create_get_and_find,
            users_email_is_unique,
            users_list_pages_and_filters,
            users_update_patch,
            keys_insert_find_and_list,
            keys_are_scoped_to_their_user,
            keys_revoke,
            keys_rotate_sets_old_expiry,
            keys_touch_moves_forward_only,
            memories_crud_round_trip,
            memories_batch_insert_is_all_or_nothing,
            memories_concurrent_batches_all_succeed,
            memories_concurrent_creates_fail_alone,
            memories_import_outcomes,
            memories_touch_moves_forward_only,
            memories_are_isolated_by_owner,
            memories_list_filters,
            memories_list_sorts,
            memories_list_pagination_is_stable,
            memories_search_ranks_title_over_tags_over_body,
            memories_search_words_phrases_and_prefix,
            memories_search_prefix_matches_unstemmed_words,
            memories_search_filters_and_archived,
            memories_search_survives_nasty_queries,
            memories_search_follows_updates_and_deletes,
            memories_search_ranks_only_the_newest_candidates,
            memories_search_exact_when_candidates_cover_matches,
            memories_search_candidates_are_per_account,
            memories_concurrent_searches_all_answer,
            memories_tag_counts,
            memories_stats_counts,
            memories_stats_follow_every_write,
            memories_consolidation_apply_and_log,
            memories_quota_concurrent_creates_stop_at_the_limit,
            memories_quota_batch_is_all_or_nothing,
            memories_quota_storage_bytes,
            memories_quota_import_and_consolidation,
            billing_inbox_records_each_event_once,
            billing_apply_is_exactly_once_under_concurrency,
            billing_apply_rolls_back_everything_on_conflict,
            billing_guard_ignores_stale_and_detects_changes,
            billing_access_ends_exactly_once,
            billing_claim_tokens_are_single_use,
            billing_outbox_hands_each_email_to_one_worker,
            plans_are_seeded,
            plans_upsert_creates_and_replaces,
            usage_batches_add_up,
            usage_concurrent_batches_are_exact,
            usage_platform_counts,
            usage_by_account_sums_each_account,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $make().await;
                $crate::conformance::$case(&store).await;
            }
        )*
    };
}
