//! Small helpers for building Azure DevOps style responses and reading bodies.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::error::ApiError;

pub fn json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8; api-version=7.1"),
    );
    response
}

pub fn ok(body: Value) -> Response {
    json(StatusCode::OK, body)
}

/// `{"count":n,"value":[...]}`
pub fn collection(values: Vec<Value>) -> Value {
    json!({ "count": values.len(), "value": values })
}

pub fn created(body: Value, location: &str) -> Response {
    let mut response = json(StatusCode::CREATED, body);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Parses a JSON request body with Azure DevOps style errors.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8], parameter: &str) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ArgumentNullException",
            format!("Value cannot be null.\r\nParameter name: {parameter}"),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "VssRequestContentException",
            format!("The request body for '{parameter}' could not be read: {e}"),
        )
    })
}
