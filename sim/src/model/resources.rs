//! Projects and the pipeline resources they own.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::checks::CheckConfiguration;
use super::permissions::ResourcePermissions;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub visibility: String,
    pub revision: u64,
    pub last_update_time: DateTime<Utc>,
    pub pipelines: Vec<Pipeline>,
    pub queues: Vec<Queue>,
    pub environments: Vec<Environment>,
    pub variable_groups: Vec<VariableGroup>,
    pub secure_files: Vec<SecureFile>,
    pub service_endpoints: Vec<ServiceEndpoint>,
    pub repositories: Vec<Repository>,
    pub permissions: Vec<ResourcePermissions>,
    /// Check configurations ("approvals and checks") on this project's resources.
    pub checks: Vec<CheckConfiguration>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    pub id: u32,
    pub name: String,
    /// Folder with backslashes, `\` for the root.
    pub path: String,
    pub revision: u32,
    pub created_date: DateTime<Utc>,
    /// The repository it builds (by name), if the project has one.
    pub repository: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub id: u32,
    pub name: String,
    pub pool_id: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    pub id: u32,
    pub name: String,
    pub is_hosted: bool,
    pub created_on: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub id: u32,
    pub name: String,
    pub description: String,
    pub created_on: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariableGroup {
    pub id: u32,
    pub name: String,
    pub description: String,
    pub variables: BTreeMap<String, String>,
    pub created_on: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecureFile {
    pub id: Uuid,
    pub name: String,
    pub created_on: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEndpoint {
    pub id: Uuid,
    pub name: String,
    pub endpoint_type: String,
    pub url: String,
    pub is_ready: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    pub id: Uuid,
    pub name: String,
    pub default_branch: String,
}
