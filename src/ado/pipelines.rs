//! Pipelines (build definitions) by id, and by name and folder (name lookups cached with a TTL).

use super::api_version;
use super::client::{same_name, AdoClient};
use super::transport::Call;
use super::types::{normalize_folder, PipelineRef};
use super::AdoError;

impl AdoClient {
    /// Pipelines of that name (case-insensitive), in `folder` when given (any folder otherwise).
    /// Uncached: 1 call per page (normally 1); cached (TTL, non-empty results only): 0.
    pub async fn find_pipelines(
        &self,
        project: &str,
        name: &str,
        folder: Option<&str>,
    ) -> Result<Vec<PipelineRef>, AdoError> {
        let folder = folder.map(normalize_folder);
        let key = format!(
            "{}|{}|{}",
            project.to_lowercase(),
            name.to_lowercase(),
            folder.as_deref().unwrap_or("*").to_lowercase()
        );
        let cache = &self.inner.caches.pipelines;
        if let Some(found) = cache.get(&key) {
            return Ok(found);
        }
        let _fetch = cache.fetching(&key).await;
        if let Some(found) = cache.get(&key) {
            return Ok(found);
        }
        let mut url = self.project_url(project, &["_apis", "build", "definitions"])?;
        url.query_pairs_mut().append_pair("name", name);
        let all: Vec<PipelineRef> = self
            .get_all_pages(
                "build.definitions.list",
                url,
                api_version::BUILD_DEFINITIONS,
            )
            .await?;
        let found: Vec<PipelineRef> = all
            .into_iter()
            .filter(|p| same_name(&p.name, name))
            .filter(|p| {
                folder
                    .as_deref()
                    .is_none_or(|f| same_name(&normalize_folder(&p.folder), f))
            })
            .collect();
        if !found.is_empty() {
            cache.insert(key, found.clone());
        }
        Ok(found)
    }

    /// A pipeline by id. 1 call. A 404 also evicts cached name lookups that pointed at it.
    pub async fn get_pipeline(&self, project: &str, id: i64) -> Result<PipelineRef, AdoError> {
        let url = self.project_url(project, &["_apis", "build", "definitions", &id.to_string()])?;
        let result = self
            .execute(&Call::get(
                "build.definitions.get",
                url,
                api_version::BUILD_DEFINITIONS,
            ))
            .await;
        match result {
            Ok(reply) => reply.json(),
            Err(error) => {
                if error.is_not_found() {
                    self.inner
                        .caches
                        .pipelines
                        .remove_where(|_, pipelines| pipelines.iter().any(|p| p.id == id));
                }
                Err(error)
            }
        }
    }
}
