//! Scoring: confidence from the signature plus independent corroboration, and recency
//! (a finding only seen in revisions that were since replaced is superseded).

use super::*;

pub(super) fn score(f: &mut RawFinding, ix: &Index) {
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
pub(super) fn supersession(f: &RawFinding, ix: &Index) -> (bool, Option<String>) {
    let mut seen_at: BTreeSet<(&str, i64)> = BTreeSet::new();
    for &ri in &f.required_records {
        if let (Some(fam), Some(rev)) = (&ix.records[ri].loc.family, ix.records[ri].loc.revision) {
            seen_at.insert((fam, rev));
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
                *c == class && **f2 == **fam && *r2 > rev && !seen_at.contains(&(&**fam, *r2))
            })
            .map(|(_, _, r2)| *r2)
            .max();
        match clean {
            None => return (false, None),
            Some(r2) => {
                let last_seen = seen_at
                    .iter()
                    .filter(|(f2, _)| *f2 == &**fam)
                    .map(|(_, r)| *r)
                    .max()
                    .unwrap_or(rev);
                newest_clean = Some((fam.to_string(), last_seen, r2));
            }
        }
    }
    let note = newest_clean.map(|(fam, last, clean)| {
        format!("last seen in {fam}:{last}; not seen in {fam}:{clean}, which ran later")
    });
    (true, note)
}
