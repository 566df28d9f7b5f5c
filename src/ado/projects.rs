//! Projects and their Graph scope descriptors (both cached without TTL: ids do not change;
//! a 404 on the scope lookup evicts the project and looks it up again once).

use super::api_version;
use super::client::AdoClient;
use super::transport::Call;
use super::types::{Project, ValueResponse};
use super::AdoError;

impl AdoClient {
    /// A project by name or id. Uncached: 1 call; cached: 0.
    pub async fn project(&self, name_or_id: &str) -> Result<Project, AdoError> {
        let caches = &self.inner.caches;
        let key = name_or_id.to_lowercase();
        if let Some(project) = caches.projects.get(&key) {
            return Ok(project);
        }
        let _fetch = caches.projects.fetching(&key).await;
        if let Some(project) = caches.projects.get(&key) {
            return Ok(project);
        }
        let url = self.org_url(&["_apis", "projects", name_or_id])?;
        let project: Project = self
            .execute(&Call::get("projects.get", url, api_version::PROJECTS))
            .await?
            .json()?;
        caches.projects.insert(key, project.clone());
        caches
            .projects
            .insert(project.id.to_lowercase(), project.clone());
        caches
            .projects
            .insert(project.name.to_lowercase(), project.clone());
        Ok(project)
    }

    /// The Graph scope descriptor (`scp.…`) of a project. Uncached: 2 calls (project, then
    /// descriptor); project cached: 1; both cached: 0.
    pub async fn project_scope_descriptor(&self, project: &str) -> Result<String, AdoError> {
        let found = self.project(project).await?;
        let scopes = &self.inner.caches.scopes;
        if let Some(scope) = scopes.get(&found.id) {
            return Ok(scope);
        }
        let _fetch = scopes.fetching(&found.id).await;
        if let Some(scope) = scopes.get(&found.id) {
            return Ok(scope);
        }
        match self.fetch_scope_descriptor(&found.id).await {
            Err(AdoError::NotFound(_)) => {
                // The cached project may be stale (deleted and recreated under the same name).
                self.forget_project(&found.id);
                let fresh = self.project(project).await?;
                self.fetch_scope_descriptor(&fresh.id).await
            }
            other => other,
        }
    }

    async fn fetch_scope_descriptor(&self, project_id: &str) -> Result<String, AdoError> {
        let url = self.graph_url(&["descriptors", project_id])?;
        let scope: ValueResponse = self
            .execute(&Call::get(
                "graph.descriptors.get",
                url,
                api_version::GRAPH_DESCRIPTORS,
            ))
            .await?
            .json()?;
        self.inner
            .caches
            .scopes
            .insert(project_id.to_string(), scope.value.clone());
        Ok(scope.value)
    }

    /// The project id a project scope descriptor stands for: from the cache of scopes read
    /// (0 calls), else its storage key (the project id; 1 call, cached).
    pub async fn scope_project_id(&self, scope_descriptor: &str) -> Result<String, AdoError> {
        if let Some(id) = self
            .inner
            .caches
            .scopes
            .key_where(|scope| scope == scope_descriptor)
        {
            return Ok(id);
        }
        self.storage_key(scope_descriptor).await
    }

    /// Evict a project (by id) and its scope descriptor from the caches.
    pub fn forget_project(&self, project_id: &str) {
        let caches = &self.inner.caches;
        caches
            .projects
            .remove_where(|_, p| p.id.eq_ignore_ascii_case(project_id));
        caches.scopes.remove(&project_id.to_string());
    }
}
