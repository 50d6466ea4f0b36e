//! Seeding helpers shared by the live tests: a Tokio runtime, SDK clients for moto, and
//! builders for VPCs, clusters, task definitions, services, tasks and logs.

#![allow(dead_code)]

use super::moto::{self, rules, unique, REGION};
use aws_sdk_ec2::types::AttributeBooleanValue;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder as RegisterTd;
use aws_sdk_ecs::types::builders::ContainerDefinitionBuilder;
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, KeyValuePair, LaunchType,
    LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode,
};

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Seeding clients for one test.
pub struct Aws {
    pub ecs: aws_sdk_ecs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
}

pub struct Net {
    pub subnet: String,
    pub sg: String,
    pub vpc: String,
}

impl Aws {
    pub async fn new() -> Aws {
        let cfg = moto::sdk_config().await;
        Aws {
            ecs: aws_sdk_ecs::Client::new(&cfg),
            logs: aws_sdk_cloudwatchlogs::Client::new(&cfg),
            ec2: aws_sdk_ec2::Client::new(&cfg),
            rds: aws_sdk_rds::Client::new(&cfg),
        }
    }

    /// A VPC of its own (DNS hostnames on, which moto needs for awsvpc tasks), a subnet
    /// and a security group.
    pub async fn network(&self, second_octet: u8) -> Net {
        let vpc = self
            .ec2
            .create_vpc()
            .cidr_block(format!("10.{second_octet}.0.0/16"))
            .send()
            .await
            .unwrap();
        let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
        self.ec2
            .modify_vpc_attribute()
            .vpc_id(&vpc)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .unwrap();
        let subnet = self
            .ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.{second_octet}.1.0/24"))
            .send()
            .await
            .unwrap();
        let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
        let sg = self.sg(&vpc, "app").await;
        // A healthy way out: the main route table sends 0.0.0.0/0 to a NAT gateway.
        let nat = self.nat_gateway(&subnet).await;
        let main = self.main_route_table(&vpc).await;
        self.ec2
            .create_route()
            .route_table_id(&main)
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(&nat)
            .send()
            .await
            .unwrap();
        Net { subnet, sg, vpc }
    }

    pub async fn nat_gateway(&self, subnet: &str) -> String {
        let eip = self
            .ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .unwrap();
        self.ec2
            .create_nat_gateway()
            .subnet_id(subnet)
            .allocation_id(eip.allocation_id().unwrap())
            .send()
            .await
            .unwrap()
            .nat_gateway()
            .unwrap()
            .nat_gateway_id()
            .unwrap()
            .to_string()
    }

    pub async fn main_route_table(&self, vpc: &str) -> String {
        let out = self
            .ec2
            .describe_route_tables()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("vpc-id")
                    .values(vpc)
                    .build(),
            )
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("association.main")
                    .values("true")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.route_tables()[0].route_table_id().unwrap().to_string()
    }

    /// A subnet with a route table of its own holding only the local route: no way out.
    /// Returns (subnet, route table).
    pub async fn isolated_subnet(&self, vpc: &str, cidr: &str) -> (String, String) {
        let subnet = self
            .ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(cidr)
            .send()
            .await
            .unwrap();
        let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
        let rtb = self
            .ec2
            .create_route_table()
            .vpc_id(vpc)
            .send()
            .await
            .unwrap();
        let rtb = rtb
            .route_table()
            .unwrap()
            .route_table_id()
            .unwrap()
            .to_string();
        self.ec2
            .associate_route_table()
            .route_table_id(&rtb)
            .subnet_id(&subnet)
            .send()
            .await
            .unwrap();
        (subnet, rtb)
    }

    pub async fn sg(&self, vpc: &str, name: &str) -> String {
        self.ec2
            .create_security_group()
            .group_name(unique(name))
            .description("sickbay test")
            .vpc_id(vpc)
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_string()
    }

    pub async fn cluster(&self, name: &str) {
        self.ecs
            .create_cluster()
            .cluster_name(name)
            .send()
            .await
            .unwrap();
    }

    /// Registers a revision of `family` with one awslogs container; returns its revision.
    pub async fn task_def(
        &self,
        family: &str,
        container: &str,
        image: &str,
        env: &[(&str, &str)],
        log_group: &str,
    ) -> i32 {
        let mut c = ContainerDefinition::builder()
            .name(container)
            .image(image)
            .memory(512)
            .essential(true)
            .log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", log_group)
                    .options("awslogs-stream-prefix", "ecs")
                    .options("awslogs-region", REGION)
                    .build()
                    .unwrap(),
            );
        for (k, v) in env {
            c = c.environment(KeyValuePair::builder().name(*k).value(*v).build());
        }
        self.fargate_td(family, c, |r| r).await
    }

    /// Registers a Fargate revision (awsvpc, 256 CPU, 512 MiB) of `family` with
    /// `container`; `more` adds roles, volumes or anything else. Returns its revision.
    pub async fn fargate_td(
        &self,
        family: &str,
        container: ContainerDefinitionBuilder,
        more: impl FnOnce(RegisterTd) -> RegisterTd,
    ) -> i32 {
        let req = self
            .ecs
            .register_task_definition()
            .family(family)
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(container.build());
        let out = more(req).send().await.unwrap();
        out.task_definition().unwrap().revision()
    }

    /// Admits tcp/`port` into security group `group` from the group `from`.
    pub async fn allow_tcp(&self, group: &str, port: i32, from: &str) {
        self.ec2
            .authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(
                aws_sdk_ec2::types::IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(port)
                    .to_port(port)
                    .user_id_group_pairs(
                        aws_sdk_ec2::types::UserIdGroupPair::builder()
                            .group_id(from)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    pub fn netconf(net: &Net) -> NetworkConfiguration {
        NetworkConfiguration::builder()
            .awsvpc_configuration(
                AwsVpcConfiguration::builder()
                    .subnets(&net.subnet)
                    .security_groups(&net.sg)
                    .build()
                    .unwrap(),
            )
            .build()
    }

    pub async fn service(&self, cluster: &str, name: &str, td: &str, net: &Net) {
        self.service_in(cluster, name, td, &[&net.subnet], &net.sg)
            .await;
    }

    /// A Fargate service whose tasks use `subnets` and `sg`.
    pub async fn service_in(
        &self,
        cluster: &str,
        name: &str,
        td: &str,
        subnets: &[&str],
        sg: &str,
    ) {
        let mut vpc = AwsVpcConfiguration::builder().security_groups(sg);
        for s in subnets {
            vpc = vpc.subnets(*s);
        }
        self.ecs
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(td)
            .desired_count(1)
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(vpc.build().unwrap())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Starts a task the way a service or a schedule would; returns its id.
    pub async fn run_task(&self, cluster: &str, td: &str, group: &str, net: &Net) -> String {
        let out = self
            .ecs
            .run_task()
            .cluster(cluster)
            .task_definition(td)
            .group(group)
            .started_by("ecs-svc/1234567890")
            .launch_type(LaunchType::Fargate)
            .network_configuration(Self::netconf(net))
            .send()
            .await
            .unwrap();
        let arn = out.tasks()[0].task_arn().unwrap();
        arn.rsplit('/').next().unwrap().to_string()
    }

    pub async fn stop_task(&self, cluster: &str, id: &str, reason: &str) {
        self.ecs
            .stop_task()
            .cluster(cluster)
            .task(id)
            .reason(reason)
            .send()
            .await
            .unwrap();
    }

    pub async fn log_group(&self, group: &str) {
        self.logs
            .create_log_group()
            .log_group_name(group)
            .send()
            .await
            .unwrap();
    }

    /// Writes lines to `prefix/container/task` in `group`, `minutes_ago` minutes back.
    pub async fn put_logs(&self, group: &str, stream: &str, minutes_ago: i64, lines: &[&str]) {
        self.logs
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
        let start = chrono::Utc::now().timestamp_millis() - minutes_ago * 60_000;
        let events: Vec<_> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(start + i as i64 * 1000)
                    .message(*l)
                    .build()
                    .unwrap()
            })
            .collect();
        self.logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }
}

pub fn finding<'a>(report: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {:?}", rules(report)))
}
