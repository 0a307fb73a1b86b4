//! `hownow service install | uninstall | status`: where each OS keeps the service definition,
//! and the commands that hand it to the OS's service manager (systemd, launchd, Task
//! Scheduler). Each OS's [`Plan`] is built by plain code compiled everywhere; only the choice
//! of plan depends on the OS the binary runs on.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use hownow_sync::engine::{resolve_data_dir, CredentialStorage, EngineSettings};

use super::units::{self, ServiceSpec, LAUNCHD_LABEL, SERVICE_NAME, SYSTEM_DATA_DIR, SYSTEM_USER};
use crate::commands::common::{usage, Global};

/// The program `install` and friends run as systemctl. Tests point it at a stand-in, so they
/// never reach the machine's own service manager.
const ENV_SYSTEMCTL: &str = "HOWNOW_SYSTEMCTL";
/// A service manager that does not answer within this is taken as absent.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// One OS's service: the file that defines it and how to tell the manager.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Who manages it, for messages: "the systemd user manager".
    pub manager: String,
    pub file: PathBuf,
    pub content: Vec<u8>,
    /// Succeeds when the manager is there to talk to.
    pub probe: Vec<String>,
    /// After the file is written: load, enable and start.
    pub enable: Vec<Vec<String>>,
    /// Before the file is removed, and before a reinstall loads the new one (launchd refuses to
    /// load a label twice; a running service would keep the old command line): stop and disable,
    /// failures ignored (it may not be loaded).
    pub disable: Vec<Vec<String>>,
    /// After the file is removed.
    pub forget: Vec<Vec<String>>,
    /// Each prints one word or line of state.
    pub state: Vec<Vec<String>>,
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// systemd: `unit_dir/hownow.service`, managed through `systemctl [--user]`.
pub fn systemd_plan(spec: &ServiceSpec, unit_dir: &Path, systemctl: &str) -> Plan {
    let scope: &[&str] = if spec.system { &[] } else { &["--user"] };
    let ctl = |rest: &[&str]| -> Vec<String> {
        let mut c = vec![systemctl.to_string()];
        c.extend(words(scope));
        c.extend(words(rest));
        c
    };
    let unit = format!("{SERVICE_NAME}.service");
    Plan {
        manager: if spec.system {
            "the systemd system manager".into()
        } else {
            "the systemd user manager".into()
        },
        file: unit_dir.join(&unit),
        content: units::systemd_unit(spec).into_bytes(),
        probe: ctl(&["show-environment"]),
        enable: vec![ctl(&["daemon-reload"]), ctl(&["enable", "--now", &unit])],
        disable: vec![ctl(&["disable", "--now", &unit])],
        forget: vec![ctl(&["daemon-reload"])],
        state: vec![ctl(&["is-enabled", &unit]), ctl(&["is-active", &unit])],
    }
}

/// launchd: a LaunchAgent in `~/Library/LaunchAgents`, in the GUI session of `uid`.
pub fn launchd_plan(spec: &ServiceSpec, home: &Path, uid: &str) -> Plan {
    let file = home
        .join("Library/LaunchAgents")
        .join(format!("{LAUNCHD_LABEL}.plist"));
    let domain = format!("gui/{uid}");
    let target = format!("{domain}/{LAUNCHD_LABEL}");
    let path = file.display().to_string();
    Plan {
        manager: "launchd".into(),
        content: units::launchd_plist(spec).into_bytes(),
        probe: words(&["launchctl", "print", &domain]),
        enable: vec![words(&["launchctl", "bootstrap", &domain, &path])],
        disable: vec![words(&["launchctl", "bootout", &target])],
        forget: vec![],
        state: vec![words(&["launchctl", "print", &target])],
        file,
    }
}

/// Task Scheduler: the task XML kept in the data dir and registered with `schtasks`.
pub fn windows_plan(spec: &ServiceSpec, user: &str) -> Plan {
    let file = spec.data_dir.join(format!("{SERVICE_NAME}-task.xml"));
    let mut create = vec!["schtasks".to_string()];
    create.extend(units::schtasks_create(&file));
    Plan {
        manager: "Task Scheduler".into(),
        content: units::utf16_le(&units::windows_task_xml(spec, user)),
        probe: words(&["schtasks", "/Query", "/FO", "LIST"]),
        enable: vec![create, words(&["schtasks", "/Run", "/TN", SERVICE_NAME])],
        disable: vec![
            words(&["schtasks", "/End", "/TN", SERVICE_NAME]),
            words(&["schtasks", "/Delete", "/TN", SERVICE_NAME, "/F"]),
        ],
        forget: vec![],
        state: vec![words(&["schtasks", "/Query", "/TN", SERVICE_NAME, "/FO", "LIST"])],
        file,
    }
}

/// `--user` (the default) or `--system`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Scope {
    /// Run as you, from your data dir (the default).
    #[arg(long, conflicts_with = "system")]
    pub user: bool,
    /// Linux: a system service that runs as its own `hownow` user with its own data dir
    /// (/var/lib/hownow); needs root.
    #[arg(long)]
    pub system: bool,
}

fn absolute(path: PathBuf) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() {
        path
    } else {
        std::env::current_dir()?.join(path)
    })
}

fn spec(global: &Global, scope: Scope) -> anyhow::Result<ServiceSpec> {
    let exe = std::env::current_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let data_dir = match (&global.data_dir, scope.system) {
        (Some(dir), _) => dir.clone(),
        (None, true) => PathBuf::from(SYSTEM_DATA_DIR),
        (None, false) => resolve_data_dir(None)?,
    };
    Ok(ServiceSpec {
        exe,
        data_dir: absolute(data_dir)?,
        // A system account has no keychain at all.
        insecure_storage: global.insecure_storage || scope.system,
        system: scope.system,
    })
}

/// This OS's plan, or why there is none.
fn plan(spec: &ServiceSpec) -> anyhow::Result<Plan> {
    if cfg!(target_os = "linux") {
        let dir = if spec.system {
            PathBuf::from("/etc/systemd/system")
        } else {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .or_else(|| dirs_home().map(|h| h.join(".config")))
                .ok_or_else(|| anyhow::anyhow!("neither XDG_CONFIG_HOME nor HOME is set"))?;
            config.join("systemd/user")
        };
        let systemctl = std::env::var(ENV_SYSTEMCTL).unwrap_or_else(|_| "systemctl".into());
        return Ok(systemd_plan(spec, &dir, &systemctl));
    }
    if spec.system {
        return Err(usage(
            "--system is for Linux (systemd); here the service runs as you: leave out --system",
        ));
    }
    if cfg!(target_os = "macos") {
        let home = dirs_home().ok_or_else(|| anyhow::anyhow!("HOME is not set"))?;
        let uid = output_line(&words(&["id", "-u"])).unwrap_or_else(|| "501".into());
        return Ok(launchd_plan(spec, &home, &uid));
    }
    if cfg!(windows) {
        let user = match (std::env::var("USERDOMAIN"), std::env::var("USERNAME")) {
            (Ok(domain), Ok(name)) => format!("{domain}\\{name}"),
            (_, Ok(name)) => name,
            _ => anyhow::bail!("USERNAME is not set"),
        };
        return Ok(windows_plan(spec, &user));
    }
    Err(usage(
        "hownow service knows systemd, launchd and Task Scheduler; run `hownow service run` from this system's own service manager",
    ))
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// Runs `command` with a deadline; `None` when it could not start or did not finish in time.
fn run_bounded(command: &[String]) -> Option<std::process::Output> {
    let (program, args) = command.split_first()?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return None,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn succeeds(command: &[String]) -> bool {
    run_bounded(command).is_some_and(|o| o.status.success())
}

fn output_line(command: &[String]) -> Option<String> {
    let out = run_bounded(command)?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn shell_line(command: &[String]) -> String {
    command
        .iter()
        .map(|w| {
            if w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:@".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the service does with the Xero refresh token: the one thing that differs between a
/// desktop and a machine where nobody logs in.
fn credentials_note(spec: &ServiceSpec) -> String {
    let saved = EngineSettings::load(&spec.data_dir)
        .map(|s| s.credential_storage)
        .unwrap_or_default();
    if spec.insecure_storage || saved == CredentialStorage::File {
        format!(
            "Credentials: a service has no desktop keychain, so it uses the insecure storage choice (--insecure-storage): the Xero refresh token is kept in {}, a 0600 file that anyone who can read this account's files can read.",
            spec.data_dir.join("credentials.json").display()
        )
    } else {
        "Credentials: this data dir keeps the Xero refresh token in the OS keychain, which a service reaches only while you are logged in. On a machine where nobody logs in, use the insecure storage choice instead: `hownow --insecure-storage connect`, then `hownow --insecure-storage service install` (the token then lives in a 0600 file in the data dir).".into()
    }
}

pub fn install(global: &Global, scope: Scope) -> anyhow::Result<ExitCode> {
    let spec = spec(global, scope)?;
    let plan = plan(&spec)?;
    if spec.system {
        prepare_system_account(&spec)?;
    } else {
        // The unit makes it writable (ReadWritePaths=), which fails on a folder not yet there.
        hownow_sync::private::private_dir(&spec.data_dir).map_err(|e| write_error(&spec.data_dir, e))?;
    }
    let reinstall = plan.file.exists();
    if let Some(dir) = plan.file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| write_error(&plan.file, e))?;
    }
    std::fs::write(&plan.file, &plan.content).map_err(|e| write_error(&plan.file, e))?;
    println!("Wrote {}", plan.file.display());
    println!(
        "It runs: {}",
        shell_line(
            &std::iter::once(spec.exe.display().to_string())
                .chain(spec.args())
                .collect::<Vec<_>>()
        )
    );
    println!("{}", credentials_note(&spec));
    if spec.system {
        println!(
            "Connect the service's data dir once, as its user: sudo -u {SYSTEM_USER} {} --data-dir {} --insecure-storage connect --no-browser",
            spec.exe.display(),
            spec.data_dir.display()
        );
    }
    if !succeeds(&plan.probe) {
        println!(
            "Not started: {} is not running here. Once it is, start the service with:",
            plan.manager
        );
        for command in &plan.enable {
            println!("  {}", shell_line(command));
        }
        if cfg!(target_os = "linux") && !spec.system {
            println!("To keep it running while nobody is logged in: loginctl enable-linger $USER");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if reinstall {
        for command in &plan.disable {
            let _ = run_bounded(command);
        }
    }
    for command in &plan.enable {
        let out = run_bounded(command);
        if !out.as_ref().is_some_and(|o| o.status.success()) {
            let detail = out
                .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
                .unwrap_or_else(|| "it did not finish".into());
            anyhow::bail!(
                "the file is written, but `{}` failed: {detail}",
                shell_line(command)
            );
        }
    }
    println!("Enabled and started with {}.", plan.manager);
    Ok(ExitCode::SUCCESS)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn write_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        anyhow::anyhow!(
            "could not write {}: permission denied (a --system service needs root: sudo)",
            path.display()
        )
    } else {
        anyhow::anyhow!("could not write {}: {e}", path.display())
    }
}

/// The dedicated account and its data dir, made before the first start so the administrator can
/// connect the data dir as that account (systemd's StateDirectory= makes it only at start).
fn prepare_system_account(spec: &ServiceSpec) -> anyhow::Result<()> {
    let id = |flag: &str| output_line(&words(&["id", flag, SYSTEM_USER]));
    if id("-u").is_none() {
        let add = words(&[
            "useradd",
            "--system",
            "--user-group",
            "--home-dir",
            SYSTEM_DATA_DIR,
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ]);
        if !succeeds(&add) {
            anyhow::bail!(
                "could not create the {SYSTEM_USER} account (`{}`); a --system service needs root: sudo",
                shell_line(&add)
            );
        }
        println!("Created the system account {SYSTEM_USER}.");
    }
    hownow_sync::private::private_dir(&spec.data_dir).map_err(|e| write_error(&spec.data_dir, e))?;
    #[cfg(unix)]
    {
        let (uid, gid) = match (id("-u"), id("-g")) {
            (Some(u), Some(g)) => (u.parse::<u32>()?, g.parse::<u32>()?),
            _ => anyhow::bail!("the {SYSTEM_USER} account has no id"),
        };
        std::os::unix::fs::chown(&spec.data_dir, Some(uid), Some(gid))
            .map_err(|e| write_error(&spec.data_dir, e))?;
    }
    Ok(())
}

pub fn uninstall(global: &Global, scope: Scope) -> anyhow::Result<ExitCode> {
    let spec = spec(global, scope)?;
    let plan = plan(&spec)?;
    let manager = succeeds(&plan.probe);
    if manager {
        for command in &plan.disable {
            // Not loaded or already stopped is fine: the aim is that it is gone.
            let _ = run_bounded(command);
        }
    }
    match std::fs::remove_file(&plan.file) {
        Ok(()) => println!("Removed {}", plan.file.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("Not installed: there is no {}", plan.file.display())
        }
        Err(e) => anyhow::bail!("could not remove {}: {e}", plan.file.display()),
    }
    if manager {
        for command in &plan.forget {
            let _ = run_bounded(command);
        }
        println!("Stopped and disabled with {}.", plan.manager);
    } else {
        println!(
            "{} is not running here: nothing was loaded to stop.",
            capitalised(&plan.manager)
        );
    }
    if spec.system {
        println!(
            "The {SYSTEM_USER} account and {} are kept (the directory and its token); remove them by hand if no longer wanted.",
            spec.data_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn status(global: &Global, scope: Scope) -> anyhow::Result<ExitCode> {
    let spec = spec(global, scope)?;
    let plan = plan(&spec)?;
    if plan.file.exists() {
        println!("Installed: {}", plan.file.display());
        if cfg!(target_os = "linux") {
            if let Ok(text) = std::fs::read_to_string(&plan.file) {
                if let Some(exec) = text.lines().find(|l| l.starts_with("ExecStart=")) {
                    println!("  {exec}");
                }
            }
        }
    } else {
        println!("Not installed (no {}).", plan.file.display());
    }
    if !succeeds(&plan.probe) {
        println!("{} is not running here.", capitalised(&plan.manager));
        return Ok(ExitCode::SUCCESS);
    }
    for command in &plan.state {
        let out = run_bounded(command);
        let text = out
            .map(|o| {
                let stdout = String::from_utf8_lossy(&o.stdout).trim().to_string();
                if stdout.is_empty() {
                    String::from_utf8_lossy(&o.stderr).trim().to_string()
                } else {
                    stdout
                }
            })
            .unwrap_or_else(|| "no answer".into());
        let first = text.lines().next().unwrap_or("").to_string();
        println!("{}: {first}", shell_line(&command[1..]));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ServiceSpec {
        ServiceSpec {
            exe: PathBuf::from("/usr/local/bin/hownow"),
            data_dir: PathBuf::from("/home/ann/.local/share/nz.co.hownow.admin"),
            insecure_storage: false,
            system: false,
        }
    }

    #[test]
    fn each_os_plan_names_its_file_and_manager_commands() {
        let linux = systemd_plan(&spec(), Path::new("/home/ann/.config/systemd/user"), "systemctl");
        assert_eq!(
            linux.file,
            Path::new("/home/ann/.config/systemd/user/hownow.service")
        );
        assert_eq!(
            linux.enable,
            [
                words(&["systemctl", "--user", "daemon-reload"]),
                words(&["systemctl", "--user", "enable", "--now", "hownow.service"])
            ]
        );
        let mut system = spec();
        system.system = true;
        let sys = systemd_plan(&system, Path::new("/etc/systemd/system"), "systemctl");
        assert_eq!(
            sys.disable,
            [words(&["systemctl", "disable", "--now", "hownow.service"])]
        );

        let mac = launchd_plan(&spec(), Path::new("/Users/ann"), "501");
        assert_eq!(
            mac.file,
            Path::new("/Users/ann/Library/LaunchAgents/nz.co.hownow.admin.service.plist")
        );
        assert_eq!(
            mac.enable,
            [words(&[
                "launchctl",
                "bootstrap",
                "gui/501",
                "/Users/ann/Library/LaunchAgents/nz.co.hownow.admin.service.plist"
            ])]
        );
        assert_eq!(
            mac.disable,
            [words(&[
                "launchctl",
                "bootout",
                "gui/501/nz.co.hownow.admin.service"
            ])]
        );

        let win = windows_plan(&spec(), r"OFFICE\ann");
        assert_eq!(win.enable[0][..3], words(&["schtasks", "/Create", "/TN"]));
        assert_eq!(win.enable[1], words(&["schtasks", "/Run", "/TN", "hownow"]));
        assert_eq!(&win.content[..2], &[0xFF, 0xFE]);
    }

    #[test]
    fn shell_lines_quote_what_a_shell_would_split() {
        assert_eq!(
            shell_line(&words(&[
                "systemctl",
                "--user",
                "enable",
                "--now",
                "hownow.service"
            ])),
            "systemctl --user enable --now hownow.service"
        );
        assert_eq!(
            shell_line(&words(&["/opt/how now/hownow", "it's"])),
            r"'/opt/how now/hownow' 'it'\''s'"
        );
    }
}
