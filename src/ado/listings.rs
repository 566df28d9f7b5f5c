//! Whole listings, for `azdo-operator export`: every project, every pipeline of a project and
//! every protected resource of a type. The reconcilers never list everything; they look up by
//! name (`resources.rs`, `pipelines.rs`).

use super::api_version;
use super::client::AdoClient;
use super::transport::Call;
use super::types::{PipelineRef, Project, ResourceKind, ResourceRef, ValueResponse};
use super::AdoError;
use serde::Deserialize;

/// `{"id": …, "name": …}`: ids are integers or GUIDs depending on the type.
#[derive(Debug, Deserialize)]
struct Named {
    id: serde_json::Value,
    name: String,
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
    /// The Graph descriptor of a storage key (the identity id role assignments name). 1 call.
    pub async fn descriptor_of(&self, storage_key: &str) -> Result<String, AdoError> {
        let url = self.graph_url(&["descriptors", storage_key])?;
        let value: ValueResponse = self
            .execute(&Call::get(
                "graph.descriptors.get",
                url,
                api_version::GRAPH_DESCRIPTORS,
            ))
            .await?
            .json()?;
        Ok(value.value)
    }

    /// Every project of the organization (all pages). 1 call per page.
    pub async fn list_projects(&self) -> Result<Vec<Project>, AdoError> {
        let url = self.org_url(&["_apis", "projects"])?;
        self.get_all_pages("projects.list", url, api_version::PROJECTS)
            .await
    }

    /// Every pipeline (build definition) of a project (all pages). 1 call per page.
    pub async fn list_pipelines(&self, project: &str) -> Result<Vec<PipelineRef>, AdoError> {
        let url = self.project_url(project, &["_apis", "build", "definitions"])?;
        self.get_all_pages(
            "build.definitions.list_all",
            url,
            api_version::BUILD_DEFINITIONS,
        )
        .await
    }

    /// Every resource of a type in a project (agent pools: in the organization), with the id
    /// pipeline permissions use (queue id, `{projectId}.{repoId}`). 1 call (per page).
    pub async fn list_resources(
        &self,
        project: &str,
        kind: ResourceKind,
    ) -> Result<Vec<ResourceRef>, AdoError> {
        if kind == ResourceKind::Repository {
            let url = self.project_url(project, &["_apis", "git", "repositories"])?;
            let repositories: Vec<Repository> = self
                .get_all_pages(
                    "resources.repositories.list",
                    url,
                    api_version::GIT_REPOSITORIES,
                )
                .await?;
            return Ok(repositories
                .into_iter()
                .map(|r| ResourceRef {
                    kind,
                    id: format!("{}.{}", r.project.id, r.id),
                    name: r.name,
                })
                .collect());
        }
        let (operation, version, mut url) = match kind {
            ResourceKind::Queue => (
                "resources.queues.list_all",
                api_version::AGENT_QUEUES,
                self.project_url(project, &["_apis", "distributedtask", "queues"])?,
            ),
            ResourceKind::AgentPool => (
                "resources.pools.list_all",
                api_version::AGENT_POOLS,
                self.org_url(&["_apis", "distributedtask", "pools"])?,
            ),
            ResourceKind::Environment => (
                "resources.environments.list_all",
                api_version::ENVIRONMENTS,
                self.project_url(project, &["_apis", "distributedtask", "environments"])?,
            ),
            ResourceKind::Endpoint => (
                "resources.endpoints.list_all",
                api_version::SERVICE_ENDPOINTS,
                self.project_url(project, &["_apis", "serviceendpoint", "endpoints"])?,
            ),
            ResourceKind::VariableGroup => (
                "resources.variable_groups.list_all",
                api_version::VARIABLE_GROUPS,
                self.project_url(project, &["_apis", "distributedtask", "variablegroups"])?,
            ),
            ResourceKind::SecureFile => (
                "resources.secure_files.list_all",
                api_version::SECURE_FILES,
                self.project_url(project, &["_apis", "distributedtask", "securefiles"])?,
            ),
            ResourceKind::Repository => unreachable!("handled above"),
        };
        if kind == ResourceKind::Endpoint {
            // Without it an endpoint that is not ready is left out.
            url.query_pairs_mut().append_pair("includeFailed", "true");
        }
        let items: Vec<Named> = self.get_all_pages(operation, url, version).await?;
        Ok(items
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
}
