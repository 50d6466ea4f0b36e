//! Where and as whom AWS is called: the SDK configuration loaded with the full default
//! chain and checked before anything else runs, the HTTPS client every call goes
//! through, and the SDK clients the collectors share. Kept apart from the collection
//! run, which only uses them.

use super::{ctx, AwsSettings, Fatal};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// The SDK clients the collectors use.
#[derive(Clone)]
pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub rds: aws_sdk_rds::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub iam: aws_sdk_iam::Client,
    pub efs: aws_sdk_efs::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// The configuration the clients came from (absent for mock clients): used for
    /// Logs clients of other regions (`awslogs-region`).
    pub config: Option<SdkConfig>,
    pub region: String,
    /// The endpoint named in connection errors.
    pub endpoint: String,
}

impl Clients {
    /// Clients for an SDK configuration.
    pub fn from_config(cfg: &SdkConfig) -> Clients {
        let region = cfg.region().map(|r| r.to_string()).unwrap_or_default();
        let endpoint = cfg
            .endpoint_url()
            .map(String::from)
            .unwrap_or_else(|| format!("https://ecs.{region}.amazonaws.com"));
        Clients {
            ecs: aws_sdk_ecs::Client::new(cfg),
            logs: aws_sdk_cloudwatchlogs::Client::new(cfg),
            ec2: aws_sdk_ec2::Client::new(cfg),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(cfg),
            rds: aws_sdk_rds::Client::new(cfg),
            ecr: aws_sdk_ecr::Client::new(cfg),
            iam: aws_sdk_iam::Client::new(cfg),
            efs: aws_sdk_efs::Client::new(cfg),
            cloudtrail: aws_sdk_cloudtrail::Client::new(cfg),
            secrets: aws_sdk_secretsmanager::Client::new(cfg),
            ssm: aws_sdk_ssm::Client::new(cfg),
            config: Some(cfg.clone()),
            region,
            endpoint,
        }
    }

    /// Logs clients for the regions other than the default one that task definitions
    /// send logs to.
    pub(super) fn regional_logs(
        &self,
        regions: &BTreeSet<String>,
    ) -> HashMap<String, aws_sdk_cloudwatchlogs::Client> {
        let Some(cfg) = &self.config else {
            return HashMap::new();
        };
        regions
            .iter()
            .filter(|r| **r != self.region)
            .map(|r| {
                let conf = aws_sdk_cloudwatchlogs::config::Builder::from(cfg)
                    .region(Region::new(r.clone()))
                    .build();
                (r.clone(), aws_sdk_cloudwatchlogs::Client::from_conf(conf))
            })
            .collect()
    }
}

/// The HTTPS client every AWS call goes through: rustls with ring and the platform's
/// root certificates.
pub fn https_client() -> aws_sdk_ecs::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Loads the AWS configuration with the full default chain (environment, profiles, SSO,
/// container and instance credentials), `--profile`, `--region` and `--endpoint-url`,
/// with standard retries and timeouts; then checks that a region and credentials exist.
pub async fn load_config(s: &AwsSettings, call_timeout: Duration) -> Result<SdkConfig, Fatal> {
    let given = [
        ("--region", &s.region),
        ("--profile", &s.profile),
        ("--endpoint-url", &s.endpoint_url),
    ];
    if let Some((flag, _)) = given
        .iter()
        .find(|(_, v)| v.as_deref().is_some_and(|v| v.trim().is_empty()))
    {
        return Err(Fatal::Empty(flag));
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(call_timeout.min(Duration::from_secs(10)))
                .operation_timeout(call_timeout)
                .build(),
        );
    if let Some(p) = &s.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &s.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &s.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let cfg = loader.load().await;
    // An empty AWS_REGION is no region either.
    if cfg.region().is_none_or(|r| r.as_ref().trim().is_empty()) {
        return Err(Fatal::NoRegion);
    }
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = cfg.credentials_provider() else {
        return Err(Fatal::NoCredentials("no credentials provider".into()));
    };
    if let Err(e) = provider.provide_credentials().await {
        let reason = match &e {
            aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_) => {
                "none in the environment, profiles, SSO cache, container or instance metadata"
                    .to_string()
            }
            other => ctx::reason_of(other),
        };
        return Err(Fatal::NoCredentials(reason));
    }
    Ok(cfg)
}
