//! Runs a request in the channel's AWS account: assumes the account's role with STS, signs the
//! call with SigV4 and sends it.
//!
//! Credentials come from the SDK: the bot's own from the standard chain (environment, profile,
//! instance role; `AWS_ENDPOINT_URL` is honoured), the channel's from STS AssumeRole. Assumed
//! credentials are cached per (role, user) until five minutes before they expire: one
//! AssumeRole per role and user per hour, not per command, while each CloudTrail session name
//! still says which chat user ran the command.

mod customize;
pub mod endpoint;
pub mod protocol;
mod rest;
mod xml;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value};

use crate::catalog::Service;
use crate::parse::Request;
pub use protocol::ServiceError;

/// A response, and the request id AWS gave it (for the audit trail).
#[derive(Debug, Clone)]
pub struct Executed {
    pub value: Value,
    pub request_id: Option<String>,
}

/// Where a command runs: the role to assume, for whom, in which region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub role_arn: String,
    pub user: String,
    pub region: String,
}

impl Target {
    /// The STS session name: it shows in CloudTrail, so it says it is the chatbot and who
    /// asked. STS allows `[\w+=,.@-]{2,64}`.
    pub fn session_name(&self) -> String {
        let user: String = self
            .user
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
            .collect();
        let mut name = format!("chatbot-{user}");
        name.truncate(64);
        name
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{code}: {message}{}{}", access_hint(code, role), retried(*retries))]
    Service {
        code: String,
        message: String,
        status: u16,
        request_id: Option<String>,
        role: String,
        /// Attempts after the first (throttling, 5xx, connection errors, timeouts).
        retries: u32,
    },
    #[error("Could not assume the channel's role {role}: {reason}")]
    AssumeRole { role: String, reason: String },
    #[error("Could not reach AWS at {endpoint}: {reason}{}", retried(*retries))]
    Transport {
        endpoint: String,
        reason: String,
        retries: u32,
    },
    /// The command's overall time ran out ([`Limits::command_timeout`]).
    #[error("{command} did not finish within {}{}, so it was stopped. It may still have taken effect in AWS.", seconds(*after), retried(*retries))]
    Timeout {
        /// `lambda invoke`
        command: String,
        after: Duration,
        retries: u32,
    },
}

/// ` (retried 2 times)`, or nothing.
fn retried(retries: u32) -> String {
    match retries {
        0 => String::new(),
        1 => " (retried once)".into(),
        n => format!(" (retried {n} times)"),
    }
}

/// `30 s`, or `200 ms` below a second.
fn seconds(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        let secs = d.as_secs_f64();
        if secs.fract() == 0.0 {
            format!("{secs:.0} s")
        } else {
            format!("{secs:.1} s")
        }
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn access_hint(code: &str, role: &str) -> String {
    let lower = code.to_ascii_lowercase();
    if lower.contains("accessdenied") || lower.contains("unauthorized") {
        format!(" (the channel's role {role} is not allowed to do this)")
    } else {
        String::new()
    }
}

impl ExecError {
    /// The AWS error code, for the audit trail.
    pub fn code(&self) -> &str {
        match self {
            ExecError::Service { code, .. } => code,
            ExecError::AssumeRole { .. } => "AssumeRoleFailed",
            ExecError::Transport { .. } => "TransportError",
            ExecError::Timeout { .. } => "Timeout",
        }
    }
}

/// How calls to AWS are retried and how long a command may take. The defaults are the AWS
/// SDKs' standard retry mode (botocore `retries/standard.py`, aws-smithy-runtime's
/// `StandardRetryStrategy`): at most 3 attempts, a backoff of `random(0..1) × 1 s × 2^n`
/// ("full jitter") up to 20 s, and a retry quota of 500 tokens that a retry costs 5 of (10
/// after a timeout) and a success pays back; so a struggling service is not hammered by
/// every command at once. What is retried: throttling error codes, HTTP 5xx, connection
/// errors and attempts that timed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Attempts per AWS call, the first one included.
    pub max_attempts: u32,
    /// The backoff before retry `n` (from 0) is random(0..1) × this × 2^n ...
    pub base_backoff: Duration,
    /// ... and at most this.
    pub max_backoff: Duration,
    /// One attempt, from sending the request to the whole response.
    pub attempt_timeout: Duration,
    /// A whole command: credentials, every page and every retry. The reply names it.
    pub command_timeout: Duration,
    /// Retry tokens when full.
    pub retry_quota: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_attempts: 3,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            retry_quota: 500,
        }
    }
}

/// Tokens a retry takes from the quota; a retry after a timeout takes more.
const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;
/// Tokens a call that succeeded at the first attempt puts back.
const NO_RETRY_INCREMENT: u32 = 1;

/// The standard mode's retry quota, shared by every call of the executor.
#[derive(Debug)]
struct RetryQuota {
    available: std::sync::Mutex<u32>,
    max: u32,
}

impl RetryQuota {
    fn new(max: u32) -> RetryQuota {
        RetryQuota {
            available: std::sync::Mutex::new(max),
            max,
        }
    }

    /// Takes `cost` tokens if there are that many.
    fn acquire(&self, cost: u32) -> bool {
        let mut available = self.available.lock().unwrap_or_else(|e| e.into_inner());
        if *available >= cost {
            *available -= cost;
            true
        } else {
            false
        }
    }

    fn release(&self, amount: u32) {
        let mut available = self.available.lock().unwrap_or_else(|e| e.into_inner());
        *available = (*available + amount).min(self.max);
    }

    #[cfg(test)]
    fn available(&self) -> u32 {
        *self.available.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A number in 0..1 for the jitter. Backoff needs no cryptographic randomness, and std's
/// randomly keyed hasher saves a dependency.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait before retry `retry` (0 for the first retry): full jitter, capped.
fn backoff(limits: &Limits, retry: u32, random: f64) -> Duration {
    let exp = limits
        .base_backoff
        .saturating_mul(2u32.saturating_pow(retry.min(31)));
    exp.mul_f64(random.clamp(0.0, 1.0)).min(limits.max_backoff)
}

/// How one attempt failed.
enum AttemptError {
    Service(ServiceError),
    /// The connection could not be made.
    Connect(String),
    /// No whole response within [`Limits::attempt_timeout`].
    Timeout,
    /// Anything else (a broken response): not retried.
    Other(String),
}

impl AttemptError {
    /// The quota cost of retrying it, or `None` when it is not retried.
    fn retry_cost(&self) -> Option<u32> {
        match self {
            AttemptError::Service(e) if is_retryable(e) => Some(RETRY_COST),
            AttemptError::Connect(_) => Some(RETRY_COST),
            AttemptError::Timeout => Some(TIMEOUT_RETRY_COST),
            _ => None,
        }
    }
}

#[derive(Clone)]
struct CachedCredentials {
    credentials: Credentials,
    refresh_at: Instant,
}

/// Expires each cache entry when its credentials are due for refresh.
struct RefreshBeforeExpiry;

impl moka::Expiry<(String, String), CachedCredentials> for RefreshBeforeExpiry {
    fn expire_after_create(
        &self,
        _key: &(String, String),
        value: &CachedCredentials,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.refresh_at.saturating_duration_since(created_at))
    }
}

/// Credentials are refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Pages fetched for one command at most; the reply then carries a NextToken.
const MAX_PAGES: usize = 20;

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

pub struct Executor {
    sts: aws_sdk_sts::Client,
    http: HttpClient,
    endpoint_override: Option<String>,
    credentials: moka::future::Cache<(String, String), CachedCredentials>,
    assume_role_calls: AtomicU64,
    credential_cache_hits: AtomicU64,
    limits: Limits,
    quota: RetryQuota,
    retries: AtomicU64,
}

impl Executor {
    /// An executor using the bot's own AWS configuration from the environment.
    pub async fn from_env() -> Executor {
        let config = aws_config::load_from_env().await;
        Executor::new(&config)
    }

    pub fn new(config: &SdkConfig) -> Executor {
        crate::install_crypto_provider();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .unwrap_or_else(|_| {
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(rustls_config_without_roots())
            })
            .https_or_http()
            .enable_http1()
            .build();
        Executor {
            sts: aws_sdk_sts::Client::new(config),
            http: Client::builder(TokioExecutor::new()).build(connector),
            endpoint_override: config
                .endpoint_url()
                .map(|u| u.trim_end_matches('/').to_owned()),
            credentials: moka::future::Cache::builder()
                .max_capacity(10_000)
                .expire_after(RefreshBeforeExpiry)
                .build(),
            assume_role_calls: AtomicU64::new(0),
            credential_cache_hits: AtomicU64::new(0),
            limits: Limits::default(),
            quota: RetryQuota::new(Limits::default().retry_quota),
            retries: AtomicU64::new(0),
        }
    }

    /// The same executor with other retry and timeout limits (a configured command timeout;
    /// tests keep them tiny).
    pub fn with_limits(mut self, limits: Limits) -> Executor {
        self.quota = RetryQuota::new(limits.retry_quota);
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// AWS calls retried so far (for metrics and tests).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// How many times STS AssumeRole has been called (for metrics and tests).
    pub fn assume_role_calls(&self) -> u64 {
        self.assume_role_calls.load(Ordering::Relaxed)
    }

    /// How many times cached assumed-role credentials were used instead of calling STS.
    pub fn credential_cache_hits(&self) -> u64 {
        self.credential_cache_hits.load(Ordering::Relaxed)
    }

    /// Runs the request, following pages as the AWS CLI does, and returns the response as the
    /// AWS CLI would print it; stops it when [`Limits::command_timeout`] runs out.
    pub async fn run(&self, target: &Target, request: &Request) -> Result<Value, ExecError> {
        self.run_traced(target, request).await.map(|e| e.value)
    }

    /// [`Executor::run`], with the request id AWS gave the (last) call.
    pub async fn run_traced(
        &self,
        target: &Target,
        request: &Request,
    ) -> Result<Executed, ExecError> {
        let retries = AtomicU32::new(0);
        let after = self.limits.command_timeout;
        // Boxed: the future is deep, and the futures that await this one nest it further.
        let pages = Box::pin(self.run_pages(target, request, &retries));
        match tokio::time::timeout(after, pages).await {
            Ok(result) => result,
            Err(_) => Err(ExecError::Timeout {
                command: format!("{} {}", request.service.service, request.operation.name),
                after,
                retries: retries.load(Ordering::Relaxed),
            }),
        }
    }

    async fn run_pages(
        &self,
        target: &Target,
        request: &Request,
        retries: &AtomicU32,
    ) -> Result<Executed, ExecError> {
        let service = request.service;
        let credentials = self.credentials_for(target).await?;
        let op = request.operation;
        let mut params = request.params.clone();
        let Some(paginator) = op.paginator.as_ref().filter(|_| request.paging.paginate) else {
            return self
                .call(service, op, &params, target, &credentials, retries)
                .await;
        };
        if let (Some(limit), Some(size)) = (&paginator.limit_key, request.paging.page_size) {
            params.insert(limit.clone(), Value::from(size));
        }
        // botocore's PageIterator: the input tokens of the page being read (null before the
        // first), how much of the first page an earlier --max-items already showed, and a
        // NextToken naming the page and the items of it shown so far when --max-items cuts
        // mid-page.
        let mut page_tokens: Vec<Value> = vec![Value::Null; paginator.input_token.len()];
        let mut skip = 0usize;
        if let Some(token) = &request.paging.starting_token {
            let (tokens, truncate) = decode_token(&paginator.input_token, token);
            page_tokens = tokens;
            skip = truncate;
            inject_tokens(&mut params, &paginator.input_token, &page_tokens);
        }
        let max_items = request.paging.max_items.map(|n| n as usize);
        // botocore's build_full_result, which the AWS CLI prints: the result keys (paths such
        // as `DistributionList.Items`) as pages have them, in the paginator's order, then the
        // non-aggregate keys of the first page (null where it lacks them). Nothing else.
        let mut merged = Map::new();
        let mut non_aggregate = Map::new();
        let mut next_token = None;
        let mut total = 0usize;
        let mut request_id = None;
        for page in 0..MAX_PAGES {
            let executed = self
                .call(service, op, &params, target, &credentials, retries)
                .await?;
            request_id = executed.request_id;
            let mut response = executed.value;
            if page == 0 {
                for key in &paginator.non_aggregate_keys {
                    let value = search(&response, key).cloned().unwrap_or(Value::Null);
                    set_path(&mut non_aggregate, key, value);
                }
            }
            let starting_truncation = if page == 0 { skip } else { 0 };
            let mut primary_len = 0;
            let mut truncate_to = None;
            for (index, key) in paginator.result_key.iter().enumerate() {
                let Some(value) = take_path(&mut response, key) else {
                    continue;
                };
                let Value::Array(mut items) = value else {
                    // A scalar result key: numbers add up, strings concatenate.
                    let merged_value = match (search_map(&merged, key), value) {
                        (None, v) => v,
                        (Some(Value::Number(a)), Value::Number(b)) => a
                            .as_i64()
                            .zip(b.as_i64())
                            .map_or(Value::Number(b), |(a, b)| Value::from(a + b)),
                        (Some(Value::String(a)), Value::String(b)) => {
                            Value::String(format!("{a}{b}"))
                        }
                        (Some(_), v) => v,
                    };
                    set_path(&mut merged, key, merged_value);
                    continue;
                };
                if page == 0 && skip > 0 {
                    // Secondary result keys were shown whole with the earlier page.
                    items = if index == 0 {
                        items.split_off(skip.min(items.len()))
                    } else {
                        Vec::new()
                    };
                }
                if index == 0 {
                    primary_len = items.len();
                    if let Some(max) = max_items {
                        if total + primary_len > max {
                            let keep = max - total;
                            items.truncate(keep);
                            truncate_to = Some(keep);
                        }
                    }
                }
                match search_map_mut(&mut merged, key) {
                    Some(Value::Array(all)) => all.extend(items),
                    _ => set_path(&mut merged, key, Value::Array(items)),
                }
            }
            let tokens: Vec<Value> = if paginator
                .more_results
                .as_ref()
                .is_none_or(|k| search(&response, k) == Some(&Value::Bool(true)))
            {
                paginator
                    .output_token
                    .iter()
                    .map(|k| match search(&response, k) {
                        Some(Value::String(s)) if s.is_empty() => Value::Null,
                        Some(v) => v.clone(),
                        None => Value::Null,
                    })
                    .collect()
            } else {
                vec![Value::Null; paginator.input_token.len()]
            };
            if let Some(keep) = truncate_to {
                next_token = Some(encode_token(
                    &paginator.input_token,
                    &page_tokens,
                    Some(keep + starting_truncation),
                ));
                break;
            }
            total += primary_len;
            if tokens.iter().all(Value::is_null) {
                break;
            }
            if max_items == Some(total) || page + 1 == MAX_PAGES {
                next_token = Some(encode_token(&paginator.input_token, &tokens, None));
                break;
            }
            // Another page follows: say how far the list got (a progress line shows it).
            crate::progress::report(crate::progress::pages(page + 1, total));
            inject_tokens(&mut params, &paginator.input_token, &tokens);
            page_tokens = tokens;
        }
        merge_into(&mut merged, non_aggregate);
        if let Some(token) = next_token {
            merged.insert("NextToken".into(), Value::String(token));
        }
        Ok(Executed {
            value: Value::Object(merged),
            request_id,
        })
    }

    async fn credentials_for(&self, target: &Target) -> Result<Credentials, ExecError> {
        let key = (target.role_arn.clone(), target.user.clone());
        let entry = self
            .credentials
            .entry(key)
            .or_try_insert_with(self.assume_role(target))
            .await
            .map_err(|e| (*e).clone_error())?;
        if !entry.is_fresh() {
            self.credential_cache_hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(entry.into_value().credentials)
    }

    async fn assume_role(&self, target: &Target) -> Result<CachedCredentials, ExecError> {
        self.assume_role_calls.fetch_add(1, Ordering::Relaxed);
        let output = self
            .sts
            .assume_role()
            .role_arn(&target.role_arn)
            .role_session_name(target.session_name())
            .duration_seconds(3600)
            .send()
            .await
            .map_err(|e| ExecError::AssumeRole {
                role: target.role_arn.clone(),
                reason: sdk_error_text(&e),
            })?;
        let c = output.credentials.ok_or_else(|| ExecError::AssumeRole {
            role: target.role_arn.clone(),
            reason: "STS returned no credentials".into(),
        })?;
        let expires = SystemTime::try_from(c.expiration).unwrap_or_else(|_| SystemTime::now());
        let lifetime = expires
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        Ok(CachedCredentials {
            credentials: Credentials::new(
                c.access_key_id,
                c.secret_access_key,
                Some(c.session_token),
                Some(expires),
                "chatops-assume-role",
            ),
            refresh_at: Instant::now() + lifetime.saturating_sub(REFRESH_MARGIN),
        })
    }

    /// One AWS call, retried as [`Limits`] says; `retries` counts the retries of the command.
    async fn call(
        &self,
        service: &Service,
        op: &crate::catalog::Operation,
        params: &Map<String, Value>,
        target: &Target,
        credentials: &Credentials,
        retries: &AtomicU32,
    ) -> Result<Executed, ExecError> {
        let wire = protocol::serialize(service, op, params);
        let mut address = endpoint::resolve(
            service,
            &wire,
            &target.region,
            self.endpoint_override.as_deref(),
        );
        let mut endpoint = address.base.clone();
        let mut redirected = false;
        let mut retried = 0u32;
        let mut acquired = 0u32;
        loop {
            let outcome = self
                .attempt(service, op, &wire, &address, credentials)
                .await;
            let error = match outcome {
                Ok(value) => {
                    self.quota.release(if acquired > 0 {
                        acquired
                    } else {
                        NO_RETRY_INCREMENT
                    });
                    return Ok(value);
                }
                Err(e) => e,
            };
            // S3 answers a call to a bucket of another region (301, or 400 for the signature's
            // region) with the bucket's region: send it again there, once, as botocore does.
            if let AttemptError::Service(e) = &error {
                if let Some(region) = e.bucket_region.as_deref().filter(|r| {
                    !redirected && matches!(e.status, 301 | 400) && *r != address.signing_region
                }) {
                    redirected = true;
                    address = endpoint::resolve(
                        service,
                        &wire,
                        region,
                        self.endpoint_override.as_deref(),
                    );
                    endpoint = address.base.clone();
                    continue;
                }
            }
            let retry = error
                .retry_cost()
                .filter(|cost| retried + 1 < self.limits.max_attempts && self.quota.acquire(*cost));
            if let Some(cost) = retry {
                acquired = cost;
                let wait = backoff(&self.limits, retried, jitter());
                retried += 1;
                retries.fetch_add(1, Ordering::Relaxed);
                self.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    service = %service.service,
                    operation = %op.name,
                    retry = retried,
                    wait_ms = wait.as_millis() as u64,
                    "retrying an AWS call"
                );
                // The backoff is the retry policy itself (SDK standard mode): waiting gives a
                // throttled or failing service room before the next attempt.
                tokio::time::sleep(wait).await;
                continue;
            }
            let retries = retries.load(Ordering::Relaxed);
            return Err(match error {
                AttemptError::Service(e) => ExecError::Service {
                    code: e.code,
                    message: e.message,
                    status: e.status,
                    request_id: e.request_id,
                    role: target.role_arn.clone(),
                    retries,
                },
                AttemptError::Connect(reason) | AttemptError::Other(reason) => {
                    ExecError::Transport {
                        endpoint,
                        reason,
                        retries,
                    }
                }
                AttemptError::Timeout => ExecError::Transport {
                    endpoint,
                    reason: format!("no answer within {}", seconds(self.limits.attempt_timeout)),
                    retries,
                },
            });
        }
    }

    /// One signed request and its response, within [`Limits::attempt_timeout`].
    async fn attempt(
        &self,
        service: &Service,
        op: &crate::catalog::Operation,
        wire: &protocol::WireRequest,
        address: &endpoint::Address,
        credentials: &Credentials,
    ) -> Result<Executed, AttemptError> {
        let other = |e: String| AttemptError::Other(e);
        let mut request = http::Request::builder()
            .method(wire.method.clone())
            .uri(format!("{}{}", address.base, address.path_and_query))
            .body(Full::new(wire.body.clone()))
            .map_err(|e| other(e.to_string()))?;
        *request.headers_mut() = wire.headers.clone();
        if let Some(host) = request.uri().authority().map(|a| a.to_string()) {
            request.headers_mut().insert(
                http::header::HOST,
                host.parse().map_err(|_| other("bad host".into()))?,
            );
        }
        sign_request(
            &mut request,
            &wire.body,
            credentials,
            &address.signing_region,
            &service.signing_name,
        )
        .map_err(other)?;
        // A streaming body (S3 `get-object`) is not read: it is neither printed nor held.
        let streaming = protocol::streams_output(service, op);
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| {
                if e.is_connect() {
                    AttemptError::Connect(error_chain(&e))
                } else {
                    AttemptError::Other(error_chain(&e))
                }
            })?;
            let status = response.status().as_u16();
            let (parts, body) = response.into_parts();
            if streaming && (200..300).contains(&status) {
                return Ok((status, parts, Bytes::new()));
            }
            let body = body
                .collect()
                .await
                .map_err(|e| other(e.to_string()))?
                .to_bytes();
            Ok((status, parts, body))
        };
        let (status, parts, body) = tokio::time::timeout(self.limits.attempt_timeout, exchange)
            .await
            .map_err(|_| AttemptError::Timeout)??;
        protocol::read_response(service, op, wire, status, &parts.headers, &body)
            .map(|value| Executed {
                value,
                request_id: request_id(&parts.headers, &body),
            })
            .map_err(AttemptError::Service)
    }
}

/// An error and its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// Error codes with which AWS says it is throttling the caller (botocore `standard.py`).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Whether an AWS error code says the caller is being throttled (the reply says so, and how
/// often it was retried).
pub fn is_throttling(code: &str) -> bool {
    THROTTLING.contains(&code)
}

/// The SDKs' throttling and transient errors: by code (botocore `standard.py`'s lists), and
/// HTTP 429 and 5xx whatever the code.
fn is_retryable(e: &ServiceError) -> bool {
    const TRANSIENT: &[&str] = &["RequestTimeout", "RequestTimeoutException"];
    e.status == 429
        || (500..600).contains(&e.status)
        || THROTTLING.contains(&e.code.as_str())
        || TRANSIENT.contains(&e.code.as_str())
}

/// Signs a request with SigV4 for `name` in `region` (public for the benchmarks' bare round
/// trip, which must sign exactly as the executor does).
pub fn sign_request<B>(
    request: &mut http::Request<B>,
    body: &[u8],
    credentials: &Credentials,
    region: &str,
    name: &str,
) -> Result<(), String> {
    let identity: Identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    if name == "s3" {
        // S3 signs the path as sent (no normalization, no double encoding) and wants the
        // payload's hash in `x-amz-content-sha256`.
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(name)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

fn rustls_config_without_roots() -> rustls::ClientConfig {
    rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

/// The SDK error as one line: the service's code and message when there is one.
fn sdk_error_text<E, R>(err: &aws_sdk_sts::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_sts::error::SdkError;
    match err {
        SdkError::ServiceError(e) => {
            let meta = e.err();
            format!(
                "{}: {}",
                meta.code().unwrap_or("Error"),
                meta.message().unwrap_or("no message")
            )
        }
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
    }
}

impl ExecError {
    fn clone_error(&self) -> ExecError {
        match self {
            ExecError::Service {
                code,
                message,
                status,
                request_id,
                role,
                retries,
            } => ExecError::Service {
                code: code.clone(),
                message: message.clone(),
                status: *status,
                request_id: request_id.clone(),
                role: role.clone(),
                retries: *retries,
            },
            ExecError::AssumeRole { role, reason } => ExecError::AssumeRole {
                role: role.clone(),
                reason: reason.clone(),
            },
            ExecError::Transport {
                endpoint,
                reason,
                retries,
            } => ExecError::Transport {
                endpoint: endpoint.clone(),
                reason: reason.clone(),
                retries: *retries,
            },
            ExecError::Timeout {
                command,
                after,
                retries,
            } => ExecError::Timeout {
                command: command.clone(),
                after: *after,
                retries: *retries,
            },
        }
    }
}

/// The request id of a response: the `x-amzn-RequestId` (or S3-style `x-amz-request-id`)
/// header, or for the query protocol the XML's `<RequestId>`.
fn request_id(headers: &http::HeaderMap, body: &[u8]) -> Option<String> {
    ["x-amzn-requestid", "x-amz-request-id"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            let text = std::str::from_utf8(body).ok()?;
            let start = text.find("<RequestId>")? + "<RequestId>".len();
            let len = text[start..].find("</RequestId>")?;
            Some(text[start..start + len].trim().to_owned())
        })
        .filter(|id| !id.is_empty())
}

/// The value at a paginator path (`DistributionList.NextMarker`).
fn search<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn search_map<'v>(map: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    let (first, rest) = path
        .split_once('.')
        .map_or((path, None), |(a, b)| (a, Some(b)));
    let v = map.get(first)?;
    rest.map_or(Some(v), |rest| search(v, rest))
}

fn search_map_mut<'v>(map: &'v mut Map<String, Value>, path: &str) -> Option<&'v mut Value> {
    let mut parts = path.split('.');
    let mut v = map.get_mut(parts.next()?)?;
    for key in parts {
        v = v.get_mut(key)?;
    }
    Some(v)
}

/// Removes and returns the value at a path (a result key moves into the merged result).
fn take_path(value: &mut Value, path: &str) -> Option<Value> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (
            parent.split('.').try_fold(value, |v, k| v.get_mut(k))?,
            last,
        ),
        None => (value, path),
    };
    parent
        .as_object_mut()?
        .remove(last)
        .filter(|v| !v.is_null())
}

/// Sets the value at a path, creating the objects on the way (botocore
/// `set_value_from_jmespath`).
fn set_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_owned(), value);
        }
        Some((first, rest)) => {
            let entry = map
                .entry(first.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

/// botocore `merge_dicts`: nested objects merge, other values replace.
fn merge_into(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge_into(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Sets the next page's input tokens; a null token leaves its member out, as botocore does.
fn inject_tokens(params: &mut Map<String, Value>, keys: &[String], tokens: &[Value]) {
    for (key, token) in keys.iter().zip(tokens) {
        if token.is_null() || token == "None" {
            params.remove(key);
        } else {
            params.insert(key.clone(), token.clone());
        }
    }
}

/// The AWS CLI's pagination token, byte for byte: base64 of botocore's `json.dumps` of the
/// input tokens (by input member name, null when absent) and, when `--max-items` cut a page,
/// `boto_truncate_amount`, the items of that page shown so far. Tokens pass between the bot
/// and the AWS CLI in both directions.
fn encode_token(keys: &[String], tokens: &[Value], truncate: Option<usize>) -> String {
    let mut doc = Map::new();
    for (key, token) in keys.iter().zip(tokens) {
        doc.insert(key.clone(), token.clone());
    }
    if let Some(truncate) = truncate {
        doc.insert("boto_truncate_amount".into(), Value::from(truncate));
    }
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(python_json(&Value::Object(doc)))
}

/// JSON as Python's `json.dumps` writes it with its defaults: `, ` and `: ` separators and
/// every non-ASCII character escaped.
fn python_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        python_json(&Value::from(k.as_str())),
                        python_json(v)
                    )
                })
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(_) => {
            let compact = value.to_string();
            let mut out = String::with_capacity(compact.len());
            for c in compact.chars() {
                if c.is_ascii() {
                    out.push(c);
                } else {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
            out
        }
        other => other.to_string(),
    }
}

/// The input tokens (in `keys` order) and truncation a starting token names. A token that is
/// not botocore's base64 JSON is taken as the service's own token for the first input member
/// (as people paste a raw `NextMarker`).
fn decode_token(keys: &[String], token: &str) -> (Vec<Value>, usize) {
    use base64::Engine;
    let doc: Value = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    match doc {
        Value::Object(map) => {
            let truncate = map
                .get("boto_truncate_amount")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            let tokens = keys
                .iter()
                .map(|k| map.get(k).cloned().unwrap_or(Value::Null))
                .collect();
            (tokens, truncate)
        }
        _ => {
            let mut tokens = vec![Value::Null; keys.len().max(1)];
            tokens[0] = Value::String(token.to_owned());
            tokens.truncate(keys.len().max(1));
            (tokens, 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_follow_sts_rules() {
        let t = Target {
            role_arn: "r".into(),
            user: "U0 <bad>".into(),
            region: "us-east-1".into(),
        };
        assert_eq!(t.session_name(), "chatbot-U0bad");
        let long = Target {
            user: "U".repeat(100),
            ..t
        };
        assert_eq!(long.session_name().len(), 64);
    }

    #[test]
    fn access_denied_names_the_role() {
        let e = ExecError::Service {
            code: "AccessDeniedException".into(),
            message: "no".into(),
            status: 403,
            request_id: None,
            role: "arn:aws:iam::1:role/r".into(),
            retries: 0,
        };
        assert_eq!(
            e.to_string(),
            "AccessDeniedException: no (the channel's role arn:aws:iam::1:role/r is not allowed to do this)"
        );
    }

    #[test]
    fn backoff_is_full_jitter_doubling_up_to_the_cap() {
        let limits = Limits::default();
        assert_eq!(backoff(&limits, 0, 0.0), Duration::ZERO);
        assert_eq!(backoff(&limits, 0, 0.5), Duration::from_millis(500));
        assert_eq!(backoff(&limits, 2, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(&limits, 10, 1.0), Duration::from_secs(20));
        assert_eq!(backoff(&limits, 40, 1.0), Duration::from_secs(20));
        let draws: Vec<f64> = (0..100).map(|_| jitter()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        assert!(draws.iter().any(|d| *d > 0.5) && draws.iter().any(|d| *d < 0.5));
    }

    #[test]
    fn the_retry_quota_runs_out_and_fills_again() {
        let quota = RetryQuota::new(12);
        assert!(quota.acquire(TIMEOUT_RETRY_COST));
        assert!(!quota.acquire(RETRY_COST));
        quota.release(RETRY_COST);
        assert!(quota.acquire(RETRY_COST));
        quota.release(100);
        assert_eq!(quota.available(), 12);
    }

    #[test]
    fn what_is_retried() {
        let e = |status: u16, code: &str| ServiceError {
            status,
            code: code.into(),
            ..ServiceError::default()
        };
        for (status, code) in [
            (400, "ThrottlingException"),
            (400, "Throttling"),
            (429, "TooManyRequestsException"),
            (400, "RequestLimitExceeded"),
            (500, "ServiceException"),
            (503, "ServiceUnavailable"),
            (408, "RequestTimeout"),
        ] {
            assert!(is_retryable(&e(status, code)), "{status} {code}");
        }
        for (status, code) in [
            (400, "ValidationException"),
            (404, "ResourceNotFoundException"),
            (403, "AccessDeniedException"),
        ] {
            assert!(!is_retryable(&e(status, code)), "{status} {code}");
        }
    }

    #[test]
    fn errors_say_how_often_they_were_retried_and_what_timed_out() {
        let e = ExecError::Timeout {
            command: "lambda invoke".into(),
            after: Duration::from_secs(30),
            retries: 0,
        };
        assert!(
            e.to_string()
                .starts_with("lambda invoke did not finish within 30 s"),
            "{e}"
        );
        let e = ExecError::Service {
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
            status: 400,
            request_id: None,
            role: "r".into(),
            retries: 2,
        };
        assert_eq!(
            e.to_string(),
            "ThrottlingException: Rate exceeded (retried 2 times)"
        );
    }

    /// A stand-in for AWS on 127.0.0.1:0: STS AssumeRole always answers; Lambda answers
    /// `failures` errors of the given kind, then succeeds, or never answers.
    mod server {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        use axum::http::StatusCode;
        use axum::response::{IntoResponse, Response};

        #[derive(Clone, Copy)]
        pub enum Failure {
            Throttling,
            Unavailable,
            Silence,
        }

        pub struct Aws {
            pub url: String,
            pub lambda_calls: Arc<AtomicUsize>,
        }

        const ASSUMED: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>test-key-id</AccessKeyId><SecretAccessKey>test-secret</SecretAccessKey><SessionToken>test-session</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROATEST:chatbot-U1</AssumedRoleId><Arn>arn:aws:sts::111111111111:assumed-role/r/chatbot-U1</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata></AssumeRoleResponse>"#;

        pub async fn start(failure: Failure, failures: usize) -> Aws {
            let lambda_calls = Arc::new(AtomicUsize::new(0));
            let calls = lambda_calls.clone();
            let app = axum::Router::new().fallback(move |body: String| {
                let calls = calls.clone();
                async move {
                    if body.contains("Action=AssumeRole") {
                        return (StatusCode::OK, [("content-type", "text/xml")], ASSUMED)
                            .into_response();
                    }
                    let n = calls.fetch_add(1, Ordering::SeqCst);
                    if n < failures {
                        return fail(failure).await;
                    }
                    (
                        StatusCode::OK,
                        [("content-type", "application/json")],
                        r#"{"Configuration": {"FunctionName": "f"}}"#,
                    )
                        .into_response()
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            Aws { url, lambda_calls }
        }

        async fn fail(failure: Failure) -> Response {
            match failure {
                Failure::Throttling => (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("x-amzn-errortype", "TooManyRequestsException")],
                    r#"{"message": "Rate exceeded"}"#,
                )
                    .into_response(),
                Failure::Unavailable => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("x-amzn-errortype", "ServiceException")],
                    r#"{"message": "try later"}"#,
                )
                    .into_response(),
                Failure::Silence => std::future::pending().await,
            }
        }
    }

    async fn executor(url: &str, limits: Limits) -> Executor {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .load()
            .await;
        Executor::new(&sdk).with_limits(limits)
    }

    /// Tiny waits: nothing in these tests sleeps for long.
    fn quick() -> Limits {
        Limits {
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            attempt_timeout: Duration::from_millis(300),
            command_timeout: Duration::from_secs(10),
            ..Limits::default()
        }
    }

    fn target() -> Target {
        Target {
            role_arn: "arn:aws:iam::111111111111:role/r".into(),
            user: "U1".into(),
            region: "us-east-1".into(),
        }
    }

    fn get_function() -> Request {
        match crate::parse::parse("lambda get-function --function-name f").unwrap() {
            crate::parse::Parsed::Command(r) => *r,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn throttling_and_unavailable_are_retried_until_the_attempts_run_out() {
        use server::Failure;
        for failure in [Failure::Throttling, Failure::Unavailable] {
            // Two failures, then success: the third attempt answers.
            let aws = server::start(failure, 2).await;
            let ex = executor(&aws.url, quick()).await;
            let value = ex.run(&target(), &get_function()).await.unwrap();
            assert_eq!(value["Configuration"]["FunctionName"], "f");
            assert_eq!(ex.retries(), 2);
            assert_eq!(aws.lambda_calls.load(Ordering::SeqCst), 3);

            // Three failures: out of attempts, and the error says how often it tried.
            let aws = server::start(failure, 3).await;
            let ex = executor(&aws.url, quick()).await;
            let err = ex.run(&target(), &get_function()).await.unwrap_err();
            assert!(err.to_string().ends_with("(retried 2 times)"), "{err}");
            assert_eq!(aws.lambda_calls.load(Ordering::SeqCst), 3);
        }
    }

    #[tokio::test]
    async fn an_empty_retry_quota_stops_retrying() {
        let aws = server::start(server::Failure::Throttling, 100).await;
        let ex = executor(
            &aws.url,
            Limits {
                retry_quota: RETRY_COST,
                ..quick()
            },
        )
        .await;
        let err = ex.run(&target(), &get_function()).await.unwrap_err();
        assert!(err.to_string().ends_with("(retried once)"), "{err}");
        // The quota is spent: the next command is not retried at all.
        let err = ex.run(&target(), &get_function()).await.unwrap_err();
        assert!(!err.to_string().contains("retried"), "{err}");
        assert_eq!(aws.lambda_calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_silent_service_times_out_and_the_error_names_the_command() {
        let aws = server::start(server::Failure::Silence, usize::MAX).await;
        let limits = Limits {
            attempt_timeout: Duration::from_millis(100),
            command_timeout: Duration::from_millis(250),
            ..quick()
        };
        let ex = executor(&aws.url, limits).await;
        let started = Instant::now();
        let err = ex.run(&target(), &get_function()).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("lambda get-function did not finish within 250 ms (retried"),
            "{text}"
        );
        assert_eq!(err.code(), "Timeout");
        assert!(started.elapsed() < Duration::from_secs(5));
        // Each attempt timed out and was retried (10 tokens each) within the command's time.
        assert!(ex.retries() >= 1, "{}", ex.retries());
        assert!(aws.lambda_calls.load(Ordering::SeqCst) >= 2);
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_then_reported() {
        // A port nobody listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ex = executor(&format!("http://127.0.0.1:{port}"), quick()).await;
        // STS is unreachable too: give the executor credentials it already has.
        let key = (target().role_arn, target().user);
        ex.credentials
            .insert(
                key,
                CachedCredentials {
                    credentials: Credentials::new("test", "test", None, None, "tests"),
                    refresh_at: Instant::now() + Duration::from_secs(600),
                },
            )
            .await;
        let err = ex.run(&target(), &get_function()).await.unwrap_err();
        assert_eq!(err.code(), "TransportError");
        assert!(err.to_string().ends_with("(retried 2 times)"), "{err}");
        assert_eq!(ex.retries(), 2);
    }

    /// S3 in another region than the channel's: the first call, signed for us-east-1, is
    /// answered with the bucket's region, and the call is made again signed for it.
    #[tokio::test]
    async fn s3_calls_follow_the_bucket_to_its_region() {
        use axum::http::{HeaderMap as AxumHeaders, StatusCode};
        use axum::response::IntoResponse;
        let signed_for: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let seen = signed_for.clone();
        let app = axum::Router::new().fallback(move |headers: AxumHeaders, body: String| {
            let seen = seen.clone();
            async move {
                if body.contains("Action=AssumeRole") {
                    return (StatusCode::OK, ASSUMED).into_response();
                }
                let auth = headers["authorization"].to_str().unwrap().to_owned();
                seen.lock().unwrap().push(auth.clone());
                if auth.contains("/us-east-1/s3/") {
                    return (
                        StatusCode::BAD_REQUEST,
                        [("x-amz-bucket-region", "eu-west-1")],
                        "<Error><Code>AuthorizationHeaderMalformed</Code><Message>wrong region</Message></Error>",
                    )
                        .into_response();
                }
                (
                    StatusCode::OK,
                    "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>",
                )
                    .into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let ex = executor(&url, quick()).await;
        let request = match crate::parse::parse("s3api list-objects-v2 --bucket b").unwrap() {
            crate::parse::Parsed::Command(r) => *r,
            other => panic!("{other:?}"),
        };
        let value = ex.run(&target(), &request).await.unwrap();
        assert_eq!(
            value,
            serde_json::json!({"Prefix": null, "RequestCharged": null})
        );
        let signed = signed_for.lock().unwrap();
        assert_eq!(signed.len(), 2, "{signed:?}");
        assert!(
            signed[1].contains("/eu-west-1/s3/aws4_request"),
            "{}",
            signed[1]
        );
        // Not a retry: the retry budget is untouched.
        assert_eq!(ex.retries(), 0);
    }

    const ASSUMED: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>test-key-id</AccessKeyId><SecretAccessKey>test-secret</SecretAccessKey><SessionToken>test-session</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROATEST:chatbot-U1</AssumedRoleId><Arn>arn:aws:sts::111111111111:assumed-role/r/chatbot-U1</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata></AssumeRoleResponse>"#;

    #[test]
    fn pagination_tokens_round_trip() {
        let keys = vec!["Marker".to_owned()];
        let token = encode_token(&keys, &[Value::from("abc")], Some(3));
        assert_eq!(decode_token(&keys, &token), (vec![Value::from("abc")], 3));
        assert_eq!(decode_token(&keys, "raw!"), (vec![Value::from("raw!")], 0));
    }

    #[test]
    fn pagination_tokens_are_botocores() {
        use base64::Engine;
        let decode = |t: &str| {
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(t).unwrap()).unwrap()
        };
        // Python: base64.b64encode(json.dumps({...}).encode())
        let keys = vec!["Marker".to_owned()];
        assert_eq!(
            decode(&encode_token(&keys, &[Value::Null], Some(2))),
            r#"{"Marker": null, "boto_truncate_amount": 2}"#
        );
        assert_eq!(
            encode_token(&keys, &[Value::from("x")], None),
            "eyJNYXJrZXIiOiAieCJ9"
        );
        let two = vec!["A".to_owned(), "B".to_owned()];
        assert_eq!(
            decode(&encode_token(
                &two,
                &[Value::from("é\u{1F600}"), Value::from(3)],
                None
            )),
            r#"{"A": "\u00e9\ud83d\ude00", "B": 3}"#
        );
    }

    #[test]
    fn request_ids_come_from_headers_or_the_xml() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(
            request_id(
                &headers,
                b"<R><ResponseMetadata><RequestId> abc </RequestId></ResponseMetadata></R>"
            )
            .as_deref(),
            Some("abc")
        );
        headers.insert("x-amzn-RequestId", "hdr".parse().unwrap());
        assert_eq!(request_id(&headers, b"{}").as_deref(), Some("hdr"));
        assert_eq!(request_id(&http::HeaderMap::new(), b"{}"), None);
    }
}
