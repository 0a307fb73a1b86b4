//! Where refresh tokens live: the OS keychain by default, a 0600 file when the admin explicitly
//! asks for `--insecure-storage` (headless servers without a keychain), memory in tests.
//!
//! Only the refresh token (and a little metadata) is stored; access tokens live in memory for
//! their 30 minutes. Nothing here is ever written to SQLite or logged: [`StoredCredentials`]
//! redacts the token in `Debug`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hownow_xpm::Secret;
use serde::{Deserialize, Serialize};

/// The long-lived credentials of one connection.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    pub refresh_token: Secret,
    /// The Xero app (client id) the token was issued to: a token only refreshes with it.
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredentials")
            .field("refresh_token", &self.refresh_token)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The stored form: a small JSON document.
#[derive(Serialize, Deserialize)]
struct Stored {
    refresh_token: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

impl StoredCredentials {
    fn to_json(&self) -> String {
        serde_json::to_string(&Stored {
            refresh_token: self.refresh_token.expose().to_string(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
        })
        .expect("strings serialise")
    }

    fn from_json(text: &str) -> Option<Self> {
        let s: Stored = serde_json::from_str(text).ok()?;
        Some(StoredCredentials {
            refresh_token: Secret::new(s.refresh_token),
            client_id: s.client_id,
            scopes: s.scopes,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no keychain available ({detail}); on a headless server, keep the token in a file only you can read instead (insecure storage)")]
    NoKeychain { detail: String },

    #[error("the keychain failed: {0}")]
    Keychain(String),

    #[error("could not use the token file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the stored credentials of connection {0} are unreadable; connect again")]
    Corrupt(i64),
}

/// Get, set and delete the credentials of a connection by its id.
pub trait SecretStore: Send + Sync {
    fn get(&self, connection_id: i64) -> Result<Option<StoredCredentials>, SecretError>;
    fn set(&self, connection_id: i64, credentials: &StoredCredentials) -> Result<(), SecretError>;
    /// Deleting what is not there is not an error.
    fn delete(&self, connection_id: i64) -> Result<(), SecretError>;
    /// For messages: "the OS keychain", "the file …".
    fn describe(&self) -> String;
}

/// Tests and the demo.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<i64, StoredCredentials>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, id: i64) -> Result<Option<StoredCredentials>, SecretError> {
        Ok(self.entries.lock().expect("not poisoned").get(&id).cloned())
    }
    fn set(&self, id: i64, c: &StoredCredentials) -> Result<(), SecretError> {
        self.entries.lock().expect("not poisoned").insert(id, c.clone());
        Ok(())
    }
    fn delete(&self, id: i64) -> Result<(), SecretError> {
        self.entries.lock().expect("not poisoned").remove(&id);
        Ok(())
    }
    fn describe(&self) -> String {
        "memory (not persisted)".into()
    }
}

/// The OS keychain: Keychain on macOS, Credential Manager on Windows, the Secret Service
/// (GNOME Keyring, KWallet) on Linux.
pub struct KeyringStore {
    service: String,
    /// Distinguishes data dirs sharing one keychain (connection ids restart at 1 in each).
    namespace: String,
}

impl KeyringStore {
    /// `namespace` should identify the data dir; [`KeyringStore::for_data_dir`] derives one.
    pub fn new(service: impl Into<String>, namespace: impl Into<String>) -> Self {
        KeyringStore {
            service: service.into(),
            namespace: namespace.into(),
        }
    }

    /// Entries of service `hownow-admin`, namespaced by a short hash of the data dir's path.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        use sha2::{Digest, Sha256};
        let canonical = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
        let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
        let ns: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        KeyringStore::new("hownow-admin", ns)
    }

    fn entry(&self, id: i64) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, &format!("{}/connection-{id}", self.namespace))
            .map_err(map_keyring)
    }
}

fn map_keyring(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::PlatformFailure(inner) => SecretError::NoKeychain {
            detail: inner.to_string(),
        },
        keyring::Error::NoStorageAccess(inner) => SecretError::NoKeychain {
            detail: inner.to_string(),
        },
        other => SecretError::Keychain(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, id: i64) -> Result<Option<StoredCredentials>, SecretError> {
        match self.entry(id)?.get_password() {
            Ok(text) => StoredCredentials::from_json(&text)
                .map(Some)
                .ok_or(SecretError::Corrupt(id)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }
    fn set(&self, id: i64, c: &StoredCredentials) -> Result<(), SecretError> {
        self.entry(id)?.set_password(&c.to_json()).map_err(map_keyring)
    }
    fn delete(&self, id: i64) -> Result<(), SecretError> {
        match self.entry(id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring(e)),
        }
    }
    fn describe(&self) -> String {
        "the OS keychain".into()
    }
}

/// `--insecure-storage`: one JSON file, readable only by its owner (0600), written atomically.
/// Readable by anyone who can read the user's files: the CLI warns when it is chosen.
pub struct FileStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: std::io::Error) -> SecretError {
        SecretError::File {
            path: self.path.clone(),
            source,
        }
    }

    fn read_all(&self) -> Result<HashMap<String, serde_json::Value>, SecretError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) if text.trim().is_empty() => Ok(HashMap::new()),
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                self.err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    e.to_string(),
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
            Err(e) => Err(self.err(e)),
        }
    }

    fn write_all(&self, entries: &HashMap<String, serde_json::Value>) -> Result<(), SecretError> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| self.err(e))?;
        // A random, exclusively created 0600 temporary file, then an atomic rename.
        let text = serde_json::to_string_pretty(entries).expect("JSON values serialise");
        crate::private::write_private(&self.path, text.as_bytes()).map_err(|e| self.err(e))
    }

    /// Read-modify-write under an in-process mutex and a cross-process file lock, so the app and
    /// the CLI cannot lose each other's rotated tokens.
    fn update<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, serde_json::Value>) -> T,
    ) -> Result<T, SecretError> {
        let _guard = self.lock.lock().expect("not poisoned");
        let lock_path = self.path.with_extension("lock");
        crate::private::ensure_private_file(&lock_path).map_err(|e| self.err(e))?;
        let lock_file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| self.err(e))?;
        fs4::FileExt::lock(&lock_file).map_err(|e| self.err(e))?;
        let mut entries = self.read_all()?;
        let out = f(&mut entries);
        self.write_all(&entries)?;
        Ok(out)
    }
}

impl SecretStore for FileStore {
    fn get(&self, id: i64) -> Result<Option<StoredCredentials>, SecretError> {
        let _guard = self.lock.lock().expect("not poisoned");
        let entries = self.read_all()?;
        match entries.get(&id.to_string()) {
            None => Ok(None),
            Some(v) => StoredCredentials::from_json(&v.to_string())
                .map(Some)
                .ok_or(SecretError::Corrupt(id)),
        }
    }
    fn set(&self, id: i64, c: &StoredCredentials) -> Result<(), SecretError> {
        let value: serde_json::Value = serde_json::from_str(&c.to_json()).expect("valid JSON");
        self.update(|entries| {
            entries.insert(id.to_string(), value);
        })
    }
    fn delete(&self, id: i64) -> Result<(), SecretError> {
        self.update(|entries| {
            entries.remove(&id.to_string());
        })
    }
    fn describe(&self) -> String {
        format!("the file {} (insecure storage)", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: &str) -> StoredCredentials {
        StoredCredentials {
            refresh_token: Secret::new(token),
            client_id: Some("app".into()),
            scopes: vec!["openid".into()],
        }
    }

    fn exercise(store: &dyn SecretStore) {
        assert_eq!(store.get(1).unwrap(), None);
        store.set(1, &creds("rt-one")).unwrap();
        store.set(2, &creds("rt-two")).unwrap();
        assert_eq!(store.get(1).unwrap().unwrap().refresh_token.expose(), "rt-one");
        store.set(1, &creds("rt-one-rotated")).unwrap();
        assert_eq!(
            store.get(1).unwrap().unwrap().refresh_token.expose(),
            "rt-one-rotated"
        );
        store.delete(1).unwrap();
        store.delete(1).unwrap();
        assert_eq!(store.get(1).unwrap(), None);
        assert_eq!(store.get(2).unwrap().unwrap().client_id.as_deref(), Some("app"));
    }

    #[test]
    fn memory_store_round_trips() {
        exercise(&MemoryStore::new());
    }

    #[test]
    fn file_store_round_trips_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("credentials.json"));
        exercise(&store);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A second handle (another process) sees the same tokens.
        let again = FileStore::new(store.path());
        assert_eq!(again.get(2).unwrap().unwrap().refresh_token.expose(), "rt-two");
    }

    #[test]
    fn debug_redacts_the_token() {
        let text = format!("{:?}", creds("rt-very-secret"));
        assert!(!text.contains("rt-very-secret"), "{text}");
    }

    /// Against a real Secret Service: `cargo xtask test` runs it in a private D-Bus session with
    /// an unlocked keyring in a throwaway folder.
    #[test]
    #[ignore = "needs a Secret Service; `cargo xtask test` runs it in a private D-Bus session"]
    fn keyring_store_against_a_real_secret_service() {
        let store = KeyringStore::new("hownow-admin-test", format!("test-{}", std::process::id()));
        exercise(&store);
        store.delete(2).unwrap();
    }

    /// Linux without a session bus (a headless server): the error names the way out.
    /// `cargo xtask test` runs it with the session bus address removed from its environment.
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "needs no session bus; `cargo xtask test` runs it without DBUS_SESSION_BUS_ADDRESS"]
    fn keyring_store_without_a_session_bus_says_so() {
        let store = KeyringStore::new("hownow-admin-test", "no-bus");
        match store.get(1) {
            Err(SecretError::NoKeychain { .. }) => {}
            other => panic!("expected NoKeychain, got {other:?}"),
        }
    }

    #[test]
    fn keyring_failures_name_the_way_out() {
        let e = map_keyring(keyring::Error::PlatformFailure("no D-Bus session".into()));
        let msg = e.to_string();
        assert!(msg.starts_with("no keychain available"), "{msg}");
        assert!(msg.contains("insecure storage"), "{msg}");
        assert!(!msg.contains("--"), "the engine names no CLI flag: {msg}");
    }
}
