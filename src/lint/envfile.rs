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

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// Finds the `=` (or `: `) after the name: its byte index and length.
fn separator(s: &str) -> Option<(usize, usize)> {
    // `KEY=value`, `KEY: value` (both read by compose), or a bare `KEY`, which takes
    // its value from the environment.
    match (s.find('='), s.find(": ")) {
        (Some(e), Some(c)) if c < e && valid_name(s[..c].trim_end()) => Some((c, 2)),
        (Some(e), _) => Some((e, 1)),
        (None, Some(c)) if valid_name(s[..c].trim_end()) => Some((c, 2)),
        _ => None,
    }
}

/// A line without a separator: a bare `KEY` entry, or an error.
fn bare_entry(file: &str, line: usize, col: usize, s: &str) -> Result<Entry, LintError> {
    let bare = s.split(" #").next().unwrap_or(s).trim_end();
    if valid_name(bare) {
        return Ok(Entry {
            line,
            column: col,
            name: bare.to_string(),
            value: String::new(),
            value_col: col + bare.len(),
            literal: true,
        });
    }
    Err(LintError::at(
        file,
        line,
        col,
        "expected NAME=value (an env file line needs `=`)",
    ))
}

/// Reads a value quoted with `q` starting at `v`, consuming following lines (from `*n`)
/// until the closing quote.
fn quoted_value(
    file: &str,
    line: usize,
    value_col: usize,
    q: char,
    v: &str,
    lines: &[&str],
    n: &mut usize,
) -> Result<String, LintError> {
    // Quoted values may span lines (PEM keys, certificates).
    let mut body = v[1..].to_string();
    let mut val = String::new();
    let mut closed = false;
    loop {
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c == q {
                closed = true;
                break;
            }
            if c == '\\' && q == '"' {
                match chars.next() {
                    Some('n') => val.push('\n'),
                    Some('t') => val.push('\t'),
                    Some(o) => val.push(o),
                    None => {}
                }
            } else {
                val.push(c);
            }
        }
        if closed || *n >= lines.len() {
            break;
        }
        val.push('\n');
        body = lines[*n].to_string();
        *n += 1;
    }
    if !closed {
        let what = if q == '"' { "double" } else { "single" };
        return Err(LintError::at(
            file,
            line,
            value_col,
            format!("unterminated {what}-quoted value"),
        ));
    }
    Ok(val)
}

fn entries(file: &str, text: &str) -> Result<Vec<Entry>, LintError> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut n = 0;
    while n < lines.len() {
        let line = n + 1;
        let raw = lines[n];
        n += 1;
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
        let Some((eq, sep_len)) = separator(s) else {
            out.push(bare_entry(file, line, col, s)?);
            continue;
        };
        let name = s[..eq].trim_end();
        if !valid_name(name) {
            return Err(LintError::at(
                file,
                line,
                col,
                // Not the name itself: a line without `=` in the right place may be a secret.
                "invalid variable name (letters, digits, `_`, `.` and `-`, not starting with a digit)".to_string(),
            ));
        }
        let after = &s[eq + sep_len..];
        let lead = after.len() - after.trim_start().len();
        let v = after.trim_start();
        let value_col = col + eq + sep_len + lead;
        let quote = v.chars().next().filter(|c| *c == '"' || *c == '\'');
        let (value, literal) = if let Some(q) = quote {
            let val = quoted_value(file, line, value_col, q, v, &lines, &mut n)?;
            (val, q == '\'')
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
    fn compose_dotenv_forms() {
        let text =
            "KEY=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\nINHERITED\nCOLON: yes\nAFTER=1\n";
        let f = parse(".env", text).unwrap();
        let names: Vec<_> = f.env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["KEY", "INHERITED", "COLON", "AFTER"]);
        assert_eq!(f.env[2].value, "yes");
        assert_eq!(f.env[3].origin.line, 6);
    }

    #[test]
    fn bad_lines_have_positions() {
        let e = parse("x.env", "A=1\n  oops no\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse("x.env", "A=\"open\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
    }
}
