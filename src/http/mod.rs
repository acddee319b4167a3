//! The HTTP edge: the only code that knows API Gateway events and `lambda_http`.
//!
//! [`App::handle_event`] takes the raw event and always returns a proxy response: every
//! failure, including an event of an unknown shape, becomes a problem+json answer, never an
//! `Err` (which API Gateway would turn into a 502).

mod event;
mod handler;
mod request;
mod response;
mod route;

pub use handler::App;
pub use response::ProxyResponse;
