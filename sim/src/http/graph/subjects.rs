//! What the group, user and service principal routes share: a page of a subject list, and the
//! answer to a create (after joining the new subject to its `groupDescriptors` groups).

use axum::http::HeaderValue;
use axum::response::Response;

use super::render::{subject_json, subject_url};
use crate::http::app::SharedApp;
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{collection, created, ok};
use crate::ids::{decode_continuation, descriptor_prefix, encode_continuation};
use crate::model::subjects::{Membership, Subject};
use crate::model::Organization;

/// One page of `all`, from the `continuationToken` offset, `page_size` long. Like the real
/// service, the page is cut before it is filtered (by `subjectTypes` and `keep`), so a page can be
/// empty and still carry an `x-ms-continuationtoken` for the next one.
pub fn page(
    app: &SharedApp,
    org: &Organization,
    params: &Params,
    all: &[&Subject],
    page_size: usize,
    keep: impl Fn(&Subject) -> bool,
) -> ApiResult<Response> {
    let types: Vec<String> = params
        .list("subjectTypes")
        .into_iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let offset = match params.get("continuationToken") {
        Some(token) => decode_continuation(token).ok_or_else(|| {
            ApiError::invalid_argument(format!("The continuation token '{token}' is not valid."))
        })?,
        None => 0,
    };
    let end = (offset + page_size.max(1)).min(all.len());
    let values = all
        .get(offset.min(all.len())..end)
        .unwrap_or_default()
        .iter()
        .filter(|s| keep(s))
        .filter(|s| {
            types.is_empty()
                || descriptor_prefix(&s.descriptor).is_some_and(|p| types.iter().any(|t| t == p))
        })
        .map(|s| subject_json(&app.urls.vssps, org, s))
        .collect();
    let mut response = ok(collection(values));
    if end < all.len() {
        if let Ok(value) = HeaderValue::from_str(&encode_continuation(end)) {
            response
                .headers_mut()
                .insert("x-ms-continuationtoken", value);
        }
    }
    Ok(response)
}

/// Makes `descriptor` a member of each of `parents` (already checked by the caller), visible
/// after the configured consistency lag.
pub fn join_parents(app: &SharedApp, org: &mut Organization, parents: &[String], descriptor: &str) {
    let visible_at = app.visible_from_now();
    for parent in parents {
        if !org.has_membership(parent, descriptor) {
            org.memberships.insert(Membership {
                container: parent.clone(),
                member: descriptor.to_string(),
                visible_at,
            });
        }
    }
}

/// `201 Created` with the subject and its `Location`.
pub fn created_subject(app: &SharedApp, org: &Organization, descriptor: &str) -> ApiResult {
    let subject = org
        .subject(descriptor)
        .ok_or_else(|| ApiError::subject_not_found(descriptor))?;
    let location = subject_url(&app.urls.vssps, org, subject);
    Ok(created(
        subject_json(&app.urls.vssps, org, subject),
        &location,
    ))
}
