//! The listener: hyper on tokio, reserved paths, graceful shutdown on SIGTERM and Ctrl-C.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use warden_core::{Flavour, Outcome};

use crate::app::{RESERVED, SharedApp, parts};
use crate::live::Live;

/// Slow clients get this long to send their headers (slowloris), or to finish a TLS handshake.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// A response body: warden's own answer, or the upstream's streamed through.
pub type Body = Either<Full<Bytes>, Incoming>;

/// Where a request came from.
#[derive(Debug, Clone, Copy)]
struct Conn {
    peer: SocketAddr,
    tls: bool,
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish. Each request is
/// answered by the app in force when it arrives. With an acceptor, every connection is TLS
/// (HTTP/2 or HTTP/1.1 by ALPN).
pub async fn serve(
    listener: TcpListener,
    live: Arc<Live>,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(64 * 1024);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let conn = Conn { peer, tls: tls.is_some() };
                let server = Server { live: live.clone(), builder: builder.clone(), tls: tls.clone() };
                tokio::spawn(server.connection(stream, conn, graceful.watcher()));
            }
            () = &mut stop => break,
        }
    }
    tracing::info!("shutting down");
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("connections still open after 10 s"),
    }
    Ok(())
}
/// What each connection task needs.
struct Server {
    live: Arc<Live>,
    builder: auto::Builder<TokioExecutor>,
    tls: Option<TlsAcceptor>,
}

impl Server {
    async fn connection(self, stream: TcpStream, conn: Conn, watcher: Watcher) {
        let live = self.live;
        let service = service_fn(move |req| handle(live.app(), conn, req));
        let served = match self.tls {
            None => {
                let io = TokioIo::new(stream);
                let c = self.builder.serve_connection_with_upgrades(io, service);
                watcher.watch(c.into_owned()).await
            }
            Some(acceptor) => {
                let handshake = tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream));
                let stream = match handshake.await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => return tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => return tracing::debug!("TLS handshake timed out"),
                };
                let io = TokioIo::new(stream);
                let c = self.builder.serve_connection_with_upgrades(io, service);
                watcher.watch(c.into_owned()).await
            }
        };
        if let Err(e) = served {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn handle(
    app: SharedApp,
    conn: Conn,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (peer, tls) = (conn.peer.ip(), conn.tls);
    let path = req.uri().path();
    if let Some(metadata) = crate::metadata::answer(&app, path, req.method()) {
        return Ok(own(metadata));
    }
    let flavour = match path {
        "/.warden/health" => return Ok(own(health(&app).await)),
        "/.warden/login"
        | "/.warden/logout"
        | "/.warden/oidc/start"
        | "/.warden/oidc/callback"
        | "/.warden/oidc/backchannel" => {
            let facts = app.facts(parts(req.method(), req.uri(), req.headers(), peer, tls));
            return Ok(own(crate::login::handle(&app, &facts, req).await));
        }
        "/.warden/nginx" => Flavour::Nginx,
        p if p.starts_with(RESERVED) => {
            return Ok(own(plain(StatusCode::NOT_FOUND, "not found\n")));
        }
        _ => Flavour::Generic,
    };
    if let (Flavour::Generic, Some(upstream)) = (flavour, app.upstream()) {
        return Ok(crate::proxy::serve(&app, upstream, peer, tls, req).await);
    }
    let (head, _body) = req.into_parts();
    let request = parts(&head.method, &head.uri, &head.headers, peer, tls);
    let evaluation = app.evaluate(request, flavour).await;
    Ok(own(to_response(evaluation.outcome)))
}

/// warden's own answer as a response body.
pub fn own(response: Response<Full<Bytes>>) -> Response<Body> {
    response.map(Either::Left)
}

/// Turns a rendered outcome into a hyper response, unchanged.
pub fn to_response(outcome: Outcome) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(outcome.body)));
    *response.status_mut() = outcome.status;
    *response.headers_mut() = outcome.headers;
    response
}

async fn health(app: &SharedApp) -> Response<Full<Bytes>> {
    let health = app.health().await;
    if health.is_up() {
        return plain(StatusCode::OK, health.body());
    }
    let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, health.body());
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

pub(crate) fn plain(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
