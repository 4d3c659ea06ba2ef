//! The floor: raw reqwest + serde_json, one shared client and one runtime, the
//! same requests and concurrency as every other runner. No SDK logic at all.

use std::sync::Arc;
use std::time::Instant;

use messenger_handover_bench::*;
use serde_json::Value;

const CLIENT: &str = "rust-floor (reqwest)";

fn owner_of(v: &Value) -> Result<String, String> {
    v["data"]
        .as_array()
        .and_then(|d| d.first())
        .and_then(|o| o["thread_owner"]["app_id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("unexpected body {v}"))
}

async fn thread_owner(http: &reqwest::Client, base: &str, token: &str, psid: &str) -> Result<String, String> {
    let r = http.get(base).query(&[("recipient", psid)]).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("HTTP {}", r.status()));
    }
    let b = r.bytes().await.map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&b).map_err(|e| e.to_string())?;
    owner_of(&v)
}

#[tokio::main]
async fn main() {
    let a = Args::parse();
    let t0 = Instant::now();
    let http = reqwest::Client::builder().build().expect("client");
    let owner_url: Arc<str> = format!("{}/v26.0/{}/thread_owner", a.url, a.page).into();
    let pass_url: Arc<str> = format!("{}/v26.0/{}/pass_thread_control", a.url, a.page).into();
    let token: Arc<str> = a.token.clone().into();
    match a.workload.as_str() {
        "cold" => {
            let r = thread_owner(&http, &owner_url, &token, &psid(0)).await;
            report_cold(CLIENT, &a, t0.elapsed().as_secs_f64() * 1e3, r.is_err() as usize);
        }
        "thread_owner_conc" | "thread_owner_seq" => {
            let call: CallFn = Arc::new(move |i| {
                let (http, url, token) = (http.clone(), owner_url.clone(), token.clone());
                Box::pin(async move { thread_owner(&http, &url, &token, &psid(i)).await.map(|_| ()) })
            });
            run_calls(CLIENT, &a, a.workload == "thread_owner_seq", call).await;
        }
        "pass_conc" => {
            let apps: Arc<Vec<String>> = Arc::new(a.target_apps.clone());
            let call: CallFn = Arc::new(move |i| {
                let (http, url, token, apps) = (http.clone(), pass_url.clone(), token.clone(), apps.clone());
                Box::pin(async move {
                    let body = serde_json::json!({
                        "recipient": {"id": psid(i)},
                        "target_app_id": apps[i % apps.len()],
                        "metadata": "bench",
                    });
                    let r =
                        http.post(&*url).bearer_auth(&*token).json(&body).send().await.map_err(|e| e.to_string())?;
                    let b = r.bytes().await.map_err(|e| e.to_string())?;
                    let v: Value = serde_json::from_slice(&b).map_err(|e| e.to_string())?;
                    if v["success"] == Value::Bool(true) {
                        Ok(())
                    } else {
                        Err(format!("unexpected body {v}"))
                    }
                })
            });
            run_calls(CLIENT, &a, false, call).await;
        }
        // The export row's floor: the same walk with the export's fields (messages expanded).
        "paging" | "export" => {
            let url = format!("{}/v26.0/{}/conversations", a.url, a.page);
            let fields = a.fields.join(",");
            let limit = a.page_size.to_string();
            let start = Instant::now();
            let (mut items, mut errors) = (0usize, 0usize);
            let mut after: Option<String> = None;
            loop {
                let mut q = vec![("fields", fields.as_str()), ("limit", limit.as_str())];
                if let Some(c) = &after {
                    q.push(("after", c.as_str()));
                }
                let r = http.get(&url).query(&q).bearer_auth(&*token).send().await;
                let v: Value = match r {
                    Ok(r) => match r.bytes().await.map(|b| serde_json::from_slice::<Value>(&b)) {
                        Ok(Ok(v)) => v,
                        _ => {
                            errors += 1;
                            break;
                        }
                    },
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                };
                for c in v["data"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    if c["id"].is_string() {
                        items += 1;
                    }
                }
                if v["paging"]["next"].is_null() {
                    break;
                }
                after = v["paging"]["cursors"]["after"].as_str().map(str::to_string);
                if after.is_none() {
                    break;
                }
            }
            report_items(CLIENT, &a, start.elapsed().as_secs_f64(), items, errors);
        }
        w => {
            eprintln!("unknown workload {w}");
            std::process::exit(2);
        }
    }
}
