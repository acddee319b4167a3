//! DynamoDB tables for the tests, one per test, on moto or dynalite.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
        ScalarAttributeType,
    },
};

use super::calls::Calls;

/// A DynamoDB client that counts its calls.
pub fn client(sdk: &SdkConfig, calls: &Calls) -> Client {
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build(),
    )
}

/// Creates an idempotency table (partition key `id`, string) with a unique name.
pub async fn create_table(client: &Client) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "resetgate-idem-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create_table");
    // dynalite makes a table ACTIVE on a timer (`--createTableMs 0`), and answers a write to a
    // table still CREATING with ResourceNotFound: on a loaded machine the first write could
    // race it. DynamoDB itself asks callers to wait for ACTIVE.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = client
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .expect("describe_table")
            .table()
            .and_then(|table| table.table_status().cloned());
        if status == Some(aws_sdk_dynamodb::types::TableStatus::Active) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "table {name} not ACTIVE: {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    name
}

/// Every item of a table.
pub async fn scan(client: &Client, table: &str) -> Vec<HashMap<String, AttributeValue>> {
    client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .expect("scan")
        .items()
        .to_vec()
}
