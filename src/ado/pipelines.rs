//! Pipelines (build definitions) by id, and by name and folder (from the project's listing,
//! cached for a short time).

use super::api_version;
use super::client::{same_name, AdoClient};
use super::transport::Call;
use super::types::{normalize_folder, PipelineRef};
use super::AdoError;

impl AdoClient {
    /// Pipelines of that name (case-insensitive), in `folder` when given (any folder otherwise),
    /// from the project's listing (see `project_listings.rs`): 1 call per page of the listing
    /// when it is not cached (or misses the name and is older than 2 s), 0 otherwise.
    pub async fn find_pipelines(
        &self,
        project: &str,
        name: &str,
        folder: Option<&str>,
    ) -> Result<Vec<PipelineRef>, AdoError> {
        let folder = folder.map(normalize_folder);
        let matches = |p: &PipelineRef| {
            same_name(&p.name, name)
                && folder
                    .as_deref()
                    .is_none_or(|f| same_name(&normalize_folder(&p.folder), f))
        };
        self.inner
            .caches
            .pipelines
            .find(project, matches, || self.list_pipelines(project))
            .await
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
                    self.inner.caches.pipelines.forget_holding(|p| p.id == id);
                }
                Err(error)
            }
        }
    }
}
