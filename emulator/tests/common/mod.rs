//! What the emulator's HTTP tests share: one emulator, one client, raw Graph calls.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig, FaultSpec};
use serde_json::Value;

pub const V: &str = "v26.0";

pub struct T {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

impl T {
    pub async fn new() -> T {
        T::with(EmulatorConfig::default()).await
    }

    pub async fn with(cfg: EmulatorConfig) -> T {
        T { emu: Emulator::start(cfg).await.unwrap(), http: reqwest::Client::builder().no_proxy().build().unwrap() }
    }

    pub fn token(&self, role: AppRole) -> String {
        self.emu.apps().get(role).token.clone()
    }

    pub async fn get(&self, role: AppRole, path_query: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let url = format!("{}/{V}/me/{path_query}", self.emu.url());
        let resp = self.http.get(url).bearer_auth(self.token(role)).send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        (status, headers, body)
    }

    /// `GET /{path}` as this app, the response as it came (or the transport
    /// error), for tests of raw bodies and broken connections.
    pub async fn get_raw(&self, role: AppRole, path: &str) -> reqwest::Result<reqwest::Response> {
        self.http.get(format!("{}/{path}", self.emu.url())).bearer_auth(self.token(role)).send().await
    }

    /// `GET /{version}/{path_query}` (any node, not only the Page): status and body.
    pub async fn get_node(&self, role: AppRole, path_query: &str) -> (u16, Value) {
        let url = format!("{}/{V}/{path_query}", self.emu.url());
        let resp = self.http.get(url).bearer_auth(self.token(role)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, serde_json::from_str(&resp.text().await.unwrap()).unwrap())
    }

    pub async fn post(&self, role: AppRole, edge: &str, body: Value) -> (u16, Value) {
        self.post_raw(role, edge, "application/json", body.to_string()).await
    }

    /// `POST /{version}/me/{edge}` with this body sent as it is, for bodies
    /// that are not JSON or not valid: status and the JSON answer.
    pub async fn post_raw(&self, role: AppRole, edge: &str, content_type: &str, body: String) -> (u16, Value) {
        let url = format!("{}/{V}/me/{edge}", self.emu.url());
        let resp = self
            .http
            .post(url)
            .bearer_auth(self.token(role))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, serde_json::from_str(&resp.text().await.unwrap()).unwrap())
    }

    pub async fn owner(&self, psid: &str) -> Value {
        let (s, _, b) = self.get(AppRole::Primary, &format!("thread_owner?recipient={psid}")).await;
        assert_eq!(s, 200, "{b}");
        b
    }

    pub fn fault(&self, spec: Value) {
        self.emu.inject_fault(serde_json::from_value::<FaultSpec>(spec).unwrap());
    }
}
