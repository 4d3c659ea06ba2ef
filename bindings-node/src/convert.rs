//! Core results as plain JavaScript objects (camelCase, `null` for absent).

use chrono::{DateTime, Utc};
use messenger_handover as core;
use napi::bindgen_prelude::{Either3, Latin1String};
use napi_derive::napi;
use serde::Serialize;
use serde_json::{Map, Value};

/// The app that controls a thread, and until when.
#[napi(object, use_nullable = true)]
pub struct ThreadOwner {
    /// Always a string, even when the Graph API sends a number.
    pub app_id: String,
    pub expiration: Option<DateTime<Utc>>,
}

impl From<core::ThreadOwner> for ThreadOwner {
    fn from(o: core::ThreadOwner) -> Self {
        ThreadOwner { app_id: o.app_id, expiration: o.expiration }
    }
}

/// An app with a role on the Page.
#[napi(object, use_nullable = true)]
pub struct App {
    pub id: String,
    pub name: Option<String>,
}

impl From<core::App> for App {
    fn from(a: core::App) -> Self {
        App { id: a.id, name: a.name }
    }
}

/// Which messaging features are on for the Page (`messaging_feature_status`):
/// Conversation Routing (`hopV2`) and multi-app messaging per platform.
#[napi(object)]
pub struct FeatureStatus {
    pub hop_v2: bool,
    pub msgr_multi_app: bool,
    pub ig_multi_app: bool,
}

impl From<core::FeatureStatus> for FeatureStatus {
    fn from(s: core::FeatureStatus) -> Self {
        FeatureStatus { hop_v2: s.hop_v2, msgr_multi_app: s.msgr_multi_app, ig_multi_app: s.ig_multi_app }
    }
}

/// The value of one successful batch operation (spelled out in `BatchItem`
/// too: napi's generated types do not follow an alias).
type BatchValue = Option<Either3<ThreadOwner, Vec<App>, FeatureStatus>>;

/// One result of a batch operation: `value` when `ok`, else `error` (the
/// typed failure `errors.js` turns into its class).
#[napi(object, use_nullable = true)]
pub struct BatchItem {
    pub ok: bool,
    /// An owner (null for an idle thread, and for a thread-control call),
    /// the apps, or the feature status.
    pub value: Option<Either3<ThreadOwner, Vec<App>, FeatureStatus>>,
    pub error: Option<crate::errors::NativeError>,
}

fn item<T>(r: core::Result<T>, value: impl FnOnce(T) -> BatchValue) -> BatchItem {
    match r {
        Ok(v) => BatchItem { ok: true, value: value(v), error: None },
        Err(e) => BatchItem { ok: false, value: None, error: Some(*crate::errors::from_core(e)) },
    }
}

impl From<Native<Vec<core::Result<core::BatchValue>>>> for Vec<BatchItem> {
    fn from(n: Native<Vec<core::Result<core::BatchValue>>>) -> Self {
        n.0.into_iter()
            .map(|r| {
                item(r, |v| match v {
                    core::BatchValue::ThreadOwner(o) => o.map(|o| Either3::A(o.into())),
                    core::BatchValue::Done => None,
                    core::BatchValue::SecondaryReceivers(apps) => {
                        Some(Either3::B(apps.into_iter().map(App::from).collect()))
                    }
                    core::BatchValue::FeatureStatus(s) => Some(Either3::C(s.into())),
                })
            })
            .collect()
    }
}

impl From<Native<Vec<core::Result<Option<core::ThreadOwner>>>>> for Vec<BatchItem> {
    fn from(n: Native<Vec<core::Result<Option<core::ThreadOwner>>>>) -> Self {
        n.0.into_iter().map(|r| item(r, |o| o.map(|o| Either3::A(o.into())))).collect()
    }
}

impl From<Native<core::FeatureStatus>> for FeatureStatus {
    fn from(n: Native<core::FeatureStatus>) -> Self {
        n.0.into()
    }
}

/// A person (or the Page) in a conversation.
#[napi(object, use_nullable = true)]
#[derive(Serialize)]
pub struct Participant {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl From<core::Participant> for Participant {
    fn from(p: core::Participant) -> Self {
        Participant { id: p.id, name: p.name, email: p.email }
    }
}

// The type of `native.d.ts`, and the JSON a page crosses as (`page_text`):
// absent fields and empty lists are left out of the text (a 3-field
// conversation parses in a third of the time: issue 14) and times are epoch
// milliseconds (`new Date(ms)` is cheaper than parsing an ISO text, and
// Graph's times are whole seconds); index.js `revive` builds the object this
// type describes, with `null`s, `[]`s and `Date`s. `Message` likewise.
/// A conversation: typed fields, and `raw` for anything else requested.
#[napi(object, use_nullable = true)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    #[serde(with = "chrono::serde::ts_milliseconds_option", skip_serializing_if = "Option::is_none")]
    pub updated_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<Participant>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub senders: Vec<Participant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_reply: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_subscribed: Option<bool>,
    /// Whether this app controls the thread (Conversation Routing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_owner: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scoped_thread_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// The platform walked (filled in by the export).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The newest messages, when asked for (`messages: N`), newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    #[napi(ts_type = "Record<string, any>")]
    pub raw: RawJson,
}

impl From<core::Conversation> for Conversation {
    fn from(c: core::Conversation) -> Self {
        Conversation {
            id: c.id,
            updated_time: c.updated_time,
            link: c.link,
            snippet: c.snippet,
            message_count: c.message_count.map(count),
            unread_count: c.unread_count.map(count),
            participants: c.participants.into_iter().map(Into::into).collect(),
            senders: c.senders.into_iter().map(Into::into).collect(),
            can_reply: c.can_reply,
            is_subscribed: c.is_subscribed,
            is_owner: c.is_owner,
            scoped_thread_key: c.scoped_thread_key,
            folder: c.folder,
            platform: c.platform,
            messages: c.messages.into_iter().map(Into::into).collect(),
            raw: RawJson(c.raw),
        }
    }
}

/// One page of conversations (the shape of the JSON text `NativePager.nextPage`
/// resolves to; see `PageJson`).
#[napi(object, use_nullable = true)]
pub struct ConversationPage {
    pub items: Vec<Conversation>,
    /// This page's `after` cursor (kept even on the last page).
    pub after: Option<String>,
    /// Whether the Graph API announced a further page.
    pub has_next: bool,
    /// The cursor to resume after the last page handed out.
    pub resume_after: Option<String>,
}

/// A page as the JSON text the native pagers hand to JavaScript: one string
/// and one `JSON.parse` in index.js instead of an N-API call per property of
/// every item (measured: ~25% less CPU for the whole walk). The shape is
/// `ConversationPage`'s / `MessagePage`'s, its items as `Conversation` says.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageJson<'a, I: Serialize> {
    items: Vec<I>,
    after: Option<&'a str>,
    has_next: bool,
    resume_after: Option<&'a str>,
}

/// A core item and the type it crosses to JavaScript as.
pub trait ToJs: Sized {
    type Js: Serialize + From<Self>;
}

impl ToJs for core::Conversation {
    type Js = Conversation;
}

impl ToJs for core::Message {
    type Js = Message;
}

/// The JSON text of one page of core items (moved, not copied, into their
/// JavaScript types).
pub fn page_text<T: ToJs>(page: core::Page<T>, resume_after: Option<&str>) -> serde_json::Result<Latin1String> {
    let items: Vec<T::Js> = page.items.into_iter().map(T::Js::from).collect();
    ascii_json(&PageJson { items, after: page.after.as_deref(), has_next: page.has_next, resume_after })
}

/// A count as JavaScript's `number` holds it exactly.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `value` as JSON text in ASCII only, every other character `\u`-escaped,
/// to cross N-API as a Latin-1 string. One emoji in a page of UTF-8 made
/// V8 decode it and hold it as UTF-16, and parse it on JSON.parse's
/// two-byte path: the main thread's largest cost when paging (issue 14).
pub fn ascii_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Latin1String> {
    let mut text = Vec::with_capacity(4096);
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut text, AsciiOnly))?;
    // serde_json writes UTF-8 and AsciiOnly escapes every non-ASCII character.
    debug_assert!(text.is_ascii());
    Ok(Latin1String::from(String::from_utf8(text).map_err(serde::ser::Error::custom)?))
}

/// An item's whole Graph object. In a page's text it is the object's own
/// text, copied as it came (no map built per item: issue 14); as a napi value
/// (never, today: items cross as text) the object.
pub struct RawJson(core::RawObject);

impl Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl napi::bindgen_prelude::TypeName for RawJson {
    fn type_name() -> &'static str {
        "Record<string, any>"
    }
    fn value_type() -> napi::ValueType {
        napi::ValueType::Object
    }
}

impl napi::bindgen_prelude::ToNapiValue for RawJson {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> napi::Result<napi::sys::napi_value> {
        // SAFETY: as for any napi value: `env` is the caller's live environment.
        unsafe { Map::<String, Value>::to_napi_value(env, val.0.to_map()) }
    }
}

impl napi::bindgen_prelude::FromNapiValue for RawJson {
    unsafe fn from_napi_value(env: napi::sys::napi_env, value: napi::sys::napi_value) -> napi::Result<Self> {
        // SAFETY: as for any napi value: `env` and `value` are the caller's, live.
        let map = unsafe { Map::<String, Value>::from_napi_value(env, value) }?;
        Ok(RawJson(core::RawObject::from(map)))
    }
}

/// serde_json's compact output with `\u` escapes (UTF-16, as JSON.parse
/// reads them) for every character outside ASCII.
struct AsciiOnly;

impl serde_json::ser::Formatter for AsciiOnly {
    /// A raw object's text (`RawJson`): outside its strings JSON is ASCII, so
    /// escaping every other character escapes them within strings, as above.
    fn write_raw_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        self.write_string_fragment(w, fragment)
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        if fragment.is_ascii() {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, ch) in fragment.char_indices().filter(|(_, ch)| !ch.is_ascii()) {
            w.write_all(&fragment.as_bytes()[start..i])?;
            for unit in ch.encode_utf16(&mut [0; 2]) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + ch.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// A message of a conversation: typed fields, and `raw` for the whole object.
#[napi(object, use_nullable = true)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    #[serde(with = "chrono::serde::ts_milliseconds_option", skip_serializing_if = "Option::is_none")]
    pub created_time: Option<DateTime<Utc>>,
    /// Graph's `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<Participant>,
    /// Graph's `to`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Participant>,
    /// Graph's `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Graph's `attachments`, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Value>,
    #[napi(ts_type = "Record<string, any>")]
    pub raw: RawJson,
}

impl From<core::Message> for Message {
    fn from(m: core::Message) -> Self {
        Message {
            id: m.id,
            created_time: m.created_time,
            sender: m.sender.map(Into::into),
            recipients: m.recipients.into_iter().map(Into::into).collect(),
            text: m.text,
            attachments: m.attachments,
            raw: RawJson(m.raw),
        }
    }
}

/// One page of messages.
#[napi(object, use_nullable = true)]
pub struct MessagePage {
    pub items: Vec<Message>,
    /// This page's `after` cursor (kept even on the last page).
    pub after: Option<String>,
    /// Whether the Graph API announced a further page.
    pub has_next: bool,
    /// The cursor to resume after the last page handed out.
    pub resume_after: Option<String>,
}

/// A core result on its way to JavaScript: each operation's return type
/// converts from it, so `NativeClient::call` is one generic shape.
pub struct Native<T>(pub T);

impl From<Native<()>> for () {
    fn from(_: Native<()>) {}
}

impl From<Native<Option<core::ThreadOwner>>> for Option<ThreadOwner> {
    fn from(n: Native<Option<core::ThreadOwner>>) -> Self {
        n.0.map(ThreadOwner::from)
    }
}

impl From<Native<Vec<core::App>>> for Vec<App> {
    fn from(n: Native<Vec<core::App>>) -> Self {
        n.0.into_iter().map(App::from).collect()
    }
}
