//! The JSON path (`tasks[0].containers[1].exit_code`) at a byte offset of a JSON text,
//! read from the text alone: the keys and indices of the objects and arrays still open
//! there. A snapshot that fails to parse is named by the path at the error's position,
//! without parsing it a second time through a path-tracking deserializer (which
//! doubled the snapshot types' deserialization code in the binary).

enum Frame<'a> {
    /// An object and the key whose value is being read, once its key is seen.
    Object(Option<&'a str>),
    /// An array, the index of the element being read, and whether it has begun.
    Array(usize, bool),
}

/// The path of the value being read at `offset`; empty at the top level. Keys are
/// shown as written (escapes kept). Text past the end of a string is taken as its end.
pub(crate) fn path_at(text: &str, offset: usize) -> String {
    let b = text.as_bytes();
    let end = offset.min(b.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut want_key = false;
    let mut i = 0;
    while i < end {
        if let Some(Frame::Array(_, begun)) = stack.last_mut() {
            *begun |= !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b',' | b']');
        }
        match b[i] {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if want_key {
                    if let Some(Frame::Object(key)) = stack.last_mut() {
                        *key = text.get(start..i.min(b.len()));
                    }
                    want_key = false;
                }
            }
            b'{' => {
                stack.push(Frame::Object(None));
                want_key = true;
            }
            b'[' => stack.push(Frame::Array(0, false)),
            b'}' | b']' => {
                stack.pop();
                want_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n, begun)) => {
                    *n += 1;
                    *begun = false;
                }
                Some(Frame::Object(key)) => {
                    *key = None;
                    want_key = true;
                }
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    render(&stack)
}

fn render(stack: &[Frame]) -> String {
    let mut out = String::new();
    for frame in stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(n, true) => out.push_str(&format!("[{n}]")),
            Frame::Array(_, false) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::path_at;

    /// The path at the end of each prefix `upto` of one document.
    #[test]
    fn paths_follow_keys_and_indices() {
        let text = r#"{"tasks": [{"id": "a"}, {"containers": [{"name": "x"}, {"exit_code": "1"}]}], "b\"k": {}}"#;
        let at = |upto: &str| path_at(text, text.find(upto).unwrap() + upto.len());
        assert_eq!(path_at(text, 0), "");
        assert_eq!(at(r#"{"tasks""#), "tasks");
        assert_eq!(at(r#""id": "a""#), "tasks[0].id");
        assert_eq!(at(r#""id": "a"}"#), "tasks[0]");
        assert_eq!(at(r#"{"containers": ["#), "tasks[1].containers");
        assert_eq!(at(r#"{"containers": [{"#), "tasks[1].containers[0]");
        assert_eq!(
            at(r#""exit_code": "1""#),
            "tasks[1].containers[1].exit_code"
        );
        assert_eq!(at(r#"]}]"#), "tasks");
        assert_eq!(at(r#""b\"k": {"#), r#"b\"k"#);
        assert_eq!(path_at(text, text.len()), "");
        // A string cut off by the end of the text, and an offset past it.
        assert_eq!(path_at(r#"{"a": {"b"#, 99), "a.b");
    }
}
