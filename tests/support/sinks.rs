//! Where the function's events and e-mails land on moto, read back: an EventBridge bus whose
//! rule feeds an SQS queue (a SIEM's stand-in), and SES's record of the messages it sent.

use std::io::{Read, Write};

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use super::Server;

/// Creates the bus `bus` and a queue, with a rule sending resetgate's events (`source`
/// `resetgate`, `detail-type` `Account Change`) from the bus to the queue; returns the queue's
/// URL.
pub async fn bus_to_queue(sdk: &SdkConfig, bus: &str) -> String {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    events
        .create_event_bus()
        .name(bus)
        .send()
        .await
        .expect("create_event_bus");
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{bus}-siem"))
        .send()
        .await
        .expect("create_queue")
        .queue_url
        .expect("queue url");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("get_queue_attributes")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("queue arn");
    events
        .put_rule()
        .name("to-siem")
        .event_bus_name(bus)
        .event_pattern(
            json!({"source": ["resetgate"], "detail-type": ["Account Change"]}).to_string(),
        )
        .send()
        .await
        .expect("put_rule");
    events
        .put_targets()
        .rule("to-siem")
        .event_bus_name(bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("siem")
                .arn(&queue_arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("put_targets");
    queue_url
}

/// Every message on `queue_url` (as JSON), taken off the queue.
pub async fn drain(sdk: &SdkConfig, queue_url: &str) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut all = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive_message");
        if received.messages().is_empty() {
            return all;
        }
        for message in received.messages() {
            all.push(serde_json::from_str(message.body().unwrap_or("{}")).expect("JSON"));
            sqs.delete_message()
                .queue_url(queue_url)
                .set_receipt_handle(message.receipt_handle().map(str::to_owned))
                .send()
                .await
                .expect("delete_message");
        }
    }
}

/// A verified SES identity for `address`, so the function may send as it.
pub async fn verified_sender(sdk: &SdkConfig, address: &str) {
    aws_sdk_sesv2::Client::new(sdk)
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
        .expect("create_email_identity");
}

/// Every message moto's SES sent (its state, `/moto-api/data.json`), oldest first.
pub fn sent_mails(moto: &Server) -> Vec<Value> {
    let address = moto.endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("moto");
    write!(
        stream,
        "GET /moto-api/data.json HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let state: Value = serde_json::from_str(body).expect("JSON");
    state["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The messages of `mails` sent to `to`.
pub fn sent_to(mails: &[Value], to: &str) -> Vec<Value> {
    mails
        .iter()
        .filter(|message| message["destinations"]["ToAddresses"][0] == to)
        .cloned()
        .collect()
}
