//! Evaluation of one rule: each signal's patterns over the records of its sources,
//! hits grouped by named captures, required signals joined on shared capture names,
//! conditions tested against fact sets, optional signals added as corroboration.

use super::*;

pub(super) type Caps = BTreeMap<String, String>;

#[derive(Debug, Clone)]
pub(super) struct Group {
    pub(super) caps: Caps,
    pub(super) records: Vec<usize>,
    pub(super) count: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Binding {
    pub(super) caps: Caps,
    /// (signal index, group index)
    pub(super) groups: Vec<(usize, usize)>,
}

#[derive(Debug)]
pub(super) struct RawFinding<'r> {
    pub(super) rule: &'r Rule,
    pub(super) bindings: Vec<Binding>,
    /// Record indexes used as evidence, in order of importance.
    pub(super) records: Vec<usize>,
    /// The subset that came from required signals: what recency and the timeline use.
    pub(super) required_records: Vec<usize>,
    pub(super) occurrences: u64,
    pub(super) sources: BTreeSet<Source>,
    pub(super) confidence: f64,
    pub(super) superseded: bool,
    pub(super) superseded_note: Option<String>,
    pub(super) score: f64,
}

/// The gate and this signal's pattern numbers in it, when the signal reads logs.
pub(super) type LogGate<'g> = Option<(&'g super::gate::Gate<'g>, (u32, u32))>;

pub(super) fn match_signal(sig: &crate::rules::Signal, ix: &Index, gate: LogGate) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut pos: HashMap<Caps, usize> = HashMap::new();
    let names = sig_names(sig);
    for &src in &sig.sources {
        for ri in ix.records_of(src, sig.field.as_deref()) {
            if let Some((g, range)) = gate.filter(|_| src == Source::Log) {
                if !g.admits(ri, range) {
                    continue;
                }
            }
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

pub(super) fn sig_names(sig: &crate::rules::Signal) -> Vec<&str> {
    let mut names: Vec<&str> = sig
        .patterns
        .iter()
        .flat_map(|p| p.capture_names())
        .collect();
    names.sort();
    names.dedup();
    names
}

pub(super) fn consistent(a: &Caps, b: &Caps) -> bool {
    b.iter()
        .all(|(k, v)| a.get(k).is_none_or(|w| w.eq_ignore_ascii_case(v)))
}

pub(super) fn condition_holds(test: &ConditionTest, value: Option<&String>, ix: &Index) -> bool {
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

/// Joins the required signals' groups into bindings whose shared captures agree. Past
/// `MAX_BINDINGS`, a binding is kept only when its values for the captures still to be
/// joined or tested by a condition are new, so the cap can drop evidence but never
/// change whether the rule fires. `None` when some required signal joins nothing.
pub(super) fn join(rule: &Rule, groups: &[Vec<Group>]) -> Option<Vec<Binding>> {
    let required: Vec<usize> = (0..rule.signals.len())
        .filter(|&si| rule.signals[si].required)
        .collect();
    let mut bindings = vec![Binding {
        caps: Caps::new(),
        groups: Vec::new(),
    }];
    for (k, &si) in required.iter().enumerate() {
        let later: BTreeSet<&str> = required[k + 1..]
            .iter()
            .flat_map(|&s| sig_names(&rule.signals[s]))
            .chain(rule.conditions.iter().map(|c| c.capture.as_str()))
            .collect();
        let mut next = Vec::new();
        let mut keys: HashSet<Vec<Option<String>>> = HashSet::new();
        for b in &bindings {
            for (gi, g) in groups[si].iter().enumerate() {
                if !consistent(&b.caps, &g.caps) {
                    continue;
                }
                let mut caps = b.caps.clone();
                caps.extend(g.caps.clone());
                let key: Vec<Option<String>> = later
                    .iter()
                    // Exact values: a condition may tell cases apart.
                    .map(|n| caps.get(*n).cloned())
                    .collect();
                if keys.insert(key) || next.len() < MAX_BINDINGS {
                    let mut gs = b.groups.clone();
                    gs.push((si, gi));
                    next.push(Binding { caps, groups: gs });
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        bindings = next;
    }
    Some(bindings)
}

/// The rule's findings: one, or with `per = "capture"` one per distinct value of that
/// capture (each role, each image), so messages and fixes name one thing each.
#[cfg(test)]
pub(super) fn evaluate<'r>(rule: &'r Rule, ix: &Index) -> Vec<RawFinding<'r>> {
    evaluate_gated(rule, usize::MAX, ix, None)
}

/// Evaluates rule number `index` of the rule set; `gate` skips log records none of a
/// signal's patterns can match.
pub(super) fn evaluate_gated<'r>(
    rule: &'r Rule,
    index: usize,
    ix: &Index,
    gate: Option<&super::gate::Gate<'_>>,
) -> Vec<RawFinding<'r>> {
    let groups: Vec<Vec<Group>> = rule
        .signals
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let g = gate.and_then(|g| Some((g, g.signal(index, si, s.patterns.len())?)));
            match_signal(s, ix, g)
        })
        .collect();
    let Some(mut bindings) = join(rule, &groups) else {
        return Vec::new();
    };
    bindings.retain(|b| {
        rule.conditions
            .iter()
            .all(|c| condition_holds(&c.test, b.caps.get(&c.capture), ix))
    });
    let Some(per) = &rule.per else {
        return finding_of(rule, bindings, &groups, ix)
            .into_iter()
            .collect();
    };
    let mut split: BTreeMap<String, Vec<Binding>> = BTreeMap::new();
    for b in bindings {
        let key = b.caps.get(per).cloned().unwrap_or_default();
        split.entry(key).or_default().push(b);
    }
    split
        .into_values()
        .filter_map(|bs| finding_of(rule, bs, &groups, ix))
        .collect()
}

fn finding_of<'r>(
    rule: &'r Rule,
    mut bindings: Vec<Binding>,
    groups: &[Vec<Group>],
    ix: &Index,
) -> Option<RawFinding<'r>> {
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

pub(super) fn first_required(rule: &Rule) -> usize {
    rule.signals.iter().position(|s| s.required).unwrap_or(0)
}
