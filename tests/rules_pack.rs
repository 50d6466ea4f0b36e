//! The built-in rule pack loads, and every rule's own examples hold.

use sickbay::rules::{check_examples, RuleSet};

#[test]
fn builtin_pack_loads() {
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e}"));
    assert!(!set.rules.is_empty());
}

#[test]
fn every_rule_example_holds() {
    let set = RuleSet::builtin().unwrap();
    let failures: Vec<String> = set
        .rules
        .iter()
        .flat_map(check_examples)
        .map(|f| f.to_string())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_examples_both_ways() {
    let set = RuleSet::builtin().unwrap();
    for r in &set.rules {
        assert!(
            r.examples.iter().any(|e| e.expect_match),
            "{} has no matching example",
            r.id
        );
        assert!(
            r.examples.iter().any(|e| !e.expect_match),
            "{} has no non-matching example",
            r.id
        );
    }
}

#[test]
fn explains_point_at_existing_rules() {
    let set = RuleSet::builtin().unwrap();
    for r in &set.rules {
        for e in &r.explains {
            assert!(set.get(e).is_some(), "{} explains unknown rule {e}", r.id);
        }
    }
}

#[test]
fn every_builtin_rule_has_a_snake_case_class() {
    let set = RuleSet::builtin().unwrap();
    for r in &set.rules {
        let class = r
            .class
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no class", r.id));
        assert!(
            class.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{}: class {class:?}",
            r.id
        );
    }
}
