//! An HTTP/2 cleartext (prior knowledge only) upstream: hyper's http2 server on its own
//! thread and runtime, answering every request with JSON of what it received.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;

/// A running h2c upstream; it ends with the test process.
#[derive(Debug, Clone)]
pub struct H2Upstream {
    pub addr: SocketAddr,
    count: Arc<AtomicUsize>,
}

impl H2Upstream {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let shared = count.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(accept(listener, shared));
        });
        Self { addr, count }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

async fn accept(listener: std::net::TcpListener, count: Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let count = count.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                count.fetch_add(1, Ordering::SeqCst);
                echo(req)
            });
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (head, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: Vec<[String; 2]> = head
        .headers
        .iter()
        .map(|(n, v)| {
            [
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ]
        })
        .collect();
    let doc = json!({
        "version": format!("{:?}", head.version),
        "method": head.method.as_str(),
        "authority": head.uri.authority().map(ToString::to_string),
        "target": head.uri.path_and_query().map(ToString::to_string),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    let mut response = Response::new(Full::new(Bytes::from(doc.to_string())));
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    Ok(response)
}
