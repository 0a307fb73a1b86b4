//! The client's spacing of request starts against the sandbox with Xero's budgets on (60 calls a
//! minute, 5,000 a day) and its burst limit switched on (two calls within a second: Xero is
//! observed to refuse bursts inside the minute's budget). At the default pace of one request a
//! second, a no-change changes sync meets no 429; without the spacing, the same sync does.
//! The same check on 15,000 clients (some 70 calls, over a minute) is bench (g) of
//! `benches/sandbox_sync.rs`: too long for a test.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sandbox_support::{api_config, start_with, Env, Options};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::Switches;
use hownow_sync::{RunKind, SyncReport, SyncSettings};
use hownow_xpm::{PracticeClient, RateLimits, StaticToken, XeroApi};

/// Enough clients for several contact pages, few enough that the paced run stays near ten
/// seconds.
const CLIENTS: usize = 1_500;
/// The calls a paced test may make in all stay well inside one minute's 60.
const VERIFY_PER_RUN: u32 = 4;
/// Bounds every run: a sync that outlives it is hung, not slow.
const HUNG: Duration = Duration::from_secs(120);

fn xero_limits() -> Switches {
    let switches = Switches {
        rate_limit_burst: Some(2),
        ..Switches::default()
    };
    assert_eq!(
        (switches.rate_limit_minute, switches.rate_limit_day),
        (Some(60), Some(5_000)),
        "Xero's documented budgets are on"
    );
    switches
}

async fn env() -> Env {
    start_with(Options {
        clients: CLIENTS,
        switches: xero_limits(),
        settings: SyncSettings {
            verify_per_run: VERIFY_PER_RUN,
            ..SyncSettings::default()
        },
        ..Options::default()
    })
    .await
}

/// The product's client with the production limits: 5 in flight, 60 a minute, starts a second
/// apart. Only the timeouts and retries are the tests' (quick, bounded).
fn paced_client(env: &Env) -> PracticeClient {
    let mut config = api_config(env.sandbox.api_base(), Duration::from_secs(10), 4);
    config.rate_limits = RateLimits::default();
    assert_eq!(config.rate_limits.min_spacing, Duration::from_secs(1));
    XeroApi::new(config)
        .unwrap()
        .practice(DEMO_PRACTICE.id, Arc::new(StaticToken::new(env.token.clone())))
}

async fn bounded(env: &mut Env, kind: RunKind) -> hownow_sync::Result<SyncReport> {
    tokio::time::timeout(HUNG, env.sync(kind))
        .await
        .unwrap_or_else(|_| panic!("a {kind:?} sync hung for {HUNG:?}"))
}

fn refused(env: &Env) -> u64 {
    env.handle().rate_limited_calls(DEMO_PRACTICE.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_changes_sync_at_one_request_a_second_meets_no_429() {
    let mut env = env().await;
    env.practice = paced_client(&env);
    bounded(&mut env, RunKind::Full).await.unwrap();
    assert_eq!(refused(&env), 0, "the initial full sync met a 429");

    let started = Instant::now();
    let report = bounded(&mut env, RunKind::Changes).await.unwrap();
    let elapsed = started.elapsed();
    let c = &report.counts;
    assert_eq!(refused(&env), 0, "the sandbox answered 429s: {c:?}");
    let pages = c.contacts_fetched.div_ceil(500).max(1);
    let distinct_calls = 1 + pages + c.refetched;
    assert_eq!(c.refetched, u64::from(VERIFY_PER_RUN), "{c:?}");
    assert!(pages >= 3, "several contact pages: {c:?}");
    assert_eq!(c.api_calls, distinct_calls, "no call was tried twice: {c:?}");
    assert_eq!(c.client_rows_written, 0, "nothing changed: {c:?}");
    // A lower bound only: the calls started a second apart, whatever else the run waited for.
    let paced = Duration::from_secs(distinct_calls - 1);
    assert!(elapsed >= paced, "{distinct_calls} calls in {elapsed:?}");
    println!("paced: {distinct_calls} calls in {elapsed:.1?}, no 429");
    env.assert_matches_sandbox();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_spacing_the_same_sync_meets_429s() {
    // The support client: the same limits but no spacing of its own. The full sync's two calls
    // are no burst; the changes sync's list and contact pages follow each other at once.
    let mut env = env().await;
    assert_eq!(
        hownow_xpm::RateLimits::default().min_spacing,
        Duration::from_secs(1),
        "the default the other test relies on"
    );
    bounded(&mut env, RunKind::Full).await.unwrap();
    let before = refused(&env);
    // The run may complete after waiting out the 429s, or give up on a call refused too often:
    // either way it met them, which is what pacing avoids.
    let outcome = bounded(&mut env, RunKind::Changes).await;
    let met = refused(&env) - before;
    println!("without spacing: {met} calls answered 429");
    assert!(
        met > 0,
        "the burst limit refused nothing (run: {:?})",
        outcome.map(|r| r.counts)
    );
}
