//! The client's public operations as data: one row per operation, with its
//! arguments (name, type, whether optional, what it means), what it returns
//! and its kind. `cargo run -p xtask -- gen` renders from this table the
//! parts of the Python and Node packages that only repeat a signature: the
//! native stub lines (`_native.pyi`), the blocking and async methods of the
//! two Python clients (`_client.py`), the batch builders (`_batch.py`) and
//! the `Client` declarations with their option types (`index.d.ts`), and
//! the Node `Client` call methods and `batchOp` builders (`index.js`).
//!
//! The table speaks of the operation, not of a language: names are the
//! core's (snake_case; Node shows them in camelCase), types are abstract
//! (`ArgType`), and docs put code in backticks (Python renders ``x``, Node
//! renders `x` with snake_case names camelCased). A test below checks that
//! every row names a method the core has, so the table cannot drift from
//! the client it describes.

/// The type of one argument, as every language shows it in its own terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// A string (an id, a cursor, a note).
    Str,
    /// A span of time: whole seconds, or the language's own duration type
    /// where it has one (Python `timedelta`); Node names it `<name>Seconds`.
    Duration,
    /// A whole number.
    Count,
    /// A list of strings.
    StrList,
    /// A value of the `Folder` enum (or its wire string).
    Folder,
    /// A value of the `Platform` enum (or its wire string).
    Platform,
    /// A list of batch operations (`BatchOp`).
    BatchOps,
}

/// One argument of an operation.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    pub name: &'static str,
    pub ty: ArgType,
    /// Optional arguments come after the required ones; in Node they go in
    /// the last argument, an options object.
    pub optional: bool,
    /// What it means; empty when the name says it all.
    pub doc: &'static str,
}

/// What an operation gives back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// Nothing (the call succeeded).
    Nothing,
    /// One value of a model type (`FeatureStatus`).
    Model(&'static str),
    /// A value of a model type, or none.
    OptionalModel(&'static str),
    /// A list of a model type.
    ListOf(&'static str),
    /// One result per batch operation, in order: its value or its error
    /// (returned, not raised).
    BatchResults,
    /// One result per PSID, in order: the owner, none, or the error.
    OwnerResults,
    /// A pager over items of this model type (`Conversation`).
    Pager(&'static str),
}

/// How an operation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One call, awaited (Node, Python's `AsyncClient`) or waited for
    /// (Python's `Client`).
    Call,
    /// A pager: arguments checked at once, nothing sent until it is walked.
    Pager,
}

impl Kind {
    /// What every operation of this kind does, said once after its own doc.
    pub const fn note(self) -> &'static str {
        match self {
            Kind::Call => "",
            Kind::Pager => "Arguments are checked now; nothing is sent until the first item or page is asked for.",
        }
    }
}

/// One public operation of the client.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// The core's method name.
    pub name: &'static str,
    pub kind: Kind,
    pub args: &'static [Arg],
    pub returns: Returns,
    /// The name of the group of optional arguments, shared by operations
    /// that take the same ones (Node's `<group>Options` type); empty when
    /// the operation takes none.
    pub options: &'static str,
    /// Optional arguments are given by name only (Python keyword-only).
    pub named_only: bool,
    /// The operation can be one item of `batch` (a `BatchOp` builder exists).
    pub batchable: bool,
    pub doc: &'static str,
}

const fn arg(name: &'static str, ty: ArgType, doc: &'static str) -> Arg {
    Arg { name, ty, optional: false, doc }
}

const fn opt(name: &'static str, ty: ArgType, doc: &'static str) -> Arg {
    Arg { name, ty, optional: true, doc }
}

const PSID: Arg = arg("psid", ArgType::Str, "");
const METADATA: Arg =
    opt("metadata", ArgType::Str, "Passed to the other app with the event (at most 1000 characters).");
const PAGE_SIZE: Arg = opt("page_size", ArgType::Count, "1 to 100.");

/// A call that can also be one item of a batch.
const fn call(
    name: &'static str,
    args: &'static [Arg],
    returns: Returns,
    options: &'static str,
    doc: &'static str,
) -> Operation {
    Operation { name, kind: Kind::Call, args, returns, options, named_only: false, batchable: true, doc }
}

/// A call made of batch requests itself (it cannot be a batch item).
const fn batched(name: &'static str, args: &'static [Arg], returns: Returns, doc: &'static str) -> Operation {
    Operation { batchable: false, ..call(name, args, returns, "", doc) }
}

const fn pager(
    name: &'static str,
    args: &'static [Arg],
    item: &'static str,
    options: &'static str,
    doc: &'static str,
) -> Operation {
    Operation {
        name,
        kind: Kind::Pager,
        args,
        returns: Returns::Pager(item),
        options,
        named_only: false,
        batchable: false,
        doc,
    }
}

/// Every public operation, in the order the clients show them.
pub const OPERATIONS: &[Operation] = &[
    call(
        "thread_owner",
        &[PSID],
        Returns::OptionalModel("ThreadOwner"),
        "",
        "Which app controls the thread with this user; none when the thread is idle.",
    ),
    call(
        "pass_thread_control",
        &[PSID, arg("target_app_id", ArgType::Str, ""), METADATA],
        Returns::Nothing,
        "Control",
        "Passes the thread to another app (`target_app_id`: digits only).",
    ),
    call(
        "pass_thread_control_to_page_inbox",
        &[PSID, METADATA, opt("platform", ArgType::Platform, "`instagram`: the Instagram Inbox; default the Page Inbox (Messenger).")],
        Returns::Nothing,
        "Inbox",
        "Hands the chat to the people answering in the Page Inbox, or with platform `instagram` in the Instagram Inbox.",
    ),
    call(
        "feature_status",
        &[],
        Returns::Model("FeatureStatus"),
        "",
        "Whether Conversation Routing (`hop_v2`) and multi-app messaging are on for the Page.",
    ),
    batched(
        "batch",
        &[arg("operations", ArgType::BatchOps, "")],
        Returns::BatchResults,
        "Runs many operations through Graph batch requests (50 per request, longer lists in concurrent requests). \
         Gives one result per operation, in order: its value, or its error (returned, not raised). Fails only for \
         a bad argument, before anything is sent.",
    ),
    batched(
        "thread_owners",
        &[arg("psids", ArgType::StrList, "")],
        Returns::OwnerResults,
        "Who owns each thread, through batch requests: one result per PSID, in order (the owner, none when \
         the thread is idle, or that PSID's error).",
    ),
    call(
        "take_thread_control",
        &[PSID, METADATA],
        Returns::Nothing,
        "Control",
        "Takes the thread back from the app that controls it (the Page's primary receiver only).",
    ),
    call(
        "request_thread_control",
        &[PSID, METADATA],
        Returns::Nothing,
        "Control",
        "Asks the primary receiver to pass the thread to this app.",
    ),
    call(
        "release_thread_control",
        &[PSID, METADATA],
        Returns::Nothing,
        "Control",
        "Gives up control of the thread (Conversation Routing).",
    ),
    call(
        "extend_thread_control",
        &[PSID, arg("duration", ArgType::Duration, "At most 7 days, in whole seconds.")],
        Returns::Nothing,
        "",
        "Extends this app's control of the thread (Conversation Routing) by `duration`.",
    ),
    call(
        "secondary_receivers",
        &[],
        Returns::ListOf("App"),
        "",
        "The apps with a role on the Page besides this one.",
    ),
    Operation {
        named_only: true,
        ..pager(
            "conversations",
            &[
                opt("folder", ArgType::Folder, ""),
                opt("platform", ArgType::Platform, ""),
                opt("user_id", ArgType::Str, ""),
                opt("tags", ArgType::StrList, ""),
                opt("fields", ArgType::StrList, "Graph field expressions, e.g. `participants{name}`, `messages.limit(1)`."),
                PAGE_SIZE,
                opt("after", ArgType::Str, "Resume from `conversations.after` of an earlier run (exact to the item)."),
                opt(
                    "messages",
                    ArgType::Count,
                    "The newest 1 to 20 messages of each conversation, inline (Graph details only the 20 newest).",
                ),
            ],
            "Conversation",
            "Conversations",
            "A pager over the Page's conversations, item by item or page by page.",
        )
    },
    pager(
        "messages",
        &[
            arg("conversation_id", ArgType::Str, ""),
            opt("fields", ArgType::StrList, "Graph field expressions (expansion syntax accepted)."),
            PAGE_SIZE,
            opt("after", ArgType::Str, "Resume from `messages.after` of an earlier run (exact to the item)."),
        ],
        "Message",
        "Messages",
        "A pager over a conversation's messages, newest first.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row names a method of the core's `Client`, in order (Rust
    /// cannot list a type's methods, so they are pinned by name below: a
    /// renamed method fails to compile here).
    #[test]
    fn every_row_is_a_core_method() {
        let core_methods = [
            "thread_owner",
            "pass_thread_control",
            "pass_thread_control_to_page_inbox",
            "feature_status",
            "batch",
            "thread_owners",
            "take_thread_control",
            "request_thread_control",
            "release_thread_control",
            "extend_thread_control",
            "secondary_receivers",
            "conversations",
            "messages",
        ];
        let names: Vec<&str> = OPERATIONS.iter().map(|o| o.name).collect();
        assert_eq!(names, core_methods);
        let _ = (
            crate::Client::thread_owner,
            crate::Client::pass_thread_control,
            crate::Client::pass_thread_control_to_page_inbox,
            crate::Client::feature_status,
            crate::Client::batch,
            crate::Client::thread_owners::<Vec<String>, String>,
            crate::Client::take_thread_control,
            crate::Client::request_thread_control,
            crate::Client::release_thread_control,
            crate::Client::extend_thread_control,
            crate::Client::secondary_receivers,
            crate::Client::conversations,
            crate::Client::messages,
        );
    }

    #[test]
    fn optional_arguments_come_last_and_groups_agree() {
        for op in OPERATIONS {
            let first_optional = op.args.iter().position(|a| a.optional).unwrap_or(op.args.len());
            assert!(
                op.args[first_optional..].iter().all(|a| a.optional),
                "{}: a required argument after an optional one",
                op.name
            );
            assert_eq!(
                op.options.is_empty(),
                first_optional == op.args.len(),
                "{}: options group vs optional arguments",
                op.name
            );
            // Operations that share a group take the same optional arguments.
            for other in OPERATIONS.iter().filter(|o| o.options == op.options && !o.options.is_empty()) {
                let names = |o: &Operation| o.args.iter().filter(|a| a.optional).map(|a| a.name).collect::<Vec<_>>();
                assert_eq!(names(op), names(other), "{} and {} share the group {}", op.name, other.name, op.options);
            }
        }
    }
}
