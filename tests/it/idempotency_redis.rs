//! The idempotency layer against a real redis-server.
//!
//! Runs only with the `redis` feature and `LEDGERHOOK_REDIS_URL` set (e.g. from
//! `scripts/redis.sh start`); otherwise each test prints a note and passes, so a plain
//! `cargo test` works without Redis. With `LEDGERHOOK_REQUIRE_REDIS=1` (as in CI) a skip
//! is a failure.

/// Whether the Redis tests must run; a skip then fails.
fn required() -> bool {
    std::env::var("LEDGERHOOK_REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

#[cfg(not(feature = "redis"))]
#[test]
fn redis_tests_need_the_redis_feature() {
    assert!(
        !required(),
        "LEDGERHOOK_REQUIRE_REDIS=1 but the `redis` feature is off: run with --features redis"
    );
    eprintln!("note: Redis idempotency tests skipped (build with --features redis)");
}

#[cfg(feature = "redis")]
mod with_redis {
    use std::sync::Arc;
    use std::time::Duration;

    use http::StatusCode;
    use ledgerhook::idempotency::{Begin, IdempotencyLayer, Outcome, RecordId, RedisStore, Store};
    use tower::ServiceExt;

    use super::required;
    use crate::idempotency::{
        self as suites, Handler, Time, delivery, is_duplicate, outcome, unique,
    };

    /// The server URL, or `None` (after printing why) when the tests should skip.
    fn url(test: &str) -> Option<String> {
        match std::env::var("LEDGERHOOK_REDIS_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    !required(),
                    "LEDGERHOOK_REQUIRE_REDIS=1 but LEDGERHOOK_REDIS_URL is not set"
                );
                eprintln!("note: {test} skipped: set LEDGERHOOK_REDIS_URL to run it");
                None
            }
        }
    }

    /// A store with its own connection and a prefix of its own for this test run.
    fn store(url: &str) -> Arc<dyn Store> {
        Arc::new(
            RedisStore::open(url)
                .unwrap()
                .key_prefix(format!("ledgerhook-test:{}:", std::process::id())),
        )
    }

    // Real time here (Redis expires keys on its own clock): the suites that let time pass
    // take `Time::Redis` and poll, with a bound, for Redis to have expired a short lease
    // or TTL.
    macro_rules! redis_suite {
        ($($name:ident => $suite:ident $(($time:expr))?),* $(,)?) => {$(
            #[tokio::test]
            async fn $name() {
                let Some(url) = url(stringify!($name)) else { return };
                suites::$suite(store(&url) $(, $time)?).await;
                println!("ran against Redis: {}", stringify!($name));
            }
        )*};
    }

    redis_suite! {
        redis_first_then_duplicate => suite_first_then_duplicate,
        redis_in_flight_is_409 => suite_in_flight_is_409,
        redis_failures_release_the_key => suite_failures_release_the_key,
        redis_client_errors_final_when_configured => suite_client_errors_final_when_configured,
        redis_completed_ttl_expires => suite_completed_ttl_expires(Time::Redis),
        redis_body_hash_window => suite_body_hash_window(Time::Redis),
        redis_lease_expires => suite_lease_expires(Time::Redis),
        redis_namespaces_and_key_sources => suite_namespaces_and_key_sources,
        redis_same_key_other_body_is_handled => suite_same_key_other_body_is_handled,
        redis_railz_samples_sharing_a_request_id => suite_railz_samples_sharing_a_request_id,
        redis_dropped_future_releases_its_claim => suite_dropped_future_releases_its_claim(Time::Redis),
    }

    #[tokio::test]
    async fn redis_records_are_per_namespace_key_and_digest() {
        let Some(url) = url("redis_records_are_per_namespace_key_and_digest") else {
            return;
        };
        let prefix = format!("ledgerhook-test:{}:", suites::run_id("layout"));
        let store = RedisStore::open(&url).unwrap().key_prefix(prefix.clone());
        let (a, b) = (
            RecordId::new("railz", "id:r-1:auth", b"body a"),
            RecordId::new("railz", "id:r-1:auth", b"body b"),
        );
        let elsewhere = RecordId::new("rootfi", "id:r-1:auth", b"body a");
        let Begin::Acquired { token, other_body } =
            store.try_begin(&a, Duration::from_secs(30)).await.unwrap()
        else {
            panic!("claimable");
        };
        assert!(!other_body);
        assert!(
            store
                .complete(&a, token, Duration::from_secs(30))
                .await
                .unwrap()
        );
        // Another body under the same key: a record of its own, reported as a reused key.
        assert!(matches!(
            store.try_begin(&b, Duration::from_secs(30)).await.unwrap(),
            Begin::Acquired {
                other_body: true,
                ..
            }
        ));
        // Another namespace: independent, nothing reused.
        assert!(matches!(
            store
                .try_begin(&elsewhere, Duration::from_secs(30))
                .await
                .unwrap(),
            Begin::Acquired {
                other_body: false,
                ..
            }
        ));
        assert_eq!(
            store.try_begin(&a, Duration::from_secs(30)).await.unwrap(),
            Begin::Completed
        );

        // The layout: one record per digest and one marker per key, in one hash slot.
        let admin = redis::Client::open(url.as_str()).unwrap();
        let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut admin)
            .await
            .unwrap();
        keys.sort();
        let expected = {
            let mut e = vec![
                format!("{prefix}{{railz:id:r-1:auth}}"),
                format!("{prefix}{{railz:id:r-1:auth}}#{}", a.digest_hex()),
                format!("{prefix}{{railz:id:r-1:auth}}#{}", b.digest_hex()),
                format!("{prefix}{{rootfi:id:r-1:auth}}"),
                format!("{prefix}{{rootfi:id:r-1:auth}}#{}", elsewhere.digest_hex()),
            ];
            e.sort();
            e
        };
        assert_eq!(keys, expected);
        let value: String = redis::cmd("GET")
            .arg(&expected[1])
            .query_async(&mut admin)
            .await
            .unwrap();
        assert!(value == "c" || value.starts_with("i:"), "{value}");
        println!("ran against Redis: redis_records_are_per_namespace_key_and_digest");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn redis_concurrent_same_key_runs_the_handler_once() {
        let Some(url) = url("redis_concurrent_same_key_runs_the_handler_once") else {
            return;
        };
        suites::suite_concurrent_same_key(vec![store(&url)], 64, 20).await;
        println!("ran against Redis: redis_concurrent_same_key_runs_the_handler_once");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn redis_two_instances_race_for_one_key() {
        let Some(url) = url("redis_two_instances_race_for_one_key") else {
            return;
        };
        // Two stores, two connections: as two receiver processes would have.
        suites::suite_concurrent_same_key(vec![store(&url), store(&url)], 64, 20).await;
        println!("ran against Redis: redis_two_instances_race_for_one_key");
    }

    #[tokio::test]
    async fn redis_duplicate_sent_to_the_other_instance_is_caught() {
        let Some(url) = url("redis_duplicate_sent_to_the_other_instance_is_caught") else {
            return;
        };
        let handler_a = Handler::ok();
        let handler_b = Handler::ok();
        let a = handler_a.behind(&IdempotencyLayer::from_arc(store(&url)));
        let b = handler_b.behind(&IdempotencyLayer::from_arc(store(&url)));
        let body = unique("two-instances");

        let first = a.clone().oneshot(delivery(&body)).await.unwrap();
        assert_eq!(outcome(&first), Some(Outcome::Processed));
        let on_b = b.clone().oneshot(delivery(&body)).await.unwrap();
        assert!(is_duplicate(&on_b), "{on_b:?}");
        assert_eq!((handler_a.calls(), handler_b.calls()), (1, 0));

        // And the other way round, for a fresh event.
        let body = unique("two-instances");
        assert_eq!(
            outcome(&b.oneshot(delivery(&body)).await.unwrap()),
            Some(Outcome::Processed)
        );
        assert!(is_duplicate(&a.oneshot(delivery(&body)).await.unwrap()));
        assert_eq!((handler_a.calls(), handler_b.calls()), (1, 1));
        println!("ran against Redis: redis_duplicate_sent_to_the_other_instance_is_caught");
    }

    #[tokio::test]
    async fn redis_store_reconnects_after_its_connection_is_killed() {
        let Some(url) = url("redis_store_reconnects_after_its_connection_is_killed") else {
            return;
        };
        // This store alone uses database 9, so its connection can be told apart from
        // those of the tests running alongside (which use database 0).
        let info = redis::IntoConnectionInfo::into_connection_info(url.as_str()).unwrap();
        let settings = info.redis_settings().clone().set_db(9);
        let client = redis::Client::open(info.set_redis_settings(settings)).unwrap();
        let store =
            RedisStore::new(client).key_prefix(format!("ledgerhook-test:{}:", std::process::id()));
        store.ping().await.unwrap();
        let handler = Handler::ok();
        let svc = handler.behind(&IdempotencyLayer::new(store.clone()));
        let body = unique("reconnect");
        svc.clone().oneshot(delivery(&body)).await.unwrap();

        // Kill the store's connection from another one, as a Redis restart would.
        let admin = redis::Client::open(url.as_str()).unwrap();
        let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut admin)
            .await
            .unwrap();
        let ids: Vec<&str> = clients
            .lines()
            .filter(|line| line.split(' ').any(|field| field == "db=9"))
            .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
            .collect();
        assert_eq!(ids.len(), 1, "{clients}");
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(ids[0])
            .query_async(&mut admin)
            .await
            .unwrap();
        assert_eq!(killed, 1);

        // At most a few answers fail (503) while the store notices and reconnects; then
        // the completed key is still known.
        let mut unavailable = 0;
        let res = loop {
            let res = svc.clone().oneshot(delivery(&body)).await.unwrap();
            if res.status() != StatusCode::SERVICE_UNAVAILABLE {
                break res;
            }
            unavailable += 1;
            assert!(unavailable < 20, "store did not reconnect");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(is_duplicate(&res), "{res:?}");
        assert_eq!(handler.calls(), 1);
        println!("ran against Redis: redis_store_reconnects_after_its_connection_is_killed");
    }
}
