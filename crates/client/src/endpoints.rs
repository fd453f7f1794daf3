//! The AWS endpoints a service is reached at, by region (China's regions are in another DNS zone).

/// The DNS suffix of the partition `region` is in: `amazonaws.com`, `amazonaws.com.cn` for
/// `cn-*` regions, and the isolated partitions' own.
pub fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if region.starts_with("us-isob-") {
        "sc2s.sgov.gov"
    } else if region.starts_with("us-iso-") {
        "c2s.ic.gov"
    } else {
        "amazonaws.com"
    }
}

/// The management API of a stage: `https://{api_id}.execute-api.{region}.amazonaws.com/{stage}`.
pub fn management_endpoint(api_id: &str, region: &str, stage: &str) -> String {
    format!(
        "https://{api_id}.execute-api.{region}.{}/{stage}",
        dns_suffix(region)
    )
}

/// DynamoDB in `region`: `https://dynamodb.{region}.amazonaws.com`.
pub fn dynamodb_endpoint(region: &str) -> String {
    format!("https://dynamodb.{region}.{}", dns_suffix(region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_regions_use_the_cn_suffix() {
        assert_eq!(
            management_endpoint("abc123", "eu-west-1", "dev"),
            "https://abc123.execute-api.eu-west-1.amazonaws.com/dev"
        );
        assert_eq!(
            management_endpoint("abc123", "cn-north-1", "prod"),
            "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod"
        );
        assert_eq!(
            dynamodb_endpoint("us-east-1"),
            "https://dynamodb.us-east-1.amazonaws.com"
        );
        assert_eq!(
            dynamodb_endpoint("cn-northwest-1"),
            "https://dynamodb.cn-northwest-1.amazonaws.com.cn"
        );
    }
}
