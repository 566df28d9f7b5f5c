//! Protected resources by name, for pipeline permissions: agent queues, agent pools,
//! environments, service endpoints, variable groups, secure files, repositories.

use super::api_version;
use super::client::{same_name, AdoClient};
use super::error::ApiErrorDetail;
use super::transport::Call;
use super::types::{ResourceKind, ResourceRef};
use super::AdoError;
use serde::Deserialize;

/// `{"id": …, "name": …}`; ids are integers or GUIDs depending on the type. Service endpoints
/// also carry `isReady`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NamedItem {
    id: serde_json::Value,
    name: String,
    #[serde(default)]
    is_ready: Option<bool>,
    #[serde(default)]
    operation_status: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Repository {
    id: String,
    name: String,
    project: RepositoryProject,
}

#[derive(Debug, Deserialize)]
struct RepositoryProject {
    id: String,
}

impl AdoClient {
    /// Resources of a type with that exact name (case-insensitive) in a project (agent pools:
    /// in the organization). The id is the one pipeline permissions use: the queue id (not the
    /// pool id) for queues, `{projectId}.{repoId}` for repositories. 1 call (per page).
    pub async fn find_resource(
        &self,
        project: &str,
        kind: ResourceKind,
        name: &str,
    ) -> Result<Vec<ResourceRef>, AdoError> {
        match kind {
            ResourceKind::Repository => return self.find_repository(project, name).await,
            // Many objects name environments (authorizations, role assignments, checks): one
            // listing of the project answers them all (see `project_listings.rs`).
            ResourceKind::Environment => {
                return self
                    .inner
                    .caches
                    .environments
                    .find(
                        project,
                        |r: &ResourceRef| same_name(&r.name, name),
                        || self.list_resources(project, kind),
                    )
                    .await
            }
            _ => {}
        }
        let (operation, version, mut url, filter) = match kind {
            ResourceKind::Queue => (
                "resources.queues.list",
                api_version::AGENT_QUEUES,
                self.project_url(project, &["_apis", "distributedtask", "queues"])?,
                Some("queueName"),
            ),
            ResourceKind::AgentPool => (
                "resources.pools.list",
                api_version::AGENT_POOLS,
                self.org_url(&["_apis", "distributedtask", "pools"])?,
                Some("poolName"),
            ),
            ResourceKind::Endpoint => (
                "resources.endpoints.list",
                api_version::SERVICE_ENDPOINTS,
                self.project_url(project, &["_apis", "serviceendpoint", "endpoints"])?,
                Some("endpointNames"),
            ),
            ResourceKind::VariableGroup => (
                "resources.variable_groups.list",
                api_version::VARIABLE_GROUPS,
                self.project_url(project, &["_apis", "distributedtask", "variablegroups"])?,
                Some("groupName"),
            ),
            ResourceKind::SecureFile => (
                "resources.secure_files.list",
                api_version::SECURE_FILES,
                self.project_url(project, &["_apis", "distributedtask", "securefiles"])?,
                None,
            ),
            ResourceKind::Repository | ResourceKind::Environment => unreachable!("handled above"),
        };
        if let Some(parameter) = filter {
            url.query_pairs_mut().append_pair(parameter, name);
        }
        if kind == ResourceKind::Endpoint {
            // Without it a failed (not ready) endpoint is left out and would read as missing.
            url.query_pairs_mut().append_pair("includeFailed", "true");
        }
        let items: Vec<NamedItem> = self.get_all_pages(operation, url, version).await?;
        let matching: Vec<NamedItem> = items
            .into_iter()
            .filter(|item| same_name(&item.name, name))
            .collect();
        if let [only] = matching.as_slice() {
            if only.is_ready == Some(false) {
                let status = only
                    .operation_status
                    .as_ref()
                    .and_then(|s| s.get("statusMessage").or_else(|| s.get("state")))
                    .and_then(serde_json::Value::as_str)
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default();
                return Err(AdoError::NotReady(ApiErrorDetail {
                    operation,
                    status: None,
                    type_key: None,
                    message: format!(
                        "service endpoint {:?} exists but is not ready{status}; fix or re-verify it in the project's service connections",
                        only.name
                    ),
                }));
            }
        }
        Ok(matching
            .into_iter()
            .filter_map(|item| {
                let id = match item.id {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some(ResourceRef {
                    kind,
                    id,
                    name: item.name,
                })
            })
            .collect())
    }

    /// The resource with this id, if it exists (queues, agent pools, environments, service
    /// endpoints, variable groups, secure files; `None` for repositories). 1 call.
    pub async fn resource_by_id(
        &self,
        project: &str,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<ResourceRef>, AdoError> {
        let (operation, version, url) = match kind {
            ResourceKind::Queue => (
                "resources.queues.get",
                api_version::AGENT_QUEUES,
                self.project_url(project, &["_apis", "distributedtask", "queues", id])?,
            ),
            ResourceKind::AgentPool => (
                "resources.pools.get",
                api_version::AGENT_POOLS,
                self.org_url(&["_apis", "distributedtask", "pools", id])?,
            ),
            ResourceKind::Environment => (
                "resources.environments.get",
                api_version::ENVIRONMENTS,
                self.project_url(project, &["_apis", "distributedtask", "environments", id])?,
            ),
            ResourceKind::Endpoint => (
                "resources.endpoints.get",
                api_version::SERVICE_ENDPOINTS,
                self.project_url(project, &["_apis", "serviceendpoint", "endpoints", id])?,
            ),
            ResourceKind::VariableGroup => (
                "resources.variable_groups.get",
                api_version::VARIABLE_GROUPS,
                self.project_url(project, &["_apis", "distributedtask", "variablegroups", id])?,
            ),
            ResourceKind::SecureFile => (
                "resources.secure_files.get",
                api_version::SECURE_FILES,
                self.project_url(project, &["_apis", "distributedtask", "securefiles", id])?,
            ),
            ResourceKind::Repository => return Ok(None),
        };
        let item: Option<NamedItem> = match self.execute(&Call::get(operation, url, version)).await
        {
            // Some of these answer 200 with `null` (or nothing) for an unknown id.
            Ok(reply) if reply.body.iter().all(u8::is_ascii_whitespace) => None,
            Ok(reply) => reply.json()?,
            Err(AdoError::NotFound(_)) => None,
            Err(error) => return Err(error),
        };
        if item.is_none() && kind == ResourceKind::Environment {
            // Gone: a listing that still holds it would find it by name.
            self.inner
                .caches
                .environments
                .forget_holding(|r| r.id == id);
        }
        Ok(item.map(|item| ResourceRef {
            kind,
            id: match item.id {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            },
            name: item.name,
        }))
    }

    async fn find_repository(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Vec<ResourceRef>, AdoError> {
        let url = self.project_url(project, &["_apis", "git", "repositories", name])?;
        let call = Call::get(
            "resources.repositories.get",
            url,
            api_version::GIT_REPOSITORIES,
        );
        let repository: Repository = match self.execute(&call).await {
            Ok(reply) => reply.json()?,
            Err(AdoError::NotFound(_)) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        Ok(vec![ResourceRef {
            kind: ResourceKind::Repository,
            id: format!("{}.{}", repository.project.id, repository.id),
            name: repository.name,
        }])
    }
}
