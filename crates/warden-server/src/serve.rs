//! The listener: hyper on tokio, reserved paths, graceful shutdown on SIGTERM and Ctrl-C.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use warden_core::{Flavour, Outcome};

use crate::app::{RESERVED, SharedApp, parts};
use crate::live::Live;

/// Slow clients get this long to send their headers (slowloris).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish. Each request is
/// answered by the app in force when it arrives.
pub async fn serve(listener: TcpListener, live: Arc<Live>) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(64 * 1024);
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
                let live = live.clone();
                let service = service_fn(move |req| handle(live.app(), peer, req));
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
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
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path();
    let flavour = match path {
        "/.warden/health" => return Ok(health(&app).await),
        "/.warden/login" | "/.warden/logout" => {
            let facts = app.facts(parts(req.method(), req.uri(), req.headers(), peer.ip()));
            return Ok(crate::login::handle(&app, &facts, req).await);
        }
        "/.warden/nginx" => Flavour::Nginx,
        p if p.starts_with(RESERVED) => return Ok(plain(StatusCode::NOT_FOUND, "not found\n")),
        _ => Flavour::Generic,
    };
    let (head, _body) = req.into_parts();
    let request = parts(&head.method, &head.uri, &head.headers, peer.ip());
    let evaluation = app.evaluate(request, flavour).await;
    Ok(to_response(evaluation.outcome))
}

/// Turns a rendered outcome into a hyper response, unchanged.
pub fn to_response(outcome: Outcome) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(outcome.body)));
    *response.status_mut() = outcome.status;
    *response.headers_mut() = outcome.headers;
    response
}

async fn health(app: &SharedApp) -> Response<Full<Bytes>> {
    if app.healthy().await {
        plain(StatusCode::OK, "ok\n")
    } else {
        let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n");
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        r
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
