//! Check configurations ("approvals and checks") on protected resources
//! (`{org}/{project}/_apis/pipelines/checks/configurations`, 7.1-preview.1): list per resource
//! (with `$expand=settings`: without it the service leaves settings out), add, update, delete.
//! Every write is verified: from its answer when the answer shows the settings (the published
//! examples of POST and PATCH do), otherwise read back (`GET configurations/{id}?$expand=settings`);
//! it fails unless the check shows what was written. The settings of each type are in
//! [`settings`].

mod settings;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

pub use settings::{CheckKind, CheckSettings, DesiredCheck, TemplateRef};

use super::api_version;
use super::client::AdoClient;
use super::error::ApiErrorDetail;
use super::transport::Call;
use super::types::ResourceKind;
use super::AdoError;

/// `type` of a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckTypeRef {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// `resource` of a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckResource {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A check configuration as the service answers it (the fields the operator reads).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CheckConfiguration {
    pub id: i64,
    #[serde(rename = "type")]
    pub check_type: CheckTypeRef,
    pub resource: CheckResource,
    /// Minutes.
    #[serde(default)]
    pub timeout: Option<u32>,
    #[serde(default)]
    pub settings: Option<Value>,
}

impl CheckConfiguration {
    /// Its kind, when it is one the operator manages.
    pub fn kind(&self) -> Option<CheckKind> {
        CheckKind::of(&self.check_type.id, self.settings.as_ref())
    }

    /// What it holds, typed (`None` for checks of other kinds or unreadable settings).
    pub fn observed(&self) -> Option<DesiredCheck> {
        let kind = self.kind()?;
        Some(DesiredCheck {
            settings: CheckSettings::from_wire(kind, self.settings.as_ref())?,
            timeout: self.timeout.unwrap_or_default(),
        })
    }

    /// Whether it holds `desired` (settings and timeout).
    pub fn holds(&self, desired: &DesiredCheck) -> bool {
        self.observed()
            .is_some_and(|o| o.timeout == desired.timeout && desired.settings.matches(&o.settings))
    }

    /// A short name for messages, e.g. `approval 17` or `Task Check 4`.
    pub fn label(&self) -> String {
        match self.kind() {
            Some(kind) => format!("{kind} {}", self.id),
            None => format!(
                "{} {}",
                self.check_type
                    .name
                    .as_deref()
                    .unwrap_or(&self.check_type.id),
                self.id
            ),
        }
    }
}

/// Collections come as `{"count","value"}` (the service, the examples) or a bare array (what
/// the published schema says).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Many {
    Wrapped { value: Vec<CheckConfiguration> },
    Bare(Vec<CheckConfiguration>),
}

fn verify_failed(operation: &'static str, message: String) -> AdoError {
    AdoError::NotFound(ApiErrorDetail {
        operation,
        status: None,
        type_key: None,
        message,
    })
}

impl AdoClient {
    fn checks_url(&self, project: &str, id: Option<i64>) -> Result<reqwest::Url, AdoError> {
        let id = id.map(|i| i.to_string());
        let mut segments = vec!["_apis", "pipelines", "checks", "configurations"];
        if let Some(id) = &id {
            segments.push(id);
        }
        self.project_url(project, &segments)
    }

    /// The checks on one resource, with their settings. 1 call.
    pub async fn check_configurations(
        &self,
        project: &str,
        kind: ResourceKind,
        resource_id: &str,
    ) -> Result<Vec<CheckConfiguration>, AdoError> {
        let mut url = self.checks_url(project, None)?;
        url.query_pairs_mut()
            .append_pair("resourceType", kind.as_str())
            .append_pair("resourceId", resource_id)
            .append_pair("$expand", "settings");
        let call = Call::get("checks.list", url, api_version::CHECK_CONFIGURATIONS);
        Ok(match self.execute(&call).await?.json::<Many>()? {
            Many::Wrapped { value } => value,
            Many::Bare(value) => value,
        })
    }

    /// One check, with its settings. 1 call.
    pub async fn check_configuration(
        &self,
        project: &str,
        id: i64,
    ) -> Result<CheckConfiguration, AdoError> {
        let mut url = self.checks_url(project, Some(id))?;
        url.query_pairs_mut().append_pair("$expand", "settings");
        let call = Call::get("checks.get", url, api_version::CHECK_CONFIGURATIONS);
        self.execute(&call).await?.json()
    }

    fn configuration_body(kind: ResourceKind, resource_id: &str, desired: &DesiredCheck) -> Value {
        json!({
            "type": desired.settings.kind().type_ref(),
            "resource": {"type": kind.as_str(), "id": resource_id},
            "timeout": desired.timeout,
            "settings": desired.settings.to_wire(),
        })
    }

    /// A written check as answered, if that answer shows `desired`; otherwise read back. 0 or 1
    /// call.
    async fn verified(
        &self,
        project: &str,
        answer: CheckConfiguration,
        desired: &DesiredCheck,
    ) -> Result<CheckConfiguration, AdoError> {
        if answer.holds(desired) {
            return Ok(answer);
        }
        self.read_back(project, answer.id, desired).await
    }

    /// Read a written check back; fail unless it holds `desired`. 1 call.
    async fn read_back(
        &self,
        project: &str,
        id: i64,
        desired: &DesiredCheck,
    ) -> Result<CheckConfiguration, AdoError> {
        let back = self.check_configuration(project, id).await?;
        if back.holds(desired) {
            return Ok(back);
        }
        Err(verify_failed(
            "checks.verify",
            format!(
                "Azure DevOps accepted check {id} but reads back {:?} with timeout {:?}, not what was written",
                back.settings, back.timeout
            ),
        ))
    }

    /// Add a check to a resource, verified. 1 call (POST), 2 when the answer does not show the
    /// settings (then GET). The POST is not retried once it may have reached the service (a
    /// retry could add a second check).
    pub async fn create_check(
        &self,
        project: &str,
        kind: ResourceKind,
        resource_id: &str,
        desired: &DesiredCheck,
    ) -> Result<CheckConfiguration, AdoError> {
        let url = self.checks_url(project, None)?;
        let call = Call::get("checks.add", url, api_version::CHECK_CONFIGURATIONS)
            .with_method(Method::POST)
            .with_json(Self::configuration_body(kind, resource_id, desired))
            .not_idempotent();
        let created: CheckConfiguration = self.execute(&call).await?.json()?;
        self.verified(project, created, desired).await
    }

    /// Replace a check's timeout and settings, verified. 1 call (PATCH), 2 when the answer does
    /// not show the settings or is not the check (then GET).
    pub async fn update_check(
        &self,
        project: &str,
        id: i64,
        kind: ResourceKind,
        resource_id: &str,
        desired: &DesiredCheck,
    ) -> Result<CheckConfiguration, AdoError> {
        let url = self.checks_url(project, Some(id))?;
        let mut body = Self::configuration_body(kind, resource_id, desired);
        body["id"] = json!(id);
        let call = Call::get("checks.update", url, api_version::CHECK_CONFIGURATIONS)
            .with_method(Method::PATCH)
            .with_json(body);
        let answer = self.execute(&call).await?.json::<CheckConfiguration>();
        match answer {
            Ok(answer) if answer.id == id => self.verified(project, answer, desired).await,
            _ => self.read_back(project, id, desired).await,
        }
    }

    /// Remove a check; one already gone is no error. 2 calls (DELETE, GET expecting 404).
    pub async fn delete_check(&self, project: &str, id: i64) -> Result<(), AdoError> {
        let url = self.checks_url(project, Some(id))?;
        let call = Call::get("checks.delete", url, api_version::CHECK_CONFIGURATIONS)
            .with_method(Method::DELETE);
        match self.execute(&call).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        }
        match self.check_configuration(project, id).await {
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
            Ok(_) => Err(verify_failed(
                "checks.verify",
                format!("Azure DevOps accepted the deletion of check {id} but still shows it"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_list_example_decodes_without_settings() {
        let body = r#"{"count":2,"value":[
          {"createdBy":{"displayName":"User Name","id":"3b3db741-9d03-4e32-a7c0-6c3dfc2013c1"},"timeout":43200,
           "id":22,"type":{"id":"8c6f20a7-a545-4486-9777-f762fafe0d4d","name":"Approval"},
           "url":"https://dev.azure.com/fabrikam/x/_apis/pipelines/checks/configurations/22",
           "resource":{"type":"queue","id":"1","name":"Default"}},
          {"id":23,"type":{"id":"fe1de3ee-a436-41b4-bb20-f6eb4cb879a7","name":"Task Check"},
           "resource":{"type":"queue","id":"1","name":"Default"},"timeout":43200}]}"#;
        let Many::Wrapped { value } = serde_json::from_str::<Many>(body).unwrap() else {
            panic!("wrapped");
        };
        assert_eq!(value.len(), 2);
        assert_eq!(value[0].kind(), Some(CheckKind::Approval));
        assert_eq!(value[0].observed(), None, "no settings: nothing to compare");
        assert_eq!(
            value[1].kind(),
            None,
            "a task check is known by its definition"
        );
        assert_eq!(value[1].label(), "Task Check 23");
    }

    #[test]
    fn holds_compares_settings_and_timeout() {
        let desired = DesiredCheck {
            settings: CheckSettings::ExclusiveLock,
            timeout: 60,
        };
        let mut read: CheckConfiguration = serde_json::from_value(json!({
            "id": 5, "type": {"id": "2EF31AD6-BAA0-403A-8B45-2CBC9B4E5563"},
            "resource": {"type": "environment", "id": "2"}, "timeout": 60, "settings": {}
        }))
        .unwrap();
        assert!(read.holds(&desired));
        read.timeout = Some(61);
        assert!(!read.holds(&desired));
        let body = AdoClient::configuration_body(ResourceKind::Environment, "2", &desired);
        assert_eq!(body["type"]["name"], "ExclusiveLock");
        assert_eq!(body["resource"], json!({"type": "environment", "id": "2"}));
    }
}
