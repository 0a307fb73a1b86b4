//! Usage errors exit 2 and failures exit 1 in one sentence; the demo tells what happened.

use hownow_sandbox::tenants::DEMO_PRACTICE;
use tokio::process::Command;

use crate::common::{BIN, DEADLINE};

use super::{hownow, Run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_failures_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for args in [
        &["sync"][..],
        &["sync", "--changes", "--all"],
        &["clients", "--format", "xml"],
        &["no-such-command"],
        &["connect", "--redirect", "carrier-pigeon"],
    ] {
        let run = hownow(data, args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty());
    }
    // No client id configured: a usage error that says what to pass.
    let run = hownow(
        data,
        &["connect", "--no-browser", "--issuer", "http://127.0.0.1:9"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--client-id"), "{}", run.stderr);
    // Nothing connected: a failure in one sentence.
    let run = hownow(data, &["sync", "--changes"]).await;
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr
            .trim()
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "{}",
        run.stderr
    );
    let run = hownow(data, &["status"]).await;
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("No practice is connected yet"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_tells_what_happened() {
    let output = tokio::time::timeout(
        DEADLINE,
        Command::new(BIN)
            .args(["demo", "--clients", "50"])
            .env_remove("HOWNOW_DATA_DIR")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let run = Run::from(output);
    assert_eq!(run.code, 0, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("50 clients received"), "{out}");
    assert!(
        out.contains(&format!("connected to {}", DEMO_PRACTICE.name)),
        "{out}"
    );
    assert_eq!(out.matches("   ✓ ").count(), 6, "{out}");
    assert_eq!(out.matches("the contact sweep caught it").count(), 2, "{out}");
    assert_eq!(out.matches("XPM's modifiedsince reported it").count(), 4, "{out}");
    assert!(out.contains("would have missed 2 of these 6 changes"), "{out}");
    assert!(!out.contains('✗'), "{out}");
    assert!(out.lines().count() <= 26, "the output stays short:\n{out}");
}
