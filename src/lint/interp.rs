//! Variable interpolation the way docker compose (and envsubst-style templates) do it:
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
//! `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, nested defaults, and `$$` for a literal
//! dollar sign.

/// A variable reference found while interpolating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub name: String,
    /// True when the reference supplies its own value if the variable is unset
    /// (`:-`, `-`, `:+`, `+`).
    pub has_default: bool,
    /// Byte offset of the `$` in the input.
    pub offset: usize,
}

/// Interpolates `s`; `lookup` gives a variable's value when it is defined.
/// Returns the result and every reference, in order.
pub fn interpolate(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> (String, Vec<Ref>) {
    let mut out = String::with_capacity(s.len());
    let mut refs = Vec::new();
    expand(s, 0, lookup, &mut out, &mut refs);
    (out, refs)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Finds the `}` closing a `${` whose body starts at `from`, allowing nested `${...}`.
fn closing_brace(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 2;
                continue;
            }
            b'}' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Applies the operator after a braced name to the variable's value: whether the
/// reference has a fallback, and the text (`Ok`) or the default/alternative to expand (`Err`).
fn apply_op(op: &str, value: Option<String>) -> (bool, Result<String, &str>) {
    if let Some(d) = op.strip_prefix(":-") {
        (
            true,
            value.filter(|v| !v.is_empty()).map(Ok).unwrap_or(Err(d)),
        )
    } else if let Some(d) = op.strip_prefix('-') {
        (true, value.map(Ok).unwrap_or(Err(d)))
    } else if let Some(a) = op.strip_prefix(":+") {
        (
            true,
            if value.as_deref().is_some_and(|v| !v.is_empty()) {
                Err(a)
            } else {
                Ok(String::new())
            },
        )
    } else if let Some(a) = op.strip_prefix('+') {
        (
            true,
            if value.is_some() {
                Err(a)
            } else {
                Ok(String::new())
            },
        )
    } else {
        // `${VAR}`, `${VAR:?err}`, `${VAR?err}`: no fallback.
        (false, Ok(value.unwrap_or_default()))
    }
}

/// Expands the `${...}` whose `$` is at `i`; returns the index after its `}`, or `None`
/// (having written nothing) when it is unterminated.
fn expand_braced(
    s: &str,
    i: usize,
    base: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
    refs: &mut Vec<Ref>,
) -> Option<usize> {
    let body_start = i + 2;
    let end = closing_brace(s, body_start)?;
    let body = &s[body_start..end];
    let name_len = body
        .char_indices()
        .find(|&(_, c)| !is_name(c))
        .map_or(body.len(), |(j, _)| j);
    let name = &body[..name_len];
    let op = &body[name_len..];
    let value = lookup(name);
    let (has_default, text) = apply_op(op, value);
    if !name.is_empty() && name.starts_with(is_name_start) {
        refs.push(Ref {
            name: name.to_string(),
            has_default,
            offset: base + i,
        });
    }
    match text {
        Ok(v) => out.push_str(&v),
        // A default or alternative may itself contain references.
        Err(d) => {
            // `d` is a suffix of `op`, which starts right after the name.
            let at = body_start + name_len + (op.len() - d.len());
            expand(d, base + at, lookup, out, refs)
        }
    }
    Some(end + 1)
}

fn expand(
    s: &str,
    base: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
    refs: &mut Vec<Ref>,
) {
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().unwrap_or('\0');
        if c != '$' {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let rest = &s[i + 1..];
        if rest.starts_with('$') {
            out.push('$');
            i += 2;
            continue;
        }
        if rest.starts_with('{') {
            let Some(next) = expand_braced(s, i, base, lookup, out, refs) else {
                // Unterminated: keep as text.
                out.push_str(&s[i..]);
                return;
            };
            i = next;
            continue;
        }
        let name_len = rest
            .char_indices()
            .find(|&(_, c)| !is_name(c))
            .map_or(rest.len(), |(j, _)| j);
        if name_len > 0 && rest.starts_with(is_name_start) {
            let name = &rest[..name_len];
            refs.push(Ref {
                name: name.to_string(),
                has_default: false,
                offset: base + i,
            });
            out.push_str(&lookup(name).unwrap_or_default());
            i += 1 + name_len;
        } else {
            out.push('$');
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("8000".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn forms() {
        let (s, r) = interpolate("http://${HOST:-0.0.0.0}:${PORT}/x", &vars);
        assert_eq!(s, "http://0.0.0.0:8000/x");
        assert_eq!(r.len(), 2);
        assert!(r[0].has_default && !r[1].has_default);
        assert_eq!(r[1].offset, 24);
        let (s, r) = interpolate(
            "$$HOME $PORT ${EMPTY-x} ${EMPTY:-y} ${NOPE:?need it}",
            &vars,
        );
        assert_eq!(s, "$HOME 8000  y ");
        assert_eq!(r.iter().filter(|r| !r.has_default).count(), 2);
        let (s, r) = interpolate("${A:-${PORT}}", &vars);
        assert_eq!(s, "8000");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].offset, 5);
        let text = "${A:-é${B}}";
        let (_, r) = interpolate(text, &vars);
        assert_eq!(&text[r[1].offset..r[1].offset + 1], "$");
        let (s, _) = interpolate("cost $5 and ${broken", &vars);
        assert_eq!(s, "cost $5 and ${broken");
    }
}
