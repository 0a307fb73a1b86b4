//! The journey: connect, sync, status, clients, history, disconnect, with a recording proxy in
//! front of the sandbox, and no token in any output or file but the token store.

use std::path::Path;

use hownow_sandbox::tenants::DEMO_PRACTICE;

use crate::common::sandbox;

use super::{connect, hownow, Run};

fn json(run: &Run) -> serde_json::Value {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// Every refresh token the token file has held, collected after each command.
fn stored_tokens(data_dir: &Path, seen: &mut Vec<String>) {
    let Ok(text) = std::fs::read_to_string(data_dir.join("credentials.json")) else {
        return;
    };
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    for entry in doc.as_object().unwrap().values() {
        let token = entry["refresh_token"].as_str().unwrap().to_string();
        if !seen.contains(&token) {
            seen.push(token);
        }
    }
}

/// A pass-through proxy in front of the sandbox that writes down every token it sees: bearer
/// tokens of requests, tokens posted to the identity service, and tokens it hands out. The CLI
/// is pointed at the proxy, so the test knows every secret value and can look for it.
struct Recorder {
    base: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Recorder {
    async fn start(upstream: &str) -> Recorder {
        use axum::body::Bytes;
        use axum::extract::{Request, State};
        use axum::response::Response;

        #[derive(Clone)]
        struct Proxy {
            upstream: String,
            public: String,
            http: reqwest::Client,
            seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
        }
        async fn forward(State(p): State<Proxy>, request: Request) -> Response {
            let record = |token: &str| {
                if !token.is_empty() {
                    p.seen.lock().unwrap().push(token.to_string());
                }
            };
            let (parts, body) = request.into_parts();
            let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            if let Some(bearer) = parts.headers.get("authorization").and_then(|v| v.to_str().ok()) {
                record(bearer.trim_start_matches("Bearer ").trim());
            }
            for (name, value) in url::form_urlencoded::parse(&body) {
                if ["refresh_token", "token", "code"].contains(&name.as_ref()) {
                    record(&value);
                }
            }
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
                .to_string();
            let mut upstream = p
                .http
                .request(parts.method.clone(), format!("{}{path}", p.upstream));
            for (name, value) in &parts.headers {
                // The body is rewritten as text below: ask the sandbox for it uncompressed.
                if name != "host" && name != "content-length" && name != "accept-encoding" {
                    upstream = upstream.header(name, value);
                }
            }
            let answer = upstream.body(body).send().await.unwrap();
            let mut response = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if name != "content-length" && name != "transfer-encoding" {
                    response = response.header(name, value);
                }
            }
            let text =
                String::from_utf8_lossy(&answer.bytes().await.unwrap()).replace(&p.upstream, &p.public);
            if path.starts_with("/connect/token") {
                if let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) {
                    for field in ["access_token", "refresh_token", "id_token"] {
                        if let Some(token) = doc[field].as_str() {
                            record(token);
                        }
                    }
                }
            }
            response.body(axum::body::Body::from(text)).unwrap()
        }

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            public: base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            seen: seen.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Recorder { base, seen }
    }

    fn tokens(&self) -> Vec<String> {
        let mut tokens = self.seen.lock().unwrap().clone();
        tokens.sort();
        tokens.dedup();
        tokens
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_journey_and_no_token_anywhere() {
    let sandbox = sandbox(60).await;
    let recorder = Recorder::start(sandbox.issuer()).await;
    // The id token names the issuer the CLI was given: the recorder.
    sandbox.identity().set_public_base(&recorder.base);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut outputs: Vec<String> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    let keep = |run: &Run, outputs: &mut Vec<String>| {
        outputs.push(run.stdout.clone());
        outputs.push(run.stderr.clone());
    };

    let connected = connect(data, &recorder.base, &[]).await;
    assert_eq!(connected.code, 0, "stderr: {}", connected.stderr);
    assert!(
        connected.stdout.contains("Logged in to Xero as Ava Partner"),
        "{}",
        connected.stdout
    );
    assert!(connected
        .stdout
        .contains(&format!("Connected to {}", DEMO_PRACTICE.name)));
    assert!(
        connected.stdout.contains("Full sync done"),
        "{}",
        connected.stdout
    );
    assert!(
        connected.stderr.contains("insecure storage"),
        "{}",
        connected.stderr
    );
    keep(&connected, &mut outputs);
    stored_tokens(data, &mut tokens);
    assert_eq!(tokens.len(), 1);
    let expected = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap().counts();

    let status = hownow(data, &["status", "--json"]).await;
    keep(&status, &mut outputs);
    let doc = json(&status);
    let conn = &doc["connections"][0];
    assert_eq!(conn["tenant_name"], DEMO_PRACTICE.name);
    assert_eq!(conn["status"], "connected");
    assert_eq!(conn["clients"], (expected.clients - expected.deleted) as u64);
    assert_eq!(conn["last_run"]["kind"], "full");
    assert_eq!(conn["last_run"]["trigger"], "initial");
    assert!(conn["next_changes_at"].is_string(), "{conn}");
    // Xero reports the day's calls left on every answer: after the initial sync it is known.
    assert!(conn["day_calls_left"].is_u64(), "{conn}");

    // A contact-only edit XPM does not flag, then a changes sync (a new process: it refreshes).
    let data_snapshot = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let live: Vec<_> = data_snapshot
        .clients()
        .iter()
        .filter(|c| !c.details.is_deleted() && !c.details.is_archived())
        .collect();
    let client = live
        .iter()
        .find(|c| {
            !c.contacts.is_empty() && data_snapshot.clients_of_contact(&c.contacts[0].contact).count() == 1
        })
        .unwrap();
    let contact = client.contacts[0].contact.clone();
    sandbox
        .practice()
        .edit_contact(&contact, |d| {
            d.email = Some("changed.by.staff@example.com".into())
        })
        .unwrap();
    let archived = live.iter().find(|c| c.uuid != client.uuid).unwrap();
    sandbox.practice().archive_client(&archived.uuid, true).unwrap();
    let changes = hownow(data, &["sync", "--changes", "--json"]).await;
    keep(&changes, &mut outputs);
    stored_tokens(data, &mut tokens);
    let run = json(&changes);
    assert_eq!(run["kind"], "changes");
    assert_eq!(run["outcome"], "ok");
    assert!(run["counts"]["contacts_changed"].as_u64().unwrap() >= 1, "{run}");
    assert_eq!(run["counts"]["archived"], 1);
    assert!(tokens.len() >= 2, "the refresh token rotated");

    let all = hownow(data, &["sync", "--all", "--yes"]).await;
    keep(&all, &mut outputs);
    stored_tokens(data, &mut tokens);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(all.stderr.contains("about 2 API calls"), "{}", all.stderr);
    assert!(all.stdout.contains("Full sync done"), "{}", all.stdout);
    assert!(all.stdout.contains("Missed by incremental"), "{}", all.stdout);

    let clients = hownow(data, &["clients", "--format", "json"]).await;
    keep(&clients, &mut outputs);
    let list = json(&clients);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), expected.clients - expected.deleted);
    let gone_quiet = list.iter().find(|c| c["uuid"] == archived.uuid.as_str()).unwrap();
    assert_eq!(gone_quiet["archived"], true);
    let ours = list.iter().find(|c| c["uuid"] == client.uuid.as_str()).unwrap();
    assert_eq!(ours["archived"], false);
    assert!(ours["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["email"] == "changed.by.staff@example.com"));
    // XPM 3.1's long-tail fields come through as XPM sent them (the bank account masked).
    type Field = fn(&hownow_xpm::Client) -> Option<String>;
    for (field, of) in [
        (
            "place_of_birth_city",
            (|d| d.place_of_birth_city.clone()) as Field,
        ),
        ("place_of_birth_country_code", |d| {
            d.place_of_birth_country_code.clone()
        }),
        ("industry", |d| d.industry.clone()),
        ("bank_account_number", |d| d.bank_account_number.clone()),
    ] {
        let carrier = data_snapshot
            .clients()
            .iter()
            .find(|c| !c.details.is_deleted() && of(&c.details.values).is_some())
            .unwrap_or_else(|| panic!("the sandbox gives some client a {field}"));
        let shown = list.iter().find(|c| c["uuid"] == carrier.uuid.as_str()).unwrap();
        assert_eq!(
            shown[field],
            of(&carrier.details.values).unwrap().as_str(),
            "{field}"
        );
    }

    let csv = hownow(
        data,
        &["clients", "--format", "csv", "--search", archived.details.name()],
    )
    .await;
    keep(&csv, &mut outputs);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let mut rows = csv.stdout.lines();
    assert!(rows.next().unwrap().starts_with("UUID,Client Code,Client Name,"));
    assert!(
        rows.any(|r| r.starts_with(&archived.uuid) && r.ends_with(",No,Yes")),
        "{}",
        csv.stdout
    );

    let table = hownow(data, &["clients"]).await;
    keep(&table, &mut outputs);
    assert_eq!(table.code, 0);
    assert!(table.stdout.starts_with("NAME"), "{}", table.stdout);

    let history = hownow(data, &["history", "--json"]).await;
    keep(&history, &mut outputs);
    let runs = json(&history);
    let kinds: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["full", "changes", "full"]);
    // Each run lists the values XPM sent that could not be read: none from this practice.
    for run in runs.as_array().unwrap() {
        assert_eq!(run["counts"]["data_warnings"], 0, "{run}");
        assert_eq!(run["data_warnings"], serde_json::json!([]), "{run}");
        // And what HowNow's folders follow: only contacts changed, so no code or name did.
        let codes = &run["client_codes"];
        assert_eq!(codes["code_changed"], serde_json::json!([]), "{run}");
        assert_eq!(codes["name_changed"], serde_json::json!([]), "{run}");
        assert!(codes["missing_code_total"].is_u64(), "{run}");
    }
    let text = hownow(data, &["history"]).await;
    keep(&text, &mut outputs);
    assert!(text.stdout.contains("initial"), "{}", text.stdout);

    let gone = hownow(data, &["disconnect", "--keep-data"]).await;
    keep(&gone, &mut outputs);
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert!(
        gone.stdout.contains("removed at Xero and its token revoked"),
        "{}",
        gone.stdout
    );
    let status = json(&hownow(data, &["status", "--json"]).await);
    assert_eq!(status["connections"][0]["status"], "disconnected");
    let after = hownow(data, &["sync", "--changes"]).await;
    assert_eq!(after.code, 1);
    assert!(
        after.stderr.contains("no practice is connected"),
        "{}",
        after.stderr
    );

    // The data dir's log recorded the journey, at debug level.
    let log = std::fs::read_to_string(data.join("logs/cli.log")).unwrap();
    assert!(log.contains("sync committed"), "{log}");
    assert!(log.contains(" DEBUG "), "HOWNOW_LOG=debug reached the file");
    // The support bundle, written outside the data dir and read back whole: it goes into the
    // outputs searched for tokens below.
    let support = tempfile::tempdir().unwrap();
    let zip_path = support.path().join("support.zip");
    let bundle = hownow(data, &["support-bundle", zip_path.to_str().unwrap()]).await;
    assert_eq!(bundle.code, 0, "{}", bundle.stderr);
    keep(&bundle, &mut outputs);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut bundled = String::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        bundled.push_str(entry.name());
        bundled.push('\n');
        std::io::Read::read_to_string(&mut entry, &mut bundled).unwrap();
    }
    assert!(bundled.contains("logs/cli.log\n"), "the log is in the bundle");
    assert!(bundled.contains("sync committed"));
    assert!(bundled.contains(DEMO_PRACTICE.name));
    outputs.push(bundled);

    // No token in any output, the database, its WAL, the settings or the lock files.
    let mut files = String::new();
    for entry in walk(data) {
        if entry.file_name().is_some_and(|n| n == "credentials.json") {
            continue;
        }
        files.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap()));
        files.push('\n');
    }
    let everything = format!("{}\n{files}", outputs.join("\n"));
    let seen = recorder.tokens();
    assert!(
        seen.len() >= 6,
        "the recorder saw the login, refreshes and API calls: {}",
        seen.len()
    );
    for token in &tokens {
        assert!(
            seen.contains(token),
            "every stored refresh token passed the recorder"
        );
    }
    // The files were read (the directory names its practice).
    assert!(files.contains(DEMO_PRACTICE.name));
    for token in seen.iter().chain(&tokens) {
        assert!(
            !everything.contains(token.as_str()),
            "a token or code leaked into an output or file"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    sandbox.shutdown().await;
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
