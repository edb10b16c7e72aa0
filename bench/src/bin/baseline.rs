//! The ceiling: a bare hyper server that answers every request `200 ok`.
//!
//! `baseline --port P [--auto]`. Same runtime as `warden serve`: tokio's multi-thread runtime,
//! whose worker count follows the CPUs the process may run on (one under `taskset -c 0`).
//! HTTP/1.1 only by default; `--auto` uses hyper-util's HTTP/1 + HTTP/2 auto builder, as warden
//! does, to tell that cost apart.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use warden_bench::{Args, fail};

async fn ok(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok\n"))))
}

fn main() {
    let args = Args::from_env(&["auto"]);
    let port: u16 = args.num("port", 8090);
    let use_auto = args.flag("auto");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| fail(&format!("bind 127.0.0.1:{port}: {e}")));
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let io = TokioIo::new(stream);
                let service = service_fn(ok);
                let _ = if use_auto {
                    auto::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                } else {
                    http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                        .map_err(Into::into)
                };
            });
        }
    });
}
