//! "Start HowNow Admin when I log in": the OS's own per-user autostart entry, written directly
//! (no plugin): a desktop entry in `$XDG_CONFIG_HOME/autostart` on Linux, a LaunchAgent on macOS,
//! a value under `HKCU\…\Run` on Windows. Each starts the app with `--minimized`, so it comes up
//! in the tray with no window. The entries' text comes from plain functions, tested on every OS.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The flag an autostart launch carries: stay in the tray.
pub const MINIMIZED_FLAG: &str = "--minimized";
/// File name of the Linux desktop entry.
pub const DESKTOP_ENTRY: &str = "hownow-admin.desktop";
/// Label (and file stem) of the macOS LaunchAgent.
pub const LAUNCH_AGENT_LABEL: &str = "nz.co.hownow.admin.autostart";
/// Windows: the value's name under the Run key.
pub const RUN_VALUE: &str = "HowNow Admin";
const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";

/// Where this user's autostart entry lives, and what it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autostart {
    exe: PathBuf,
    place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A desktop entry in this folder (Linux and other XDG desktops).
    DesktopEntryIn(PathBuf),
    /// A LaunchAgent plist in this folder (macOS).
    LaunchAgentIn(PathBuf),
    /// The Run key of the user's registry (Windows).
    WindowsRun,
}

impl Autostart {
    /// This user's entry for `exe`, where the OS looks for it; `None` where there is no such place
    /// (no home directory).
    pub fn for_this_user(exe: PathBuf) -> Option<Autostart> {
        let place = if cfg!(windows) {
            Place::WindowsRun
        } else if cfg!(target_os = "macos") {
            Place::LaunchAgentIn(dirs::home_dir()?.join("Library/LaunchAgents"))
        } else {
            // `dirs::config_dir` follows $XDG_CONFIG_HOME, as the autostart spec does.
            Place::DesktopEntryIn(dirs::config_dir()?.join("autostart"))
        };
        Some(Autostart { exe, place })
    }

    /// A desktop entry in `dir`: for tests, which must not touch the user's own session.
    pub fn desktop_entry_in(dir: PathBuf, exe: PathBuf) -> Autostart {
        Autostart {
            exe,
            place: Place::DesktopEntryIn(dir),
        }
    }

    /// The file the entry is, when it is a file.
    pub fn file(&self) -> Option<PathBuf> {
        match &self.place {
            Place::DesktopEntryIn(dir) => Some(dir.join(DESKTOP_ENTRY)),
            Place::LaunchAgentIn(dir) => Some(dir.join(format!("{LAUNCH_AGENT_LABEL}.plist"))),
            Place::WindowsRun => None,
        }
    }

    /// Whether the OS will start the app at login.
    pub fn is_enabled(&self) -> bool {
        match self.file() {
            Some(file) => file.exists(),
            None => reg(&["query", RUN_KEY, "/v", RUN_VALUE]).is_ok(),
        }
    }

    /// Writes or removes the entry. Idempotent.
    pub fn set(&self, enabled: bool) -> io::Result<()> {
        match (&self.place, enabled) {
            (Place::DesktopEntryIn(_), true) => {
                write(&self.file().expect("a file"), &desktop_entry(&self.exe))
            }
            (Place::LaunchAgentIn(_), true) => write(&self.file().expect("a file"), &launch_agent(&self.exe)),
            (Place::WindowsRun, true) => reg(&[
                "add",
                RUN_KEY,
                "/v",
                RUN_VALUE,
                "/t",
                "REG_SZ",
                "/d",
                &windows_run_command(&self.exe),
                "/f",
            ]),
            (Place::WindowsRun, false) => match reg(&["delete", RUN_KEY, "/v", RUN_VALUE, "/f"]) {
                Err(_) if !self.is_enabled() => Ok(()),
                other => other,
            },
            (_, false) => match std::fs::remove_file(self.file().expect("a file")) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        }
    }
}

fn write(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

fn reg(args: &[&str]) -> io::Result<()> {
    let output = Command::new("reg").args(args).output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ))
    }
}

/// The Linux autostart entry (XDG Desktop Entry; `Exec` quoted by its rules).
pub fn desktop_entry(exe: &Path) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=HowNow Admin\n\
         Comment=Keeps the HowNow client directory in step with Xero Practice Manager\n\
         Exec={} {MINIMIZED_FLAG}\n\
         Icon=hownow-admin\n\
         Terminal=false\n\
         X-GNOME-Autostart-enabled=true\n",
        exec_quoted(&exe.to_string_lossy())
    )
}

/// An `Exec` argument: inside double quotes, `"`, `` ` ``, `$` and `\` are escaped with a
/// backslash; `%` is doubled (field codes).
fn exec_quoted(arg: &str) -> String {
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' | '`' | '$' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The macOS LaunchAgent: run at login, once (a quit app stays quit).
pub fn launch_agent(exe: &Path) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n\
         <dict>\n\
         \x20 <key>Label</key>\n\
         \x20 <string>{LAUNCH_AGENT_LABEL}</string>\n\
         \x20 <key>ProgramArguments</key>\n\
         \x20 <array>\n\
         \x20   <string>{}</string>\n\
         \x20   <string>{MINIMIZED_FLAG}</string>\n\
         \x20 </array>\n\
         \x20 <key>RunAtLoad</key>\n\
         \x20 <true/>\n\
         \x20 <key>ProcessType</key>\n\
         \x20 <string>Interactive</string>\n\
         </dict>\n\
         </plist>\n",
        xml_escaped(&exe.to_string_lossy())
    )
}

fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The command line the Windows Run value holds.
pub fn windows_run_command(exe: &Path) -> String {
    format!("\"{}\" {MINIMIZED_FLAG}", exe.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linux_entry_starts_the_app_minimized_with_its_path_quoted() {
        let entry = desktop_entry(Path::new("/opt/How Now/hownow-admin"));
        assert!(
            entry.starts_with("[Desktop Entry]\nType=Application\n"),
            "{entry}"
        );
        assert!(
            entry.contains("\nExec=\"/opt/How Now/hownow-admin\" --minimized\n"),
            "{entry}"
        );
        assert!(entry.contains("\nX-GNOME-Autostart-enabled=true\n"));
        assert_eq!(exec_quoted(r#"/a"b$c`d\e%f"#), r#""/a\"b\$c\`d\\e%%f""#);
    }

    #[test]
    fn the_macos_agent_runs_at_load_with_the_flag() {
        let plist = launch_agent(Path::new(
            "/Applications/HowNow & Co.app/Contents/MacOS/hownow-admin",
        ));
        assert!(plist.contains(&format!("<string>{LAUNCH_AGENT_LABEL}</string>")));
        assert!(
            plist.contains("<string>/Applications/HowNow &amp; Co.app/Contents/MacOS/hownow-admin</string>")
        );
        assert!(plist.contains("<string>--minimized</string>"));
        assert!(plist.contains("<key>RunAtLoad</key>\n  <true/>"), "{plist}");
        assert!(!plist.contains("KeepAlive"), "a quit app stays quit");
    }

    #[test]
    fn the_windows_value_quotes_the_path() {
        assert_eq!(
            windows_run_command(Path::new(r"C:\Program Files\HowNow Admin\hownow-admin.exe")),
            r#""C:\Program Files\HowNow Admin\hownow-admin.exe" --minimized"#
        );
    }

    #[test]
    fn a_desktop_entry_is_written_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let autostart =
            Autostart::desktop_entry_in(dir.path().join("autostart"), "/usr/bin/hownow-admin".into());
        assert!(!autostart.is_enabled());
        autostart.set(false).unwrap();
        autostart.set(true).unwrap();
        assert!(autostart.is_enabled());
        let written = std::fs::read_to_string(autostart.file().unwrap()).unwrap();
        assert_eq!(written, desktop_entry(Path::new("/usr/bin/hownow-admin")));
        autostart.set(true).unwrap();
        autostart.set(false).unwrap();
        assert!(!autostart.is_enabled());
        autostart.set(false).unwrap();
    }
}
