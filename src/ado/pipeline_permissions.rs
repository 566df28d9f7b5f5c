//! Pipeline permissions of protected resources: read one, update one, update many at once.
//! The project in the URL is the pipelines' project. PATCH merges and is idempotent.

use super::api_version;
use super::client::AdoClient;
use super::transport::Call;
use super::types::{ResourceKind, ResourcePipelinePermissions};
use super::AdoError;
use reqwest::Method;
use serde::Deserialize;

/// The batch endpoint answers `{"count","value"}`; accept a bare array too.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum BatchResponse {
    Wrapped {
        value: Vec<ResourcePipelinePermissions>,
    },
    Bare(Vec<ResourcePipelinePermissions>),
}

impl AdoClient {
    /// The permission document of one resource. 1 call.
    pub async fn pipeline_permissions(
        &self,
        project: &str,
        kind: ResourceKind,
        id: &str,
    ) -> Result<ResourcePipelinePermissions, AdoError> {
        let url = self.project_url(
            project,
            &[
                "_apis",
                "pipelines",
                "pipelinepermissions",
                kind.as_str(),
                id,
            ],
        )?;
        self.execute(&Call::get(
            "pipeline_permissions.get",
            url,
            api_version::PIPELINE_PERMISSIONS,
        ))
        .await?
        .json()
    }

    /// Authorize / revoke pipelines (and "all pipelines") on one resource; returns the merged
    /// state. 1 call.
    pub async fn update_pipeline_permissions(
        &self,
        project: &str,
        update: &ResourcePipelinePermissions,
    ) -> Result<ResourcePipelinePermissions, AdoError> {
        let url = self.project_url(
            project,
            &[
                "_apis",
                "pipelines",
                "pipelinepermissions",
                &update.resource.kind,
                &update.resource.id,
            ],
        )?;
        let call = Call::get(
            "pipeline_permissions.update",
            url,
            api_version::PIPELINE_PERMISSIONS,
        )
        .with_method(Method::PATCH)
        .with_json(to_json(update)?);
        self.execute(&call).await?.json()
    }

    /// The same for many resources in one request. 1 call (0 for an empty list).
    pub async fn update_pipeline_permissions_batch(
        &self,
        project: &str,
        updates: &[ResourcePipelinePermissions],
    ) -> Result<Vec<ResourcePipelinePermissions>, AdoError> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let url = self.project_url(project, &["_apis", "pipelines", "pipelinepermissions"])?;
        let call = Call::get(
            "pipeline_permissions.update_batch",
            url,
            api_version::PIPELINE_PERMISSIONS,
        )
        .with_method(Method::PATCH)
        .with_json(to_json(updates)?);
        Ok(match self.execute(&call).await?.json::<BatchResponse>()? {
            BatchResponse::Wrapped { value } => value,
            BatchResponse::Bare(value) => value,
        })
    }
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<serde_json::Value, AdoError> {
    serde_json::to_value(value)
        .map_err(|e| AdoError::Config(format!("serializing the permission update failed: {e}")))
}
