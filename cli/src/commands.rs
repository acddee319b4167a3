//! The API's three operations: the request each sends and the output each prints.

use http::Method;
use serde_json::Value;

use crate::{
    answer::ApiAnswer,
    client::{ApiClient, ApiRequest, segment},
    exit::Failure,
    input::{ClientToken, ConfirmRequest, Operation, ResetRequest},
};

/// `GET /v1/targets`.
pub async fn list_targets(client: &ApiClient) -> Result<Value, Failure> {
    let answer = client
        .send(&ApiRequest {
            operation: Operation::ListTargets,
            method: Method::GET,
            path: "/v1/targets".into(),
            body: None,
            idempotency_key: None,
        })
        .await?;
    Ok(answer.body)
}

/// The path of a reset: the caller's own account without a user name.
pub fn reset_path(target: &str, user_name: Option<&str>) -> String {
    match user_name {
        None => format!("/v1/targets/{}/password-reset", segment(target)),
        Some(user) => format!(
            "/v1/targets/{}/users/{}/password-reset",
            segment(target),
            segment(user)
        ),
    }
}

/// The path of a confirmation.
pub fn confirm_path(target: &str) -> String {
    format!("/v1/targets/{}/password-reset/confirm", segment(target))
}

/// `POST .../password-reset`, with the idempotency key in `Idempotency-Key`.
pub async fn reset_user_password(
    client: &ApiClient,
    request: &ResetRequest,
) -> Result<Value, Failure> {
    let answer = client
        .send(&ApiRequest {
            operation: Operation::ResetUserPassword,
            method: Method::POST,
            path: reset_path(&request.target, request.user_name.as_deref()),
            body: Some(request.body()),
            idempotency_key: Some(request.client_token.value.clone()),
        })
        .await?;
    Ok(output(answer, &request.client_token))
}

/// `POST .../password-reset/confirm` with `{"code", "password"}`.
pub async fn confirm_password_reset(
    client: &ApiClient,
    request: &ConfirmRequest,
) -> Result<Value, Failure> {
    let answer = client
        .send(&ApiRequest {
            operation: Operation::ConfirmPasswordReset,
            method: Method::POST,
            path: confirm_path(&request.target),
            body: Some(request.body()),
            idempotency_key: Some(request.client_token.value.clone()),
        })
        .await?;
    Ok(output(answer, &request.client_token))
}

/// The answer, plus `clientToken` (so a retry can reuse it) and `replayed` when the answer was
/// the first one's, again.
pub fn output(answer: ApiAnswer, client_token: &ClientToken) -> Value {
    let mut body = answer.body;
    if let Value::Object(map) = &mut body {
        map.insert(
            "clientToken".into(),
            Value::String(client_token.value.clone()),
        );
        if answer.replayed {
            map.insert("replayed".into(), Value::Bool(true));
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_each_segment_once() {
        assert_eq!(
            reset_path("app-users", None),
            "/v1/targets/app-users/password-reset"
        );
        assert_eq!(
            reset_path("app-users", Some("bob@example.com")),
            "/v1/targets/app-users/users/bob%40example.com/password-reset"
        );
        assert_eq!(
            reset_path("corp-ad", Some("bob jones/..")),
            "/v1/targets/corp-ad/users/bob%20jones%2F../password-reset"
        );
        assert_eq!(
            confirm_path("app users"),
            "/v1/targets/app%20users/password-reset/confirm"
        );
    }

    #[test]
    fn the_output_carries_the_client_token_and_replays() {
        let token = ClientToken {
            value: "k-1".into(),
            generated: true,
        };
        let fresh = output(
            ApiAnswer {
                body: serde_json::json!({"password": "x"}),
                replayed: false,
            },
            &token,
        );
        assert_eq!(
            fresh,
            serde_json::json!({"password": "x", "clientToken": "k-1"})
        );
        let replay = output(
            ApiAnswer {
                body: serde_json::json!({"passwordDelivered": "earlier"}),
                replayed: true,
            },
            &token,
        );
        assert_eq!(
            replay,
            serde_json::json!({"passwordDelivered": "earlier", "clientToken": "k-1", "replayed": true})
        );
    }
}
