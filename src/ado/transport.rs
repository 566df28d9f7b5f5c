//! THE request path: every Azure DevOps call goes through [`Transport::execute`], which adds
//! the headers Azure DevOps needs, waits for admission (concurrency bound, Retry-After barrier,
//! pacing), classifies the answer, refreshes the token once on 401, and retries what is safe
//! to retry within an attempts/elapsed budget.

use super::backoff::BackoffPolicy;
use super::error::{
    classify, non_json_success, sanitize, ApiErrorDetail, FailedResponse, NOT_IN_ORGANIZATION,
};
use super::metrics::AdoMetrics;
use super::tenant::{self, Shares};
use super::throttle::{Lane, ServerHints, Throttle, ThrottleConfig};
use super::AdoError;
use crate::auth::TokenSource;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// How long a descriptor this client just created may still answer 404 (replication): a 404 on
/// a URL naming it is retried within the call's budget.
const FRESH_WINDOW: Duration = Duration::from_secs(30);
/// Attempts of a call that keeps answering 404 for a fresh descriptor.
const FRESH_404_ATTEMPTS: u32 = 4;
/// Attempts of an Entra materialization that answers 503 (the second 503 is final).
const ENTRA_503_ATTEMPTS: u32 = 2;

/// Retry budget of one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryLimits {
    /// Attempts per call, the first one included (a token refresh after 401 is extra).
    pub max_attempts: u32,
    /// No retry is started once this much time has passed since the first attempt (waiting for
    /// a Retry-After that would end later returns `Throttled` instead).
    pub max_elapsed: Duration,
    pub backoff: BackoffPolicy,
    /// Timeout of one attempt.
    pub request_timeout: Duration,
}

impl Default for RetryLimits {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            max_elapsed: Duration::from_secs(60),
            backoff: BackoffPolicy::default(),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json(serde_json::Value),
    JsonPatch(serde_json::Value),
}

/// One logical call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub operation: &'static str,
    pub method: Method,
    pub url: Url,
    pub api_version: &'static str,
    pub body: Body,
    /// Repeating the call has the same effect as sending it once. Non-idempotent calls are only
    /// retried when the server certainly did not process them (429, connection not made).
    pub idempotent: bool,
    /// The call materializes an Entra identity (plain-text 503 = permanent failure).
    pub entra_lookup: bool,
    /// A POST that only reads (a subject query or lookup): allowed while observing.
    pub query: bool,
}

impl Call {
    pub(crate) fn get(operation: &'static str, url: Url, api_version: &'static str) -> Self {
        Self {
            operation,
            method: Method::GET,
            url,
            api_version,
            body: Body::None,
            idempotent: true,
            entra_lookup: false,
            query: false,
        }
    }

    /// Whether the call may change Azure DevOps: anything but a GET, a HEAD or a query POST.
    /// Materializing a subject (POST) is a write: it adds the identity to the organization.
    pub(crate) fn writes(&self) -> bool {
        !(self.method == Method::GET || self.method == Method::HEAD || self.query)
    }

    /// A POST that reads only (a subject query or lookup).
    pub(crate) fn query(mut self) -> Self {
        self.method = Method::POST;
        self.query = true;
        self
    }

    pub(crate) fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    pub(crate) fn with_json(mut self, body: serde_json::Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub(crate) fn with_json_patch(mut self, body: serde_json::Value) -> Self {
        self.body = Body::JsonPatch(body);
        self
    }

    pub(crate) fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }

    pub(crate) fn entra_lookup(mut self) -> Self {
        self.entra_lookup = true;
        self
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub operation: &'static str,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, AdoError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            AdoError::Decode(ApiErrorDetail {
                operation: self.operation,
                status: Some(self.status),
                type_key: None,
                message: sanitize(&format!(
                    "the response did not have the expected shape: {e}"
                )),
            })
        })
    }

    /// `X-MS-ContinuationToken`, when non-empty.
    pub(crate) fn continuation_token(&self) -> Option<String> {
        self.headers
            .get("x-ms-continuationtoken")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    }
}

/// The shared request path of one organization.
pub(crate) struct Transport {
    organization: String,
    http: reqwest::Client,
    credential: Arc<dyn TokenSource>,
    throttle: Throttle,
    shares: Arc<Shares>,
    limits: RetryLimits,
    metrics: Arc<AdoMetrics>,
    /// Descriptors created by this client, with when (see [`FRESH_WINDOW`]).
    fresh: Mutex<Vec<(String, Instant)>>,
}

enum Attempt {
    Done(Reply),
    Failed(AdoError),
    Network(reqwest::Error),
}

impl Transport {
    pub(crate) fn new(
        organization: String,
        http: reqwest::Client,
        credential: Arc<dyn TokenSource>,
        throttle: ThrottleConfig,
        limits: RetryLimits,
        metrics: Arc<AdoMetrics>,
    ) -> Self {
        Self {
            organization,
            http,
            credential,
            throttle: Throttle::new(throttle),
            shares: Shares::new(throttle.max_concurrency),
            limits,
            metrics,
            fresh: Mutex::new(Vec::new()),
        }
    }

    /// Remember a descriptor this client just created: reads and writes naming it may answer
    /// 404 for a moment (replication), and are retried meanwhile.
    pub(crate) fn note_created(&self, descriptor: &str) {
        let now = Instant::now();
        let mut fresh = self.fresh.lock().unwrap_or_else(|p| p.into_inner());
        fresh.retain(|(_, at)| now.duration_since(*at) < FRESH_WINDOW);
        fresh.push((descriptor.to_string(), now));
    }

    /// Whether the call names a descriptor created within [`FRESH_WINDOW`].
    fn names_fresh_descriptor(&self, call: &Call) -> bool {
        let now = Instant::now();
        let path = call.url.path();
        self.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(d, at)| now.duration_since(*at) < FRESH_WINDOW && path.contains(d.as_str()))
    }

    pub(crate) fn metrics(&self) -> &AdoMetrics {
        &self.metrics
    }

    /// Send a call with admission control, classification, token refresh and retries.
    pub(crate) async fn execute(&self, call: &Call) -> Result<Reply, AdoError> {
        let started = Instant::now();
        let lane = Lane::of_path(call.url.path());
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            // A barrier that outlasts the budget is not waited out here: the caller is told to
            // come back later (and nothing is sent before it elapses either way).
            if let Some(until) = self.throttle.blocked_until(lane) {
                let wait = until.saturating_duration_since(Instant::now());
                if started.elapsed() + wait > self.limits.max_elapsed {
                    return Err(AdoError::Throttled {
                        detail: ApiErrorDetail {
                            operation: call.operation,
                            status: None,
                            type_key: None,
                            message: format!(
                                "Azure DevOps asked to wait {}s before the next request",
                                wait.as_secs_f64().ceil()
                            ),
                        },
                        retry_after: Some(wait),
                    });
                }
            }
            tenant::check_may_write(call.operation, call.writes())?;
            let header = self.credential.authorization_header().await?;
            // A fair turn among namespaces at the organization's slots; no call is started
            // past the reconcile's deadline.
            let share = self.shares.enter().await;
            tenant::check_deadline(call.operation)?;
            let admission = self.throttle.admit(lane).await;
            self.metrics
                .throttled(&self.organization, admission.throttled_for);
            let sent = Instant::now();
            let outcome = self.attempt(call, &header).await;
            drop(admission);
            drop(share);
            let elapsed = sent.elapsed();

            let error = match outcome {
                Attempt::Done(reply) => {
                    self.metrics.request(
                        &self.organization,
                        call.operation,
                        Some(reply.status),
                        elapsed,
                    );
                    tracing::debug!(
                        organization = %self.organization,
                        operation = call.operation,
                        status = reply.status,
                        attempt,
                        elapsed_ms = elapsed.as_millis() as u64,
                        "azure devops call"
                    );
                    return Ok(reply);
                }
                Attempt::Failed(error) => {
                    self.metrics.request(
                        &self.organization,
                        call.operation,
                        error.status(),
                        elapsed,
                    );
                    error
                }
                Attempt::Network(error) => {
                    self.metrics
                        .request(&self.organization, call.operation, None, elapsed);
                    // A connection that was never made carried nothing: safe to retry any call.
                    let safe = call.idempotent || error.is_connect();
                    let error_text = sanitize(&network_message(&error));
                    let err = AdoError::Transient(ApiErrorDetail {
                        operation: call.operation,
                        status: None,
                        type_key: None,
                        message: error_text,
                    });
                    if safe {
                        if let Some(delay) = self.retry_delay(attempt, started, None) {
                            self.note_retry(call, "network", attempt, delay, &err);
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                    }
                    return Err(err);
                }
            };

            match &error {
                // A principal the organization does not know: a new token would not help.
                AdoError::Unauthorized(detail) if detail.message.contains(NOT_IN_ORGANIZATION) => {}
                AdoError::Unauthorized(_) if !refreshed => {
                    refreshed = true;
                    attempt -= 1;
                    self.metrics
                        .retry(&self.organization, call.operation, "unauthorized");
                    // If another call already refreshed the token, use the new one as is.
                    let current = self.credential.authorization_header().await?;
                    if current == header {
                        self.credential.invalidate();
                    }
                    tracing::info!(
                        organization = %self.organization,
                        operation = call.operation,
                        kind = self.credential.kind(),
                        "token not accepted; refreshing it once"
                    );
                    continue;
                }
                AdoError::Throttled { retry_after, .. } => {
                    // A throttled request was not processed: retrying is safe for any call.
                    if let Some(delay) = self.retry_delay(attempt, started, *retry_after) {
                        self.note_retry(call, "throttled", attempt, delay, &error);
                        // The Retry-After barrier itself is enforced by admission.
                        if retry_after.is_none() {
                            tokio::time::sleep(delay).await;
                        }
                        continue;
                    }
                }
                // One more try for an Entra lookup's 503 (a blip), never a storm: the second is
                // final (the identity may not read the directory).
                AdoError::EntraLookup(_) if attempt < ENTRA_503_ATTEMPTS => {
                    if let Some(delay) = self.retry_delay(attempt, started, None) {
                        self.note_retry(call, "entra_lookup", attempt, delay, &error);
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                }
                // A 404 right after a create is replication, not absence. HEAD and DELETE are
                // left alone: their 404 is an answer ("not a member", "already gone").
                AdoError::NotFound(_)
                    if attempt < FRESH_404_ATTEMPTS
                        && call.method != Method::HEAD
                        && call.method != Method::DELETE
                        && self.names_fresh_descriptor(call) =>
                {
                    if let Some(delay) = self.retry_delay(attempt, started, None) {
                        self.note_retry(call, "not_yet_replicated", attempt, delay, &error);
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                }
                AdoError::Transient(_) if call.idempotent => {
                    let retry_after = self
                        .throttle
                        .blocked_until(lane)
                        .map(|t| t - Instant::now());
                    if let Some(delay) = self.retry_delay(attempt, started, retry_after) {
                        self.note_retry(call, "server_error", attempt, delay, &error);
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                }
                _ => {}
            }
            tracing::debug!(
                organization = %self.organization,
                operation = call.operation,
                attempt,
                error = %error,
                "azure devops call failed"
            );
            return Err(error);
        }
    }

    fn note_retry(
        &self,
        call: &Call,
        reason: &'static str,
        attempt: u32,
        delay: Duration,
        error: &AdoError,
    ) {
        self.metrics
            .retry(&self.organization, call.operation, reason);
        tracing::debug!(
            organization = %self.organization,
            operation = call.operation,
            attempt,
            delay_ms = delay.as_millis() as u64,
            reason,
            error = %error,
            "retrying azure devops call"
        );
    }

    /// The backoff before the next attempt, or `None` when the budget is spent (including when
    /// the server asks us to wait longer than what is left of it).
    fn retry_delay(
        &self,
        attempt: u32,
        started: Instant,
        server_wait: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.limits.max_attempts {
            return None;
        }
        let delay = self.limits.backoff.delay_random(attempt);
        let wait = delay.max(server_wait.unwrap_or_default());
        (started.elapsed() + wait <= self.limits.max_elapsed).then_some(delay)
    }

    async fn attempt(&self, call: &Call, authorization: &str) -> Attempt {
        let mut url = call.url.clone();
        url.query_pairs_mut()
            .append_pair("api-version", call.api_version);
        let Ok(mut auth_value) = HeaderValue::from_str(authorization) else {
            return Attempt::Failed(AdoError::Config(
                "the token source produced an invalid header value".to_string(),
            ));
        };
        auth_value.set_sensitive(true);
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .timeout(self.limits.request_timeout)
            .header(AUTHORIZATION, auth_value)
            .header(ACCEPT, "application/json")
            .header("X-TFS-FedAuthRedirect", "Suppress");
        request = match &call.body {
            Body::None => request,
            Body::Json(value) => request
                .header(CONTENT_TYPE, "application/json")
                .body(value.to_string()),
            Body::JsonPatch(value) => request
                .header(CONTENT_TYPE, "application/json-patch+json")
                .body(value.to_string()),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Attempt::Network(e),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(e) => return Attempt::Network(e),
        };
        let retry_after = self.throttle.observe(
            Lane::of_path(call.url.path()),
            &ServerHints::from_headers(&headers, SystemTime::now()),
        );
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let success = (200..300).contains(&status) && status != 203;
        if success {
            if !body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
                return Attempt::Failed(non_json_success(call.operation, status, content_type));
            }
            return Attempt::Done(Reply {
                operation: call.operation,
                status,
                headers,
                body,
            });
        }
        Attempt::Failed(classify(&FailedResponse {
            operation: call.operation,
            status,
            content_type,
            body: &body,
            retry_after,
            entra_lookup: call.entra_lookup,
        }))
    }
}

/// reqwest's message plus its sources, without the URL's query string.
fn network_message(error: &reqwest::Error) -> String {
    let mut message = error.without_url_ref_message();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

trait WithoutUrl {
    fn without_url_ref_message(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref_message(&self) -> String {
        let kind = if self.is_timeout() {
            "request timed out"
        } else if self.is_connect() {
            "connection failed"
        } else if self.is_body() || self.is_decode() {
            "reading the response failed"
        } else {
            "request failed"
        };
        match self.url() {
            Some(url) => format!("{kind} ({}{})", url.host_str().unwrap_or(""), url.path()),
            None => kind.to_string(),
        }
    }
}
