//! The deterministic conversation set and the `conversations` edge (filters, fields, cursors).

use crate::error::GraphError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Map, Value};

pub const FOLDERS: [&str; 4] = ["inbox", "other", "page_done", "spam"];
pub const PLATFORMS: [&str; 2] = ["messenger", "instagram"];
const DEFAULT_FIELDS: [&str; 3] = ["id", "link", "updated_time"];
const KNOWN_FIELDS: [&str; 14] = [
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
            Conversation {
                id: format!("t_{}", rng.u64(100_000_000_000_000..1_000_000_000_000_000)),
                index,
                updated: t,
                snippet: SNIPPETS[rng.usize(..SNIPPETS.len())],
                message_count: rng.u32(1..40) + unread_count,
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
    let limit = match req.get("limit") {
        None | Some("") => 25,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n as usize,
            _ => return Err(GraphError::param("(#100) limit must be between 1 and 100")),
        },
    };
    let user_id = req.get("user_id").filter(|s| !s.is_empty());
    let tags: Vec<&str> =
        req.get("tags").map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect()).unwrap_or_default();

    let matching: Vec<&Conversation> = all
        .iter()
        .filter(|c| c.folder == folder && c.platform == platform)
        .filter(|c| user_id.is_none_or(|u| c.user_id == u))
        .filter(|c| tags.is_empty() || c.tags.iter().any(|t| tags.contains(t)))
        .collect();

    let (start, end) = match (req.get("after"), req.get("before")) {
        (Some(after), _) => {
            let s = decode_cursor(after)?.saturating_add(1);
            (s, s.saturating_add(limit))
        }
        (None, Some(before)) => {
            let e = decode_cursor(before)?;
            (e.saturating_sub(limit), e)
        }
        (None, None) => (0, limit),
    };
    let start = start.min(matching.len());
    let end = end.min(matching.len());
    let page = matching.get(start..end).unwrap_or_default();
    if page.is_empty() {
        return Ok(json!({ "data": [] }));
    }
    let data: Vec<Value> = page.iter().map(|c| render(c, &fields, req.page_id)).collect();
    let after = encode_cursor(end - 1);
    let mut paging = json!({
        "cursors": { "before": encode_cursor(start), "after": after }
    });
    if end < matching.len() {
        paging["next"] = json!(next_url(req, limit, &after));
    }
    Ok(json!({ "data": data, "paging": paging }))
}

/// The real API puts the token in `next`; clients must rebuild the URL from the cursor.
fn next_url(req: &ListRequest<'_>, limit: usize, after: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("access_token", req.token);
    for key in ["fields", "folder", "platform", "user_id", "tags"] {
        if let Some(v) = req.get(key) {
            q.append_pair(key, v);
        }
    }
    q.append_pair("limit", &limit.to_string());
    q.append_pair("after", after);
    format!("{}/{}/{}/conversations?{}", req.base_url, req.version, req.page_segment, q.finish())
}

/// Splits `a,b{c,d},e.limit(1)` into top-level names `a`, `b`, `e`.
fn parse_fields(raw: Option<&str>) -> Result<Vec<String>, GraphError> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect());
    };
    let mut out = vec!["id".to_string()];
    let mut depth = 0i32;
    let mut current = String::new();
    for ch in raw.chars().chain(std::iter::once(',')) {
        match ch {
            '{' | '(' => depth += 1,
            '}' | ')' => depth -= 1,
            ',' if depth == 0 => {
                let name = current.split(['{', '.', '(']).next().unwrap_or_default().trim().to_string();
                current.clear();
                if name.is_empty() {
                    continue;
                }
                if !KNOWN_FIELDS.contains(&name.as_str()) {
                    return Err(GraphError::nonexisting_field(&name, "UnifiedThread"));
                }
                if !out.contains(&name) {
                    out.push(name);
                }
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    Ok(out)
}

fn render(c: &Conversation, fields: &[String], page_id: &str) -> Value {
    let user = json!({
        "name": c.user_name,
        "email": format!("{}@facebook.com", c.user_id),
        "id": c.user_id,
    });
    let page = json!({
        "name": PAGE_NAME,
        "email": format!("{page_id}@facebook.com"),
        "id": page_id,
    });
    let mut obj = Map::new();
    for f in fields {
        let v = match f.as_str() {
            "id" => json!(c.id),
            "link" => json!(format!("/{page_id}/inbox/{}/", 100_000 + c.index)),
            "updated_time" => json!(c.updated.format("%Y-%m-%dT%H:%M:%S%z").to_string()),
            "snippet" => json!(c.snippet),
            "message_count" => json!(c.message_count),
            "unread_count" => json!(c.unread_count),
            "participants" => json!({ "data": [user.clone(), page.clone()] }),
            "senders" => json!({ "data": [user.clone(), page.clone()] }),
            "can_reply" => json!(c.folder != "spam"),
            "is_subscribed" => json!(true),
            "scoped_thread_key" => json!(c.scoped_thread_key),
            "folder" => json!(c.folder),
            "tags" => json!({
                "data": c.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>()
            }),
            "name" => json!(c.user_name),
            _ => continue,
        };
        obj.insert(f.clone(), v);
    }
    Value::Object(obj)
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
