//! Connecting: a user with several practices must choose one, and the deep-link mode takes the
//! pasted link.

use std::path::Path;

use hownow_sandbox::browser::Browser;
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::{Sandbox, SandboxConfig, Switches};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::common::{sandbox, DEADLINE};

use super::{command, Run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_several_practices_needs_a_choice() {
    // u-2 sees two practices; without auto-consent the test logs in as u-2 via the pages.
    let sandbox = Sandbox::start(SandboxConfig {
        clients: 10,
        switches: Switches::unlimited(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // With auto-consent off, the CLI's link shows the login page; log in as u-3 (no privilege).
    let run = connect_as(dir.path(), &sandbox, "u-3", &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("Authorise 3rd Party Full Access"),
        "{}",
        run.stderr
    );
    let run = connect_as(dir.path(), &sandbox, "u-2", &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--tenant"), "{}", run.stderr);
    let run = connect_as(dir.path(), &sandbox, "u-2", &["--tenant", "Kōwhai Tax Partners"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Connected to Kōwhai Tax Partners"),
        "{}",
        run.stdout
    );
    sandbox.shutdown().await;
}

/// Like [`connect`], logging in and consenting as `user` on the sandbox's pages.
async fn connect_as(data_dir: &Path, sandbox: &Sandbox, user: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "connect",
        "--no-browser",
        "--port",
        "0",
        "--issuer",
        sandbox.issuer(),
        "--api-base",
        sandbox.api_base(),
        "--client-id",
        "hownow-cli-test",
    ];
    args.extend_from_slice(extra);
    let mut child = command(data_dir, &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("an Authorize: line");
        if let Some(url) = line.strip_prefix("Authorize: ") {
            break url.to_string();
        }
    };
    let browser = Browser::new();
    let location = browser.authorize(&url, Some(user), true).await.unwrap();
    browser.land(&location).await.unwrap();
    let mut stdout = String::new();
    while let Some(line) = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let mut run = Run::from(
        tokio::time::timeout(DEADLINE, child.wait_with_output())
            .await
            .unwrap()
            .unwrap(),
    );
    run.stdout = stdout;
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_in_deep_link_mode_takes_the_pasted_link() {
    use tokio::io::AsyncWriteExt as _;
    let sandbox = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(
        dir.path(),
        &[
            "connect",
            "--no-browser",
            "--redirect",
            "deeplink",
            "--issuer",
            sandbox.issuer(),
            "--api-base",
            sandbox.api_base(),
            "--client-id",
            "hownow-cli-test",
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("an Authorize: line");
        if let Some(url) = line.strip_prefix("Authorize: ") {
            break url.to_string();
        }
    };
    assert!(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1"), "{url}");
    let browser = Browser::new();
    let bounce = browser.authorize(&url, None, true).await.unwrap();
    assert!(
        bounce.starts_with(&format!("{}/bounce?", sandbox.issuer())),
        "{bounce}"
    );
    let link = browser.deep_link(&bounce).await.unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A forged link first: refused, and the real one still works.
    let forged = link.replace("state=", "state=x");
    stdin
        .write_all(format!("{forged}\n{link}\n").as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    let mut stdout = String::new();
    while let Some(line) = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let run = Run::from(
        tokio::time::timeout(DEADLINE, child.wait_with_output())
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("That link was not accepted"),
        "{}",
        run.stderr
    );
    assert!(
        stdout.contains(&format!("Connected to {}", DEMO_PRACTICE.name)),
        "{stdout}"
    );
    sandbox.shutdown().await;
}
