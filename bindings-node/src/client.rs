//! `NativeClient`: one core `Client`, one method per Graph operation, each
//! returning a Promise and racing an optional `CancelToken`.

use std::sync::{PoisonError, RwLock};

use messenger_handover::{validate, BatchOp, Client, ConversationsQuery, Folder, Platform};
use std::future::Future;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::Env;
use napi_derive::napi;

use crate::cancel::{CancelToken, Canceller};
use crate::convert::{App, BatchItem, FeatureStatus, Native, ThreadOwner};
use crate::errors::{self, from_core, state, throw};
use crate::pager::NativePager;
use crate::usage::UsageInfo;

/// Client settings; absent ones take DESIGN's defaults.
#[napi(object)]
pub struct ClientOptions {
    pub access_token: String,
    pub page_id: Option<String>,
    pub app_secret: Option<String>,
    pub api_version: Option<String>,
    pub base_url: Option<String>,
    pub timeout_ms: Option<f64>,
    pub max_retries: Option<f64>,
    pub max_retry_wait_ms: Option<f64>,
    pub retry_base_delay_ms: Option<f64>,
    pub max_response_bytes: Option<f64>,
    pub max_connections: Option<f64>,
}

/// What to list; every field optional.
#[napi(object)]
pub struct ConversationsOptions {
    pub folder: Option<String>,
    pub platform: Option<String>,
    pub user_id: Option<String>,
    pub tags: Option<Vec<String>>,
    pub fields: Option<Vec<String>>,
    pub page_size: Option<f64>,
    pub after: Option<String>,
    /// The newest 1 to 20 messages of each conversation, inline.
    pub messages: Option<f64>,
}

/// JavaScript numbers are floats: the core says whether one is whole (and
/// then checks its range), so no rule is spelled out here.
pub(crate) fn whole(argument: &'static str, n: f64) -> errors::Result<i64> {
    validate::whole(argument, n).map_err(from_core)
}

/// A JavaScript number as the core's `u32`: not whole is refused by the
/// core's words; out of range becomes a value the core still refuses.
pub(crate) fn whole_u32(argument: &'static str, n: f64) -> errors::Result<u32> {
    Ok(u32::try_from(whole(argument, n)?).unwrap_or(u32::MAX))
}

/// A client bound to one Page. Cheap to share; `close()` releases it.
#[napi]
pub struct NativeClient {
    client: RwLock<Option<Client>>,
}

#[napi]
impl NativeClient {
    #[napi(constructor)]
    pub fn new(env: &Env, options: ClientOptions) -> napi::Result<Self> {
        Self::build(options).map_err(|e| throw(env, e))
    }

    fn build(options: ClientOptions) -> errors::Result<Self> {
        // lib.rs `init` kept a bad one from aborting the process; say so here.
        messenger_handover::validate::worker_threads_from_env().map_err(from_core)?;
        let mut b = Client::builder(options.access_token);
        if let Some(v) = options.page_id {
            b = b.page_id(v);
        }
        if let Some(v) = options.app_secret {
            b = b.app_secret(v);
        }
        if let Some(v) = options.api_version {
            b = b.api_version(v);
        }
        if let Some(v) = options.base_url {
            b = b.base_url(v);
        }
        // Milliseconds to seconds is the only conversion: the core checks every range.
        if let Some(v) = options.timeout_ms {
            b = b.timeout_secs(v / 1000.0);
        }
        if let Some(v) = options.max_retries {
            b = b.max_retries(whole("max_retries", v)?);
        }
        if let Some(v) = options.max_retry_wait_ms {
            b = b.max_retry_wait_secs(v / 1000.0);
        }
        if let Some(v) = options.retry_base_delay_ms {
            b = b.retry_base_delay_secs(v / 1000.0);
        }
        if let Some(v) = options.max_response_bytes {
            b = b.max_response_bytes(whole("max_response_bytes", v)?);
        }
        if let Some(v) = options.max_connections {
            b = b.max_connections(whole("max_connections", v)?);
        }
        let client = b.build().map_err(from_core)?;
        Ok(NativeClient { client: RwLock::new(Some(client)) })
    }

    pub(crate) fn client(&self) -> errors::Result<Client> {
        self.client.read().unwrap_or_else(PoisonError::into_inner).clone().ok_or_else(|| state("the client is closed"))
    }

    /// The one shape of every operation: the core call `op` on this client,
    /// its output converted with `From`, raced against `cancel`, as a Promise.
    fn call<'env, T, R, F>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelToken>,
        op: impl FnOnce(Client) -> F,
    ) -> napi::Result<PromiseRaw<'env, R>>
    where
        F: Future<Output = Result<T, messenger_handover::Error>> + Send + 'static,
        T: Send + 'static,
        R: From<Native<T>> + ToNapiValue + Send + 'static,
    {
        let fut = op(self.client().map_err(|e| throw(env, e))?);
        errors::spawn(
            env,
            Canceller::from_token(cancel).run(async move { fut.await.map(|v| R::from(Native(v))).map_err(from_core) }),
        )
    }

    fn with_client<R>(&self, f: impl FnOnce(&Client) -> R) -> Option<R> {
        self.client.read().unwrap_or_else(PoisonError::into_inner).as_ref().map(f)
    }

    /// Releases the client; calls already running finish, later ones fail.
    #[napi]
    pub fn close(&self) {
        // The core closes every clone: pagers made from this client stop too.
        if let Some(client) = self.client.write().unwrap_or_else(PoisonError::into_inner).take() {
            client.close();
        }
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.with_client(|_| ()).is_none()
    }

    #[napi(getter)]
    pub fn page_id(&self) -> Option<String> {
        self.with_client(|c| c.page_id().to_owned())
    }

    #[napi(getter)]
    pub fn api_version(&self) -> Option<String> {
        self.with_client(|c| c.api_version().to_owned())
    }

    #[napi(getter)]
    pub fn base_url(&self) -> Option<String> {
        self.with_client(Client::base_url)
    }

    /// The usage headers of the last response that had any.
    #[napi(getter)]
    pub fn last_usage(&self) -> Option<UsageInfo> {
        self.with_client(Client::last_usage).flatten().as_ref().map(UsageInfo::from)
    }

    #[napi]
    pub fn thread_owner<'env>(
        &self,
        env: &'env Env,
        psid: String,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, Option<ThreadOwner>>> {
        self.call(env, cancel, move |c| async move { c.thread_owner(&psid).await })
    }

    #[napi]
    pub fn pass_thread_control<'env>(
        &self,
        env: &'env Env,
        psid: String,
        target_app_id: String,
        metadata: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        self.call(env, cancel, move |c| async move {
            c.pass_thread_control(&psid, &target_app_id, metadata.as_deref()).await
        })
    }

    /// `platform`: absent or `messenger` for the Page Inbox, `instagram` for
    /// the Instagram Inbox.
    #[napi]
    pub fn pass_thread_control_to_page_inbox<'env>(
        &self,
        env: &'env Env,
        psid: String,
        metadata: Option<String>,
        platform: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let platform = platform.map(|p| p.parse::<Platform>()).transpose().map_err(|e| throw(env, from_core(e)))?;
        self.call(env, cancel, move |c| async move {
            match platform {
                Some(p) => c.pass_thread_control_to_inbox(&psid, metadata.as_deref(), p).await,
                None => c.pass_thread_control_to_page_inbox(&psid, metadata.as_deref()).await,
            }
        })
    }

    #[napi]
    pub fn feature_status<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, FeatureStatus>> {
        self.call(env, cancel, move |c| async move { c.feature_status().await })
    }

    /// `operations`: plain objects in the core's form (`batchOp.*` builds
    /// them); checked before anything is sent.
    #[napi]
    pub fn batch<'env>(
        &self,
        env: &'env Env,
        operations: Vec<serde_json::Value>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, Vec<BatchItem>>> {
        let ops = operations
            .into_iter()
            .enumerate()
            .map(|(i, op)| BatchOp::from_json(i, op))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| throw(env, from_core(e)))?;
        self.call(env, cancel, move |c| async move { c.batch(ops).await })
    }

    #[napi]
    pub fn thread_owners<'env>(
        &self,
        env: &'env Env,
        psids: Vec<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, Vec<BatchItem>>> {
        self.call(env, cancel, move |c| async move { c.thread_owners(psids).await })
    }

    #[napi]
    pub fn take_thread_control<'env>(
        &self,
        env: &'env Env,
        psid: String,
        metadata: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        self.call(env, cancel, move |c| async move { c.take_thread_control(&psid, metadata.as_deref()).await })
    }

    #[napi]
    pub fn request_thread_control<'env>(
        &self,
        env: &'env Env,
        psid: String,
        metadata: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        self.call(env, cancel, move |c| async move { c.request_thread_control(&psid, metadata.as_deref()).await })
    }

    #[napi]
    pub fn release_thread_control<'env>(
        &self,
        env: &'env Env,
        psid: String,
        metadata: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        self.call(env, cancel, move |c| async move { c.release_thread_control(&psid, metadata.as_deref()).await })
    }

    #[napi]
    pub fn extend_thread_control<'env>(
        &self,
        env: &'env Env,
        psid: String,
        duration_seconds: f64,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        self.call(env, cancel, move |c| async move {
            c.extend_thread_control(&psid, validate::duration_secs(duration_seconds)?).await
        })
    }

    #[napi]
    pub fn secondary_receivers<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, Vec<App>>> {
        self.call(env, cancel, move |c| async move { c.secondary_receivers().await })
    }

    /// A pager; arguments are checked now, nothing is sent until the first page.
    #[napi]
    pub fn conversations(&self, env: &Env, options: Option<ConversationsOptions>) -> napi::Result<NativePager> {
        self.pager(options).map_err(|e| throw(env, e))
    }

    fn pager(&self, options: Option<ConversationsOptions>) -> errors::Result<NativePager> {
        let client = self.client()?;
        let mut q = ConversationsQuery::new();
        if let Some(o) = options {
            if let Some(f) = o.folder {
                q = q.folder(f.parse::<Folder>().map_err(from_core)?);
            }
            if let Some(p) = o.platform {
                q = q.platform(p.parse::<Platform>().map_err(from_core)?);
            }
            if let Some(u) = o.user_id {
                q = q.user_id(u);
            }
            if let Some(t) = o.tags {
                q = q.tags(t);
            }
            if let Some(f) = o.fields {
                q = q.fields(f);
            }
            if let Some(n) = o.page_size {
                q = q.page_size(whole("page_size", n)?);
            }
            if let Some(a) = o.after {
                q = q.after(a);
            }
            if let Some(n) = o.messages {
                q = q.messages(whole_u32("messages", n)?);
            }
        }
        client.conversations(q).map(NativePager::new).map_err(from_core)
    }
}
