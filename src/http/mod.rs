//! The HTTP edge: the only code that knows API Gateway events and `lambda_http`. It
//! translates: `event.rs` decodes the event, `route.rs` routes, `request.rs` reads the body,
//! `handler.rs` turns the request into a command for the use case (`app`), and `response.rs`
//! writes its answer.
//!
//! [`App::handle_event`] takes the raw event and always returns a proxy response: every
//! failure, including an event of an unknown shape, becomes a problem+json answer, never an
//! `Err` (which API Gateway would turn into a 502).

mod event;
mod handler;
mod request;
mod response;
mod route;
#[cfg(test)]
mod tests;

pub use handler::App;
/// The Lambda invocation context [`App::handle_event`] takes (`lambda_runtime`'s).
pub use lambda_http::Context;
pub use response::ProxyResponse;
