//! `NativeScriptedServer`: the strict canned-answer server the shared
//! conformance vectors run against.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use messenger_handover_emulator::scripted::{ScriptedResponse, ScriptedServer};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::errors::{io, out_of_range, spawn, state, throw};

/// A request as the scripted server received it.
#[napi(object)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<Vec<String>>,
    /// Lowercase header names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// One canned answer.
#[napi(object)]
pub struct ScriptedReply {
    pub status: u32,
    pub headers: Option<BTreeMap<String, String>>,
    pub body: Option<String>,
}

#[napi]
pub struct NativeScriptedServer {
    server: RwLock<Option<Arc<ScriptedServer>>>,
    url: String,
}

#[napi]
pub fn start_scripted_server(env: &Env) -> napi::Result<PromiseRaw<'_, NativeScriptedServer>> {
    spawn(env, async move {
        let server = ScriptedServer::start().await.map_err(io)?;
        Ok(NativeScriptedServer { url: server.url().to_owned(), server: RwLock::new(Some(Arc::new(server))) })
    })
}

#[napi]
impl NativeScriptedServer {
    fn get(&self, env: &Env) -> napi::Result<Arc<ScriptedServer>> {
        self.server
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| throw(env, state("the scripted server is stopped")))
    }

    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    #[napi]
    pub fn push_response(&self, env: &Env, reply: ScriptedReply) -> napi::Result<()> {
        let status = u16::try_from(reply.status).map_err(|_| throw(env, out_of_range("status", "must be 100-999")))?;
        let reply = ScriptedResponse {
            status,
            headers: reply.headers.unwrap_or_default(),
            body: reply.body.unwrap_or_default(),
        };
        self.get(env)?.push_response(reply).map_err(|e| throw(env, out_of_range("status", e)))
    }

    #[napi]
    pub fn requests(&self, env: &Env) -> napi::Result<Vec<RecordedRequest>> {
        Ok(self
            .get(env)?
            .requests()
            .into_iter()
            .map(|r| RecordedRequest {
                method: r.method,
                path: r.path,
                query: r.query.into_iter().map(|(k, v)| vec![k, v]).collect(),
                headers: r.headers,
                body: r.body,
            })
            .collect())
    }

    #[napi]
    pub fn clear(&self, env: &Env) -> napi::Result<()> {
        self.get(env)?.clear();
        Ok(())
    }

    #[napi]
    pub fn stop<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let taken = self.server.write().unwrap_or_else(PoisonError::into_inner).take();
        spawn(env, async move {
            if let Some(Ok(server)) = taken.map(Arc::try_unwrap) {
                server.shutdown().await;
            }
            Ok(())
        })
    }
}
