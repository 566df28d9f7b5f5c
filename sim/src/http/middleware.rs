//! Request pipeline: logging, throttling and injected faults.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tokio::sync::Notify;

use super::app::SharedApp;
use super::auth::{Caller, CallerName};
use super::error::ApiError;
use super::version::VersionSwitches;
use crate::faults::{roll, RateLimitHeaders, ThrottleDecision};
use crate::log::{HostKind, RequestRecord};

/// Lets a handler close the underlying connection without answering (dropped-connection fault).
#[derive(Debug, Clone, Default)]
pub struct ConnectionHandle(pub Arc<Notify>);

impl ConnectionHandle {
    pub fn drop_connection(&self) {
        self.0.notify_one();
    }
}

/// What the log middleware knows before the request runs; faults use it to log dropped requests.
#[derive(Debug, Clone)]
pub struct LogTicket {
    started: Instant,
    method: String,
    host: HostKind,
    route: String,
    path: String,
    query: String,
}

impl LogTicket {
    fn finish(&self, status: u16, identity: Option<String>) -> RequestRecord {
        RequestRecord {
            seq: 0,
            at: Utc::now(),
            method: self.method.clone(),
            host: self.host,
            route: self.route.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            status,
            identity,
            duration_ms: self.started.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

#[derive(Clone)]
pub struct LogConfig {
    pub app: SharedApp,
    pub host: HostKind,
}

pub async fn log_requests(
    State(config): State<LogConfig>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".to_string());
    let ticket = LogTicket {
        started: Instant::now(),
        method: request.method().to_string(),
        host: config.host,
        route,
        path: request.uri().path().to_string(),
        query: request.uri().query().unwrap_or_default().to_string(),
    };
    request.extensions_mut().insert(ticket.clone());
    let mut response = next.run(request).await;
    let identity = response
        .extensions()
        .get::<CallerName>()
        .map(|c| c.0.clone());
    config
        .app
        .log()
        .record(ticket.finish(response.status().as_u16(), identity));
    let activity = uuid::Uuid::new_v4().to_string();
    if let Ok(value) = HeaderValue::from_str(&activity) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("activityid"), value);
    }
    response
}

fn insert_rate_limit_headers(response: &mut Response, headers: &RateLimitHeaders) {
    if headers.delay_secs > 0.0 {
        if let Ok(value) = HeaderValue::from_str(&format!("{:.3}", headers.delay_secs)) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-ratelimit-delay"), value);
        }
    }
    let pairs = [
        ("x-ratelimit-resource", headers.resource.clone()),
        (
            "x-ratelimit-limit",
            format!("{}", headers.limit.round() as i64),
        ),
        (
            "x-ratelimit-remaining",
            format!("{}", headers.remaining.floor() as i64),
        ),
        ("x-ratelimit-reset", headers.reset_epoch.to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
}

/// Requests that draw on the pipelines' budget: the build and pipelines areas.
fn is_pipelines_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.contains("/_apis/build/") || lower.contains("/_apis/pipelines/")
}

/// Per-identity TSTU throttling (after authentication, so it knows the identity).
pub async fn throttle(State(app): State<SharedApp>, request: Request, next: Next) -> Response {
    let Some(identity) = request.extensions().get::<Caller>().map(|c| c.name.clone()) else {
        return next.run(request).await;
    };
    let now = Instant::now();
    let path = request.uri().path().to_string();
    let faults = app.faults();
    let config = faults.throttling;
    let limits = faults.rate_limits;
    // Each budget keeps its own usage and its own Retry-After bookkeeping.
    let pipelines = config
        .as_ref()
        .is_some_and(|_| limits.pipelines_budget > 0.0 && is_pipelines_path(&path));
    let key = if pipelines {
        format!("{identity}#pipelines")
    } else {
        identity.clone()
    };
    let decision = {
        let mut throttle = app.throttle();
        throttle.note_arrival(&key, now);
        match &config {
            Some(config) => {
                let (resource, budget) = if pipelines {
                    ("Pipelines", limits.pipelines_budget)
                } else {
                    ("Core", config.budget)
                };
                let decision =
                    throttle.decide_in(&key, resource, budget, config, limits.warn_from, now);
                if let ThrottleDecision::Block {
                    retry_after_secs, ..
                } = &decision
                {
                    throttle.note_retry_after(&key, now, *retry_after_secs);
                }
                decision
            }
            None => ThrottleDecision::Pass,
        }
    };
    match decision {
        ThrottleDecision::Pass => next.run(request).await,
        ThrottleDecision::Warn { headers } => {
            let mut response = next.run(request).await;
            insert_rate_limit_headers(&mut response, &headers);
            response
        }
        ThrottleDecision::Delay { delay, headers } => {
            tokio::time::sleep(delay).await;
            let mut response = next.run(request).await;
            insert_rate_limit_headers(&mut response, &headers);
            if limits.retry_after_on_delay {
                let secs = delay.as_secs_f64().ceil().max(1.0) as u64;
                app.throttle().note_retry_after(&key, Instant::now(), secs);
                if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, value);
                }
            }
            response
        }
        ThrottleDecision::Block {
            retry_after_secs,
            headers,
        } => {
            let message = format!(
                "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource '{}' in namespace 'User'. For more information on why your request was blocked, see the topic \"Rate limits\" on the Microsoft Web site (https://go.microsoft.com/fwlink/?LinkId=823950).",
                headers.resource
            );
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RequestBlockedException",
                message,
            )
            .with_header(
                axum::http::header::RETRY_AFTER,
                retry_after_secs.to_string(),
            )
            .into_response();
            insert_rate_limit_headers(&mut response, &headers);
            response
        }
    }
}

/// Hands the api-version behaviour switches to the per-route version check.
pub async fn version_switches(
    State(app): State<SharedApp>,
    mut request: Request,
    next: Next,
) -> Response {
    let behaviours = app.behaviours();
    request.extensions_mut().insert(VersionSwitches {
        refuse_released_preview: behaviours.refuse_released_preview,
    });
    next.run(request).await
}

/// Latency, server errors, dropped connections and lost answers.
pub async fn inject_faults(State(app): State<SharedApp>, request: Request, next: Next) -> Response {
    let faults = app.faults();
    if let Some(latency) = &faults.latency {
        tokio::time::sleep(latency.sample()).await;
    }
    if roll(faults.drop_rate) {
        if let Some(handle) = request.extensions().get::<ConnectionHandle>() {
            if let Some(ticket) = request.extensions().get::<LogTicket>() {
                let identity = request.extensions().get::<Caller>().map(|c| c.name.clone());
                app.log().record(ticket.finish(0, identity));
            }
            handle.drop_connection();
            std::future::pending::<()>().await;
        }
    }
    if let Some(lost) = app.take_lost_answer(request.method().as_str(), request.uri().path()) {
        if let Some(handle) = request.extensions().get::<ConnectionHandle>().cloned() {
            let ticket = request.extensions().get::<LogTicket>().cloned();
            let identity = request.extensions().get::<Caller>().map(|c| c.name.clone());
            // Carried out (a write lands), then the connection closes before the answer.
            let response = next.run(request).await;
            if let Some(ticket) = ticket {
                let status = response.status().as_u16();
                app.log().record(ticket.finish(status, identity));
            }
            tokio::time::sleep(std::time::Duration::from_millis(lost.hold_ms)).await;
            handle.drop_connection();
            return std::future::pending::<Response>().await;
        }
    }
    if let Some(injected) = app.take_injected_error(request.method().as_str(), request.uri().path())
    {
        let status = StatusCode::from_u16(injected.status).unwrap_or(StatusCode::BAD_REQUEST);
        return super::respond::json(
            status,
            serde_json::json!({
                "$id": "1",
                "innerException": null,
                "message": injected.message,
                "typeName": format!("Microsoft.VisualStudio.Services.WebApi.{}, Microsoft.VisualStudio.Services.WebApi", injected.type_key),
                "typeKey": injected.type_key,
                "errorCode": 0,
                "eventId": 3000,
            }),
        );
    }
    if roll(faults.error_rate) {
        let status = StatusCode::from_u16(faults.error_status)
            .ok()
            .filter(|s| s.is_server_error())
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return ApiError::new(
            status,
            "VssServiceException",
            "TF400898: An Internal Error Occurred. Activity Id: 00000000-0000-0000-0000-000000000000.",
        )
        .into_response();
    }
    next.run(request).await
}
