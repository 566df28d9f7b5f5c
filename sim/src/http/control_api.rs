//! `/_sim/...` on the dev host: the control API (no authentication; loopback only).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::respond::{json as json_response, ok};
use crate::control::Control;
use crate::faults::Faults;
use crate::options::Behaviours;

pub fn routes(control: Control) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/state", get(state))
        .route("/reset", post(reset))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/behaviours", get(get_behaviours).put(put_behaviours))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/throttle", get(throttle).delete(clear_throttle))
        .route("/token", post(token))
        .with_state(control)
}

fn bad_request(message: String) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({ "message": message }))
}

async fn index() -> Response {
    ok(json!({
        "endpoints": [
            "GET /_sim/state", "POST /_sim/reset", "GET|PUT /_sim/faults", "GET|PUT /_sim/behaviours",
            "GET|DELETE /_sim/requests", "GET|DELETE /_sim/throttle", "POST /_sim/token"
        ]
    }))
}

async fn state(State(control): State<Control>) -> Response {
    ok(control.state_json())
}

async fn reset(State(control): State<Control>) -> Response {
    match control.reset() {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": e.to_string() }),
        ),
    }
}

async fn get_faults(State(control): State<Control>) -> Response {
    ok(serde_json::to_value(control.faults()).unwrap_or_default())
}

async fn put_faults(State(control): State<Control>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            control.set_faults(faults.clone());
            ok(serde_json::to_value(faults).unwrap_or_default())
        }
        Err(e) => bad_request(format!("invalid faults document: {e}")),
    }
}

async fn get_behaviours(State(control): State<Control>) -> Response {
    ok(serde_json::to_value(control.behaviours()).unwrap_or_default())
}

async fn put_behaviours(State(control): State<Control>, body: Bytes) -> Response {
    match serde_json::from_slice::<Behaviours>(&body) {
        Ok(behaviours) => {
            control.set_behaviours(behaviours.clone());
            ok(serde_json::to_value(behaviours).unwrap_or_default())
        }
        Err(e) => bad_request(format!("invalid behaviours document: {e}")),
    }
}

async fn requests(State(control): State<Control>) -> Response {
    ok(serde_json::to_value(control.requests()).unwrap_or_default())
}

async fn clear_requests(State(control): State<Control>) -> Response {
    control.clear_requests();
    StatusCode::NO_CONTENT.into_response()
}

async fn throttle(State(control): State<Control>) -> Response {
    let violations = control.retry_after_violations();
    let total: u64 = violations.values().sum();
    ok(json!({ "retryAfterViolations": violations, "totalRetryAfterViolations": total }))
}

async fn clear_throttle(State(control): State<Control>) -> Response {
    control.clear_throttle();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    identity: String,
}

async fn token(State(control): State<Control>, body: Bytes) -> Response {
    let request: TokenRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("expected {{\"identity\": \"name\"}}: {e}")),
    };
    match control.issue_token(&request.identity) {
        Ok(token) => ok(json!({ "access_token": token, "token_type": "Bearer" })),
        Err(e) => bad_request(e.to_string()),
    }
}
