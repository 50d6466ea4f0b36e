//! Redaction of every string in a JSON tree, so that no field of a snapshot, present or
//! added later, can carry raw text: a new field is redacted as free text without anyone
//! remembering to list it. Context comes from the tree's shape, not from field lists:
//! an object with string `name` and `value` members is an environment variable, a string
//! under a secret-looking key is a secret, the members of an `options` map are
//! environment-like, and string arrays under `command` or `entry_point` are argv.

use super::{is_secret_name, redact_argv, redact_env_value, redact_text};
use serde_json::Value;
use std::borrow::Cow;

/// Keys whose string arrays are command lines.
const ARGV_KEYS: [&str; 3] = ["command", "entry_point", "entryPoint"];
/// Keys whose object members are name → value settings.
const ENV_MAPS: [&str; 1] = ["options"];

/// Redacts every string of the tree in place. Idempotent.
pub fn redact_value(v: &mut Value) {
    walk(v, Ctx::Text(None));
}

#[derive(Clone, Copy)]
enum Ctx<'a> {
    /// Free text, under this key when known.
    Text(Option<&'a str>),
    /// A value named by this key, as in an environment.
    Env(&'a str),
}

fn walk(v: &mut Value, ctx: Ctx) {
    match v {
        Value::String(s) => redact_string(s, ctx),
        Value::Array(items) => {
            let argv = matches!(ctx, Ctx::Text(Some(k)) if ARGV_KEYS.contains(&k));
            if argv && items.iter().all(Value::is_string) {
                let mut args: Vec<String> = items
                    .iter()
                    .map(|i| i.as_str().unwrap_or_default().to_string())
                    .collect();
                redact_argv(&mut args);
                *items = args.into_iter().map(Value::String).collect();
            } else {
                for item in items {
                    walk(item, ctx);
                }
            }
        }
        Value::Object(map) => {
            let env_name = match (map.get("name"), map.get("value")) {
                (Some(Value::String(n)), Some(Value::String(_))) => Some(n.clone()),
                _ => None,
            };
            let env_map = matches!(ctx, Ctx::Text(Some(k)) if ENV_MAPS.contains(&k));
            for (k, child) in map.iter_mut() {
                let child_ctx = match &env_name {
                    Some(name) if k == "value" => Ctx::Env(name),
                    _ if env_map => Ctx::Env(k),
                    _ => Ctx::Text(Some(k)),
                };
                walk(child, child_ctx);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn redact_string(s: &mut String, ctx: Ctx) {
    match ctx {
        Ctx::Env(name) => *s = redact_env_value(name, s),
        Ctx::Text(Some(key)) if is_secret_name(key) => *s = redact_env_value(key, s),
        Ctx::Text(_) => {
            if let Cow::Owned(o) = redact_text(s) {
                *s = o;
            }
        }
    }
}
