//! Source positions for JSON documents. serde_json validates and reports syntax errors
//! with line and column, but its values carry no positions, so a second pass over the
//! (already valid) text records where every value starts, by path
//! (`containerDefinitions[0].environment[2].value`).

use std::collections::HashMap;

/// 1-based line and column of every value in a JSON document, by path.
#[derive(Debug, Default)]
pub struct Positions {
    map: HashMap<String, (usize, usize)>,
}

impl Positions {
    /// Indexes `text`, which must be valid JSON (check with serde_json first).
    pub fn index(text: &str) -> Positions {
        let mut w = Walker {
            s: text.as_bytes(),
            i: 0,
            line: 1,
            col: 1,
            out: HashMap::new(),
        };
        w.value(String::new());
        Positions { map: w.out }
    }

    /// Where the value at `path` starts.
    pub fn get(&self, path: &str) -> Option<(usize, usize)> {
        self.map.get(path).copied()
    }
}

/// Appends an object key to a path.
pub fn key(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

/// Appends an array index to a path.
pub fn idx(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

struct Walker<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
    col: usize,
    out: HashMap<String, (usize, usize)>,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            self.i += 1;
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else if b & 0xC0 != 0x80 {
                // Count characters, not UTF-8 continuation bytes.
                self.col += 1;
            }
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
        // A UTF-8 byte-order mark at the start counts as whitespace.
        if self.i == 0 && self.s.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.i = 3;
            self.ws();
        }
    }

    /// Moves to the next member or element of an object or array: skips whitespace and
    /// commas, and returns false (past the bracket) when the container closes.
    fn next_item(&mut self, close: u8) -> bool {
        loop {
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b) if b == close => {
                    self.bump();
                    return false;
                }
                None => return false,
                _ => return true,
            }
        }
    }

    fn value(&mut self, path: String) {
        self.ws();
        self.out.insert(path.clone(), (self.line, self.col));
        match self.peek() {
            Some(b'{') => {
                self.bump();
                while self.next_item(b'}') {
                    let k = self.string();
                    self.ws();
                    if self.peek() == Some(b':') {
                        self.bump();
                    }
                    self.value(key(&path, &k));
                }
            }
            Some(b'[') => {
                self.bump();
                let mut n = 0;
                while self.next_item(b']') {
                    self.value(idx(&path, n));
                    n += 1;
                }
            }
            Some(b'"') => {
                self.string();
            }
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.bump();
                }
            }
        }
    }

    /// Reads a string token and returns its decoded text (escapes resolved roughly:
    /// enough for keys, which is what paths use).
    fn string(&mut self) -> String {
        let mut raw = Vec::new();
        if self.peek() != Some(b'"') {
            return String::new();
        }
        self.bump();
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.bump();
                    break;
                }
                b'\\' => {
                    self.bump();
                    if let Some(e) = self.peek() {
                        raw.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            other => other,
                        });
                        self.bump();
                    }
                }
                _ => {
                    raw.push(b);
                    self.bump();
                }
            }
        }
        String::from_utf8_lossy(&raw).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_values() {
        let text = "{\n  \"a\": [\n    {\"name\": \"X\", \"value\": \"é1\"},\n    2\n  ],\n  \"b\": {\"c\": null}\n}";
        let p = Positions::index(text);
        assert_eq!(p.get(""), Some((1, 1)));
        assert_eq!(p.get("a"), Some((2, 8)));
        assert_eq!(p.get("a[0]"), Some((3, 5)));
        assert_eq!(p.get("a[0].value"), Some((3, 28)));
        assert_eq!(p.get("a[1]"), Some((4, 5)));
        assert_eq!(p.get("b.c"), Some((6, 14)));
        assert_eq!(p.get("zzz"), None);
    }
}
