//! The conformance suite: behaviour every backend must show. Each backend crate runs it with
//! `wm_store::conformance_tests!(make_store)`, where `make_store` returns a migrated, empty store.

mod accounts;
mod schema;

pub use accounts::*;
pub use schema::*;

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
