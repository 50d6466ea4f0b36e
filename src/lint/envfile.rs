//! `.env` files and templates: `KEY=value` lines, optional `export`, comments, single
//! and double quotes, and `${VAR}` interpolation against variables defined earlier (or
//! in other env files linted together), as docker compose reads them.

use super::interp::interpolate;
use super::{ConfigEnv, ConfigFile, ConfigKind, LintError, Origin, VarRef};
use crate::snapshot::redact::redact_env_value;
use std::collections::HashMap;

/// One parsed line.
struct Entry {
    line: usize,
    column: usize,
    name: String,
    value: String,
    /// Column where the value starts.
    value_col: usize,
    /// Single-quoted values are literal (no interpolation).
    literal: bool,
}

fn entries(file: &str, text: &str) -> Result<Vec<Entry>, LintError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        let indent = raw.len() - raw.trim_start().len();
        let mut s = raw.trim_start();
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        let mut col = indent + 1;
        if let Some(rest) = s.strip_prefix("export ") {
            let skipped = s.len() - rest.trim_start().len();
            col += skipped;
            s = rest.trim_start();
        }
        let Some(eq) = s.find('=') else {
            return Err(LintError::at(
                file,
                line,
                col,
                "expected KEY=value (an env file line needs `=`)",
            ));
        };
        let name = s[..eq].trim_end();
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            return Err(LintError::at(
                file,
                line,
                col,
                format!("invalid variable name {name:?}"),
            ));
        }
        let after = &s[eq + 1..];
        let lead = after.len() - after.trim_start().len();
        let v = after.trim_start();
        let value_col = col + eq + 1 + lead;
        let (value, literal) = if let Some(body) = v.strip_prefix('\'') {
            match body.find('\'') {
                Some(end) => (body[..end].to_string(), true),
                None => {
                    return Err(LintError::at(
                        file,
                        line,
                        value_col,
                        "unterminated single-quoted value",
                    ))
                }
            }
        } else if let Some(body) = v.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = body.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => val.push('\n'),
                        Some('t') => val.push('\t'),
                        Some(o) => val.push(o),
                        None => {}
                    },
                    o => val.push(o),
                }
            }
            if !closed {
                return Err(LintError::at(
                    file,
                    line,
                    value_col,
                    "unterminated double-quoted value",
                ));
            }
            (val, false)
        } else {
            // Unquoted: an inline comment starts at ` #`.
            let end = v.find(" #").unwrap_or(v.len());
            (v[..end].trim_end().to_string(), false)
        };
        out.push(Entry {
            line,
            column: col,
            name: name.to_string(),
            value,
            value_col,
            literal,
        });
    }
    Ok(out)
}

/// Raw (unredacted) variables of the given env files, interpolated in order. Used only
/// to resolve compose interpolation; never stored or printed.
pub fn raw_variables<'a>(texts: impl Iterator<Item = &'a str>) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = HashMap::new();
    for text in texts {
        let Ok(list) = entries("", text) else {
            continue;
        };
        for e in list {
            let v = if e.literal {
                e.value
            } else {
                interpolate(&e.value, &|n| vars.get(n).cloned()).0
            };
            vars.insert(e.name, v);
        }
    }
    vars
}

/// Parses one env file. Values are interpolated against the variables defined above
/// them in the same file, then redacted.
pub fn parse(file: &str, text: &str) -> Result<ConfigFile, LintError> {
    let mut cf = ConfigFile {
        path: file.to_string(),
        kind: ConfigKind::Env,
        env: Vec::new(),
        ports: Vec::new(),
        services: Vec::new(),
        refs: Vec::new(),
        defines: Vec::new(),
    };
    let mut vars: HashMap<String, String> = HashMap::new();
    for e in entries(file, text)? {
        let (value, refs) = if e.literal {
            (e.value.clone(), Vec::new())
        } else {
            interpolate(&e.value, &|n| vars.get(n).cloned())
        };
        for r in refs
            .iter()
            .filter(|r| !r.has_default && !vars.contains_key(&r.name))
        {
            cf.refs.push(VarRef {
                name: r.name.clone(),
                scope: None,
                origin: Origin {
                    file: file.to_string(),
                    line: e.line,
                    column: e.value_col + e.value.get(..r.offset).map_or(0, |t| t.chars().count()),
                    path: e.name.clone(),
                },
            });
        }
        cf.defines.push(e.name.clone());
        cf.env.push(ConfigEnv {
            scope: None,
            name: e.name.clone(),
            value: redact_env_value(&e.name, &value),
            from_variable: false,
            origin: Origin {
                file: file.to_string(),
                line: e.line,
                column: e.column,
                path: e.name.clone(),
            },
        });
        vars.insert(e.name, value);
    }
    Ok(cf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_comments_and_interpolation() {
        let text = "# c\nexport A=1\nB = \"x ${A} y\" \nC='${A}' # c\nD=plain # trailing\nJWT_SECRET=abc\nE=${MISSING}\n";
        let f = parse(".env", text).unwrap();
        let got: Vec<_> = f
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(got[0], ("A", "1"));
        assert_eq!(got[1], ("B", "x 1 y"));
        assert_eq!(got[2], ("C", "${A}"));
        assert_eq!(got[3], ("D", "plain"));
        assert!(got[4].1.starts_with("<redacted:"));
        assert_eq!(f.env[0].origin.column, 8);
        assert_eq!(f.refs.len(), 1, "{:?}", f.refs);
        assert_eq!(f.refs[0].name, "MISSING");
        assert_eq!((f.refs[0].origin.line, f.refs[0].origin.column), (7, 3));
    }

    #[test]
    fn bad_lines_have_positions() {
        let e = parse("x.env", "A=1\n  oops\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse("x.env", "A=\"open\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
    }
}
