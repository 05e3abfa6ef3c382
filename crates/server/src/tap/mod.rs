//! The TAP layer: one service and one query pipeline under both front doors.
//!
//! `http/` (routes, extraction, response shapes) and `jobs/` (the UWS job system) both call
//! into this layer and never into each other: the [`Service`] (catalogue, UDFs, query role,
//! limits, pools), the checked TAP request ([`request`]), the pipeline that turns parameters
//! into a translated query with its uploads ([`pipeline`]), and the one error type
//! ([`TapError`]) whose kinds the HTTP layer maps to status codes in one place. A rule that
//! concerns every query (an owner, a permission, a quota) goes into [`pipeline::prepare`].

pub mod access;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod params;
pub mod part;
pub mod pipeline;
pub mod request;
pub mod service;

pub use error::{ErrorKind, TapError};
pub use params::Params;
pub use part::{FilePart, PartData};
pub use request::{query_request, QueryRequest};
pub use service::{Served, Service};
