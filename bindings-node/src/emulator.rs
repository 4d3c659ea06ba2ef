//! `NativeEmulator`: the Rust Graph API emulator, started on the addon's
//! runtime, for `messenger-handover/testing`.

use std::sync::{Arc, PoisonError, RwLock};

use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig, FaultSpec, FeatureStatus, RateLimitConfig};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{invalid, io, out_of_range, spawn, state, throw};

/// One app's identity on the emulated Page.
#[napi(object)]
pub struct AppCredentials {
    pub app_id: String,
    pub token: String,
    pub secret: String,
}

impl From<&messenger_handover_emulator::AppCredentials> for AppCredentials {
    fn from(c: &messenger_handover_emulator::AppCredentials) -> Self {
        AppCredentials { app_id: c.app_id.clone(), token: c.token.clone(), secret: c.secret.clone() }
    }
}

/// A running emulator on 127.0.0.1.
#[napi]
pub struct NativeEmulator {
    emulator: RwLock<Option<Arc<Emulator>>>,
    url: String,
    page_id: String,
    port: u32,
}

/// Starts an emulator; `config` is the emulator's `EmulatorConfig` as JSON
/// (snake_case keys, every one optional).
#[napi(ts_args_type = "config?: Record<string, unknown> | null")]
pub fn start_emulator(env: &Env, config: Option<Value>) -> napi::Result<PromiseRaw<'_, NativeEmulator>> {
    let config: EmulatorConfig = match config {
        None | Some(Value::Null) => EmulatorConfig::default(),
        Some(v) => serde_json::from_value(v).map_err(|e| throw(env, invalid("options", e)))?,
    };
    config.check().map_err(|e| throw(env, out_of_range("options", e)))?;
    spawn(env, async move {
        let emu = Emulator::start(config).await.map_err(io)?;
        Ok(NativeEmulator {
            url: emu.url().to_owned(),
            page_id: emu.page_id().to_owned(),
            port: u32::from(emu.port()),
            emulator: RwLock::new(Some(Arc::new(emu))),
        })
    })
}

fn role(env: &Env, app: &str) -> napi::Result<AppRole> {
    match app {
        "primary" => Ok(AppRole::Primary),
        "secondary" => Ok(AppRole::Secondary),
        "page_inbox" | "pageInbox" => Ok(AppRole::PageInbox),
        "instagram_inbox" | "instagramInbox" => Ok(AppRole::InstagramInbox),
        other => Err(throw(
            env,
            invalid("app", format!("unknown app {other:?}; expected primary, secondary, pageInbox or instagramInbox")),
        )),
    }
}

fn to_json<T: serde::Serialize>(env: &Env, v: &T) -> napi::Result<Value> {
    serde_json::to_value(v).map_err(|e| throw(env, state(format!("cannot serialise: {e}"))))
}

#[napi]
impl NativeEmulator {
    fn get(&self, env: &Env) -> napi::Result<Arc<Emulator>> {
        self.emulator
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| throw(env, state("the emulator is stopped")))
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    #[napi(getter)]
    pub fn page_id(&self) -> String {
        self.page_id.clone()
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    #[napi(getter)]
    pub fn stopped(&self) -> bool {
        self.emulator.read().unwrap_or_else(PoisonError::into_inner).is_none()
    }

    /// The credentials of `primary`, `secondary` or `pageInbox`.
    #[napi]
    pub fn app(&self, env: &Env, app: String) -> napi::Result<AppCredentials> {
        let r = role(env, &app)?;
        Ok(AppCredentials::from(self.get(env)?.apps().get(r)))
    }

    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn info(&self, env: &Env) -> napi::Result<Value> {
        Ok(self.get(env)?.info())
    }

    #[napi(ts_return_type = "Array<Record<string, unknown>>")]
    pub fn request_log(&self, env: &Env) -> napi::Result<Value> {
        to_json(env, &self.get(env)?.request_log())
    }

    #[napi]
    pub fn clear_request_log(&self, env: &Env) -> napi::Result<()> {
        self.get(env)?.clear_request_log();
        Ok(())
    }

    #[napi(ts_args_type = "fault: Record<string, unknown>")]
    pub fn inject_fault(&self, env: &Env, fault: Value) -> napi::Result<()> {
        let spec: FaultSpec = serde_json::from_value(fault).map_err(|e| throw(env, invalid("fault", e)))?;
        self.get(env)?.inject_fault(spec);
        Ok(())
    }

    #[napi]
    pub fn clear_faults(&self, env: &Env) -> napi::Result<()> {
        self.get(env)?.clear_faults();
        Ok(())
    }

    #[napi(ts_args_type = "config: Record<string, unknown>")]
    pub fn set_rate_limit(&self, env: &Env, config: Value) -> napi::Result<()> {
        let cfg: RateLimitConfig = serde_json::from_value(config).map_err(|e| throw(env, invalid("config", e)))?;
        self.get(env)?.set_rate_limit(cfg);
        Ok(())
    }

    #[napi]
    pub fn reset(&self, env: &Env) -> napi::Result<()> {
        self.get(env)?.reset();
        Ok(())
    }

    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn state(&self, env: &Env) -> napi::Result<Value> {
        Ok(self.get(env)?.state())
    }

    #[napi]
    pub fn set_webhook(&self, env: &Env, app: String, url: Option<String>) -> napi::Result<()> {
        let r = role(env, &app)?;
        self.get(env)?.set_webhook(r, url);
        Ok(())
    }

    /// A user message arrives on `psid`; resolves once webhooks were delivered.
    #[napi]
    pub fn simulate_message<'env>(
        &self,
        env: &'env Env,
        psid: String,
        text: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let emu = self.get(env)?;
        spawn(env, async move { emu.simulate_message(&psid, &text).await.map_err(io) })
    }

    /// A Page admin makes `app` the primary receiver; resolves once the
    /// `app_roles` webhooks were delivered.
    #[napi]
    pub fn set_primary_receiver<'env>(&self, env: &'env Env, app: String) -> napi::Result<PromiseRaw<'env, ()>> {
        let r = role(env, &app)?;
        let emu = self.get(env)?;
        spawn(env, async move {
            emu.set_primary_receiver(r).await;
            Ok(())
        })
    }

    /// Every conversation, newest first.
    #[napi(ts_return_type = "Array<Record<string, unknown>>")]
    pub fn conversations(&self, env: &Env) -> napi::Result<Value> {
        Ok(self.get(env)?.conversations())
    }

    /// A new message in conversation `id`: it moves to the top; its summary.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn bump_conversation(&self, env: &Env, id: String, text: Option<String>) -> napi::Result<Value> {
        self.get(env)?
            .bump_conversation(&id, text.as_deref())
            .ok_or_else(|| throw(env, invalid("id", "no such conversation")))
    }

    /// The emulated clock, in Graph's time format.
    #[napi]
    pub fn now(&self, env: &Env) -> napi::Result<String> {
        Ok(self.get(env)?.now().format("%Y-%m-%dT%H:%M:%S%z").to_string())
    }

    /// Moves the emulated clock forward by `secs`; the new time.
    #[napi]
    pub fn advance_clock(&self, env: &Env, secs: i64) -> napi::Result<String> {
        let now = self.get(env)?.advance_clock(secs).map_err(|e| throw(env, invalid("seconds", e)))?;
        Ok(now.format("%Y-%m-%dT%H:%M:%S%z").to_string())
    }

    /// Conversation Routing's default app, or null for none.
    #[napi]
    pub fn set_default_app(&self, env: &Env, app: Option<String>) -> napi::Result<()> {
        let r = app.as_deref().map(|a| role(env, a)).transpose()?;
        self.get(env)?.set_default_app(r);
        Ok(())
    }

    #[napi(ts_args_type = "status: Record<string, unknown>")]
    pub fn set_feature_status(&self, env: &Env, status: Value) -> napi::Result<()> {
        let status: FeatureStatus = serde_json::from_value(status).map_err(|e| throw(env, invalid("status", e)))?;
        self.get(env)?.set_feature_status(status);
        Ok(())
    }

    #[napi]
    pub fn set_conversations_pacing(&self, env: &Env, per_second: u32) -> napi::Result<()> {
        self.get(env)?.set_conversations_pacing(per_second);
        Ok(())
    }

    #[napi]
    pub fn set_log_capacity(&self, env: &Env, capacity: u32) -> napi::Result<()> {
        self.get(env)?.set_log_capacity(capacity as usize);
        Ok(())
    }

    /// Stops the server; idempotent.
    #[napi]
    pub fn stop<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let taken = self.emulator.write().unwrap_or_else(PoisonError::into_inner).take();
        spawn(env, async move {
            if let Some(emu) = taken {
                // A call still holding it (simulateMessage) lets go soon;
                // dropping it then aborts the server.
                if let Ok(emu) = Arc::try_unwrap(emu) {
                    emu.shutdown().await;
                }
            }
            Ok(())
        })
    }
}
