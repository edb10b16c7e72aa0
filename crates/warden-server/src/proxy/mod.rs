//! Reverse-proxy mode: allowed requests go on to `server.upstream`, streamed both ways.

mod headers;

use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, HeaderName, Request, Response, StatusCode, Uri, Version};
use http_body_util::Either;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use warden_core::config::{IdentityHeaders, ProxyConfig};
use warden_core::facts::ForwardSource;
use warden_core::response::DECISION_HEADER;
use warden_core::{Flavour, RenderContext, UpstreamFailure, Verdict, render_upstream_failure};

pub use headers::Forwarding;

use crate::app::{App, parts};
use crate::serve::{Body, own, to_response};

/// Reverse-proxy mode: judge the request as received; forward it when allowed, otherwise
/// answer the decision (401, 403, a login redirect…) without the upstream ever seeing it.
pub async fn serve(
    app: &App,
    upstream: &Upstream,
    peer: IpAddr,
    tls: bool,
    req: Request<Incoming>,
) -> Response<Body> {
    let request = parts(req.method(), req.uri(), req.headers(), peer, tls);
    let eval = app
        .evaluate_from(request, Flavour::Generic, ForwardSource::Direct)
        .await;
    let Verdict::Allow(_) = &eval.decision.verdict else {
        return own(to_response(eval.outcome));
    };
    let config = app.engine().config();
    let identity: HeaderMap = eval
        .outcome
        .headers
        .iter()
        .filter(|(name, _)| upstream.owned.contains(name))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let forwarding = Forwarding {
        peer,
        trusted: config.network.is_trusted(peer),
        tls,
        host: eval.facts.authority.as_deref(),
        identity: &identity,
        owned: &upstream.owned,
        strip_authorization: upstream.config.strip_authorization,
        strip_session_cookie: upstream.config.strip_session_cookie,
        request_id: eval
            .facts
            .request_id
            .as_deref()
            .unwrap_or(&eval.decision_id),
    };
    let started = std::time::Instant::now();
    let forwarded = upstream.forward(req, &forwarding).await;
    let status = forwarded.as_ref().ok().map(|r| r.status().as_u16());
    crate::metrics::upstream(status, started.elapsed());
    match forwarded {
        Ok(mut response) => {
            let rule = eval.decision.rule.as_deref();
            warden_core::cors::on_allowed(response.headers_mut(), rule, &eval.facts);
            response.map(Either::Right)
        }
        Err(failure) => {
            let ctx = RenderContext {
                config,
                facts: &eval.facts,
                flavour: Flavour::Generic,
                decision_id: &eval.decision_id,
            };
            own(to_response(render_upstream_failure(failure, &ctx)))
        }
    }
}

/// The upstream and a pooled client for it.
pub struct Upstream {
    client: Client<UpstreamConnector, Incoming>,
    config: ProxyConfig,
    /// The headers warden sets on every forwarded request (identity and decision id); client
    /// copies are removed.
    owned: Vec<HeaderName>,
}

/// Dials the configured upstream whatever authority a request names, so the authority can be
/// the client's host (HTTP/2 `:authority`, RFC 9113 §8.3.1) while connections go where configured.
#[derive(Clone)]
struct UpstreamConnector {
    inner: HttpConnector,
    upstream: Uri,
}

impl tower_service::Service<Uri> for UpstreamConnector {
    type Response = <HttpConnector as tower_service::Service<Uri>>::Response;
    type Error = <HttpConnector as tower_service::Service<Uri>>::Error;
    type Future = <HttpConnector as tower_service::Service<Uri>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, _authority: Uri) -> Self::Future {
        self.inner.call(self.upstream.clone())
    }
}

impl Upstream {
    /// A client for the configured upstream (HTTP/1.1, or HTTP/2 prior knowledge).
    pub fn new(config: &ProxyConfig, names: &IdentityHeaders) -> Self {
        let mut inner = HttpConnector::new();
        inner.set_connect_timeout(Some(config.connect_timeout));
        inner.set_nodelay(true);
        let connector = UpstreamConnector {
            inner,
            upstream: config.upstream.clone(),
        };
        let client = Client::builder(TokioExecutor::new())
            .http2_only(config.http2)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build(connector);
        let owned = vec![
            names.subject.clone(),
            names.roles.clone(),
            names.scopes.clone(),
            names.method.clone(),
            HeaderName::from_static(DECISION_HEADER),
        ];
        Self {
            client,
            config: config.clone(),
            owned,
        }
    }

    /// The proxy settings.
    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Sends an allowed request on; the answer streams back. A `101` starts a tunnel between
    /// the client and the upstream connection.
    pub async fn forward(
        &self,
        mut req: Request<Incoming>,
        forwarding: &Forwarding<'_>,
    ) -> Result<Response<Incoming>, UpstreamFailure> {
        let client_upgrade = headers::upgrade(req.headers()).map(|_| hyper::upgrade::on(&mut req));
        self.prepare(&mut req, forwarding);
        let sent = tokio::time::timeout(self.config.timeout, self.client.request(req)).await;
        let mut response = match sent {
            Err(_) => return Err(UpstreamFailure::Timeout),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, source = ?std::error::Error::source(&e), "upstream request failed");
                return Err(UpstreamFailure::Unavailable);
            }
            Ok(Ok(response)) => response,
        };
        // The client's connection has its own version; the upstream's (maybe 1.0) is not ours.
        *response.version_mut() = Version::default();
        let switching = response.status() == StatusCode::SWITCHING_PROTOCOLS;
        headers::to_client(response.headers_mut(), switching);
        if let (true, Some(client_side)) = (switching, client_upgrade) {
            let upstream_side = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                if let Err(e) = tunnel(client_side, upstream_side).await {
                    tracing::debug!(error = %e, "upgraded connection ended with an error");
                }
            });
        }
        Ok(response)
    }

    fn prepare(&self, req: &mut Request<Incoming>, forwarding: &Forwarding<'_>) {
        // The upstream gets the path as it was judged, so no spelling means one thing to the
        // rules and another to the application.
        let path = warden_core::path::normalize(req.uri().path())
            .unwrap_or_else(|_| req.uri().path().to_owned());
        let target = match req.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let upstream = self
            .config
            .upstream
            .authority()
            .map(|a| a.as_str().to_owned());
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
        let build = |authority: Option<String>| {
            Uri::builder()
                .scheme("http")
                .authority(authority.unwrap_or_default())
                .path_and_query(target.as_str())
                .build()
        };
        if let Ok(uri) = build(host).or_else(|_| build(upstream)) {
            *req.uri_mut() = uri;
        }
        headers::to_upstream(req.headers_mut(), forwarding);
        *req.version_mut() = if self.config.http2 {
            // `:authority` carries the host; a second `Host` could contradict it.
            req.headers_mut().remove(http::header::HOST);
            Version::HTTP_2
        } else {
            Version::HTTP_11
        };
    }
}

async fn tunnel(
    client: hyper::upgrade::OnUpgrade,
    upstream: hyper::upgrade::OnUpgrade,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (client, upstream) = tokio::try_join!(client, upstream)?;
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
