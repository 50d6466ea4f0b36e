//! Recent task-definition revisions: one account-wide ListTaskDefinitions listing when
//! there are several families (calls grow with the account's revisions / 100, not with
//! the families), family by family for what that listing did not cover.

use aws_sdk_ecs::operation::list_task_definitions::ListTaskDefinitionsOutput;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use sickbay::collect::{ecs::recent_revisions, Ctx};
use std::collections::BTreeSet;
use std::time::Duration;

fn arn(family: &str, rev: i64) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:{rev}")
}

/// The account's ACTIVE revisions in the listing's order, served `per_page` at a time
/// (the page token is the offset).
fn account(listing: Vec<String>, per_page: usize) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ecs::Client::list_task_definitions)
        .match_requests(|r| r.family_prefix().is_none())
        .then_compute_output(move |r| {
            let from: usize = r.next_token().map_or(0, |t| t.parse().unwrap());
            let to = (from + per_page).min(listing.len());
            ListTaskDefinitionsOutput::builder()
                .set_task_definition_arns(Some(listing[from..to].to_vec()))
                .set_next_token((to < listing.len()).then(|| to.to_string()))
                .build()
        })
}

/// Per family, newest first (as AWS answers `sort=DESC`).
fn per_family(revs: usize) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ecs::Client::list_task_definitions)
        .match_requests(|r| r.family_prefix().is_some())
        .then_compute_output(move |r| {
            let f = r.family_prefix().unwrap();
            ListTaskDefinitionsOutput::builder()
                .set_task_definition_arns(Some(
                    (1..=revs as i64).rev().map(|i| arn(f, i)).collect(),
                ))
                .build()
        })
}

fn families(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn run(
    rules: &[&aws_smithy_mocks::Rule],
    fams: &BTreeSet<String>,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules);
    let ctx = Ctx::new(Duration::from_secs(10), Duration::from_secs(5), 8, None);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(recent_revisions(&ctx, &client, fams, 5))
}

#[test]
fn one_account_listing_covers_many_families() {
    // Six families of ours with 1..=7 revisions and another team's family in between.
    let names = ["a", "b", "c", "d", "e", "f"];
    let mut listing = Vec::new();
    for (i, f) in names.iter().enumerate() {
        listing.extend((1..=i as i64 + 2).map(|r| arn(f, r)));
        if i == 2 {
            listing.extend((1..=3).map(|r| arn("other", r)));
        }
    }
    let (all, one) = (account(listing, 100), per_family(3));
    let got = run(&[&all, &one], &families(&names));
    assert_eq!(all.num_calls(), 1);
    assert_eq!(one.num_calls(), 0);
    assert_eq!(got["a"], vec![arn("a", 2), arn("a", 1)]);
    assert_eq!(
        got["f"],
        (3..=7).rev().map(|r| arn("f", r)).collect::<Vec<_>>(),
        "newest first, at most 5"
    );
    assert!(!got.contains_key("other"));
}

#[test]
fn families_past_the_page_budget_are_listed_one_by_one() {
    // Eight families, 40 revisions each, 100 per page: the budget (2 pages) covers
    // families a..d fully (the listing moved past them) and part of e.
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let listing: Vec<String> = names
        .iter()
        .flat_map(|f| (1..=40).map(move |r| arn(f, r)))
        .collect();
    let (all, one) = (account(listing, 100), per_family(40));
    let got = run(&[&all, &one], &families(&names));
    assert_eq!(all.num_calls(), 2);
    assert_eq!(one.num_calls(), 4, "e, f, g and h");
    for f in names {
        assert_eq!(
            got[f],
            (36..=40).rev().map(|r| arn(f, r)).collect::<Vec<_>>(),
            "{f}"
        );
    }
}

#[test]
fn an_unordered_listing_is_trusted_only_when_complete() {
    // Revisions of a family come apart: nothing partial can be trusted.
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let mut listing = Vec::new();
    for round in 0..2 {
        for f in names {
            listing.extend((1..=20).map(|r| arn(f, round * 20 + r)));
        }
    }
    let (all, one) = (account(listing, 100), per_family(40));
    let got = run(&[&all, &one], &families(&names));
    assert_eq!(all.num_calls(), 2);
    assert_eq!(one.num_calls(), 8);
    assert_eq!(got["a"][0], arn("a", 40));
}

#[test]
fn a_few_families_are_listed_one_by_one() {
    let (all, one) = (account(Vec::new(), 100), per_family(2));
    let got = run(&[&all, &one], &families(&["a", "b"]));
    assert_eq!(all.num_calls(), 0);
    assert_eq!(one.num_calls(), 2);
    assert_eq!(got["b"], vec![arn("b", 2), arn("b", 1)]);
}
