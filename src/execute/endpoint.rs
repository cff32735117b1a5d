//! Where a request goes: the service's regional endpoint, a global one (Route 53, CloudFront,
//! IAM, Support), S3's virtual-hosted bucket addresses, or an endpoint override (a local
//! emulator), where S3 is addressed path-style as the AWS CLI does for an IP address.

use super::protocol::WireRequest;
use crate::catalog::Service;

/// A request's address and the region its signature names.
#[derive(Debug, PartialEq, Eq)]
pub struct Address {
    /// `https://host[:port]` without a trailing slash.
    pub base: String,
    /// Path and query, starting with `/`.
    pub path_and_query: String,
    pub signing_region: String,
}

/// Services with one endpoint per partition, signed for its first region (botocore's
/// `endpoints.json`: `isRegionalized: false` and their `partitionEndpoint`).
fn global(service: &Service, region: &str) -> Option<(&'static str, &'static str)> {
    let china = region.starts_with("cn-");
    Some(match (service.endpoint_prefix.as_str(), china) {
        ("route53", false) => ("route53.amazonaws.com", "us-east-1"),
        ("route53", true) => ("route53.amazonaws.com.cn", "cn-northwest-1"),
        ("cloudfront", false) => ("cloudfront.amazonaws.com", "us-east-1"),
        ("cloudfront", true) => (
            "cloudfront.cn-northwest-1.amazonaws.com.cn",
            "cn-northwest-1",
        ),
        ("iam", false) => ("iam.amazonaws.com", "us-east-1"),
        ("iam", true) => ("iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("support", false) => ("support.us-east-1.amazonaws.com", "us-east-1"),
        ("organizations", false) => ("organizations.us-east-1.amazonaws.com", "us-east-1"),
        _ => return None,
    })
}

/// Whether S3 can address the bucket as a host name: a DNS label (no dots, which the
/// certificate's wildcard would not cover), as botocore's `isVirtualHostableS3Bucket`.
fn virtual_hostable(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

pub fn resolve(
    service: &Service,
    wire: &WireRequest,
    region: &str,
    endpoint_override: Option<&str>,
) -> Address {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    let path_and_query = wire.path_and_query.clone();
    if let Some(url) = endpoint_override {
        let signing_region = global(service, region)
            .map_or(region, |(_, r)| r)
            .to_owned();
        return Address {
            base: url.trim_end_matches('/').to_owned(),
            path_and_query,
            signing_region,
        };
    }
    let prefix = wire.host_prefix.as_deref().unwrap_or_default();
    if let Some((host, signing_region)) = global(service, region) {
        return Address {
            base: format!("https://{prefix}{host}"),
            path_and_query,
            signing_region: signing_region.to_owned(),
        };
    }
    if service.signing_name == "s3" {
        // us-east-1 is S3's global endpoint (botocore's default, `legacy`).
        let host = if region == "us-east-1" {
            format!("s3.{suffix}")
        } else {
            format!("s3.{region}.{suffix}")
        };
        if let Some(bucket) = wire.bucket.as_deref().filter(|b| virtual_hostable(b)) {
            let rest = path_and_query
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(bucket))
                .filter(|p| p.is_empty() || p.starts_with(['/', '?']));
            if let Some(rest) = rest {
                let path = if rest.starts_with('/') {
                    rest.to_owned()
                } else {
                    format!("/{rest}")
                };
                return Address {
                    base: format!("https://{bucket}.{host}"),
                    path_and_query: path,
                    signing_region: region.to_owned(),
                };
            }
        }
        return Address {
            base: format!("https://{host}"),
            path_and_query,
            signing_region: region.to_owned(),
        };
    }
    Address {
        base: format!(
            "https://{prefix}{}.{region}.{suffix}",
            service.endpoint_prefix
        ),
        path_and_query,
        signing_region: region.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

    fn address(
        service: &str,
        op: &str,
        params: serde_json::Value,
        region: &str,
        over: Option<&str>,
    ) -> Address {
        let s = Catalog::builtin().service(service).unwrap();
        let o = s.operation(op).unwrap();
        let wire = super::super::protocol::serialize(s, o, params.as_object().unwrap());
        resolve(s, &wire, region, over)
    }

    #[test]
    fn s3_buckets_are_virtual_hosts_in_aws_and_paths_against_an_emulator() {
        let a = address(
            "s3api",
            "list-objects-v2",
            json!({"Bucket": "my-bucket"}),
            "eu-west-1",
            None,
        );
        assert_eq!(a.base, "https://my-bucket.s3.eu-west-1.amazonaws.com");
        assert!(
            a.path_and_query.starts_with("/?list-type=2"),
            "{}",
            a.path_and_query
        );
        let a = address(
            "s3api",
            "head-object",
            json!({"Bucket": "my-bucket", "Key": "a/b c"}),
            "us-east-1",
            None,
        );
        assert_eq!(a.base, "https://my-bucket.s3.amazonaws.com");
        assert_eq!(a.path_and_query, "/a/b%20c");
        // A dotted name can't be a virtual host under the wildcard certificate.
        let a = address(
            "s3api",
            "get-bucket-tagging",
            json!({"Bucket": "my.bucket"}),
            "eu-west-1",
            None,
        );
        assert_eq!(a.base, "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(a.path_and_query, "/my.bucket?tagging");
        let a = address("s3api", "list-buckets", json!({}), "us-east-1", None);
        assert_eq!(
            (a.base.as_str(), a.path_and_query.as_str()),
            ("https://s3.amazonaws.com", "/")
        );
        let a = address(
            "s3api",
            "list-objects-v2",
            json!({"Bucket": "my-bucket"}),
            "eu-west-1",
            Some("http://127.0.0.1:5000/"),
        );
        assert_eq!(a.base, "http://127.0.0.1:5000");
        assert!(
            a.path_and_query.starts_with("/my-bucket?list-type=2"),
            "{}",
            a.path_and_query
        );
        assert_eq!(a.signing_region, "eu-west-1");
    }

    #[test]
    fn global_services_are_signed_for_their_partitions_region() {
        let a = address("route53", "list-hosted-zones", json!({}), "eu-west-1", None);
        assert_eq!(
            (a.base.as_str(), a.signing_region.as_str()),
            ("https://route53.amazonaws.com", "us-east-1")
        );
        let a = address(
            "cloudfront",
            "list-distributions",
            json!({}),
            "ap-south-1",
            Some("http://127.0.0.1:1"),
        );
        assert_eq!(
            (a.base.as_str(), a.signing_region.as_str()),
            ("http://127.0.0.1:1", "us-east-1")
        );
        // A host prefix goes before the service's host, not before an override.
        let a = address(
            "logs",
            "start-live-tail",
            json!({"logGroupIdentifiers": ["g"]}),
            "eu-west-1",
            None,
        );
        assert_eq!(a.base, "https://stream-logs.eu-west-1.amazonaws.com");
        let a = address(
            "logs",
            "start-live-tail",
            json!({}),
            "eu-west-1",
            Some("http://127.0.0.1:1"),
        );
        assert_eq!(a.base, "http://127.0.0.1:1");
        let a = address("ec2", "describe-vpcs", json!({}), "eu-west-1", None);
        assert_eq!(
            (a.base.as_str(), a.signing_region.as_str()),
            ("https://ec2.eu-west-1.amazonaws.com", "eu-west-1")
        );
    }
}
