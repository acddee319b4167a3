//! The decisions' events end to end on moto: the function publishes to an EventBridge bus, a
//! rule on the bus forwards `source: resetgate` to an SQS queue, and the test reads them back
//! and checks each against OCSF 1.1 Account Change's required attributes, and for secrets.

mod support;

use serde_json::{Value, json};
use support::cognito::Pool;

const CANARY: &str = "Canary-Quarry-Mosaic-Tundra-7";

#[tokio::test]
async fn every_decision_reaches_the_bus_as_an_ocsf_account_change() {
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&sdk).await;

    // The bus, a queue, and a rule between them.
    let bus = format!(
        "resetgate-events-{}",
        pool.id.to_lowercase().replace('_', "-")
    );
    let queue_url = support::sinks::bus_to_queue(&sdk, &bus).await;

    let mut config: Value = serde_json::from_str(&pool.config()).expect("json");
    config["events"] = json!({"eventBusName": bus});
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let (app, _) = support::app(&config.to_string(), &sdk, &dynamodb).await;

    let alice = json!({"sub": "sub-alice", "cognito:username": "alice"});
    let helen =
        json!({"sub": "sub-helen", "cognito:username": "helen", "cognito:groups": "[helpdesk]"});
    let requests = [
        (
            "/v1/targets/app-users/password-reset",
            alice.clone(),
            json!({"mode": "set", "password": CANARY}),
            200,
        ),
        (
            "/v1/targets/app-users/users/bob/password-reset",
            alice,
            json!({"mode": "generate"}),
            403,
        ),
        (
            "/v1/targets/app-users/users/bob/password-reset",
            helen,
            json!({"mode": "generate"}),
            200,
        ),
    ];
    let mut answers = Vec::new();
    for (n, (path, claims, body, status)) in requests.into_iter().enumerate() {
        let mut event = support::http_api_event(path, claims, &body.to_string());
        event["headers"]["idempotency-key"] = format!("events-{n}").into();
        let response = app
            .handle_event(&event.to_string(), &lambda_http::Context::default())
            .await;
        assert_eq!(response.status_code, status, "{}", response.body);
        answers.push(response.body);
    }

    // Read everything the rule delivered.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut delivered: Vec<Value> = Vec::new();
    for _ in 0..10 {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive_message");
        for message in received.messages() {
            delivered.push(serde_json::from_str(message.body().unwrap_or("{}")).expect("JSON"));
        }
        if delivered.len() >= 3 {
            break;
        }
    }
    assert_eq!(delivered.len(), 3, "{delivered:#?}");
    let generated = serde_json::from_str::<Value>(&answers[2]).expect("json")["password"]
        .as_str()
        .expect("a generated password")
        .to_owned();
    let mut codes = Vec::new();
    for envelope in &delivered {
        assert_eq!(envelope["source"], "resetgate");
        assert_eq!(envelope["detail-type"], "Account Change");
        let detail = &envelope["detail"];
        // OCSF 1.1 Account Change: its required attributes, and their types.
        for (name, is_type) in [
            ("activity_id", Value::is_u64 as fn(&Value) -> bool),
            ("category_uid", Value::is_u64),
            ("class_uid", Value::is_u64),
            ("severity_id", Value::is_u64),
            ("time", Value::is_u64),
            ("type_uid", Value::is_u64),
            ("metadata", Value::is_object),
            ("user", Value::is_object),
        ] {
            assert!(is_type(&detail[name]), "{name}: {detail}");
        }
        assert_eq!(detail["class_uid"], 3001);
        assert!(detail["metadata"]["product"]["name"].is_string());
        assert!(detail["metadata"]["version"].is_string());
        let text = envelope.to_string();
        assert!(!text.contains(CANARY), "the chosen password: {text}");
        assert!(!text.contains(&generated), "the generated password: {text}");
        assert!(!text.contains("events-0"), "a raw idempotency key: {text}");
        codes.push((
            detail["unmapped"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            detail["user"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            detail["actor"]["user"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ));
    }
    codes.sort();
    assert_eq!(
        codes,
        [
            ("FORBIDDEN".to_owned(), "bob".to_owned(), "User".to_owned()),
            ("OK".to_owned(), "alice".to_owned(), "User".to_owned()),
            ("OK".to_owned(), "bob".to_owned(), "Admin".to_owned()),
        ]
    );
}
