//! `cargo xtask <command>`: the project's automation, in Rust so it needs nothing but cargo.
//!
//! * `setup`: install the Debian/Ubuntu packages the build and tests need (with `sudo` when not
//!   root). Other systems get a list of what to install by hand.
//! * `run [ARGS…]`: set up, then run the desktop app (on the Demo practice unless a Xero client id
//!   is configured); with arguments, the `hownow` CLI with them (`cargo xtask run demo`).
//! * `test`: set up, then `cargo fmt --check`, `cargo clippy -D warnings`, every test, the UI's
//!   unit tests (Node), the Secret Service test in a private D-Bus session, and the desktop app's
//!   end-to-end test.
//! * `e2e`: only the desktop app's end-to-end test in its real window (Xvfb, D-Bus, tauri-driver).
//! * `bench`: run the benchmarks behind BENCHMARKS.md.
//! * `bundle`: build the desktop app's `.deb` with the Tauri CLI (installed when missing).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Debian packages needed to build and test the workspace. Kept in one place so the README, CI and
/// a developer's machine agree.
const PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "curl",
    // Credential tests against a real Secret Service.
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    // The desktop app (Tauri 2 on WebKitGTK, with a tray icon).
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    // Its end-to-end test: a virtual display, WebKitGTK's WebDriver, deep-link registration.
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "xdg-utils",
    "desktop-file-utils",
    // The UI's unit tests run on Node's built-in test runner (no npm packages).
    "nodejs",
    // `systemd-analyze verify` checks the unit `hownow service install` writes.
    "systemd",
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r.to_vec()),
        None => ("help", Vec::new()),
    };
    let result = match cmd {
        "setup" => setup(),
        "run" => setup().and_then(|_| run(&rest)),
        "test" => setup().and_then(|_| test(&rest)),
        "bench" => bench(&rest),
        "e2e" => setup().and_then(|_| desktop_e2e()),
        "bundle" => setup().and_then(|_| bundle()),
        "help" | "--help" | "-h" => {
            println!("usage: cargo xtask <setup|run|test|e2e|bench|bundle> [args…]");
            Ok(())
        }
        other => Err(format!(
            "unknown xtask command `{other}` (try: setup, run, test, e2e, bench, bundle)"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn status(mut cmd: Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    eprintln!("xtask: $ {shown}");
    let st = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({st})"))
    }
}

fn is_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn setup() -> Result<(), String> {
    if !Path::new("/usr/bin/apt-get").exists() {
        eprintln!(
            "xtask: not a Debian/Ubuntu system; install by hand the equivalents of: {}",
            PACKAGES.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing missing packages: {}", missing.join(" "));
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut c = if is_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        c
    };
    status(apt(&["update", "-q"]))?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(&missing);
    status(apt(&install))
}

fn run(args: &[String]) -> Result<(), String> {
    let mut c = cargo();
    if args.is_empty() {
        c.args(["run", "--quiet", "--package", "hownow-admin"]);
        return status(c);
    }
    c.args([
        "run",
        "--quiet",
        "--package",
        "hownow-cli",
        "--bin",
        "hownow",
        "--",
    ]);
    c.args(args);
    status(c)
}

fn test(extra: &[String]) -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    status(fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    status(clippy)?;
    let mut tests = cargo();
    tests.args(["test", "--workspace"]).args(extra);
    status(tests)?;
    ui_tests()?;
    secret_service_test()?;
    desktop_e2e()
}

/// The UI's DOM-free modules, under Node's built-in test runner.
fn ui_tests() -> Result<(), String> {
    let mut c = Command::new("node");
    c.current_dir(root()).args(["--test", "ui/tests/"]);
    status(c)
}

/// The tauri-driver version the end-to-end test is written against.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

fn tauri_driver() -> Option<PathBuf> {
    let home = env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"));
    env::var_os("PATH")
        .and_then(|p| {
            env::split_paths(&p)
                .map(|d| d.join("tauri-driver"))
                .find(|p| p.exists())
        })
        .or(home.filter(|p| p.exists()))
}

/// The desktop app's end-to-end test (`tests/e2e/`): the built app in a virtual display with its
/// own D-Bus session, driven through tauri-driver and WebKitWebDriver. Screenshots of each step
/// land in `artifacts/e2e/`.
fn desktop_e2e() -> Result<(), String> {
    let tools = [
        "/usr/bin/dbus-run-session",
        "/usr/bin/xvfb-run",
        "/usr/bin/WebKitWebDriver",
    ];
    if !cfg!(target_os = "linux") || !tools.iter().all(|t| Path::new(t).exists()) {
        eprintln!(
            "xtask: skipped the desktop end-to-end test (needs Linux, Xvfb, D-Bus and WebKitWebDriver)"
        );
        return Ok(());
    }
    if tauri_driver().is_none() {
        let mut install = cargo();
        install.args([
            "install",
            "tauri-driver",
            "--version",
            TAURI_DRIVER_VERSION,
            "--locked",
        ]);
        status(install)?;
    }
    // `test = false` keeps these targets out of `--all-targets`: lint them here.
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "-p",
        "hownow-admin",
        "--test",
        "e2e",
        "--test",
        "startup",
        "--",
        "-D",
        "warnings",
    ]);
    status(clippy)?;
    let mut c = Command::new("dbus-run-session");
    c.current_dir(root())
        .args(["--", "xvfb-run", "-a", "-s", "-screen 0 1280x900x24"])
        .arg(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "-p", "hownow-admin", "--test", "e2e"]);
    if let Some(driver) = tauri_driver() {
        c.env("TAURI_DRIVER", driver);
    }
    status(c)
}

/// The credential test that needs a real Secret Service (ignored by plain `cargo test`).
const SECRET_SERVICE_TEST: &str = "secrets::tests::keyring_store_against_a_real_secret_service";
/// The credential test that needs no session bus at all (ignored by plain `cargo test`).
const NO_SESSION_BUS_TEST: &str = "secrets::tests::keyring_store_without_a_session_bus_says_so";

/// Runs [`NO_SESSION_BUS_TEST`] without a session bus, then [`SECRET_SERVICE_TEST`] in a private
/// D-Bus session with a gnome-keyring unlocked in a throwaway data dir, so the developer's own
/// keyring is never touched.
fn secret_service_test() -> Result<(), String> {
    if cfg!(target_os = "linux") {
        let mut alone = cargo();
        alone
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .args(["test", "-p", "hownow-sync", "--lib", NO_SESSION_BUS_TEST, "--"])
            .args(["--exact", "--ignored"]);
        status(alone)?;
    }
    let tools = ["/usr/bin/dbus-run-session", "/usr/bin/gnome-keyring-daemon"];
    if !cfg!(target_os = "linux") || !tools.iter().all(|t| Path::new(t).exists()) {
        eprintln!("xtask: skipped the Secret Service test (needs dbus-run-session and gnome-keyring)");
        return Ok(());
    }
    let data = env::temp_dir().join(format!("hownow-keyring-{}", std::process::id()));
    std::fs::create_dir_all(&data).map_err(|e| format!("could not create {}: {e}", data.display()))?;
    // `$0` is cargo: the script gets it as its first argument rather than spliced into the text.
    let script = format!(
        "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
         \"$0\" test -p hownow-sync --lib {SECRET_SERVICE_TEST} -- --exact --ignored --test-threads=1"
    );
    let mut c = Command::new("dbus-run-session");
    c.current_dir(root())
        .env("XDG_DATA_HOME", &data)
        .args(["--", "sh", "-c", &script])
        .arg(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    let result = status(c);
    let _ = std::fs::remove_dir_all(&data);
    result
}

fn bench(args: &[String]) -> Result<(), String> {
    let mut c = cargo();
    // The desktop app has no Criterion benches; its startup is measured below, in a display.
    c.args(["bench", "--workspace", "--exclude", "hownow-admin"])
        .args(args);
    status(c)?;
    desktop_startup()
}

/// Startup time and idle memory of the desktop app (release build), for BENCHMARKS.md.
fn desktop_startup() -> Result<(), String> {
    if !cfg!(target_os = "linux") || !Path::new("/usr/bin/xvfb-run").exists() {
        eprintln!("xtask: skipped the desktop startup measurement (needs Linux and Xvfb)");
        return Ok(());
    }
    let mut c = Command::new("dbus-run-session");
    c.current_dir(root())
        .args(["--", "xvfb-run", "-a", "-s", "-screen 0 1280x900x24"])
        .arg(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--release", "-p", "hownow-admin", "--test", "startup"]);
    status(c)
}

/// Builds the desktop app's Debian package (`target/release/bundle/deb/`). Its desktop entry
/// passes the deep link to the app (`%u`, src-tauri/linux/hownow-admin.desktop).
fn bundle() -> Result<(), String> {
    let installed = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["tauri", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !installed {
        let mut install = cargo();
        install.args(["install", "tauri-cli", "--version", "^2", "--locked"]);
        status(install)?;
    }
    // The app is not a default member: name its package for the CLI's `cargo build`.
    let mut c = cargo();
    c.args(["tauri", "build", "--bundles", "deb", "--", "-p", "hownow-admin"]);
    status(c)
}

#[cfg(test)]
mod tests {
    use super::root;

    /// The hosted workflow cannot run here, so its promise is checked where it can be: its Linux
    /// job runs this machine's CI script, which runs the README's test command, and every
    /// platform the README names has a test job and an installer job.
    #[test]
    fn the_hosted_workflow_mirrors_the_local_ci() {
        let read = |path: &str| std::fs::read_to_string(root().join(path)).unwrap();
        let workflow = read(".github/workflows/ci.yml");
        let local = read(".ci/run");
        assert!(local.contains("exec cargo xtask test"), "{local}");
        assert!(
            workflow.contains("run: bash .ci/run"),
            "the Linux job runs .ci/run"
        );
        assert!(
            workflow.contains("run: cargo xtask test"),
            "macOS and Windows run the same command"
        );
        for os in ["ubuntu-24.04", "macos-14", "windows-2022"] {
            assert_eq!(
                workflow.matches(os).count(),
                2,
                "{os}: one test job and one installer job"
            );
        }
        let readme = read("README.md");
        assert!(
            readme.contains(".github/workflows/ci.yml"),
            "the README says where platforms are checked"
        );
    }
}
