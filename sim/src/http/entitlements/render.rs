//! JSON of the Member Entitlement Management models, as the 7.1 spec defines them.

use serde_json::{json, Value};

use crate::http::graph::render::subject_json;
use crate::model::entitlements::{
    EntitlementError, GroupRule, Licence, Operation, ProjectEntitlement,
};
use crate::model::subjects::{Subject, SubjectKind};
use crate::model::Organization;

pub fn access_level(licence: Licence, by_rule: bool) -> Value {
    json!({
        "licensingSource": "account",
        "accountLicenseType": licence.wire_name(),
        "msdnLicenseType": "none",
        "licenseDisplayName": licence.display_name(),
        "status": "active",
        "statusMessage": "",
        "assignmentSource": if by_rule { "groupRule" } else { "unknown" },
    })
}

pub fn project_entitlement(org: &Organization, e: &ProjectEntitlement, by_rule: bool) -> Value {
    json!({
        "projectRef": { "id": e.project, "name": org.project_name(e.project).unwrap_or_default() },
        "group": { "groupType": e.group.wire_name(), "displayName": e.group.display_name() },
        "projectPermissionInherited": "notSet",
        "teamRefs": [],
        "assignmentSource": if by_rule { "groupRule" } else { "unknown" },
    })
}

/// A user's or service principal's entitlement: its direct level and projects plus what group
/// rules give it. `None` when it has none.
pub fn member_entitlement(vssps: &str, org: &Organization, subject: &Subject) -> Option<Value> {
    let entitlements = &org.entitlements;
    let (licence, by_rule) = entitlements.effective(&subject.descriptor)?;
    let direct = entitlements.member(&subject.descriptor);
    let rules = entitlements.rules_licensing(&subject.descriptor);
    let mut projects: Vec<Value> = direct
        .map(|m| {
            m.projects
                .iter()
                .map(|e| project_entitlement(org, e, false))
                .collect()
        })
        .unwrap_or_default();
    for rule in &rules {
        for e in &rule.projects {
            projects.push(project_entitlement(org, e, true));
        }
    }
    let created = direct
        .map(|m| m.date_created)
        .or_else(|| rules.iter().filter_map(|r| r.last_executed).min());
    let mut body = json!({
        "id": subject.storage_key,
        "accessLevel": access_level(licence, by_rule),
        "dateCreated": created,
        "lastAccessedDate": "0001-01-01T00:00:00Z",
        "projectEntitlements": projects,
        "groupAssignments": rules.iter().map(|r| rule_summary(vssps, org, r)).collect::<Vec<_>>(),
    });
    let key = match subject.kind {
        SubjectKind::ServicePrincipal => "servicePrincipal",
        _ => "user",
    };
    body[key] = subject_json(vssps, org, subject);
    Some(body)
}

/// A group rule as `groupAssignments` lists it (without members).
fn rule_summary(vssps: &str, org: &Organization, rule: &GroupRule) -> Value {
    let group = org.subject(&rule.group);
    json!({
        "id": group.map(|g| g.storage_key),
        "group": group.map(|g| subject_json(vssps, org, g)),
        "licenseRule": license_rule(rule),
        "projectEntitlements": rule.projects.iter().map(|e| project_entitlement(org, e, true)).collect::<Vec<_>>(),
        "status": rule.status.wire_name(),
        "lastExecuted": rule.last_executed,
    })
}

fn license_rule(rule: &GroupRule) -> Value {
    json!({
        "licensingSource": "account",
        "accountLicenseType": rule.licence.wire_name(),
        "msdnLicenseType": "none",
        "licenseDisplayName": rule.licence.display_name(),
        "status": "active",
        "statusMessage": rule.status_message,
        "assignmentSource": "groupRule",
    })
}

/// A group entitlement with the members it licensed.
pub fn group_entitlement(vssps: &str, org: &Organization, rule: &GroupRule) -> Value {
    let mut body = rule_summary(vssps, org, rule);
    let members: Vec<Value> = rule
        .licensed
        .iter()
        .filter_map(|d| org.subject(d))
        .filter_map(|s| member_entitlement(vssps, org, s))
        .collect();
    body["members"] = Value::Array(members);
    body
}

pub fn errors(errors: &[EntitlementError]) -> Value {
    Value::Array(
        errors
            .iter()
            .map(|e| json!({"key": e.key, "value": e.value}))
            .collect(),
    )
}

pub fn operation_url(vsaex: &str, org: &Organization, operation: &Operation) -> String {
    format!("{vsaex}/{}/_apis/operations/{}", org.name, operation.id)
}

/// `Operation` of the operations API.
pub fn operation(vsaex: &str, org: &Organization, operation: &Operation) -> Value {
    let url = operation_url(vsaex, org, operation);
    let message = operation
        .errors
        .iter()
        .map(|e| e.value.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    json!({
        "id": operation.id,
        "status": operation.status.wire_name(),
        "url": url,
        "pluginId": "00000000-0000-0000-0000-000000000000",
        "_links": { "self": { "href": url } },
        "detailedMessage": if message.is_empty() { Value::Null } else { Value::String(message.clone()) },
        "resultMessage": if message.is_empty() { Value::Null } else { Value::String(message) },
        "resultUrl": null,
    })
}
