//! `--output json|yaml|text|table` and `--query`, as the AWS CLI has them.
//!
//! - `json`: pretty-printed, four spaces, keys sorted.
//! - `yaml`: the same document as YAML.
//! - `text`: the AWS CLI's text format (awscli `formatter.py`/`text.py`): tab-separated
//!   values; an object's scalar values on one line in key order, a nested list's elements on
//!   lines starting with the list's key in upper case. `--query password --output text` prints
//!   the bare value.
//! - `table`: the AWS CLI's table layout, simplified: a titled box, then one section per list
//!   or object, its scalar keys as the header row.
//!
//! `--query` is JMESPath, compiled before anything is sent (a bad expression is a usage error,
//! not a reset without an answer), and applied to the output before it is formatted.

use std::fmt::Write as _;

use clap::ValueEnum;
use serde_json::Value;

use crate::exit::Failure;

/// The four formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Yaml,
    Text,
    Table,
}

impl OutputFormat {
    /// What an invalid value is told.
    pub const ONE_OF: &'static str = "must be one of json, yaml, text, table";

    /// The format named `value` (as the profile and `RESETGATE_DEFAULT_OUTPUT` spell it).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "yaml" => Some(Self::Yaml),
            "text" => Some(Self::Text),
            "table" => Some(Self::Table),
            _ => None,
        }
    }
}

/// A compiled `--query`.
pub struct Query(jmespath::Expression<'static>);

impl Query {
    /// Compiles a JMESPath expression; an invalid one is a usage error.
    pub fn compile(expression: &str) -> Result<Self, Failure> {
        jmespath::compile(expression).map(Self).map_err(|e| {
            Failure::Usage(format!("--query {expression:?} is not valid JMESPath: {e}"))
        })
    }

    /// The expression applied to `value`.
    pub fn apply(&self, value: &Value) -> Result<Value, Failure> {
        let result = self
            .0
            .search(value)
            .map_err(|e| Failure::Usage(format!("--query {:?} failed: {e}", self.0.as_str())))?;
        serde_json::to_value(&*result)
            .map_err(|e| Failure::Other(format!("--query result cannot be printed: {e}")))
    }
}

/// The output as printed: `value` in `format`, the table titled `title` (the operation).
/// Ends with a newline, except an empty text rendering (a null query result prints nothing,
/// as the AWS CLI's text output does).
pub fn render(value: &Value, format: OutputFormat, title: &str) -> String {
    match format {
        OutputFormat::Json => json(value),
        OutputFormat::Yaml => yaml(value),
        OutputFormat::Text => text(value),
        OutputFormat::Table => table(value, title),
    }
}

fn json(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut serializer).expect("a JSON value always serialises");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

fn yaml(value: &Value) -> String {
    serde_norway::to_string(value).unwrap_or_else(|_| json(value))
}

/// `text` with control characters (a terminal's escape sequences among them) shown as U+FFFD:
/// what a server sends never steers the terminal. JSON and YAML escape them themselves.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// A scalar as the AWS CLI's text and table formats print it (Python's `str()`), printable.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => printable(s),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(value).unwrap_or_default(),
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

// ---- text ------------------------------------------------------------------------------------

fn text(value: &Value) -> String {
    let mut out = String::new();
    if !value.is_null() {
        text_item(value, None, None, &mut out);
    }
    out
}

fn text_item(value: &Value, identifier: Option<&str>, keys: Option<&[String]>, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut scalars: Vec<String> = Vec::new();
            match keys {
                Some(keys) => scalars.extend(
                    keys.iter()
                        .map(|k| map.get(k).map(scalar).unwrap_or_else(|| "None".into())),
                ),
                None => scalars.extend(map.values().filter(|v| is_scalar(v)).map(scalar)),
            }
            if !scalars.is_empty() {
                if let Some(id) = identifier {
                    scalars.insert(0, id.to_uppercase());
                }
                out.push_str(&scalars.join("\t"));
                out.push('\n');
            }
            for (key, nested) in map.iter().filter(|(_, v)| !is_scalar(v)) {
                text_item(nested, Some(key), None, out);
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                return;
            }
            if items.iter().any(Value::is_object) {
                let keys = scalar_keys(items);
                for item in items {
                    text_item(item, identifier, Some(&keys), out);
                }
            } else {
                let (scalars, nested): (Vec<&Value>, Vec<&Value>) =
                    items.iter().partition(|v| is_scalar(v));
                if !scalars.is_empty() {
                    match identifier {
                        Some(id) => {
                            for item in &scalars {
                                let _ = writeln!(out, "{}\t{}", id.to_uppercase(), scalar(item));
                            }
                        }
                        None => {
                            let line: Vec<String> = scalars.iter().map(|v| scalar(v)).collect();
                            out.push_str(&line.join("\t"));
                            out.push('\n');
                        }
                    }
                }
                for item in nested {
                    text_item(item, identifier, None, out);
                }
            }
        }
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// The scalar keys of a list of objects, sorted (every element prints a value for each).
fn scalar_keys(items: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = items
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|map| {
            map.iter()
                .filter(|(_, v)| is_scalar(v))
                .map(|(k, _)| k.clone())
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

// ---- table -----------------------------------------------------------------------------------

/// One section of a table: a title, an optional header row, rows, and its nesting depth.
struct Section {
    title: Option<String>,
    depth: usize,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn table(value: &Value, title: &str) -> String {
    let mut sections = vec![Section {
        title: Some(title.to_owned()),
        depth: 0,
        header: Vec::new(),
        rows: Vec::new(),
    }];
    table_build(value, 0, &mut sections);
    sections.retain(|s| s.title.is_some() || !s.rows.is_empty());
    let inner = sections
        .iter()
        .map(|s| {
            let widths = column_widths(s);
            let row_width = widths
                .iter()
                .map(|w| w + 3)
                .sum::<usize>()
                .saturating_sub(1);
            let title_width = s.title.as_ref().map_or(0, |t| t.chars().count() + 2);
            row_width.max(title_width) + s.depth * 2
        })
        .max()
        .unwrap_or(0)
        .max(title.chars().count() + 2);
    let mut out = String::new();
    for section in &sections {
        render_section(section, inner, &mut out);
    }
    out
}

fn table_build(value: &Value, depth: usize, sections: &mut Vec<Section>) {
    match value {
        Value::Object(map) => {
            let scalars: Vec<(&String, &Value)> =
                map.iter().filter(|(_, v)| is_scalar(v)).collect();
            let section = sections.last_mut().expect("a section is open");
            if scalars.len() == 1 {
                section
                    .rows
                    .push(vec![scalars[0].0.clone(), scalar(scalars[0].1)]);
            } else if !scalars.is_empty() {
                section.header = scalars.iter().map(|(k, _)| (*k).clone()).collect();
                section
                    .rows
                    .push(scalars.iter().map(|(_, v)| scalar(v)).collect());
            }
            for (key, nested) in map.iter().filter(|(_, v)| !is_scalar(v)) {
                if is_empty(nested) {
                    continue;
                }
                sections.push(Section {
                    title: Some(key.clone()),
                    depth: depth + 1,
                    header: Vec::new(),
                    rows: Vec::new(),
                });
                table_build(nested, depth + 1, sections);
            }
        }
        Value::Array(items) => {
            if items.iter().any(Value::is_object) {
                let keys = scalar_keys(items);
                let title = sections.last().and_then(|s| s.title.clone());
                for (index, item) in items.iter().enumerate() {
                    let nested: Vec<(&String, &Value)> = item
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .filter(|(_, v)| !is_scalar(v) && !is_empty(v))
                                .collect()
                        })
                        .unwrap_or_default();
                    if index > 0
                        && (!nested.is_empty() || sections.last().is_some_and(|s| s.depth != depth))
                    {
                        sections.push(Section {
                            title: title.clone(),
                            depth,
                            header: Vec::new(),
                            rows: Vec::new(),
                        });
                    }
                    let section = sections.last_mut().expect("a section is open");
                    section.header.clone_from(&keys);
                    section.rows.push(
                        keys.iter()
                            .map(|k| item.get(k).map(scalar).unwrap_or_default())
                            .collect(),
                    );
                    for (key, value) in nested {
                        sections.push(Section {
                            title: Some(key.clone()),
                            depth: depth + 1,
                            header: Vec::new(),
                            rows: Vec::new(),
                        });
                        table_build(value, depth + 1, sections);
                    }
                }
            } else {
                for item in items {
                    let section = sections.last_mut().expect("a section is open");
                    if is_scalar(item) {
                        section.rows.push(vec![scalar(item)]);
                    } else {
                        table_build(item, depth, sections);
                    }
                }
            }
        }
        other => {
            let section = sections.last_mut().expect("a section is open");
            section.rows.push(vec![scalar(other)]);
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn column_widths(section: &Section) -> Vec<usize> {
    let columns = section
        .rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(section.header.len()))
        .max()
        .unwrap_or(0);
    (0..columns)
        .map(|i| {
            section
                .rows
                .iter()
                .filter_map(|r| r.get(i))
                .chain(section.header.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect()
}

fn render_section(section: &Section, inner: usize, out: &mut String) {
    let indent = " ".repeat(section.depth * 2);
    let width = inner - section.depth * 2;
    if let Some(title) = &section.title {
        let _ = writeln!(out, "{indent}{}", "-".repeat(width + 2));
        let _ = writeln!(out, "{indent}|{:^width$}|", title);
    }
    if section.rows.is_empty() {
        if section.title.is_some() {
            let _ = writeln!(out, "{indent}{}", "-".repeat(width + 2));
        }
        return;
    }
    let mut widths = column_widths(section);
    // Spread what is left of the width over the columns, the last taking the remainder.
    let used = widths
        .iter()
        .map(|w| w + 3)
        .sum::<usize>()
        .saturating_sub(1);
    if let Some(last) = widths.last_mut() {
        *last += width.saturating_sub(used);
    }
    let rule: String = widths
        .iter()
        .map(|w| "-".repeat(w + 2))
        .collect::<Vec<_>>()
        .join("+");
    let _ = writeln!(out, "{indent}+{rule}+");
    let line = |cells: &[String], centred: bool| {
        let cells: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                if centred {
                    format!(" {cell:^w$} ")
                } else {
                    format!(" {cell:<w$} ")
                }
            })
            .collect();
        format!("{indent}|{}|\n", cells.join("|"))
    };
    if !section.header.is_empty() {
        out.push_str(&line(&section.header, true));
        let _ = writeln!(out, "{indent}+{rule}+");
    }
    for row in &section.rows {
        out.push_str(&line(row, false));
    }
    let _ = writeln!(out, "{indent}+{rule}+");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn targets() -> Value {
        json!({"targets": [
            {"name": "app-users", "service": "cognito", "modes": ["code", "generate", "set"], "self": true, "admin": true},
            {"name": "corp-ad", "service": "directory", "modes": ["generate"], "self": false, "admin": true}
        ]})
    }

    fn reset() -> Value {
        json!({"target": "app-users", "username": "alice", "mode": "generate",
               "mustChangeAtNextSignIn": true, "password": "x7#Kq-generated", "clientToken": "0b6f"})
    }

    #[test]
    fn formats_are_named_as_the_aws_cli_names_them() {
        assert_eq!(OutputFormat::parse("JSON"), Some(OutputFormat::Json));
        assert_eq!(OutputFormat::parse(" table "), Some(OutputFormat::Table));
        assert_eq!(OutputFormat::parse("yaml"), Some(OutputFormat::Yaml));
        assert_eq!(OutputFormat::parse("text"), Some(OutputFormat::Text));
        assert_eq!(OutputFormat::parse("xml"), None);
    }

    #[test]
    fn json_is_indented_four_spaces_with_sorted_keys() {
        let out = render(&json!({"b": 1, "a": [true]}), OutputFormat::Json, "X");
        assert_eq!(
            out,
            "{\n    \"a\": [\n        true\n    ],\n    \"b\": 1\n}\n"
        );
    }

    #[test]
    fn yaml_is_the_same_document() {
        let out = render(&reset(), OutputFormat::Yaml, "X");
        let back: Value = serde_norway::from_str(&out).unwrap();
        assert_eq!(back, reset());
        assert!(out.contains("username: alice\n"), "{out}");
    }

    #[test]
    fn text_is_the_aws_clis_text_format() {
        // An object's scalars on one line in key order; a nested list of objects one line per
        // element, led by the list's key; a list of scalars one line per value.
        let out = render(&targets(), OutputFormat::Text, "ListTargets");
        assert_eq!(
            out,
            "TARGETS\tTrue\tapp-users\tTrue\tcognito\n\
             MODES\tcode\nMODES\tgenerate\nMODES\tset\n\
             TARGETS\tTrue\tcorp-ad\tFalse\tdirectory\n\
             MODES\tgenerate\n"
        );
        let out = render(&reset(), OutputFormat::Text, "ResetUserPassword");
        assert_eq!(
            out,
            "0b6f\tgenerate\tTrue\tx7#Kq-generated\tapp-users\talice\n"
        );
    }

    #[test]
    fn text_of_a_bare_value_is_the_value() {
        assert_eq!(render(&json!("x7#Kq"), OutputFormat::Text, "X"), "x7#Kq\n");
        assert_eq!(
            render(&json!(["a", "b"]), OutputFormat::Text, "X"),
            "a\tb\n"
        );
        assert_eq!(render(&Value::Null, OutputFormat::Text, "X"), "");
        assert_eq!(render(&json!(false), OutputFormat::Text, "X"), "False\n");
    }

    #[test]
    fn text_fills_missing_keys_with_none() {
        let out = render(
            &json!([{"a": 1, "b": 2}, {"a": 3}]),
            OutputFormat::Text,
            "X",
        );
        assert_eq!(out, "1\t2\n3\tNone\n");
    }

    #[test]
    fn a_table_has_the_title_and_a_header_row() {
        let out = render(&reset(), OutputFormat::Table, "ResetUserPassword");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].contains("ResetUserPassword"), "{out}");
        assert!(lines[0].chars().all(|c| c == '-'), "{out}");
        let header = lines
            .iter()
            .find(|l| l.contains("clientToken"))
            .expect("a header row");
        for key in [
            "clientToken",
            "mode",
            "mustChangeAtNextSignIn",
            "password",
            "target",
            "username",
        ] {
            assert!(header.contains(key), "{header}");
        }
        let row = lines
            .iter()
            .find(|l| l.contains("x7#Kq-generated"))
            .expect("a value row");
        assert!(row.contains("app-users") && row.contains("True"), "{row}");
        // Every line of one section has the same width.
        let widths: std::collections::BTreeSet<usize> =
            lines.iter().map(|l| l.chars().count()).collect();
        assert_eq!(widths.len(), 1, "{out}");
    }

    #[test]
    fn a_table_of_a_list_has_one_section_per_element_with_nested_lists() {
        let out = render(&targets(), OutputFormat::Table, "ListTargets");
        assert_eq!(out.matches("ListTargets").count(), 1, "{out}");
        assert_eq!(
            out.matches(" targets ").count(),
            2,
            "one targets section per element:\n{out}"
        );
        assert!(
            out.contains("app-users") && out.contains("corp-ad"),
            "{out}"
        );
        assert_eq!(
            out.matches(" modes ").count(),
            2,
            "one modes section per target:\n{out}"
        );
        // Nested sections are indented.
        assert!(
            out.lines()
                .any(|l| l.starts_with("    |") && l.contains("generate")),
            "{out}"
        );
    }

    #[test]
    fn a_table_of_a_single_key_object_is_a_key_value_row() {
        let out = render(&json!({"password": "x7#Kq"}), OutputFormat::Table, "X");
        assert!(
            out.lines()
                .any(|l| l.contains("password") && l.contains("x7#Kq")),
            "{out}"
        );
    }

    #[test]
    fn text_and_tables_never_pass_a_terminal_escape_through() {
        let hostile = json!({"username": "bob\u{1b}[2J\u{1b}]0;pwned\u{7}", "target": "t"});
        for format in [OutputFormat::Text, OutputFormat::Table] {
            let out = render(&hostile, format, "X");
            assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
            assert!(out.contains("bob\u{FFFD}[2J"), "{out:?}");
        }
        assert_eq!(printable("a\tb\nc"), "a\tb\u{FFFD}c");
    }

    #[test]
    fn queries_are_jmespath() {
        let query = Query::compile("targets[?admin].name").unwrap();
        assert_eq!(
            query.apply(&targets()).unwrap(),
            json!(["app-users", "corp-ad"])
        );
        let query = Query::compile("targets[?service=='directory'] | [0].modes").unwrap();
        assert_eq!(query.apply(&targets()).unwrap(), json!(["generate"]));
        let query = Query::compile("password").unwrap();
        assert_eq!(query.apply(&reset()).unwrap(), json!("x7#Kq-generated"));
        assert_eq!(
            Query::compile("nothing").unwrap().apply(&reset()).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn a_bad_query_is_a_usage_error() {
        let Err(Failure::Usage(message)) = Query::compile("targets[?") else {
            panic!("expected a usage error");
        };
        assert!(
            message.starts_with("--query \"targets[?\" is not valid JMESPath"),
            "{message}"
        );
    }
}
