//! The typed results: immutable Python objects with a useful `repr`,
//! equality and `to_dict()`. Conversations keep the core value and build
//! Python objects only for the fields asked for.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use messenger_handover as core;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::map_to_py;

/// `(constructor, args)`: what `__reduce__` returns for pickling.
type Reduced<'py, A> = PyResult<(Bound<'py, PyAny>, A)>;

fn opt_repr(py: Python<'_>, v: Option<&str>) -> String {
    match v {
        Some(s) => pyo3::types::PyString::new(py, s).repr().map(|r| r.to_string()).unwrap_or_else(|_| "'?'".into()),
        None => "None".to_owned(),
    }
}

fn time_repr(t: Option<&DateTime<Utc>>) -> String {
    match t {
        Some(t) => format!("'{}'", t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        None => "None".to_owned(),
    }
}

/// The app that controls a thread, and until when.
#[pyclass(frozen, eq, module = "messenger_handover._native")]
#[derive(Clone, PartialEq)]
pub struct ThreadOwner {
    #[pyo3(get)]
    app_id: String,
    #[pyo3(get)]
    expiration: Option<DateTime<Utc>>,
}

#[pymethods]
impl ThreadOwner {
    #[new]
    #[pyo3(signature = (app_id, expiration=None))]
    fn new(app_id: String, expiration: Option<DateTime<Utc>>) -> Self {
        ThreadOwner { app_id, expiration }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ThreadOwner(app_id={}, expiration={})",
            opt_repr(py, Some(&self.app_id)),
            time_repr(self.expiration.as_ref())
        )
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.app_id.hash(&mut h);
        self.expiration.hash(&mut h);
        h.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduced<'py, (String, Option<DateTime<Utc>>)> {
        let me = slf.get();
        Ok((slf.get_type().into_any(), (me.app_id.clone(), me.expiration)))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("app_id", &self.app_id)?;
        d.set_item("expiration", self.expiration)?;
        Ok(d)
    }
}

impl From<core::ThreadOwner> for ThreadOwner {
    fn from(o: core::ThreadOwner) -> Self {
        ThreadOwner { app_id: o.app_id, expiration: o.expiration }
    }
}

/// An app with a role on the Page.
#[pyclass(frozen, eq, hash, module = "messenger_handover._native")]
#[derive(Clone, PartialEq, Hash)]
pub struct App {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    name: Option<String>,
}

#[pymethods]
impl App {
    #[new]
    #[pyo3(signature = (id, name=None))]
    fn new(id: String, name: Option<String>) -> Self {
        App { id, name }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("App(id={}, name={})", opt_repr(py, Some(&self.id)), opt_repr(py, self.name.as_deref()))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduced<'py, (String, Option<String>)> {
        let me = slf.get();
        Ok((slf.get_type().into_any(), (me.id.clone(), me.name.clone())))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.id)?;
        d.set_item("name", &self.name)?;
        Ok(d)
    }
}

impl From<core::App> for App {
    fn from(a: core::App) -> Self {
        App { id: a.id, name: a.name }
    }
}

/// Which messaging features are on for the Page (`messaging_feature_status`):
/// Conversation Routing (`hop_v2`) and multi-app messaging per platform.
#[pyclass(frozen, eq, hash, module = "messenger_handover._native")]
#[derive(Clone, PartialEq, Hash)]
pub struct FeatureStatus {
    #[pyo3(get)]
    hop_v2: bool,
    #[pyo3(get)]
    msgr_multi_app: bool,
    #[pyo3(get)]
    ig_multi_app: bool,
}

#[pymethods]
impl FeatureStatus {
    #[new]
    #[pyo3(signature = (hop_v2=false, msgr_multi_app=false, ig_multi_app=false))]
    fn new(hop_v2: bool, msgr_multi_app: bool, ig_multi_app: bool) -> Self {
        FeatureStatus { hop_v2, msgr_multi_app, ig_multi_app }
    }

    fn __repr__(&self) -> String {
        let b = |v: bool| if v { "True" } else { "False" };
        format!(
            "FeatureStatus(hop_v2={}, msgr_multi_app={}, ig_multi_app={})",
            b(self.hop_v2),
            b(self.msgr_multi_app),
            b(self.ig_multi_app)
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduced<'py, (bool, bool, bool)> {
        let me = slf.get();
        Ok((slf.get_type().into_any(), (me.hop_v2, me.msgr_multi_app, me.ig_multi_app)))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("hop_v2", self.hop_v2)?;
        d.set_item("msgr_multi_app", self.msgr_multi_app)?;
        d.set_item("ig_multi_app", self.ig_multi_app)?;
        Ok(d)
    }
}

impl From<core::FeatureStatus> for FeatureStatus {
    fn from(s: core::FeatureStatus) -> Self {
        FeatureStatus { hop_v2: s.hop_v2, msgr_multi_app: s.msgr_multi_app, ig_multi_app: s.ig_multi_app }
    }
}

/// A person (or the Page) taking part in a conversation.
#[pyclass(frozen, eq, hash, module = "messenger_handover._native")]
#[derive(Clone, PartialEq, Hash)]
pub struct Participant {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    name: Option<String>,
    #[pyo3(get)]
    email: Option<String>,
}

#[pymethods]
impl Participant {
    #[new]
    #[pyo3(signature = (id, name=None, email=None))]
    fn new(id: String, name: Option<String>, email: Option<String>) -> Self {
        Participant { id, name, email }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Participant(id={}, name={}, email={})",
            opt_repr(py, Some(&self.id)),
            opt_repr(py, self.name.as_deref()),
            opt_repr(py, self.email.as_deref())
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduced<'py, (String, Option<String>, Option<String>)> {
        let me = slf.get();
        Ok((slf.get_type().into_any(), (me.id.clone(), me.name.clone(), me.email.clone())))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.id)?;
        d.set_item("name", &self.name)?;
        d.set_item("email", &self.email)?;
        Ok(d)
    }
}

impl From<core::Participant> for Participant {
    fn from(p: core::Participant) -> Self {
        Participant { id: p.id, name: p.name, email: p.email }
    }
}

fn people<'py>(py: Python<'py>, list: &[core::Participant]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for p in list {
        out.append(Participant::from(p.clone()))?;
    }
    Ok(out)
}

fn people_dicts<'py>(py: Python<'py>, list: &[core::Participant]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for p in list {
        out.append(Participant::from(p.clone()).to_dict(py)?)?;
    }
    Ok(out)
}

/// A conversation of the Page's inbox: DESIGN's typed fields, and `raw`
/// (a fresh dict on every access) for anything else requested.
#[pyclass(frozen, eq, module = "messenger_handover._native")]
#[derive(Clone)]
pub struct Conversation {
    /// The core items of the page it came in (its own, alone, from the export),
    /// shared by their Python objects: one allocation and no copy per item.
    /// The last of them frees the page on its own thread; with mimalloc and
    /// each `raw` one text, handing that to a runtime thread was no faster
    /// (A/B, issue 14).
    page: Arc<Vec<core::Conversation>>,
    index: usize,
}

impl Conversation {
    fn inner(&self) -> &core::Conversation {
        &self.page[self.index]
    }
}

impl PartialEq for Conversation {
    fn eq(&self, other: &Self) -> bool {
        self.inner() == other.inner()
    }
}

impl From<core::Conversation> for Conversation {
    fn from(inner: core::Conversation) -> Self {
        Conversation { page: Arc::new(vec![inner]), index: 0 }
    }
}

#[pymethods]
impl Conversation {
    #[getter]
    fn id(&self) -> &str {
        &self.inner().id
    }
    #[getter]
    fn updated_time(&self) -> Option<DateTime<Utc>> {
        self.inner().updated_time
    }
    #[getter]
    fn link(&self) -> Option<&str> {
        self.inner().link.as_deref()
    }
    #[getter]
    fn snippet(&self) -> Option<&str> {
        self.inner().snippet.as_deref()
    }
    #[getter]
    fn message_count(&self) -> Option<u64> {
        self.inner().message_count
    }
    #[getter]
    fn unread_count(&self) -> Option<u64> {
        self.inner().unread_count
    }
    #[getter]
    fn participants<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        people(py, &self.inner().participants)
    }
    #[getter]
    fn senders<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        people(py, &self.inner().senders)
    }
    #[getter]
    fn can_reply(&self) -> Option<bool> {
        self.inner().can_reply
    }
    #[getter]
    fn is_subscribed(&self) -> Option<bool> {
        self.inner().is_subscribed
    }
    /// Whether this app controls the thread (Conversation Routing).
    #[getter]
    fn is_owner(&self) -> Option<bool> {
        self.inner().is_owner
    }
    #[getter]
    fn scoped_thread_key(&self) -> Option<&str> {
        self.inner().scoped_thread_key.as_deref()
    }
    #[getter]
    fn folder(&self) -> Option<&str> {
        self.inner().folder.as_deref()
    }
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, &self.inner().raw.to_map())
    }
    /// The platform walked (filled in by the export).
    #[getter]
    fn platform(&self) -> Option<&str> {
        self.inner().platform.as_deref()
    }
    /// The newest messages, when asked for (`messages=N`), newest first.
    #[getter]
    fn messages<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.inner().messages.iter().map(|m| Message::from(m.clone())))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let c = self.inner();
        let opt_num = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_else(|| "None".into());
        format!(
            "Conversation(id={}, updated_time={}, snippet={}, message_count={}, unread_count={}, participants={})",
            opt_repr(py, Some(&c.id)),
            time_repr(c.updated_time.as_ref()),
            opt_repr(py, c.snippet.as_deref()),
            opt_num(c.message_count),
            opt_num(c.unread_count),
            c.participants.len()
        )
    }

    /// The typed fields as a dict (participants as dicts too); `raw` apart.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.inner();
        let d = PyDict::new(py);
        d.set_item("id", &c.id)?;
        d.set_item("updated_time", c.updated_time)?;
        d.set_item("link", &c.link)?;
        d.set_item("snippet", &c.snippet)?;
        d.set_item("message_count", c.message_count)?;
        d.set_item("unread_count", c.unread_count)?;
        d.set_item("participants", people_dicts(py, &c.participants)?)?;
        d.set_item("senders", people_dicts(py, &c.senders)?)?;
        d.set_item("can_reply", c.can_reply)?;
        d.set_item("is_subscribed", c.is_subscribed)?;
        d.set_item("is_owner", c.is_owner)?;
        d.set_item("scoped_thread_key", &c.scoped_thread_key)?;
        d.set_item("folder", &c.folder)?;
        d.set_item("platform", &c.platform)?;
        let messages = PyList::empty(py);
        for m in &c.messages {
            messages.append(Message::from(m.clone()).to_dict(py)?)?;
        }
        d.set_item("messages", messages)?;
        Ok(d)
    }
}

/// One page of conversations: its items and the cursor to resume after it.
#[pyclass(frozen, module = "messenger_handover._native")]
pub struct Page {
    items: Vec<Py<Conversation>>,
    #[pyo3(get)]
    after: Option<String>,
    #[pyo3(get)]
    has_next: bool,
}

impl Page {
    pub fn from_core(py: Python<'_>, page: core::Page<core::Conversation>) -> PyResult<Self> {
        let shared = Arc::new(page.items);
        let items = (0..shared.len())
            .map(|index| Py::new(py, Conversation { page: shared.clone(), index }))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Page { items, after: page.after, has_next: page.has_next })
    }
}

#[pymethods]
impl Page {
    /// The conversations of this page (a new list each time).
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.iter().map(|c| c.clone_ref(py)))
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Page(items=<{} conversations>, after={}, has_next={})",
            self.items.len(),
            opt_repr(py, self.after.as_deref()),
            if self.has_next { "True" } else { "False" }
        )
    }
}

// ---- messages (issue 12) ----

/// A message of a conversation: typed fields, `raw` for the whole Graph object.
#[pyclass(frozen, eq, module = "messenger_handover._native")]
#[derive(Clone, PartialEq)]
pub struct Message {
    inner: core::Message,
}

impl From<core::Message> for Message {
    fn from(inner: core::Message) -> Self {
        Message { inner }
    }
}

#[pymethods]
impl Message {
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    #[getter]
    fn created_time(&self) -> Option<DateTime<Utc>> {
        self.inner.created_time
    }
    /// Graph's `from`.
    #[getter]
    fn sender(&self) -> Option<Participant> {
        self.inner.sender.clone().map(Participant::from)
    }
    /// Graph's `to`.
    #[getter]
    fn recipients<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        people(py, &self.inner.recipients)
    }
    /// Graph's `message`.
    #[getter]
    fn text(&self) -> Option<&str> {
        self.inner.text.as_deref()
    }
    /// Graph's `attachments`, as sent (a fresh object on every access).
    #[getter]
    fn attachments(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.inner.attachments.as_ref().map(|a| crate::convert::json_to_py(py, a)).transpose()
    }
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, &self.inner.raw.to_map())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let m = &self.inner;
        format!(
            "Message(id={}, created_time={}, sender={}, text={})",
            opt_repr(py, Some(&m.id)),
            time_repr(m.created_time.as_ref()),
            opt_repr(py, m.sender.as_ref().map(|p| p.id.as_str())),
            opt_repr(py, m.text.as_deref())
        )
    }

    /// The typed fields as a dict (people as dicts too); `raw` apart.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = &self.inner;
        let d = PyDict::new(py);
        d.set_item("id", &m.id)?;
        d.set_item("created_time", m.created_time)?;
        let sender = m.sender.clone().map(|p| Participant::from(p).to_dict(py)).transpose()?;
        d.set_item("sender", sender)?;
        d.set_item("recipients", people_dicts(py, &m.recipients)?)?;
        d.set_item("text", &m.text)?;
        d.set_item("attachments", self.attachments(py)?)?;
        Ok(d)
    }
}

/// One page of messages: its items and the cursor to resume after it.
#[pyclass(frozen, module = "messenger_handover._native")]
pub struct MessagePage {
    items: Vec<Py<Message>>,
    #[pyo3(get)]
    after: Option<String>,
    #[pyo3(get)]
    has_next: bool,
}

impl MessagePage {
    pub fn from_core(py: Python<'_>, page: core::Page<core::Message>) -> PyResult<Self> {
        let items = page.items.into_iter().map(|m| Py::new(py, Message::from(m))).collect::<PyResult<Vec<_>>>()?;
        Ok(MessagePage { items, after: page.after, has_next: page.has_next })
    }
}

#[pymethods]
impl MessagePage {
    /// The messages of this page (a new list each time).
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.iter().map(|m| m.clone_ref(py)))
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "MessagePage(items=<{} messages>, after={}, has_next={})",
            self.items.len(),
            opt_repr(py, self.after.as_deref()),
            if self.has_next { "True" } else { "False" }
        )
    }
}
