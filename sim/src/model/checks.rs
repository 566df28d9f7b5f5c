//! Check configurations ("approvals and checks") on protected resources: the check types the
//! published 7.1 spec and its examples name, the settings shape of each, and validation of what
//! a client sends.
//!
//! Types (`type.id`):
//! - Approval `8c6f20a7-a545-4486-9777-f762fafe0d4d`: `ApprovalConfigSettings`
//!   (`approvers`, `blockedApprovers`, `executionOrder`, `instructions`,
//!   `minRequiredApprovers`, `requesterCannotBeApprover`).
//! - Task Check `fe1de3ee-a436-41b4-bb20-f6eb4cb879a7`: `TaskCheckConfig` (`definitionRef`,
//!   `displayName`, `inputs`, `linkedVariableGroup`, `retryInterval`); the definitions served:
//!   business hours (`evaluateBusinessHours`, `445fde2f-…`, the spec's example) and branch
//!   control (`evaluatebranchProtection`, `86b05a0c-…`).
//! - ExclusiveLock `2ef31ad6-baa0-403a-8b45-2cbc9b4e5563`: no settings.
//! - ExtendsCheck (required template) `4020e66e-b0f3-47e1-bc88-48f3cc59b5f3`:
//!   `{"extendsChecks":[{repositoryType, repositoryName, repositoryRef, templatePath}]}`.
//!
//! The spec documents the first two (model and examples); the type ids of the last two and the
//! branch control definition are the ones Microsoft's Terraform provider and the web UI send.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::permissions::{Actor, ResourceType};

pub const APPROVAL: &str = "8c6f20a7-a545-4486-9777-f762fafe0d4d";
pub const TASK_CHECK: &str = "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7";
pub const EXCLUSIVE_LOCK: &str = "2ef31ad6-baa0-403a-8b45-2cbc9b4e5563";
pub const EXTENDS_CHECK: &str = "4020e66e-b0f3-47e1-bc88-48f3cc59b5f3";

pub const BUSINESS_HOURS: &str = "445fde2f-6c39-441c-807f-8a59ff2e075f";
pub const BRANCH_PROTECTION: &str = "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b";

/// The longest timeout the service accepts, in minutes (30 days), and its default.
pub const MAX_TIMEOUT: u32 = 43200;

/// Resource types checks can be configured on.
pub const CHECKED_TYPES: [ResourceType; 6] = [
    ResourceType::Queue,
    ResourceType::Environment,
    ResourceType::Endpoint,
    ResourceType::VariableGroup,
    ResourceType::SecureFile,
    ResourceType::Repository,
];

/// A check type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckKind {
    Approval,
    TaskCheck,
    ExclusiveLock,
    ExtendsCheck,
}

impl CheckKind {
    pub const ALL: [CheckKind; 4] = [
        CheckKind::Approval,
        CheckKind::TaskCheck,
        CheckKind::ExclusiveLock,
        CheckKind::ExtendsCheck,
    ];

    pub fn id(self) -> &'static str {
        match self {
            CheckKind::Approval => APPROVAL,
            CheckKind::TaskCheck => TASK_CHECK,
            CheckKind::ExclusiveLock => EXCLUSIVE_LOCK,
            CheckKind::ExtendsCheck => EXTENDS_CHECK,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Approval => "Approval",
            CheckKind::TaskCheck => "Task Check",
            CheckKind::ExclusiveLock => "ExclusiveLock",
            CheckKind::ExtendsCheck => "ExtendsCheck",
        }
    }

    /// Type ids are GUIDs, compared case-insensitively (clients send both spellings).
    pub fn from_id(id: &str) -> Option<CheckKind> {
        let id = Uuid::parse_str(id.trim()).ok()?;
        CheckKind::ALL
            .into_iter()
            .find(|k| Uuid::parse_str(k.id()).ok() == Some(id))
    }
}

/// One configured check, as stored.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckConfiguration {
    pub id: u32,
    pub kind: CheckKind,
    pub resource_type: ResourceType,
    /// The id as the API spells it (`"1"`, a GUID, or `{projectId}.{repoId}`).
    pub resource_id: String,
    pub resource_name: String,
    /// Minutes.
    pub timeout: u32,
    /// The settings as validated (normalized), `{}` for types without settings.
    pub settings: Value,
    pub created_by: Actor,
    pub created_on: DateTime<Utc>,
    pub modified_by: Actor,
    pub modified_on: DateTime<Utc>,
}

/// Why a check's settings were refused (answered as a 400).
pub type Invalid = String;

/// Validate and normalize the settings of a check of `kind`; `known_identity` says whether an
/// identity id names a subject of the organization.
pub fn validate_settings(
    kind: CheckKind,
    settings: Option<&Value>,
    known_identity: &dyn Fn(Uuid) -> bool,
) -> Result<Value, Invalid> {
    let settings = settings.filter(|v| !v.is_null());
    match kind {
        CheckKind::ExclusiveLock => match settings {
            None => Ok(json!({})),
            Some(Value::Object(map)) if map.is_empty() => Ok(json!({})),
            Some(_) => Err("An exclusive lock check takes no settings.".into()),
        },
        CheckKind::Approval => approval(object(settings, "approval")?, known_identity),
        CheckKind::TaskCheck => task_check(object(settings, "task check")?),
        CheckKind::ExtendsCheck => extends_check(object(settings, "required template")?),
    }
}

fn object<'a>(settings: Option<&'a Value>, what: &str) -> Result<&'a Map<String, Value>, Invalid> {
    settings.and_then(Value::as_object).ok_or_else(|| {
        format!("The settings of a {what} check are required and must be an object.")
    })
}

fn identity_list(
    map: &Map<String, Value>,
    field: &str,
    known_identity: &dyn Fn(Uuid) -> bool,
) -> Result<Vec<Value>, Invalid> {
    let Some(raw) = map.get(field).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = raw
        .as_array()
        .ok_or_else(|| format!("'{field}' must be an array of identities."))?;
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| format!("Each of '{field}' must carry an identity id (a GUID)."))?;
        if !known_identity(id) {
            return Err(format!(
                "The identity '{id}' in '{field}' could not be found."
            ));
        }
        if out.iter().any(|o| o["id"] == id.to_string()) {
            return Err(format!("The identity '{id}' appears twice in '{field}'."));
        }
        out.push(json!({ "displayName": item.get("displayName").cloned().unwrap_or(Value::Null), "id": id.to_string() }));
    }
    Ok(out)
}

fn approval(
    map: &Map<String, Value>,
    known_identity: &dyn Fn(Uuid) -> bool,
) -> Result<Value, Invalid> {
    let approvers = identity_list(map, "approvers", known_identity)?;
    if approvers.is_empty() {
        return Err("An approval check needs at least one approver.".into());
    }
    let blocked = identity_list(map, "blockedApprovers", known_identity)?;
    let order = match map.get("executionOrder").filter(|v| !v.is_null()) {
        None => "anyOrder".to_string(),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("anyOrder") => "anyOrder".into(),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("inSequence") => "inSequence".into(),
        Some(other) => {
            return Err(format!(
                "executionOrder {other} is not one of anyOrder, inSequence."
            ))
        }
    };
    let minimum = match map.get("minRequiredApprovers").filter(|v| !v.is_null()) {
        None => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("minRequiredApprovers {v} is not a non-negative integer."))?,
    };
    if minimum as usize > approvers.len() {
        return Err(format!(
            "minRequiredApprovers ({minimum}) is more than the number of approvers ({}).",
            approvers.len()
        ));
    }
    let instructions = match map.get("instructions").filter(|v| !v.is_null()) {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(format!("instructions {other} is not a string.")),
    };
    let requester = match map
        .get("requesterCannotBeApprover")
        .filter(|v| !v.is_null())
    {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "requesterCannotBeApprover {other} is not a boolean."
            ))
        }
    };
    Ok(json!({
        "approvers": approvers,
        "blockedApprovers": blocked,
        "executionOrder": order,
        "instructions": instructions,
        "minRequiredApprovers": minimum,
        "requesterCannotBeApprover": requester,
    }))
}

fn string_field<'a>(map: &'a Map<String, Value>, field: &str) -> Result<&'a str, Invalid> {
    map.get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("'{field}' is required."))
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The time zone ids the business hours check offers (Windows ids, as the service's time zone
/// list names them); a subset large enough for the tests and samples.
pub const TIME_ZONES: &[&str] = &[
    "UTC",
    "GMT Standard Time",
    "W. Europe Standard Time",
    "Central Europe Standard Time",
    "Romance Standard Time",
    "E. Europe Standard Time",
    "Eastern Standard Time",
    "Central Standard Time",
    "Mountain Standard Time",
    "Pacific Standard Time",
    "India Standard Time",
    "China Standard Time",
    "Tokyo Standard Time",
    "AUS Eastern Standard Time",
];

fn minutes_of(hhmm: &str, field: &str) -> Result<u32, Invalid> {
    let bad = || format!("{field} '{hhmm}' is not a time of day (HH:MM).");
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn business_hours(inputs: &Map<String, Value>) -> Result<Value, Invalid> {
    let days_raw = string_field(inputs, "businessDays")?;
    let mut days = Vec::new();
    for day in days_raw.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let canonical = WEEKDAYS
            .iter()
            .find(|w| w.eq_ignore_ascii_case(day))
            .ok_or_else(|| format!("businessDays: '{day}' is not a day of the week."))?;
        if !days.contains(canonical) {
            days.push(*canonical);
        }
    }
    if days.is_empty() {
        return Err("businessDays names no day.".into());
    }
    let zone = string_field(inputs, "timeZone")?;
    let zone = TIME_ZONES
        .iter()
        .find(|z| z.eq_ignore_ascii_case(zone))
        .ok_or_else(|| format!("timeZone '{zone}' is not a known time zone id."))?;
    let start = string_field(inputs, "startTime")?;
    let end = string_field(inputs, "endTime")?;
    if minutes_of(start, "startTime")? >= minutes_of(end, "endTime")? {
        return Err(format!("startTime {start} is not before endTime {end}."));
    }
    Ok(json!({
        "businessDays": days.join(","),
        "timeZone": zone,
        "startTime": start,
        "endTime": end,
    }))
}

fn boolean_text(inputs: &Map<String, Value>, field: &str) -> Result<&'static str, Invalid> {
    match inputs.get(field) {
        None | Some(Value::Null) => Ok("false"),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok("true"),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok("false"),
        Some(other) => Err(format!("{field} {other} is not \"true\" or \"false\".")),
    }
}

fn branch_protection(inputs: &Map<String, Value>) -> Result<Value, Invalid> {
    let branches = string_field(inputs, "allowedBranches")?;
    let branches: Vec<&str> = branches
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect();
    for branch in &branches {
        if *branch != "*" && !branch.starts_with("refs/") {
            return Err(format!(
                "allowedBranches: '{branch}' is not a full ref (refs/heads/…) or *."
            ));
        }
    }
    Ok(json!({
        "allowedBranches": branches.join(","),
        "ensureProtectionOfBranch": boolean_text(inputs, "ensureProtectionOfBranch")?,
        "allowUnknownStatusBranch": boolean_text(inputs, "allowUnknownStatusBranch")?,
    }))
}

fn task_check(map: &Map<String, Value>) -> Result<Value, Invalid> {
    let definition = map
        .get("definitionRef")
        .and_then(Value::as_object)
        .ok_or("A task check needs its definitionRef.")?;
    let id = definition
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or("definitionRef.id must be a GUID.")?;
    let empty = Map::new();
    let inputs = match map.get("inputs") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(inputs)) => inputs,
        Some(_) => return Err("inputs must be an object of strings.".into()),
    };
    let (name, inputs) = if Some(id) == Uuid::parse_str(BUSINESS_HOURS).ok() {
        ("evaluateBusinessHours", business_hours(inputs)?)
    } else if Some(id) == Uuid::parse_str(BRANCH_PROTECTION).ok() {
        ("evaluatebranchProtection", branch_protection(inputs)?)
    } else {
        return Err(format!(
            "The task check definition '{id}' could not be found."
        ));
    };
    let retry = match map.get("retryInterval").filter(|v| !v.is_null()) {
        None => 5,
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= u64::from(MAX_TIMEOUT))
            .ok_or_else(|| format!("retryInterval {v} is not a number of minutes."))?,
    };
    let display = map
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or(name)
        .to_string();
    let mut out = json!({
        "displayName": display,
        "definitionRef": { "id": id.to_string(), "name": name, "version": "0.0.1" },
        "inputs": inputs,
        "retryInterval": retry,
    });
    if let Some(group) = map.get("linkedVariableGroup").and_then(Value::as_str) {
        out["linkedVariableGroup"] = json!(group);
    }
    Ok(out)
}

const REPOSITORY_TYPES: [&str; 3] = ["git", "github", "bitbucket"];

fn extends_check(map: &Map<String, Value>) -> Result<Value, Invalid> {
    let items = map
        .get("extendsChecks")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("A required template check needs at least one entry in extendsChecks.")?;
    let mut out = Vec::new();
    for item in items {
        let item = item
            .as_object()
            .ok_or("Each of extendsChecks must be an object.")?;
        let kind = string_field(item, "repositoryType")?;
        let kind = REPOSITORY_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(kind))
            .ok_or_else(|| {
                format!("repositoryType '{kind}' is not one of git, github, bitbucket.")
            })?;
        let reference = string_field(item, "repositoryRef")?;
        if !reference.starts_with("refs/") {
            return Err(format!(
                "repositoryRef '{reference}' is not a full ref (refs/…)."
            ));
        }
        out.push(json!({
            "repositoryType": kind,
            "repositoryName": string_field(item, "repositoryName")?,
            "repositoryRef": reference,
            "templatePath": string_field(item, "templatePath")?,
        }));
    }
    Ok(json!({ "extendsChecks": out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: Uuid) -> bool {
        true
    }

    #[test]
    fn type_ids_are_case_insensitive() {
        assert_eq!(
            CheckKind::from_id("2EF31AD6-BAA0-403A-8B45-2CBC9B4E5563"),
            Some(CheckKind::ExclusiveLock)
        );
        assert_eq!(CheckKind::from_id("not-a-guid"), None);
        assert_eq!(CheckKind::from_id(&Uuid::nil().to_string()), None);
    }

    #[test]
    fn approval_needs_approvers_and_a_reachable_minimum() {
        let id = Uuid::new_v4().to_string();
        assert!(
            validate_settings(CheckKind::Approval, Some(&json!({"approvers": []})), &any).is_err()
        );
        let too_many = json!({"approvers": [{"id": id}], "minRequiredApprovers": 2});
        assert!(validate_settings(CheckKind::Approval, Some(&too_many), &any).is_err());
        let unknown = validate_settings(
            CheckKind::Approval,
            Some(&json!({"approvers": [{"id": id}]})),
            &|_| false,
        );
        assert!(unknown.unwrap_err().contains("could not be found"));
        let fine = validate_settings(
            CheckKind::Approval,
            Some(&json!({"approvers": [{"id": id}]})),
            &any,
        )
        .unwrap();
        assert_eq!(fine["executionOrder"], "anyOrder");
        assert_eq!(fine["minRequiredApprovers"], 0);
    }

    #[test]
    fn business_hours_and_branch_control_inputs() {
        let hours = |start: &str, end: &str, zone: &str| {
            json!({"definitionRef": {"id": BUSINESS_HOURS}, "inputs": {
                "businessDays": "monday, Friday", "timeZone": zone, "startTime": start, "endTime": end}})
        };
        let ok = validate_settings(
            CheckKind::TaskCheck,
            Some(&hours("04:00", "12:00", "utc")),
            &any,
        )
        .unwrap();
        assert_eq!(ok["inputs"]["businessDays"], "Monday,Friday");
        assert_eq!(ok["inputs"]["timeZone"], "UTC");
        assert_eq!(ok["definitionRef"]["name"], "evaluateBusinessHours");
        assert!(validate_settings(
            CheckKind::TaskCheck,
            Some(&hours("12:00", "04:00", "UTC")),
            &any
        )
        .is_err());
        assert!(validate_settings(
            CheckKind::TaskCheck,
            Some(&hours("4:00", "12:00", "UTC")),
            &any
        )
        .is_err());
        assert!(validate_settings(
            CheckKind::TaskCheck,
            Some(&hours("04:00", "12:00", "Mars/Olympus")),
            &any
        )
        .is_err());
        let branches = json!({"definitionRef": {"id": BRANCH_PROTECTION}, "inputs": {"allowedBranches": "refs/heads/main, refs/heads/release/*", "ensureProtectionOfBranch": "true"}});
        let ok = validate_settings(CheckKind::TaskCheck, Some(&branches), &any).unwrap();
        assert_eq!(
            ok["inputs"]["allowedBranches"],
            "refs/heads/main,refs/heads/release/*"
        );
        assert_eq!(ok["inputs"]["allowUnknownStatusBranch"], "false");
        let short = json!({"definitionRef": {"id": BRANCH_PROTECTION}, "inputs": {"allowedBranches": "main"}});
        assert!(validate_settings(CheckKind::TaskCheck, Some(&short), &any).is_err());
        let unknown = json!({"definitionRef": {"id": Uuid::new_v4()}, "inputs": {}});
        assert!(validate_settings(CheckKind::TaskCheck, Some(&unknown), &any).is_err());
    }

    #[test]
    fn exclusive_lock_and_required_template() {
        assert_eq!(
            validate_settings(CheckKind::ExclusiveLock, None, &any).unwrap(),
            json!({})
        );
        assert!(validate_settings(CheckKind::ExclusiveLock, Some(&json!({"x": 1})), &any).is_err());
        let template = json!({"extendsChecks": [{"repositoryType": "Git", "repositoryName": "Storefront/templates", "repositoryRef": "refs/heads/main", "templatePath": "deploy.yml"}]});
        let ok = validate_settings(CheckKind::ExtendsCheck, Some(&template), &any).unwrap();
        assert_eq!(ok["extendsChecks"][0]["repositoryType"], "git");
        assert!(validate_settings(
            CheckKind::ExtendsCheck,
            Some(&json!({"extendsChecks": []})),
            &any
        )
        .is_err());
    }
}
