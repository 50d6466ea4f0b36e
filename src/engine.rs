//! The engine: `analyze(&Snapshot, &RuleSet) -> Report`, pure and deterministic.
//!
//! For each rule, every signal is matched against the records of its sources; hits are
//! grouped by their named captures, required signals are joined on shared capture names
//! (the IP in a log line must equal the IP in an env value), conditions test captures
//! against fact sets, and optional signals add corroboration. Findings are then scored
//! (severity × confidence × recency), symptoms are folded under the causes that
//! `explains` them, and the revision timeline and churn are read off the evidence.

use crate::facts::{Index, Loc, ObsClass};
use crate::report::*;
use crate::rules::{ConditionTest, Rule, RuleSet, Severity, Source};
use crate::snapshot::{split_td, Sealed, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How a report came about, for its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Snapshot,
    Scan,
    Live,
    Lint,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Snapshot => "snapshot",
            Mode::Scan => "scan",
            Mode::Live => "live",
            Mode::Lint => "lint",
        }
    }
}

/// Evidence items shown per finding.
const MAX_EVIDENCE: usize = 6;
/// Records kept per capture group.
const MAX_RECORDS_PER_GROUP: usize = 8;
/// Bindings kept per rule, to bound joins.
const MAX_BINDINGS: usize = 256;
/// A family with at least this many revisions registered inside the window is churning.
const CHURN_REVISIONS: usize = 5;
const CHURN_WINDOW_HOURS: i64 = 72;
/// Score factor for findings only seen in revisions that were since replaced.
const SUPERSEDED_FACTOR: f64 = 0.3;

/// Analyses a snapshot with a rule set.
pub fn analyze(snap: &Sealed, rules: &RuleSet) -> Report {
    analyze_as(snap, rules, Mode::Snapshot)
}

/// As [`analyze`], recording how the snapshot came about.
pub fn analyze_as(snap: &Sealed, rules: &RuleSet, mode: Mode) -> Report {
    analyze_index(snap, Index::build(snap), rules, mode)
}

/// Analyses the files `lint` read: task definitions in `snap`, the rest in `inputs`.
pub fn analyze_lint(snap: &Sealed, inputs: &crate::lint::LintInputs, rules: &RuleSet) -> Report {
    let mut report = analyze_index(
        snap,
        Index::build_with(snap, Some(inputs)),
        rules,
        Mode::Lint,
    );
    report.target.files = inputs.files.clone();
    report.notes.extend(inputs.notes.iter().cloned());
    // Revision history means nothing for files.
    report.timeline.clear();
    report.churn.clear();
    report
}

fn analyze_index(snap: &Snapshot, ix: Index, rules: &RuleSet, mode: Mode) -> Report {
    let mut raws: Vec<RawFinding> = rules
        .rules
        .iter()
        .filter_map(|r| evaluate(r, &ix))
        .collect();
    for f in &mut raws {
        score(f, &ix);
    }
    let (top, folded_into) = fold(&raws, rules);
    let findings = build_findings(snap, &ix, &raws, &top, &folded_into);
    let timeline = timeline(snap, &ix, &raws);
    let churn = churn(snap, &ix, &raws);
    let incomplete: Vec<MissingCheck> = snap
        .collect_errors
        .iter()
        .map(|e| MissingCheck {
            action: e.action.clone(),
            code: e.code.clone(),
            check: e
                .check
                .clone()
                .unwrap_or_else(|| format!("checks that need {}", e.action)),
            message: e.message.clone(),
        })
        .collect();
    let status = if incomplete.is_empty() {
        Status::Complete
    } else {
        Status::Incomplete
    };
    let summary = summarize(&findings);
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: Tool {
            name: "sickbay".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        status,
        target: target_summary(snap, mode),
        summary,
        findings,
        timeline,
        churn,
        db_probes: snap.db_probes.clone(),
        incomplete,
        notes: notes(snap, mode),
    }
}

// ------------------------------------------------------------------ evaluation

type Caps = BTreeMap<String, String>;

#[derive(Debug, Clone)]
struct Group {
    caps: Caps,
    records: Vec<usize>,
    count: u64,
}

#[derive(Debug, Clone)]
struct Binding {
    caps: Caps,
    /// (signal index, group index)
    groups: Vec<(usize, usize)>,
}

#[derive(Debug)]
struct RawFinding<'r> {
    rule: &'r Rule,
    bindings: Vec<Binding>,
    /// Record indexes used as evidence, in order of importance.
    records: Vec<usize>,
    /// The subset that came from required signals: what recency and the timeline use.
    required_records: Vec<usize>,
    occurrences: u64,
    sources: BTreeSet<Source>,
    confidence: f64,
    superseded: bool,
    superseded_note: Option<String>,
    score: f64,
}

fn match_signal(sig: &crate::rules::Signal, ix: &Index) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut pos: HashMap<Caps, usize> = HashMap::new();
    let names = sig_names(sig);
    for &src in &sig.sources {
        for ri in ix.records_of(src, sig.field.as_deref()) {
            let rec = &ix.records[ri];
            // Cheap test first: most records match no pattern, and `is_match` stops at
            // the first hit without resolving capture groups.
            let Some(first) = sig.patterns.iter().position(|p| p.is_match(&rec.text)) else {
                continue;
            };
            if sig.unless.as_ref().is_some_and(|u| u.is_match(&rec.text)) {
                continue;
            }
            for c in sig.patterns[first..]
                .iter()
                .flat_map(|p| p.captures_iter(&rec.text))
                .take(4)
            {
                let caps: Caps = names
                    .iter()
                    .filter_map(|n| c.name(n).map(|m| (n.to_string(), m.as_str().to_string())))
                    .collect();
                let gi = *pos.entry(caps.clone()).or_insert_with(|| {
                    groups.push(Group {
                        caps,
                        records: Vec::new(),
                        count: 0,
                    });
                    groups.len() - 1
                });
                let g = &mut groups[gi];
                if !g.records.contains(&ri) {
                    g.count += rec.count;
                    if g.records.len() < MAX_RECORDS_PER_GROUP {
                        g.records.push(ri);
                    }
                }
            }
        }
    }
    groups
}

fn sig_names(sig: &crate::rules::Signal) -> Vec<&str> {
    let mut names: Vec<&str> = sig
        .patterns
        .iter()
        .flat_map(|p| p.capture_names().flatten())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn consistent(a: &Caps, b: &Caps) -> bool {
    b.iter()
        .all(|(k, v)| a.get(k).is_none_or(|w| w.eq_ignore_ascii_case(v)))
}

fn condition_holds(test: &ConditionTest, value: Option<&String>, ix: &Index) -> bool {
    let Some(v) = value else { return false };
    match test {
        ConditionTest::InSet(s) => ix
            .set(s)
            .is_some_and(|set| set.contains(v) || set.contains(&v.to_ascii_lowercase())),
        ConditionTest::NotIn(s) => !ix
            .set(s)
            .is_some_and(|set| set.contains(v) || set.contains(&v.to_ascii_lowercase())),
        ConditionTest::Matches(re) => re.is_match(v),
        ConditionTest::NotMatches(re) => !re.is_match(v),
    }
}

fn evaluate<'r>(rule: &'r Rule, ix: &Index) -> Option<RawFinding<'r>> {
    let groups: Vec<Vec<Group>> = rule.signals.iter().map(|s| match_signal(s, ix)).collect();
    let mut bindings = vec![Binding {
        caps: Caps::new(),
        groups: Vec::new(),
    }];
    for (si, _) in rule.signals.iter().enumerate().filter(|(_, s)| s.required) {
        let mut next = Vec::new();
        for b in &bindings {
            for (gi, g) in groups[si].iter().enumerate() {
                if consistent(&b.caps, &g.caps) {
                    let mut caps = b.caps.clone();
                    caps.extend(g.caps.clone());
                    let mut gs = b.groups.clone();
                    gs.push((si, gi));
                    next.push(Binding { caps, groups: gs });
                    if next.len() >= MAX_BINDINGS {
                        break;
                    }
                }
            }
        }
        bindings = next;
        if bindings.is_empty() {
            return None;
        }
    }
    bindings.retain(|b| {
        rule.conditions
            .iter()
            .all(|c| condition_holds(&c.test, b.caps.get(&c.capture), ix))
    });
    if bindings.is_empty() {
        return None;
    }
    // Corroborating signals: groups consistent with some binding.
    for (si, _) in rule.signals.iter().enumerate().filter(|(_, s)| !s.required) {
        for b in &mut bindings {
            for (gi, g) in groups[si].iter().enumerate() {
                if consistent(&b.caps, &g.caps) {
                    b.groups.push((si, gi));
                }
            }
        }
    }
    let mut records = Vec::new();
    let mut required_records = Vec::new();
    let mut seen = HashSet::new();
    let mut occurrences = 0;
    let mut counted = HashSet::new();
    let mut sources = BTreeSet::new();
    for b in &bindings {
        for &(si, gi) in &b.groups {
            let g = &groups[si][gi];
            if rule.signals[si].required && counted.insert((si, gi)) && si == first_required(rule) {
                occurrences += g.count;
            }
            for &ri in &g.records {
                sources.insert(ix.records[ri].source);
                if seen.insert(ri) {
                    records.push(ri);
                    if rule.signals[si].required {
                        required_records.push(ri);
                    }
                }
            }
        }
    }
    Some(RawFinding {
        rule,
        bindings,
        records,
        required_records,
        occurrences: occurrences.max(1),
        sources,
        confidence: 0.0,
        superseded: false,
        superseded_note: None,
        score: 0.0,
    })
}

fn first_required(rule: &Rule) -> usize {
    rule.signals.iter().position(|s| s.required).unwrap_or(0)
}

// ------------------------------------------------------------------ scoring

fn score(f: &mut RawFinding, ix: &Index) {
    let independent = f
        .sources
        .iter()
        .map(|s| s.obs_class())
        .collect::<BTreeSet<_>>()
        .len();
    let corroborated = f
        .bindings
        .iter()
        .any(|b| b.groups.iter().any(|&(si, _)| !f.rule.signals[si].required));
    let mut c = f.rule.confidence + 0.05 * (independent.saturating_sub(1)) as f64;
    if corroborated {
        c += 0.05;
    }
    f.confidence = (c.min(0.99) * 100.0).round() / 100.0;
    let (superseded, note) = supersession(f, ix);
    f.superseded = superseded;
    f.superseded_note = note;
    let recency = if superseded { SUPERSEDED_FACTOR } else { 1.0 };
    f.score = (f.rule.severity.weight() * f.confidence * recency * 100.0).round() / 100.0;
}

/// A finding is superseded when every piece of its evidence comes from a revision for
/// which a newer revision of the same family was observed in the same way (it logged,
/// or ran tasks, or was registered) without showing the finding.
fn supersession(f: &RawFinding, ix: &Index) -> (bool, Option<String>) {
    let mut seen_at: BTreeSet<(String, i64)> = BTreeSet::new();
    for &ri in &f.required_records {
        if let (Some(fam), Some(rev)) = (&ix.records[ri].loc.family, ix.records[ri].loc.revision) {
            seen_at.insert((fam.clone(), rev));
        }
    }
    let mut newest_clean: Option<(String, i64, i64)> = None;
    for &ri in &f.required_records {
        let rec = &ix.records[ri];
        let (Some(fam), Some(rev)) = (&rec.loc.family, rec.loc.revision) else {
            return (false, None);
        };
        let class = rec.source.obs_class();
        if class == ObsClass::Other {
            return (false, None);
        }
        let clean = ix
            .observed
            .iter()
            .filter(|(c, f2, r2)| {
                *c == class && f2 == fam && *r2 > rev && !seen_at.contains(&(fam.clone(), *r2))
            })
            .map(|(_, _, r2)| *r2)
            .max();
        match clean {
            None => return (false, None),
            Some(r2) => {
                let last_seen = seen_at
                    .iter()
                    .filter(|(f2, _)| f2 == fam)
                    .map(|(_, r)| *r)
                    .max()
                    .unwrap_or(rev);
                newest_clean = Some((fam.clone(), last_seen, r2));
            }
        }
    }
    let note = newest_clean.map(|(fam, last, clean)| {
        format!("last seen in {fam}:{last}; not seen in {fam}:{clean}, which ran later")
    });
    (true, note)
}

// ------------------------------------------------------------------ folding

/// Returns the top-level finding indexes in rank order, and for each folded finding
/// the index of the finding it sits under.
fn fold(raws: &[RawFinding], rules: &RuleSet) -> (Vec<usize>, HashMap<usize, usize>) {
    let _ = rules;
    let by_id: HashMap<&str, usize> = raws
        .iter()
        .enumerate()
        .map(|(i, f)| (f.rule.id.as_str(), i))
        .collect();
    let mut order: Vec<usize> = (0..raws.len()).collect();
    order.sort_by(|&a, &b| rank_cmp(&raws[a], &raws[b]));
    let mut parent: HashMap<usize, usize> = HashMap::new();
    for &a in &order {
        if parent.contains_key(&a) {
            continue;
        }
        for id in &raws[a].rule.explains {
            let Some(&b) = by_id.get(id.as_str()) else {
                continue;
            };
            if b == a || parent.contains_key(&b) {
                continue;
            }
            // A cause seen only in replaced revisions does not absorb current symptoms.
            if raws[a].superseded && !raws[b].superseded {
                continue;
            }
            // Never fold a finding that (transitively) explains its absorber.
            if explains_transitively(raws, &by_id, b, a) {
                continue;
            }
            parent.insert(b, a);
        }
    }
    // Resolve chains: a symptom folded under a folded finding goes to the top cause.
    let resolve = |mut i: usize| {
        let mut hops = 0;
        while let Some(&p) = parent.get(&i) {
            i = p;
            hops += 1;
            if hops > raws.len() {
                break;
            }
        }
        i
    };
    let folded: HashMap<usize, usize> = parent.keys().map(|&k| (k, resolve(k))).collect();
    let top: Vec<usize> = order
        .into_iter()
        .filter(|i| !folded.contains_key(i))
        .collect();
    (top, folded)
}

fn explains_transitively(
    raws: &[RawFinding],
    by_id: &HashMap<&str, usize>,
    from: usize,
    to: usize,
) -> bool {
    let mut stack = vec![from];
    let mut seen = HashSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        for id in &raws[i].rule.explains {
            if let Some(&j) = by_id.get(id.as_str()) {
                if j == to {
                    return true;
                }
                stack.push(j);
            }
        }
    }
    false
}

fn rank_cmp(a: &RawFinding, b: &RawFinding) -> std::cmp::Ordering {
    b.score
        .partial_cmp(&a.score)
        .unwrap_or(std::cmp::Ordering::Equal)
        .then(b.rule.severity.cmp(&a.rule.severity))
        .then(a.rule.id.cmp(&b.rule.id))
}

// ------------------------------------------------------------------ building findings

fn excerpt(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 240 {
        let cut: String = one.chars().take(237).collect();
        format!("{cut}...")
    } else {
        one
    }
}

fn evidence(ix: &Index, ri: usize) -> Evidence {
    let r = &ix.records[ri];
    Evidence {
        source: match r.field {
            Some(f) => format!("{}:{f}", r.source.as_str()),
            None => r.source.as_str().to_string(),
        },
        locator: r.loc.locator.clone(),
        time: r.loc.time,
        revision: match (&r.loc.family, r.loc.revision) {
            (Some(f), Some(v)) => Some(format!("{f}:{v}")),
            _ => None,
        },
        excerpt: excerpt(&r.text),
        count: r.count,
        file: r.loc.origin.as_ref().map(|o| o.file.clone()),
        line: r.loc.origin.as_ref().map(|o| o.line),
        column: r.loc.origin.as_ref().map(|o| o.column),
        path: r.loc.origin.as_ref().map(|o| o.path.clone()),
    }
}

/// Orders evidence: required-signal records first, then newest revision and time first.
fn ordered_records(f: &RawFinding, ix: &Index) -> Vec<usize> {
    let mut recs = f.records.clone();
    let required: HashSet<usize> = f.required_records.iter().copied().collect();
    recs.sort_by(|&a, &b| {
        let ra = &ix.records[a].loc;
        let rb = &ix.records[b].loc;
        let rev = |l: &Loc| l.revision.unwrap_or(i64::MAX);
        required
            .contains(&b)
            .cmp(&required.contains(&a))
            .then(rev(rb).cmp(&rev(ra)))
            .then(rb.time.cmp(&ra.time))
            .then(a.cmp(&b))
    });
    recs
}

fn capture_values(f: &RawFinding) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in &f.bindings {
        for (k, v) in &b.caps {
            let vals = out.entry(k.clone()).or_default();
            if !vals.iter().any(|x| x.eq_ignore_ascii_case(v)) {
                vals.push(v.clone());
            }
        }
    }
    out
}

/// Fills `{name}` placeholders; unknown names become `<name>`.
pub fn fill_template(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                // Placeholders are lower-case (`{cluster}`, `{var}`); `${VAR}` and other
                // upper-case braces in fix text are shell syntax and stay as written.
                if end > 0
                    && after[..end]
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
            {
                let key = &after[..end];
                match vars.get(key) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('<');
                        out.push_str(key);
                        out.push('>');
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn template_vars(
    snap: &Snapshot,
    ix: &Index,
    f: &RawFinding,
    ordered: &[usize],
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    if let Some(c) = &snap.target.cluster {
        vars.insert("cluster".into(), c.clone());
    }
    if let Some(r) = &snap.target.region {
        vars.insert("region".into(), r.clone());
    }
    for &ri in ordered {
        let l = &ix.records[ri].loc;
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                vars.entry(k.to_string()).or_insert(v);
            }
        };
        put("service", l.service.clone());
        // Family and revision come from the same record, or `family:revision` would mix
        // two task definitions.
        if l.family.is_some() && !vars.contains_key("family") {
            vars.insert("family".into(), l.family.clone().unwrap_or_default());
            if let Some(r) = l.revision {
                vars.insert("revision".into(), r.to_string());
            }
        }
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                vars.entry(k.to_string()).or_insert(v);
            }
        };
        put("container", l.container.clone());
        put("task_id", l.task_id.clone());
        put("log_group", l.log_group.clone());
        if let Some(fam) = &l.family {
            put("service", ix.family_service.get(fam).cloned());
        }
    }
    match (vars.get("family").cloned(), vars.get("revision").cloned()) {
        (Some(fam), Some(rev)) => {
            vars.insert("task_definition".into(), format!("{fam}:{rev}"));
        }
        (Some(fam), None) => {
            vars.insert("task_definition".into(), fam);
        }
        _ => {}
    }
    if let Some(o) = ordered
        .iter()
        .find_map(|&ri| ix.records[ri].loc.origin.as_ref())
    {
        vars.insert("file".into(), o.file.clone());
        vars.insert("location".into(), format!("{}:{}", o.file, o.line));
    }
    if !vars.contains_key("service") && snap.services.len() == 1 {
        vars.insert("service".into(), snap.services[0].name.clone());
    }
    for (k, vals) in capture_values(f) {
        let shown: Vec<&str> = vals.iter().take(3).map(String::as_str).collect();
        let mut v = shown.join(", ");
        if vals.len() > 3 {
            v.push_str(&format!(" (+{} more)", vals.len() - 3));
        }
        vars.insert(k, v);
    }
    vars
}

fn build_findings(
    snap: &Snapshot,
    ix: &Index,
    raws: &[RawFinding],
    top: &[usize],
    folded_into: &HashMap<usize, usize>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (rank, &i) in top.iter().enumerate() {
        let f = &raws[i];
        let ordered = ordered_records(f, ix);
        let vars = template_vars(snap, ix, f, &ordered);
        let mut services = BTreeSet::new();
        let mut revisions = BTreeSet::new();
        for &ri in &ordered {
            let l = &ix.records[ri].loc;
            if let Some(s) = &l.service {
                services.insert(s.clone());
            }
            if let (Some(fa), Some(r)) = (&l.family, l.revision) {
                revisions.insert((fa.clone(), r));
            }
        }
        let mut children: Vec<usize> = folded_into
            .iter()
            .filter(|(_, &p)| p == i)
            .map(|(&c, _)| c)
            .collect();
        children.sort_by(|&a, &b| rank_cmp(&raws[a], &raws[b]));
        let explains = children
            .iter()
            .map(|&c| {
                let cf = &raws[c];
                Folded {
                    rule: cf.rule.id.clone(),
                    name: cf.rule.name.clone(),
                    title: cf.rule.title.clone(),
                    severity: cf.rule.severity,
                    occurrences: cf.occurrences,
                    evidence: ordered_records(cf, ix)
                        .into_iter()
                        .take(2)
                        .map(|ri| evidence(ix, ri))
                        .collect(),
                }
            })
            .collect();
        out.push(Finding {
            rank: rank + 1,
            rule: f.rule.id.clone(),
            name: f.rule.name.clone(),
            title: f.rule.title.clone(),
            severity: f.rule.severity,
            confidence: f.confidence,
            score: f.score,
            recency: if f.superseded {
                Recency::Superseded
            } else {
                Recency::Current
            },
            superseded_note: f.superseded_note.clone(),
            message: fill_template(&f.rule.message, &vars),
            services: services.into_iter().collect(),
            revisions: revisions
                .into_iter()
                .map(|(f, r)| format!("{f}:{r}"))
                .collect(),
            sources: f.sources.iter().map(|s| s.as_str().to_string()).collect(),
            occurrences: f.occurrences,
            evidence: ordered
                .iter()
                .take(MAX_EVIDENCE)
                .map(|&ri| evidence(ix, ri))
                .collect(),
            more_evidence: ordered.len().saturating_sub(MAX_EVIDENCE),
            fix: f
                .rule
                .docs
                .fix
                .iter()
                .map(|s| fill_template(s, &vars))
                .collect(),
            verify: fill_template(&f.rule.docs.verify, &vars),
            references: f.rule.docs.references.clone(),
            explains,
        });
    }
    out
}

// ------------------------------------------------------------------ timeline & churn

/// Revisions a finding was observed at: from its required evidence, counting
/// configuration-only evidence just for high and critical findings, so advisory
/// config rules do not crowd the timeline.
fn revisions_of(f: &RawFinding, ix: &Index) -> BTreeSet<(String, i64)> {
    f.required_records
        .iter()
        .filter(|&&ri| {
            ix.records[ri].source.obs_class() != ObsClass::Config
                || f.rule.severity >= Severity::High
        })
        .filter_map(|&ri| {
            let l = &ix.records[ri].loc;
            Some((l.family.clone()?, l.revision?))
        })
        .collect()
}

fn timeline(snap: &Snapshot, ix: &Index, raws: &[RawFinding]) -> Vec<FamilyTimeline> {
    let mut revs: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for td in &snap.task_definitions {
        revs.entry(td.family.clone())
            .or_default()
            .insert(td.revision);
    }
    for t in &snap.tasks {
        if let Some((f, r)) = split_td(&t.task_definition) {
            revs.entry(f).or_default().insert(r);
        }
    }
    let mut at: BTreeMap<(String, i64), BTreeSet<String>> = BTreeMap::new();
    for f in raws {
        for key in revisions_of(f, ix) {
            at.entry(key).or_default().insert(f.rule.id.clone());
        }
    }
    let mut out = Vec::new();
    for (family, set) in revs {
        let has_findings = set.iter().any(|r| at.contains_key(&(family.clone(), *r)));
        if set.len() < 2 && !has_findings {
            continue;
        }
        let mut rows = Vec::new();
        let mut prev: Option<BTreeSet<String>> = None;
        for rev in set {
            let td = snap
                .task_definitions
                .iter()
                .find(|t| t.family == family && t.revision == rev);
            let tasks: Vec<_> = snap
                .tasks
                .iter()
                .filter(|t| split_td(&t.task_definition) == Some((family.clone(), rev)))
                .collect();
            let stopped = tasks.iter().filter(|t| t.last_status == "STOPPED").count();
            let has_logs = ix.observed.contains(&(ObsClass::Logs, family.clone(), rev));
            let findings = at.get(&(family.clone(), rev)).cloned().unwrap_or_default();
            let ran = has_logs || !tasks.is_empty();
            let cleared = match (&prev, ran) {
                (Some(p), true) if has_logs => p.difference(&findings).cloned().collect(),
                _ => Vec::new(),
            };
            rows.push(RevisionRow {
                revision: rev,
                registered_at: td.and_then(|t| t.registered_at),
                image: td.and_then(|t| {
                    t.containers
                        .iter()
                        .find(|c| c.essential)
                        .or(t.containers.first())
                        .map(|c| c.image.clone())
                }),
                running_tasks: tasks.len() - stopped,
                stopped_tasks: stopped,
                has_logs,
                findings: findings.iter().cloned().collect(),
                cleared,
            });
            if ran || !findings.is_empty() {
                prev = Some(findings);
            }
        }
        out.push(FamilyTimeline {
            family,
            revisions: rows,
        });
    }
    out
}

fn churn(snap: &Snapshot, ix: &Index, raws: &[RawFinding]) -> Vec<Churn> {
    let mut out = Vec::new();
    let mut fams: BTreeMap<&str, Vec<(i64, chrono::DateTime<chrono::Utc>)>> = BTreeMap::new();
    for td in &snap.task_definitions {
        if let Some(t) = td.registered_at {
            fams.entry(&td.family).or_default().push((td.revision, t));
        }
    }
    for (family, mut list) in fams {
        list.sort();
        // Largest number of registrations inside any window.
        let mut best = (0usize, 0usize);
        for i in 0..list.len() {
            let mut j = i;
            while j + 1 < list.len()
                && (list[j + 1].1 - list[i].1).num_hours() <= CHURN_WINDOW_HOURS
            {
                j += 1;
            }
            if j + 1 - i > best.1 - best.0 {
                best = (i, j + 1);
            }
        }
        let n = best.1 - best.0;
        if n < CHURN_REVISIONS {
            continue;
        }
        let window = &list[best.0..best.1];
        let latest = list.last().map(|x| x.0).unwrap_or_default();
        let deployments = snap
            .services
            .iter()
            .flat_map(|s| s.deployments.iter())
            .filter(|d| split_td(&d.task_definition).is_some_and(|(f, _)| f == family))
            .count();
        let persisting: Vec<String> = raws
            .iter()
            .filter(|f| {
                let revs = revisions_of(f, ix);
                let here: Vec<i64> = revs
                    .iter()
                    .filter(|(fa, _)| fa == family)
                    .map(|(_, r)| *r)
                    .collect();
                here.contains(&latest) && here.iter().any(|&r| r < latest)
            })
            .map(|f| f.rule.id.clone())
            .collect();
        let hours = (window.last().unwrap().1 - window[0].1).num_hours().max(1);
        let message = if persisting.is_empty() {
            format!("{family}: {n} revisions registered in {hours} h")
        } else {
            format!(
                "{family}: {n} revisions registered in {hours} h and {} still present in {family}:{latest}; new revisions are not fixing the cause",
                persisting.join(", ")
            )
        };
        out.push(Churn {
            family: family.to_string(),
            revisions: n,
            deployments,
            window_hours: hours,
            first: Some(window[0].1),
            last: Some(window.last().unwrap().1),
            persisting,
            message,
        });
    }
    out
}

// ------------------------------------------------------------------ header

fn target_summary(snap: &Snapshot, mode: Mode) -> TargetSummary {
    let services = snap
        .services
        .iter()
        .map(|s| {
            let rollout = s
                .deployments
                .iter()
                .find(|d| d.status == "PRIMARY")
                .and_then(|d| d.rollout_state.clone());
            let health = if s.desired_count > 0 && s.running_count == 0 {
                "down"
            } else if s.running_count < s.desired_count || rollout.as_deref() == Some("FAILED") {
                "degraded"
            } else {
                "healthy"
            };
            ServiceSummary {
                name: s.name.clone(),
                status: s.status.clone().unwrap_or_else(|| "UNKNOWN".into()),
                desired: s.desired_count,
                running: s.running_count,
                pending: s.pending_count,
                task_definition: s.task_definition.clone(),
                rollout_state: rollout,
                health: health.into(),
            }
        })
        .collect();
    TargetSummary {
        mode: mode.as_str().into(),
        cluster: snap.target.cluster.clone(),
        region: snap.target.region.clone(),
        captured_at: snap.captured_at,
        note: snap.target.note.clone(),
        services,
        families: snap.target.families.clone(),
        files: Vec::new(),
    }
}

fn summarize(findings: &[Finding]) -> Summary {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    Summary {
        findings: findings.len(),
        critical: count(Severity::Critical),
        high: count(Severity::High),
        medium: count(Severity::Medium),
        low: count(Severity::Low),
        info: count(Severity::Info),
        top: findings.first().map(|f| f.rule.clone()),
        max_severity: findings.iter().map(|f| f.severity).max(),
    }
}

fn notes(snap: &Snapshot, mode: Mode) -> Vec<String> {
    let mut notes = Vec::new();
    if mode != Mode::Scan
        && !snap.services.is_empty()
        && !snap.tasks.iter().any(|t| t.last_status == "STOPPED")
    {
        notes.push(
            "No stopped tasks were found. ECS keeps stopped tasks for about an hour, so earlier failures may not be visible."
                .into(),
        );
    }
    for s in snap
        .log_streams
        .iter()
        .filter(|s| s.exists && s.note.is_some())
    {
        notes.push(format!(
            "{} {}: {}",
            s.group,
            s.stream,
            s.note.as_deref().unwrap_or("")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_fills_known_and_marks_unknown() {
        let mut v = BTreeMap::new();
        v.insert("cluster".to_string(), "prod".to_string());
        assert_eq!(
            fill_template(
                "aws ecs describe-services --cluster {cluster} --services {service}",
                &v
            ),
            "aws ecs describe-services --cluster prod --services <service>"
        );
        assert_eq!(
            fill_template("- ${SUPAVISOR_PORT}:6543 on {cluster}", &v),
            "- ${SUPAVISOR_PORT}:6543 on prod"
        );
        assert_eq!(
            fill_template("json {\"a\": 1} {x y}", &v),
            "json {\"a\": 1} {x y}"
        );
    }
}
