//! Outbound calls to provider APIs: per-request timeout, capped exponential backoff with full
//! jitter, `Retry-After` on 429, and a circuit breaker whose state is readable for health and
//! metrics.

mod breaker;
mod whop;

pub use breaker::{BreakerPermit, BreakerState, CircuitBreaker};
pub use whop::{WHOP_API_BASE_URL, WhopApi, WhopMembership};

use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use reqwest::{Client, RequestBuilder, Response, StatusCode, header::RETRY_AFTER};
use serde::de::DeserializeOwned;

/// Settings for one [`ResilientClient`]. Build with [`ClientConfig::new`], then adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Scheme, host and optional path prefix, without a trailing slash (tests point it at a
    /// local server).
    pub base_url: String,
    /// Whole-request timeout, per attempt.
    pub timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// Backoff before retry `n` (0-based) is uniform in `[0, min(backoff_max, backoff_base·2ⁿ)]`.
    pub backoff_base: Duration,
    /// Cap of the exponential backoff.
    pub backoff_max: Duration,
    /// Cap applied to a 429 `Retry-After` (seconds form).
    pub retry_after_max: Duration,
    /// Consecutive failed attempts that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before a half-open probe.
    pub cooldown: Duration,
}

impl ClientConfig {
    /// Production defaults: 10 s timeout, 3 retries, 200 ms → 5 s backoff, `Retry-After` ≤ 30 s,
    /// breaker opens after 5 failures and probes after 30 s.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_retries: 3,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
            retry_after_max: Duration::from_secs(30),
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// Why an outbound call failed. Never contains credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The circuit breaker is open: the call was not attempted.
    #[error("circuit breaker open")]
    BreakerOpen,
    /// The last attempt timed out.
    #[error("request timed out")]
    Timeout,
    /// The last attempt failed at the network level.
    #[error("network error: {0}")]
    Network(String),
    /// The remote answered with a non-success status (after retries for 429/5xx).
    #[error("unexpected HTTP status {0}")]
    Status(u16),
    /// The response body could not be decoded.
    #[error("invalid response body: {0}")]
    Decode(String),
    /// The request could not be built (bad base URL or argument); not retried.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// A cloneable HTTP client for one provider API, with retries and a circuit breaker.
///
/// Retries resend the request, so use it for idempotent calls (GETs, or requests carrying an
/// idempotency key).
#[derive(Debug, Clone)]
pub struct ResilientClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: &'static str,
    http: Client,
    config: ClientConfig,
    breaker: CircuitBreaker,
}

/// What one attempt produced, before deciding whether to retry.
enum Attempt {
    Done(Result<Response, ClientError>),
    Retry { error: ClientError, retry_after: Option<Duration> },
}

impl ResilientClient {
    /// A client named `name` (for logs and metrics labels, e.g. `"whop"`).
    pub fn new(name: &'static str, config: ClientConfig) -> Result<Self, ClientError> {
        let http = Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("whitemagic/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::InvalidRequest(e.without_url().to_string()))?;
        let breaker = CircuitBreaker::new(name, config.failure_threshold, config.cooldown);
        Ok(ResilientClient { inner: Arc::new(Inner { name, http, config, breaker }) })
    }

    /// The client's name.
    pub fn name(&self) -> &'static str {
        self.inner.name
    }

    /// The configured base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.config.base_url
    }

    /// Current circuit-breaker state.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// The breaker itself (e.g. to read the failure count).
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.inner.breaker
    }

    /// `GET {base_url}{path}` with an optional bearer token, decoded as JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str, bearer: Option<&str>) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base_url());
        let response = self
            .execute(|http| {
                let request = http.get(&url);
                match bearer {
                    Some(token) => request.bearer_auth(token),
                    None => request,
                }
            })
            .await?;
        response.json::<T>().await.map_err(|e| ClientError::Decode(e.without_url().to_string()))
    }

    /// Sends the request `build` makes (called once per attempt) and returns the first 2xx
    /// response. Retries network errors, timeouts, 429 and 5xx up to `max_retries`; any other
    /// status is returned at once as [`ClientError::Status`].
    pub async fn execute<F>(&self, build: F) -> Result<Response, ClientError>
    where
        F: Fn(&Client) -> RequestBuilder,
    {
        let config = &self.inner.config;
        let mut retry = 0;
        loop {
            let Some(permit) = self.inner.breaker.try_acquire() else {
                return Err(ClientError::BreakerOpen);
            };
            let sent = build(&self.inner.http).timeout(config.timeout).send().await;
            let (error, retry_after) = match classify(sent) {
                Attempt::Done(result) => {
                    match &result {
                        Err(ClientError::InvalidRequest(_)) => drop(permit),
                        _ => permit.success(),
                    }
                    return result;
                }
                Attempt::Retry { error, retry_after } => {
                    // 429 means "slow down", not "broken": it does not count towards opening.
                    if error == ClientError::Status(429) {
                        drop(permit);
                    } else {
                        permit.failure();
                    }
                    (error, retry_after)
                }
            };
            if retry >= config.max_retries {
                return Err(error);
            }
            let delay = match retry_after {
                Some(wait) => wait.min(config.retry_after_max),
                None => backoff(retry, config.backoff_base, config.backoff_max),
            };
            tracing::warn!(
                client.name = self.inner.name,
                retry = retry + 1,
                error = %error,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "outbound request failed; retrying"
            );
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }
}

fn classify(sent: Result<Response, reqwest::Error>) -> Attempt {
    match sent {
        Ok(resp) if resp.status().is_success() => Attempt::Done(Ok(resp)),
        Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
            Attempt::Retry { error: ClientError::Status(429), retry_after: retry_after(&resp) }
        }
        Ok(resp) if resp.status().is_server_error() => {
            Attempt::Retry { error: ClientError::Status(resp.status().as_u16()), retry_after: None }
        }
        Ok(resp) => Attempt::Done(Err(ClientError::Status(resp.status().as_u16()))),
        Err(e) if e.is_builder() => Attempt::Done(Err(ClientError::InvalidRequest(e.without_url().to_string()))),
        Err(e) if e.is_timeout() => Attempt::Retry { error: ClientError::Timeout, retry_after: None },
        Err(e) => Attempt::Retry { error: ClientError::Network(e.without_url().to_string()), retry_after: None },
    }
}

/// `Retry-After` in its delta-seconds form; the HTTP-date form falls back to backoff.
fn retry_after(resp: &Response) -> Option<Duration> {
    let secs = resp.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    secs.parse::<u64>().ok().map(Duration::from_secs)
}

/// Full jitter: uniform in `[0, min(max, base·2^retry)]`.
fn backoff(retry: u32, base: Duration, max: Duration) -> Duration {
    let cap = base.saturating_mul(2u32.saturating_pow(retry)).min(max);
    let cap_micros = u64::try_from(cap.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::rng().random_range(0..=cap_micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let base = Duration::from_millis(100);
        let max = Duration::from_millis(250);
        for retry in 0..40 {
            let cap = base.saturating_mul(2u32.saturating_pow(retry)).min(max);
            for _ in 0..20 {
                assert!(backoff(retry, base, max) <= cap);
            }
        }
        // With 200 samples at a 250 ms cap, the delays are not all equal (jitter is on).
        let samples: Vec<_> = (0..200).map(|_| backoff(5, base, max)).collect();
        assert!(samples.iter().any(|d| *d != samples[0]));
    }

    #[test]
    fn config_trims_trailing_slash() {
        assert_eq!(ClientConfig::new("http://127.0.0.1:9/").base_url, "http://127.0.0.1:9");
    }
}
