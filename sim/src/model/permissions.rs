//! Pipeline permissions on protected resources, with the history needed to play eventual
//! consistency: every change is a version that becomes visible to reads at `visible_at`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The protected resource types of the pipeline permissions API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    Queue,
    AgentPool,
    Environment,
    Endpoint,
    VariableGroup,
    SecureFile,
    Repository,
}

impl ResourceType {
    /// Types are case-insensitive on the wire.
    pub fn parse(value: &str) -> Option<ResourceType> {
        Some(match value.to_ascii_lowercase().as_str() {
            "queue" => ResourceType::Queue,
            "agentpool" => ResourceType::AgentPool,
            "environment" => ResourceType::Environment,
            "endpoint" => ResourceType::Endpoint,
            "variablegroup" => ResourceType::VariableGroup,
            "securefile" => ResourceType::SecureFile,
            "repository" => ResourceType::Repository,
            _ => return None,
        })
    }

    pub fn wire_name(self) -> &'static str {
        match self {
            ResourceType::Queue => "queue",
            ResourceType::AgentPool => "agentpool",
            ResourceType::Environment => "environment",
            ResourceType::Endpoint => "endpoint",
            ResourceType::VariableGroup => "variablegroup",
            ResourceType::SecureFile => "securefile",
            ResourceType::Repository => "repository",
        }
    }
}

/// Who changed an authorization (rendered as an IdentityRef).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub display_name: String,
    pub id: String,
    pub unique_name: String,
    pub descriptor: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationVersion {
    pub authorized: bool,
    pub authorized_by: Actor,
    pub authorized_on: DateTime<Utc>,
    pub visible_at: DateTime<Utc>,
}

/// The versions of one authorization, oldest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthorizationHistory(pub Vec<AuthorizationVersion>);

impl AuthorizationHistory {
    /// The newest version regardless of visibility (what the writer sees).
    pub fn latest(&self) -> Option<&AuthorizationVersion> {
        self.0.last()
    }

    /// The newest version visible at `now` (what readers see).
    pub fn visible(&self, now: DateTime<Utc>) -> Option<&AuthorizationVersion> {
        self.0.iter().rev().find(|v| v.visible_at <= now)
    }

    pub fn push(&mut self, version: AuthorizationVersion) {
        self.0.push(version);
        // Keep only what can still matter: the newest version visible now and the pending ones.
        if self.0.len() > 8 {
            let drop = self.0.len() - 8;
            self.0.drain(..drop);
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineAuthorization {
    pub pipeline_id: u32,
    pub history: AuthorizationHistory,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePermissions {
    pub resource_type: ResourceType,
    /// The id as the API spells it (`"1"`, a GUID, or `{projectId}.{repoId}`).
    pub resource_id: String,
    pub pipelines: Vec<PipelineAuthorization>,
    pub all_pipelines: AuthorizationHistory,
}

/// A view of an authorization at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// What the writer sees right after a change: the newest versions.
    Latest,
    /// What a reader sees: only versions whose `visible_at` has passed.
    VisibleAt(DateTime<Utc>),
}

impl View {
    pub fn pick<'a>(&self, history: &'a AuthorizationHistory) -> Option<&'a AuthorizationVersion> {
        match self {
            View::Latest => history.latest(),
            View::VisibleAt(now) => history.visible(*now),
        }
    }
}
