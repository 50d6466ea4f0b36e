//! ECR: whether each ECR image the task definitions in use name exists (DescribeImages
//! by tag or digest), and which platforms an image index offers (BatchGetImage, the
//! manifest only). A single-platform manifest keeps its architecture in the config blob,
//! which is a layer download and is not read. Images in other registries, regions or
//! accounts than the clients' are not checked.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{ImageCheck, TaskDefinition};
use aws_sdk_ecr::types::ImageIdentifier;
use std::collections::BTreeSet;

/// Media types a manifest may be answered in.
const MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// An ECR image reference, parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EcrImage {
    pub image: String,
    pub account: String,
    pub region: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Parses `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@DIGEST]`.
pub fn parse(image: &str) -> Option<EcrImage> {
    let (host, rest) = image.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    if !host.ends_with(".amazonaws.com") && !host.ends_with(".amazonaws.com.cn") {
        return None;
    }
    let (repo, tag, digest) = if let Some((r, d)) = rest.split_once('@') {
        (r, None, Some(d.to_string()))
    } else {
        // A colon after the last slash is the tag.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        match rest[slash..].rfind(':') {
            Some(i) => (
                &rest[..slash + i],
                Some(rest[slash + i + 1..].to_string()),
                None,
            ),
            None => (rest, Some("latest".to_string()), None),
        }
    };
    Some(EcrImage {
        image: image.to_string(),
        account: account.to_string(),
        region: region.to_string(),
        repository: repo.to_string(),
        tag,
        digest,
    })
}

/// The ECR images of `tds` in `region`.
pub fn wanted(tds: &[TaskDefinition], region: &str) -> BTreeSet<EcrImage> {
    tds.iter()
        .flat_map(|t| t.containers.iter())
        .filter_map(|c| parse(&c.image))
        .filter(|i| region.is_empty() || i.region == region)
        .collect()
}

/// Looks every image up; a denied or failed lookup leaves it out (named in
/// `collect_errors`).
pub async fn check(
    ctx: &Ctx,
    client: &aws_sdk_ecr::Client,
    images: &BTreeSet<EcrImage>,
) -> Vec<ImageCheck> {
    let out = ctx
        .each(images.iter().cloned(), |img| async move {
            check_one(ctx, client, img).await
        })
        .await;
    out.into_iter().flatten().collect()
}

fn id_of(img: &EcrImage) -> ImageIdentifier {
    ImageIdentifier::builder()
        .set_image_tag(img.tag.clone())
        .set_image_digest(img.digest.clone())
        .build()
}

async fn check_one(ctx: &Ctx, client: &aws_sdk_ecr::Client, img: EcrImage) -> Option<ImageCheck> {
    let req = client
        .describe_images()
        .registry_id(&img.account)
        .repository_name(&img.repository)
        .image_ids(id_of(&img));
    match ctx.call(Op::EcrDescribeImages, req.send()).await {
        Ok(_) => {}
        Err(f) if f.code == "ImageNotFoundException" || f.code == "RepositoryNotFoundException" => {
            return Some(ImageCheck {
                image: img.image,
                exists: false,
                platforms: Vec::new(),
                note: Some(f.code),
            });
        }
        Err(f) => {
            ctx.record(Op::EcrDescribeImages, &f, None);
            return None;
        }
    }
    let req = client
        .batch_get_image()
        .registry_id(&img.account)
        .repository_name(&img.repository)
        .image_ids(id_of(&img))
        .set_accepted_media_types(Some(MEDIA_TYPES.iter().map(|m| m.to_string()).collect()));
    let platforms = match ctx.get(Op::EcrBatchGetImage, req.send()).await {
        Some(o) => o
            .images()
            .first()
            .and_then(|i| i.image_manifest())
            .map(platforms_of)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Some(ImageCheck {
        image: img.image,
        exists: true,
        platforms,
        note: None,
    })
}

/// `os/architecture[/variant]` of each manifest of an image index; empty for a single
/// manifest. Attestation entries (`unknown/unknown`) are skipped.
pub fn platforms_of(manifest: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(manifest) else {
        return Vec::new();
    };
    let mut out: Vec<String> = v["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let p = &m["platform"];
            let (os, arch) = (p["os"].as_str()?, p["architecture"].as_str()?);
            if os == "unknown" {
                return None;
            }
            Some(match p["variant"].as_str() {
                Some(var) => format!("{os}/{arch}/{var}"),
                None => format!("{os}/{arch}"),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_digests_and_nested_repos() {
        let i = parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:1.2").unwrap();
        assert_eq!(
            (i.repository.as_str(), i.tag.as_deref()),
            ("team/api", Some("1.2"))
        );
        let i = parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/api").unwrap();
        assert_eq!(i.tag.as_deref(), Some("latest"));
        let i = parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:abc").unwrap();
        assert_eq!(
            (i.digest.as_deref(), i.region.as_str()),
            (Some("sha256:abc"), "eu-west-1")
        );
        assert!(parse("nginx:1.27").is_none());
        assert!(parse("public.ecr.aws/nginx/nginx:1").is_none());
    }

    #[test]
    fn index_platforms_without_attestations() {
        let idx = r#"{"schemaVersion":2,"manifests":[
            {"digest":"sha256:a","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
            {"digest":"sha256:b","platform":{"os":"unknown","architecture":"unknown"}}]}"#;
        assert_eq!(platforms_of(idx), ["linux/arm64/v8"]);
        assert!(platforms_of(r#"{"schemaVersion":2,"config":{}}"#).is_empty());
        assert!(platforms_of("not json").is_empty());
    }
}
