//! Graph subjects (groups, users, service principals) and memberships.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SubjectKind {
    Group,
    User,
    ServicePrincipal,
}

impl SubjectKind {
    pub fn wire_name(self) -> &'static str {
        match self {
            SubjectKind::Group => "group",
            SubjectKind::User => "user",
            SubjectKind::ServicePrincipal => "servicePrincipal",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    Vsts,
    Aad,
}

impl Origin {
    pub fn wire_name(self) -> &'static str {
        match self {
            Origin::Vsts => "vsts",
            Origin::Aad => "aad",
        }
    }
}

/// Where an Azure DevOps group lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "id")]
pub enum GroupScope {
    Organization,
    Project(Uuid),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub kind: SubjectKind,
    pub descriptor: String,
    pub storage_key: Uuid,
    pub origin: Origin,
    pub origin_id: String,
    pub display_name: String,
    pub principal_name: String,
    pub mail_address: Option<String>,
    pub description: Option<String>,
    pub domain: String,
    /// For groups: the scope they were created in (Entra groups live at organization scope).
    pub scope: GroupScope,
    pub deleted: bool,
    pub directory_alias: Option<String>,
    pub application_id: Option<Uuid>,
    /// Built-in groups (Project Administrators, ...) cannot be renamed or deleted.
    pub built_in: bool,
}

impl Subject {
    pub fn is_group(&self) -> bool {
        self.kind == SubjectKind::Group
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub container: String,
    pub member: String,
    /// Reads do not see the membership before this instant (eventual consistency).
    pub visible_at: DateTime<Utc>,
}
