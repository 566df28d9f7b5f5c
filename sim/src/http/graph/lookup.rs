//! Descriptors, storage keys, subject query (prefix search) and subject lookup (batch).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::render::{graph_base, subject_json};
use super::{governing_scope, organization};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond::{collection, ok, parse_body};
use crate::ids::scope_descriptor;
use crate::model::subjects::{GroupScope, SubjectKind};

const MAX_QUERY_RESULTS: usize = 100;
/// More lookup keys than this in one `subjectlookup` request is a 400 `TF400049`.
pub const MAX_LOOKUP_KEYS: usize = 500;

pub async fn descriptor(
    State(app): State<SharedApp>,
    Path((org_name, storage_key)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let key = Uuid::parse_str(&storage_key).map_err(|_| {
        ApiError::invalid_argument(format!("'{storage_key}' is not a valid storage key."))
    })?;
    let descriptor = if key == org.id {
        org.scope_descriptor.clone()
    } else if let Some(project) = org.projects.iter().find(|p| p.id == key) {
        scope_descriptor(project.id)
    } else {
        org.subjects
            .with_storage_key(key)
            .next()
            .map(|s| s.descriptor.clone())
            .ok_or_else(|| ApiError::identity_not_found(&format!("storage key '{storage_key}'")))?
    };
    Ok(ok(json!({
        "value": descriptor,
        "_links": {
            "self": { "href": format!("{}/Descriptors/{storage_key}", graph_base(&app.urls.vssps, org)) },
            "storageKey": { "href": format!("{}/StorageKeys/{descriptor}", graph_base(&app.urls.vssps, org)) },
        }
    })))
}

pub async fn storage_key(
    State(app): State<SharedApp>,
    Path((org_name, descriptor)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let key = match org.scope_of(&descriptor) {
        Some(GroupScope::Organization) => org.id,
        Some(GroupScope::Project(id)) => id,
        None => {
            org.subject(&descriptor)
                .ok_or_else(|| ApiError::subject_not_found(&descriptor))?
                .storage_key
        }
    };
    Ok(ok(json!({
        "value": key,
        "_links": {
            "self": { "href": format!("{}/StorageKeys/{descriptor}", graph_base(&app.urls.vssps, org)) },
            "descriptor": { "href": format!("{}/Descriptors/{key}", graph_base(&app.urls.vssps, org)) },
        }
    })))
}

pub async fn subject(
    State(app): State<SharedApp>,
    Path((org_name, descriptor)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let subject = org
        .subject(&descriptor)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    Ok(ok(subject_json(&app.urls.vssps, org, subject)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectQuery {
    #[serde(default)]
    query: String,
    #[serde(default)]
    subject_kind: Vec<String>,
    #[serde(default)]
    scope_descriptor: Option<String>,
}

pub async fn query(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let query: SubjectQuery = parse_body(&body, "subjectQuery")?;
    let loose = app.behaviours().subject_query_loose_scope;
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let scope = match query.scope_descriptor.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => {
            let scope = org
                .scope_of(d)
                .ok_or_else(|| ApiError::subject_not_found(d))?;
            caller.require_scope(org, scope, Need::Read)?;
            Some(scope)
        }
        None => None,
    };
    let kinds: Vec<SubjectKind> = query
        .subject_kind
        .iter()
        .filter_map(|k| match k.to_ascii_lowercase().as_str() {
            "group" => Some(SubjectKind::Group),
            "user" => Some(SubjectKind::User),
            "serviceprincipal" => Some(SubjectKind::ServicePrincipal),
            _ => None,
        })
        .collect();
    let prefix = query.query.trim().to_lowercase();
    let starts = |value: &str| value.to_lowercase().starts_with(&prefix);
    let values = org
        .subjects
        .iter()
        .filter(|s| !s.deleted)
        .filter(|s| kinds.is_empty() || kinds.contains(&s.kind))
        .filter(|s| match scope {
            None => true,
            Some(_) if loose => true,
            Some(scope) => !s.is_group() || s.scope == scope,
        })
        .filter(|s| {
            starts(&s.display_name)
                || starts(&s.principal_name)
                || s.principal_name
                    .split_once("]\\")
                    .is_some_and(|(_, name)| starts(name))
                || s.mail_address.as_deref().is_some_and(starts)
        })
        .filter(|s| {
            caller
                .require_scope(org, governing_scope(s), Need::Read)
                .is_ok()
        })
        .take(MAX_QUERY_RESULTS)
        .map(|s| subject_json(&app.urls.vssps, org, s))
        .collect();
    Ok(ok(collection(values)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupBody {
    #[serde(default)]
    lookup_keys: Vec<LookupKey>,
}

#[derive(Debug, Deserialize)]
struct LookupKey {
    descriptor: String,
}

pub async fn lookup(
    State(app): State<SharedApp>,
    Path(org_name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let request: LookupBody = parse_body(&body, "subjectLookup")?;
    if request.lookup_keys.len() > MAX_LOOKUP_KEYS {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "InvalidArgumentValueException",
            format!(
                "TF400049: The number of lookup keys ({}) exceeds the maximum of {MAX_LOOKUP_KEYS} per request.",
                request.lookup_keys.len()
            ),
        ));
    }
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let mut found = Map::new();
    for key in &request.lookup_keys {
        if let Some(subject) = org.subject(&key.descriptor) {
            found.insert(
                key.descriptor.clone(),
                subject_json(&app.urls.vssps, org, subject),
            );
        }
    }
    Ok(ok(
        json!({ "count": found.len(), "value": Value::Object(found) }),
    ))
}
