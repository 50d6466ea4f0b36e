//! CloudTrail reads through `aws-smithy-mocks`, because moto answers LookupEvents with
//! HTTP 500 (TEST-PEERS.md). Mocked: LookupEvents only, matched on its lookup attribute
//! so that the by-resource query and the account's write stream answer differently.
//! What is tested: a resource queried by name, read-only events skipped, an event seen
//! by two queries kept once, the request parameters that say what changed kept (and a
//! planted value beside them not), and the section's line for what was read.

use aws_sdk_cloudtrail::operation::lookup_events::{LookupEventsInput, LookupEventsOutput};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{Event, LookupAttributeKey, Resource};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use sickbay::collect::ctx::Ctx;
use sickbay::collect::trail::{changes, Wanted};
use std::time::Duration;

const SG: &str = "sg-0123456789abcdef0";

fn at(min: i64) -> DateTime {
    DateTime::from_secs(chrono::Utc::now().timestamp() - min * 60)
}

fn attr(i: &LookupEventsInput) -> (LookupAttributeKey, String) {
    let a = &i.lookup_attributes()[0];
    (a.attribute_key().clone(), a.attribute_value().to_string())
}

fn revoke() -> Event {
    Event::builder()
        .event_id("e-revoke")
        .event_name("RevokeSecurityGroupIngress")
        .event_source("ec2.amazonaws.com")
        .username("terraform-ci")
        .event_time(at(20))
        .resources(
            Resource::builder()
                .resource_type("AWS::EC2::SecurityGroup")
                .resource_name(SG)
                .build(),
        )
        .cloud_trail_event(format!(
            r#"{{"readOnly":false,"requestParameters":{{"groupId":"{SG}","ipPermissions":
            {{"items":[{{"ipProtocol":"tcp","fromPort":5432,"toPort":5432,"ipRanges":
            {{"items":[{{"cidrIp":"10.0.0.0/16"}}]}}}}]}},"clientToken":"planted-Tok3n-9f8e7d"}}}}"#
        ))
        .build()
}

/// The last hour's changes, read through `ctx` on a current-thread runtime.
fn read_trail(
    ctx: &Ctx,
    client: &aws_sdk_cloudtrail::Client,
    wanted: &Wanted,
) -> (
    Vec<sickbay::snapshot::AccountChange>,
    sickbay::snapshot::TrailRead,
) {
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(changes(ctx, client, since, wanted))
}

#[test]
fn a_resource_is_queried_by_name_and_its_change_says_what_changed() {
    let by_sg = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|i| attr(i) == (LookupAttributeKey::ResourceName, SG.to_string()))
        .then_output(|| {
            let describe = Event::builder()
                .event_id("e-read")
                .event_name("DescribeSecurityGroups")
                .event_time(at(10))
                .resources(Resource::builder().resource_name(SG).build())
                .cloud_trail_event(r#"{"readOnly":true}"#)
                .build();
            LookupEventsOutput::builder()
                .events(describe)
                .events(revoke())
                .build()
        });
    let stream = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|i| attr(i) == (LookupAttributeKey::ReadOnly, "false".to_string()))
        .then_output(|| {
            let update = Event::builder()
                .event_id("e-update")
                .event_name("UpdateService")
                .event_source("ecs.amazonaws.com")
                .event_time(at(30))
                .resources(Resource::builder().resource_name("api").build())
                .cloud_trail_event(
                    r#"{"readOnly":false,"requestParameters":{"service":"api","taskDefinition":"api:7","desiredCount":2}}"#,
                )
                .build();
            LookupEventsOutput::builder()
                .events(revoke())
                .events(update)
                .build()
        });
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, &[&by_sg, &stream]);
    let mut wanted = Wanted::default();
    wanted.names.insert("api".into());
    wanted.ids.insert(SG.into());
    wanted.by_resource.push(SG.into());
    let ctx = Ctx::new(Duration::from_secs(30), Duration::from_secs(10), 4, None);
    let (kept, read) = read_trail(&ctx, &client, &wanted);

    let seen: Vec<(&str, Option<&str>)> = kept
        .iter()
        .map(|c| (c.event.as_str(), c.detail.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("UpdateService", Some("taskDefinition=api:7 desiredCount=2")),
            (
                "RevokeSecurityGroupIngress",
                Some("ipProtocol=tcp fromPort=5432 toPort=5432 cidrIp=10.0.0.0/16")
            ),
        ],
        "oldest first, the revoke once though two queries returned it, the read skipped"
    );
    assert_eq!((read.calls, read.by_resource, read.events), (2, 1, 2));
    assert!(!read.truncated);

    let snap = sickbay::snapshot::Snapshot {
        account_changes: kept,
        trail: Some(read),
        ..Default::default()
    };
    let sealed = sickbay::snapshot::Sealed::new(snap);
    let saved = serde_json::to_string(&*sealed).unwrap();
    assert!(
        !saved.contains("planted-Tok3n"),
        "only listed parameters are kept"
    );
    let report = sickbay::analyze(&sealed, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(
        report.account_changes_read.as_deref(),
        Some("CloudTrail: 2 LookupEvents calls (1 by resource), 2 write events read")
    );
}

#[test]
fn nothing_found_and_denied_are_each_said() {
    let empty = sickbay::snapshot::Snapshot {
        trail: Some(sickbay::snapshot::TrailRead {
            calls: 1,
            events: 12,
            ..Default::default()
        }),
        ..Default::default()
    };
    let rules = sickbay::RuleSet::builtin().unwrap();
    let report = sickbay::analyze(&sickbay::snapshot::Sealed::new(empty), &rules);
    assert_eq!(
        report.account_changes_read.as_deref(),
        Some("CloudTrail: no write event in the window touched the resources in scope (1 LookupEvents call (0 by resource), 12 write events read)")
    );
    let denied = sickbay::snapshot::Snapshot {
        collect_errors: vec![sickbay::snapshot::CollectError {
            action: "cloudtrail:LookupEvents".into(),
            code: Some("AccessDeniedException".into()),
            message: "not authorized".into(),
            check: None,
        }],
        ..Default::default()
    };
    let report = sickbay::analyze(&sickbay::snapshot::Sealed::new(denied), &rules);
    let line = report.account_changes_read.unwrap();
    assert!(
        line.starts_with(
            "CloudTrail could not be read (cloudtrail:LookupEvents: AccessDeniedException)"
        ),
        "{line}"
    );
    let never = sickbay::snapshot::Snapshot::default();
    let report = sickbay::analyze(&sickbay::snapshot::Sealed::new(never), &rules);
    assert_eq!(report.account_changes_read, None, "not read, nothing said");
}

/// Too little time left: no call is started, the read is marked cut short, and the
/// report is incomplete, naming the action, while the rest of the report stands.
#[test]
fn running_out_of_time_marks_the_report_incomplete() {
    let never = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .then_output(|| LookupEventsOutput::builder().build());
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, &[&never]);
    let mut wanted = Wanted::default();
    wanted.by_resource.push(SG.into());
    let ctx = Ctx::new(Duration::from_secs(1), Duration::from_secs(1), 4, None);
    let (kept, read) = read_trail(&ctx, &client, &wanted);
    assert!(kept.is_empty());
    assert_eq!(read.calls, 0);
    assert!(read.truncated);
    let errors = ctx.take_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].action.as_str(), errors[0].code.as_deref()),
        ("cloudtrail:LookupEvents", Some("DeadlineExceeded"))
    );
    let snap = sickbay::snapshot::Snapshot {
        trail: Some(read),
        collect_errors: errors,
        ..Default::default()
    };
    let report = sickbay::analyze(
        &sickbay::snapshot::Sealed::new(snap),
        &sickbay::RuleSet::builtin().unwrap(),
    );
    assert_eq!(report.status, sickbay::report::Status::Incomplete);
    assert!(
        report
            .account_changes_read
            .as_deref()
            .is_some_and(|l| l.starts_with("CloudTrail was read only in part")),
        "{:?}",
        report.account_changes_read
    );
}
