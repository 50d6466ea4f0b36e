//! Folding: symptoms sit under the cause that `explains` them, and the top-level
//! findings are ranked.

use super::*;

/// Returns the top-level finding indexes in rank order, and for each folded finding
/// the index of the finding it sits under.
pub(super) fn fold(raws: &[RawFinding], rules: &RuleSet) -> (Vec<usize>, HashMap<usize, usize>) {
    let _ = rules;
    // A rule with `per` has several findings.
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in raws.iter().enumerate() {
        by_id.entry(f.rule.id.as_str()).or_default().push(i);
    }
    let mut order: Vec<usize> = (0..raws.len()).collect();
    order.sort_by(|&a, &b| rank_cmp(&raws[a], &raws[b]));
    let mut parent: HashMap<usize, usize> = HashMap::new();
    for &a in &order {
        if parent.contains_key(&a) {
            continue;
        }
        let explained = raws[a]
            .rule
            .explains
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .flatten()
            .copied();
        for b in explained {
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

pub(super) fn explains_transitively(
    raws: &[RawFinding],
    by_id: &HashMap<&str, Vec<usize>>,
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
            for &j in by_id.get(id.as_str()).into_iter().flatten() {
                if j == to {
                    return true;
                }
                stack.push(j);
            }
        }
    }
    false
}

pub(super) fn rank_cmp(a: &RawFinding, b: &RawFinding) -> std::cmp::Ordering {
    b.score
        .partial_cmp(&a.score)
        .unwrap_or(std::cmp::Ordering::Equal)
        .then(b.rule.severity.cmp(&a.rule.severity))
        .then(a.rule.id.cmp(&b.rule.id))
}
