//! The inbox store suites of `inbox.rs` against a real redis-server and a real
//! three-master Redis Cluster.
//!
//! Run with the `inbox-redis` feature and `LEDGERHOOK_REDIS_URL` (from
//! `scripts/redis.sh start`) and/or `LEDGERHOOK_REDIS_CLUSTER_URLS` (comma-separated
//! node URLs, from `scripts/redis-cluster.sh start`); otherwise each test prints a note
//! and passes, so a plain `cargo test` works without Redis. With
//! `LEDGERHOOK_REQUIRE_REDIS=1` (as in CI) a skip is a failure. Each run line
//! (`ran against Redis: …` / `ran against Redis Cluster: …`) is counted by
//! `.ci/inbox.sh`.

/// Whether the Redis tests must run; a skip then fails.
fn required() -> bool {
    std::env::var("LEDGERHOOK_REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

#[cfg(not(feature = "inbox-redis"))]
#[test]
fn inbox_redis_tests_need_the_inbox_redis_feature() {
    assert!(
        !required(),
        "LEDGERHOOK_REQUIRE_REDIS=1 but the `inbox-redis` feature is off"
    );
    eprintln!("note: Redis inbox tests skipped (build with --features inbox-redis)");
}

#[cfg(feature = "inbox-redis")]
mod with_redis {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use ledgerhook::inbox::{InboxStore, RedisInbox, Retention};

    use super::required;
    use crate::inbox::{self as suites};

    fn env(var: &str, test: &str) -> Option<String> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Some(v),
            _ => {
                assert!(
                    !required(),
                    "LEDGERHOOK_REQUIRE_REDIS=1 but {var} is not set"
                );
                eprintln!("note: {test} skipped: set {var} to run it");
                None
            }
        }
    }

    /// A namespace no other test (or earlier run) uses.
    fn namespace(test: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!(
            "t{}-{nanos}-{}-{test}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    pub(crate) fn single(test: &str, retention: Retention) -> Option<Arc<dyn InboxStore>> {
        let url = env("LEDGERHOOK_REDIS_URL", test)?;
        Some(Arc::new(
            RedisInbox::open(&url, &namespace(test))
                .unwrap()
                .retention(retention),
        ))
    }

    pub(crate) fn cluster(test: &str, retention: Retention) -> Option<Arc<dyn InboxStore>> {
        let urls = env("LEDGERHOOK_REDIS_CLUSTER_URLS", test)?;
        let nodes: Vec<&str> = urls.split(',').collect();
        Some(Arc::new(
            RedisInbox::open_cluster(&nodes, &namespace(test))
                .unwrap()
                .retention(retention),
        ))
    }

    macro_rules! redis_suites {
        ($($name:ident => $suite:expr, $retention:expr;)*) => {
            mod single_server {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let Some(store) = single(stringify!($name), $retention) else { return };
                        let f = $suite;
                        f(store).await;
                        println!("ran against Redis: {}", stringify!($name));
                    }
                )*
            }
            mod cluster {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let Some(store) = cluster(stringify!($name), $retention) else { return };
                        let f = $suite;
                        f(store).await;
                        println!("ran against Redis Cluster: {}", stringify!($name));
                    }
                )*
            }
        };
    }

    redis_suites! {
        enqueued_delivered_acked => suites::suite_enqueued_delivered_acked, Retention::default();
        dedup_key_and_body => suites::suite_dedup_key_and_body, Retention::default();
        concurrent_duplicates_store_once => suites::suite_concurrent_duplicates_store_once, Retention::default();
        retried => |s: Arc<dyn InboxStore>| suites::suite_retried(s, false), Retention::default();
        dead_lettered_and_replayed => suites::suite_dead_lettered_and_replayed, Retention::default();
        reclaimed_after_crash => suites::suite_reclaimed_after_crash, Retention::default();
        released => suites::suite_released, Retention::default();
        extended => |s: Arc<dyn InboxStore>| suites::suite_extended(s, false), Retention::default();
        full => suites::suite_full, suites::small_retention();
        dead_letter_trim => suites::suite_dead_letter_trim, suites::trim_retention();
        worker_retries_then_succeeds => suites::suite_worker_retries_then_succeeds, Retention::default();
        worker_dead_letters_then_replay => suites::suite_worker_dead_letters_then_replay, Retention::default();
        worker_parse_failure_is_permanent => suites::suite_worker_parse_failure_is_permanent, Retention::default();
        worker_with_tower_service => suites::suite_worker_with_tower_service, Retention::default();
        worker_reclaims_after_a_crash => suite_worker_reclaims, Retention::default();
    }

    /// A worker takes over what a crashed consumer held (visibility timeout zero, so the
    /// test does not wait on the server's clock).
    async fn suite_worker_reclaims(store: Arc<dyn InboxStore>) {
        store.append(&suites::delivery("held")).await.unwrap();
        let held = store.read("crashed", 1).await.unwrap();
        assert_eq!(held.len(), 1);
        let rec = suites::Recorder::default();
        let report = suites::bounded(
            suites::quick_worker(&store, rec.handler())
                .concurrency(1)
                .visibility_timeout(Duration::ZERO)
                .run(suites::drained(Arc::clone(&store))),
        )
        .await;
        assert!(rec.runs("held") >= 1);
        assert!(report.reclaimed >= 1, "{report:?}");
        assert_eq!(store.stats().await.unwrap().depth, 0);
    }
}
