//! The CLI asks for the AWS SDK crates exactly as the Lambda does: another feature would make
//! Cargo build the SDK twice (once for `cargo build`, once for `--workspace` builds).

use std::collections::BTreeMap;

/// `name -> (default-features, features)` of the `aws-*` lines of a manifest's dependencies.
fn aws_crates(manifest: &str) -> BTreeMap<String, String> {
    let dependencies = manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .expect("a [dependencies] table")
        .split("\n[")
        .next()
        .unwrap();
    dependencies
        .lines()
        .filter(|line| line.starts_with("aws-") && line.contains("features"))
        .map(|line| {
            let (name, spec) = line.split_once('=').unwrap();
            let spec: String = spec.split_whitespace().collect();
            let features = spec
                .split("features=[")
                .nth(1)
                .map(|rest| rest.split(']').next().unwrap().to_owned())
                .unwrap_or_default();
            let no_defaults = spec.contains("default-features=false");
            (
                name.trim().to_owned(),
                format!("default-features={}; [{features}]", !no_defaults),
            )
        })
        .collect()
}

#[test]
fn the_sdk_crates_have_the_lambdas_feature_sets() {
    let root = aws_crates(include_str!("../../Cargo.toml"));
    let cli = aws_crates(include_str!("../Cargo.toml"));
    let sdk_features = root
        .get("aws-sdk-dynamodb")
        .expect("the Lambda depends on aws-sdk-dynamodb")
        .clone();
    assert!(!cli.is_empty());
    for (name, features) in &cli {
        let expected = root.get(name).unwrap_or(&sdk_features);
        assert_eq!(
            features, expected,
            "{name}: the CLI must ask for the Lambda's feature set"
        );
    }
}
