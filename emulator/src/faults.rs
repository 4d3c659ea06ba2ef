//! Injected faults: which requests they hit and what they do instead of (or before) the real answer.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultMatch {
    /// "GET", "POST", ... or any when absent.
    pub method: Option<String>,
    /// A substring of the request path, or any when absent.
    pub path_contains: Option<String>,
    /// true: only operations inside a batch request; false: only plain
    /// requests; absent: both.
    pub in_batch: Option<bool>,
    /// Only the batch operation at this position (0-based); implies `in_batch`.
    pub batch_index: Option<usize>,
}

impl FaultMatch {
    /// `item` is the operation's index inside a batch, `None` for a plain request.
    fn matches(&self, method: &str, path: &str, item: Option<usize>) -> bool {
        let scope = match item {
            None => self.in_batch != Some(true) && self.batch_index.is_none(),
            Some(i) => self.in_batch != Some(false) && self.batch_index.is_none_or(|b| b == i),
        };
        scope
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path_contains.as_deref().is_none_or(|p| path.contains(p))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    #[serde(default, rename = "match")]
    pub matcher: FaultMatch,
    /// How many matching requests this fault hits.
    #[serde(default = "one")]
    pub count: u32,
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

/// A fault's status, checked as it is read (see `check_status`).
fn status<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    crate::response::check_status(u16::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn optional_status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    Option::<u16>::deserialize(d)?.map(crate::response::check_status).transpose().map_err(serde::de::Error::custom)
}

fn status_200() -> u16 {
    200
}

fn status_503() -> u16 {
    503
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultAction {
    /// A plain status with an arbitrary body.
    Status {
        #[serde(default = "status_503", deserialize_with = "status")]
        status: u16,
        #[serde(default)]
        body: String,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// A Graph error object, served as `{"error": ...}`.
    GraphError {
        /// Absent: what Graph uses for the code (500 for 1/2, 403 for 10/200-299, else 400).
        #[serde(default, deserialize_with = "optional_status")]
        status: Option<u16>,
        error: Value,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Wait, then answer normally (the request is applied).
    Delay { ms: u64 },
    /// Close the connection without any response.
    Reset,
    /// Headers and part of the body, then the connection drops.
    ResetMidBody {
        #[serde(default = "status_200", deserialize_with = "status")]
        status: u16,
    },
    /// Batch operations only: the operation's slot in the batch answer is
    /// `null`, as Graph answers an operation that did not complete. With
    /// `applied` the operation ran first (its effects stay): the case where
    /// resending a POST would do it twice.
    NullItem {
        #[serde(default)]
        applied: bool,
    },
    /// A raw body exactly as given (truncated JSON, an HTML 502 page...).
    Malformed {
        #[serde(default = "status_200", deserialize_with = "status")]
        status: u16,
        #[serde(default)]
        body: String,
        #[serde(default)]
        content_type: Option<String>,
    },
}

impl FaultAction {
    /// The short name recorded in the request log.
    pub fn name(&self) -> &'static str {
        match self {
            FaultAction::Status { .. } => "status",
            FaultAction::GraphError { .. } => "graph_error",
            FaultAction::Delay { .. } => "delay",
            FaultAction::Reset => "reset",
            FaultAction::ResetMidBody { .. } => "reset_mid_body",
            FaultAction::Malformed { .. } => "malformed",
            FaultAction::NullItem { .. } => "null_item",
        }
    }
}

/// Pending faults, consumed first-in first-out among those that match.
#[derive(Debug, Default)]
pub struct FaultQueue {
    pending: VecDeque<FaultSpec>,
}

impl FaultQueue {
    pub fn push(&mut self, spec: FaultSpec) {
        if spec.count > 0 {
            self.pending.push_back(spec);
        }
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Takes one use of the oldest matching fault; `item` is the operation's
    /// index inside a batch request, `None` for a plain request.
    pub fn take(&mut self, method: &str, path: &str, item: Option<usize>) -> Option<FaultAction> {
        let idx = self.pending.iter().position(|f| {
            f.matcher.matches(method, path, item)
                && (item.is_some() || !matches!(f.action, FaultAction::NullItem { .. }))
        })?;
        let spec = self.pending.get_mut(idx)?;
        spec.count -= 1;
        let action = spec.action.clone();
        if spec.count == 0 {
            self.pending.remove(idx);
        }
        Some(action)
    }
}
