//! The request body of a reset: size, media type and JSON, each refused with its own code.

use lambda_http::{http::HeaderMap, http::header::CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::Error;

/// Largest accepted body, in bytes (the contract's 16 KiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Checks size and media type, then parses the body: a JSON object. serde's derived
/// `Deserialize` would also take a JSON array, positionally (`["set", "a password"]`), which
/// `deny_unknown_fields` does not stop; the contract accepts an object only.
pub fn parse_body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, Error> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    if !is_json(headers) {
        return Err(Error::UnsupportedMediaType);
    }
    // RFC 8259 §2: optional white space, then the value; an object starts with `{`.
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first.is_some_and(|b| *b != b'{') {
        return Err(Error::invalid("The body must be a JSON object."));
    }
    serde_json::from_slice(bytes).map_err(|error| body_error(&error))
}

/// `application/json`, any case, with at most a UTF-8 charset parameter (RFC 8259 §8.1).
fn is_json(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let essence_ok = parts
        .next()
        .is_some_and(|essence| essence.eq_ignore_ascii_case("application/json"));
    essence_ok
        && parts.filter(|p| !p.is_empty()).all(|parameter| {
            parameter.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("charset")
                    && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            })
        })
}

/// A 400 that explains what is wrong without echoing a value: serde's messages for wrong
/// types and unknown variants quote the value, which could be a password in the wrong field.
fn body_error(error: &serde_json::Error) -> Error {
    match error.classify() {
        Category::Data => {
            let message = error.to_string();
            let field = message.split('`').nth(1).filter(|name| {
                name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
            match (
                message.starts_with("unknown field"),
                message.starts_with("missing field"),
                field,
            ) {
                (true, _, Some(field)) => Error::InvalidRequest(
                    format!("Unknown field `{field}` in the request body.").into(),
                ),
                (true, _, None) => Error::invalid("The request body has an unknown field."),
                (_, true, Some(field)) => Error::InvalidRequest(
                    format!("The request body needs the field `{field}`.").into(),
                ),
                _ => Error::invalid(
                    "A field of the request body has the wrong type or an invalid value.",
                ),
            }
        }
        Category::Syntax | Category::Eof | Category::Io => {
            Error::invalid("The request body is not valid JSON.")
        }
    }
}

#[cfg(test)]
mod tests {
    use lambda_http::http::HeaderValue;
    use secrecy::ExposeSecret;

    use super::*;
    use crate::{app::ResetRequestBody, reset::Mode};

    fn headers(content_type: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).expect("header"));
        }
        headers
    }

    fn parse(content_type: Option<&str>, body: &str) -> Result<ResetRequestBody, Error> {
        parse_body(&headers(content_type), body.as_bytes())
    }

    #[test]
    fn body_table() {
        let json = Some("application/json");
        let big = format!(
            r#"{{"mode":"set","password":"{}"}}"#,
            "x".repeat(MAX_BODY_BYTES)
        );
        let cases: Vec<(Option<&str>, &str, Result<Mode, &str>)> = vec![
            (json, r#"{"mode":"code"}"#, Ok(Mode::Code)),
            (
                Some("Application/JSON; charset=UTF-8"),
                r#"{"mode":"generate"}"#,
                Ok(Mode::Generate),
            ),
            (json, r#"{"mode":"set","password":"x"}"#, Ok(Mode::Set)),
            (
                json,
                r#"{"mode":"code","clientMetadata":{"a":"b"},"clientToken":"k"}"#,
                Ok(Mode::Code),
            ),
            (None, r#"{"mode":"code"}"#, Err("UNSUPPORTED_MEDIA_TYPE")),
            (
                Some("text/plain"),
                r#"{"mode":"code"}"#,
                Err("UNSUPPORTED_MEDIA_TYPE"),
            ),
            (
                Some("application/json; charset=latin1"),
                r#"{"mode":"code"}"#,
                Err("UNSUPPORTED_MEDIA_TYPE"),
            ),
            (
                Some("application/jsonx"),
                r#"{"mode":"code"}"#,
                Err("UNSUPPORTED_MEDIA_TYPE"),
            ),
            (json, &big, Err("PAYLOAD_TOO_LARGE")),
            (json, "", Err("INVALID_REQUEST")),
            (json, r#"{"mode":"generate""#, Err("INVALID_REQUEST")),
            (json, r#"{"mode":"reboot"}"#, Err("INVALID_REQUEST")),
            (
                json,
                r#"{"mode":"code","userPoolId":"us-east-1_Evil"}"#,
                Err("INVALID_REQUEST"),
            ),
            (json, r#"{"password":"x"}"#, Err("INVALID_REQUEST")),
            (json, r#"[]"#, Err("INVALID_REQUEST")),
            (
                json,
                r#"{"mode":"set","password":42}"#,
                Err("INVALID_REQUEST"),
            ),
            (
                json,
                r#"{"mode":"code","mode":"set"}"#,
                Err("INVALID_REQUEST"),
            ),
        ];
        for (content_type, body, expected) in cases {
            match (parse(content_type, body), expected) {
                (Ok(parsed), Ok(mode)) => assert_eq!(parsed.mode, mode, "{body}"),
                (Err(error), Err(code)) => {
                    assert_eq!(error.code(), code, "{content_type:?} {body}")
                }
                (got, expected) => {
                    panic!("{content_type:?} {body}: got {got:?}, expected {expected:?}")
                }
            }
        }
    }

    #[test]
    fn messages_name_fields_but_never_echo_values() {
        let canary = "Canary-Secret-9f2b";
        let cases = [
            format!(r#"{{"mode":"{canary}"}}"#),
            format!(r#"{{"mode":"set","password":["{canary}"]}}"#),
            format!(r#"{{"mode":"set","clientToken":{{"{canary}":1}}}}"#),
            format!(r#"{{"mode":"set","password":"{canary}""#),
        ];
        for body in cases {
            let error = parse(Some("application/json"), &body).expect_err(&body);
            assert!(
                !error.spec().detail.contains(canary),
                "{body} -> {}",
                error.spec().detail
            );
            assert!(!format!("{error:?}").contains(canary), "{body}");
        }
        let error = parse(
            Some("application/json"),
            r#"{"mode":"code","userPoolId":"x"}"#,
        )
        .expect_err("unknown");
        assert!(error.spec().detail.contains("`userPoolId`"));
    }

    #[test]
    fn the_password_is_kept_exactly_and_never_shown() {
        let body = parse(
            Some("application/json"),
            r#"{"mode":"set","password":"  Exact Pässword \u00e9 "}"#,
        )
        .expect("valid");
        assert_eq!(
            body.password.as_ref().map(|p| p.expose_secret()),
            Some("  Exact Pässword é ")
        );
        assert!(!format!("{body:?}").contains("Exact"));
    }
}
