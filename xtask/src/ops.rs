//! The operations table (`messenger_handover::surface::OPERATIONS`) rendered
//! into each language's signatures: the native stub and the two clients'
//! methods in Python, the `Client` methods (`index.js`) with their
//! declarations and option types (`index.d.ts`) in Node, and the batch
//! builders in both. What a type, a return value or a doc looks like in each
//! language is decided here, once.

use std::fmt::Write as _;

use messenger_handover::surface::{Arg, ArgType, Kind, Operation, Returns, OPERATIONS};

use crate::{camel, wrap};

/// The operation's doc, and what its kind adds.
fn doc_of(op: &Operation) -> String {
    let note = op.kind.note();
    if note.is_empty() {
        op.doc.to_owned()
    } else {
        format!("{} {note}", op.doc)
    }
}

fn calls() -> impl Iterator<Item = &'static Operation> {
    OPERATIONS.iter().filter(|o| o.kind == Kind::Call)
}

/// Code in a doc is between backticks; each language marks it its own way.
fn doc_code(doc: &str, code: impl Fn(&str) -> String) -> String {
    doc.split('`').enumerate().map(|(i, part)| if i % 2 == 1 { code(part) } else { part.to_owned() }).collect()
}

fn is_snake_ident(s: &str) -> bool {
    s.contains('_') && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

// ------------------------------------------------------------------ Python

fn py_doc(doc: &str) -> String {
    doc_code(doc, |c| format!("``{c}``"))
}

/// The argument's type as the Python clients take it.
fn py_type(a: &Arg) -> String {
    let base = match a.ty {
        ArgType::Str => "str",
        ArgType::Duration => "Union[int, timedelta]",
        ArgType::Count => "int",
        ArgType::StrList => "Iterable[str]",
        ArgType::Folder => "Union[Folder, str]",
        ArgType::Platform => "Union[Platform, str]",
        ArgType::BatchOps => "Iterable[Union[BatchOp, Mapping[str, Any]]]",
    };
    match (a.optional, base.strip_prefix("Union[")) {
        (false, _) => base.to_owned(),
        (true, Some(inner)) => format!("Union[{}, None] = None", inner.strip_suffix(']').unwrap_or(inner)),
        (true, None) => format!("Optional[{base}] = None"),
    }
}

/// The expression that checks the argument's Python type and hands the
/// native method what it takes (the core checks every range).
fn py_convert(a: &Arg) -> String {
    let n = a.name;
    match (a.ty, a.optional) {
        (ArgType::Str, false) => format!("text({n}, \"{n}\")"),
        (ArgType::Str, true) => format!("opt_text({n}, \"{n}\")"),
        (ArgType::Duration, _) => format!("whole_seconds({n}, \"{n}\")"),
        (ArgType::Count, _) => format!("count({n}, \"{n}\")"),
        (ArgType::StrList, false) => format!("required_str_list({n}, \"{n}\")"),
        (ArgType::StrList, true) => format!("str_list({n}, \"{n}\")"),
        (ArgType::Folder, _) => format!("enum_value({n}, Folder, \"{n}\")"),
        (ArgType::Platform, _) => format!("enum_value({n}, Platform, \"{n}\")"),
        (ArgType::BatchOps, _) => format!("_operations({n})"),
    }
}

fn py_returns(r: Returns, blocking: bool) -> String {
    match r {
        Returns::Nothing => "None".into(),
        Returns::Model(m) => m.into(),
        Returns::OptionalModel(m) => format!("Optional[{m}]"),
        Returns::ListOf(m) => format!("List[{m}]"),
        Returns::BatchResults => "List[BatchResult]".into(),
        Returns::OwnerResults => "List[OwnerResult]".into(),
        Returns::Pager(item) if blocking => format!("{item}Pager"),
        Returns::Pager(item) => format!("Async{item}Pager"),
    }
}

/// `(self, a: T, *, b: U = None)` on one line, or one parameter a line when long.
fn py_params(first: &str, params: &[String], head: &str, tail: &str) -> String {
    let one = format!("{head}({first}{}{}){tail}", if params.is_empty() { "" } else { ", " }, params.join(", "));
    if one.len() <= 120 {
        return one;
    }
    let mut s = format!("{head}(\n        {first},\n");
    for p in params {
        let _ = writeln!(s, "        {p},");
    }
    s.push_str(&format!("    ){tail}"));
    s
}

fn py_signature_params(op: &Operation) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in op.args.iter().enumerate() {
        if op.named_only && a.optional && !op.args[..i].iter().any(|b| b.optional) {
            out.push("*".to_owned());
        }
        out.push(format!("{}: {}", a.name, py_type(a)));
    }
    out
}

/// A docstring at `indent`: the operation's words, then its arguments' where
/// they have any.
fn py_docstring(op: &Operation, indent: &str) -> String {
    let doc = py_doc(&doc_of(op));
    let args: Vec<&Arg> = op.args.iter().filter(|a| !a.doc.is_empty()).collect();
    let one = format!("{indent}\"\"\"{doc}\"\"\"\n");
    if args.is_empty() && one.len() <= 101 {
        return one;
    }
    let mut s = String::new();
    let body = wrap(&doc, indent, 100);
    let _ = write!(s, "{indent}\"\"\"{}", body.trim_start());
    if !args.is_empty() {
        let _ = writeln!(s, "\n{indent}Args:");
        for a in args {
            // Continuation lines hang under the argument's name.
            let lines = wrap(&format!("{}: {}", a.name, py_doc(a.doc)), &format!("{indent}        "), 100);
            s.push_str(lines.strip_prefix("    ").unwrap_or(&lines));
        }
    }
    let _ = writeln!(s, "{indent}\"\"\"");
    s
}

fn py_methods(blocking: bool) -> String {
    let mut s = String::new();
    for op in OPERATIONS {
        let ret = py_returns(op.returns, blocking);
        let params = py_signature_params(op);
        let head = if blocking || op.kind == Kind::Pager { "    def " } else { "    async def " };
        let _ = writeln!(s, "{}", py_params("self", &params, &format!("{head}{}", op.name), &format!(" -> {ret}:")));
        s.push_str(&py_docstring(op, "        "));
        match op.kind {
            Kind::Call => {
                let args: Vec<String> = op.args.iter().map(py_convert).collect();
                let call = format!("self._native.{}({})", op.name, args.join(", "));
                let call = match (blocking, op.returns == Returns::Nothing) {
                    (true, true) => format!("{call}.wait()"),
                    (true, false) => format!("return {call}.wait()"),
                    (false, true) => format!("await {call}"),
                    (false, false) => format!("return await {call}"),
                };
                let _ = writeln!(s, "        {call}\n");
            }
            // The native pager's arguments are checked and converted by the
            // hand-written `_<name>_args` of `_Base` (natives differ per pager).
            Kind::Pager => {
                let names: Vec<&str> = op.args.iter().map(|a| a.name).collect();
                let _ = writeln!(s, "        return {ret}(self._{}_args({}))\n", op.name, names.join(", "));
            }
        }
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

pub fn py_async_methods() -> String {
    py_methods(false)
}

pub fn py_blocking_methods() -> String {
    py_methods(true)
}

/// The argument as the native method takes it (names and types must match
/// the Rust binding: `stubtest` compares them).
fn pyi_param(a: &Arg) -> String {
    let (name, ty) = match a.ty {
        ArgType::Str | ArgType::Folder | ArgType::Platform => (a.name.to_owned(), "str"),
        ArgType::Duration => (format!("{}_seconds", a.name), "float"),
        ArgType::Count => (a.name.to_owned(), "int"),
        ArgType::StrList => (a.name.to_owned(), "list[str]"),
        ArgType::BatchOps => (a.name.to_owned(), "list[Any]"),
    };
    if a.optional {
        format!("{name}: {ty} | None")
    } else {
        format!("{name}: {ty}")
    }
}

fn pyi_returns(r: Returns) -> String {
    match r {
        Returns::Nothing => "None".into(),
        Returns::Model(m) => m.into(),
        Returns::OptionalModel(m) => format!("{m} | None"),
        Returns::ListOf(m) => format!("list[{m}]"),
        Returns::BatchResults | Returns::OwnerResults | Returns::Pager(_) => "list[Any]".into(),
    }
}

/// One native method per call, each returning a `PendingCall` (pagers have
/// their own native signatures, written by hand).
pub fn pyi_native_client() -> String {
    let mut s = String::new();
    for op in calls() {
        let params: Vec<String> = op.args.iter().map(pyi_param).collect();
        let _ = writeln!(
            s,
            "{} ...",
            py_params(
                "self",
                &params,
                &format!("    def {}", op.name),
                &format!(" -> PendingCall[{}]:", pyi_returns(op.returns))
            )
        );
    }
    s
}

/// `BatchOp.<operation>(...)`: the plain data the core reads, each argument
/// checked for its Python type as the client's method checks it.
pub fn py_batch_builders() -> String {
    let mut s = String::new();
    for op in OPERATIONS.iter().filter(|o| o.batchable) {
        let params = py_signature_params(op);
        let _ = writeln!(s, "    @classmethod");
        let _ = writeln!(s, "{}", py_params("cls", &params, &format!("    def {}", op.name), " -> \"BatchOp\":"));
        let _ = writeln!(s, "        \"\"\"One ``{0}`` of a batch (see :meth:`Client.{0}`).\"\"\"", op.name);
        let mut fields = vec![format!("\"op\": \"{}\"", op.name)];
        fields.extend(op.args.iter().map(|a| format!("\"{}\": {}", a.name, py_convert(a))));
        let one = format!("        return cls({{{}}})", fields.join(", "));
        if one.len() <= 160 {
            let _ = writeln!(s, "{one}\n");
        } else {
            s.push_str("        return cls(\n            {\n");
            for f in fields {
                let _ = writeln!(s, "                {f},");
            }
            s.push_str("            }\n        )\n\n");
        }
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

// ------------------------------------------------------------------ Node

fn node_doc(doc: &str) -> String {
    node_doc_of(doc, &[])
}

/// Code names become Node's: an argument of the operation its Node name
/// (`duration` is `durationSeconds`), any other snake_case name camelCase.
fn node_doc_of(doc: &str, args: &[Arg]) -> String {
    doc_code(doc, |c| match args.iter().find(|a| a.name == c) {
        Some(a) => format!("`{}`", node_name(a)),
        None if is_snake_ident(c) => format!("`{}`", camel(c)),
        None => format!("`{c}`"),
    })
}

/// A JSDoc block at `indent` (one line when it fits); `doc` is in Node's terms.
fn jsdoc(doc: &str, params: &[(String, String)], indent: &str) -> String {
    let one = format!("{indent}/** {doc} */\n");
    if params.is_empty() && one.len() <= 120 {
        return one;
    }
    let mut s = format!("{indent}/**\n");
    s.push_str(&wrap(doc, &format!("{indent} * "), 110));
    for (name, d) in params {
        s.push_str(&wrap(&format!("@param {name} {}", node_doc(d)), &format!("{indent} * "), 110));
    }
    let _ = writeln!(s, "{indent} */");
    s
}

fn node_name(a: &Arg) -> String {
    match a.ty {
        ArgType::Duration => format!("{}Seconds", camel(a.name)),
        _ => camel(a.name),
    }
}

fn ts_type(a: &Arg) -> &'static str {
    match a.ty {
        ArgType::Str => "string",
        ArgType::Duration | ArgType::Count => "number",
        ArgType::StrList => "string[]",
        ArgType::Folder => "Folder",
        ArgType::Platform => "Platform",
        ArgType::BatchOps => "BatchOperation[]",
    }
}

fn ts_returns(r: Returns) -> String {
    match r {
        Returns::Nothing => "Promise<void>".into(),
        Returns::Model(m) => format!("Promise<{m}>"),
        Returns::OptionalModel(m) => format!("Promise<{m} | null>"),
        Returns::ListOf(m) => format!("Promise<{m}[]>"),
        Returns::BatchResults => "Promise<BatchResult<BatchValue>[]>".into(),
        Returns::OwnerResults => "Promise<BatchResult<ThreadOwner | null>[]>".into(),
        Returns::Pager(item) => format!("{item}s"),
    }
}

fn options_type(op: &Operation) -> String {
    if op.options.is_empty() {
        "CallOptions".to_owned()
    } else {
        format!("{}Options", op.options)
    }
}

fn required_params(op: &Operation) -> Vec<String> {
    op.args.iter().filter(|a| !a.optional).map(|a| format!("{}: {}", node_name(a), ts_type(a))).collect()
}

fn param_docs(op: &Operation) -> Vec<(String, String)> {
    op.args.iter().filter(|a| !a.optional && !a.doc.is_empty()).map(|a| (node_name(a), a.doc.to_owned())).collect()
}

/// Each group of optional arguments once, as an options type (every one
/// takes `signal` from `CallOptions`).
pub fn dts_options() -> String {
    let mut s = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for op in OPERATIONS.iter().filter(|o| !o.options.is_empty()) {
        if seen.contains(&op.options) {
            continue;
        }
        seen.push(op.options);
        let _ = writeln!(s, "export interface {} extends CallOptions {{", options_type(op));
        for a in op.args.iter().filter(|a| a.optional) {
            if !a.doc.is_empty() {
                s.push_str(&jsdoc(&node_doc(a.doc), &[], "  "));
            }
            let _ = writeln!(s, "  {}?: {}", node_name(a), ts_type(a));
        }
        s.push_str("}\n\n");
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

/// The `Client` methods: required arguments in order, then the options.
pub fn dts_client_methods() -> String {
    let mut s = String::new();
    for op in OPERATIONS {
        let mut params = required_params(op);
        params.push(format!("options?: {}", options_type(op)));
        s.push_str(&jsdoc(&node_doc_of(&doc_of(op), op.args), &param_docs(op), "  "));
        let _ = writeln!(s, "  {}({}): {}", camel(op.name), params.join(", "), ts_returns(op.returns));
    }
    s
}

/// The batch operations as plain data in the core's form (snake_case keys,
/// as the core reads them), and their builders `batchOp.*`.
pub fn dts_batch() -> String {
    let mut s = String::from(
        "/**\n * One operation of `client.batch()`, as plain data in the core's form;\n * `batchOp.*` builds them.\n */\nexport type BatchOperation =\n",
    );
    for op in OPERATIONS.iter().filter(|o| o.batchable) {
        let mut fields = vec![format!("op: '{}'", op.name)];
        for a in op.args {
            // Optional arguments are documented in their options type.
            let doc =
                if a.doc.is_empty() || a.optional { String::new() } else { format!("/** {} */ ", node_doc(a.doc)) };
            fields.push(format!("{doc}{}{}: {}", a.name, if a.optional { "?" } else { "" }, ts_type(a)));
        }
        let _ = writeln!(s, "  | {{ {} }}", fields.join("; "));
    }
    s.push_str(
        "\n/** Builders of batch operations (plain objects in the core's form). */\nexport declare const batchOp: {\n",
    );
    for op in OPERATIONS.iter().filter(|o| o.batchable) {
        let mut params = required_params(op);
        let optional: Vec<String> =
            op.args.iter().filter(|a| a.optional).map(|a| format!("{}?: {}", node_name(a), ts_type(a))).collect();
        if !optional.is_empty() {
            params.push(format!("options?: {{ {} }}", optional.join("; ")));
        }
        let _ = writeln!(s, "  {}({}): BatchOperation", camel(op.name), params.join(", "));
    }
    s.push_str("}\n");
    s
}

// ------------------------------------------------------------------ Node JS

/// The statement that checks the argument's JavaScript type (the core
/// checks every range); the helpers are `index.js`'s own.
fn js_check(a: &Arg) -> String {
    let n = node_name(a);
    let helper = match a.ty {
        ArgType::Str | ArgType::Folder | ArgType::Platform if a.optional => {
            return format!("checkOptionalString('{n}', {n})");
        }
        ArgType::Str | ArgType::Folder | ArgType::Platform => "checkString",
        ArgType::Duration | ArgType::Count => "checkNumber",
        ArgType::StrList => "checkStringArray",
        ArgType::BatchOps => "checkOperations",
    };
    if a.optional {
        format!("if ({n} !== undefined && {n} !== null) {helper}('{n}', {n})")
    } else {
        format!("{helper}('{n}', {n})")
    }
}

/// The argument as the native method takes it: absent options as
/// `undefined`, batch operations without their absent fields.
fn js_native_arg(a: &Arg) -> String {
    let n = node_name(a);
    match (a.ty, a.optional) {
        (_, true) => format!("{n} ?? undefined"),
        (ArgType::BatchOps, false) => format!("{n}.map((op) => compact(op))"),
        (_, false) => n,
    }
}

/// `head` + the items joined + `tail`, on one line at `indent` when it fits
/// in 120 columns, else one item a line.
fn js_list(indent: &str, head: &str, items: &[String], tail: &str) -> String {
    let one = format!("{indent}{head}{}{tail}\n", items.join(", "));
    if one.len() <= 120 || items.is_empty() {
        return one;
    }
    let mut s = format!("{indent}{}\n", head.trim_end());
    for i in items {
        let _ = writeln!(s, "{indent}  {i},");
    }
    let _ = writeln!(s, "{indent}{}", tail.trim_start());
    s
}

/// The checks a generated method opens with, the same for a client method
/// and a batch builder: each required argument's JavaScript type, then the
/// options object read (`extra`, e.g. `signal`, beside the optional
/// arguments; none read when there is nothing to read), then each optional
/// argument's type.
fn js_arg_checks(required: &[&Arg], optional: &[&Arg], extra: Option<&str>) -> String {
    let mut s = String::new();
    for a in required {
        let _ = writeln!(s, "    {}", js_check(a));
    }
    let mut names: Vec<String> = extra.map(str::to_owned).into_iter().collect();
    names.extend(optional.iter().map(|a| node_name(a)));
    if !names.is_empty() {
        let allowed: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        let _ = writeln!(
            s,
            "    const {{ {} }} = readOptions('options', options, [{}])",
            names.join(", "),
            allowed.join(", ")
        );
    }
    for a in optional {
        let _ = writeln!(s, "    {}", js_check(a));
    }
    s
}

/// The `Client` methods of every call, one shape: the JavaScript type of
/// each argument checked, the options read (`signal` and the optional
/// arguments), then the native method with the required arguments, the
/// optional ones and the cancel token, under `run`. Pagers stay
/// hand-written (each has its own class).
pub fn js_client_methods() -> String {
    let mut s = String::new();
    for op in calls() {
        let required: Vec<&Arg> = op.args.iter().filter(|a| !a.optional).collect();
        let optional: Vec<&Arg> = op.args.iter().filter(|a| a.optional).collect();
        let mut params: Vec<String> = required.iter().map(|a| node_name(a)).collect();
        params.push("options".into());
        s.push_str(&jsdoc(&node_doc_of(&doc_of(op), op.args), &[], "  "));
        let _ = writeln!(s, "  async {}({}) {{", camel(op.name), params.join(", "));
        s.push_str(&js_arg_checks(&required, &optional, Some("signal")));
        let mut args: Vec<String> = op.args.iter().map(js_native_arg).collect();
        args.push("t".into());
        let (head, tail) = match op.returns {
            Returns::Nothing => ("await run", ""),
            Returns::Model(_) | Returns::ListOf(_) => ("return run", ""),
            Returns::OptionalModel(_) => ("return (await run", ") ?? null"),
            Returns::BatchResults | Returns::OwnerResults => ("return (await run", ").map(settle)"),
            Returns::Pager(_) => unreachable!("pagers are not calls"),
        };
        let call = format!("this.#native.{}({})", camel(op.name), args.join(", "));
        let one = format!("    {head}(signal, (t) => {call}){tail}\n");
        if one.len() <= 120 {
            s.push_str(&one);
        } else {
            // Prettier's break: the arrow's body on a line of its own.
            let _ = writeln!(s, "    {head}(signal, (t) =>\n      {call},\n    ){tail}");
        }
        s.push_str("  }\n\n");
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

/// `batchOp.<operation>(...)`: the plain object the core reads (snake_case
/// keys), each argument checked for its JavaScript type as the client's
/// method checks it; absent options are left out.
pub fn js_batch_builders() -> String {
    let mut s = String::new();
    for op in OPERATIONS.iter().filter(|o| o.batchable) {
        let required: Vec<&Arg> = op.args.iter().filter(|a| !a.optional).collect();
        let optional: Vec<&Arg> = op.args.iter().filter(|a| a.optional).collect();
        let mut params: Vec<String> = required.iter().map(|a| node_name(a)).collect();
        if !optional.is_empty() {
            params.push("options".into());
        }
        let _ = writeln!(s, "  /** One `{}` of a batch (see `Client.{}`). */", op.name, camel(op.name));
        let _ = writeln!(s, "  {}({}) {{", camel(op.name), params.join(", "));
        s.push_str(&js_arg_checks(&required, &optional, None));
        let mut fields = vec![format!("op: '{}'", op.name)];
        for a in op.args {
            let n = node_name(a);
            fields.push(if n == a.name { n } else { format!("{}: {n}", a.name) });
        }
        let (head, tail) = if optional.is_empty() { ("return { ", " }") } else { ("return compact({ ", " })") };
        s.push_str(&js_list("    ", head, &fields, tail));
        s.push_str("  },\n");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_and_docs_per_language() {
        assert_eq!(node_doc("on (`hop_v2`) or `messages.limit(1)`"), "on (`hopV2`) or `messages.limit(1)`");
        assert_eq!(py_doc("by `duration`."), "by ``duration``.");
    }

    /// The generated `index.js` methods call the hand-written native method
    /// with the table's arguments in order, then the cancel token: the
    /// native signatures (`native.d.ts`, drift-checked against the Rust by
    /// `make node-dts-check`) must take exactly those.
    #[test]
    fn native_methods_take_the_tables_arguments() {
        let dts =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../bindings-node/native.d.ts")).unwrap();
        let class = dts.split("export declare class NativeClient {").nth(1).unwrap();
        let class = &class[..class.find("\n}").unwrap()];
        for op in calls() {
            let name = camel(op.name);
            let line = class
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with(&format!("{name}(")))
                .unwrap_or_else(|| panic!("native.d.ts: NativeClient has no {name}(...)"));
            let inside = &line[name.len() + 1..line.find(')').unwrap()];
            let got: Vec<&str> =
                inside.split(", ").map(|p| p.split(':').next().unwrap().trim_end_matches('?')).collect();
            let mut want: Vec<String> = op.args.iter().map(node_name).collect();
            want.push("cancel".into());
            assert_eq!(got, want, "NativeClient.{name} in native.d.ts");
        }
    }

    /// Every check a row could render, whatever its argument's type and
    /// optionality (not only today's rows), names a function `index.js` has:
    /// its own, or one it takes from `errors.js` (`checkString`, which the
    /// webhooks and testing helpers share).
    #[test]
    fn every_js_check_exists_in_index_js() {
        let read = |file: &str| {
            std::fs::read_to_string(format!("{}/../bindings-node/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
        };
        let (index, errors) = (read("index.js"), read("errors.js"));
        let imported = index
            .lines()
            .find(|l| l.contains("} = errors"))
            .map(|l| l.trim_start_matches("const {").split("} = errors").next().unwrap_or("").to_owned())
            .unwrap_or_default();
        let types = [
            ArgType::Str,
            ArgType::Duration,
            ArgType::Count,
            ArgType::StrList,
            ArgType::Folder,
            ArgType::Platform,
            ArgType::BatchOps,
        ];
        for ty in types {
            for optional in [false, true] {
                let check = js_check(&Arg { name: "some_arg", ty, optional, doc: "" });
                let helper = check.split(" !== null) ").last().unwrap().split('(').next().unwrap();
                let defined = |text: &str| text.contains(&format!("function {helper}(name, value)"));
                let shared = imported.split(',').any(|n| n.trim() == helper) && defined(&errors);
                assert!(defined(&index) || shared, "{ty:?}: {check}");
            }
        }
    }
}
