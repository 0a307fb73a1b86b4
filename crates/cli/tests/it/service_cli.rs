//! `hownow service install | status | uninstall` for real on Linux, in a throwaway
//! XDG_CONFIG_HOME: once with the machine's own systemctl and no user manager to reach (as in
//! CI, root with no session), once with a stand-in systemctl that records what it is asked.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::BIN;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Home {
    _dir: tempfile::TempDir,
    config: PathBuf,
    runtime: PathBuf,
    data: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let runtime = dir.path().join("runtime");
        std::fs::create_dir(&runtime).unwrap();
        Home {
            data: dir.path().join("data"),
            config,
            runtime,
            _dir: dir,
        }
    }

    fn unit(&self) -> PathBuf {
        self.config.join("systemd/user/hownow.service")
    }

    /// `hownow --data-dir DATA ARGS…` with no way to the session's user manager: an empty
    /// runtime dir and no session bus address.
    fn hownow(&self, args: &[&str], systemctl: Option<&Path>) -> Run {
        let mut c = Command::new(BIN);
        c.arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .env("XDG_CONFIG_HOME", &self.config)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("HOWNOW_DATA_DIR")
            .env_remove("HOWNOW_SYSTEMCTL");
        if let Some(systemctl) = systemctl {
            c.env("HOWNOW_SYSTEMCTL", systemctl);
        }
        let out = c.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[test]
fn install_without_a_user_manager_writes_the_unit_and_says_how_to_start_it() {
    let home = Home::new();
    let exe = std::fs::canonicalize(BIN).unwrap();
    let install = home.hownow(&["service", "install"], None);
    assert_eq!(install.code, 0, "{}{}", install.stdout, install.stderr);
    let unit = std::fs::read_to_string(home.unit()).unwrap();
    let exec = format!(
        "ExecStart={} --data-dir {} service run",
        exe.display(),
        home.data.display()
    );
    assert!(unit.lines().any(|l| l == exec), "{exec} not in\n{unit}");
    assert!(unit
        .lines()
        .any(|l| l == format!("ReadWritePaths={}", home.data.display())));
    assert!(home.data.is_dir(), "the data dir the unit makes writable exists");
    let out = &install.stdout;
    assert!(out.contains(&format!("Wrote {}", home.unit().display())), "{out}");
    assert!(
        out.contains("Not started: the systemd user manager is not running here"),
        "{out}"
    );
    assert!(out.contains("systemctl --user daemon-reload"), "{out}");
    assert!(
        out.contains("systemctl --user enable --now hownow.service"),
        "{out}"
    );
    assert!(out.contains("loginctl enable-linger"), "{out}");
    // The keychain is the data dir's choice: the output says what a service without one needs.
    assert!(out.contains("OS keychain"), "{out}");
    assert!(out.contains("--insecure-storage"), "{out}");

    // systemd's own check of the file as written.
    let verify = Command::new("/usr/bin/systemd-analyze")
        .arg("verify")
        .arg(home.unit())
        .output()
        .expect("systemd-analyze (the systemd package, cargo xtask setup)");
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    let status = home.hownow(&["service", "status"], None);
    assert_eq!(status.code, 0);
    assert!(
        status
            .stdout
            .contains(&format!("Installed: {}", home.unit().display())),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains(&exec), "{}", status.stdout);
    assert!(status.stdout.contains("is not running here"), "{}", status.stdout);

    let uninstall = home.hownow(&["service", "uninstall"], None);
    assert_eq!(uninstall.code, 0, "{}", uninstall.stderr);
    assert!(!home.unit().exists());
    assert!(uninstall.stdout.contains("Removed"), "{}", uninstall.stdout);
    let status = home.hownow(&["service", "status"], None);
    assert!(status.stdout.contains("Not installed"), "{}", status.stdout);
    let again = home.hownow(&["service", "uninstall"], None);
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains("Not installed"), "{}", again.stdout);
}

/// A systemctl that answers every question with success and writes its arguments down.
fn recording_systemctl(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("systemctl.log");
    let script = dir.join("systemctl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$*\" in *is-active*) echo active;; *is-enabled*) echo enabled;; esac\nexit 0\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

#[test]
fn with_a_user_manager_install_enables_and_starts_and_uninstall_stops() {
    let home = Home::new();
    let tools = tempfile::tempdir().unwrap();
    let (systemctl, log) = recording_systemctl(tools.path());
    let calls = || std::fs::read_to_string(&log).unwrap_or_default();

    let install = home.hownow(
        &["--insecure-storage", "service", "install", "--user"],
        Some(&systemctl),
    );
    assert_eq!(install.code, 0, "{}{}", install.stdout, install.stderr);
    assert_eq!(
        calls(),
        "--user show-environment\n--user daemon-reload\n--user enable --now hownow.service\n"
    );
    assert!(
        install
            .stdout
            .contains("Enabled and started with the systemd user manager"),
        "{}",
        install.stdout
    );
    // The insecure storage choice is named, with the file the service reads the token from.
    assert!(
        install.stdout.contains(&format!(
            "insecure storage choice (--insecure-storage): the Xero refresh token is kept in {}",
            home.data.join("credentials.json").display()
        )),
        "{}",
        install.stdout
    );
    let unit = std::fs::read_to_string(home.unit()).unwrap();
    assert!(unit.contains(" --insecure-storage service run\n"), "{unit}");

    // Installing again replaces the unit and restarts it with the new command line.
    std::fs::write(&log, "").unwrap();
    let again = home.hownow(&["service", "install"], Some(&systemctl));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        calls(),
        "--user show-environment\n--user disable --now hownow.service\n--user daemon-reload\n--user enable --now hownow.service\n"
    );

    std::fs::write(&log, "").unwrap();
    let status = home.hownow(&["service", "status"], Some(&systemctl));
    assert!(
        status.stdout.contains("is-enabled hownow.service: enabled"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("is-active hownow.service: active"),
        "{}",
        status.stdout
    );

    std::fs::write(&log, "").unwrap();
    let uninstall = home.hownow(&["service", "uninstall"], Some(&systemctl));
    assert_eq!(uninstall.code, 0, "{}", uninstall.stderr);
    assert_eq!(
        calls(),
        "--user show-environment\n--user disable --now hownow.service\n--user daemon-reload\n"
    );
    assert!(!home.unit().exists());
}

#[test]
fn user_and_system_are_exclusive() {
    let home = Home::new();
    let both = home.hownow(&["service", "install", "--user", "--system"], None);
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(!home.unit().exists());
}
