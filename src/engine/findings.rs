//! Building report findings from raw ones: evidence in order of importance, capture
//! values, and fix templates filled with the names the snapshot knows.

use super::*;

pub(super) fn excerpt(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 240 {
        let cut: String = one.chars().take(237).collect();
        format!("{cut}...")
    } else {
        one
    }
}

pub(super) fn evidence(ix: &Index, ri: usize) -> Evidence {
    let r = &ix.records[ri];
    Evidence {
        source: match r.field {
            Some(f) => format!("{}:{f}", r.source.as_str()),
            None => r.source.as_str().to_string(),
        },
        locator: r.loc.locator.to_string(),
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
pub(super) fn ordered_records(f: &RawFinding, ix: &Index) -> Vec<usize> {
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

pub(super) fn capture_values(f: &RawFinding) -> BTreeMap<String, Vec<String>> {
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

/// Fills `{name}` placeholders; unknown or empty names become `<name>`. `{name|spaced}`
/// turns a comma-separated value into shell words (`subnet-1,subnet-2` →
/// `subnet-1 subnet-2`), for CLI options that take lists.
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
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '|') =>
            {
                let (key, filter) = after[..end].split_once('|').unwrap_or((&after[..end], ""));
                match vars.get(key).filter(|v| !v.is_empty()) {
                    Some(v) if filter == "spaced" => out.push_str(
                        &v.split(',')
                            .map(str::trim)
                            .filter(|w| !w.is_empty())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
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

pub(super) fn template_vars(
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
        put("service", l.service.as_deref().map(String::from));
        // Family and revision come from the same record, or `family:revision` would mix
        // two task definitions.
        if l.family.is_some() && !vars.contains_key("family") {
            vars.insert(
                "family".into(),
                l.family.as_deref().unwrap_or_default().to_string(),
            );
            if let Some(r) = l.revision {
                vars.insert("revision".into(), r.to_string());
            }
        }
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                vars.entry(k.to_string()).or_insert(v);
            }
        };
        put("container", l.container.as_deref().map(String::from));
        put("task_id", l.task_id.as_deref().map(String::from));
        put("log_group", l.log_group.as_deref().map(String::from));
        if let Some(fam) = &l.family {
            put("service", ix.family_service.get(&**fam).cloned());
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

pub(super) fn build_findings(
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
        let (services, revisions) = services_and_revisions(ix, &ordered);
        let explains = folded_children(ix, raws, i, folded_into);
        let span = seen(f, ix);
        out.push(Finding {
            rank: rank + 1,
            rule: f.rule.id.clone(),
            name: f.rule.name.clone(),
            class: f.rule.class.clone(),
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
            likely_trigger: None,
            services: services.into_iter().collect(),
            revisions: revisions
                .into_iter()
                .map(|(f, r)| format!("{f}:{r}"))
                .collect(),
            sources: f.sources.iter().map(|s| s.as_str().to_string()).collect(),
            occurrences: f.occurrences,
            first_seen: span.map(|s| s.0),
            last_seen: span.map(|s| s.1),
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

/// The services and `(family, revision)` pairs named by a finding's evidence records.
fn services_and_revisions(
    ix: &Index,
    ordered: &[usize],
) -> (BTreeSet<String>, BTreeSet<(String, i64)>) {
    let mut services = BTreeSet::new();
    let mut revisions = BTreeSet::new();
    for &ri in ordered {
        let l = &ix.records[ri].loc;
        if let Some(s) = &l.service {
            services.insert(s.to_string());
        }
        if let (Some(fa), Some(r)) = (&l.family, l.revision) {
            revisions.insert((fa.to_string(), r));
        }
    }
    (services, revisions)
}

/// The findings folded into raw finding `i`, most likely first, each with two evidence items.
fn folded_children(
    ix: &Index,
    raws: &[RawFinding],
    i: usize,
    folded_into: &HashMap<usize, usize>,
) -> Vec<Folded> {
    let mut children: Vec<usize> = folded_into
        .iter()
        .filter(|(_, &p)| p == i)
        .map(|(&c, _)| c)
        .collect();
    children.sort_by(|&a, &b| rank_cmp(&raws[a], &raws[b]));
    children
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
        .collect()
}

/// Earliest and latest time of a finding's required evidence: when the failure was first
/// and last seen (a folded log record spans its first to its last line).
pub(super) fn seen(
    f: &RawFinding,
    ix: &Index,
) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let locs = f.required_records.iter().map(|&ri| &ix.records[ri].loc);
    let first = locs.clone().filter_map(|l| l.time).min()?;
    let last = locs.filter_map(|l| l.last_time.or(l.time)).max()?;
    Some((first, last.max(first)))
}
