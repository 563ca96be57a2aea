//! Test support shared by WhiteMagic test suites.
//!
//! Tests talk to real services. `scripts/test` (or `scripts/services up` for a
//! manual run) starts a throwaway PostgreSQL and Redis and exports:
//!
//! - `WM_TEST_POSTGRES_URL`: admin URL of the PostgreSQL server; every test gets
//!   its own fresh database from [`fresh_postgres_url`].
//! - `WM_TEST_REDIS_URL`: the shared Redis server ([`redis_url`]).
//! - `WM_TEST_REDIS_SERVER`: path of `redis-server`, used by [`RedisServer`] for
//!   tests that need a private Redis they can kill and restart.
//!
//! Storage tests run on both backends with [`backend_tests!`].

mod backend;
mod postgres;
mod redis;
mod sqlite;

pub use backend::Backend;
pub use postgres::fresh_postgres_url;
pub use redis::{RedisServer, redis_url};
pub use sqlite::fresh_sqlite_url;

use std::net::{Ipv4Addr, TcpListener};

/// A free TCP port on 127.0.0.1.
///
/// Chosen below the kernel's ephemeral range (32768+), so that outgoing
/// connections never occupy it between this call and the moment a server
/// binds it (which matters for [`RedisServer::restart`] on the same port).
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let port = 15_000 + random_u16() % 17_000;
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("wm-testkit: cannot bind 127.0.0.1:0: {e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("wm-testkit: no local address: {e}")).port()
}

fn random_u16() -> u16 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u16::from_le_bytes([bytes[0], bytes[1]])
}

/// The value of a test environment variable, or a panic explaining how to get it.
fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!(
            "{name} is not set. Tests need the throwaway PostgreSQL and Redis: run them with \
             `scripts/test` (e.g. `scripts/test -p <crate>`), or start the services with \
             `eval \"$(scripts/services up)\"` and then run cargo in that shell."
        ),
    }
}

/// Runs one generated backend test on a fresh multi-thread runtime
/// (what `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` does),
/// so that crates using [`backend_tests!`] need no extra attribute setup.
#[doc(hidden)]
pub fn __run_backend_test<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("wm-testkit: cannot build a tokio runtime: {e}"))
        .block_on(test)
}

/// Runs each listed `async fn NAME(backend: Backend)` on both backends.
///
/// ```ignore
/// use wm_testkit::{Backend, backend_tests};
///
/// async fn stores_a_memory(backend: Backend) {
///     let url = backend.fresh_url().await;
///     // ...
/// }
///
/// backend_tests!(stores_a_memory);
/// ```
///
/// expands to `mod sqlite { #[test] fn stores_a_memory() }` and
/// `mod postgres { #[test] fn stores_a_memory() }`, each running the function on a
/// 2-worker multi-thread tokio runtime, so test names read
/// `sqlite::stores_a_memory` and `postgres::stores_a_memory`. The functions may
/// return `()` or a `Result` (as `#[test]` functions can). Use it once per module.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() -> impl ::std::process::Termination {
                    $crate::__run_backend_test(super::$name($crate::Backend::Sqlite))
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() -> impl ::std::process::Termination {
                    $crate::__run_backend_test(super::$name($crate::Backend::Postgres))
                }
            )*
        }
    };
}
