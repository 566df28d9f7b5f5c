//! Shared test harness: a simulator on random ports and a client that trusts its CA.

use azdo_sim::{Seed, SimOptions, Simulator};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

pub const ORG: &str = "contoso";
pub const TENANT: &str = "8d3c5f4e-2b1a-4c6d-9e8f-7a6b5c4d3e2f";
pub const OPERATOR: &str = "azdo-operator";
pub const OPERATOR_CLIENT_ID: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
pub const OPERATOR_SECRET: &str = "sim-operator-secret";
pub const OPERATOR_PAT: &str = "simoperatorpat0000000000000000000000000000000000000000";
pub const AUDITOR: &str = "auditor";
pub const STOREFRONT_ONLY: &str = "storefront-automation";
pub const OUTSIDER: &str = "outsider";
pub const STOREFRONT_ID: &str = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
pub const PAYMENTS_ID: &str = "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f";
pub const ADO_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";
pub const PREVIEW: &str = "7.1-preview.1";

pub struct Harness {
    pub sim: Simulator,
    pub client: Client,
}

pub fn client_trusting(ca_pem: &str) -> Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cert = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM parses");
    Client::builder()
        .add_root_certificate(cert)
        .build()
        .expect("client builds")
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(SimOptions::default()).await
    }

    pub async fn with(options: SimOptions) -> Harness {
        Harness::with_seed(Seed::default_seed(), options).await
    }

    pub async fn with_seed(seed: Seed, options: SimOptions) -> Harness {
        let sim = Simulator::start(seed, options)
            .await
            .expect("simulator starts");
        let client = client_trusting(&sim.ca_pem());
        Harness { sim, client }
    }

    pub fn core(&self, path: &str) -> String {
        format!("{}/{ORG}/{path}", self.sim.dev_url())
    }

    pub fn graph(&self, path: &str) -> String {
        format!("{}/{ORG}/_apis/graph/{path}", self.sim.vssps_url())
    }

    pub fn vsaex(&self, path: &str) -> String {
        format!("{}/{ORG}/{path}", self.sim.vsaex_url())
    }

    /// A request to the entitlement host as `identity` with `version`.
    pub fn vsaex_request(
        &self,
        method: reqwest::Method,
        path: &str,
        identity: &str,
        version: &str,
    ) -> RequestBuilder {
        self.client
            .request(method, self.vsaex(path))
            .bearer_auth(self.token(identity))
            .query(&[("api-version", version)])
    }

    pub fn token_url(&self) -> String {
        format!("{}/{TENANT}/oauth2/v2.0/token", self.sim.login_url())
    }

    pub fn token(&self, identity: &str) -> String {
        self.sim
            .control()
            .issue_token(identity)
            .expect("identity exists")
    }

    /// A request as `identity` with the Graph preview version.
    pub fn graph_request(
        &self,
        method: reqwest::Method,
        path: &str,
        identity: &str,
    ) -> RequestBuilder {
        self.client
            .request(method, self.graph(path))
            .bearer_auth(self.token(identity))
            .query(&[("api-version", PREVIEW)])
    }

    pub fn core_request(
        &self,
        method: reqwest::Method,
        path: &str,
        identity: &str,
        version: &str,
    ) -> RequestBuilder {
        self.client
            .request(method, self.core(path))
            .bearer_auth(self.token(identity))
            .query(&[("api-version", version)])
    }

    /// The descriptor of a group by principal name, found by paging through all groups.
    pub async fn group_descriptor(&self, principal_name: &str) -> String {
        let groups = self.all_groups(None).await;
        groups
            .iter()
            .find(|g| g["principalName"] == principal_name)
            .and_then(|g| g["descriptor"].as_str())
            .unwrap_or_else(|| panic!("group {principal_name} exists"))
            .to_string()
    }

    /// All groups (optionally of one scope), following continuation tokens.
    pub async fn all_groups(&self, scope: Option<&str>) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = self.graph_request(reqwest::Method::GET, "groups", OPERATOR);
            if let Some(scope) = scope {
                request = request.query(&[("scopeDescriptor", scope)]);
            }
            if let Some(t) = &token {
                request = request.query(&[("continuationToken", t.as_str())]);
            }
            let response = request.send().await.expect("list groups");
            assert_eq!(response.status(), 200);
            token = response
                .headers()
                .get("x-ms-continuationtoken")
                .map(|v| v.to_str().unwrap().to_string());
            let body: Value = response.json().await.unwrap();
            out.extend(body["value"].as_array().unwrap().iter().cloned());
            if token.is_none() {
                return out;
            }
        }
    }

    pub async fn scope_descriptor(&self, project_id: &str) -> String {
        let body = json(
            self.graph_request(
                reqwest::Method::GET,
                &format!("descriptors/{project_id}"),
                OPERATOR,
            )
            .send()
            .await
            .unwrap(),
            200,
        )
        .await;
        body["value"].as_str().unwrap().to_string()
    }
}

/// Asserts the status and returns the JSON body.
pub async fn json(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts an Azure DevOps error document with this status and typeKey.
pub async fn vss_error(response: Response, status: u16, type_key: &str) -> Value {
    let body = json(response, status).await;
    assert_eq!(body["typeKey"], type_key, "body: {body}");
    assert_eq!(body["$id"], "1");
    assert!(body["innerException"].is_null());
    assert!(body["message"].is_string());
    assert!(body["typeName"].as_str().unwrap().contains(type_key));
    assert!(body["errorCode"].is_number() && body["eventId"].is_number());
    body
}
