//! Out-of-band changes to azdo-sim through its real REST API (as another Azure DevOps user
//! would make them), and reads of its state.

use serde_json::{json, Value};

use crate::operator_env::{OperatorEnv, TestResult};

const GRAPH: &str = "api-version=7.1-preview.1";

pub struct SimApi {
    http: reqwest::Client,
    token: String,
    graph: String,
}

impl SimApi {
    pub fn new(env: &OperatorEnv) -> TestResult<Self> {
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(env.sim.ca_pem().as_bytes())?)
            .build()?;
        let token = env.sim.control().issue_token("azdo-operator")?;
        Ok(Self {
            http,
            token,
            graph: format!("{}/_apis/graph", env.graph_url()),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        patch: bool,
    ) -> TestResult<(u16, Value)> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut request = self
            .http
            .request(method, format!("{}/{path}{sep}{GRAPH}", self.graph))
            .bearer_auth(&self.token)
            .header("X-TFS-FedAuthRedirect", "Suppress");
        if let Some(body) = body {
            request = request
                .header(
                    "content-type",
                    if patch {
                        "application/json-patch+json"
                    } else {
                        "application/json"
                    },
                )
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// Create an Azure DevOps group in a project (by its scope descriptor) or the organization.
    pub async fn create_group(
        &self,
        scope: Option<&str>,
        name: &str,
        description: &str,
    ) -> TestResult<String> {
        let path = match scope {
            Some(s) => format!("groups?scopeDescriptor={s}"),
            None => "groups".to_string(),
        };
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &path,
                Some(json!({"displayName": name, "description": description})),
                false,
            )
            .await?;
        assert_eq!(status, 201, "{body}");
        Ok(body["descriptor"]
            .as_str()
            .ok_or("no descriptor")?
            .to_string())
    }

    pub async fn set_description(&self, descriptor: &str, description: &str) -> TestResult {
        let ops = json!([{"op": "replace", "path": "/description", "value": description}]);
        let (status, body) = self
            .call(
                reqwest::Method::PATCH,
                &format!("groups/{descriptor}"),
                Some(ops),
                true,
            )
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(())
    }

    pub async fn delete_group(&self, descriptor: &str) -> TestResult {
        let (status, body) = self
            .call(
                reqwest::Method::DELETE,
                &format!("groups/{descriptor}"),
                None,
                false,
            )
            .await?;
        assert_eq!(status, 204, "{body}");
        Ok(())
    }

    pub async fn add_member(&self, member: &str, container: &str) -> TestResult {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("memberships/{member}/{container}"),
                None,
                false,
            )
            .await?;
        assert!(status == 201 || status == 200, "{status} {body}");
        Ok(())
    }

    pub async fn remove_member(&self, member: &str, container: &str) -> TestResult {
        let (status, body) = self
            .call(
                reqwest::Method::DELETE,
                &format!("memberships/{member}/{container}"),
                None,
                false,
            )
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(())
    }

    /// The scope descriptor of a project.
    pub async fn project_scope(&self, env: &OperatorEnv, project: &str) -> TestResult<String> {
        let id = env.sim.control().with_state(|s| {
            s.organization("contoso")
                .and_then(|o| o.projects.iter().find(|p| p.name == project))
                .map(|p| p.id.to_string())
        });
        let id = id.ok_or("no such project")?;
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                &format!("descriptors/{id}"),
                None,
                false,
            )
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(body["value"].as_str().ok_or("no scope")?.to_string())
    }
}

/// Live groups (not deleted) with this principal name: `(descriptor, description)`.
pub fn groups_named(env: &OperatorEnv, principal_name: &str) -> Vec<(String, Option<String>)> {
    env.sim.control().with_state(|s| {
        s.organization("contoso")
            .map(|o| {
                o.subjects
                    .iter()
                    .filter(|x| {
                        x.is_group()
                            && !x.deleted
                            && x.principal_name.eq_ignore_ascii_case(principal_name)
                    })
                    .map(|x| (x.descriptor.clone(), x.description.clone()))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The descriptor of a subject by principal name (users: UPN).
pub fn descriptor_of(env: &OperatorEnv, principal_name: &str) -> Option<String> {
    env.sim.control().with_state(|s| {
        s.organization("contoso")?
            .subjects
            .iter()
            .find(|x| !x.deleted && x.principal_name.eq_ignore_ascii_case(principal_name))
            .map(|x| x.descriptor.clone())
    })
}

/// Principal names of a group's direct members.
pub fn members_of(env: &OperatorEnv, container: &str) -> Vec<String> {
    env.sim.control().with_state(|s| {
        let Some(org) = s.organization("contoso") else {
            return vec![];
        };
        let mut names: Vec<String> = org
            .memberships
            .iter()
            .filter(|m| m.container == container)
            .filter_map(|m| org.subject(&m.member).map(|x| x.principal_name.clone()))
            .collect();
        names.sort();
        names
    })
}
