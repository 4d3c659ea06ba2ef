//! Graph batch requests: many operations in one HTTP request, each answered
//! on its own (<https://developers.facebook.com/docs/graph-api/making-multiple-requests>).
//!
//! The wire: `POST {base_url}/` with the form `batch=[{"method",
//! "relative_url", "body"}]&include_headers=false`, answered by an array with
//! one `{"code", "body"}` per operation, in order, or `null` for an
//! operation that did not complete. At most 50 operations per request.
//! `body` of a POST item is form-encoded, as the Graph API reads it; the
//! token travels once, in the outer request's `Authorization` header.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client::{parse_json, parse_success, parse_thread_owner, Client, DataList};
use crate::error::{Error, Result, TransportFailure};
use crate::model::{App, Platform, ThreadOwner};
use crate::retry::RetryPolicy;
use crate::routing::{parse_feature_status, FeatureStatus};
use crate::transport::{error_from, Call, BATCH_EDGE};
use crate::validate;

/// The Graph API's limit of operations in one batch request.
pub const MAX_BATCH_SIZE: usize = 50;

/// One operation of a batch. Build it with the constructors
/// (`BatchOp::thread_owner(psid)`, ...) or, from a binding, deserialise it
/// from plain data: `{"op": "pass_thread_control", "psid": "…",
/// "target_app_id": "…", "metadata": null}` (`duration` in whole seconds).
/// Arguments are checked by [`Client::batch`] before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BatchOp {
    ThreadOwner {
        psid: String,
    },
    PassThreadControl {
        psid: String,
        target_app_id: String,
        #[serde(default)]
        metadata: Option<String>,
    },
    /// To the Page Inbox, or the Instagram Inbox for `platform: instagram`.
    PassThreadControlToPageInbox {
        psid: String,
        #[serde(default)]
        metadata: Option<String>,
        #[serde(default)]
        platform: Option<Platform>,
    },
    TakeThreadControl {
        psid: String,
        #[serde(default)]
        metadata: Option<String>,
    },
    RequestThreadControl {
        psid: String,
        #[serde(default)]
        metadata: Option<String>,
    },
    ReleaseThreadControl {
        psid: String,
        #[serde(default)]
        metadata: Option<String>,
    },
    ExtendThreadControl {
        psid: String,
        /// Whole seconds, at most 7 days.
        duration: u64,
    },
    SecondaryReceivers,
    FeatureStatus,
}

fn meta(metadata: Option<&str>) -> Option<String> {
    metadata.map(str::to_owned)
}

impl BatchOp {
    pub fn thread_owner(psid: impl Into<String>) -> Self {
        BatchOp::ThreadOwner { psid: psid.into() }
    }

    pub fn pass_thread_control(
        psid: impl Into<String>,
        target_app_id: impl Into<String>,
        metadata: Option<&str>,
    ) -> Self {
        BatchOp::PassThreadControl { psid: psid.into(), target_app_id: target_app_id.into(), metadata: meta(metadata) }
    }

    /// `platform`: `None` or Messenger for the Page Inbox, Instagram for the Instagram Inbox.
    pub fn pass_thread_control_to_page_inbox(
        psid: impl Into<String>,
        metadata: Option<&str>,
        platform: Option<Platform>,
    ) -> Self {
        BatchOp::PassThreadControlToPageInbox { psid: psid.into(), metadata: meta(metadata), platform }
    }

    pub fn take_thread_control(psid: impl Into<String>, metadata: Option<&str>) -> Self {
        BatchOp::TakeThreadControl { psid: psid.into(), metadata: meta(metadata) }
    }

    pub fn request_thread_control(psid: impl Into<String>, metadata: Option<&str>) -> Self {
        BatchOp::RequestThreadControl { psid: psid.into(), metadata: meta(metadata) }
    }

    pub fn release_thread_control(psid: impl Into<String>, metadata: Option<&str>) -> Self {
        BatchOp::ReleaseThreadControl { psid: psid.into(), metadata: meta(metadata) }
    }

    /// `duration` in whole seconds (1 to 7 days' worth).
    pub fn extend_thread_control(psid: impl Into<String>, duration: Duration) -> Self {
        // A fraction of a second cannot be sent; round up so that it is
        // never silently shortened to 0.
        let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
        BatchOp::ExtendThreadControl { psid: psid.into(), duration: secs }
    }

    pub fn secondary_receivers() -> Self {
        BatchOp::SecondaryReceivers
    }

    pub fn feature_status() -> Self {
        BatchOp::FeatureStatus
    }

    /// One operation from plain data, as Python and Node pass it (see the
    /// type's docs); `index` is its position, named in the error. A
    /// `duration` may be any whole number of seconds (a JavaScript number,
    /// a Python float from a timedelta). The message never repeats a value
    /// given, only the keys and names expected.
    pub fn from_json(index: usize, mut value: Value) -> Result<Self> {
        let Some(fields) = value.as_object_mut() else {
            return Err(Error::wrong_type(
                "operations",
                format!("batch operation {index} must be an object like {{\"op\": \"thread_owner\", \"psid\": ...}}"),
            ));
        };
        if let Some(Value::Number(n)) = fields.get("duration") {
            if !n.is_u64() {
                let secs = validate::duration_secs(n.as_f64().unwrap_or(f64::NAN))?.as_secs();
                fields.insert("duration".into(), Value::from(secs));
            }
        }
        serde_json::from_value(value).map_err(|e| {
            let text = e.to_string();
            // serde names the value it refused ("unknown variant `x`", "invalid
            // type: string \"x\""): keep only what was expected.
            let said = match text.split_once(", expected") {
                Some((_, expected)) if !text.starts_with("missing field") => {
                    format!("unexpected value, expected{expected}")
                }
                _ => text,
            };
            Error::invalid("operations", format!("batch operation {index} is not a valid operation: {said}"))
        })
    }

    /// Whether the Graph API may run it again without harm (a read).
    pub fn is_read(&self) -> bool {
        matches!(self, BatchOp::ThreadOwner { .. } | BatchOp::SecondaryReceivers | BatchOp::FeatureStatus)
    }
}

/// The value of one successful operation, by kind. Serialised untagged, it
/// is the plain value a binding returns: the owner (or null), null for a
/// thread-control call, the list of apps, or the feature status.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BatchValue {
    ThreadOwner(Option<ThreadOwner>),
    /// A thread-control call succeeded.
    Done,
    SecondaryReceivers(Vec<App>),
    FeatureStatus(FeatureStatus),
}

#[derive(Clone, Copy)]
enum Answer {
    ThreadOwner,
    Success(&'static str),
    SecondaryReceivers,
    FeatureStatus,
}

/// An operation checked and laid out for the wire.
struct Prepared {
    item: Value,
    read: bool,
    answer: Answer,
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn recipient(psid: &str) -> String {
    json!({ "id": psid }).to_string()
}

impl Client {
    fn prepare(&self, op: &BatchOp) -> Result<Prepared> {
        let node = format!("{}/{}", self.api_version(), self.page_id());
        let get = |path: String, answer| Prepared {
            item: json!({ "method": "GET", "relative_url": path }),
            read: true,
            answer,
        };
        let post = |edge: &'static str, body: String| Prepared {
            item: json!({ "method": "POST", "relative_url": format!("{node}/{edge}"), "body": body }),
            read: false,
            answer: Answer::Success(edge),
        };
        let control = |edge: &'static str, psid: &str, metadata: &Option<String>| -> Result<Prepared> {
            validate::psid(psid)?;
            validate::metadata(metadata.as_deref())?;
            let r = recipient(psid);
            let mut pairs = vec![("recipient", r.as_str())];
            pairs.extend(metadata.as_deref().map(|m| ("metadata", m)));
            Ok(post(edge, form(&pairs)))
        };
        let pass = |psid: &str, app: &str, metadata: &Option<String>| -> Result<Prepared> {
            validate::psid(psid)?;
            validate::app_id("target_app_id", app)?;
            validate::metadata(metadata.as_deref())?;
            let r = recipient(psid);
            let mut pairs = vec![("recipient", r.as_str()), ("target_app_id", app)];
            pairs.extend(metadata.as_deref().map(|m| ("metadata", m)));
            Ok(post("pass_thread_control", form(&pairs)))
        };
        Ok(match op {
            BatchOp::ThreadOwner { psid } => {
                validate::psid(psid)?;
                get(format!("{node}/thread_owner?{}", form(&[("recipient", psid)])), Answer::ThreadOwner)
            }
            BatchOp::PassThreadControl { psid, target_app_id, metadata } => pass(psid, target_app_id, metadata)?,
            BatchOp::PassThreadControlToPageInbox { psid, metadata, platform } => {
                pass(psid, platform.unwrap_or(Platform::Messenger).inbox_app_id(), metadata)?
            }
            BatchOp::TakeThreadControl { psid, metadata } => control("take_thread_control", psid, metadata)?,
            BatchOp::RequestThreadControl { psid, metadata } => control("request_thread_control", psid, metadata)?,
            BatchOp::ReleaseThreadControl { psid, metadata } => control("release_thread_control", psid, metadata)?,
            BatchOp::ExtendThreadControl { psid, duration } => {
                validate::psid(psid)?;
                validate::duration(*duration)?;
                let (r, d) = (recipient(psid), duration.to_string());
                post("extend_thread_control", form(&[("recipient", r.as_str()), ("duration", d.as_str())]))
            }
            BatchOp::SecondaryReceivers => get(
                format!("{node}/secondary_receivers?{}", form(&[("fields", "id,name")])),
                Answer::SecondaryReceivers,
            ),
            BatchOp::FeatureStatus => {
                get(format!("{node}?{}", form(&[("fields", "messaging_feature_status")])), Answer::FeatureStatus)
            }
        })
    }

    /// Runs many operations through Graph batch requests: up to 50 per HTTP
    /// request, longer lists split into requests sent concurrently. Returns
    /// one result per operation, in order: its value or its own error (one
    /// failure never fails the others). Each operation follows the
    /// single-call retry rules: a read is retried on `server`, `transport`
    /// and `rate_limit`, a thread-control call only on `rate_limit`; one
    /// the Graph API did not complete (`null`) is reported, never resent.
    ///
    /// `Err` only for a bad argument, before anything is sent.
    pub async fn batch(&self, ops: Vec<BatchOp>) -> Result<Vec<Result<BatchValue>>> {
        let prepared = ops
            .iter()
            .enumerate()
            .map(|(i, op)| {
                self.prepare(op).map_err(|e| match e {
                    Error::InvalidInput { argument, message, problem } => {
                        Error::InvalidInput { argument, message: format!("{message} (batch operation {i})"), problem }
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let chunks = prepared.chunks(MAX_BATCH_SIZE).map(|chunk| self.run_chunk(chunk));
        Ok(join_all(chunks).await.into_iter().flatten().collect())
    }

    /// Who owns each thread (`None`: idle), one result per PSID, in order,
    /// through batch requests.
    pub async fn thread_owners<I, S>(&self, psids: I) -> Result<Vec<Result<Option<ThreadOwner>>>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ops = psids.into_iter().map(BatchOp::thread_owner).collect();
        let results = self.batch(ops).await?;
        Ok(results
            .into_iter()
            .map(|r| match r? {
                BatchValue::ThreadOwner(owner) => Ok(owner),
                _ => Err(Error::protocol("a thread_owner operation answered another kind of value", None)),
            })
            .collect())
    }

    /// Sends one batch of at most 50, then again only the operations whose
    /// failure the retry rules allow to resend, until none is left.
    async fn run_chunk(&self, chunk: &[Prepared]) -> Vec<Result<BatchValue>> {
        let retry: &RetryPolicy = &self.inner.retry;
        let mut results: Vec<Option<Result<BatchValue>>> = chunk.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..chunk.len()).collect();
        let mut attempt: u32 = 0;
        loop {
            let answers = self.send_batch(&pending.iter().map(|&i| &chunk[i]).collect::<Vec<_>>(), attempt).await;
            let mut again = Vec::new();
            let mut wait: Option<Duration> = None;
            let mut cause: Option<&'static str> = None;
            for (&i, answer) in pending.iter().zip(answers) {
                let outcome = answer.and_then(|body| decode(chunk[i].answer, &body));
                if let Err(err) = &outcome {
                    let asked = err.graph().and_then(|g| g.retry_after);
                    let too_long = asked.is_some_and(|w| w > retry.max_retry_wait);
                    if attempt < retry.max_retries && !too_long && RetryPolicy::should_retry(err, chunk[i].read) {
                        wait = wait.max(asked);
                        cause = cause.or(Some(err.kind().as_str()));
                        again.push(i);
                    }
                }
                results[i] = Some(outcome);
            }
            // A closed client sends nothing more: no point waiting to retry.
            if again.is_empty() || self.is_closed() {
                break;
            }
            let wait = wait.unwrap_or_else(|| retry.backoff(attempt));
            // The same retry event as a single call's, naming the batch request.
            let call = Call { method: Method::POST, edge: BATCH_EDGE, query: &[], body: None };
            self.inner.retry_event(&call, cause.unwrap_or("transport"), attempt + 1, wait, Some(again.len()));
            // close() wakes the wait: the last answers stand.
            if self.inner.pause(wait).await.is_err() {
                break;
            }
            attempt += 1;
            pending = again;
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::protocol("a batch operation got no result", None))))
            .collect()
    }

    /// One HTTP request: each operation's answer body, or its error. A
    /// failure of the whole request is every operation's failure. `resend`:
    /// how many batch requests of this chunk went before (the attempt's span
    /// reports it as `http.request.resend_count`, as a single call's does).
    async fn send_batch(&self, items: &[&Prepared], resend: u32) -> Vec<Result<Vec<u8>>> {
        let batch = Value::Array(items.iter().map(|p| p.item.clone()).collect()).to_string();
        let body = form(&[("batch", batch.as_str()), ("include_headers", "false")]);
        let call = Call { method: Method::POST, edge: BATCH_EDGE, query: &[], body: Some(body.into_bytes()) };
        let answer = match self.inner.execute_once(&call, resend).await {
            Ok(a) => a,
            Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
        };
        let list: Vec<Option<BatchItem>> = match parse_json::<Vec<Option<BatchItem>>>(&answer) {
            Ok(list) if list.len() == items.len() => list,
            Ok(list) => {
                let e = Error::protocol(
                    format!("the batch answer has {} results for {} operations", list.len(), items.len()),
                    Some(200),
                );
                return items.iter().map(|_| Err(e.clone())).collect();
            }
            Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
        };
        list.into_iter().zip(items).map(|(item, p)| self.item_body(item, p.read)).collect()
    }

    fn item_body(&self, item: Option<BatchItem>, read: bool) -> Result<Vec<u8>> {
        let Some(item) = item else {
            // Graph's `null`: the operation did not complete, and a write may
            // still have taken effect, so the retry rules treat it like a
            // connection lost after sending (a read is resent, a write not).
            let message = if read {
                "the Graph API did not complete this batch operation (null result)"
            } else {
                "the Graph API did not complete this batch operation (null result); it may have taken effect, so it was not sent again"
            };
            return Err(Error::Transport { failure: TransportFailure::Other, message: message.to_owned() });
        };
        let body = match item.body {
            None | Some(Value::Null) => Vec::new(),
            // The Graph API sends each body as a JSON-encoded string.
            Some(Value::String(s)) => s.into_bytes(),
            Some(other) => other.to_string().into_bytes(),
        };
        if (200..300).contains(&item.code) {
            return Ok(body);
        }
        let content_type = if body.is_empty() { "" } else { "application/json" };
        Err(error_from(&self.inner.token, item.code, content_type, &body, None, None))
    }
}

#[derive(Deserialize)]
struct BatchItem {
    code: u16,
    #[serde(default)]
    body: Option<Value>,
}

fn decode(answer: Answer, body: &[u8]) -> Result<BatchValue> {
    Ok(match answer {
        Answer::ThreadOwner => BatchValue::ThreadOwner(parse_thread_owner(body)?),
        Answer::Success(edge) => {
            parse_success(edge, body)?;
            BatchValue::Done
        }
        Answer::SecondaryReceivers => BatchValue::SecondaryReceivers(parse_json::<DataList<App>>(body)?.data),
        Answer::FeatureStatus => BatchValue::FeatureStatus(parse_feature_status(body)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_from_plain_data() {
        let op: std::result::Result<BatchOp, _> = serde_json::from_value(
            json!({"op": "pass_thread_control_to_page_inbox", "psid": "1", "platform": "instagram"}),
        );
        assert_eq!(op.ok(), Some(BatchOp::pass_thread_control_to_page_inbox("1", None, Some(Platform::Instagram))));
        let op: std::result::Result<BatchOp, _> = serde_json::from_value(json!({"op": "feature_status"}));
        assert_eq!(op.ok(), Some(BatchOp::FeatureStatus));
        let op = BatchOp::from_json(0, json!({"op": "extend_thread_control", "psid": "1", "duration": 60.0}));
        assert_eq!(op.ok(), Some(BatchOp::ExtendThreadControl { psid: "1".into(), duration: 60 }));
        let err = |i, v| BatchOp::from_json(i, v).err().map(|e| e.to_string()).unwrap_or_default();
        let e = err(3, json!({"op": "EAAG-secret", "psid": "1"}));
        assert!(e.contains("batch operation 3") && e.contains("thread_owner") && !e.contains("EAAG"), "{e}");
        let e = err(0, json!({"op": "thread_owner"}));
        assert!(e.contains("psid"), "{e}");
        let e = err(0, json!({"op": "thread_owner", "psid": 1}));
        assert!(e.contains("expected a string"), "{e}");
        let e = BatchOp::from_json(0, json!({"op": "extend_thread_control", "psid": "1", "duration": 1.5}));
        assert_eq!(e.err().and_then(|e| e.input_problem()).map(|p| p.0), Some("duration"));
        assert!(BatchOp::from_json(0, json!("thread_owner")).is_err());
        assert!(BatchOp::thread_owner("1").is_read());
        assert!(!BatchOp::take_thread_control("1", None).is_read());
        assert_eq!(
            BatchOp::extend_thread_control("1", Duration::from_millis(1500)),
            BatchOp::ExtendThreadControl { psid: "1".into(), duration: 2 }
        );
    }

    #[test]
    fn values_serialise_as_plain_data() {
        assert_eq!(serde_json::to_value(BatchValue::Done).ok(), Some(Value::Null));
        assert_eq!(serde_json::to_value(BatchValue::ThreadOwner(None)).ok(), Some(Value::Null));
    }
}
