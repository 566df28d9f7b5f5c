//! Reading entitlement bodies: access levels, project entitlements, and the JSON patch
//! documents of the update calls (`/accessLevel` or `/licenseRule`, `/projectEntitlements`,
//! `/projectEntitlements/{projectId}`, `/extensions` and `/extensionRules`, accepted and
//! ignored: azdo-sim has no extensions).

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::model::entitlements::{
    codes, EntitlementError, Licence, ProjectEntitlement, ProjectGroup,
};
use crate::model::Organization;

#[derive(Debug, Deserialize)]
pub struct PatchOperation {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Value,
}

/// One change an update asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Level(Licence),
    AddProject(ProjectEntitlement),
    RemoveProject(Uuid),
}

fn error(key: u32, value: String) -> EntitlementError {
    EntitlementError { key, value }
}

/// `accessLevel` / `licenseRule`: its `accountLicenseType`.
pub fn licence(value: &Value) -> Result<Licence, EntitlementError> {
    let raw = value
        .get("accountLicenseType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Licence::parse(raw).ok_or_else(|| {
        error(
            codes::NOT_FOUND,
            format!("VS403290: '{raw}' is not an access level (accountLicenseType)."),
        )
    })
}

/// A project entitlement whose project and project group exist.
pub fn project_entitlement(
    org: &Organization,
    value: &Value,
) -> Result<ProjectEntitlement, EntitlementError> {
    let project_key = value
        .pointer("/projectRef/id")
        .and_then(Value::as_str)
        .or_else(|| value.pointer("/projectRef/name").and_then(Value::as_str))
        .unwrap_or_default();
    let project = org.project(project_key).ok_or_else(|| {
        error(
            codes::INVALID_PROJECT,
            format!("VS403291: The project '{project_key}' does not exist."),
        )
    })?;
    let group_type = value
        .pointer("/group/groupType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let display = value.pointer("/group/displayName").and_then(Value::as_str);
    let group = ProjectGroup::parse(group_type, display).ok_or_else(|| {
        error(
            codes::INVALID_PROJECT,
            format!("VS403292: '{group_type}' is not a project group type (a custom group needs its displayName)."),
        )
    })?;
    let entitlement = ProjectEntitlement {
        project: project.id,
        group,
    };
    if org.project_group_descriptor(&entitlement).is_none() {
        return Err(error(
            codes::INVALID_PROJECT,
            format!(
                "VS403292: The project '{}' has no group '{}'.",
                project.name,
                entitlement.group.group_name()
            ),
        ));
    }
    Ok(entitlement)
}

pub fn project_entitlements(
    org: &Organization,
    values: Option<&Value>,
) -> Result<Vec<ProjectEntitlement>, EntitlementError> {
    let mut out: Vec<ProjectEntitlement> = Vec::new();
    for value in values.and_then(Value::as_array).into_iter().flatten() {
        let e = project_entitlement(org, value)?;
        // One entitlement per project: the last one wins.
        out.retain(|o| o.project != e.project);
        out.push(e);
    }
    Ok(out)
}

/// The changes of a patch document (all checked before anything is applied).
pub fn changes(
    org: &Organization,
    operations: &[PatchOperation],
) -> Result<Vec<Change>, EntitlementError> {
    let mut out = Vec::new();
    for operation in operations {
        let path = operation.path.trim_end_matches('/').to_ascii_lowercase();
        let op = operation.op.to_ascii_lowercase();
        match (op.as_str(), path.as_str()) {
            ("replace" | "add", "/accesslevel" | "/licenserule") => {
                out.push(Change::Level(licence(&operation.value)?))
            }
            ("add" | "replace", "/projectentitlements") => out.push(Change::AddProject(
                project_entitlement(org, &operation.value)?,
            )),
            ("remove", p) if p.starts_with("/projectentitlements/") => {
                let raw = &operation.path[operation.path.rfind('/').map_or(0, |i| i + 1)..];
                let id = Uuid::parse_str(raw).map_err(|_| {
                    error(
                        codes::INVALID_PROJECT,
                        format!("VS403291: '{raw}' is not a project id."),
                    )
                })?;
                out.push(Change::RemoveProject(id));
            }
            (_, "/extensions" | "/extensionrules") => {}
            _ => {
                return Err(error(
                    codes::NOT_FOUND,
                    format!(
                        "VS403293: The operation '{} {}' is not supported.",
                        operation.op, operation.path
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// Applies changes to a level and project list; returns the projects removed and added.
pub fn apply(
    changes: &[Change],
    level: &mut Licence,
    projects: &mut Vec<ProjectEntitlement>,
) -> (Vec<ProjectEntitlement>, Vec<ProjectEntitlement>) {
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for change in changes {
        match change {
            Change::Level(l) => *level = *l,
            Change::AddProject(e) => {
                if let Some(old) = projects.iter().position(|p| p.project == e.project) {
                    removed.push(projects.remove(old));
                }
                projects.push(e.clone());
                added.push(e.clone());
            }
            Change::RemoveProject(id) => {
                if let Some(old) = projects.iter().position(|p| p.project == *id) {
                    removed.push(projects.remove(old));
                }
            }
        }
    }
    (removed, added)
}
