//! The quickstart: move one live chat between the bot and the Page Inbox,
//! read the inbox, and catch a Graph error.
//!
//! With no environment it runs against the embedded emulator. With
//! `PAGE_ACCESS_TOKEN` (and optionally `PAGE_ID`, `PSID`) it talks to the real
//! Graph API instead; `SECONDARY_ACCESS_TOKEN` adds the secondary app's steps.

use std::time::Duration;

use futures_util::StreamExt;
use messenger_handover::{Client, ConversationsQuery, Error, Folder};
use messenger_handover_emulator::{Emulator, EmulatorConfig};

struct Setup {
    primary: Client,
    secondary: Option<Client>,
    secondary_app_id: Option<String>,
    psid: String,
    _emulator: Option<Emulator>,
}

async fn setup() -> Result<Setup, Box<dyn std::error::Error>> {
    if let Ok(token) = std::env::var("PAGE_ACCESS_TOKEN") {
        let page_id = std::env::var("PAGE_ID").unwrap_or_else(|_| "me".to_owned());
        let psid = std::env::var("PSID").map_err(|_| "set PSID to a user who messaged the Page")?;
        println!("Talking to the real Graph API as Page {page_id}.");
        let primary = Client::builder(token).page_id(&page_id).build()?;
        let secondary = match std::env::var("SECONDARY_ACCESS_TOKEN") {
            Ok(t) => Some(Client::builder(t).page_id(&page_id).build()?),
            Err(_) => None,
        };
        return Ok(Setup {
            primary,
            secondary,
            secondary_app_id: std::env::var("SECONDARY_APP_ID").ok(),
            psid,
            _emulator: None,
        });
    }
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    println!("Started the Graph API emulator at {} (Page {}).", emulator.url(), emulator.page_id());
    let apps = emulator.apps();
    let client_for = |token: &str| Client::builder(token).base_url(emulator.url()).page_id(emulator.page_id()).build();
    Ok(Setup {
        primary: client_for(&apps.primary.token)?,
        secondary: Some(client_for(&apps.secondary.token)?),
        secondary_app_id: Some(apps.secondary.app_id.clone()),
        psid: "24681357902468".to_owned(),
        _emulator: Some(emulator),
    })
}

async fn show_owner(client: &Client, psid: &str) -> Result<(), Error> {
    match client.thread_owner(psid).await? {
        Some(owner) => match owner.expiration {
            Some(until) => println!("   thread owner: app {} (until {until})", owner.app_id),
            None => println!("   thread owner: app {}", owner.app_id),
        },
        None => println!("   thread owner: nobody (the thread is idle)"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s = setup().await?;
    let (bot, psid) = (&s.primary, s.psid.as_str());

    println!("\n1. Who owns the thread with user {psid}?");
    show_owner(bot, psid).await?;

    println!("\n2. The bot hands the chat to a human in the Page Inbox.");
    bot.pass_thread_control_to_page_inbox(psid, Some("customer asked for a human")).await?;
    show_owner(bot, psid).await?;

    println!("\n3. The bot takes the thread back.");
    bot.take_thread_control(psid, Some("agent finished")).await?;
    show_owner(bot, psid).await?;

    match (&s.secondary, &s.secondary_app_id) {
        (Some(helpdesk), Some(helpdesk_id)) => {
            println!("\n4. The secondary (helpdesk) app requests control.");
            helpdesk.request_thread_control(psid, Some("escalation")).await?;
            println!("   requested; the bot still owns it until it passes.");
            show_owner(bot, psid).await?;
            println!("   The bot passes it to the helpdesk:");
            bot.pass_thread_control(psid, helpdesk_id, Some("over to you")).await?;
            show_owner(bot, psid).await?;

            println!("\n5. The helpdesk releases the thread when it is done.");
            helpdesk.release_thread_control(psid, None).await?;
            show_owner(bot, psid).await?;
        }
        _ => println!("\n4-5. Skipped: set SECONDARY_ACCESS_TOKEN and SECONDARY_APP_ID for the secondary app's steps."),
    }

    println!("\n6. The first page of the inbox:");
    let query = ConversationsQuery::new()
        .folder(Folder::Inbox)
        .fields(["id", "updated_time", "snippet", "unread_count", "participants"])
        .page_size(5);
    let mut pager = bot.conversations(query)?;
    if let Some(page) = pager.next_page().await? {
        println!("   {:<22} {:<20} {:>6}  snippet", "id", "updated", "unread");
        for c in &page.items {
            let when = c.updated_time.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
            let snippet: String = c.snippet.clone().unwrap_or_default().chars().take(32).collect();
            println!("   {:<22} {:<20} {:>6}  {}", c.id, when, c.unread_count.unwrap_or(0), snippet);
        }
        if page.has_next {
            println!(
                "   (more pages follow; an export resumes with after={})",
                pager.after().as_deref().unwrap_or("-")
            );
        }
    }
    let total = bot.conversations(ConversationsQuery::new().folder(Folder::Inbox).page_size(100))?.into_stream();
    let count = total.filter(|c| std::future::ready(c.is_ok())).count().await;
    println!("   {count} inbox conversations in all, streamed with one page prefetched.");

    println!("\n7. A Graph error, caught and explained:");
    let intruder = s.secondary.as_ref().unwrap_or(bot);
    match intruder.pass_thread_control_to_page_inbox(psid, None).await {
        Ok(()) => println!("   (no error: this app owned the thread)"),
        Err(err) => {
            println!("   {err}");
            if let Some(g) = err.graph() {
                println!(
                    "   kind={} code={} subcode={:?} http_status={} fbtrace_id={:?}",
                    g.kind, g.code, g.subcode, g.http_status, g.fbtrace_id
                );
            }
            println!("   -> only the thread's owner may pass it; the helpdesk must request control first.");
        }
    }

    match bot.extend_thread_control(psid, Duration::from_secs(3600)).await {
        Ok(()) => println!("\n8. Extended the bot's control by an hour (Conversation Routing)."),
        Err(err) => println!(
            "\n8. extend_thread_control needs Conversation Routing; this Page uses the Handover Protocol:\n   {err}"
        ),
    }
    if let Some(usage) = bot.last_usage() {
        println!("\nLast usage headers: app call_count {:?}%", usage.app.map(|a| a.call_count));
    }
    Ok(())
}
