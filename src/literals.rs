//! Literal extraction over `regex-syntax`'s HIR: the strings one of which occurs around
//! every match of a pattern. `scan`'s prefilter and the engine's gate use it for the rule
//! patterns, and the redactor for its secret shapes, so that a line holding none of a
//! pattern's literals is never run through the pattern.
//!
//! Literals are searched for in the input with the line break before and after each
//! line included, so line anchors become literal context: `^` is preceded by `\n` (or
//! by the space ending an `aws logs tail` prefix), `$` is followed by `\n` or `\r`.

/// The two non-ASCII characters that Unicode case folding equates with ASCII letters
/// (`ſ` ~ `s`, Kelvin `K` ~ `k`). Literals are scanned for in their ASCII spellings only,
/// so a line holding one of these is checked against every pattern instead.
pub const FOLD_EXOTIC: [char; 2] = ['\u{17F}', '\u{212A}'];

/// Runs `f` on `text` between line breaks, the form literals are searched in (line
/// anchors become the breaks around the text). The buffer is reused per thread: this
/// runs once per log record and once per redacted string.
pub fn framed<R>(text: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    use std::cell::RefCell;
    thread_local!(static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) });
    let fill = |v: &mut Vec<u8>| {
        v.clear();
        v.push(b'\n');
        v.extend_from_slice(text.as_bytes());
        v.push(b'\n');
    };
    BUF.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => {
            fill(&mut v);
            f(&v)
        }
        // Called from inside `f` (not done today): a buffer of its own.
        Err(_) => {
            let mut v = Vec::new();
            fill(&mut v);
            f(&v)
        }
    })
}

use regex_syntax::hir::{Capture, Class, Hir, HirKind, Look, Repetition};

/// Strings an exact set may hold before a run of literals is cut.
const EXACT_MAX: usize = 64;
/// Strings any set may hold.
const SET_MAX: usize = 256;
/// Strings a set of server terms may hold (see `Cx`).
const SERVER_MAX: usize = 4096;
/// Members a character class may have to be spelled out.
const CLASS_MAX: usize = 10;
/// Shortest literal worth scanning for: patterns whose best set has a shorter one
/// go to the residual regex.
const MIN_LEN: usize = 3;

type Set = Vec<Vec<u8>>;

/// What is known of the text around a piece of a pattern's match. Strings are
/// ASCII lower-cased: the automaton ignores ASCII case (a superset for
/// case-sensitive patterns).
enum Lits {
    /// The piece (with its anchors' context) is exactly one of these.
    Exact(Set),
    /// The piece contains one of these (none empty).
    Inner(Set),
    /// Nothing useful.
    Any,
}
use Lits::*;

struct Cx {
    /// Strings an exact set, and any set, may hold: [`EXACT_MAX`] and [`SET_MAX`] for
    /// the scanner's automaton; [`SERVER_MAX`] for server terms, where a longer run
    /// (`HTTP/1.1" 503` rather than `50`) is what keeps a conjunction selective, and
    /// a set is sent as one compact regex.
    exact_max: usize,
    set_max: usize,
    /// Whether a `FOLD_EXOTIC` spelling was left out.
    folded: bool,
}

fn norm(mut v: Set) -> Set {
    for s in &mut v {
        s.make_ascii_lowercase();
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// How rare a literal is likely to be in logs, in half-bits: a rough
/// independent-bytes estimate where letters (words are common) and spaces count
/// least, digits and punctuation more.
fn weight(s: &[u8]) -> u32 {
    s.iter()
        .map(|&b| match b {
            b' ' => 4,
            b'a'..=b'z' | b'A'..=b'Z' | b'\n' => 8,
            b'0'..=b'9' => 10,
            _ => 11,
        })
        .sum()
}

/// How rarely a set is expected to hit: -log2 of the summed chances of its members.
fn score(s: &Set) -> f64 {
    -s.iter()
        .map(|x| (-(weight(x) as f64) / 2.0).exp2())
        .sum::<f64>()
        .log2()
}

/// A set of literals, one of which occurs around every match of `hir` (in a line
/// searched with its line breaks), when there is a good one; and whether an exotic
/// spelling was left out of it.
pub fn required(hir: &Hir) -> Option<(Set, bool)> {
    required_min(hir, MIN_LEN)
}

/// [`required`] with literals of `min_len` bytes or more (the redactor's gate takes
/// `pw`, where the scanner's automaton would rather give a pattern to its residual).
pub fn required_min(hir: &Hir, min_len: usize) -> Option<(Set, bool)> {
    let mut cx = Cx {
        exact_max: EXACT_MAX,
        set_max: SET_MAX,
        folded: false,
    };
    let set = match analyze(hir, &mut cx) {
        Exact(s) | Inner(s) => s,
        Any => return None,
    };
    (!set.is_empty() && set.len() <= SET_MAX && set.iter().all(|s| s.len() >= min_len))
        .then_some((set, cx.folded))
}

fn analyze(hir: &Hir, cx: &mut Cx) -> Lits {
    match hir.kind() {
        HirKind::Empty => Exact(vec![Vec::new()]),
        HirKind::Look(Look::Start | Look::StartLF) => Exact(vec![b"\n".to_vec(), b" ".to_vec()]),
        // A CR inside the message starts a line for `(?mR)^`.
        HirKind::Look(Look::StartCRLF) => {
            Exact(vec![b"\n".to_vec(), b"\r".to_vec(), b" ".to_vec()])
        }
        HirKind::Look(Look::End | Look::EndLF | Look::EndCRLF) => {
            Exact(vec![b"\n".to_vec(), b"\r".to_vec()])
        }
        HirKind::Look(_) => Exact(vec![Vec::new()]),
        HirKind::Literal(l) => Exact(norm(vec![l.0.to_vec()])),
        HirKind::Class(c) => class(c, cx),
        HirKind::Capture(c) => analyze(&c.sub, cx),
        HirKind::Repetition(r) => repetition(r, cx),
        HirKind::Concat(hs) => concat(hs, cx),
        HirKind::Alternation(hs) => alternation(hs, cx),
    }
}

fn class(c: &Class, cx: &mut Cx) -> Lits {
    let mut chars: Vec<Vec<u8>> = Vec::new();
    match c {
        Class::Unicode(u) => {
            let n: u64 = u
                .ranges()
                .iter()
                .map(|r| r.end() as u64 - r.start() as u64 + 1)
                .sum();
            if n > 4 * CLASS_MAX as u64 {
                return Any;
            }
            let all: Vec<char> = u
                .ranges()
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .collect();
            for &ch in &all {
                let partner = match ch {
                    '\u{17F}' => 's',
                    '\u{212A}' => 'k',
                    _ => '\0',
                };
                if FOLD_EXOTIC.contains(&ch)
                    && all.iter().any(|c| c.to_ascii_lowercase() == partner)
                {
                    cx.folded = true;
                    continue;
                }
                chars.push(ch.to_string().into_bytes());
            }
        }
        Class::Bytes(b) => {
            let n: usize = b
                .ranges()
                .iter()
                .map(|r| r.end() as usize - r.start() as usize + 1)
                .sum();
            if n > 4 * CLASS_MAX {
                return Any;
            }
            chars.extend(
                b.ranges()
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .map(|b| vec![b]),
            );
        }
    }
    let chars = norm(chars);
    if chars.is_empty() || chars.len() > CLASS_MAX {
        Any
    } else {
        Exact(chars)
    }
}

fn repetition(r: &Repetition, cx: &mut Cx) -> Lits {
    let sub = analyze(&r.sub, cx);
    match (r.min, r.max, sub) {
        (0, Some(1), Exact(mut s)) if s.len() < cx.exact_max => {
            s.push(Vec::new());
            Exact(norm(s))
        }
        (0, _, _) => Any,
        (1, Some(1), x) => x,
        (_, _, Exact(s)) if s.iter().any(|x| x.is_empty()) => Any,
        (_, _, Exact(s)) | (_, _, Inner(s)) => Inner(s),
        (_, _, Any) => Any,
    }
}

fn product(a: &Set, b: &Set) -> Set {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    norm(out)
}

/// The set worth scanning for among required ones.
fn best(cands: Vec<Set>, set_max: usize) -> Option<Set> {
    cands
        .into_iter()
        .filter(|s| !s.is_empty() && s.len() <= set_max && s.iter().all(|x| !x.is_empty()))
        .max_by(|a, b| score(a).total_cmp(&score(b)))
}

fn concat(hs: &[Hir], cx: &mut Cx) -> Lits {
    match concat_parts(hs, cx) {
        (true, mut cands) => Exact(cands.pop().unwrap_or_default()),
        (false, cands) => best(cands, cx.set_max).map_or(Any, Inner),
    }
}

/// The sets a concatenation requires, one per run of exact pieces and one per inner
/// piece, and whether the whole is one exact run (then the only set is it).
fn concat_parts(hs: &[Hir], cx: &mut Cx) -> (bool, Vec<Set>) {
    let mut cur: Set = vec![Vec::new()];
    let mut cands: Vec<Set> = Vec::new();
    let mut exact = true;
    for h in hs {
        match analyze(h, cx) {
            Exact(s) => {
                if cur.len() * s.len() <= cx.exact_max {
                    cur = product(&cur, &s);
                } else {
                    cands.push(std::mem::replace(&mut cur, s));
                    exact = false;
                }
            }
            Inner(s) => {
                cands.push(std::mem::replace(&mut cur, vec![Vec::new()]));
                cands.push(s);
                exact = false;
            }
            Any => {
                cands.push(std::mem::replace(&mut cur, vec![Vec::new()]));
                exact = false;
            }
        }
    }
    cands.push(cur);
    (exact, cands)
}

/// Top-level alternatives a pattern is split into for [`branches`], at most.
const BRANCH_MAX: usize = 16;
/// Required sets kept per branch, the rarest first.
const FACTORS_MAX: usize = 3;

/// A pattern as alternatives, each with the sets of literals it requires (a member of
/// every set occurs around every match of the alternative), rarest first: a more
/// selective form of [`required`] for searches that can combine terms with AND and
/// OR. `None` when some alternative requires nothing usable.
pub fn branches(hir: &Hir) -> Option<Vec<Vec<Set>>> {
    let mut cx = Cx {
        exact_max: SERVER_MAX,
        set_max: SERVER_MAX,
        folded: false,
    };
    let mut alts = Vec::new();
    split(hir, &mut alts);
    if alts.len() > BRANCH_MAX {
        return required(hir).map(|(s, _)| vec![vec![s]]);
    }
    alts.into_iter().map(|h| factors(h, &mut cx)).collect()
}

fn split<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) {
    match hir.kind() {
        HirKind::Capture(c) => split(&c.sub, out),
        HirKind::Alternation(hs) => hs.iter().for_each(|h| split(h, out)),
        _ => out.push(hir),
    }
}

fn factors(hir: &Hir, cx: &mut Cx) -> Option<Vec<Set>> {
    let mut sets = match hir.kind() {
        HirKind::Concat(hs) => concat_parts(hs, cx).1,
        _ => match analyze(hir, cx) {
            Exact(s) | Inner(s) => vec![s],
            Any => Vec::new(),
        },
    };
    let max = cx.set_max;
    sets.retain(|s| !s.is_empty() && s.len() <= max && s.iter().all(|x| !x.is_empty()));
    sets.sort_by(|a, b| score(b).total_cmp(&score(a)));
    sets.dedup();
    sets.truncate(FACTORS_MAX);
    (!sets.is_empty()).then_some(sets)
}

fn alternation(hs: &[Hir], cx: &mut Cx) -> Lits {
    let mut out = Vec::new();
    let mut exact = true;
    for h in hs {
        match analyze(h, cx) {
            Exact(s) => out.extend(s),
            Inner(s) => {
                exact = false;
                out.extend(s);
            }
            Any => return Any,
        }
    }
    let out = norm(out);
    if exact && out.len() <= cx.exact_max {
        Exact(out)
    } else if out.iter().any(|s| s.is_empty()) || out.len() > cx.set_max {
        Any
    } else {
        Inner(out)
    }
}

/// `hir` without line and text anchors and without capture groups: matches at
/// least wherever `hir` does, anywhere in a line (the message of an `aws logs
/// tail` line does not start the line), and unions without capture-name clashes.
pub fn unanchored(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Look(
            Look::Start | Look::End | Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF,
        ) => Hir::empty(),
        HirKind::Empty | HirKind::Look(_) | HirKind::Literal(_) | HirKind::Class(_) => hir.clone(),
        HirKind::Capture(Capture { sub, .. }) => unanchored(sub),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max,
            greedy: r.greedy,
            sub: Box::new(unanchored(&r.sub)),
        }),
        HirKind::Concat(hs) => Hir::concat(hs.iter().map(unanchored).collect()),
        HirKind::Alternation(hs) => Hir::alternation(hs.iter().map(unanchored).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branches_of(p: &str) -> Option<Vec<Vec<Vec<String>>>> {
        let hir = regex_syntax::ParserBuilder::new().build().parse(p).unwrap();
        branches(&hir).map(|alts| {
            alts.iter()
                .map(|sets| {
                    sets.iter()
                        .map(|s| {
                            s.iter()
                                .map(|l| String::from_utf8_lossy(l).into_owned())
                                .collect()
                        })
                        .collect()
                })
                .collect()
        })
    }

    #[test]
    fn alternatives_keep_every_piece_they_require_rarest_first() {
        let b = branches_of(r#"(?i)(?:connection to [^ ]+ refused|" 50[34] .*ELB-HealthChecker/)"#)
            .unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[0],
            vec![
                vec!["connection to ".to_string()],
                vec![" refused".to_string()]
            ]
        );
        assert_eq!(
            b[1],
            vec![
                vec!["elb-healthchecker/".to_string()],
                vec!["\" 503 ".to_string(), "\" 504 ".to_string()]
            ]
        );
        // An alternative that requires nothing leaves the pattern uncovered.
        assert_eq!(branches_of(r"refused|[a-z]+ failed|x?"), None);
        // A single piece is one set, as `required` gives it.
        assert_eq!(
            branches_of(r"\bSIGSEGV\b"),
            Some(vec![vec![vec!["sigsegv".to_string()]]])
        );
    }
}
