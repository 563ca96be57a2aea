//! Typed configuration, read once: defaults, then an optional TOML file, then the environment,
//! then command-line flags. Secrets are `SecretString`: never printed by Debug or logs.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::Path;
use wm_domain::memory::MemoryLimits;

/// Deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Test,
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// The effective configuration. Field names are the TOML keys; environment variables are the
/// `WM_`-prefixed upper-case names, except the conventional ones in [`PLAIN_ENV`].
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `development`, `test` or `production` (`WM_ENV`).
    pub env: Environment,
    /// Listen address (`WM_BIND`, `--bind`).
    pub bind: SocketAddr,
    /// `sqlite://path` or `postgres://...` (`DATABASE_URL`). Default: SQLite under `./data/`.
    pub database_url: Option<SecretString>,
    /// PostgreSQL pool size (`WM_DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    /// PostgreSQL connections for full-text searches, apart from the pool above: as many
    /// searches run at once, the others wait their turn (`WM_DATABASE_SEARCH_CONNECTIONS`).
    /// Default: this host's CPUs; set it to the database server's cores when it runs elsewhere.
    pub database_search_connections: Option<u32>,
    /// Redis for shared rate limits (`REDIS_URL`); in-process when absent.
    pub redis_url: Option<SecretString>,
    /// `pretty` or `json` (`LOG_FORMAT`).
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `info,wm_http=debug` (`LOG_LEVEL`).
    pub log_level: String,
    /// CORS origins, comma-separated (`ALLOWED_ORIGINS`); `*` is refused in production.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_origins: Vec<String>,
    /// Admin key ensured at startup (`WM_SEED_ADMIN_KEY`), with `seed_admin_email`.
    pub seed_admin_key: Option<SecretString>,
    /// Email of the seed admin (`WM_SEED_ADMIN_EMAIL`).
    pub seed_admin_email: Option<String>,
    /// Largest request body in bytes (`WM_BODY_LIMIT`).
    pub body_limit: usize,
    /// Per-request timeout in seconds (`WM_REQUEST_TIMEOUT_SECS`).
    pub request_timeout_secs: u64,
    /// Largest memory content in bytes (`WM_MAX_CONTENT_BYTES`); at most `body_limit`.
    pub max_content_bytes: usize,
    /// How many matches a search ranks at most, the newest first (`WM_SEARCH_CANDIDATES`, ≥ 100).
    pub search_candidates: u32,
    /// How long verified keys stay cached, in seconds (`WM_KEY_CACHE_TTL_SECS`).
    pub key_cache_ttl_secs: u64,
    /// How often buffered usage is written, in seconds (`WM_FLUSH_INTERVAL_SECS`).
    pub flush_interval_secs: u64,
    /// Request rate limits and usage metering, `on` or `off` (`WM_RATE_LIMITS`); off is for
    /// benchmarks and trusted single-user installs (plan quotas still apply).
    #[serde(deserialize_with = "on_off")]
    pub rate_limits: bool,
    /// Rate-limit headers on metered responses, `on` or `off` (`WM_RATE_LIMIT_HEADERS`); off
    /// hides the plan's limits from clients (e.g. behind a gateway), while still enforcing them.
    #[serde(deserialize_with = "on_off")]
    pub rate_limit_headers: bool,
    /// Whop webhook secret (`WHOP_WEBHOOK_SECRET`); `/webhooks/whop` answers 404 without it.
    pub whop_webhook_secret: Option<SecretString>,
    /// Stripe endpoint secret, `whsec_...` (`STRIPE_WEBHOOK_SECRET`); 404 without it.
    pub stripe_webhook_secret: Option<SecretString>,
    /// The `Authorization` value RevenueCat sends (`REVENUECAT_WEBHOOK_SECRET`); 404 without it.
    pub revenuecat_webhook_secret: Option<SecretString>,
    /// Also accept Whop's legacy `X-Whop-Signature` header (`WM_WHOP_LEGACY_SIGNATURE`).
    pub whop_legacy_signature: bool,
    /// Whop API key for membership re-syncs (`WHOP_API_KEY`).
    pub whop_api_key: Option<SecretString>,
    /// Whop API base URL (`WM_WHOP_API_BASE`).
    pub whop_api_base: String,
    /// Provider ids → plans, `provider:id=plan` entries, comma-separated or a TOML list (`WM_PLAN_MAP`).
    #[serde(deserialize_with = "string_or_list")]
    pub plan_map: Vec<String>,
    /// Days of access after a failed payment (`WM_GRACE_PERIOD_DAYS`).
    pub grace_period_days: u32,
    /// When paid access ends: `downgrade` to free, or `revoke` the keys too (`WM_ON_CANCEL`).
    pub on_cancel: OnCancel,
    /// Outgoing mail, `smtp://host:25` or `smtps://user:pass@host:465` (`SMTP_URL`); no email without it.
    pub smtp_url: Option<SecretString>,
    /// Sender of outgoing mail (`WM_MAIL_FROM`).
    pub mail_from: String,
    /// Public base URL of this service, for claim links (`WM_PUBLIC_URL`).
    pub public_url: String,
    /// How often the billing job runs, in seconds (`WM_BILLING_JOB_INTERVAL_SECS`).
    pub billing_job_interval_secs: u64,
}

/// What happens when paid access ends (`WM_ON_CANCEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnCancel {
    /// Drop to the free plan.
    #[default]
    Downgrade,
    /// Drop to the free plan and revoke the account's keys.
    Revoke,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            env: Environment::Development,
            bind: "0.0.0.0:8000".parse().expect("static address"),
            database_url: None,
            database_max_connections: 10,
            database_search_connections: None,
            redis_url: None,
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            allowed_origins: Vec::new(),
            seed_admin_key: None,
            seed_admin_email: None,
            body_limit: 4 * 1024 * 1024,
            request_timeout_secs: 30,
            max_content_bytes: MemoryLimits::default().max_content_bytes,
            search_candidates: MemoryLimits::default().search_candidates,
            key_cache_ttl_secs: 5,
            flush_interval_secs: 10,
            rate_limits: true,
            rate_limit_headers: true,
            whop_webhook_secret: None,
            stripe_webhook_secret: None,
            revenuecat_webhook_secret: None,
            whop_legacy_signature: false,
            whop_api_key: None,
            whop_api_base: "https://api.whop.com".into(),
            plan_map: Vec::new(),
            grace_period_days: 3,
            on_cancel: OnCancel::Downgrade,
            smtp_url: None,
            mail_from: "WhiteMagic <no-reply@whitemagic.local>".into(),
            public_url: "http://localhost:8000".into(),
            billing_job_interval_secs: 30,
        }
    }
}

/// Conventional variables read without the `WM_` prefix.
pub const PLAIN_ENV: [&str; 10] = [
    "DATABASE_URL",
    "REDIS_URL",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "ALLOWED_ORIGINS",
    "WHOP_WEBHOOK_SECRET",
    "STRIPE_WEBHOOK_SECRET",
    "REVENUECAT_WEBHOOK_SECRET",
    "WHOP_API_KEY",
    "SMTP_URL",
];

/// `WM_` variables this version understands (anything else is warned about).
pub const WM_ENV: [&str; 23] = [
    "WM_ENV",
    "WM_BIND",
    "WM_DATABASE_MAX_CONNECTIONS",
    "WM_DATABASE_SEARCH_CONNECTIONS",
    "WM_SEED_ADMIN_KEY",
    "WM_SEED_ADMIN_EMAIL",
    "WM_BODY_LIMIT",
    "WM_REQUEST_TIMEOUT_SECS",
    "WM_MAX_CONTENT_BYTES",
    "WM_SEARCH_CANDIDATES",
    "WM_KEY_CACHE_TTL_SECS",
    "WM_FLUSH_INTERVAL_SECS",
    "WM_RATE_LIMITS",
    "WM_RATE_LIMIT_HEADERS",
    "WM_CONFIG",
    "WM_WHOP_LEGACY_SIGNATURE",
    "WM_WHOP_API_BASE",
    "WM_PLAN_MAP",
    "WM_GRACE_PERIOD_DAYS",
    "WM_ON_CANCEL",
    "WM_MAIL_FROM",
    "WM_PUBLIC_URL",
    "WM_BILLING_JOB_INTERVAL_SECS",
];

/// `WM_` variables read by command-line flags (clap), not by the configuration.
pub const CLI_ENV: [&str; 1] = ["WM_MCP_API_KEY"];

/// Flags that override everything else.
#[derive(Debug, Default, serde::Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
}

/// The default database: a SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/whitemagic.db";

impl Config {
    /// Read the configuration from its layers.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let mut fig = Figment::new();
        if let Some(path) = file {
            anyhow::ensure!(path.exists(), "config file {} does not exist", path.display());
            fig = fig.merge(Toml::file_exact(path));
        }
        let config: Config = fig
            .merge(Env::raw().only(&PLAIN_ENV))
            .merge(Env::prefixed("WM_").filter(|k| WM_ENV.iter().any(|n| k == n[3..]) && k != "CONFIG"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.env == Environment::Production && self.allowed_origins.iter().any(|o| o == "*") {
            anyhow::bail!("ALLOWED_ORIGINS='*' is refused when WM_ENV=production: list the allowed origins");
        }
        anyhow::ensure!(self.body_limit >= 1024, "WM_BODY_LIMIT must be at least 1024 bytes");
        anyhow::ensure!(self.request_timeout_secs >= 1, "WM_REQUEST_TIMEOUT_SECS must be at least 1");
        anyhow::ensure!(
            (1..=self.body_limit).contains(&self.max_content_bytes),
            "WM_MAX_CONTENT_BYTES must be between 1 and WM_BODY_LIMIT ({})",
            self.body_limit
        );
        self.memory_limits().validate().map_err(|e| anyhow::anyhow!("WM_SEARCH_CANDIDATES: {e}"))?;
        anyhow::ensure!(self.database_max_connections >= 1, "WM_DATABASE_MAX_CONNECTIONS must be at least 1");
        anyhow::ensure!(
            self.database_search_connections != Some(0),
            "WM_DATABASE_SEARCH_CONNECTIONS must be at least 1"
        );
        wm_billing::PlanMap::parse(&self.plan_map.join(",")).map_err(|e| anyhow::anyhow!("WM_PLAN_MAP: {e}"))?;
        anyhow::ensure!(
            self.public_url.starts_with("http://") || self.public_url.starts_with("https://"),
            "WM_PUBLIC_URL must start with http:// or https://"
        );
        anyhow::ensure!((1..=365).contains(&self.grace_period_days), "WM_GRACE_PERIOD_DAYS must be between 1 and 365");
        anyhow::ensure!(self.billing_job_interval_secs >= 1, "WM_BILLING_JOB_INTERVAL_SECS must be at least 1");
        Ok(())
    }

    /// The memory limits set by this configuration (the rest are the defaults).
    pub fn memory_limits(&self) -> MemoryLimits {
        MemoryLimits {
            max_content_bytes: self.max_content_bytes,
            search_candidates: self.search_candidates,
            ..MemoryLimits::default()
        }
    }

    /// PostgreSQL connections for searches: as configured, else this host's CPUs.
    pub fn database_search_connections(&self) -> u32 {
        self.database_search_connections.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        })
    }

    /// The database URL to use (the default SQLite file when unset).
    pub fn database_url(&self) -> String {
        self.database_url.as_ref().map_or_else(|| DEFAULT_DATABASE_URL.to_owned(), |s| s.expose_secret().to_owned())
    }

    /// The effective configuration as TOML-ready JSON, secrets masked.
    pub fn redacted(&self) -> serde_json::Value {
        let mask = |s: &Option<SecretString>| s.as_ref().map(|_| "********");
        serde_json::json!({
            "env": self.env,
            "bind": self.bind.to_string(),
            "database_url": mask_url(&self.database_url()),
            "database_max_connections": self.database_max_connections,
            "database_search_connections": self.database_search_connections(),
            "redis_url": self.redis_url.as_ref().map(|u| mask_url(u.expose_secret())),
            "log_format": self.log_format,
            "log_level": self.log_level,
            "allowed_origins": self.allowed_origins,
            "seed_admin_key": mask(&self.seed_admin_key),
            "seed_admin_email": self.seed_admin_email,
            "body_limit": self.body_limit,
            "request_timeout_secs": self.request_timeout_secs,
            "max_content_bytes": self.max_content_bytes,
            "search_candidates": self.search_candidates,
            "key_cache_ttl_secs": self.key_cache_ttl_secs,
            "flush_interval_secs": self.flush_interval_secs,
            "rate_limits": if self.rate_limits { "on" } else { "off" },
            "rate_limit_headers": if self.rate_limit_headers { "on" } else { "off" },
            "whop_webhook_secret": mask(&self.whop_webhook_secret),
            "stripe_webhook_secret": mask(&self.stripe_webhook_secret),
            "revenuecat_webhook_secret": mask(&self.revenuecat_webhook_secret),
            "whop_legacy_signature": self.whop_legacy_signature,
            "whop_api_key": mask(&self.whop_api_key),
            "whop_api_base": self.whop_api_base,
            "plan_map": self.plan_map,
            "grace_period_days": self.grace_period_days,
            "on_cancel": self.on_cancel,
            "smtp_url": self.smtp_url.as_ref().map(|u| mask_url(u.expose_secret())),
            "mail_from": self.mail_from,
            "public_url": self.public_url,
            "billing_job_interval_secs": self.billing_job_interval_secs,
        })
    }
}

/// A URL with any password replaced by `********`.
pub fn mask_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("********"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "********".into(),
    }
}

/// `WM_*` variables set in the environment that this version does not know.
pub fn unknown_wm_vars() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("WM_") && !k.starts_with("WM_TEST_") && !WM_ENV.contains(&k.as_str()))
        .filter(|k| !CLI_ENV.contains(&k.as_str()))
        .collect()
}

/// `on`/`off` (also `true`/`false`, `1`/`0`, `yes`/`no`), or a TOML boolean.
fn on_off<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Bool(b) => Ok(b),
        Raw::Int(1) => Ok(true),
        Raw::Int(0) => Ok(false),
        Raw::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => Ok(true),
            "off" | "false" | "no" | "0" => Ok(false),
            other => Err(serde::de::Error::custom(format!("expected on or off, got '{other}'"))),
        },
        Raw::Int(n) => Err(serde::de::Error::custom(format!("expected on or off, got {n}"))),
    }
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split(',').map(str::to_owned).collect(),
        OneOrMany::Many(v) => v,
    };
    Ok(items.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        let c = Config {
            database_url: Some("postgres://app:hunter2@db/wm".into()),
            seed_admin_key: Some("wm_dev_0123456789abcdefghijABCDEFGHIJ01".into()),
            ..Config::default()
        };
        let shown = format!("{c:?} {}", c.redacted());
        assert!(!shown.contains("hunter2") && !shown.contains("ABCDEFGHIJ01"), "{shown}");
        assert!(shown.contains("postgres://app:********@db/wm"));
    }

    #[test]
    fn billing_secrets_are_masked_and_settings_checked() {
        let c = Config {
            stripe_webhook_secret: Some("whsec_stripe_s3cret".into()),
            whop_webhook_secret: Some("ws_whop_s3cret".into()),
            revenuecat_webhook_secret: Some("Bearer rc_s3cret".into()),
            whop_api_key: Some("whop_api_s3cret".into()),
            smtp_url: Some("smtps://mailer:mailpass@smtp.example.com:465".into()),
            plan_map: vec!["stripe:price_1=pro".into(), "whop:plan_2=starter".into()],
            ..Config::default()
        };
        let shown = format!("{c:?} {}", c.redacted());
        for secret in ["stripe_s3cret", "whop_s3cret", "rc_s3cret", "api_s3cret", "mailpass"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(shown.contains("smtps://mailer:********@smtp.example.com:465"), "{shown}");
        assert!(c.validate().is_ok());
        let bad_map = Config { plan_map: vec!["paypal:x=pro".into()], ..Config::default() };
        assert!(bad_map.validate().unwrap_err().to_string().contains("WM_PLAN_MAP"));
        let bad_url = Config { public_url: "example.com".into(), ..Config::default() };
        assert!(bad_url.validate().is_err());
    }

    #[test]
    fn wildcard_cors_refused_in_production() {
        let c = Config { env: Environment::Production, allowed_origins: vec!["*".into()], ..Config::default() };
        assert!(c.validate().is_err());
        let dev = Config { allowed_origins: vec!["*".into()], ..Config::default() };
        assert!(dev.validate().is_ok());
    }

    #[test]
    fn rate_limits_switch_reads_on_and_off() {
        let read = |toml: &str| Figment::new().merge(Toml::string(toml)).extract::<Config>().map_err(|e| e.to_string());
        assert!(read("").unwrap().rate_limits, "on by default");
        assert!(!read("rate_limits = \"off\"").unwrap().rate_limits);
        assert!(read("rate_limits = \"ON\"").unwrap().rate_limits);
        assert!(!read("rate_limits = false").unwrap().rate_limits);
        assert!(read("rate_limits = \"sometimes\"").is_err());
        assert!(read("").unwrap().rate_limit_headers, "headers on by default");
        assert!(!read("rate_limit_headers = \"off\"").unwrap().rate_limit_headers);
        assert!(read("rate_limit_headers = \"maybe\"").is_err());
    }

    #[test]
    fn memory_limits_come_from_the_config() {
        let read = |toml: &str| Figment::new().merge(Toml::string(toml)).extract::<Config>().unwrap();
        let c = read("max_content_bytes = 1000\nsearch_candidates = 500");
        assert!(c.validate().is_ok());
        let limits = c.memory_limits();
        assert_eq!((limits.max_content_bytes, limits.search_candidates), (1000, 500));
        assert!(read("max_content_bytes = 0").validate().is_err());
        assert!(read("max_content_bytes = 99999999").validate().is_err(), "above the body limit");
        assert!(read("search_candidates = 10").validate().is_err(), "below the largest page");
    }

    #[test]
    fn search_connections_default_to_this_hosts_cpus() {
        let read = |toml: &str| Figment::new().merge(Toml::string(toml)).extract::<Config>().unwrap();
        let cpus = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(read("").database_search_connections(), cpus);
        let c = read("database_search_connections = 6");
        assert!(c.validate().is_ok());
        assert_eq!(c.database_search_connections(), 6);
        assert_eq!(c.redacted()["database_search_connections"], 6);
        let zero = read("database_search_connections = 0").validate().unwrap_err().to_string();
        assert!(zero.contains("WM_DATABASE_SEARCH_CONNECTIONS"), "{zero}");
    }
}
