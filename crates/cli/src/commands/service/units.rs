//! What `hownow service install` writes, as pure functions of a [`ServiceSpec`]: the systemd
//! unit (Linux), the LaunchAgent plist (macOS) and the Task Scheduler task (Windows). Compiled
//! and tested on every OS, so a change to one is checked wherever the tests run.

use std::path::{Path, PathBuf};

/// The unit's and the task's name.
pub const SERVICE_NAME: &str = "hownow";
/// The LaunchAgent's label (and its plist's file name).
pub const LAUNCHD_LABEL: &str = "nz.co.hownow.admin.service";
/// The dedicated account of a `--system` service, and its data dir under /var/lib.
pub const SYSTEM_USER: &str = "hownow";
pub const SYSTEM_DATA_DIR: &str = "/var/lib/hownow";

/// What the service runs.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// The `hownow` binary, absolute.
    pub exe: PathBuf,
    /// The data dir the service syncs, absolute.
    pub data_dir: PathBuf,
    /// Pass `--insecure-storage`: tokens in a 0600 file in the data dir, for a service that
    /// cannot reach a desktop keychain.
    pub insecure_storage: bool,
    /// A Linux system service running as [`SYSTEM_USER`] (`--system`), else the user's own.
    pub system: bool,
}

impl ServiceSpec {
    /// `hownow`'s arguments: `--data-dir DIR [--insecure-storage] service run`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".to_string(), self.data_dir.display().to_string()];
        if self.insecure_storage {
            args.push("--insecure-storage".into());
        }
        args.extend(["service".into(), "run".into()]);
        args
    }
}

/// One word of a systemd command line: `%` and `$` are systemd's specifier and variable signs,
/// doubled to stay literal; a word with spaces, quotes or backslashes is double-quoted.
fn systemd_word(word: &str) -> String {
    let literal = word.replace('%', "%%").replace('$', "$$");
    if !literal.is_empty()
        && !literal
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | ';'))
    {
        return literal;
    }
    let mut quoted = String::from("\"");
    for c in literal.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A path in a unit's path settings (`ReadWritePaths=`): specifiers escaped, spaces as `\x20`.
fn systemd_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('%', "%%")
        .replace('\\', "\\x5c")
        .replace(' ', "\\x20")
}

/// The systemd unit. A user unit runs as whoever installed it; a system unit as the dedicated
/// [`SYSTEM_USER`] with `/var/lib/hownow` made by systemd (`StateDirectory=`). Either way the
/// whole file system is read-only to it but the data dir.
pub fn systemd_unit(spec: &ServiceSpec) -> String {
    let exec: Vec<String> = std::iter::once(spec.exe.display().to_string())
        .chain(spec.args())
        .map(|w| systemd_word(&w))
        .collect();
    let mut unit = String::new();
    unit.push_str(
        "# Written by `hownow service install`; `hownow service uninstall` removes it.\n\
         [Unit]\n\
         Description=HowNow Admin: keeps the HowNow client directory in step with Xero Practice Manager\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=simple\n",
    );
    unit.push_str(&format!("ExecStart={}\n", exec.join(" ")));
    if spec.system {
        unit.push_str(&format!(
            "User={SYSTEM_USER}\nGroup={SYSTEM_USER}\n\
             # /var/lib/hownow, made and owned by the service's user, 0700.\n\
             StateDirectory=hownow\nStateDirectoryMode=0700\n"
        ));
    }
    unit.push_str(&format!(
        "# SIGTERM: the service finishes or rolls back the running sync and exits 0 within 10 s.\n\
         KillSignal=SIGTERM\n\
         TimeoutStopSec=30\n\
         Restart=on-failure\n\
         RestartSec=30\n\
         UMask=0077\n\
         NoNewPrivileges=yes\n\
         ProtectSystem=strict\n\
         ReadWritePaths={}\n\
         PrivateTmp=yes\n",
        systemd_path(&spec.data_dir)
    ));
    if spec.system {
        // A system service writes nowhere in the homes (it may run a binary installed in one);
        // a user service's data dir is in its home.
        unit.push_str("ProtectHome=read-only\n");
    }
    unit.push_str(&format!(
        "\n[Install]\nWantedBy={}\n",
        if spec.system {
            "multi-user.target"
        } else {
            "default.target"
        }
    ));
    unit
}

/// `&`, `<`, `>`, `"` and `'` as XML entities.
fn xml(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The LaunchAgent: started at login (`RunAtLoad`) and again whenever it exits with a failure
/// (`KeepAlive` / `SuccessfulExit` false), so a clean `launchctl bootout` stays stopped.
pub fn launchd_plist(spec: &ServiceSpec) -> String {
    let mut arguments = String::new();
    for word in std::iter::once(spec.exe.display().to_string()).chain(spec.args()) {
        arguments.push_str(&format!("        <string>{}</string>\n", xml(&word)));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LAUNCHD_LABEL}</string>
    <key>ProgramArguments</key>
    <array>
{arguments}    </array>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
        <key>SuccessfulExit</key>
        <false/>
    </dict>
    <key>ThrottleInterval</key>
    <integer>30</integer>
    <key>ProcessType</key>
    <string>Background</string>
</dict>
</plist>
"#
    )
}

/// One argument on a Windows command line (the C runtime's rules): quoted when it has spaces
/// or quotes, with backslashes before a quote doubled.
fn windows_arg(arg: &str) -> String {
    if !arg.is_empty() && !arg.chars().any(|c| c == ' ' || c == '\t' || c == '"') {
        return arg.to_string();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

/// The Task Scheduler task: at `user`'s logon, restarted after a failure, no time limit, one
/// instance. `user` is `DOMAIN\name`.
pub fn windows_task_xml(spec: &ServiceSpec, user: &str) -> String {
    let arguments: Vec<String> = spec.args().iter().map(|a| windows_arg(a)).collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>HowNow Admin: keeps the HowNow client directory in step with Xero Practice Manager. Written by hownow service install.</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{command}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        user = xml(user),
        command = xml(&spec.exe.display().to_string()),
        arguments = xml(&arguments.join(" ")),
    )
}

/// The task XML as `schtasks /Create /XML` reads it: UTF-16 LE with a byte order mark.
pub fn utf16_le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.replace('\n', "\r\n").encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

/// `schtasks` arguments that register the task from its XML file (replacing an older one).
pub fn schtasks_create(xml_path: &Path) -> Vec<String> {
    vec![
        "/Create".into(),
        "/TN".into(),
        SERVICE_NAME.into(),
        "/XML".into(),
        xml_path.display().to_string(),
        "/F".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(system: bool) -> ServiceSpec {
        ServiceSpec {
            exe: PathBuf::from("/opt/how now/bin/hownow"),
            data_dir: PathBuf::from(if system {
                SYSTEM_DATA_DIR
            } else {
                "/home/ann/.local/share/nz.co.hownow.admin"
            }),
            insecure_storage: system,
            system,
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn the_user_unit_runs_the_service_hardened_with_the_data_dir_writable() {
        let unit = systemd_unit(&spec(false));
        let l = lines(&unit);
        assert!(l.contains(
            &"ExecStart=\"/opt/how now/bin/hownow\" --data-dir /home/ann/.local/share/nz.co.hownow.admin service run"
        ), "{unit}");
        for line in [
            "[Service]",
            "Restart=on-failure",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/home/ann/.local/share/nz.co.hownow.admin",
            "PrivateTmp=yes",
            "WantedBy=default.target",
        ] {
            assert!(l.contains(&line), "{line} missing from\n{unit}");
        }
        assert!(!unit.contains("User="), "a user unit runs as its user");
        assert!(!unit.contains("--insecure-storage"));
        assert!(
            !unit.contains("ProtectHome"),
            "the user's data dir is in its home"
        );
    }

    #[test]
    fn the_system_unit_runs_as_its_own_user_with_its_own_data_dir() {
        let unit = systemd_unit(&spec(true));
        let l = lines(&unit);
        for line in [
            "ExecStart=\"/opt/how now/bin/hownow\" --data-dir /var/lib/hownow --insecure-storage service run",
            "User=hownow",
            "Group=hownow",
            "StateDirectory=hownow",
            "StateDirectoryMode=0700",
            "ReadWritePaths=/var/lib/hownow",
            "ProtectSystem=strict",
            "ProtectHome=read-only",
            "NoNewPrivileges=yes",
            "PrivateTmp=yes",
            "Restart=on-failure",
            "WantedBy=multi-user.target",
        ] {
            assert!(l.contains(&line), "{line} missing from\n{unit}");
        }
    }

    /// systemd's own check of both units, with ExecStart pointing at a real executable (this
    /// test's binary). `systemd-analyze` reports a setting it cannot parse as a warning and
    /// still exits 0, so any output fails the test too. The systemd package is in
    /// `cargo xtask setup`'s list.
    #[cfg(target_os = "linux")]
    #[test]
    fn systemd_analyze_verify_accepts_both_units() {
        let analyze = Path::new("/usr/bin/systemd-analyze");
        assert!(
            analyze.exists(),
            "systemd-analyze is missing: install the systemd package (cargo xtask setup)"
        );
        let dir = tempfile::tempdir().unwrap();
        for system in [false, true] {
            let spec = ServiceSpec {
                exe: std::env::current_exe().unwrap(),
                data_dir: dir.path().join("data dir"),
                insecure_storage: system,
                system,
            };
            let file = dir.path().join("hownow.service");
            std::fs::write(&file, systemd_unit(&spec)).unwrap();
            let out = std::process::Command::new(analyze)
                .arg("verify")
                .arg(&file)
                .output()
                .unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.status.success() && said.trim().is_empty(),
                "systemd-analyze verify (system: {system}): {said}\n{}",
                systemd_unit(&spec)
            );
        }
    }

    #[test]
    fn systemd_specifiers_and_quotes_stay_literal() {
        assert_eq!(systemd_word("/usr/bin/hownow"), "/usr/bin/hownow");
        assert_eq!(systemd_word("/data/100%"), "/data/100%%");
        assert_eq!(systemd_word("$HOME"), "$$HOME");
        assert_eq!(systemd_word("a \"b\""), r#""a \"b\"""#);
        assert_eq!(systemd_word(""), r#""""#);
        assert_eq!(systemd_path(Path::new("/srv/how now/%d")), r"/srv/how\x20now/%%d");
    }

    #[test]
    fn the_launch_agent_starts_at_login_and_after_a_failure() {
        let mut s = spec(false);
        s.data_dir = PathBuf::from("/Users/ann/Library/Application Support/nz.co.hownow.admin");
        s.exe = PathBuf::from("/Applications/HowNow & Co/hownow");
        let plist = launchd_plist(&s);
        for part in [
            "<key>Label</key>\n    <string>nz.co.hownow.admin.service</string>",
            "<key>ProgramArguments</key>\n    <array>\n        <string>/Applications/HowNow &amp; Co/hownow</string>\n        <string>--data-dir</string>\n        <string>/Users/ann/Library/Application Support/nz.co.hownow.admin</string>\n        <string>service</string>\n        <string>run</string>\n    </array>",
            "<key>RunAtLoad</key>\n    <true/>",
            "<key>KeepAlive</key>\n    <dict>\n        <key>SuccessfulExit</key>\n        <false/>\n    </dict>",
        ] {
            assert!(plist.contains(part), "{part} missing from\n{plist}");
        }
        assert!(plist.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist"));
        assert_eq!(plist.matches("<dict>").count(), plist.matches("</dict>").count());
    }

    #[test]
    fn the_windows_task_runs_at_logon_with_quoted_arguments() {
        let s = ServiceSpec {
            exe: PathBuf::from(r"C:\Program Files\HowNow\hownow.exe"),
            data_dir: PathBuf::from(r"C:\Users\Ann Smith\AppData\Roaming\nz.co.hownow.admin\"),
            insecure_storage: true,
            system: false,
        };
        let task = windows_task_xml(&s, r"OFFICE\ann");
        for part in [
            "<LogonTrigger>\n      <Enabled>true</Enabled>\n      <UserId>OFFICE\\ann</UserId>\n    </LogonTrigger>",
            r"<Command>C:\Program Files\HowNow\hownow.exe</Command>",
            // The trailing backslash is doubled so it does not escape the closing quote.
            r#"<Arguments>--data-dir &quot;C:\Users\Ann Smith\AppData\Roaming\nz.co.hownow.admin\\&quot; --insecure-storage service run</Arguments>"#,
            "<RestartOnFailure>",
            "<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
            "<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
        ] {
            assert!(task.contains(part), "{part} missing from\n{task}");
        }
        let bytes = utf16_le(&task);
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        let back = String::from_utf16(&units).unwrap();
        assert_eq!(back, task.replace('\n', "\r\n"));
        assert_eq!(
            schtasks_create(Path::new(r"C:\t\hownow.xml")),
            ["/Create", "/TN", "hownow", "/XML", r"C:\t\hownow.xml", "/F"]
        );
        assert_eq!(windows_arg(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(windows_arg("plain"), "plain");
    }
}
