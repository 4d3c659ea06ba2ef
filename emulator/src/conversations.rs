//! The deterministic conversation set and the `conversations` edge (filters, fields, cursors).

use crate::error::GraphError;
use crate::fields::{self, Field};
use crate::graph_time::format_time;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Map, Value};

pub const FOLDERS: [&str; 4] = ["inbox", "other", "page_done", "spam"];
pub const PLATFORMS: [&str; 2] = ["messenger", "instagram"];
const DEFAULT_FIELDS: [&str; 3] = ["id", "link", "updated_time"];
const KNOWN_FIELDS: [&str; 15] = [
    "messages",
    "id",
    "link",
    "updated_time",
    "snippet",
    "message_count",
    "unread_count",
    "participants",
    "senders",
    "can_reply",
    "is_subscribed",
    "scoped_thread_key",
    "folder",
    "tags",
    "name",
];
const PAGE_NAME: &str = "Emulated Helpdesk Page";
const FIRST: [&str; 12] =
    ["Ada", "Bruno", "Chloe", "Dmitri", "Esther", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Lucia"];
const LAST: [&str; 10] =
    ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Reyes", "Nguyen"];
const SNIPPETS: [&str; 10] = [
    "Hi, my order hasn't arrived yet",
    "Can I talk to a human please?",
    "Thanks, that fixed it!",
    "What are your opening hours?",
    "I was charged twice for the same order",
    "Is this still available?",
    "How do I reset my password?",
    "ok",
    "Could you send me the invoice again?",
    "Where can I track my parcel?",
];

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: String,
    pub index: usize,
    pub updated: DateTime<Utc>,
    pub snippet: &'static str,
    pub message_count: u32,
    pub unread_count: u32,
    pub user_id: String,
    pub user_name: String,
    pub folder: &'static str,
    pub platform: &'static str,
    pub tags: Vec<&'static str>,
    pub scoped_thread_key: String,
    /// Messages that arrived after generation (admin `bump`), oldest first.
    pub extra: Vec<(DateTime<Utc>, String)>,
    /// Message count and time at generation: the generated messages stay put when more arrive.
    pub base_count: u32,
    pub base_updated: DateTime<Utc>,
}

/// Builds `n` conversations, newest first, identical on every run.
pub fn generate(n: usize) -> Vec<Conversation> {
    let mut rng = fastrand::Rng::with_seed(0x00c0_ffee_2026);
    let mut t = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).single().unwrap_or_default();
    (0..n)
        .map(|index| {
            t -= Duration::minutes(rng.i64(2..=180));
            let folder = match rng.u32(..100) {
                0..=54 => "inbox",
                55..=74 => "other",
                75..=91 => "page_done",
                _ => "spam",
            };
            let platform = if rng.u32(..100) < 80 { "messenger" } else { "instagram" };
            let archived = rng.u32(..100) < 12;
            let tags = if archived { vec!["action:archived"] } else { vec![] };
            let user_id = rng.u64(1_000_000_000_000_000..10_000_000_000_000_000).to_string();
            let unread_count = if rng.u32(..100) < 25 { rng.u32(1..4) } else { 0 };
            let message_count = rng.u32(1..40) + unread_count;
            Conversation {
                id: format!("t_{}", rng.u64(100_000_000_000_000..1_000_000_000_000_000)),
                index,
                updated: t,
                snippet: SNIPPETS[rng.usize(..SNIPPETS.len())],
                message_count,
                base_count: message_count,
                base_updated: t,
                extra: Vec::new(),
                unread_count,
                user_name: format!("{} {}", FIRST[rng.usize(..FIRST.len())], LAST[rng.usize(..LAST.len())]),
                user_id,
                folder,
                platform,
                tags,
                scoped_thread_key: format!("t_{}", rng.u64(10_000_000_000_000..100_000_000_000_000)),
            }
        })
        .collect()
}

/// Query of one conversations call, as parsed from the request.
pub struct ListRequest<'a> {
    pub params: &'a [(String, String)],
    pub base_url: &'a str,
    pub version: &'a str,
    pub page_segment: &'a str,
    pub page_id: &'a str,
    pub token: &'a str,
}

impl ListRequest<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

pub fn list(all: &[Conversation], req: &ListRequest<'_>) -> Result<Value, GraphError> {
    let folder = req.get("folder").filter(|s| !s.is_empty()).unwrap_or("inbox");
    if !FOLDERS.contains(&folder) {
        return Err(GraphError::param(format!(
            "(#100) folder must be one of the following values: {}",
            FOLDERS.join(", ")
        )));
    }
    let platform = req.get("platform").filter(|s| !s.is_empty()).unwrap_or("messenger");
    if !PLATFORMS.contains(&platform) {
        return Err(GraphError::param("(#100) platform must be one of the following values: messenger, instagram"));
    }
    let fields = parse_fields(req.get("fields"))?;
    let limit = parse_limit(req.get("limit"))?;
    let user_id = req.get("user_id").filter(|s| !s.is_empty());
    let tags: Vec<&str> =
        req.get("tags").map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect()).unwrap_or_default();

    let matching: Vec<&Conversation> = all
        .iter()
        .filter(|c| c.folder == folder && c.platform == platform)
        .filter(|c| user_id.is_none_or(|u| c.user_id == u))
        .filter(|c| tags.is_empty() || c.tags.iter().any(|t| tags.contains(t)))
        .collect();

    let (start, end) = window(req.get("after"), req.get("before"), limit)?;
    let (start, end) = (start.min(matching.len()), end.min(matching.len()));
    let page = matching.get(start..end).unwrap_or_default();
    let data: Vec<Value> = page.iter().map(|c| render(c, &fields, req)).collect::<Result<_, _>>()?;
    let next = |after: &str| next_url(req, &format!("{}/conversations", req.page_segment), limit, after);
    Ok(paged(data, start, end, matching.len(), next))
}

/// `limit`: 25 when absent, 1 to 100.
fn parse_limit(raw: Option<&str>) -> Result<usize, GraphError> {
    match raw {
        None | Some("") => Ok(25),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n as usize),
            _ => Err(GraphError::param("(#100) limit must be between 1 and 100")),
        },
    }
}

/// `{data, paging}` for items `start..end` of `total`; `next` only while more follow.
fn paged(data: Vec<Value>, start: usize, end: usize, total: usize, next: impl Fn(&str) -> String) -> Value {
    if data.is_empty() {
        return json!({ "data": [] });
    }
    let after = encode_cursor(end - 1);
    let mut paging = json!({
        "cursors": { "before": encode_cursor(start), "after": after }
    });
    if end < total {
        paging["next"] = json!(next(&after));
    }
    json!({ "data": data, "paging": paging })
}

/// Where `(start, end)` of a cursor page lie, from `after` or `before`.
fn window(after: Option<&str>, before: Option<&str>, limit: usize) -> Result<(usize, usize), GraphError> {
    Ok(match (after, before) {
        (Some(after), _) => {
            let s = decode_cursor(after)?.saturating_add(1);
            (s, s.saturating_add(limit))
        }
        (None, Some(before)) => {
            let e = decode_cursor(before)?;
            (e.saturating_sub(limit), e)
        }
        (None, None) => (0, limit),
    })
}

/// The real API puts the token in `next`; clients must rebuild the URL from the cursor.
fn next_url(req: &ListRequest<'_>, path: &str, limit: usize, after: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("access_token", req.token);
    // A nested edge's `next` carries only its own paging.
    let keys: &[&str] =
        if path.ends_with("/conversations") { &["fields", "folder", "platform", "user_id", "tags"] } else { &[] };
    for key in keys.iter().copied() {
        if let Some(v) = req.get(key) {
            q.append_pair(key, v);
        }
    }
    q.append_pair("limit", &limit.to_string());
    q.append_pair("after", after);
    format!("{}/{}/{path}?{}", req.base_url, req.version, q.finish())
}

/// The requested fields (Graph's expansion syntax), `id` always first.
fn parse_fields(raw: Option<&str>) -> Result<Vec<Field>, GraphError> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(DEFAULT_FIELDS.iter().map(|s| Field::plain(s)).collect());
    };
    let mut out = vec![Field::plain("id")];
    for f in fields::parse(raw)? {
        if !KNOWN_FIELDS.contains(&f.name.as_str()) {
            return Err(GraphError::nonexisting_field(&f.name, "UnifiedThread"));
        }
        if !out.iter().any(|o| o.name == f.name) {
            out.push(f);
        }
    }
    Ok(out)
}

/// A person as Graph shows them, projected on `sub` (`id` always kept).
fn person(name: &str, email: &str, id: &str, sub: Option<&[Field]>) -> Result<Value, GraphError> {
    let full = json!({"name": name, "email": email, "id": id});
    let Some(sub) = sub else {
        return Ok(full);
    };
    let mut out = Map::new();
    for f in sub {
        match full.get(&f.name) {
            Some(v) => out.insert(f.name.clone(), v.clone()),
            None => return Err(GraphError::nonexisting_field(&f.name, "User")),
        };
    }
    out.insert("id".into(), json!(id));
    Ok(Value::Object(out))
}

fn render(c: &Conversation, fields: &[Field], req: &ListRequest<'_>) -> Result<Value, GraphError> {
    let page_id = req.page_id;
    let user_email = format!("{}@facebook.com", c.user_id);
    let page_email = format!("{page_id}@facebook.com");
    let mut obj = Map::new();
    for f in fields {
        let sub = f.sub.as_deref();
        let v = match f.name.as_str() {
            "id" => json!(c.id),
            "link" => json!(format!("/{page_id}/inbox/{}/", 100_000 + c.index)),
            "updated_time" => json!(format_time(c.updated)),
            // Graph's snippet is the newest message's text.
            "snippet" => json!(c.extra.last().map_or(c.snippet, |(_, text)| text.as_str())),
            "message_count" => json!(c.message_count),
            "unread_count" => json!(c.unread_count),
            "participants" | "senders" => json!({ "data": [
                person(&c.user_name, &user_email, &c.user_id, sub)?,
                person(PAGE_NAME, &page_email, page_id, sub)?,
            ]}),
            "can_reply" => json!(c.folder != "spam"),
            "is_subscribed" => json!(true),
            "scoped_thread_key" => json!(c.scoped_thread_key),
            "folder" => json!(c.folder),
            "tags" => json!({
                "data": c.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>()
            }),
            "name" => json!(c.user_name),
            "messages" => {
                let limit = f.limit.unwrap_or(25);
                if !(1..=100).contains(&limit) {
                    return Err(GraphError::param("(#100) limit must be between 1 and 100"));
                }
                let fields = message_fields(sub)?;
                let total = c.message_count as usize;
                let end = limit.min(total);
                let data = (0..end).map(|i| render_message(c, i, &fields, page_id)).collect();
                let path = format!("{}/messages", c.id);
                paged(data, 0, end, total, |after| next_url(req, &path, limit, after))
            }
            _ => continue,
        };
        obj.insert(f.name.clone(), v);
    }
    Ok(Value::Object(obj))
}

/// Message fields Graph serves on the Message node.
const MESSAGE_FIELDS: [&str; 6] = ["id", "created_time", "from", "to", "message", "attachments"];

fn message_fields(sub: Option<&[Field]>) -> Result<Vec<String>, GraphError> {
    let Some(sub) = sub else {
        // The messages edge's default: id and created_time.
        return Ok(vec!["id".into(), "created_time".into()]);
    };
    let mut out = vec!["id".to_string()];
    for f in sub {
        if !MESSAGE_FIELDS.contains(&f.name.as_str()) {
            return Err(GraphError::nonexisting_field(&f.name, "Message"));
        }
        if !out.contains(&f.name) {
            out.push(f.name.clone());
        }
    }
    Ok(out)
}

/// Graph returns details only for the 20 most recent messages of a conversation;
/// older ones come back as bare ids. Conversations API, Limitations:
/// <https://developers.facebook.com/docs/messenger-platform/conversations/>
pub const MESSAGE_DETAIL_LIMIT: usize = 20;

const TEXTS: [&str; 8] = [
    "Hello! How can we help you today?",
    "Let me check that for you.",
    "Thanks for your patience.",
    "Could you share your order number?",
    "It should arrive tomorrow.",
    "I have passed this to a colleague.",
    "Is there anything else?",
    "Have a great day!",
];

/// The `newest`-th newest message of `c` (0 = newest), with `fields`.
fn render_message(c: &Conversation, newest: usize, fields: &[String], page_id: &str) -> Value {
    let total = c.message_count as usize;
    let ordinal = total.saturating_sub(newest + 1);
    let mut rng = fastrand::Rng::with_seed(checksum(c.index) ^ ordinal as u64);
    let id = format!("m_{}", URL_SAFE_NO_PAD.encode(format!("{}:{ordinal}", c.id)));
    if newest >= MESSAGE_DETAIL_LIMIT {
        return json!({ "id": id });
    }
    let base = c.base_count as usize;
    let (time, text) = match ordinal.checked_sub(base).and_then(|i| c.extra.get(i)) {
        Some((t, text)) => (*t, text.clone()),
        // Generated messages are a few minutes apart, the newest at the generated update time.
        None => (
            c.base_updated - Duration::minutes(((base.saturating_sub(ordinal + 1)) * 7) as i64),
            if ordinal.is_multiple_of(2) { c.snippet.to_string() } else { TEXTS[rng.usize(..TEXTS.len())].to_string() },
        ),
    };
    let user = json!({"name": c.user_name, "email": format!("{}@facebook.com", c.user_id), "id": c.user_id});
    let page = json!({"name": PAGE_NAME, "email": format!("{page_id}@facebook.com"), "id": page_id});
    // Even ordinals come from the user, odd ones from the Page.
    let (from, to) = if ordinal.is_multiple_of(2) { (user, page) } else { (page, user) };
    let mut obj = Map::new();
    for f in fields {
        let v = match f.as_str() {
            "id" => json!(id),
            "created_time" => json!(format_time(time)),
            "from" => from.clone(),
            "to" => json!({ "data": [to.clone()] }),
            "message" => json!(text),
            "attachments" if ordinal % 9 == 4 => json!({"data": [{
                "id": format!("{}_att", id),
                "mime_type": "image/jpeg",
                "name": "image.jpg",
                "image_data": {"url": "https://scontent.example/image.jpg", "width": 640, "height": 480},
            }]}),
            _ => continue,
        };
        obj.insert(f.clone(), v);
    }
    Value::Object(obj)
}

/// `GET /{conversation-id}/messages`: newest first, cursor paging like the conversations edge.
pub fn messages(c: &Conversation, req: &ListRequest<'_>) -> Result<Value, GraphError> {
    let fields = match req.get("fields").filter(|s| !s.trim().is_empty()) {
        None => message_fields(None)?,
        Some(raw) => message_fields(Some(&fields::parse(raw)?))?,
    };
    let limit = parse_limit(req.get("limit"))?;
    let total = c.message_count as usize;
    let (start, end) = window(req.get("after"), req.get("before"), limit)?;
    let (start, end) = (start.min(total), end.min(total));
    let data = (start..end).map(|i| render_message(c, i, &fields, req.page_id)).collect();
    let path = format!("{}/messages", c.id);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(f) = req.get("fields") {
        q.append_pair("fields", f);
    }
    let fields_query = q.finish();
    Ok(paged(data, start, end, total, |after| {
        let url = next_url(req, &path, limit, after);
        if fields_query.is_empty() {
            url
        } else {
            format!("{url}&{fields_query}")
        }
    }))
}

/// `GET /{conversation-id}?fields=...`: the conversation node itself.
pub fn node(c: &Conversation, req: &ListRequest<'_>) -> Result<Value, GraphError> {
    render(c, &parse_fields(req.get("fields"))?, req)
}

/// A new message arrives: the conversation becomes the newest (moves to the top).
pub fn bump(all: &mut Vec<Conversation>, id: &str, now: DateTime<Utc>, text: &str) -> Option<Value> {
    let pos = all.iter().position(|c| c.id == id)?;
    let mut c = all.remove(pos);
    c.updated = now;
    c.message_count += 1;
    c.unread_count += 1;
    c.extra.push((now, text.to_string()));
    let summary = summary(&c);
    all.insert(0, c);
    Some(summary)
}

/// What the admin API lists about one conversation.
pub fn summary(c: &Conversation) -> Value {
    json!({
        "id": c.id,
        "folder": c.folder,
        "platform": c.platform,
        "updated_time": format_time(c.updated),
        "message_count": c.message_count,
        "user_id": c.user_id,
    })
}

const CURSOR_SALT: u64 = 0x51_7cc1_b727_220a;

fn checksum(index: usize) -> u64 {
    (index as u64 ^ CURSOR_SALT).wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40
}

pub fn encode_cursor(index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("emu1:{index}:{:x}", checksum(index)))
}

pub fn decode_cursor(cursor: &str) -> Result<usize, GraphError> {
    let bad = || GraphError::param("(#100) Invalid cursor");
    let raw = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.split(':');
    let (Some("emu1"), Some(idx), Some(sum), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let idx: usize = idx.parse().map_err(|_| bad())?;
    if format!("{:x}", checksum(idx)) != sum {
        return Err(bad());
    }
    Ok(idx)
}
