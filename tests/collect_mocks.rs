//! The collectors against `aws-smithy-mocks` clients, for what the moto test peer cannot
//! produce: `stopCode`, non-zero exit codes, container `reason`, service events and
//! unhealthy targets; and for faults: AccessDenied on one API (the report is
//! `incomplete`, names the IAM action, and every other finding is still there; also on
//! Secrets Manager's DescribeSecret, IAM's GetRole and ECR's DescribeImages, which moto
//! always allows), IAM's SimulatePrincipalPolicy (which moto lacks), and throttling
//! (retried by the SDK; a collection error only when it persists).

use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
use aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::{FilteredLogEvent, LogGroup as CwGroup, LogStream as CwStream};
use aws_sdk_ecs::config::retry::RetryConfig;
use aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::operation::describe_tasks::{DescribeTasksError, DescribeTasksOutput};
use aws_sdk_ecs::operation::list_task_definitions::ListTaskDefinitionsOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::primitives::DateTime as SdkTime;
use aws_sdk_ecs::types as ecs;
use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
use aws_sdk_elasticloadbalancingv2::types as elb;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use sickbay::collect::{collect, Clients, Options};
use std::time::Duration;

const CLUSTER: &str = "prod";
const ACCOUNT: &str = "123456789012";
const TG_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/abc";
const LB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/api-alb/def";
const TASK_ID: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn ago(minutes: i64) -> SdkTime {
    SdkTime::from_secs(now_secs() - minutes * 60)
}

fn td_arn(rev: i32) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/api:{rev}")
}

fn cluster_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_clusters).then_output(|| {
        DescribeClustersOutput::builder()
            .clusters(
                ecs::Cluster::builder()
                    .cluster_name(CLUSTER)
                    .cluster_arn(format!("arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{CLUSTER}"))
                    .status("ACTIVE")
                    .build(),
            )
            .build()
    })
}

/// A service whose deployment failed, with the events only the real API gives.
fn service_output() -> DescribeServicesOutput {
    DescribeServicesOutput::builder()
        .services(
            ecs::Service::builder()
                .service_name("api")
                .service_arn(format!("arn:aws:ecs:us-east-1:{ACCOUNT}:service/{CLUSTER}/api"))
                .status("ACTIVE")
                .desired_count(2)
                .running_count(0)
                .task_definition(td_arn(7))
                .load_balancers(
                    ecs::LoadBalancer::builder()
                        .target_group_arn(TG_ARN)
                        .container_name("api")
                        .container_port(8080)
                        .build(),
                )
                .events(
                    ecs::ServiceEvent::builder()
                        .id("e2")
                        .created_at(ago(5))
                        .message("(service api) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")
                        .build(),
                )
                .events(
                    ecs::ServiceEvent::builder()
                        .id("e-old")
                        .created_at(ago(60 * 24 * 3))
                        .message("(service api) has reached a steady state.")
                        .build(),
                )
                .deployments(
                    ecs::Deployment::builder()
                        .id("ecs-svc/1")
                        .status("PRIMARY")
                        .task_definition(td_arn(7))
                        .desired_count(2)
                        .running_count(0)
                        .failed_tasks(3)
                        .rollout_state(ecs::DeploymentRolloutState::Failed)
                        .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
                        .created_at(ago(30))
                        .updated_at(ago(5))
                        .build(),
                )
                .build(),
        )
        .build()
}

fn services_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_services).then_output(service_output)
}

fn list_tasks_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
        ListTasksOutput::builder()
            .task_arns(format!(
                "arn:aws:ecs:us-east-1:{ACCOUNT}:task/{CLUSTER}/{TASK_ID}"
            ))
            .build()
    })
}

/// A task killed for memory: stop code, exit code 137 and the container's reason.
fn tasks_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_tasks).then_output(|| {
        DescribeTasksOutput::builder()
            .tasks(
                ecs::Task::builder()
                    .task_arn(format!(
                        "arn:aws:ecs:us-east-1:{ACCOUNT}:task/{CLUSTER}/{TASK_ID}"
                    ))
                    .task_definition_arn(td_arn(7))
                    .group("service:api")
                    .last_status("STOPPED")
                    .desired_status("STOPPED")
                    .stop_code(ecs::TaskStopCode::EssentialContainerExited)
                    .stopped_reason("Essential container in task exited")
                    .created_at(ago(20))
                    .stopped_at(ago(15))
                    .containers(
                        ecs::Container::builder()
                            .name("api")
                            .image("api:7")
                            .last_status("STOPPED")
                            .exit_code(137)
                            .reason("OutOfMemoryError: Container killed due to memory usage")
                            .build(),
                    )
                    .build(),
            )
            .build()
    })
}

fn list_tds_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::list_task_definitions).then_output(|| {
        ListTaskDefinitionsOutput::builder()
            .task_definition_arns(td_arn(6))
            .task_definition_arns(td_arn(7))
            .build()
    })
}

fn describe_td_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_task_definition).then_compute_output(|req| {
        let rev: i32 = req
            .task_definition()
            .and_then(|t| t.rsplit(':').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or(7);
        DescribeTaskDefinitionOutput::builder()
            .task_definition(
                ecs::TaskDefinition::builder()
                    .family("api")
                    .revision(rev)
                    .task_definition_arn(td_arn(rev))
                    .registered_at(ago(60 - i64::from(rev)))
                    .container_definitions(
                        ecs::ContainerDefinition::builder()
                            .name("api")
                            .image(format!("api:{rev}"))
                            .essential(true)
                            .log_configuration(
                                ecs::LogConfiguration::builder()
                                    .log_driver(ecs::LogDriver::Awslogs)
                                    .options("awslogs-group", "/ecs/api")
                                    .options("awslogs-stream-prefix", "ecs")
                                    .build()
                                    .unwrap(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    })
}

fn target_rules() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups).then_output(|| {
            DescribeTargetGroupsOutput::builder()
                .target_groups(
                    elb::TargetGroup::builder()
                        .target_group_arn(TG_ARN)
                        .target_group_name("api-tg")
                        .port(8080)
                        .protocol(elb::ProtocolEnum::Http)
                        .health_check_path("/health")
                        .load_balancer_arns(LB_ARN)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers).then_output(|| {
            DescribeLoadBalancersOutput::builder()
                .load_balancers(
                    elb::LoadBalancer::builder()
                        .load_balancer_arn(LB_ARN)
                        .load_balancer_name("api-alb")
                        .r#type(elb::LoadBalancerTypeEnum::Application)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health).then_output(|| {
            DescribeTargetHealthOutput::builder()
                .target_health_descriptions(
                    elb::TargetHealthDescription::builder()
                        .target(
                            elb::TargetDescription::builder()
                                .id("10.0.1.5")
                                .port(8080)
                                .build(),
                        )
                        .target_health(
                            elb::TargetHealth::builder()
                                .state(elb::TargetHealthStateEnum::Unhealthy)
                                .reason(elb::TargetHealthReasonEnum::FailedHealthChecks)
                                .description("Health checks failed with these codes: [502]")
                                .build(),
                        )
                        .build(),
                )
                .build()
        }),
    ]
}

fn log_rules() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_output(|| {
            FilterLogEventsOutput::builder()
                .events(
                    FilteredLogEvent::builder()
                        .log_stream_name(format!("ecs/api/{TASK_ID}"))
                        .timestamp((now_secs() - 16 * 60) * 1000)
                        .message("<--- JS stacktrace --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams).then_output(|| {
            DescribeLogStreamsOutput::builder()
                .log_streams(CwStream::builder().log_stream_name(format!("ecs/api/{TASK_ID}")).build())
                .build()
        }),
    ]
}

fn clients(ecs_rules: &[&Rule], elb_rules: &[&Rule], log_rules: &[&Rule]) -> Clients {
    clients_with(ecs_rules, elb_rules, log_rules, More::default())
}

/// Mock rules for the start-path clients.
#[derive(Default)]
struct More<'a> {
    secrets: &'a [&'a Rule],
    iam: &'a [&'a Rule],
    ecr: &'a [&'a Rule],
    trail: &'a [&'a Rule],
}

/// Clients whose Logs mock also answers DescribeLogGroups (the group exists), and whose
/// Secrets Manager, IAM and ECR mocks follow `more`. SSM is a real client on a closed
/// loopback port: these task definitions reference no parameter, so it is never called.
fn clients_with(
    ecs_rules: &[&Rule],
    elb_rules: &[&Rule],
    log_rules: &[&Rule],
    more: More,
) -> Clients {
    let none: &[&Rule] = &[];
    let groups = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups).then_output(|| {
        DescribeLogGroupsOutput::builder()
            .log_groups(CwGroup::builder().log_group_name("/ecs/api").build())
            .build()
    });
    let mut log_rules = log_rules.to_vec();
    log_rules.push(&groups);
    let log_rules = log_rules.as_slice();
    // CloudTrail answers with no events unless a test says otherwise.
    let no_events = mock!(aws_sdk_cloudtrail::Client::lookup_events).then_output(|| {
        aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput::builder().build()
    });
    let mut trail_rules = more.trail.to_vec();
    trail_rules.push(&no_events);
    let trail_rules = trail_rules.as_slice();
    let ssm_conf = aws_sdk_ssm::Config::builder()
        .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
        .region(aws_sdk_ssm::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "AKIDTEST", "x", None, None, "test",
        ))
        .build();
    let fast_retries = |c: aws_sdk_ecs::config::Builder| {
        c.retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
    };
    Clients {
        ecs: mock_client!(aws_sdk_ecs, RuleMode::MatchAny, ecs_rules, fast_retries),
        logs: mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, log_rules),
        ec2: mock_client!(aws_sdk_ec2, RuleMode::MatchAny, none),
        elb: mock_client!(
            aws_sdk_elasticloadbalancingv2,
            RuleMode::MatchAny,
            elb_rules
        ),
        rds: mock_client!(aws_sdk_rds, RuleMode::MatchAny, none),
        secrets: mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, more.secrets),
        iam: mock_client!(aws_sdk_iam, RuleMode::MatchAny, more.iam),
        ssm: aws_sdk_ssm::Client::from_conf(ssm_conf),
        ecr: mock_client!(aws_sdk_ecr, RuleMode::MatchAny, more.ecr),
        cloudtrail: mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, trail_rules),
        // These task definitions mount no EFS volume, so it is never called either.
        efs: aws_sdk_efs::Client::from_conf(
            aws_sdk_efs::Config::builder()
                .behavior_version(aws_sdk_efs::config::BehaviorVersion::latest())
                .region(aws_sdk_efs::config::Region::new("us-east-1"))
                .endpoint_url("http://127.0.0.1:9")
                .credentials_provider(aws_sdk_efs::config::Credentials::new(
                    "AKIDTEST", "x", None, None, "test",
                ))
                .build(),
        ),
        config: None,
        region: "us-east-1".into(),
        endpoint: "mock".into(),
    }
}

fn options() -> Options {
    let mut o = Options::new(CLUSTER, chrono::Utc::now() - chrono::Duration::hours(2));
    o.services = vec!["api".into()];
    o.timeout = Duration::from_secs(20);
    o
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn rules_of(report: &sickbay::Report) -> Vec<String> {
    report.findings.iter().map(|f| f.rule.clone()).collect()
}

#[test]
fn fields_moto_cannot_produce_are_converted() {
    let (c, s, lt, t, ltd, dtd) = (
        cluster_rule(),
        services_rule(),
        list_tasks_rule(),
        tasks_rule(),
        list_tds_rule(),
        describe_td_rule(),
    );
    let elb = target_rules();
    let logs = log_rules();
    let clients = clients(
        &[&c, &s, &lt, &t, &ltd, &dtd],
        &elb.iter().collect::<Vec<_>>(),
        &logs.iter().collect::<Vec<_>>(),
    );
    let got = rt()
        .block_on(collect(&clients, &options()))
        .expect("collect");
    let snap = got.snapshot;
    assert!(snap.collect_errors.is_empty(), "{:?}", snap.collect_errors);
    assert_eq!(snap.target.account.as_deref(), Some(ACCOUNT));
    let task = &snap.tasks[0];
    assert_eq!(task.stop_code.as_deref(), Some("EssentialContainerExited"));
    assert_eq!(task.containers[0].exit_code, Some(137));
    assert_eq!(
        task.containers[0].reason.as_deref(),
        Some("OutOfMemoryError: Container killed due to memory usage")
    );
    let svc = &snap.services[0];
    assert_eq!(svc.events.len(), 1, "events outside the window are dropped");
    assert_eq!(svc.deployments[0].rollout_state.as_deref(), Some("FAILED"));
    assert_eq!(svc.deployments[0].failed_tasks, 3);
    assert_eq!(snap.target_health[0].state, "unhealthy");
    assert_eq!(
        snap.target_health[0].reason.as_deref(),
        Some("Target.FailedHealthChecks")
    );
    assert_eq!(snap.load_balancers[0].target_groups[0].name, "api-tg");
    // Revisions 6 and 7: the one in use and the family's recent ones.
    let revs: Vec<i64> = snap.task_definitions.iter().map(|t| t.revision).collect();
    assert_eq!(revs, vec![6, 7]);
    assert_eq!(snap.logs.len(), 1);
    assert_eq!(snap.logs[0].task_id.as_deref(), Some(TASK_ID));

    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    let ids = rules_of(&report);
    assert_eq!(ids.first().map(String::as_str), Some("APP001"), "{ids:?}");
}

#[test]
fn access_denied_on_one_api_is_named_and_the_rest_still_runs() {
    let denied = mock!(aws_sdk_ecs::Client::describe_tasks).then_error(|| {
        DescribeTasksError::generic(
            aws_sdk_ecs::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: ecs:DescribeTasks")
                .build(),
        )
    });
    let (c, s, lt, ltd, dtd) = (
        cluster_rule(),
        services_rule(),
        list_tasks_rule(),
        list_tds_rule(),
        describe_td_rule(),
    );
    let elb = target_rules();
    let logs = log_rules();
    let clients = clients(
        &[&c, &s, &lt, &denied, &ltd, &dtd],
        &elb.iter().collect::<Vec<_>>(),
        &logs.iter().collect::<Vec<_>>(),
    );
    let snap = rt()
        .block_on(collect(&clients, &options()))
        .unwrap()
        .snapshot;
    assert_eq!(snap.collect_errors.len(), 1, "{:?}", snap.collect_errors);
    assert_eq!(snap.collect_errors[0].action, "ecs:DescribeTasks");
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.status, sickbay::report::Status::Incomplete);
    let ids = rules_of(&report);
    let iam = report
        .findings
        .iter()
        .find(|f| f.rule == "IAM001")
        .expect("IAM001");
    assert!(iam.message.contains("ecs:DescribeTasks"), "{}", iam.message);
    // The service's own evidence still produces its findings.
    assert!(
        ids.iter()
            .any(|i| i == "ECS008" || i == "ECS007" || i == "LB001"),
        "{ids:?}"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "LB001" || f.explains.iter().any(|e| e.rule == "LB001")),
        "{ids:?}"
    );
}

const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

#[test]
fn throttling_is_retried() {
    let throttled_twice = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .times(2)
        .output(service_output)
        .build();
    let (c, lt, t, ltd, dtd) = (
        cluster_rule(),
        list_tasks_rule(),
        tasks_rule(),
        list_tds_rule(),
        describe_td_rule(),
    );
    let elb = target_rules();
    let logs = log_rules();
    let clients = clients(
        &[&c, &throttled_twice, &lt, &t, &ltd, &dtd],
        &elb.iter().collect::<Vec<_>>(),
        &logs.iter().collect::<Vec<_>>(),
    );
    let snap = rt()
        .block_on(collect(&clients, &options()))
        .unwrap()
        .snapshot;
    assert!(snap.collect_errors.is_empty(), "{:?}", snap.collect_errors);
    assert_eq!(snap.services.len(), 1);
    assert_eq!(throttled_twice.num_calls(), 3);
}

#[test]
fn persistent_throttling_becomes_a_collect_error() {
    let throttled = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .repeatedly()
        .build();
    let (c, lt, t, ltd, dtd) = (
        cluster_rule(),
        list_tasks_rule(),
        tasks_rule(),
        list_tds_rule(),
        describe_td_rule(),
    );
    let logs = log_rules();
    let clients = clients(
        &[&c, &throttled, &lt, &t, &ltd, &dtd],
        &[],
        &logs.iter().collect::<Vec<_>>(),
    );
    let snap = rt()
        .block_on(collect(&clients, &options()))
        .unwrap()
        .snapshot;
    assert_eq!(throttled.num_calls(), 3, "the SDK retried");
    let e = &snap.collect_errors[0];
    assert_eq!(e.action, "ecs:DescribeServices");
    assert_eq!(e.code.as_deref(), Some("ThrottlingException"));
    // Tasks were still collected.
    assert_eq!(snap.tasks.len(), 1);
}

// ---------------------------------------------------------------- FilterLogEvents fallback

/// What CloudWatch Logs answers (HTTP 400, awsJson1.1) when FilterLogEvents names a
/// stream that does not exist, or a group that does not.
const NO_STREAM: &str = r#"{"__type":"ResourceNotFoundException","message":"The specified log stream does not exist."}"#;
const NO_GROUP: &str =
    r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#;

/// Three stopped tasks of the service; the second died before it could log.
const LOGGED_A: &str = "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a";
const NEVER_LOGGED: &str = "2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b";
const LOGGED_C: &str = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";
const THREE_TASKS: [&str; 3] = [LOGGED_A, NEVER_LOGGED, LOGGED_C];

fn task_arn(id: &str) -> String {
    format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task/{CLUSTER}/{id}")
}

fn stream_of(id: &str) -> String {
    format!("ecs/api/{id}")
}

fn three_tasks_rules() -> (Rule, Rule) {
    let list = mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
        ListTasksOutput::builder()
            .set_task_arns(Some(THREE_TASKS.iter().map(|id| task_arn(id)).collect()))
            .build()
    });
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(|| {
        let mut out = DescribeTasksOutput::builder();
        for id in THREE_TASKS {
            out = out.tasks(
                ecs::Task::builder()
                    .task_arn(task_arn(id))
                    .task_definition_arn(td_arn(7))
                    .group("service:api")
                    .last_status("STOPPED")
                    .desired_status("STOPPED")
                    .stopped_reason("Essential container in task exited")
                    .created_at(ago(20))
                    .stopped_at(ago(15))
                    .containers(
                        ecs::Container::builder()
                            .name("api")
                            .last_status("STOPPED")
                            .exit_code(1)
                            .build(),
                    )
                    .build(),
            );
        }
        out.build()
    });
    (list, describe)
}

/// Events of the streams asked for, except the one that was never created.
/// FilterLogEvents rejecting, every time, any batch that names the stream never created.
fn missing_stream_rejection_rule() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .match_requests(|req| {
            req.log_stream_names()
                .iter()
                .any(|s| *s == stream_of(NEVER_LOGGED))
        })
        .sequence()
        .http_status(400, Some(NO_STREAM.into()))
        .repeatedly()
        .build()
}

fn filter_ok_rule() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_compute_output(|req| {
        let mut out = FilterLogEventsOutput::builder();
        for s in req.log_stream_names() {
            if *s == stream_of(NEVER_LOGGED) {
                continue;
            }
            for i in 0..2 {
                out = out.events(
                    FilteredLogEvent::builder()
                        .log_stream_name(s)
                        .timestamp((now_secs() - 16 * 60 + i) * 1000)
                        .message(format!(
                            "{s} line {i}: Error: connect ECONNREFUSED 10.0.3.7:5432\n"
                        ))
                        .build(),
                );
            }
        }
        out.build()
    })
}

/// DescribeLogStreams as AWS answers it: the streams whose names start with the prefix.
fn describe_streams_rule() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams).then_compute_output(|req| {
        let prefix = req.log_stream_name_prefix().unwrap_or_default();
        let mut out = DescribeLogStreamsOutput::builder();
        for id in [LOGGED_A, LOGGED_C] {
            if stream_of(id).starts_with(prefix) {
                out = out.log_streams(CwStream::builder().log_stream_name(stream_of(id)).build());
            }
        }
        out.build()
    })
}

fn collect_with_logs(log_rules: &[&Rule]) -> sickbay::snapshot::Sealed {
    let (c, s, ltd, dtd) = (
        cluster_rule(),
        services_rule(),
        list_tds_rule(),
        describe_td_rule(),
    );
    let (lt, t) = three_tasks_rules();
    let elb = target_rules();
    let clients = clients(
        &[&c, &s, &lt, &t, &ltd, &dtd],
        &elb.iter().collect::<Vec<_>>(),
        log_rules,
    );
    rt().block_on(collect(&clients, &options()))
        .expect("collect")
        .snapshot
}

/// FilterLogEvents rejects the batch because one named stream was never created: each
/// stream is checked with DescribeLogStreams, the missing one is recorded as missing
/// (with AWS's words), and the batch is read again without it, so the other streams'
/// lines are still collected and the report stays complete.
#[test]
fn missing_stream_rejection_falls_back_to_describe_log_streams() {
    let rejected = missing_stream_rejection_rule();
    let (ok, describe) = (filter_ok_rule(), describe_streams_rule());
    let snap = collect_with_logs(&[&rejected, &ok, &describe]);

    assert!(snap.collect_errors.is_empty(), "{:?}", snap.collect_errors);
    assert_eq!(
        rejected.num_calls(),
        1,
        "the batch naming the missing stream"
    );
    assert_eq!(ok.num_calls(), 1, "one re-read without it");
    assert_eq!(describe.num_calls(), 3, "one check per stream");
    let streams: Vec<(&str, bool, Option<&str>)> = snap
        .log_streams
        .iter()
        .map(|s| (s.stream.as_str(), s.exists, s.note.as_deref()))
        .collect();
    assert_eq!(
        streams,
        vec![
            (stream_of(LOGGED_A).as_str(), true, None),
            (
                stream_of(NEVER_LOGGED).as_str(),
                false,
                Some("The specified log stream does not exist.")
            ),
            (stream_of(LOGGED_C).as_str(), true, None),
        ]
    );
    let mut logged: Vec<&str> = snap
        .logs
        .iter()
        .filter_map(|l| l.task_id.as_deref())
        .collect();
    logged.dedup();
    assert_eq!(logged, vec![LOGGED_A, LOGGED_C]);
    assert_eq!(snap.logs.len(), 4);

    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.status, sickbay::report::Status::Complete);
}

/// The group itself does not exist: one DescribeLogStreams answers for every stream,
/// all are recorded as missing, and FilterLogEvents is not called again.
#[test]
fn missing_group_marks_every_stream_with_one_check() {
    let rejected = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .sequence()
        .http_status(400, Some(NO_GROUP.into()))
        .repeatedly()
        .build();
    let no_group = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams)
        .sequence()
        .http_status(400, Some(NO_GROUP.into()))
        .repeatedly()
        .build();
    let snap = collect_with_logs(&[&rejected, &no_group]);

    assert!(snap.collect_errors.is_empty(), "{:?}", snap.collect_errors);
    assert_eq!(rejected.num_calls(), 1);
    assert_eq!(no_group.num_calls(), 1);
    assert!(snap.logs.is_empty());
    assert_eq!(snap.log_streams.len(), 3);
    for s in &snap.log_streams {
        assert!(!s.exists, "{s:?}");
        assert_eq!(
            s.note.as_deref(),
            Some("the log group /ecs/api does not exist")
        );
    }
}

/// DescribeLogStreams is denied: which stream is missing cannot be told, so no stream is
/// recorded as missing and the batch is not sent again; the denial and the rejection are
/// both collection errors (the report is incomplete) rather than a silent gap.
#[test]
fn fallback_without_describe_log_streams_reports_the_gap() {
    let rejected = missing_stream_rejection_rule();
    let ok = filter_ok_rule();
    let denied = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: logs:DescribeLogStreams"}"#.into()),
        )
        .repeatedly()
        .build();
    let snap = collect_with_logs(&[&rejected, &ok, &denied]);

    let actions: Vec<&str> = snap
        .collect_errors
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        vec!["logs:DescribeLogStreams", "logs:FilterLogEvents"],
        "{:?}",
        snap.collect_errors
    );
    assert_eq!(rejected.num_calls(), 1, "the same batch is not sent again");
    assert_eq!(ok.num_calls(), 0);
    assert!(
        snap.log_streams.iter().all(|s| s.exists),
        "{:?}",
        snap.log_streams
    );
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.status, sickbay::report::Status::Incomplete);
}

/// DescribeTaskDefinition answering with `make(revision)` for the revision asked.
fn td_rule(make: fn(i32) -> ecs::TaskDefinition) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_task_definition).then_compute_output(move |req| {
        let rev: i32 = req
            .task_definition()
            .and_then(|t| t.rsplit(':').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or(7);
        DescribeTaskDefinitionOutput::builder()
            .task_definition(make(rev))
            .build()
    })
}

/// Revision `rev` of family `api`, to add containers and roles to.
fn api_td(rev: i32) -> ecs::builders::TaskDefinitionBuilder {
    ecs::TaskDefinition::builder()
        .family("api")
        .revision(rev)
        .task_definition_arn(td_arn(rev))
}

/// Collects with the standard cluster, service, task, target-group and log mocks, the
/// given DescribeTaskDefinition mock, and start-path mocks.
fn collect_api(dtd: &Rule, more: More, opts: &Options) -> sickbay::snapshot::Sealed {
    let (c, s, lt, t, ltd) = (
        cluster_rule(),
        services_rule(),
        list_tasks_rule(),
        tasks_rule(),
        list_tds_rule(),
    );
    let elb = target_rules();
    let logs = log_rules();
    let clients = clients_with(
        &[&c, &s, &lt, &t, &ltd, dtd],
        &elb.iter().collect::<Vec<_>>(),
        &logs.iter().collect::<Vec<_>>(),
        more,
    );
    rt().block_on(collect(&clients, opts)).unwrap().snapshot
}

/// A task definition whose container references a Secrets Manager secret.
fn describe_td_with_secret_rule() -> Rule {
    td_rule(|rev| {
        api_td(rev)
            .container_definitions(
                ecs::ContainerDefinition::builder()
                    .name("api")
                    .image("api:7")
                    .essential(true)
                    .secrets(
                        ecs::Secret::builder()
                            .name("DB_PASSWORD")
                            .value_from(SECRET_ARN)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
    })
}

const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

/// AccessDenied on DescribeSecret: the secret check is skipped and named, no "secret
/// missing" finding is made up, and the report is incomplete.
#[test]
fn access_denied_on_describe_secret_skips_only_that_check() {
    let denied = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_error(|| {
        aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError::generic(
            aws_sdk_secretsmanager::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: secretsmanager:DescribeSecret")
                .build(),
        )
    });
    let dtd = describe_td_with_secret_rule();
    let snap = collect_api(
        &dtd,
        More {
            secrets: &[&denied],
            ..More::default()
        },
        &options(),
    );
    let actions: Vec<&str> = snap
        .collect_errors
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        ["secretsmanager:DescribeSecret"],
        "{:?}",
        snap.collect_errors
    );
    assert!(snap.secret_refs.is_empty());
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.status, sickbay::report::Status::Incomplete);
    let ids = rules_of(&report);
    assert!(!ids.contains(&"SEC004".to_string()), "{ids:?}");
    let iam = report
        .findings
        .iter()
        .find(|f| f.rule == "IAM001")
        .expect("IAM001");
    assert!(
        iam.message.contains("secretsmanager:DescribeSecret"),
        "{}",
        iam.message
    );

    // The same secret found: no collection error, and it is recorded as existing.
    let found = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(|| {
        aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput::builder()
            .arn(SECRET_ARN)
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/1234")
            .build()
    });
    let snap = collect_api(
        &dtd,
        More {
            secrets: &[&found],
            ..More::default()
        },
        &options(),
    );
    assert!(snap.collect_errors.is_empty(), "{:?}", snap.collect_errors);
    assert_eq!(snap.secret_refs.len(), 1);
    assert!(snap.secret_refs[0].exists);
    assert_eq!(
        snap.secret_refs[0].kms_key.as_deref(),
        Some("arn:aws:kms:us-east-1:123456789012:key/1234")
    );
    // The customer key is noted, with what the simulation said (nothing: no role here).
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert!(
        report.notes.iter().any(|n| n.contains(
            "customer-managed key arn:aws:kms:us-east-1:123456789012:key/1234: the execution role needs kms:Decrypt on it (not simulated)"
        )),
        "{:?}",
        report.notes
    );
}

/// SimulatePrincipalPolicy is not implemented by moto (HTTP 500), so the simulation is
/// tested here: the execution role may not read the secret, and the finding names the
/// action, the resource and a policy granting exactly that. Mocked: GetRole (trusted
/// role), SimulatePrincipalPolicy (implicitDeny for secretsmanager:GetSecretValue).
#[test]
fn execution_role_simulation_names_the_denied_action_and_resource() {
    use aws_sdk_iam::operation::get_role::GetRoleOutput;
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyOutput;
    use aws_sdk_iam::types::{EvaluationResult, PolicyEvaluationDecisionType, Role};
    const EXEC: &str = "arn:aws:iam::123456789012:role/api-exec";
    let get_role = mock!(aws_sdk_iam::Client::get_role).then_output(|| {
        GetRoleOutput::builder()
            .role(
                Role::builder()
                    .path("/")
                    .role_name("api-exec")
                    .role_id("AROAEXAMPLE")
                    .arn(EXEC)
                    .create_date(aws_sdk_iam::primitives::DateTime::from_secs(0))
                    .assume_role_policy_document("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ecs-tasks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let simulate =
        mock!(aws_sdk_iam::Client::simulate_principal_policy).then_compute_output(|req| {
            let resource = req.resource_arns().first().cloned().unwrap_or_default();
            let mut out = SimulatePrincipalPolicyOutput::builder();
            for a in req.action_names() {
                out = out.evaluation_results(
                    EvaluationResult::builder()
                        .eval_action_name(a)
                        .eval_resource_name(&resource)
                        .eval_decision(if a == "secretsmanager:GetSecretValue" {
                            PolicyEvaluationDecisionType::ImplicitDeny
                        } else {
                            PolicyEvaluationDecisionType::Allowed
                        })
                        .build()
                        .unwrap(),
                );
            }
            out.build()
        });
    let found = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(|| {
        aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput::builder()
            .arn(SECRET_ARN)
            .build()
    });
    let dtd = td_rule(|rev| {
        api_td(rev)
            .execution_role_arn(EXEC)
            .container_definitions(
                ecs::ContainerDefinition::builder()
                    .name("api")
                    .image("api:7")
                    .essential(true)
                    .secrets(
                        ecs::Secret::builder()
                            .name("DB_PASSWORD")
                            .value_from(SECRET_ARN)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
    });
    let snap = collect_api(
        &dtd,
        More {
            secrets: &[&found],
            iam: &[&get_role, &simulate],
            ..More::default()
        },
        &options(),
    );
    assert!(snap.collect_errors.is_empty(), "{:?}", snap.collect_errors);
    assert_eq!(snap.roles.len(), 1);
    assert_eq!(snap.roles[0].trusts_ecs_tasks, Some(true));
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "IAM004")
        .expect("IAM004");
    assert!(
        f.message.contains("Execution role api-exec of api:7 is denied secretsmanager:GetSecretValue (on arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf)"),
        "{}",
        f.message
    );
    let grant = f
        .fix
        .iter()
        .find(|x| x.contains("put-role-policy"))
        .unwrap();
    assert!(grant.contains(r#"--policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"}]}'"#), "{grant}");
    assert!(!report.findings.iter().any(|f| f.rule == "IAM003"));
}

/// AccessDenied on iam:GetRole: the role check is skipped and named, no "role missing"
/// finding is made up, and the report is incomplete. Mocked: GetRole (moto always
/// allows it).
#[test]
fn access_denied_on_get_role_skips_only_that_check() {
    let denied = mock!(aws_sdk_iam::Client::get_role).then_error(|| {
        aws_sdk_iam::operation::get_role::GetRoleError::generic(
            aws_sdk_iam::error::ErrorMetadata::builder()
                .code("AccessDenied")
                .message("User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: iam:GetRole")
                .build(),
        )
    });
    let dtd = td_rule(|rev| {
        api_td(rev)
            .execution_role_arn("arn:aws:iam::123456789012:role/api-exec")
            .container_definitions(
                ecs::ContainerDefinition::builder()
                    .name("api")
                    .image("api:7")
                    .build(),
            )
            .build()
    });
    let mut opts = options();
    opts.simulate_iam = false;
    let snap = collect_api(
        &dtd,
        More {
            iam: &[&denied],
            ..More::default()
        },
        &opts,
    );
    let actions: Vec<&str> = snap
        .collect_errors
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["iam:GetRole"], "{:?}", snap.collect_errors);
    assert!(snap.roles.is_empty());
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.status, sickbay::report::Status::Incomplete);
    assert!(!report.findings.iter().any(|f| f.rule == "IAM003"));
    let iam = report
        .findings
        .iter()
        .find(|f| f.rule == "IAM001")
        .expect("IAM001");
    assert!(iam.message.contains("iam:GetRole"), "{}", iam.message);
}

/// AccessDenied on ecr:DescribeImages: the image check is skipped and named, and no
/// "image missing" finding is made up. Mocked: DescribeImages (moto always allows it).
#[test]
fn access_denied_on_describe_images_skips_only_that_check() {
    let denied = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        aws_sdk_ecr::operation::describe_images::DescribeImagesError::generic(
            aws_sdk_ecr::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: ecr:DescribeImages")
                .build(),
        )
    });
    let dtd = td_rule(|rev| {
        api_td(rev)
            .container_definitions(
                ecs::ContainerDefinition::builder()
                    .name("api")
                    .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:7")
                    .build(),
            )
            .build()
    });
    let snap = collect_api(
        &dtd,
        More {
            ecr: &[&denied],
            ..More::default()
        },
        &options(),
    );
    let actions: Vec<&str> = snap
        .collect_errors
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["ecr:DescribeImages"], "{:?}", snap.collect_errors);
    assert!(snap.images.is_empty());
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.status, sickbay::report::Status::Incomplete);
    assert!(!report
        .findings
        .iter()
        .any(|f| f.rule == "IMG012" || f.rule == "IMG013"));
    let iam = report
        .findings
        .iter()
        .find(|f| f.rule == "IAM001")
        .expect("IAM001");
    assert!(
        iam.message.contains("ecr:DescribeImages"),
        "{}",
        iam.message
    );
}

/// CloudTrail's LookupEvents (moto does not implement it): write events that touched the
/// snapshot's resources are kept with who and when, others dropped, request parameters
/// never stored; AccessDenied is a named, skipped check. Mocked: LookupEvents.
#[test]
fn account_changes_keep_what_touched_the_service_and_drop_the_rest() {
    use aws_sdk_cloudtrail::types::{Event, Resource};
    let at = |min: i64| aws_sdk_cloudtrail::primitives::DateTime::from_secs(now_secs() - min * 60);
    let events = mock!(aws_sdk_cloudtrail::Client::lookup_events).then_output(move || {
        aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput::builder()
            .events(
                Event::builder()
                    .event_name("UpdateService")
                    .event_source("ecs.amazonaws.com")
                    .username("alice")
                    .event_time(at(30))
                    .resources(
                        Resource::builder()
                            .resource_type("AWS::ECS::Service")
                            .resource_name("api")
                            .build(),
                    )
                    .cloud_trail_event(
                        r#"{"requestParameters":{"service":"api","note":"hunter2-planted"}}"#,
                    )
                    .build(),
            )
            .events(
                Event::builder()
                    .event_name("DeleteLogGroup")
                    .event_source("logs.amazonaws.com")
                    .username("bob")
                    .event_time(at(40))
                    .cloud_trail_event(r#"{"requestParameters":{"logGroupName":"/ecs/elsewhere"}}"#)
                    .resources(Resource::builder().resource_name("/ecs/elsewhere").build())
                    .build(),
            )
            .events(
                Event::builder()
                    .event_name("CreateBucket")
                    .event_source("s3.amazonaws.com")
                    .event_time(at(50))
                    .resources(Resource::builder().resource_name("some-bucket").build())
                    .build(),
            )
            .build()
    });
    let dtd = describe_td_rule();
    let snap = collect_api(
        &dtd,
        More {
            trail: &[&events],
            ..More::default()
        },
        &options(),
    );
    assert!(snap.collect_errors.is_empty(), "{:?}", snap.collect_errors);
    let kept: Vec<(&str, Option<&str>, Vec<&str>)> = snap
        .account_changes
        .iter()
        .map(|c| {
            (
                c.event.as_str(),
                c.user.as_deref(),
                c.resources.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(kept, [("UpdateService", Some("alice"), vec!["api"])]);
    let saved = serde_json::to_string(&*snap).unwrap();
    assert!(
        !saved.contains("hunter2-planted"),
        "request parameters are not kept"
    );
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.account_changes.len(), 1);

    let denied = mock!(aws_sdk_cloudtrail::Client::lookup_events).then_error(|| {
        aws_sdk_cloudtrail::operation::lookup_events::LookupEventsError::generic(
            aws_sdk_cloudtrail::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: cloudtrail:LookupEvents")
                .build(),
        )
    });
    let snap = collect_api(
        &dtd,
        More {
            trail: &[&denied],
            ..More::default()
        },
        &options(),
    );
    let actions: Vec<&str> = snap
        .collect_errors
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["cloudtrail:LookupEvents"]);
    let report = sickbay::analyze(&snap, &sickbay::RuleSet::builtin().unwrap());
    assert_eq!(report.status, sickbay::report::Status::Incomplete);
}
