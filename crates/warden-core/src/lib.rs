//! warden's decision engine: request facts in, a decision and its HTTP rendering out.
//!
//! The pipeline reads as types: [`RequestFacts`] → [`Step`] (rule, network, credential
//! syntax) → [`Authn`] (judged by an authenticator outside this crate, or by [`jwt::verify`])
//! → [`Decision`] → [`Outcome`] via [`render`]. No sockets, no database, no clock: time is
//! passed in.

pub mod captures;
pub mod challenge;
pub mod config;
pub mod cookies;
pub mod cors;
pub mod credentials;
pub mod decision;
pub mod engine;
pub mod facts;
pub mod identity;
pub mod introspection;
pub mod jwt;
pub mod negotiate;
pub mod network;
pub mod oidc;
pub mod page;
pub mod path;
pub mod policy;
pub mod redirect;
pub mod request_id;
pub mod response;
pub mod rules;
mod sign_in;
mod step_up;

pub use config::Config;
pub use decision::{Credential, Decision, Deny, Pending, Shortfall, Step, Verdict};
pub use engine::Engine;
pub use facts::{ForwardSource, RequestFacts, RequestParts};
pub use identity::{AuthMethod, Authn, Identity, Rejection, TokenProblem};
pub use negotiate::BodyKind;
pub use response::{
    Flavour, Outcome, RenderContext, UpstreamFailure, render, render_upstream_failure,
};
