//! Unit tests of the scan prefilter, literals, streaming and parallel search.

use super::*;
use std::collections::BTreeSet;

fn lits_of(p: &str) -> Option<BTreeSet<String>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(p).unwrap();
    literals::required(&hir).map(|(s, _)| {
        s.into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect()
    })
}

fn set(xs: &[&str]) -> Option<BTreeSet<String>> {
    Some(xs.iter().map(|x| x.to_string()).collect())
}

#[test]
fn literal_extraction() {
    assert_eq!(lits_of("widget exploded"), set(&["widget exploded"]));
    assert_eq!(lits_of("(?i)ECONNREFUSED"), set(&["econnrefused"]));
    assert_eq!(
        lits_of(r"(?i)timed? ?out"),
        set(&["time out", "timed out", "timedout", "timeout"])
    );
    assert_eq!(
        lits_of("^137$"),
        set(&["\n137\n", "\n137\r", " 137\n", " 137\r"])
    );
    // The required factor of a concatenation; the digits beat a common word.
    assert_eq!(
        lits_of(r"\b10048\b[^\n]{0,60}(?:socket|address)"),
        set(&["10048"])
    );
    assert_eq!(
        lits_of(r"(?P<ip>\d+\.\d+)\D{0,9}(?:refused|reset)"),
        set(&["refused", "reset"])
    );
    // Case folding to non-ASCII letters is handled by a separate check.
    assert_eq!(lits_of("(?i)kiss"), set(&["kiss"]));
    // Nothing worth scanning for.
    assert_eq!(lits_of(r"\d+-\d+"), None);
    assert_eq!(lits_of(r"a|bc"), None);
    assert_eq!(lits_of(r"(?:foo)?bar*"), None);
}

const RULE: &str = r#"id = "TST001"
name = "test"
title = "test"
severity = "high"
message = "m"
[[signal]]
source = "log"
pattern = ['(?i)widget (?:exploded|melted)', '^137$', '(?m)^state=(?P<s>\w+)\s*$', '\d{3}-\d{4}-\w', '(?i)SIGKILL', 'Ünïcode ſtuff']
[docs]
why = "w"
fix = ["f"]
"#;

fn rules() -> RuleSet {
    RuleSet::from_rules(vec![crate::rules::parse_rule(RULE, "TST001.toml").unwrap()]).unwrap()
}

/// Reads in small, uneven pieces.
struct Dribble<'a>(&'a [u8], usize);

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn collect(input: &[u8], rules: &RuleSet, dribble: bool) -> Result<Collector> {
    let pre = Prefilter::new(rules);
    let mut col = Collector::default();
    if dribble {
        stream_log(
            Dribble(input, 0),
            "t",
            &pre,
            &mut col,
            &mut Default::default(),
        )?;
    } else {
        stream_log(input, "t", &pre, &mut col, &mut Default::default())?;
    }
    Ok(col)
}

/// Lines of every rule example and of the labelled corpus, and a few more.
fn base_lines(rules: &RuleSet) -> Vec<String> {
    let mut base: Vec<String> = rules
        .rules
        .iter()
        .flat_map(|r| r.examples.iter())
        .flat_map(|e| e.text.lines().map(String::from).collect::<Vec<_>>())
        .collect();
    let corpus = include_str!("../../tests/corpus/dev.jsonl");
    for l in corpus.lines() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
            if let Some(t) = v["text"].as_str() {
                base.extend(t.lines().map(String::from));
            }
        }
    }
    base.extend(
        [
            "the widget exploded",
            "THE WIDGET MELTED!",
            "137",
            "exit 137",
            "state=unhealthy",
            "state=ok now",
            "call 555-1234-x",
            "got sigkill",
            "Ünïcode ſtuff",
            "ÜNÏCODE STUFF",
            "nothing to see here",
        ]
        .map(String::from),
    );
    base
}

/// Ways a line can appear in a log.
const VARIANTS: [fn(&str) -> String; 7] = [
    |l| l.to_string(),
    |l| l.to_uppercase(),
    |l| l.to_lowercase(),
    |l| format!("2024-05-01T10:00:00.123Z ecs/api/0123456789abcdef {l}"),
    |l| format!("{l}\r"),
    |l| format!("at the start: {l} ... and more"),
    |l| l.replace('s', "\u{17F}").replace('k', "\u{212A}"),
];

/// The messages the engine would match, as the collector keeps them (redaction
/// comes later, when the snapshot is sealed).
fn expected(lines: &[String], rules: &RuleSet) -> BTreeSet<String> {
    let pre = Prefilter::new(rules);
    lines
        .iter()
        .map(|l| split_tail_prefix(l.trim_end_matches('\r')).2)
        .filter(|m| pre.pats.iter().any(|p| p.is_match(m)))
        .map(String::from)
        .collect()
}

fn got(col: &Collector) -> BTreeSet<String> {
    col.lines.iter().map(|l| l.message.clone()).collect()
}

#[test]
fn candidates_are_exactly_the_matching_lines() {
    for rules in [RuleSet::builtin().unwrap(), rules()] {
        let base = base_lines(&rules);
        let mut all = Vec::new();
        // One input per variant, so that no other line folds onto a missed one.
        for (i, v) in VARIANTS.iter().enumerate() {
            let lines: Vec<String> = base
                .iter()
                .map(|l| v(l))
                .filter(|l| !l.contains('\n'))
                .collect();
            let want = expected(&lines, &rules);
            assert!(!want.is_empty());
            let input = lines.join("\n");
            assert_eq!(
                got(&collect(input.as_bytes(), &rules, false).unwrap()),
                want,
                "variant {i}"
            );
            assert_eq!(
                got(&collect(input.as_bytes(), &rules, true).unwrap()),
                want,
                "variant {i}"
            );
            all.extend(lines);
        }
        // Large enough for several blocks, each split across threads.
        let want = expected(&all, &rules);
        let mut big = String::new();
        let filler = "{\"level\":30,\"msg\":\"request completed\",\"url\":\"/api/v1/items/1234\",\"ms\":12}\n";
        while big.len() < 5 * CHUNK {
            for l in &all {
                big.push_str(l);
                big.push('\n');
                for _ in 0..20 {
                    big.push_str(filler);
                }
            }
        }
        assert_eq!(got(&collect(big.as_bytes(), &rules, false).unwrap()), want);
    }
}

#[test]
fn line_numbers_and_counts_across_blocks() {
    let rules = rules();
    let filler = "INFO:     10.0.1.5:51234 - \"GET /health HTTP/1.1\" 200 OK\n";
    let mut input = String::new();
    let mut want = Vec::new();
    let mut line = 0u64;
    for i in 0..400_000u64 {
        line += 1;
        if i % 9_973 == 0 {
            input.push_str(&format!("widget exploded #{}\n", i % 3));
            if i < 3 * 9_973 {
                want.push((format!("widget exploded #{}", i % 3), line));
            }
        } else {
            input.push_str(filler);
        }
    }
    input.push_str("137"); // last line, no line break
    want.push(("137".into(), line + 1));
    assert!(input.len() > 3 * CHUNK);
    for dribble in [false, true] {
        let col = collect(input.as_bytes(), &rules, dribble).unwrap();
        let seen: Vec<(String, u64)> = col
            .lines
            .iter()
            .map(|l| (l.message.clone(), l.line.unwrap()))
            .collect();
        assert_eq!(seen, want);
        let total: u64 = col.lines.iter().map(|l| l.count).sum();
        assert_eq!(total, 400_000 / 9_973 + 1 + 1);
        assert_eq!(col.lines[0].stream.as_deref(), Some("t:1"));
    }
}

#[test]
fn tail_prefix_is_split() {
    let col = collect(
        b"2024-05-01T10:00:00.123Z ecs/api/abc123 the widget exploded\n",
        &rules(),
        false,
    )
    .unwrap();
    let l = &col.lines[0];
    assert_eq!(l.message, "the widget exploded");
    assert_eq!(l.task_id.as_deref(), Some("abc123"));
    assert_eq!(l.container.as_deref(), Some("api"));
    assert_eq!(l.stream.as_deref(), Some("t:1 ecs/api/abc123"));
}

/// Streams `input` (in one piece or dribbled) and returns the messages collected, with
/// their line numbers, and the notes about imperfect text.
fn read(input: &[u8], rules: &RuleSet, dribble: bool) -> (Vec<(u64, String)>, Vec<String>) {
    let pre = Prefilter::new(rules);
    let mut col = Collector::default();
    let mut q = input::Quality::default();
    if dribble {
        stream_log(Dribble(input, 0), "t", &pre, &mut col, &mut q).unwrap();
    } else {
        stream_log(input, "t", &pre, &mut col, &mut q).unwrap();
    }
    let lines = col
        .lines
        .iter()
        .map(|l| (l.line.unwrap_or(0), l.message.clone()))
        .collect();
    (lines, q.notes("t"))
}

#[test]
fn imperfect_text_is_read_and_noted() {
    let rules = rules();
    // A line longer than the limit is matched on its first part; the rest of it is
    // skipped and the lines after it are read with the right numbers.
    let mut input = "ok\n".repeat(1000).into_bytes();
    input.extend(b"widget exploded ");
    input.extend(vec![b'a'; 2 * MAX_LINE]);
    input.extend(b" widget exploded at the end\nthe widget exploded again\n");
    for dribble in [false, true] {
        if dribble && input.len() > 4 * MAX_LINE {
            continue;
        }
        let (lines, notes) = read(&input, &rules, dribble);
        assert_eq!(lines.len(), 2, "{:?}", notes);
        assert_eq!(lines[0].0, 1001);
        assert!(lines[0].1.starts_with("widget exploded aaa"));
        assert!(lines[0].1.len() <= MAX_LINE);
        assert_eq!(lines[1], (1002, "the widget exploded again".to_string()));
        assert_eq!(
            notes,
            ["t: 1 line longer than 1 MiB (first: line 1001), matched on their first 1 MiB"]
        );
    }
    // Past the first part, a signature is not seen (the documented cost).
    let mut input = vec![b'a'; MAX_LINE + 10];
    input.extend(b" widget exploded\n");
    assert!(read(&input, &rules, false).0.is_empty());
    // Exactly MAX_LINE is a whole line: no note.
    let mut input = vec![b'a'; MAX_LINE];
    input.extend(b"\nwidget exploded\n");
    let (lines, notes) = read(&input, &rules, false);
    assert_eq!((lines.len(), notes.len()), (1, 0));
    // Invalid UTF-8 in a later block is read as U+FFFD, and its first place is named.
    let mut input = "ok\n".repeat(1_000_000).into_bytes();
    input.extend(b"fine \xff widget exploded \xfe\n");
    let (lines, notes) = read(&input, &rules, false);
    assert_eq!(
        lines,
        [(
            1_000_001,
            "fine \u{FFFD} widget exploded \u{FFFD}".to_string()
        )]
    );
    assert_eq!(
        notes,
        ["t: 2 invalid UTF-8 sequences (first at 1000001:6), read as U+FFFD"]
    );
    // NUL bytes: binary, said once, read as spaces.
    let (lines, notes) = read(b"\x00\x00bin\nwidget\x00exploded\n", &rules, true);
    assert_eq!(lines, [(2, "widget exploded".to_string())]);
    assert_eq!(
        notes,
        ["t: looks binary: 3 NUL bytes (first at byte 0), read as spaces"]
    );
}

/// Prints each log pattern's literals and, with SCAN_LOG=FILE, how often they hit.
#[test]
#[ignore]
fn literal_report() {
    let rules = RuleSet::builtin().unwrap();
    let pre = Prefilter::new(&rules);
    for (i, p) in pre.pats.iter().enumerate() {
        eprintln!("{i:3} {:?}\n    {}", lits_of(p.as_str()), p.as_str());
    }
    eprintln!(
        "{} literals, {} residual patterns",
        pre.lit_pats.len(),
        pre.rest_pats.len()
    );
    if let Ok(f) = std::env::var("SCAN_LOG") {
        let text = std::fs::read_to_string(f).unwrap();
        let mut by_lit: HashMap<usize, usize> = HashMap::new();
        for line in text.lines() {
            if let Some(m) = pre
                .lits
                .as_ref()
                .and_then(|l| l.automaton(0).find(format!("\n{line}\n").as_bytes()))
            {
                *by_lit.entry(m.pattern().as_usize()).or_default() += 1;
            }
        }
        let mut v: Vec<_> = by_lit.into_iter().collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        for (id, n) in v.iter().take(20) {
            eprintln!(
                "{n:8} lines: literal {id} of patterns {:?}",
                pre.lit_pats[*id]
            );
        }
    }
}

/// A pattern anchored to the whole line (`^137$`, APP002 via `text`) is found in a bare
/// message too: doctor's log reads and the engine's gate test messages, not blocks.
#[test]
fn anchored_patterns_match_a_bare_message() {
    let rules = RuleSet::builtin().unwrap();
    let pre = Prefilter::new(&rules);
    assert!(pre.matches("137"));
    assert!(pre.candidates("137").is_some_and(|c| !c.is_empty()));
    assert!(!pre.matches("listening on :8080"));
}

/// Asked about many messages at once, the prefilter lists for each at least what it
/// lists for that message alone (and "every pattern" where it says so alone), across
/// line anchors, multi-line messages, literal-less patterns and exotic case folds.
#[test]
fn candidates_of_many_messages_cover_each_message_alone() {
    let rules = RuleSet::builtin().unwrap();
    let pre = rules.prefilter();
    let mut messages: Vec<String> = rules
        .rules
        .iter()
        .flat_map(|r| r.examples.iter().map(|e| e.text.clone()))
        .collect();
    messages.extend(
        [
            "137",
            "Killed",
            "exit code 137\nOOMKilled",
            "ordinary line",
            "",
            "\u{212A}illed by the \u{17F}ignal",
            "listening on :8080",
        ]
        .map(String::from),
    );
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let many = pre.candidates_many(&refs);
    assert_eq!(many.len(), refs.len());
    let mut listed = 0;
    for (m, got) in refs.iter().zip(&many) {
        match (pre.candidates(m), got) {
            (None, g) => assert!(g.is_none(), "{m:?}: alone says every pattern"),
            (Some(_), None) => panic!("{m:?}: many says every pattern, alone does not"),
            (Some(alone), Some(g)) => {
                listed += alone.len();
                for p in &alone {
                    assert!(g.contains(p), "{m:?}: pattern {p} missing");
                }
            }
        }
    }
    assert!(listed > 100, "the examples list patterns ({listed})");
}
