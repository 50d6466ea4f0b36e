//! YAML with positions: yaml-rust2's event parser builds a [`Node`] tree in which every
//! node keeps its line and column, with anchors and aliases resolved (up to a limit, so
//! a "billion laughs" file is rejected) and `<<` merge keys applied on lookup. Apart
//! from the compose reading because it knows nothing about compose.

use crate::lint::LintError;
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML node with the 1-based line and column where it starts.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar {
        text: String,
        quoted: bool,
        line: usize,
        col: usize,
    },
    Seq {
        items: Vec<Node>,
        line: usize,
        col: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        line: usize,
        col: usize,
    },
}

impl Node {
    pub fn pos(&self) -> (usize, usize) {
        match self {
            Node::Scalar { line, col, .. }
            | Node::Seq { line, col, .. }
            | Node::Map { line, col, .. } => (*line, *col),
        }
    }

    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, quoted: false, .. } if text.is_empty() || text == "~" || text == "null")
    }

    /// Mapping entries with `<<` merges applied (explicit keys win).
    pub(super) fn entries(&self) -> Vec<(&Node, &Node)> {
        let Node::Map { entries, .. } = self else {
            return Vec::new();
        };
        let mut out: Vec<(&Node, &Node)> = Vec::new();
        let mut merged: Vec<(&Node, &Node)> = Vec::new();
        for (k, v) in entries {
            if k.as_str() == Some("<<") {
                match v {
                    Node::Map { .. } => merged.extend(v.entries()),
                    Node::Seq { items, .. } => {
                        for m in items {
                            merged.extend(m.entries());
                        }
                    }
                    _ => {}
                }
            } else {
                out.push((k, v));
            }
        }
        for (k, v) in merged {
            if !out.iter().any(|(ok, _)| ok.as_str() == k.as_str()) {
                out.push((k, v));
            }
        }
        out
    }

    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .into_iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }
}

enum Frame {
    Seq(Vec<Node>, usize, usize, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize, usize, usize),
}

/// Nodes aliases may expand to in one file; beyond it the file is rejected, like
/// compose's "excessive aliasing" (a "billion laughs" file would exhaust memory).
const MAX_ALIAS_NODES: usize = 100_000;

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    docs: Vec<Node>,
    expanded: usize,
    /// Where aliasing went over the limit.
    excessive: Option<(usize, usize)>,
}

fn size(n: &Node) -> usize {
    match n {
        Node::Scalar { .. } => 1,
        Node::Seq { items, .. } => 1 + items.iter().map(size).sum::<usize>(),
        Node::Map { entries, .. } => {
            1 + entries
                .iter()
                .map(|(k, v)| size(k) + size(v))
                .sum::<usize>()
        }
    }
}

impl Builder {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            let n = size(&node);
            self.anchors.insert(anchor, (node.clone(), n));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(items, ..)) => items.push(node),
            Some(Frame::Map(entries, key, ..)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let (line, col) = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push_node(
                    Node::Scalar {
                        text,
                        quoted,
                        line,
                        col,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(Vec::new(), anchor, line, col))
            }
            Event::MappingStart(anchor, _) => {
                self.stack
                    .push(Frame::Map(Vec::new(), None, anchor, line, col))
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, anchor, l, c)) = self.stack.pop() {
                    self.push_node(
                        Node::Seq {
                            items,
                            line: l,
                            col: c,
                        },
                        anchor,
                    );
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, anchor, l, c)) = self.stack.pop() {
                    self.push_node(
                        Node::Map {
                            entries,
                            line: l,
                            col: c,
                        },
                        anchor,
                    );
                }
            }
            Event::Alias(id) => {
                let empty = Node::Scalar {
                    text: String::new(),
                    quoted: false,
                    line,
                    col,
                };
                let node = match self.anchors.get(&id) {
                    Some((n, sz)) if self.excessive.is_none() => {
                        self.expanded += sz;
                        if self.expanded > MAX_ALIAS_NODES {
                            self.excessive = Some((line, col));
                            empty
                        } else {
                            n.clone()
                        }
                    }
                    _ => empty,
                };
                self.push_node(node, 0);
            }
            _ => {}
        }
    }
}

/// Parses YAML into its first document, with positions. Syntax errors carry
/// file:line:col.
pub fn parse_yaml(file: &str, text: &str) -> Result<Option<Node>, LintError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| {
        let m = e.marker();
        LintError::at(
            file,
            m.line().max(1),
            m.col() + 1,
            format!("invalid YAML: {}", e.info()),
        )
    })?;
    if let Some((line, col)) = b.excessive {
        return Err(LintError::at(
            file,
            line,
            col,
            format!("invalid YAML: excessive aliasing (aliases expand to more than {MAX_ALIAS_NODES} nodes)"),
        ));
    }
    Ok(b.docs.into_iter().next())
}
