//! `cargo xtask <command>`: the project's automation, in Rust so it needs nothing but cargo.
//!
//! * `setup`: install the Debian/Ubuntu packages the build and tests need (with `sudo` when not
//!   root). Other systems get a list of what to install by hand.
//! * `run [ARGS…]`: set up, then run the product (`hownow demo` until the desktop app lands).
//! * `test`: set up, then `cargo fmt --check`, `cargo clippy -D warnings` and every test.
//! * `bench`: run the benchmarks behind BENCHMARKS.md.

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
        "help" | "--help" | "-h" => {
            println!("usage: cargo xtask <setup|run|test|bench> [args…]");
            Ok(())
        }
        other => Err(format!(
            "unknown xtask command `{other}` (try: setup, run, test, bench)"
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
    c.args([
        "run",
        "--quiet",
        "--package",
        "hownow-cli",
        "--bin",
        "hownow",
        "--",
    ]);
    if args.is_empty() {
        c.arg("demo");
    } else {
        c.args(args);
    }
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
    secret_service_test()
}

/// The one credential test that needs a real Secret Service (skipped by plain `cargo test`).
const SECRET_SERVICE_TEST: &str = "secrets::tests::keyring_store_against_a_real_secret_service";

/// Runs [`SECRET_SERVICE_TEST`] in a private D-Bus session with a gnome-keyring unlocked in a
/// throwaway data dir, so the developer's own keyring is never touched.
fn secret_service_test() -> Result<(), String> {
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
         HOWNOW_TEST_SECRET_SERVICE=1 \"$0\" test -p hownow-sync --lib {SECRET_SERVICE_TEST} -- --exact --test-threads=1"
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
    c.args(["bench", "--workspace"]).args(args);
    status(c)
}
