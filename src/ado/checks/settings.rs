//! The check types of the check configurations API and the settings of each, typed: what the
//! client sends, and what it reads back compared field by field (the service normalizes some
//! spellings, e.g. weekday names and time zone case, so the comparison is on meaning).
//!
//! Type ids: Approval and Task Check are in the published spec (`pipelinesChecks.json` and its
//! examples), with the business hours definition; ExclusiveLock, ExtendsCheck (required
//! template) and the branch control definition are the ids Microsoft's Terraform provider and
//! the web UI send.

use serde_json::{json, Value};

pub const APPROVAL_TYPE: &str = "8c6f20a7-a545-4486-9777-f762fafe0d4d";
pub const TASK_CHECK_TYPE: &str = "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7";
pub const EXCLUSIVE_LOCK_TYPE: &str = "2ef31ad6-baa0-403a-8b45-2cbc9b4e5563";
pub const EXTENDS_CHECK_TYPE: &str = "4020e66e-b0f3-47e1-bc88-48f3cc59b5f3";
/// Task check definitions.
pub const BUSINESS_HOURS_DEFINITION: &str = "445fde2f-6c39-441c-807f-8a59ff2e075f";
pub const BRANCH_CONTROL_DEFINITION: &str = "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b";

/// What kind of check, as the operator names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckKind {
    Approval,
    BranchControl,
    BusinessHours,
    ExclusiveLock,
    RequiredTemplate,
}

impl CheckKind {
    pub const ALL: [CheckKind; 5] = [
        CheckKind::Approval,
        CheckKind::BranchControl,
        CheckKind::BusinessHours,
        CheckKind::ExclusiveLock,
        CheckKind::RequiredTemplate,
    ];

    /// The spec's field name (`approval`, `branchControl`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Approval => "approval",
            CheckKind::BranchControl => "branchControl",
            CheckKind::BusinessHours => "businessHours",
            CheckKind::ExclusiveLock => "exclusiveLock",
            CheckKind::RequiredTemplate => "requiredTemplate",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// `type` of the configuration: id and name.
    pub fn type_ref(self) -> Value {
        match self {
            CheckKind::Approval => json!({"id": APPROVAL_TYPE, "name": "Approval"}),
            CheckKind::BranchControl | CheckKind::BusinessHours => {
                json!({"id": TASK_CHECK_TYPE, "name": "Task Check"})
            }
            CheckKind::ExclusiveLock => json!({"id": EXCLUSIVE_LOCK_TYPE, "name": "ExclusiveLock"}),
            CheckKind::RequiredTemplate => {
                json!({"id": EXTENDS_CHECK_TYPE, "name": "ExtendsCheck"})
            }
        }
    }

    /// Whether the service has a retry interval for this kind (the task checks).
    pub fn has_retry_interval(self) -> bool {
        matches!(self, CheckKind::BranchControl | CheckKind::BusinessHours)
    }

    /// The kind of a configuration read from the service, from its type id and (for task
    /// checks) its definition; `None` for any other check (REST API, Azure Function, ...).
    pub fn of(type_id: &str, settings: Option<&Value>) -> Option<Self> {
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b);
        if same(type_id, APPROVAL_TYPE) {
            return Some(CheckKind::Approval);
        }
        if same(type_id, EXCLUSIVE_LOCK_TYPE) {
            return Some(CheckKind::ExclusiveLock);
        }
        if same(type_id, EXTENDS_CHECK_TYPE) {
            return Some(CheckKind::RequiredTemplate);
        }
        if same(type_id, TASK_CHECK_TYPE) {
            let definition = settings?.pointer("/definitionRef/id")?.as_str()?;
            if same(definition, BUSINESS_HOURS_DEFINITION) {
                return Some(CheckKind::BusinessHours);
            }
            if same(definition, BRANCH_CONTROL_DEFINITION) {
                return Some(CheckKind::BranchControl);
            }
        }
        None
    }
}

impl std::fmt::Display for CheckKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One required template (`extendsChecks[]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateRef {
    /// `git` (Azure Repos), `github` or `bitbucket`.
    pub repository_type: String,
    /// `project/repository` for Azure Repos.
    pub repository_name: String,
    /// A full ref, e.g. `refs/heads/main`.
    pub repository_ref: String,
    pub template_path: String,
}

/// A check's settings, resolved (approvers are identity ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CheckSettings {
    Approval {
        /// Identity ids (storage keys), lower-cased, in order.
        approvers: Vec<String>,
        /// 0: all approvers.
        min_required: u32,
        requester_cannot_approve: bool,
        in_sequence: bool,
        instructions: String,
    },
    BranchControl {
        /// Full refs (or `*`), in order.
        allowed_branches: Vec<String>,
        require_branch_protection: bool,
        allow_unknown_status: bool,
        /// Minutes.
        retry_interval: u32,
    },
    BusinessHours {
        /// Weekday names as the service spells them (`Monday`...).
        days: Vec<String>,
        time_zone: String,
        /// `HH:MM`.
        start: String,
        end: String,
        retry_interval: u32,
    },
    ExclusiveLock,
    RequiredTemplate {
        templates: Vec<TemplateRef>,
    },
}

/// A whole check: settings and timeout (minutes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DesiredCheck {
    pub settings: CheckSettings,
    pub timeout: u32,
}

impl CheckSettings {
    pub fn kind(&self) -> CheckKind {
        match self {
            CheckSettings::Approval { .. } => CheckKind::Approval,
            CheckSettings::BranchControl { .. } => CheckKind::BranchControl,
            CheckSettings::BusinessHours { .. } => CheckKind::BusinessHours,
            CheckSettings::ExclusiveLock => CheckKind::ExclusiveLock,
            CheckSettings::RequiredTemplate { .. } => CheckKind::RequiredTemplate,
        }
    }

    /// The `settings` object the service takes.
    pub fn to_wire(&self) -> Value {
        let task = |definition: &str, name: &str, display: &str, inputs: Value, retry: u32| {
            json!({
                "displayName": display,
                "definitionRef": {"id": definition, "name": name, "version": "0.0.1"},
                "inputs": inputs,
                "retryInterval": retry,
            })
        };
        match self {
            CheckSettings::Approval {
                approvers,
                min_required,
                requester_cannot_approve,
                in_sequence,
                instructions,
            } => json!({
                "approvers": approvers.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
                "blockedApprovers": [],
                "executionOrder": if *in_sequence { "inSequence" } else { "anyOrder" },
                "instructions": instructions,
                "minRequiredApprovers": min_required,
                "requesterCannotBeApprover": requester_cannot_approve,
            }),
            CheckSettings::BranchControl {
                allowed_branches,
                require_branch_protection,
                allow_unknown_status,
                retry_interval,
            } => task(
                BRANCH_CONTROL_DEFINITION,
                "evaluatebranchProtection",
                "Branch control",
                json!({
                    "allowedBranches": allowed_branches.join(","),
                    "ensureProtectionOfBranch": require_branch_protection.to_string(),
                    "allowUnknownStatusBranch": allow_unknown_status.to_string(),
                }),
                *retry_interval,
            ),
            CheckSettings::BusinessHours {
                days,
                time_zone,
                start,
                end,
                retry_interval,
            } => task(
                BUSINESS_HOURS_DEFINITION,
                "evaluateBusinessHours",
                "Business Hours",
                json!({
                    "businessDays": days.join(","),
                    "timeZone": time_zone,
                    "startTime": start,
                    "endTime": end,
                }),
                *retry_interval,
            ),
            CheckSettings::ExclusiveLock => json!({}),
            CheckSettings::RequiredTemplate { templates } => json!({
                "extendsChecks": templates.iter().map(|t| json!({
                    "repositoryType": t.repository_type,
                    "repositoryName": t.repository_name,
                    "repositoryRef": t.repository_ref,
                    "templatePath": t.template_path,
                })).collect::<Vec<_>>(),
            }),
        }
    }

    /// Read settings back (`None` when they do not have this kind's shape).
    pub fn from_wire(kind: CheckKind, settings: Option<&Value>) -> Option<Self> {
        let empty = json!({});
        let s = settings.unwrap_or(&empty);
        let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
        let flag = |v: &Value, p: &str| match v.pointer(p) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(t)) => t.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let number = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_u64).unwrap_or(0) as u32;
        let list = |raw: Option<String>| -> Vec<String> {
            raw.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        Some(match kind {
            CheckKind::Approval => CheckSettings::Approval {
                approvers: s
                    .get("approvers")?
                    .as_array()?
                    .iter()
                    .filter_map(|a| a.get("id").and_then(Value::as_str))
                    .map(str::to_lowercase)
                    .collect(),
                min_required: number(s, "/minRequiredApprovers"),
                requester_cannot_approve: flag(s, "/requesterCannotBeApprover"),
                in_sequence: text(s, "/executionOrder")
                    .is_some_and(|o| o.eq_ignore_ascii_case("inSequence")),
                instructions: text(s, "/instructions").unwrap_or_default(),
            },
            CheckKind::BranchControl => CheckSettings::BranchControl {
                allowed_branches: list(text(s, "/inputs/allowedBranches")),
                require_branch_protection: flag(s, "/inputs/ensureProtectionOfBranch"),
                allow_unknown_status: flag(s, "/inputs/allowUnknownStatusBranch"),
                retry_interval: number(s, "/retryInterval"),
            },
            CheckKind::BusinessHours => CheckSettings::BusinessHours {
                days: list(text(s, "/inputs/businessDays")),
                time_zone: text(s, "/inputs/timeZone")?,
                start: text(s, "/inputs/startTime")?,
                end: text(s, "/inputs/endTime")?,
                retry_interval: number(s, "/retryInterval"),
            },
            CheckKind::ExclusiveLock => CheckSettings::ExclusiveLock,
            CheckKind::RequiredTemplate => CheckSettings::RequiredTemplate {
                templates: s
                    .get("extendsChecks")?
                    .as_array()?
                    .iter()
                    .map(|t| TemplateRef {
                        repository_type: text(t, "/repositoryType").unwrap_or_default(),
                        repository_name: text(t, "/repositoryName").unwrap_or_default(),
                        repository_ref: text(t, "/repositoryRef").unwrap_or_default(),
                        template_path: text(t, "/templatePath").unwrap_or_default(),
                    })
                    .collect(),
            },
        })
    }

    /// Whether `observed` (read back) holds these settings. Names the service compares
    /// case-insensitively (time zones, weekdays, repository types, identity ids) are compared
    /// so; order matters only where the service keeps it (approvers in sequence).
    pub fn matches(&self, observed: &CheckSettings) -> bool {
        fn same_set(a: &[String], b: &[String]) -> bool {
            let norm = |v: &[String]| {
                let mut v: Vec<String> = v.iter().map(|x| x.to_lowercase()).collect();
                v.sort();
                v.dedup();
                v
            };
            norm(a) == norm(b)
        }
        match (self, observed) {
            (
                CheckSettings::Approval {
                    approvers: a,
                    min_required: m,
                    requester_cannot_approve: r,
                    in_sequence: s,
                    instructions: i,
                },
                CheckSettings::Approval {
                    approvers: b,
                    min_required: n,
                    requester_cannot_approve: q,
                    in_sequence: t,
                    instructions: j,
                },
            ) => {
                let approvers = match s {
                    true => a
                        .iter()
                        .map(|x| x.to_lowercase())
                        .eq(b.iter().map(|x| x.to_lowercase())),
                    false => same_set(a, b),
                };
                approvers && m == n && r == q && s == t && i == j
            }
            (
                CheckSettings::BusinessHours {
                    days: a,
                    time_zone: z,
                    start: s,
                    end: e,
                    retry_interval: r,
                },
                CheckSettings::BusinessHours {
                    days: b,
                    time_zone: y,
                    start: t,
                    end: f,
                    retry_interval: q,
                },
            ) => same_set(a, b) && z.eq_ignore_ascii_case(y) && s == t && e == f && r == q,
            (
                CheckSettings::RequiredTemplate { templates: a },
                CheckSettings::RequiredTemplate { templates: b },
            ) => {
                let norm = |v: &[TemplateRef]| {
                    let mut v: Vec<TemplateRef> = v
                        .iter()
                        .map(|t| TemplateRef {
                            repository_type: t.repository_type.to_lowercase(),
                            ..t.clone()
                        })
                        .collect();
                    v.sort();
                    v
                };
                norm(a) == norm(b)
            }
            (a, b) => a == b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours() -> CheckSettings {
        CheckSettings::BusinessHours {
            days: vec!["Monday".into(), "Friday".into()],
            time_zone: "UTC".into(),
            start: "04:00".into(),
            end: "12:00".into(),
            retry_interval: 5,
        }
    }

    #[test]
    fn every_kind_round_trips_through_the_wire_shape() {
        let all = [
            CheckSettings::Approval {
                approvers: vec!["a".into(), "b".into()],
                min_required: 1,
                requester_cannot_approve: true,
                in_sequence: false,
                instructions: "look".into(),
            },
            CheckSettings::BranchControl {
                allowed_branches: vec!["refs/heads/main".into()],
                require_branch_protection: true,
                allow_unknown_status: false,
                retry_interval: 10,
            },
            hours(),
            CheckSettings::ExclusiveLock,
            CheckSettings::RequiredTemplate {
                templates: vec![TemplateRef {
                    repository_type: "git".into(),
                    repository_name: "P/templates".into(),
                    repository_ref: "refs/heads/main".into(),
                    template_path: "deploy.yml".into(),
                }],
            },
        ];
        for settings in all {
            let kind = settings.kind();
            let wire = settings.to_wire();
            let type_id = kind.type_ref()["id"].as_str().unwrap().to_uppercase();
            assert_eq!(CheckKind::of(&type_id, Some(&wire)), Some(kind), "{kind}");
            let back = CheckSettings::from_wire(kind, Some(&wire)).unwrap();
            assert!(settings.matches(&back), "{kind}: {back:?}");
            assert_eq!(CheckKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn the_published_business_hours_example_decodes() {
        let wire = serde_json::json!({
            "displayName": "Business Hours",
            "definitionRef": {"id": "445fde2f-6c39-441c-807f-8a59ff2e075f", "name": "evaluateBusinessHours", "version": "0.0.1"},
            "inputs": {"businessDays": "Monday,Tuesday,Wednesday,Thursday,Friday", "timeZone": "UTC", "startTime": "04:00", "endTime": "11:00"},
            "retryInterval": 5
        });
        assert_eq!(
            CheckKind::of(TASK_CHECK_TYPE, Some(&wire)),
            Some(CheckKind::BusinessHours)
        );
        let read = CheckSettings::from_wire(CheckKind::BusinessHours, Some(&wire)).unwrap();
        assert!(!hours().matches(&read), "other days and end time");
        assert_eq!(
            CheckKind::of(TASK_CHECK_TYPE, Some(&serde_json::json!({}))),
            None
        );
    }

    #[test]
    fn comparison_follows_the_services_normalization_and_catches_drift() {
        let spelled = CheckSettings::BusinessHours {
            days: vec!["friday".into(), "MONDAY".into()],
            time_zone: "utc".into(),
            start: "04:00".into(),
            end: "12:00".into(),
            retry_interval: 5,
        };
        assert!(hours().matches(&spelled));
        let later = CheckSettings::BusinessHours {
            days: vec!["Monday".into(), "Friday".into()],
            time_zone: "UTC".into(),
            start: "04:00".into(),
            end: "13:00".into(),
            retry_interval: 5,
        };
        assert!(!hours().matches(&later));
        let approval = |ids: &[&str], seq: bool| CheckSettings::Approval {
            approvers: ids.iter().map(|s| s.to_string()).collect(),
            min_required: 0,
            requester_cannot_approve: false,
            in_sequence: seq,
            instructions: String::new(),
        };
        assert!(approval(&["a", "b"], false).matches(&approval(&["B", "a"], false)));
        assert!(!approval(&["a", "b"], true).matches(&approval(&["b", "a"], true)));
        assert!(!approval(&["a"], false).matches(&CheckSettings::ExclusiveLock));
    }
}
