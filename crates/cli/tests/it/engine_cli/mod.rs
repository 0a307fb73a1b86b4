//! The `hownow` binary against a sandbox started in the test: connect --no-browser (the test
//! follows the printed link as the browser), sync, status, clients, history, disconnect, usage
//! errors, the demo, and no token in any output or file but the token store.
//!
//! The tests are in the submodules: the whole journey, connecting, and usage errors and the
//! demo; running `hownow` and connecting through the sandbox's pages, which they share, are here.

mod connect;
mod journey;
mod usage_and_demo;

use std::path::Path;
use std::process::Output;

use hownow_sandbox::browser::Browser;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

use crate::common::{self, DEADLINE};

/// The common command, logged at debug, the most the log files ever say: the journey's no-token
/// check reads them.
pub(super) fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut c = common::command(data_dir, args);
    c.env("HOWNOW_LOG", "debug");
    c
}

pub(super) struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub(super) async fn hownow(data_dir: &Path, args: &[&str]) -> Run {
    let output = tokio::time::timeout(DEADLINE, command(data_dir, args).output())
        .await
        .expect("hownow finished in time")
        .unwrap();
    Run::from(output)
}

/// `hownow connect --no-browser`: read the `Authorize:` line, play the browser, let it finish.
pub(super) async fn connect(data_dir: &Path, xero: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "connect",
        "--no-browser",
        "--port",
        "0",
        "--issuer",
        xero,
        "--api-base",
        xero,
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
    let mut stdout = String::new();
    let url = tokio::time::timeout(DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            stdout.push_str(&line);
            stdout.push('\n');
            if let Some(url) = line.strip_prefix("Authorize: ") {
                return url.to_string();
            }
        }
        panic!("hownow connect printed no Authorize: line; stdout: {stdout}");
    })
    .await
    .expect("the Authorize: line in time");
    let browser = Browser::new();
    let location = browser.authorize(&url, None, true).await.unwrap();
    assert_eq!(browser.land(&location).await.unwrap().0, 200);
    while let Some(line) = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let output = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let mut run = Run::from(output);
    run.stdout = stdout;
    run
}
