//! Routing: method and path to one of the contract's endpoints.

use std::borrow::Cow;

use lambda_http::http::Method;
use percent_encoding::percent_decode_str;

use crate::error::Error;

/// An endpoint of the contract, with its path parameters decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /v1/targets`
    ListTargets,
    /// `POST /v1/targets/{target}/password-reset`
    ResetOwn { target: Cow<'a, str> },
    /// `POST /v1/targets/{target}/users/{username}/password-reset`
    ResetUser {
        target: Cow<'a, str>,
        username: Cow<'a, str>,
    },
    /// `POST /v1/targets/{target}/password-reset/confirm`
    ConfirmOwn { target: Cow<'a, str> },
}

impl Route<'_> {
    /// The target a reset route names (none for the listing).
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::ListTargets => None,
            Self::ResetOwn { target }
            | Self::ResetUser { target, .. }
            | Self::ConfirmOwn { target } => Some(target),
        }
    }
}

/// Finds the route for `method` and `path`. A leading stage segment (REST APIs and named
/// HTTP API stages put it in the event's path) is skipped when the path does not match without
/// it.
pub fn route<'a>(method: &Method, path: &'a str, stage: Option<&str>) -> Result<Route<'a>, Error> {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    let matched = match_segments(&segments).or_else(|| match (stage, segments.split_first()) {
        (Some(stage), Some((first, rest))) if stage != "$default" && *first == stage => {
            match_segments(rest)
        }
        _ => None,
    });
    let (route, allow) = matched.ok_or(Error::RouteNotFound)??;
    if method.as_str() != allow {
        return Err(Error::MethodNotAllowed { allow });
    }
    Ok(route)
}

/// The route for an API Gateway route template (`/v1/targets/{target}/password-reset`), with
/// the path parameters API Gateway decoded (once) from `param`; `None` when the template is not
/// one of ours (a `$default` route, `/{proxy+}`), so the path decides.
pub fn declared<'a>(
    template: &str,
    method: &Method,
    param: impl Fn(&str) -> Option<&'a str>,
) -> Option<Result<Route<'a>, Error>> {
    let missing = || Error::invalid("A path parameter is missing.");
    let (route, allow) = match template {
        "/v1/targets" => (Ok(Route::ListTargets), "GET"),
        "/v1/targets/{target}/password-reset" => (
            param("target")
                .map(|target| Route::ResetOwn {
                    target: Cow::Borrowed(target),
                })
                .ok_or_else(missing),
            "POST",
        ),
        "/v1/targets/{target}/password-reset/confirm" => (
            param("target")
                .map(|target| Route::ConfirmOwn {
                    target: Cow::Borrowed(target),
                })
                .ok_or_else(missing),
            "POST",
        ),
        "/v1/targets/{target}/users/{username}/password-reset" => (
            param("target")
                .zip(param("username"))
                .map(|(target, username)| Route::ResetUser {
                    target: Cow::Borrowed(target),
                    username: Cow::Borrowed(username),
                })
                .ok_or_else(missing),
            "POST",
        ),
        _ => return None,
    };
    if method.as_str() != allow {
        return Some(Err(Error::MethodNotAllowed { allow }));
    }
    Some(route)
}

type Matched<'a> = Result<(Route<'a>, &'static str), Error>;

fn match_segments<'a>(segments: &[&'a str]) -> Option<Matched<'a>> {
    let matched = match segments {
        ["v1", "targets"] => Ok((Route::ListTargets, "GET")),
        ["v1", "targets", target, "password-reset"] => {
            decode(target).map(|target| (Route::ResetOwn { target }, "POST"))
        }
        ["v1", "targets", target, "password-reset", "confirm"] => {
            decode(target).map(|target| (Route::ConfirmOwn { target }, "POST"))
        }
        ["v1", "targets", target, "users", username, "password-reset"] => {
            decode(target).and_then(|target| {
                decode(username).map(|username| (Route::ResetUser { target, username }, "POST"))
            })
        }
        _ => return None,
    };
    Some(matched)
}

/// Percent-decodes a path segment (API Gateway passes the path as the client encoded it).
fn decode(segment: &str) -> Result<Cow<'_, str>, Error> {
    percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| Error::invalid("A path parameter is not valid UTF-8 once percent-decoded."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_routes_use_api_gateways_parameters() {
        let params = |name: &str| match name {
            "target" => Some("app-users"),
            "username" => Some("a/b+c@example.com"),
            _ => None,
        };
        let user = declared(
            "/v1/targets/{target}/users/{username}/password-reset",
            &Method::POST,
            params,
        );
        assert_eq!(
            user.map(|r| r.ok()),
            Some(Some(Route::ResetUser {
                target: "app-users".into(),
                username: "a/b+c@example.com".into()
            }))
        );
        let own = declared("/v1/targets/{target}/password-reset", &Method::POST, params);
        assert_eq!(
            own.map(|r| r.ok()),
            Some(Some(Route::ResetOwn {
                target: "app-users".into()
            }))
        );
        let confirm = declared(
            "/v1/targets/{target}/password-reset/confirm",
            &Method::POST,
            params,
        );
        assert_eq!(
            confirm.map(|r| r.ok()),
            Some(Some(Route::ConfirmOwn {
                target: "app-users".into()
            }))
        );
        let list = declared("/v1/targets", &Method::POST, params).map(|r| r.map_err(|e| e.code()));
        assert_eq!(list, Some(Err("METHOD_NOT_ALLOWED")));
        assert!(declared("$default", &Method::GET, params).is_none());
        assert!(declared("/{proxy+}", &Method::GET, params).is_none());
        let none = |_: &str| None;
        let missing = declared("/v1/targets/{target}/password-reset", &Method::POST, none)
            .map(|r| r.map_err(|e| e.code()));
        assert_eq!(missing, Some(Err("INVALID_REQUEST")));
    }

    #[test]
    fn routing_table() {
        let own = |t: &str| {
            Ok(Route::ResetOwn {
                target: t.to_owned().into(),
            })
        };
        let user = |t: &str, u: &str| {
            Ok(Route::ResetUser {
                target: t.to_owned().into(),
                username: u.to_owned().into(),
            })
        };
        type Case<'a> = (Method, &'a str, Option<&'a str>, Result<Route<'a>, &'a str>);
        let cases: Vec<Case> = vec![
            (Method::GET, "/v1/targets", None, Ok(Route::ListTargets)),
            (
                Method::GET,
                "/v1/targets/",
                Some("$default"),
                Ok(Route::ListTargets),
            ),
            (
                Method::POST,
                "/v1/targets/app-users/password-reset",
                None,
                own("app-users"),
            ),
            (
                Method::POST,
                "/v1/targets/app-users/users/bob/password-reset",
                None,
                user("app-users", "bob"),
            ),
            (
                Method::POST,
                "/v1/targets/app-users/users/bob%40example.com/password-reset",
                None,
                user("app-users", "bob@example.com"),
            ),
            (
                Method::POST,
                "/v1/targets/app-users/users/a%2Fb/password-reset",
                None,
                user("app-users", "a/b"),
            ),
            (
                Method::POST,
                "/v1/targets/app-users/password-reset/confirm",
                None,
                Ok(Route::ConfirmOwn {
                    target: "app-users".into(),
                }),
            ),
            (
                Method::GET,
                "/v1/targets/app-users/password-reset/confirm",
                None,
                Err("METHOD_NOT_ALLOWED"),
            ),
            (
                Method::POST,
                "/v1/targets/app-users/users/bob/password-reset/confirm",
                None,
                Err("NOT_FOUND"),
            ),
            // REST APIs put the stage in the path.
            (
                Method::POST,
                "/prod/v1/targets/app-users/password-reset",
                Some("prod"),
                own("app-users"),
            ),
            (
                Method::GET,
                "/prod/v1/targets",
                Some("prod"),
                Ok(Route::ListTargets),
            ),
            // A stage named like the first segment is not stripped when the path matches as is.
            (
                Method::GET,
                "/v1/targets",
                Some("v1"),
                Ok(Route::ListTargets),
            ),
            (
                Method::GET,
                "/prod/v1/targets",
                Some("dev"),
                Err("NOT_FOUND"),
            ),
            (Method::GET, "/prod/v1/targets", None, Err("NOT_FOUND")),
            (Method::GET, "/", None, Err("NOT_FOUND")),
            (
                Method::GET,
                "/v1/targets/x/users/y/z/password-reset",
                None,
                Err("NOT_FOUND"),
            ),
            (Method::POST, "/v1/targets", None, Err("METHOD_NOT_ALLOWED")),
            (
                Method::GET,
                "/v1/targets/app-users/password-reset",
                None,
                Err("METHOD_NOT_ALLOWED"),
            ),
            (
                Method::POST,
                "/v1/targets/app-users/users/%FF/password-reset",
                None,
                Err("INVALID_REQUEST"),
            ),
        ];
        for (method, path, stage, expected) in cases {
            let got = route(&method, path, stage);
            match (got, expected) {
                (Ok(route), Ok(expected)) => assert_eq!(route, expected, "{method} {path}"),
                (Err(error), Err(code)) => assert_eq!(error.code(), code, "{method} {path}"),
                (got, expected) => panic!("{method} {path}: got {got:?}, expected {expected:?}"),
            }
        }
    }
}
