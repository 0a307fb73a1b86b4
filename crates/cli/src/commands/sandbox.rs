//! `hownow sandbox`: runs the offline Xero until interrupted. Flags map one to one onto
//! `hownow_sandbox::SandboxConfig` and its switches (see crates/sandbox/README.md).

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use hownow_sandbox::{IdentityConfig, Sandbox, SandboxConfig, Switches};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on; port 0 picks a free one. Keep it on loopback: the sandbox has no TLS.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Listen on a non-loopback address too. The sandbox has no TLS and hands out tokens for
    /// anyone who asks: only for a test network of your own.
    #[arg(long)]
    pub allow_remote: bool,
    /// Clients in the demo practice (the second practice always has 20).
    #[arg(long, default_value_t = SandboxConfig::default().clients, value_name = "N")]
    pub clients: usize,
    /// Seed of the generated practices: the same seed serves the same practices.
    #[arg(long, default_value_t = SandboxConfig::default().seed, value_name = "S")]
    pub seed: u64,
    /// Authorize redirects at once, as the first demo user (who has the privilege).
    #[arg(long)]
    pub auto_consent: bool,
    /// `/connections` names no Practice Manager tenant (`"tenantName": null`), as the example in
    /// Xero's documentation does.
    #[arg(long)]
    pub nameless_practices: bool,
    /// Register this client id (repeatable); without any, every client id is accepted.
    #[arg(long = "client-id", value_name = "ID")]
    pub client_ids: Vec<String>,
    /// Register this redirect URI, matched exactly (repeatable); without any, every
    /// http://localhost:PORT/… and http://127.0.0.1:PORT/… URI is accepted.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// Lifetime of access tokens in seconds (Xero: 1800).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub access_token_lifetime: Option<u64>,
    /// Calls per tenant per minute (Xero: 60; 0 lifts the limit).
    #[arg(long, default_value_t = hownow_sandbox::practice::XERO_MINUTE_LIMIT, value_name = "N")]
    pub rate_limit_minute: u32,
    /// Calls per tenant per day (Xero: 5000; 0 lifts the limit).
    #[arg(long, default_value_t = hownow_sandbox::practice::XERO_DAY_LIMIT, value_name = "N")]
    pub rate_limit_day: u32,
    /// client.api/list ignores `page` and returns the whole list every time.
    #[arg(long)]
    pub ignore_page: bool,
    /// The next N XPM calls answer 503.
    #[arg(long = "fail-5xx", default_value_t = 0, value_name = "N")]
    pub fail_5xx: u32,
    /// Every Nth XPM call answers 503 (0: never).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub fail_every: u32,
    /// Send response bodies at most this fast.
    #[arg(long, value_name = "BYTES_PER_SEC", value_parser = clap::value_parser!(u64).range(1..))]
    pub throttle: Option<u64>,
    /// XPM prepares an endpoint's answer this long before its first byte, as it does for a large
    /// practice's detailed list (e.g. `client.api/list=150000`; up to 30 minutes). Repeatable.
    #[arg(long = "first-byte-delay", value_name = "ENDPOINT=MS", value_parser = first_byte_delay)]
    pub first_byte_delays: Vec<(String, u64)>,
    /// Answer uncompressed even when the client accepts gzip (XPM compresses).
    #[arg(long)]
    pub no_gzip: bool,
    /// Cut response bodies after this many bytes.
    #[arg(long, value_name = "BYTES")]
    pub truncate_after: Option<u64>,
    /// Break the XML of every answer after its first record.
    #[arg(long)]
    pub malformed: bool,
    /// Fix XPM's defect: contact edits and primary-contact moves change the client's
    /// modified time, so `modifiedsince` sees them.
    #[arg(long)]
    pub no_defect: bool,
}

impl Args {
    fn config(&self) -> SandboxConfig {
        let mut identity = IdentityConfig {
            client_ids: self.client_ids.clone(),
            redirect_uris: self.redirect_uris.clone(),
            auto_consent: self.auto_consent,
            nameless_practices: self.nameless_practices,
            ..IdentityConfig::default()
        };
        if let Some(secs) = self.access_token_lifetime {
            identity.access_token_lifetime = Duration::from_secs(secs);
        }
        let limit = |n: u32| (n > 0).then_some(n);
        SandboxConfig {
            listen: self.listen,
            clients: self.clients,
            seed: self.seed,
            identity,
            switches: Switches {
                rate_limit_minute: limit(self.rate_limit_minute),
                rate_limit_day: limit(self.rate_limit_day),
                ignore_page: self.ignore_page,
                fail_next: self.fail_5xx,
                fail_every: self.fail_every,
                throttle_bytes_per_sec: self.throttle,
                first_byte_delay_ms: self.first_byte_delays.iter().cloned().collect(),
                gzip: !self.no_gzip,
                truncate_after_bytes: self.truncate_after,
                malformed_xml: self.malformed,
                defect: !self.no_defect,
                ..Switches::default()
            },
        }
    }
}

/// `ENDPOINT=MS`, with an endpoint the sandbox serves and a delay it accepts.
fn first_byte_delay(text: &str) -> Result<(String, u64), String> {
    use hownow_sandbox::practice::{MAX_FIRST_BYTE_DELAY_MS, XPM_ENDPOINTS};
    let (endpoint, ms) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not ENDPOINT=MS (e.g. client.api/list=150000)"))?;
    let endpoint = endpoint.trim();
    if !XPM_ENDPOINTS.contains(&endpoint) {
        return Err(format!(
            "`{endpoint}` is not an XPM endpoint (one of {})",
            XPM_ENDPOINTS.join(", ")
        ));
    }
    let ms: u64 = ms
        .trim()
        .parse()
        .map_err(|_| format!("`{ms}` is not a number of milliseconds"))?;
    if ms > MAX_FIRST_BYTE_DELAY_MS {
        return Err(format!(
            "{ms} ms is more than the {MAX_FIRST_BYTE_DELAY_MS} ms allowed"
        ));
    }
    Ok((endpoint.to_string(), ms))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        eprintln!(
            "hownow: the sandbox listens on loopback only (it has no TLS and logs anyone in); {} is not loopback. Add --allow-remote to listen there anyway.",
            args.listen
        );
        return Ok(ExitCode::from(2));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args.config()))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: SandboxConfig) -> anyhow::Result<()> {
    let listen = config.listen;
    let sandbox = Sandbox::start(config)
        .await
        .with_context(|| format!("starting the sandbox on {listen}"))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Issuer: {}", sandbox.issuer())?;
        writeln!(out, "API: {}", sandbox.api_base())?;
        writeln!(out, "Admin: {}", sandbox.admin_base())?;
        for tenant in sandbox.practice().state().tenants {
            writeln!(
                out,
                "Practice: {} (tenant {}): {} clients",
                tenant.name, tenant.id, tenant.counts.clients
            )?;
        }
        // Scripts wait for these lines before they connect.
        out.flush()?;
    }
    eprintln!("The sandbox runs until Ctrl-C (or SIGTERM).");
    stopped().await?;
    eprintln!("Stopping the sandbox.");
    sandbox.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM where there is one.
async fn stopped() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("listening for Ctrl-C")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("listening for Ctrl-C")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(flags: &[&str]) -> SandboxConfig {
        let mut argv = vec!["sandbox"];
        argv.extend_from_slice(flags);
        Cli::try_parse_from(argv).expect("flags parse").args.config()
    }

    #[test]
    fn defaults_are_xeros() {
        let config = parse(&[]);
        assert!(config.listen.ip().is_loopback());
        assert_eq!(config.switches, Switches::default());
        assert!(!config.identity.auto_consent);
        assert!(config.identity.client_ids.is_empty());
    }

    #[test]
    fn every_flag_reaches_the_config() {
        let config = parse(&[
            "--listen=127.0.0.1:4100",
            "--clients=15000",
            "--seed=9",
            "--auto-consent",
            "--client-id=a",
            "--client-id=b",
            "--redirect-uri=http://localhost:4200/callback",
            "--access-token-lifetime=60",
            "--rate-limit-minute=0",
            "--rate-limit-day=100",
            "--ignore-page",
            "--fail-5xx=3",
            "--fail-every=7",
            "--throttle=2000000",
            "--first-byte-delay=client.api/list=150000",
            "--first-byte-delay=client.api/contacts=10",
            "--no-gzip",
            "--truncate-after=1000",
            "--malformed",
            "--no-defect",
        ]);
        assert_eq!(config.listen.port(), 4100);
        assert_eq!((config.clients, config.seed), (15000, 9));
        assert!(config.identity.auto_consent);
        assert_eq!(config.identity.client_ids, ["a", "b"]);
        assert_eq!(config.identity.redirect_uris, ["http://localhost:4200/callback"]);
        assert_eq!(config.identity.access_token_lifetime, Duration::from_secs(60));
        let s = config.switches;
        assert_eq!((s.rate_limit_minute, s.rate_limit_day), (None, Some(100)));
        assert!(s.ignore_page && s.malformed_xml && !s.defect);
        assert_eq!((s.fail_next, s.fail_every), (3, 7));
        assert_eq!(s.throttle_bytes_per_sec, Some(2_000_000));
        assert_eq!(s.truncate_after_bytes, Some(1000));
        assert_eq!(s.first_byte_delay_ms["client.api/list"], 150_000);
        assert_eq!(s.first_byte_delay_ms["client.api/contacts"], 10);
        assert!(!s.gzip);
    }

    #[test]
    fn nonsense_is_refused() {
        let argv = |flag: &str| Cli::try_parse_from(["sandbox", flag]).map(|_| ());
        assert!(argv("--throttle=0").is_err());
        assert!(argv("--access-token-lifetime=0").is_err());
        assert!(argv("--listen=localhost").is_err());
        assert!(argv("--first-byte-delay=client.api/search=10").is_err());
        assert!(argv("--first-byte-delay=client.api/list").is_err());
        assert!(argv("--first-byte-delay=client.api/list=99999999999").is_err());
    }
}
